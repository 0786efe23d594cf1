"""Worker dashboards end to end: pages and API, and a scope matrix over all of them.

A worker never sees a resident outside their neighbourhoods (nor their name anywhere in a
response); residents and municipality users get 403 everywhere.
"""

from __future__ import annotations

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import AuditEvent, ProblemReport, Resident
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.followup import follow_up_queue
from tests.dashboard_builders import (
    MINE,
    OTHER,
    asks,
    helped,
    offers,
    person,
    sign_in,
    staff,
    vog,
)

PAGES = [
    "/wijkwerk/",
    f"/wijkwerk/buurt/{MINE}/betrokken",
    f"/wijkwerk/buurt/{MINE}/betrokken?role=helper&sort=name",
    "/wijkwerk/nieuw-actief",
    f"/wijkwerk/nieuw-actief?buurt={MINE}",
    f"/wijkwerk/buurt/{MINE}/netwerk",
    "/wijkwerk/opvolging",
    "/wijkwerk/opvolging?afgehandeld=1",
    "/wijkwerk/audit?alles=1",
]
OUT_OF_SCOPE_PAGES = [
    f"/wijkwerk/buurt/{OTHER}/betrokken",
    f"/wijkwerk/nieuw-actief?buurt={OTHER}",
    f"/wijkwerk/buurt/{OTHER}/netwerk",
]
API = [
    f"/api/v1/neighbourhoods/{MINE}/involvement",
    f"/api/v1/neighbourhoods/{MINE}/newly-active",
    "/api/v1/newly-active",
    f"/api/v1/neighbourhoods/{MINE}/network",
    "/api/v1/follow-up",
    "/api/v1/audit?include_log_views=true",
]
OUT_OF_SCOPE_API = [
    f"/api/v1/neighbourhoods/{OTHER}/involvement",
    f"/api/v1/neighbourhoods/{OTHER}/newly-active",
    f"/api/v1/neighbourhoods/{OTHER}/network",
]


@pytest.fixture
def town(hengelo):
    """Activity on both sides of the scope line, with names that are easy to find in HTML."""
    worker = staff("coach@example.org")
    admin = staff("admin@example.org", "admin")
    mine = {n: person(first_name=n) for n in ("Zichtbaaranna", "Zichtbaarpiet")}
    other = {n: person(OTHER, first_name=n) for n in ("Geheimkees", "Geheimmien")}
    for group in (mine, other):
        a, b = group.values()
        offers(a)
        helped(a, b, days_ago=3)
        asks(b, days_ago=10, urgency="high")
        vog(a, expires_in_days=10)
        db.session.add(
            ProblemReport(reporter_id=b.id, neighbourhood_id=b.neighbourhood_id, body="!")
        )
    db.session.commit()
    follow_up_queue(admin.id)  # the admin looked at everyone: audit events on both sides
    return {"worker": worker, "admin": admin, "mine": mine, "other": other}


def secret_names(town) -> list[str]:
    return list(town["other"])


def bearer(user) -> dict:
    token = create_api_token(user.id, "test")
    secret = token[1] if isinstance(token, tuple) else token
    return {"Authorization": f"Bearer {secret}"}


def test_worker_pages_show_own_residents_and_never_others(client, town):
    sign_in(client, "coach@example.org")
    seen_mine = False
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for name in secret_names(town):
            assert name not in html, (url, name)
        seen_mine |= "Zichtbaaranna" in html
    assert seen_mine
    for url in OUT_OF_SCOPE_PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Geheim" not in response.get_data(as_text=True)


def test_worker_api_returns_own_residents_and_never_others(client, town):
    headers = bearer(town["worker"])
    for url in API:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.get_json())
        body = response.get_data(as_text=True)
        for name in secret_names(town):
            assert name not in body, (url, name)
    for url in OUT_OF_SCOPE_API:
        response = client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.get_json()["rule"] == "neighbourhood_scope"


def test_out_of_scope_actions_are_refused_and_change_nothing(client, town):
    sign_in(client, "coach@example.org")
    outsider = town["other"]["Geheimkees"]
    assert (
        client.post(
            f"/wijkwerk/bewoners/{outsider.id}/contact", data={"method": "phone"}
        ).status_code
        == 404
    )
    other_item = next(
        i for i in follow_up_queue(town["admin"].id).items if i.first_name == "Geheimmien"
    )
    target = other_item.request_id or other_item.problem_report_id
    response = client.post(
        f"/wijkwerk/opvolging/{other_item.kind}/{target}", data={"action": "handled"}
    )
    assert response.status_code == 404
    headers = bearer(town["worker"])
    response = client.post(
        f"/api/v1/residents/{outsider.id}/contact-notes", json={"method": "phone"}, headers=headers
    )
    assert response.status_code == 404
    assert not db.session.get(Resident, outsider.id).known_to_services


