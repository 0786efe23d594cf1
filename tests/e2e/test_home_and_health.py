"""The home page, signing in, /api/v1/health and the OpenAPI document, through the test client."""

import re

import pytest

from mutualaid.services.demo import DEMO_PASSWORD, seed_demo
from tests import staff_login
from tests.conftest import make_test_app


@pytest.fixture
def demo(app_ctx):
    seed_demo(seed=3, residents=120)
    return app_ctx


def cells(html: str, name: str) -> list[str]:
    row = re.search(rf"{re.escape(name)} <span class=\"code\">.*?</tr>", html, re.S)
    assert row, f"no row for {name}"
    return re.findall(r'<td class="num">(.*?)</td>', row.group(0))


def test_home_lists_the_neighbourhoods_in_dutch_by_default(demo, client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="nl">' in html
    assert "Hulp in uw buurt" in html and "Open hulpvragen" in html
    assert html.count('<span class="code">BU0164') == 62


def test_home_is_available_in_english(demo, client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Help in your neighbourhood" in html
    # The choice sticks for the session.
    assert "Help in your neighbourhood" in client.get("/").get_data(as_text=True)


def test_small_counts_are_suppressed_for_visitors_but_exact_for_workers(demo, client):
    html = client.get("/").get_data(as_text=True)
    shown = [
        c
        for name in ("Binnenstad-Centrum", "Tichelwerk", "Elsbeek", "Noord")
        for c in cells(html, name)
    ]
    assert all(c == "0" or c == "&lt;5" or int(c) >= 5 for c in shown)
    assert "&lt;5" in html

    staff_login.sign_in(client, "wijkcoach.noord@example.org", DEMO_PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert "&lt;5" not in html
    assert "Wijkcoach Noord" in html


def test_wrong_password_shows_a_clear_error_on_the_field(demo, client):
    response = client.post(
        "/auth/login", data={"email": "beheer@example.org", "password": "wrong-password"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "klopt niet" in html and 'aria-invalid="true"' in html


def test_login_form_needs_a_csrf_token_when_csrf_is_on(app_ctx, instance_path):
    app = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        WTF_CSRF_ENABLED=True,
    )
    response = app.test_client().post(
        "/auth/login", data={"email": "a@example.org", "password": "x" * 12}
    )
    assert response.status_code == 400


def test_pages_send_security_headers(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_health_reports_database_and_redis(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["redis"]["ok"]


def test_health_is_degraded_not_an_error_when_redis_is_unreachable(app_ctx, instance_path):
    app = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"], "redis://127.0.0.1:1/0", instance_path
    )
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["redis"]["ok"] is False and "Error" in response.json["redis"]["error"]


def test_health_is_down_with_503_when_the_database_is_unreachable(app_ctx, instance_path, tmp_path):
    app = make_test_app(
        f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite'}",
        app_ctx.config["REDIS_URL"],
        instance_path,
    )
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json["status"] == "down"


def test_openapi_document_describes_health(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/health" in spec["paths"]


def test_unknown_api_path_is_json_404_and_unknown_page_is_html(client):
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.json["error"] == "not_found"
    page = client.get("/nothing-here")
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)
