"""The address page (/mijn/adres) and /api/v1/me/location through the test client, with a
local PDOK look-alike: found, not found, bad input, no geocoder, timeout and the fallbacks."""

from __future__ import annotations

import pytest

from mutualaid.background import get_queue, get_redis
from mutualaid.extensions import db
from mutualaid.models import Resident
from mutualaid.services.accounts import create_user
from mutualaid.services.geocoding import geocode_resident
from tests import builders
from tests.geocoder_server import CENTRE_ADDRESS, geocoder_server, use_geocoder  # noqa: F401

PASSWORD = "een-lang-wachtwoord"


def make_resident(**overrides) -> Resident:
    values = {"home_lat": None, "home_lon": None, "street": None}
    values.update(overrides)
    person = builders.resident(**values)
    create_user(person.email, PASSWORD, "resident", person.first_name, resident_id=person.id)
    db.session.commit()
    return person


def sign_in(client, person: Resident) -> None:
    response = client.post("/auth/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 302


def token_for(client, person: Resident) -> dict:
    response = client.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": PASSWORD, "label": "t"}
    )
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def reload(resident_id: int) -> Resident:
    db.session.expire_all()
    return db.session.get(Resident, resident_id)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def town(hengelo):
    get_queue("default").empty()
    get_redis().delete("mutualaid:geocoder:next-slot:pdok")
    return hengelo


@pytest.fixture
def pdok(town, geocoder_server, monkeypatch):  # noqa: F811
    use_geocoder(monkeypatch, town, "pdok", geocoder_server.url)
    return geocoder_server


@pytest.fixture
def no_geocoder(town, monkeypatch):
    monkeypatch.setitem(town.config, "GEOCODER", "")
    return town


# --- The page --------------------------------------------------------------------------------