@pytest.mark.parametrize("role", ["resident", "municipality"])
def test_residents_and_municipality_users_get_403_everywhere(client, town, role):
    user = staff(f"{role}@example.org", role)
    sign_in(client, user.email)
    for url in PAGES + OUT_OF_SCOPE_PAGES:
        assert client.get(url).status_code == 403, url
    headers = bearer(user)
    for url in API + OUT_OF_SCOPE_API:
        response = client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert "Geheim" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in_or_get_401(client, town):
    for url in PAGES:
        assert client.get(url).status_code == 302, url
    for url in API:
        assert client.get(url).status_code == 401, url


def test_admin_sees_every_neighbourhood(client, town):
    sign_in(client, "admin@example.org")
    html = client.get(f"/wijkwerk/buurt/{OTHER}/betrokken").get_data(as_text=True)
    assert "Geheimkees" in html


def test_reach_out_from_the_page_and_its_error_path(client, town):
    sign_in(client, "coach@example.org")
    newcomer = town["mine"]["Zichtbaarpiet"]
    bad = client.post(
        f"/wijkwerk/bewoners/{newcomer.id}/contact", data={"method": "pigeon", "note": "x"}
    )
    assert bad.status_code == 422
    assert "error-summary" in bad.get_data(as_text=True)
    assert not db.session.get(Resident, newcomer.id).known_to_services
    good = client.post(
        f"/wijkwerk/bewoners/{newcomer.id}/contact", data={"method": "phone", "note": "Gebeld"}
    )
    assert good.status_code == 302
    db.session.expire_all()
    assert db.session.get(Resident, newcomer.id).known_to_services
    page = client.get("/wijkwerk/nieuw-actief").get_data(as_text=True)
    assert f'id="r{newcomer.id}-name"' not in page


def test_follow_up_action_from_the_page_closes_the_item(client, town):
    sign_in(client, "coach@example.org")
    item = next(i for i in follow_up_queue(town["worker"].id).items if i.kind == "urgent")
    response = client.post(
        f"/wijkwerk/opvolging/urgent/{item.request_id}", data={"action": "handled", "note": "ok"}
    )
    assert response.status_code == 302
    kinds = [i.kind for i in follow_up_queue(town["worker"].id).items]
    assert "urgent" not in kinds
    bad = client.post(f"/wijkwerk/opvolging/urgent/{item.request_id}", data={"action": "nap"})
    assert bad.status_code == 422


def test_network_page_is_svg_with_title_desc_and_a_table(client, town):
    sign_in(client, "coach@example.org")
    html = client.get(f"/wijkwerk/buurt/{MINE}/netwerk").get_data(as_text=True)
    assert "<svg" in html and '<title id="net-title">' in html and "<desc" in html
    assert 'stroke-dasharray="10 5"' in html  # the new tie is dashed ...
    assert "<table" in html  # ... and listed as a table too


def test_api_follow_up_action_and_json_network(client, town):
    headers = bearer(town["worker"])
    queue = client.get("/api/v1/follow-up", headers=headers).get_json()
    urgent = next(i for i in queue["items"] if i["kind"] == "urgent")
    response = client.post(
        f"/api/v1/follow-up/urgent/{urgent['request_id']}/actions",
        json={"action": "called", "note": "geen gehoor"},
        headers=headers,
    )
    assert response.status_code == 201 and response.get_json()["action"] == "called"
    bad = client.post(
        f"/api/v1/follow-up/urgent/{urgent['request_id']}/actions",
        json={"action": "nap"},
        headers=headers,
    )
    assert bad.status_code == 422
    net = client.get(f"/api/v1/neighbourhoods/{MINE}/network", headers=headers).get_json()
    assert {n["first_name"] for n in net["nodes"]} == {"Zichtbaaranna", "Zichtbaarpiet"}
    assert net["edges"][0]["is_new"] is True


def test_every_page_view_of_people_is_audited(client, town):
    sign_in(client, "coach@example.org")
    before = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.actor_user_id == town["worker"].id)
    )
    client.get(f"/wijkwerk/buurt/{MINE}/betrokken")
    after = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.actor_user_id == town["worker"].id)
    )
    assert after - before == 2  # two residents shown, one event each


