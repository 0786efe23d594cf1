"""The geopy geocoder classes and the geocoder configuration (no network, no app)."""

import pytest
from geopy.geocoders import Nominatim
from geopy.location import Location

from mutualaid.config import ConfigError, load_config
from mutualaid.geocoders import PdokLocatieserver, make_geocoder, parse_point
from tests.geocoder_server import PDOK_EXAMPLE_DOC, pdok_answer


def test_pdok_point_is_longitude_first():
    assert parse_point("POINT(6.79360000 52.26560000)") == (52.2656, 6.7936)
    assert parse_point(" POINT ( 6.7 52.2 ) ") == (52.2, 6.7)


@pytest.mark.parametrize("bad", ["", "POINT(6.79)", "POLYGON((1 2, 3 4))", None, "POINT(a b)"])
def test_malformed_points_are_refused(bad):
    with pytest.raises(ValueError):
        parse_point(bad)


def test_pdok_answer_becomes_geopy_locations_with_the_document_as_raw():
    geocoder = PdokLocatieserver()
    location = geocoder._parse_json(pdok_answer([PDOK_EXAMPLE_DOC]), exactly_one=True)
    assert isinstance(location, Location)
    assert (location.latitude, location.longitude) == (52.2656, 6.7936)
    assert location.address == "Voorbeeldstraat 2, 7551AA Hengelo"
    assert location.raw["buurtcode"] == "BU01640000"
    assert geocoder._parse_json(pdok_answer([]), exactly_one=True) is None
    assert geocoder._parse_json(pdok_answer([PDOK_EXAMPLE_DOC]), exactly_one=False)[0] == location


def test_geocoders_are_built_from_a_base_url():
    pdok = make_geocoder("pdok", "http://127.0.0.1:8123/mirror/", 2.0, "ua")
    assert pdok.api == "http://127.0.0.1:8123/mirror/bzk/locatieserver/search/v3_1/free"
    assert pdok.timeout == 2.0
    public = make_geocoder("pdok", "", 5.0, "ua")
    assert public.api == "https://api.pdok.nl/bzk/locatieserver/search/v3_1/free"
    nominatim = make_geocoder("nominatim", "https://nominatim.example.org", 5.0, "tests/1.0")
    assert isinstance(nominatim, Nominatim) and nominatim.api.endswith("example.org/search")
    with pytest.raises(ValueError):
        make_geocoder("pdok", "ftp://example.org", 5.0, "ua")


def test_geocoder_is_off_by_default(monkeypatch, tmp_path):
    for name in ("GEOCODER", "GEOCODER_URL", "NOMINATIM_USER_AGENT"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(instance_path=tmp_path)
    assert config["GEOCODER"] == "" and config["GEOCODER_TIMEOUT_SECONDS"] == 5.0


def test_geocoder_settings_are_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOCODER", "google")
    with pytest.raises(ConfigError, match="GEOCODER"):
        load_config(instance_path=tmp_path)
    monkeypatch.setenv("GEOCODER", "nominatim")
    monkeypatch.delenv("NOMINATIM_USER_AGENT", raising=False)
    with pytest.raises(ConfigError, match="NOMINATIM_USER_AGENT"):
        load_config(instance_path=tmp_path)
    monkeypatch.setenv("GEOCODER", "PDOK")
    monkeypatch.setenv("GEOCODER_URL", "api.pdok.nl")
    with pytest.raises(ConfigError, match="GEOCODER_URL"):
        load_config(instance_path=tmp_path)
    monkeypatch.setenv("GEOCODER_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("GEOCODER_TIMEOUT_SECONDS", "soon")
    with pytest.raises(ConfigError, match="GEOCODER_TIMEOUT_SECONDS"):
        load_config(instance_path=tmp_path)
    monkeypatch.setenv("GEOCODER_TIMEOUT_SECONDS", "2.5")
    config = load_config(instance_path=tmp_path)
    assert config["GEOCODER"] == "pdok" and config["GEOCODER_TIMEOUT_SECONDS"] == 2.5
