"""Address to location: validating a Dutch address, geocoding it (cached, rate-limited) and
placing a resident's home, by geocoder, by a point on the map, or by choosing a neighbourhood.

The provider is configured (`GEOCODER` = pdok | nominatim | "" for off). Residents' homes are
geocoded in a background job (`jobs.geocode_resident`); `geocode_address()` is the synchronous
lookup with a short timeout for a request at another address. When no geocoder is configured
or it cannot be reached, the status is `unavailable` and the resident places the point on the
map or chooses their neighbourhood.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from geopy.exc import GeopyError
from sqlalchemy import select

from ..background import enqueue_after_commit, get_redis
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..geocoders import Address, Place, find_address, make_geocoder
from ..geocoders.ratelimit import RateLimited, SharedRateLimiter
from ..models import GeocodeResult, Neighbourhood, Resident
from ..models.base import utcnow
from .neighbourhoods import assign_neighbourhood, get_locator, validate_location
from .transactions import commit

log = logging.getLogger(__name__)

POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")
_NUMBER = r"[1-9][0-9]{0,4}(?:(?:\s*-\s*|\s+)[A-Za-z0-9]{1,6}|[A-Za-z](?:-?[A-Za-z0-9]){0,5})?"
# 12, 12a, 12 A, 12-2, 12 bis (an addition starting with a digit needs a separator: 12-2).
HOUSE_NUMBER = re.compile(
    r"^([1-9][0-9]{0,4})(?:(?:\s*-\s*|\s+)([A-Za-z0-9]{1,6})|([A-Za-z](?:-?[A-Za-z0-9]){0,5}))?$"
)
# "Marktstraat 12a" or "Marktstraat 12-2": the street, then the number with its addition.
ADDRESS_LINE = re.compile(r"^(?P<street>.*?)[\s,]*(?P<number>" + _NUMBER + r")\s*$")
JOB = "mutualaid.jobs.geocode_resident"
# A background job may wait this long for its turn under the rate limit.
JOB_MAX_WAIT_SECONDS = 120.0


# --- Validating an address -------------------------------------------------------------------


def normalise_postcode(value: object, field: str = "postcode") -> str:
    """A Dutch postcode as stored (`7551AB`); Invalid naming the field otherwise."""
    match = POSTCODE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise Invalid(
            "postcode must look like 1234 AB (four digits, two letters)", field=field, rule="format"
        )
    return f"{match.group(1)}{match.group(2).upper()}"


def normalise_house_number(value: object, field: str = "house_number") -> str:
    """A house number with an optional letter or addition (`12`, `12A`, `12-2`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    match = HOUSE_NUMBER.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise Invalid(
            "house_number must be a number from 1 to 99999, optionally with a letter or addition",
            field=field,
            rule="format",
        )
    number, separated, glued = match.group(1), match.group(2), match.group(3)
    if glued:  # 12a, 12a-1: the letter belongs to the number
        return f"{number}{glued.upper()}"
    if separated:  # 12 A is 12A; 12-2 and 12 bis stay apart
        addition = separated.upper()
        return (
            f"{number}{addition}"
            if addition.isalpha() and len(addition) == 1
            else (f"{number}-{addition}")
        )
    return number


def _optional_text(field: str, value: object, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text", field=field, rule="text")
    text = value.strip()
    if len(text) > max_length:
        raise Invalid(
            f"{field} must be at most {max_length} characters", field=field, rule="max_length"
        )
    return text or None


def parse_address(
    postcode: object, house_number: object, street: object = None, city: object = None
) -> Address:
    """A normalised address; one Invalid naming every bad field at once."""
    errors: dict[str, list[str]] = {}
    values = {}
    for name, check in (
        ("postcode", lambda: normalise_postcode(postcode)),
        ("house_number", lambda: normalise_house_number(house_number)),
        ("street", lambda: _optional_text("street", street, 120)),
        ("city", lambda: _optional_text("city", city, 80)),
    ):
        try:
            values[name] = check()
        except Invalid as exc:
            errors[name] = [exc.message]
    if errors:
        first = next(iter(errors))
        raise Invalid(errors[first][0], field=first, rule="format", errors=errors)
    return Address(**values)


def format_postcode(postcode: str | None) -> str | None:
    """`7551AB` as people write it: `7551 AB`."""
    return f"{postcode[:4]} {postcode[4:]}" if postcode and len(postcode) == 6 else postcode


# --- Geocoding, cached and rate-limited ------------------------------------------------------


@dataclass
class GeocodeOutcome:
    """What a lookup found: status `found` | `not_found` | `unavailable`, and the place."""

    status: str
    place: Place | None = None
    neighbourhood_id: int | None = None
    from_cache: bool = False

    @property
    def found(self) -> bool:
        return self.status == "found"

    @property
    def lat(self) -> float | None:
        return self.place.lat if self.place else None

    @property
    def lon(self) -> float | None:
        return self.place.lon if self.place else None

    def raise_if_not_found(self, field: str = "postcode") -> None:
        """Invalid naming the postcode when the address does not exist."""
        if self.status == "not_found":
            raise Invalid(
                "no address with this postcode and house number was found",
                field=field,
                rule="address_exists",
            )


def geocoder_configured() -> bool:
    """Is an address lookup service configured?"""
    return bool(current_app.config.get("GEOCODER"))


def _cache_key(provider: str, address: Address) -> str:
    return f"{provider}|{address.key}"


def _cached(provider: str, address: Address) -> GeocodeResult | None:
    """A fresh cache row: found answers live for days, "not found" only for hours."""
    row = db.session.scalar(
        select(GeocodeResult).where(GeocodeResult.query_key == _cache_key(provider, address))
    )
    if row is None:
        return None
    config = current_app.config
    max_age = (
        timedelta(days=config["GEOCODER_CACHE_DAYS"])
        if row.found
        else timedelta(hours=config["GEOCODER_NOT_FOUND_CACHE_HOURS"])
    )
    return row if utcnow() - row.created_at <= max_age else None


def _remember(provider: str, address: Address, place: Place | None) -> None:
    """Add (or refresh) the cache row in the session; the caller's commit stores it."""
    key = _cache_key(provider, address)
    row = db.session.scalar(select(GeocodeResult).where(GeocodeResult.query_key == key))
    if row is None:
        row = GeocodeResult(query_key=key, provider=provider)
        db.session.add(row)
    row.found = place is not None
    row.created_at = utcnow()
    row.lat = round(place.lat, 6) if place else None
    row.lon = round(place.lon, 6) if place else None
    row.display_name = (place.display_name or "")[:255] or None if place else None
    row.street = (place.street or "")[:120] or None if place else None
    row.postcode = (place.postcode or "")[:7] or None if place else None
    row.neighbourhood_code = place.neighbourhood_code if place else None
    row.municipality_code = place.municipality_code if place else None


def _place_from_row(row: GeocodeResult) -> Place:
    return Place(
        lat=row.lat,
        lon=row.lon,
        display_name=row.display_name,
        street=row.street,
        postcode=row.postcode,
        neighbourhood_code=row.neighbourhood_code,
        municipality_code=row.municipality_code,
    )


def lookup(address: Address, *, timeout: float, max_wait: float, network: bool = True):
    """Cache first, then the provider (politely); the cache row is added, not committed."""
    config = current_app.config
    provider = config.get("GEOCODER")
    if not provider:
        return GeocodeOutcome("unavailable")
    row = _cached(provider, address)
    if row is not None:
        return GeocodeOutcome(
            "found" if row.found else "not_found",
            _place_from_row(row) if row.found else None,
            from_cache=True,
        )
    if not network:
        return GeocodeOutcome("pending")
    limiter = SharedRateLimiter(
        get_redis(),
        f"mutualaid:geocoder:next-slot:{provider}",
        config["GEOCODER_MIN_DELAY_SECONDS"],
    )
    try:
        limiter.wait(max_wait=max_wait)
        geocoder = make_geocoder(
            provider, config["GEOCODER_URL"], timeout, config["NOMINATIM_USER_AGENT"]
        )
        place = find_address(geocoder, address)
    except (GeopyError, RateLimited, OSError, ValueError, KeyError, TypeError) as exc:
        # Timeouts, refused connections, 5xx answers, a malformed answer: not the resident's
        # fault, and not an answer about the address, so nothing is cached.
        log.warning("geocoder %s could not look up an address: %s", provider, exc)
        return GeocodeOutcome("unavailable")
    _remember(provider, address, place)
    return GeocodeOutcome("found" if place else "not_found", place)


def _split_address_line(address_line: str) -> tuple[str | None, str]:
    match = ADDRESS_LINE.match((address_line or "").strip())
    if match is None:
        raise Invalid(
            "the address must end with a house number (for example: Marktstraat 12)",
            field="address_line",
            rule="house_number",
        )
    return match.group("street") or None, match.group("number")


def geocode_address(
    postcode: object,
    house_number: object = None,
    street: object = None,
    city: object = None,
    *,
    address_line: str | None = None,
    timeout: float | None = None,
) -> GeocodeOutcome:
    """Geocode an address now, with a short timeout (a request at another address).

    Adds the cache row to the session without committing (the caller's service commits).
    Also takes `address_line` ("Marktstraat 12a") instead of house_number and street, and the
    positional order (address_line, postcode) that `services/aid.py` uses.
    """

    def looks_like_postcode(value: object) -> bool:
        return isinstance(value, str) and POSTCODE.match(value.strip()) is not None

    if not looks_like_postcode(postcode) and looks_like_postcode(house_number):
        address_line, postcode, house_number = str(postcode), house_number, None
    if house_number is None and address_line is not None:
        street, house_number = _split_address_line(address_line)
    address = parse_address(postcode, house_number, street, city)
    limit = min(current_app.config["GEOCODER_TIMEOUT_SECONDS"], 3.0)
    timeout = limit if timeout is None else timeout
    outcome = lookup(address, timeout=timeout, max_wait=timeout)
    if outcome.found:
        outcome.neighbourhood_id = get_locator().locate(outcome.lat, outcome.lon)
    return outcome


# --- A resident's home -----------------------------------------------------------------------


def _resident(resident_id: int, *, lock: bool = False) -> Resident:
    resident = db.session.get(Resident, resident_id, with_for_update=lock or None)
    if resident is None or resident.erased_at is not None:
        raise NotFound("this resident does not exist", field="resident_id")
    return resident


def _neighbourhood_for(place: Place) -> Neighbourhood | None:
    """Point-in-polygon, checked against the provider's own neighbourhood code.

    Our polygons are generalised (about 100 m); PDOK's `buurtcode` comes from the
    authoritative address register, so where both are known and differ, PDOK's wins.
    """
    located_id = get_locator().locate(place.lat, place.lon)
    located = db.session.get(Neighbourhood, located_id) if located_id else None
    if place.neighbourhood_code and (located is None or located.code != place.neighbourhood_code):
        stated = db.session.scalar(
            select(Neighbourhood).where(Neighbourhood.code == place.neighbourhood_code)
        )
        if stated is not None:
            log.info(
                "geocoder says %s, polygons say %s: using the geocoder's",
                place.neighbourhood_code,
                located.code if located else None,
            )
            return stated
    return located


def _apply_place(resident: Resident, place: Place) -> None:
    neighbourhood = _neighbourhood_for(place)
    resident.home_lat = round(place.lat, 6)
    resident.home_lon = round(place.lon, 6)
    resident.neighbourhood_id = neighbourhood.id if neighbourhood else None
    resident.street = place.street or resident.street
    resident.location_source = "geocoder"
    resident.geocode_status = "found"


def mark_home_for_geocoding(resident: Resident) -> None:
    """Within the caller's transaction: mark the home as pending and enqueue after commit."""
    if not (resident.postcode and resident.house_number):
        return
    if not geocoder_configured():
        resident.geocode_status = "unavailable"
        return
    resident.geocode_status = "pending"
    enqueue_after_commit(db.session, JOB, resident.id, queue="default")


def request_home_geocoding(resident_id: int) -> None:
    """Geocode the resident's stored address in the background (after registration)."""
    mark_home_for_geocoding(_resident(resident_id))
    commit()


def set_home_address(
    resident_id: int,
    postcode: object,
    house_number: object,
    street: object = None,
    city: object = None,
    *,
    lookup_timeout: float | None = None,
) -> Resident:
    """Store the resident's address and geocode it: in the background, or first synchronously
    with `lookup_timeout` (the API), where an address that does not exist is refused (422)."""
    address = parse_address(postcode, house_number, street, city)
    resident = _resident(resident_id)
    outcome = lookup(
        address,
        timeout=lookup_timeout or 0,
        max_wait=lookup_timeout or 0,
        network=lookup_timeout is not None and geocoder_configured(),
    )
    if lookup_timeout is not None and outcome.status == "not_found":
        commit()  # keep the "not found" answer in the cache; nothing of the resident changed
        outcome.raise_if_not_found()
    resident.postcode = address.postcode
    resident.house_number = address.house_number
    resident.street = address.street
    if outcome.found:
        _apply_place(resident, outcome.place)
    elif outcome.status == "not_found":
        resident.geocode_status = "not_found"
    else:
        mark_home_for_geocoding(resident)
    commit()
    return resident


def geocode_resident(resident_id: int) -> dict:
    """The background job: geocode a pending home address and place the resident."""
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None or resident.geocode_status != "pending":
        return {"resident_id": resident_id, "status": "skipped"}
    asked = (resident.postcode, resident.house_number)
    try:
        address = parse_address(resident.postcode, resident.house_number, resident.street)
    except Invalid:
        address = None
    db.session.rollback()  # no transaction stays open while the provider answers
    if address is None:
        outcome = GeocodeOutcome("not_found")
    else:
        config = current_app.config
        outcome = lookup(
            address, timeout=config["GEOCODER_TIMEOUT_SECONDS"], max_wait=JOB_MAX_WAIT_SECONDS
        )
        with contextlib.suppress(Conflict):  # another process cached it a moment ago
            commit()  # the cache row
    resident = _resident(resident_id, lock=True)
    if resident.geocode_status != "pending" or (resident.postcode, resident.house_number) != asked:
        db.session.rollback()  # changed meanwhile: the newer change has its own job
        return {"resident_id": resident_id, "status": "skipped"}
    if outcome.found:
        _apply_place(resident, outcome.place)
    else:
        resident.geocode_status = outcome.status
    commit()
    return {
        "resident_id": resident_id,
        "status": resident.geocode_status,
        "neighbourhood": resident.neighbourhood.code if resident.neighbourhood else None,
    }


def set_home_point(resident_id: int, lat: object, lon: object) -> Resident:
    """The resident placed their home on the map: it must lie in a known neighbourhood."""
    lat, lon = validate_location(lat, lon)
    neighbourhood = assign_neighbourhood(lat, lon)
    resident = _resident(resident_id)
    resident.home_lat, resident.home_lon = round(lat, 6), round(lon, 6)
    resident.neighbourhood_id = neighbourhood.id
    resident.location_source = "map"
    if resident.geocode_status == "pending":
        resident.geocode_status = None  # the resident's own point wins over a late answer
    commit()
    return resident


def set_home_neighbourhood(resident_id: int, neighbourhood_code: object) -> Resident:
    """No map (no JavaScript): the resident chose their neighbourhood; its centre is used."""
    code = neighbourhood_code.strip().upper() if isinstance(neighbourhood_code, str) else ""
    neighbourhood = (
        db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == code)) if code else None
    )
    if neighbourhood is None:
        raise Invalid(
            "choose one of the neighbourhoods in the list",
            field="neighbourhood_code",
            rule="exists",
        )
    resident = _resident(resident_id)
    resident.home_lat, resident.home_lon = neighbourhood.centroid_lat, neighbourhood.centroid_lon
    resident.neighbourhood_id = neighbourhood.id
    # The vocabulary's "area" source: an approximate point, the centre of the chosen area.
    resident.location_source = "postcode_area"
    if resident.geocode_status == "pending":
        resident.geocode_status = None
    commit()
    return resident


def home_location(resident_id: int) -> dict:
    """The resident's own address, status and neighbourhood (for their page and the API)."""
    resident = _resident(resident_id)
    neighbourhood = resident.neighbourhood
    has_point = resident.home_lat is not None and resident.home_lon is not None
    return {
        "status": resident.geocode_status,
        "location_source": resident.location_source,
        "postcode": format_postcode(resident.postcode),
        "house_number": resident.house_number,
        "street": resident.street,
        "has_point": has_point,
        "lat": resident.home_lat,
        "lon": resident.home_lon,
        "neighbourhood": (
            {"code": neighbourhood.code, "name": neighbourhood.name} if neighbourhood else None
        ),
        "in_service_area": neighbourhood is not None,
        "geocoder_configured": geocoder_configured(),
    }


def neighbourhood_choices() -> list[tuple[str, str]]:
    """(code, name) of every imported neighbourhood, by name, for the no-map fallback."""
    rows = db.session.execute(
        select(Neighbourhood.code, Neighbourhood.name).order_by(Neighbourhood.name)
    ).all()
    return [(row.code, row.name) for row in rows]
