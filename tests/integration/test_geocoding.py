"""Address to location: PDOK and Nominatim look-alikes on a local HTTP server, the cache, the
rate limit, timeouts, the map and neighbourhood fallbacks, and the job in a real worker."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from mutualaid.background import get_queue, get_redis
from mutualaid.errors import Invalid
from mutualaid.extensions import db
from mutualaid.models import GeocodeResult, Neighbourhood, Resident
from mutualaid.models.base import utcnow
from mutualaid.services import addresses, geocoding
from mutualaid.services.neighbourhoods import get_locator
from tests import builders
from tests.geocoder_server import (
    BORDER_ADDRESS,
    CENTRE_ADDRESS,
    PDOK_PATH,
    geocoder_server,  # noqa: F401 (fixture)
    use_geocoder,
)
from tests.integration.worker_helpers import free_port, running_worker, wait_for


@pytest.fixture
def town(hengelo):
    for name in ("default", "matching", "notifications"):
        get_queue(name).empty()
    for provider in ("pdok", "nominatim"):
        get_redis().delete(f"mutualaid:geocoder:next-slot:{provider}")
    return hengelo


@pytest.fixture
def pdok(town, geocoder_server, monkeypatch):  # noqa: F811
    use_geocoder(monkeypatch, town, "pdok", geocoder_server.url)
    return geocoder_server


@pytest.fixture
def nominatim(town, geocoder_server, monkeypatch):  # noqa: F811
    use_geocoder(monkeypatch, town, "nominatim", geocoder_server.url)
    return geocoder_server


def resident(**overrides) -> Resident:
    values = {"home_lat": None, "home_lon": None, "street": None}
    values.update(overrides)
    person = builders.resident(**values)
    db.session.commit()
    return person


def reload(resident_id: int) -> Resident:
    db.session.expire_all()
    return db.session.get(Resident, resident_id)


def code_of(person: Resident) -> str | None:
    return person.neighbourhood.code if person.neighbourhood else None


# --- PDOK ------------------------------------------------------------------------------------


def test_pdok_address_is_found_in_the_background_and_placed_in_its_neighbourhood(pdok):
    person = resident()
    geocoding.set_home_address(person.id, "7551 ab", "12")
    assert reload(person.id).geocode_status == "pending"
    assert get_queue("default").count == 1  # enqueued after commit

    result = geocoding.geocode_resident(person.id)

    person = reload(person.id)
    assert result["status"] == "found" and person.geocode_status == "found"
    assert (person.home_lat, person.home_lon) == (CENTRE_ADDRESS.lat, CENTRE_ADDRESS.lon)
    assert code_of(person) == "BU01640000"
    assert person.street == "Marktstraat" and person.location_source == "geocoder"
    assert person.postcode == "7551AB" and person.house_number == "12"
    [seen] = pdok.requests
    assert seen.path == PDOK_PATH
    assert seen.params["q"] == "7551AB 12" and seen.params["fq"] == "type:adres"
    assert int(seen.params["rows"]) >= 1


def test_pdok_house_letter_must_match_exactly(pdok):
    found = geocoding.geocode_address("7551AB", "14a")
    assert found.status == "found" and found.place.street == "Marktstraat"
    # 14B does not exist; the free search still ranks 14A and 12 as near misses
    assert geocoding.geocode_address("7551AB", "14b").status == "not_found"


def test_a_postcode_that_does_not_exist_is_not_found_and_the_resident_is_told(pdok):
    person = resident()
    geocoding.set_home_address(person.id, "7559ZZ", "1")
    geocoding.geocode_resident(person.id)
    person = reload(person.id)
    assert person.geocode_status == "not_found"
    assert person.home_lat is None and person.neighbourhood_id is None
    assert geocoding.home_location(person.id)["status"] == "not_found"


def test_near_misses_of_a_free_search_are_not_taken_for_the_address(pdok):
    outcome = geocoding.geocode_address("7551AB", "99")  # the postcode exists, 99 does not
    assert outcome.status == "not_found"
    assert pdok.count(PDOK_PATH) == 1


def test_the_synchronous_lookup_refuses_an_address_that_does_not_exist(pdok):
    person = resident(postcode="7551AB", house_number="12")
    with pytest.raises(Invalid) as caught:
        geocoding.set_home_address(person.id, "7559ZZ", "1", lookup_timeout=1.0)
    assert caught.value.field == "postcode" and caught.value.rule == "address_exists"
    person = reload(person.id)
    assert (person.postcode, person.house_number) == ("7551AB", "12")  # nothing half-written


def test_the_synchronous_lookup_places_a_found_address_at_once(pdok):
    person = resident()
    geocoding.set_home_address(person.id, "7551AB", "12", lookup_timeout=1.0)
    person = reload(person.id)
    assert person.geocode_status == "found" and code_of(person) == "BU01640000"
    assert get_queue("default").count == 0  # nothing left for the background


def test_pdok_neighbourhood_code_wins_over_generalised_polygons(pdok):
    located = get_locator().locate(BORDER_ADDRESS.lat, BORDER_ADDRESS.lon)
    assert db.session.get(Neighbourhood, located).code != BORDER_ADDRESS.buurtcode
    person = resident()
    geocoding.set_home_address(person.id, "7551CD", "3")
    geocoding.geocode_resident(person.id)
    assert code_of(reload(person.id)) == "BU01640001"


def test_an_address_outside_the_imported_neighbourhoods_is_found_without_a_neighbourhood(pdok):
    person = resident()
    geocoding.set_home_address(person.id, "1012 JS", "1")
    geocoding.geocode_resident(person.id)
    location = geocoding.home_location(person.id)
    assert location["status"] == "found" and location["neighbourhood"] is None
    assert location["in_service_area"] is False


# --- Input checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("postcode", ["1234", "0123AB", "1234 ABC", "ABCD12", "", None, 7551])
def test_invalid_postcode_is_refused_naming_the_field_and_nothing_is_stored(pdok, postcode):
    person = resident(postcode="7551AB", house_number="12")
    with pytest.raises(Invalid) as caught:
        geocoding.set_home_address(person.id, postcode, "12")
    assert caught.value.field == "postcode" and caught.value.rule == "format"
    assert reload(person.id).postcode == "7551AB"
    assert pdok.count() == 0


@pytest.mark.parametrize("number", ["", "0", "abc", "123456", "12--3", None, True])
def test_invalid_house_number_is_refused_naming_the_field(pdok, number):
    person = resident()
    with pytest.raises(Invalid) as caught:
        geocoding.set_home_address(person.id, "7551AB", number)
    assert caught.value.field == "house_number"


def test_both_bad_fields_are_named_at_once(town):
    with pytest.raises(Invalid) as caught:
        geocoding.parse_address("nope", "nope")
    assert set(caught.value.errors) == {"postcode", "house_number"}


def test_house_numbers_are_normalised():
    assert [
        addresses.normalise_house_number(v) for v in ("12", "12a", "12 A", "12-2", "12 bis", 7)
    ] == ["12", "12A", "12A", "12-2", "12-BIS", "7"]


# --- Unavailable -----------------------------------------------------------------------------


def test_a_slow_geocoder_times_out_and_the_resident_gets_the_fallback(pdok, monkeypatch, town):
    monkeypatch.setitem(town.config, "GEOCODER_TIMEOUT_SECONDS", 0.3)
    pdok.delay_seconds = 2.0
    person = resident()
    geocoding.set_home_address(person.id, "7551AB", "12")
    result = geocoding.geocode_resident(person.id)
    assert result["status"] == "unavailable"
    assert reload(person.id).geocode_status == "unavailable"
    assert db.session.scalar(select(GeocodeResult)) is None  # a timeout is not an answer


def test_a_server_error_makes_the_geocoder_unavailable(pdok):
    pdok.status = 503
    assert geocoding.geocode_address("7551AB", "12").status == "unavailable"
    pdok.status = 500
    assert geocoding.geocode_address("7551AB", "12").status == "unavailable"


def test_a_refused_connection_makes_the_geocoder_unavailable(town, monkeypatch):
    use_geocoder(monkeypatch, town, "pdok", f"http://127.0.0.1:{free_port()}")
    assert geocoding.geocode_address("7551AB", "12").status == "unavailable"


def test_no_geocoder_configured_means_unavailable_at_once_and_no_job(town, monkeypatch):
    monkeypatch.setitem(town.config, "GEOCODER", "")
    person = resident()
    geocoding.set_home_address(person.id, "7551AB", "12")
    assert reload(person.id).geocode_status == "unavailable"
    assert get_queue("default").count == 0
    assert geocoding.home_location(person.id)["geocoder_configured"] is False


# --- Cache and rate limit --------------------------------------------------------------------


def test_a_second_lookup_comes_from_the_cache_without_a_request(pdok):
    first = geocoding.geocode_address("7551AB", "12")
    db.session.commit()
    second = geocoding.geocode_address("7551 ab", "12")
    assert first.found and second.found and second.from_cache
    assert (second.lat, second.lon) == (first.lat, first.lon)
    assert pdok.count() == 1
    row = db.session.scalar(select(GeocodeResult))
    assert row.query_key == "pdok|7551AB 12" and row.neighbourhood_code == "BU01640000"
    assert row.municipality_code == "GM0164"


def test_not_found_is_cached_for_a_shorter_time(pdok):
    assert geocoding.geocode_address("7559ZZ", "1").status == "not_found"
    db.session.commit()
    assert geocoding.geocode_address("7559ZZ", "1").from_cache
    assert pdok.count() == 1
    row = db.session.scalar(select(GeocodeResult))
    row.created_at -= timedelta(hours=25)  # older than GEOCODER_NOT_FOUND_CACHE_HOURS
    db.session.commit()
    assert not geocoding.geocode_address("7559ZZ", "1").from_cache
    assert pdok.count() == 2
    found = geocoding.geocode_address("7551AB", "12")
    db.session.commit()
    found_row = db.session.scalar(select(GeocodeResult).where(GeocodeResult.found.is_(True)))
    found_row.created_at -= timedelta(hours=25)  # found answers live for days
    db.session.commit()
    assert found.found and geocoding.geocode_address("7551AB", "12").from_cache


def test_calls_to_the_provider_keep_the_minimum_delay(pdok, monkeypatch, town):
    monkeypatch.setitem(town.config, "GEOCODER_MIN_DELAY_SECONDS", 1.0)
    person_a, person_b = resident(), resident()
    geocoding.set_home_address(person_a.id, "7551AB", "12")
    geocoding.set_home_address(person_b.id, "7551AB", "14A")
    geocoding.geocode_resident(person_a.id)
    geocoding.geocode_resident(person_b.id)
    first, second = pdok.requests
    # The slots are a second apart on the Redis clock; where the server sees them, the first
    # call's slower start (a new connection on a loaded machine) can eat a little of that.
    assert second.at - first.at >= 0.8


def test_a_synchronous_lookup_does_not_wait_long_for_its_turn(pdok, monkeypatch, town):
    monkeypatch.setitem(town.config, "GEOCODER_MIN_DELAY_SECONDS", 30)
    assert geocoding.geocode_address("7551AB", "12", timeout=0.5).found
    assert geocoding.geocode_address("7551AB", "14A", timeout=0.5).status == "unavailable"
    assert pdok.count() == 1  # the second call was refused before reaching the provider


# --- Nominatim -------------------------------------------------------------------------------


def test_nominatim_address_is_found_and_placed(nominatim):
    person = resident()
    geocoding.set_home_address(person.id, "7551AB", "12", street="Marktstraat")
    geocoding.geocode_resident(person.id)
    person = reload(person.id)
    assert person.geocode_status == "found" and code_of(person) == "BU01640000"
    assert person.street == "Marktstraat"
    [seen] = nominatim.requests
    assert seen.path == "/search" and seen.params["postalcode"] == "7551 AB"
    assert seen.params["street"] == "12 Marktstraat" and seen.user_agent == "mutualaid-tests"


def test_nominatim_unknown_postcode_is_not_found(nominatim):
    assert geocoding.geocode_address("7559ZZ", "1").status == "not_found"
    assert nominatim.count("/search") == 1


# --- Map point and neighbourhood fallbacks ---------------------------------------------------


def test_a_point_on_the_map_places_the_resident(town):
    person = resident()
    geocoding.set_home_point(person.id, CENTRE_ADDRESS.lat, CENTRE_ADDRESS.lon)
    person = reload(person.id)
    assert person.location_source == "map" and code_of(person) == "BU01640000"


def test_a_point_outside_every_neighbourhood_is_refused(town):
    person = resident()
    with pytest.raises(Invalid) as caught:
        geocoding.set_home_point(person.id, 52.3731, 4.8926)  # Amsterdam
    assert caught.value.field == "location"
    assert reload(person.id).home_lat is None


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [(math.nan, 6.79, "lat"), (52.26, math.inf, "lon"), (91, 6.79, "lat"), (52.26, -181, "lon")],
)
def test_bad_coordinates_are_refused(town, lat, lon, field):
    person = resident()
    with pytest.raises(Invalid) as caught:
        geocoding.set_home_point(person.id, lat, lon)
    assert caught.value.field == field


def test_choosing_a_neighbourhood_uses_its_centre(town):
    person = resident()
    geocoding.set_home_neighbourhood(person.id, "bu01640101")
    person = reload(person.id)
    area = db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == "BU01640101"))
    assert (person.home_lat, person.home_lon) == (area.centroid_lat, area.centroid_lon)
    assert person.location_source == "postcode_area" and code_of(person) == "BU01640101"
    with pytest.raises(Invalid) as caught:
        geocoding.set_home_neighbourhood(person.id, "BU99999999")
    assert caught.value.field == "neighbourhood_code"


def test_a_late_geocoder_answer_does_not_move_a_point_the_resident_placed(pdok):
    person = resident()
    geocoding.set_home_address(person.id, "7551CD", "3")
    geocoding.set_home_point(person.id, CENTRE_ADDRESS.lat, CENTRE_ADDRESS.lon + 0.001)
    assert geocoding.geocode_resident(person.id)["status"] == "skipped"
    person = reload(person.id)
    assert person.location_source == "map" and pdok.count() == 0


# --- For other services ----------------------------------------------------------------------


def test_request_service_can_geocode_an_address_line(pdok):
    outcome = geocoding.geocode_address("Marktstraat 12", "7551AB")  # services/aid.py's order
    assert outcome.found and outcome.lat == CENTRE_ADDRESS.lat
    assert db.session.get(Neighbourhood, outcome.neighbourhood_id).code == "BU01640000"
    with pytest.raises(Invalid) as caught:
        geocoding.geocode_address("7551AB", address_line="Marktstraat")
    assert caught.value.field == "address_line"


def test_registration_hands_the_address_to_the_background(pdok):
    person = resident(postcode="7551AB", house_number="12", geocode_status="pending")
    geocoding.request_home_geocoding(person.id)
    assert get_queue("default").count == 1
    geocoding.geocode_resident(person.id)
    assert reload(person.id).geocode_status == "found"


# --- A real worker ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_geocoding_job_runs_in_a_real_worker(pdok, town, instance_path, tmp_path):
    person = resident()
    with running_worker(
        town,
        instance_path,
        tmp_path / "worker.log",
        GEOCODER="pdok",
        GEOCODER_URL=pdok.url,
        GEOCODER_MIN_DELAY_SECONDS="0",
    ):
        geocoding.set_home_address(person.id, "7551AB", "12")
        assert wait_for(lambda: reload(person.id).geocode_status == "found", timeout=60)
    assert code_of(reload(person.id)) == "BU01640000"
    assert pdok.count(PDOK_PATH) == 1


def test_the_outbox_sweep_enqueues_homes_left_pending(pdok):
    from mutualaid.services.outbox import sweep_outbox

    person = resident(postcode="7551AB", house_number="12", geocode_status="pending")
    assert sweep_outbox()["homes"] == 0  # just saved: its own job is on its way
    db.session.execute(
        Resident.__table__.update()
        .where(Resident.id == person.id)
        .values(updated_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()
    assert sweep_outbox()["homes"] == 1
    assert get_queue("default").count == 1


def test_erasing_a_resident_forgets_their_cached_address(pdok):
    from mutualaid.services.erasure import erase_resident

    person = resident()
    geocoding.set_home_address(person.id, "7551AB", "12", lookup_timeout=1.0)
    other = geocoding.geocode_address("7551AB", "14A")  # someone else's address stays
    db.session.commit()
    assert other.found and db.session.query(GeocodeResult).count() == 2
    erase_resident(person.id)
    assert db.session.scalars(select(GeocodeResult.query_key)).all() == ["pdok|7551AB 14A"]


def test_a_request_at_another_address_is_placed_by_the_geocoder(pdok):
    from mutualaid.services.aid import post_request
    from mutualaid.services.demo import ensure_categories

    ensure_categories()
    requester = resident(home_lat=52.2700, home_lon=6.7800)
    request = post_request(
        requester.id,
        category="boodschappen",
        description="Boodschappen voor mijn moeder",
        address_line="Marktstraat 12",
        postcode="7551 AB",
    )
    assert request.location_source == "geocoder"
    assert (request.lat, request.lon) == (CENTRE_ADDRESS.lat, CENTRE_ADDRESS.lon)
    assert request.neighbourhood.code == "BU01640000"
    with pytest.raises(Invalid) as caught:
        post_request(
            requester.id,
            category="boodschappen",
            description="Boodschappen",
            address_line="Nergensstraat 1",
            postcode="7559 ZZ",
        )
    assert caught.value.field == "postcode"


def test_the_job_skips_a_resident_erased_before_it_ran(pdok):
    from mutualaid.services.erasure import erase_resident

    person = resident()
    geocoding.set_home_address(person.id, "7551AB", "12")
    erase_resident(person.id)
    assert geocoding.geocode_resident(person.id)["status"] == "skipped"
    assert geocoding.geocode_resident(987654)["status"] == "skipped"
    assert pdok.count() == 0
