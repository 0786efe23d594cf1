"""The resident flows through the JSON API with Bearer tokens: ask, offer, suggestions, invite,
accept (409s), messages, done, thanks, ties; the error body and 401/404/422 paths."""

from __future__ import annotations

import pytest

from mutualaid.extensions import db
from mutualaid.models import SecretToken
from mutualaid.services.accounts import create_user
from mutualaid.services.api_tokens import create_api_token, revoke_api_token
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_request
from tests.flows import make_street, neighbour

PASSWORD = "long-enough-password"


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def token_for(resident, email: str | None = None) -> dict:
    """A resident account and a Bearer header for it."""
    user = create_user(
        email or f"r{resident.id}@example.org",
        PASSWORD,
        "resident",
        resident.first_name,
        resident_id=resident.id,
    )
    _, secret = create_api_token(user.id, "test")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def street(town):
    street = make_street(helpers=2)
    street.auth = {
        "anna": token_for(street.requester),
        "h1": token_for(street.helpers[0]),
        "h2": token_for(street.helpers[1]),
    }
    return street


def test_ask_for_help_list_change_and_cancel(client, town):
    anna = neighbour(0, first_name="Anna")
    auth = token_for(anna)
    created = client.post(
        "/api/v1/requests",
        json={
            "category": "vervoer",
            "description": "Naar de huisarts",
            "slots": 0b11,
            "urgency": "high",
            "contact_channel": "phone",
            "window_start": "2099-03-02",
            "window_end": "2099-03-04",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "open" and body["urgency"] == "high"
    assert body["neighbourhood"] == "Binnenstad-Centrum" and body["at_home"] is True
    assert body["when"]["window_start"] == "2099-03-02"
    listed = client.get("/api/v1/requests?per_page=5", headers=auth).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    changed = client.patch(
        f"/api/v1/requests/{body['id']}", json={"description": "Naar het ziekenhuis"}, headers=auth
    )
    assert changed.status_code == 200 and changed.get_json()["description"] == (
        "Naar het ziekenhuis"
    )
    cancelled = client.post(f"/api/v1/requests/{body['id']}/cancel", headers=auth)
    assert cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/requests/{body['id']}/cancel", headers=auth)
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"


@pytest.mark.parametrize(
    ("payload", "field", "rule"),
    [
        ({"category": "vliegen", "description": "x"}, "category", "known"),
        ({"category": "vervoer", "description": ""}, "description", "required"),
        ({"category": "vervoer", "description": "x", "slots": 0}, "slots", "required"),
        ({"category": "vervoer", "description": "x", "lat": 91, "lon": 6.8}, "lat", "range"),
        ({"category": "vervoer", "description": "x", "lat": 52.2, "lon": 181}, "lon", "range"),
        ({"category": "vervoer", "description": "x", "colour": "red"}, "colour", "unknown"),
        ({"category": "vervoer", "description": "x", "slots": "many"}, "slots", "schema"),
        ({"description": "x"}, "category", "schema"),
    ],
)
def test_bad_request_bodies_get_one_error_body_naming_the_field(client, town, payload, field, rule):
    auth = token_for(neighbour(0))
    response = client.post("/api/v1/requests", json=payload, headers=auth)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and body["field"] == field and body["rule"] == rule
    assert field in body["errors"] and body["message"]


def test_without_or_with_a_revoked_token_it_is_401(client, town):
    auth = token_for(neighbour(0))
    assert client.get("/api/v1/requests").status_code == 401
    assert client.get("/api/v1/requests", headers=auth).status_code == 200
    token = db.session.query(SecretToken).filter_by(purpose="api").one()
    revoke_api_token(token.user_id, token.id)
    response = client.get("/api/v1/matches", headers=auth)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthenticated"
    bogus = {"Authorization": "Bearer ma_not-a-real-token"}
    assert client.post("/api/v1/ties/invitations", headers=bogus).status_code == 401


def test_offers_are_created_changed_paused_and_resumed(client, town):
    jan = neighbour(300, first_name="Jan")
    auth = token_for(jan)
    created = client.post(
        "/api/v1/offers",
        json={"categories": ["vervoer", "tuin"], "slots": 7, "languages": ["nl", "de"]},
        headers=auth,
    )
    assert created.status_code == 201, created.get_json()
    offer = created.get_json()
    assert offer["languages"] == ["nl", "de"] and offer["is_active"] is True
    paused = client.post(f"/api/v1/offers/{offer['id']}/pause", headers=auth).get_json()
    assert paused["is_active"] is False
    resumed = client.post(f"/api/v1/offers/{offer['id']}/resume", headers=auth).get_json()
    assert resumed["is_active"] is True
    changed = client.patch(f"/api/v1/offers/{offer['id']}", json={"capacity": 3}, headers=auth)
    assert changed.get_json()["capacity"] == 3
    assert client.get("/api/v1/offers", headers=auth).get_json()["total"] == 1
    other = token_for(neighbour(600))
    assert client.get(f"/api/v1/offers/{offer['id']}", headers=other).status_code == 404
    assert client.post(f"/api/v1/offers/{offer['id']}/pause", headers=other).status_code == 404
    bad = client.post("/api/v1/offers", json={"categories": ["x"], "slots": 1}, headers=auth)
    assert bad.status_code == 422 and bad.get_json()["field"] == "categories"


def test_someone_elses_request_and_match_are_404(client, street):
    match = street.match_of(street.helpers[0])
    stranger = token_for(neighbour(900))
    request_id = street.request.id
    for method, url in (
        ("get", f"/api/v1/requests/{request_id}"),
        ("get", f"/api/v1/requests/{request_id}/suggestions"),
        ("post", f"/api/v1/requests/{request_id}/cancel"),
        ("post", f"/api/v1/requests/{request_id}/invite-waves"),
        ("get", f"/api/v1/matches/{match.id}"),
        ("post", f"/api/v1/matches/{match.id}/accept"),
        ("post", f"/api/v1/matches/{match.id}/invite"),
        ("get", f"/api/v1/matches/{match.id}/messages"),
        ("post", f"/api/v1/matches/{match.id}/done"),
    ):
        response = getattr(client, method)(url, headers=stranger, json={})
        assert response.status_code == 404, (url, response.get_json())
        assert response.get_json()["error"] == "not_found"
    patched = client.patch(
        f"/api/v1/requests/{request_id}", json={"description": "mine"}, headers=stranger
    )
    assert patched.status_code == 404
    message = client.post(
        f"/api/v1/matches/{match.id}/messages", json={"body": "Hoi"}, headers=stranger
    )
    assert message.status_code == 404


def test_invite_accept_message_done_and_thanks(client, street):
    anna, h1, h2 = street.auth["anna"], street.auth["h1"], street.auth["h2"]
    request_id = street.request.id
    suggestions = client.get(f"/api/v1/requests/{request_id}/suggestions", headers=anna)
    assert [s["other_first_name"] for s in suggestions.get_json()] == ["Helper1", "Helper2"]
    first, second = (s["match_id"] for s in suggestions.get_json())
    assert client.post(f"/api/v1/matches/{first}/invite", headers=anna).status_code == 200
    assert client.post(f"/api/v1/matches/{second}/invite", headers=anna).status_code == 200
    invitations = client.get("/api/v1/invitations", headers=h1).get_json()
    assert [i["match_id"] for i in invitations] == [first]
    accepted = client.post(f"/api/v1/matches/{first}/accept", headers=h1)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    twice = client.post(f"/api/v1/matches/{first}/accept", headers=h1)
    assert twice.status_code == 409 and twice.get_json()["rule"] == "already_accepted"
    late = client.post(f"/api/v1/matches/{second}/accept", headers=h2)
    assert late.status_code == 409
    assert "already accepted" in late.get_json()["message"]
    sent = client.post(
        f"/api/v1/matches/{first}/messages", json={"body": "Ik kom om tien uur"}, headers=h1
    )
    assert sent.status_code == 201 and sent.get_json()["mine"] is True
    thread = client.get(f"/api/v1/matches/{first}/messages", headers=anna).get_json()
    assert [m["body"] for m in thread["messages"]] == ["Ik kom om tien uur"]
    assert thread["messages"][0]["mine"] is False
    empty = client.post(f"/api/v1/matches/{first}/messages", json={"body": " "}, headers=anna)
    assert empty.status_code == 422 and empty.get_json()["field"] == "body"
    done = client.post(f"/api/v1/matches/{first}/done", headers=h1).get_json()
    assert done["status"] == "done"
    bad = client.post(f"/api/v1/matches/{first}/thanks", json={"rating": 9}, headers=anna)
    assert bad.status_code == 422 and bad.get_json()["field"] == "rating"
    thanks = client.post(
        f"/api/v1/matches/{first}/thanks", json={"rating": 5, "note": "Top!"}, headers=anna
    )
    assert thanks.status_code == 200 and thanks.get_json()["feedback_rating"] == 5
    overview = client.get("/api/v1/overview", headers=anna).get_json()
    assert overview["requests"][0]["status"] == "done"
    assert overview["matches"][0]["thanks_note"] == "Top!"
    mine = client.get("/api/v1/matches", headers=h1).get_json()
    assert mine["total"] == 1 and mine["items"][0]["role"] == "helper"


def test_browse_offer_help_and_the_requester_declines(client, street):
    anna, h2 = street.auth["anna"], street.auth["h2"]
    browse = client.get("/api/v1/open-requests?distance_band=1000", headers=h2).get_json()
    assert browse["total"] == 1 and browse["items"][0]["request_id"] == street.request.id
    wrong_band = client.get("/api/v1/open-requests?distance_band=7", headers=h2)
    assert wrong_band.status_code == 422 and wrong_band.get_json()["field"] == "distance_band"
    offered = client.post(f"/api/v1/open-requests/{street.request.id}/offer-help", headers=h2)
    assert offered.status_code == 201
    match_id = offered.get_json()["match_id"]
    assert offered.get_json()["awaiting"] == "requester"
    declined = client.post(
        f"/api/v1/matches/{match_id}/decline", json={"reason": "al geregeld"}, headers=anna
    )
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    again = client.post(f"/api/v1/open-requests/{street.request.id}/offer-help", headers=h2)
    assert again.status_code == 409
    unknown = client.post("/api/v1/open-requests/999999/offer-help", headers=h2)
    assert unknown.status_code == 404


def test_invite_waves_and_report_a_problem(client, street):
    anna, h1 = street.auth["anna"], street.auth["h1"]
    wave = client.post(f"/api/v1/requests/{street.request.id}/invite-waves", headers=anna)
    assert wave.status_code == 200 and wave.get_json()["wave"] == 1
    match_id = street.match_of(street.helpers[0]).id
    accepted = client.post(f"/api/v1/matches/{match_id}/accept", headers=h1)
    assert accepted.get_json()["status"] == "accepted"
    report = client.post(
        f"/api/v1/matches/{match_id}/report", json={"body": "Niemand thuis"}, headers=h1
    )
    assert report.status_code == 201
    assert report.get_json()["neighbourhood"] == "Binnenstad-Centrum"
    general = client.post("/api/v1/problems", json={"body": "Vraag"}, headers=anna)
    assert general.status_code == 201


def test_ties_by_code_remove_and_block(client, street):
    anna, h1 = street.auth["anna"], street.auth["h1"]
    invitation = client.post("/api/v1/ties/invitations", headers=anna)
    assert invitation.status_code == 201
    code = invitation.get_json()["code"]
    own = client.post("/api/v1/ties/confirm", json={"code": code}, headers=anna)
    assert own.status_code == 422 and own.get_json()["rule"] == "not_self"
    confirmed = client.post("/api/v1/ties/confirm", json={"code": code}, headers=h1)
    assert confirmed.status_code == 201 and confirmed.get_json()["first_name"] == "Anna"
    listed = client.get("/api/v1/ties", headers=anna).get_json()
    assert [t["first_name"] for t in listed["ties"]] == ["Helper1"]
    helper_id = street.helpers[0].id
    assert client.delete(f"/api/v1/ties/{helper_id}", headers=anna).status_code == 204
    assert client.delete(f"/api/v1/ties/{helper_id}", headers=anna).status_code == 404
    blocked = client.post("/api/v1/ties/blocks", json={"resident_id": helper_id}, headers=anna)
    assert blocked.status_code == 201
    match_request(street.request.id, force=True)
    names = [
        s["other_first_name"]
        for s in client.get(
            f"/api/v1/requests/{street.request.id}/suggestions", headers=anna
        ).get_json()
    ]
    assert names == ["Helper2"]
    assert client.delete(f"/api/v1/ties/blocks/{helper_id}", headers=anna).status_code == 204
    yourself = client.post(
        "/api/v1/ties/blocks", json={"resident_id": street.requester.id}, headers=anna
    )
    assert yourself.status_code == 422


def test_english_texts_follow_accept_language(client, street):
    anna = {**street.auth["anna"], "Accept-Language": "en"}
    suggestions = client.get(f"/api/v1/requests/{street.request.id}/suggestions", headers=anna)
    first = suggestions.get_json()[0]
    assert first["category_name"] == "Groceries"
    assert first["explanation"].startswith("less than 500 m")


def test_the_openapi_document_lists_the_resident_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/requests",
        "/api/v1/requests/{request_id}/suggestions",
        "/api/v1/requests/{request_id}/invite-waves",
        "/api/v1/offers/{offer_id}/pause",
        "/api/v1/open-requests/{request_id}/offer-help",
        "/api/v1/matches/{match_id}/accept",
        "/api/v1/matches/{match_id}/messages",
        "/api/v1/ties/confirm",
        "/api/v1/ties/blocks",
    ):
        assert path in paths