def test_address_page_needs_a_signed_in_resident(client, town):
    response = client.get("/mijn/adres")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_address_is_looked_up_in_the_background_and_the_page_shows_the_neighbourhood(client, pdok):
    person = make_resident()
    sign_in(client, person)
    page = client.get("/mijn/adres?lang=nl")
    assert page.status_code == 200 and "Postcode" in text(page)

    response = client.post("/mijn/adres", data={"postcode": "7551 AB", "house_number": "12"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/mijn/adres")
    pending = text(client.get("/mijn/adres"))
    assert "We zoeken uw adres op" in pending
    assert 'href="/mijn/adres"' in pending and "http-equiv" not in pending  # a plain link

    geocode_resident(person.id)  # what the worker does (a real worker: tests/integration)
    found = text(client.get("/mijn/adres"))
    assert "Binnenstad-Centrum" in found and "Marktstraat" in found
    assert reload(person.id).location_source == "geocoder"


def test_an_address_that_does_not_exist_is_told_plainly_with_the_fallback(client, pdok):
    person = make_resident()
    sign_in(client, person)
    client.post("/mijn/adres?lang=nl", data={"postcode": "7559 ZZ", "house_number": "1"})
    geocode_resident(person.id)
    page = text(client.get("/mijn/adres"))
    assert "We konden uw adres niet vinden" in page
    assert 'name="neighbourhood_code"' in page  # the no-JavaScript fallback


def test_a_bad_postcode_shows_the_error_at_the_field_and_stores_nothing(client, pdok):
    person = make_resident(postcode="7551AB", house_number="12")
    sign_in(client, person)
    response = client.post("/mijn/adres?lang=nl", data={"postcode": "12345", "house_number": "x"})
    assert response.status_code == 422
    page = text(response)
    assert 'href="#postcode"' in page and 'href="#house_number"' in page  # error summary
    assert 'id="postcode-error"' in page and 'aria-invalid="true"' in page
    assert reload(person.id).postcode == "7551AB"
    assert pdok.count() == 0


def test_without_a_geocoder_the_page_says_so_and_offers_map_and_list(client, no_geocoder):
    person = make_resident()
    sign_in(client, person)
    client.post("/mijn/adres?lang=nl", data={"postcode": "7551 AB", "house_number": "12"})
    page = text(client.get("/mijn/adres"))
    assert "Deze website kan geen adressen opzoeken" in page
    assert 'id="location-map"' in page and "js/location-map.js" in page
    assert "Binnenstad-Centrum" in page  # an option in the neighbourhood list
    assert get_queue("default").count == 0


def test_a_geocoder_that_times_out_leads_to_the_fallback(client, pdok, town, monkeypatch):
    monkeypatch.setitem(town.config, "GEOCODER_TIMEOUT_SECONDS", 0.3)
    pdok.delay_seconds = 2.0
    person = make_resident()
    sign_in(client, person)
    client.post("/mijn/adres?lang=nl", data={"postcode": "7551 AB", "house_number": "12"})
    geocode_resident(person.id)
    page = text(client.get("/mijn/adres"))
    assert "We kunnen nu geen adressen opzoeken" in page
    assert 'name="neighbourhood_code"' in page


def test_choosing_a_neighbourhood_works_without_javascript(client, no_geocoder):
    person = make_resident()
    sign_in(client, person)
    response = client.post("/mijn/adres/buurt", data={"neighbourhood_code": "BU01640101"})
    assert response.status_code == 302
    person = reload(person.id)
    assert person.neighbourhood.code == "BU01640101"
    assert person.location_source == "postcode_area"
    assert "Tichelwerk" in text(client.get("/mijn/adres?lang=nl"))
    bad = client.post("/mijn/adres/buurt", data={"neighbourhood_code": "nope"})
    assert bad.status_code == 422 and 'href="#neighbourhood_code"' in text(bad)


def test_a_map_point_is_saved_and_one_outside_is_refused(client, no_geocoder):
    person = make_resident()
    sign_in(client, person)
    ok = client.post("/mijn/adres/kaart", data={"lat": "52.264", "lon": "6.7935"})
    assert ok.status_code == 302
    assert reload(person.id).location_source == "map"
    outside = client.post("/mijn/adres/kaart", data={"lat": "52.3731", "lon": "4.8926"})
    assert outside.status_code == 422 and 'href="#location"' in text(outside)
    assert reload(person.id).home_lon == 6.7935


def test_the_map_gets_the_neighbourhood_boundaries(client, no_geocoder):
    sign_in(client, make_resident())
    response = client.get("/mijn/adres/buurten.geojson")
    assert response.status_code == 200
    assert len(response.json["features"]) == 62
    assert set(response.json["features"][0]["properties"]) == {"code", "name"}


def test_page_is_in_english_too(client, no_geocoder):
    sign_in(client, make_resident())
    page = text(client.get("/mijn/adres?lang=en"))
    assert "Your address" in page and "Choose your neighbourhood" in page


# --- The API ---------------------------------------------------------------------------------


def test_api_put_address_found_at_once_and_get_returns_own_location(client, pdok):
    person = make_resident()
    headers = token_for(client, person)
    response = client.put(
        "/api/v1/me/location", json={"postcode": "7551AB", "house_number": 12}, headers=headers
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "found"
    assert response.json["neighbourhood"] == {"code": "BU01640000", "name": "Binnenstad-Centrum"}
    again = client.get("/api/v1/me/location", headers=headers)
    assert again.status_code == 200 and again.json["postcode"] == "7551 AB"
    assert again.json["lat"] == CENTRE_ADDRESS.lat


def test_api_address_that_does_not_exist_is_422_naming_postcode(client, pdok):
    person = make_resident(postcode="7551AB", house_number="12")
    headers = token_for(client, person)
    response = client.put(
        "/api/v1/me/location", json={"postcode": "7559 ZZ", "house_number": "1"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json["field"] == "postcode" and response.json["rule"] == "address_exists"
    assert reload(person.id).postcode == "7551AB"


def test_api_bad_postcode_format_is_422_naming_postcode(client, pdok):
    headers = token_for(client, make_resident())
    response = client.put(
        "/api/v1/me/location", json={"postcode": "75510", "house_number": "1"}, headers=headers
    )
    assert response.status_code == 422 and response.json["field"] == "postcode"
    assert response.json["rule"] == "format"


def test_api_unreachable_geocoder_leaves_the_address_pending_for_the_background(
    client, pdok, town, monkeypatch
):
    monkeypatch.setitem(town.config, "GEOCODER_TIMEOUT_SECONDS", 0.3)
    pdok.delay_seconds = 2.0
    person = make_resident()
    headers = token_for(client, person)
    response = client.put(
        "/api/v1/me/location", json={"postcode": "7551AB", "house_number": "12"}, headers=headers
    )
    assert response.status_code == 202 and response.json["status"] == "pending"
    assert get_queue("default").count == 1


def test_api_without_geocoder_says_unavailable(client, no_geocoder):
    headers = token_for(client, make_resident())
    response = client.put(
        "/api/v1/me/location", json={"postcode": "7551AB", "house_number": "12"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json["status"] == "unavailable"
    assert response.json["geocoder_configured"] is False


def test_api_map_point_and_neighbourhood(client, no_geocoder):
    person = make_resident()
    headers = token_for(client, person)
    point = client.put("/api/v1/me/location", json={"lat": 52.264, "lon": 6.7935}, headers=headers)
    assert point.status_code == 200 and point.json["location_source"] == "map"
    assert point.json["neighbourhood"]["code"] == "BU01640000"
    area = client.put(
        "/api/v1/me/location", json={"neighbourhood_code": "BU01640101"}, headers=headers
    )
    assert area.status_code == 200 and area.json["neighbourhood"]["code"] == "BU01640101"


def test_api_point_outside_every_neighbourhood_is_422_naming_location(client, no_geocoder):
    headers = token_for(client, make_resident())
    response = client.put(
        "/api/v1/me/location", json={"lat": 52.3731, "lon": 4.8926}, headers=headers
    )
    assert response.status_code == 422 and response.json["field"] == "location"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"lat": NaN, "lon": 6.79}', "lat"),
        ('{"lat": 52.26, "lon": Infinity}', "lon"),
        ('{"lat": 95, "lon": 6.79}', "lat"),
        ('{"lat": 52.26, "lon": 200}', "lon"),
        ('{"lat": 52.26}', "lon"),
    ],
)
def test_api_bad_coordinates_are_422(client, no_geocoder, body, field):
    headers = {**token_for(client, make_resident()), "Content-Type": "application/json"}
    response = client.put("/api/v1/me/location", data=body, headers=headers)
    assert response.status_code == 422, response.json
    assert response.json["field"] == field


def test_api_mixed_or_empty_body_is_422(client, no_geocoder):
    headers = token_for(client, make_resident())
    for body in ({}, {"lat": 52.26, "lon": 6.79, "neighbourhood_code": "BU01640101"}):
        response = client.put("/api/v1/me/location", json=body, headers=headers)
        assert response.status_code == 422 and response.json["field"] == "location"


def test_api_location_needs_a_token(client, town):
    assert client.get("/api/v1/me/location").status_code == 401
    response = client.put("/api/v1/me/location", json={"lat": 52.26, "lon": 6.79})
    assert response.status_code == 401


def test_api_shows_only_ones_own_location(client, pdok):
    anna = make_resident(postcode="7551AB", house_number="12")
    bert = make_resident(postcode="7551CD", house_number="3")
    response = client.get("/api/v1/me/location", headers=token_for(client, bert))
    assert response.json["postcode"] == "7551 CD" and response.json["house_number"] == "3"
    assert "7551 AB" not in response.get_data(as_text=True)
    assert anna.id != bert.id