MY_PAGE_ENDPOINTS = {
    "workers.dashboard",
    "workers.involved",
    "workers.newly_active",
    "workers.network",
    "workers.follow_up",
    "workers.audit",
}


def _path(url: str) -> str:
    return url.split("?")[0]


def test_the_scope_matrix_covers_every_dashboard_route(app):
    """A new page or endpoint must join the scope matrix above (its declared roles: see
    tests/unit/test_route_rules.py)."""
    covered = {_path(u) for u in PAGES + OUT_OF_SCOPE_PAGES + API + OUT_OF_SCOPE_API}
    found = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        mine = rule.endpoint in MY_PAGE_ENDPOINTS or rule.endpoint.startswith("involvement_api.")
        if not mine:
            continue
        concrete = rule.rule.replace("<code>", MINE)
        found.add(rule.endpoint)
        assert concrete in covered, rule.rule
    assert found >= MY_PAGE_ENDPOINTS and len(found) == len(MY_PAGE_ENDPOINTS) + 6


def test_pages_are_dutch_by_default_and_english_on_request(client, town):
    sign_in(client, "coach@example.org")
    assert "<h1>Wijkwerk</h1>" in client.get("/wijkwerk/").get_data(as_text=True)
    refresh()  # the test's app context outlives requests; forget the cached locale
    english = client.get("/wijkwerk/opvolging?lang=en").get_data(as_text=True)
    assert "<h1>To follow up</h1>" in english
    assert "Call the resident today and find help" in english
    refresh()
    dutch = client.get("/wijkwerk/opvolging?lang=nl").get_data(as_text=True)
    assert "Bel de bewoner vandaag en zoek hulp" in dutch


def test_api_involvement_filters_and_bad_values(client, town):
    headers = bearer(town["worker"])
    url = f"/api/v1/neighbourhoods/{MINE}/involvement"
    helpers = client.get(f"{url}?role=helper&sort=name&order=asc", headers=headers).get_json()
    assert [i["first_name"] for i in helpers["items"]] == ["Zichtbaaranna"]
    assert helpers["total"] == 1 and helpers["cells"][0]["residents"] == 2
    newly = client.get(f"{url}?newly_active=true&vog=expiring", headers=headers).get_json()
    assert [i["first_name"] for i in newly["items"]] == ["Zichtbaaranna"]
    bad = client.get(f"{url}?sort=password", headers=headers)
    assert bad.status_code == 422
    assert "sort" in str(bad.get_json())


def test_a_name_searched_for_never_goes_in_the_url(client, town):
    """The search form posts; the name lives in the session, the redirect keeps the filters."""
    sign_in(client, "coach@example.org")
    url = f"/wijkwerk/buurt/{MINE}/betrokken"
    page = client.get(f"{url}?role=helper").get_data(as_text=True)
    assert 'method="post"' in page and "Zichtbaaranna" in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(f"{url}?role=helper", data={"q": "annA", "csrf_token": csrf})
    assert answer.status_code == 302
    assert "anna" not in answer.location.lower() and "role=helper" in answer.location
    found = client.get(answer.location).get_data(as_text=True)
    assert "Zichtbaaranna" in found and "Zichtbaarpiet" not in found
    # A name put in the URL by hand does not search (it would be logged).
    assert "Zichtbaaranna" in client.get(f"{url}?q=piet").get_data(as_text=True)
    cleared = client.post(url, data={"q": "annA", "clear": "1", "csrf_token": csrf})
    assert "Zichtbaarpiet" in client.get(cleared.location).get_data(as_text=True)
    too_long = client.post(url, data={"q": "x" * 81, "csrf_token": csrf})
    assert too_long.status_code == 422


def test_api_search_by_name_in_the_body(client, town):
    headers = bearer(town["worker"])
    url = f"/api/v1/neighbourhoods/{MINE}/involvement/search"
    found = client.post(url, json={"q": "PIET", "sort": "name"}, headers=headers).get_json()
    assert [i["first_name"] for i in found["items"]] == ["Zichtbaarpiet"]
    assert client.post(url, json={"q": "x" * 81}, headers=headers).status_code == 422
    other = f"/api/v1/neighbourhoods/{OTHER}/involvement/search"
    refused = client.post(other, json={"q": "Geheim"}, headers=headers)
    assert refused.status_code == 403 and "Geheim" not in refused.get_data(as_text=True)
