"""Odd input through the API and the forms: coordinates NaN, inf or out of range, overlong
text, unknown enums, malformed JSON and the wrong content type. Each is a clear 4xx in the one
error body naming the field (or `body`), never a 500, and nothing half-written is stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Offer, Resident
from mutualaid.services.accounts import create_user
from tests import staff_login
from tests.casework import CENTRE_CODE, PASSWORD, resident_in, staff
from tests.e2e.test_api_resident_flows import token_for
from tests.flows import neighbour

REQUEST = {"category": "boodschappen", "description": "Boodschappen bij de Jumbo", "slots": 7}
OFFER = {"categories": ["boodschappen"], "radius_m": 1500, "slots": 7}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def auth(hengelo):
    from mutualaid.services.demo import ensure_categories

    ensure_categories()
    return token_for(neighbour(0))


def _send(client, method: str, path: str, auth: dict, raw, content_type: str = "application/json"):
    return client.open(
        path, method=method, data=raw, headers={**auth, "Content-Type": content_type}
    )


def _assert_error(response, status: int, field: str, rule: str | None = None) -> dict:
    body = response.get_json()
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(body) <= {"error", "message", "field", "rule", "errors"}
    assert body["field"] == field and body["message"]
    if rule:
        assert body["rule"] == rule
    return body


def _stored() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(HelpRequest.id))),
        db.session.scalar(select(func.count(Offer.id))),
    )


NAN, INF = float("nan"), float("inf")  # json.dumps writes them as NaN / Infinity literals

BAD_FIELDS = [
    # (path, valid body, changes, field)
    ("/api/v1/requests", REQUEST, {"lat": NAN, "lon": 6.79}, "lat"),
    ("/api/v1/requests", REQUEST, {"lat": 52.26, "lon": INF}, "lon"),
    ("/api/v1/requests", REQUEST, {"lat": 52.26, "lon": -INF}, "lon"),
    ("/api/v1/requests", REQUEST, {"lat": 90.5, "lon": 6.79}, "lat"),
    ("/api/v1/requests", REQUEST, {"lat": 52.26, "lon": 180.01}, "lon"),
    ("/api/v1/requests", REQUEST, {"lat": "52,26", "lon": 6.79}, "lat"),
    ("/api/v1/requests", REQUEST, {"description": "x" * 5000}, "description"),
    ("/api/v1/requests", REQUEST, {"description": ""}, "description"),
    ("/api/v1/requests", REQUEST, {"description": ["a list"]}, "description"),
    ("/api/v1/requests", REQUEST, {"address_line": "x" * 1000}, "address_line"),
    ("/api/v1/requests", REQUEST, {"urgency": "yesterday"}, "urgency"),
    ("/api/v1/requests", REQUEST, {"contact_channel": "pigeon"}, "contact_channel"),
    ("/api/v1/requests", REQUEST, {"category": "<none>"}, "category"),
    ("/api/v1/requests", REQUEST, {"slots": -1}, "slots"),
    ("/api/v1/requests", REQUEST, {"slots": 2**70}, "slots"),
    ("/api/v1/requests", REQUEST, {"max_distance_m": 10**12}, "max_distance_m"),
    ("/api/v1/requests", REQUEST, {"window_start": "2026-02-30"}, "window_start"),
    ("/api/v1/requests", REQUEST, {"colour": "red"}, "colour"),
    ("/api/v1/offers", OFFER, {"lat": NAN, "lon": 6.79}, "lat"),
    ("/api/v1/offers", OFFER, {"lat": 52.26, "lon": INF}, "lon"),
    ("/api/v1/offers", OFFER, {"lat": -91, "lon": 6.79}, "lat"),
    ("/api/v1/offers", OFFER, {"description": "x" * 5000}, "description"),
    ("/api/v1/offers", OFFER, {"categories": ["teleportatie"]}, "categories"),
    ("/api/v1/offers", OFFER, {"languages": ["klingon"]}, "languages"),
    ("/api/v1/offers", OFFER, {"radius_m": 10**9}, "radius_m"),
    ("/api/v1/offers", OFFER, {"capacity": 0}, "capacity"),
]


@pytest.mark.parametrize(("path", "valid", "changes", "field"), BAD_FIELDS)
def test_a_bad_field_is_a_422_naming_it_and_nothing_is_stored(
    client, auth, path, valid, changes, field
):
    response = _send(client, "POST", path, auth, json.dumps({**valid, **changes}))
    _assert_error(response, 422, field)
    assert _stored() == (0, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lat": NAN, "lon": 6.79}, "lat"),
        ({"lat": 52.26, "lon": INF}, "lon"),
        ({"lat": 100.0, "lon": 6.79}, "lat"),
        ({"lat": 52.26, "lon": -181.0}, "lon"),
        ({"lat": "north", "lon": 6.79}, "lat"),
    ],
)
def test_my_location_refuses_impossible_coordinates(client, auth, changes, field):
    response = _send(client, "PUT", "/api/v1/me/location", auth, json.dumps(changes))
    _assert_error(response, 422, field)


def test_malformed_json_is_a_400_naming_the_body(client, auth):
    for raw in ('{"category": ', '{"category": "a",}', b'{"category": "\xff"}', "{'single': 1}"):
        response = _send(client, "POST", "/api/v1/requests", auth, raw)
        _assert_error(response, 400, "body", "json")
    assert _stored() == (0, 0)


@pytest.mark.parametrize("raw", ["[1, 2]", '"boodschappen"', "42", "null"])
def test_a_body_that_is_not_an_object_is_refused_naming_the_body(client, auth, raw):
    response = _send(client, "POST", "/api/v1/requests", auth, raw)
    assert response.status_code in (400, 422)
    assert response.get_json()["field"] == "body"
    assert _stored() == (0, 0)


def test_a_key_without_a_name_is_an_unknown_field_of_the_body(client, auth):
    response = _send(client, "POST", "/api/v1/requests", auth, json.dumps({**REQUEST, "": 1}))
    _assert_error(response, 422, "body", "unknown")
    assert _stored() == (0, 0)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "x/y"],
)
def test_a_body_that_is_not_json_is_a_415_naming_the_body(client, auth, content_type):
    response = _send(client, "POST", "/api/v1/requests", auth, json.dumps(REQUEST), content_type)
    body = _assert_error(response, 415, "body", "content_type")
    assert body["error"] == "unsupported_media_type"
    assert _stored() == (0, 0)


def test_json_with_a_charset_and_an_empty_action_body_still_work(client, auth):
    response = _send(
        client,
        "POST",
        "/api/v1/requests",
        auth,
        json.dumps(REQUEST),
        "application/json; charset=utf-8",
    )
    assert response.status_code == 201, response.get_json()
    request_id = response.get_json()["id"]
    # An action without a body needs no content type at all.
    response = client.post(f"/api/v1/requests/{request_id}/cancel", headers=auth)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "page=abc", "per_page=100000", "page=99999999999999999999999"],
)
def test_odd_paging_is_a_422_naming_the_parameter(client, auth, query):
    response = client.get(f"/api/v1/requests?{query}", headers=auth)
    _assert_error(response, 422, query.split("=")[0])


@pytest.mark.parametrize(
    "path", ["/api/v1/requests/9223372036854775808", "/api/v1/matches/2147483648"]
)
def test_an_id_beyond_the_database_integer_is_a_404_not_an_overflow(client, auth, path):
    response = client.get(path, headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


# The same rules behind the pages: a form with impossible values is shown again with a 422.


@pytest.mark.parametrize(
    ("lat", "lon"), [("nan", "6.79"), ("52.26", "inf"), ("1e400", "6.79"), ("99", "6.79"), ("", "")]
)
def test_the_home_map_form_refuses_impossible_coordinates(client, hengelo, lat, lon):
    person = resident_in(CENTRE_CODE)
    user = create_user("kaart@example.org", PASSWORD, "resident", "Kim", resident_id=person.id)
    assert (
        client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
        == 302
    )
    before = (person.home_lat, person.home_lon)
    response = client.post("/mijn/adres/kaart", data={"lat": lat, "lon": lon})
    assert response.status_code == 422
    db.session.expire_all()
    assert (db.session.get(Resident, person.id).home_lat, person.home_lon) == before


@pytest.mark.parametrize(
    "changes",
    [
        {"lat": "nan", "lon": "6.79"},
        {"lat": "52.26", "lon": "-inf"},
        {"lat": "1e999", "lon": "6.79"},
        {"first_name": "J" * 500},
        {"consent_method": "telepathy"},
    ],
)
def test_the_intake_form_refuses_impossible_values(client, hengelo, changes):
    worker = staff("worker")
    assert staff_login.sign_in(client, worker.email, PASSWORD).status_code == 302
    form = {"first_name": "Jan", "consent_method": "phone", "phone": "0612345678"}
    form.update(changes)
    residents = db.session.scalar(select(func.count(Resident.id)))
    response = client.post("/wijkwerk/bewoners/nieuw", data=form)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Resident.id))) == residents
