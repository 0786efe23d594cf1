"""Security headers: our own assets only (plus a configured tile host), no caching of pages
that may hold personal data."""

from mutualaid import content_security_policy


def test_policy_allows_only_our_own_assets_by_default(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "https:" not in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_a_configured_tile_host_is_the_only_outside_image_source():
    policy = content_security_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tile.example.org;" in policy


def test_personal_pages_and_api_answers_are_not_stored(client):
    assert client.get("/mijn/").headers["Cache-Control"] == "no-store"  # redirect to sign in
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"
    assert client.get("/auth/login").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/health").headers.get("Cache-Control") != "no-store"


# --- on every kind of response: errors and static files too ------------------------------

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _has_security_headers(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.status_code, name)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_errors_and_static_files_carry_the_security_headers(app_ctx, client):
    big = "x" * (app_ctx.config["MAX_CONTENT_LENGTH"] + 1)
    responses = {
        "page 404": client.get("/bestaat-niet"),
        "api 404": client.get("/api/v1/bestaat-niet"),
        "405": client.put("/"),
        "413": client.post("/auth/login", data={"email": big}),
        "static": client.get("/static/favicon.svg"),
        "sign-in redirect": client.get("/mijn/"),
    }
    assert [r.status_code for r in responses.values()] == [404, 404, 405, 413, 200, 302]
    for response in responses.values():
        _has_security_headers(response)
    assert responses["413"].headers["Cache-Control"] == "no-store"


def test_an_unexpected_error_page_carries_the_security_headers(app_ctx):
    """A 500 (here: an exception no handler expected) goes through the same after-request."""
    app_ctx.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        with app_ctx.test_request_context("/mijn/"):
            response = app_ctx.handle_exception(RuntimeError("boom"))
    finally:
        app_ctx.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    _has_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_production_cookies_are_secure_httponly_and_samesite(app_ctx, client, monkeypatch):
    from mutualaid.config import load_config

    monkeypatch.setenv("MUTUALAID_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/x")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    config = load_config(instance_path=app_ctx.instance_path)
    flags = ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_SECURE")
    assert all(config[name] is True for name in flags)
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    # The cookie the app sets with those settings (the login page stores the CSRF secret).
    monkeypatch.setitem(app_ctx.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app_ctx.config, "WTF_CSRF_ENABLED", True)
    response = client.get("/auth/login")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_every_page_for_someone_signed_in_is_not_stored(app_ctx, client, hengelo):
    """The header names whoever is signed in, on the home page and error pages too."""
    from tests import staff_login
    from tests.casework import PASSWORD, staff

    assert client.get("/").headers["Cache-Control"] == "no-cache"  # anonymous: nobody named
    user = staff("resident", name="Annabel")
    assert staff_login.sign_in(client, user.email, PASSWORD).status_code == 302
    for path in ("/", "/bestaat-niet"):
        response = client.get(path)
        assert "Annabel" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store", path
    assert client.get("/static/favicon.svg").headers.get("Cache-Control") != "no-store"
