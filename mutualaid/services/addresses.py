"""Dutch addresses: validating a postcode and house number, and geocoding them through the
configured provider, with a cache (`geocode_results`) and a rate limit shared through Redis.

`geocode_address()` is the synchronous lookup with a short timeout (a request at another
address); the resident's home is geocoded in the background (`services/geocoding.py`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from geopy.exc import GeopyError
from sqlalchemy import select

from ..background import get_redis
from ..errors import Invalid
from ..extensions import db
from ..geocoders import Address, Place, find_address, make_geocoder
from ..geocoders.ratelimit import RateLimited, SharedRateLimiter
from ..models import GeocodeResult
from ..models.base import utcnow
from .neighbourhoods import get_locator

log = logging.getLogger(__name__)

POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")
_NUMBER = r"[1-9][0-9]{0,4}(?:(?:\s*-\s*|\s+)[A-Za-z0-9]{1,6}|[A-Za-z](?:-?[A-Za-z0-9]){0,5})?"
# 12, 12a, 12 A, 12-2, 12 bis (an addition starting with a digit needs a separator: 12-2).
HOUSE_NUMBER = re.compile(
    r"^([1-9][0-9]{0,4})(?:(?:\s*-\s*|\s+)([A-Za-z0-9]{1,6})|([A-Za-z](?:-?[A-Za-z0-9]){0,5}))?$"
)
# "Marktstraat 12a" or "Marktstraat 12-2": the street, then the number with its addition.
ADDRESS_LINE = re.compile(r"^(?P<street>.*?)[\s,]*(?P<number>" + _NUMBER + r")\s*$")


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
        # Only the kind of failure: an error's text can hold the URL, i.e. the address asked.
        log.warning("geocoder %s could not look up an address: %s", provider, type(exc).__name__)
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


def forget_cached_address(
    postcode: str | None, house_number: str | None = None, *, address_line: str | None = None
) -> int:
    """Delete the cached answers for an address, every provider (on erasure); no commit.

    A cached address is linked to nobody, but once its resident is erased nothing should
    remain that says someone here once used the service."""
    try:
        if house_number is None and address_line is not None:
            _, house_number = _split_address_line(address_line)
        address = parse_address(postcode, house_number)
    except Invalid:
        return 0  # never stored in this form, so never cached
    result = db.session.execute(
        GeocodeResult.__table__.delete().where(GeocodeResult.query_key.like(f"%|{address.key}"))
    )
    return result.rowcount or 0
