"""Geocoders: turn a Dutch postcode and house number into a point (geopy classes, no Flask).

Two providers: `pdok` (the PDOK Locatieserver, see `pdok.py`) and `nominatim` (geopy's own).
`find_address()` asks one of them and returns a provider-neutral `Place`, or None when the
address does not exist. Errors reaching the provider surface as geopy exceptions
(`geopy.exc.GeopyError`: timeouts, refused connections, 5xx answers).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from .pdok import PdokLocatieserver, parse_point

# urllib3 warns on each retry with the request's URL, and a geocoder's URL holds the address
# asked (postcode and house number): only its errors may reach the logs.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)

__all__ = [
    "PROVIDERS",
    "Address",
    "PdokLocatieserver",
    "Place",
    "find_address",
    "make_geocoder",
    "parse_point",
]

PROVIDERS = ("pdok", "nominatim")
DEFAULT_URLS = {"pdok": "https://api.pdok.nl", "nominatim": "https://nominatim.openstreetmap.org"}


@dataclass(frozen=True)
class Address:
    """A normalised Dutch address query: postcode `7551AB`, house number `12` or `12A`."""

    postcode: str
    house_number: str
    street: str | None = None
    city: str | None = None

    @property
    def key(self) -> str:
        """The normalised query, as used in the cache key (`7551AB 12A`)."""
        return f"{self.postcode} {self.house_number}"

    @property
    def number(self) -> int:
        return int(re.match(r"\d+", self.house_number).group(0))


@dataclass(frozen=True)
class Place:
    """A geocoder's answer, whatever the provider."""

    lat: float
    lon: float
    display_name: str | None = None
    street: str | None = None
    postcode: str | None = None
    neighbourhood_code: str | None = None
    municipality_code: str | None = None


def make_geocoder(provider: str, base_url: str, timeout: float, user_agent: str) -> Geocoder:
    """A geopy geocoder for the provider at base_url (scheme, host and optional path)."""
    parts = urlsplit(base_url or DEFAULT_URLS[provider])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"geocoder URL must be http(s)://host[:port][/path], got {base_url!r}")
    domain = parts.netloc + parts.path.rstrip("/")
    cls = {"pdok": PdokLocatieserver, "nominatim": Nominatim}[provider]
    return cls(domain=domain, scheme=parts.scheme, timeout=timeout, user_agent=user_agent)


def _squash(value: object) -> str:
    return re.sub(r"[\s\-]", "", str(value or "")).upper()


def _pdok_place(doc: dict) -> Place:
    lat, lon = parse_point(doc["centroide_ll"])
    municipality = doc.get("gemeentecode")
    return Place(
        lat=lat,
        lon=lon,
        display_name=doc.get("weergavenaam"),
        street=doc.get("straatnaam"),
        postcode=doc.get("postcode"),
        neighbourhood_code=doc.get("buurtcode"),
        municipality_code=f"GM{municipality}" if municipality else None,
    )


def _find_pdok(geocoder: PdokLocatieserver, address: Address) -> Place | None:
    # A free search ranks near misses too (another number, a similar postcode): take only a
    # document that is exactly this postcode and house number (with its addition, if any).
    locations = geocoder.geocode(f"{address.postcode} {address.house_number}", exactly_one=False)
    for location in locations or []:
        doc = location.raw
        if _squash(doc.get("postcode")) != address.postcode:
            continue
        if str(doc.get("huisnummer")) != str(address.number):
            continue
        if address.house_number != str(address.number) and _squash(doc.get("huis_nlt")) != _squash(
            address.house_number
        ):
            continue
        return _pdok_place(doc)
    return None


def _find_nominatim(geocoder: Nominatim, address: Address) -> Place | None:
    query = {"postalcode": f"{address.postcode[:4]} {address.postcode[4:]}", "country": "nl"}
    if address.street:
        query["street"] = f"{address.house_number} {address.street}"
    if address.city:
        query["city"] = address.city
    location: Location | None = geocoder.geocode(
        query, exactly_one=True, addressdetails=True, country_codes="nl"
    )
    if location is None:
        return None
    details = location.raw.get("address") or {}
    postcode = _squash(details.get("postcode"))
    # OpenStreetMap postcodes are often only the four digits: compare what is there.
    if postcode and postcode[:4] != address.postcode[:4]:
        return None
    return Place(
        lat=location.latitude,
        lon=location.longitude,
        display_name=location.address,
        street=details.get("road"),
        postcode=postcode or None,
    )


def find_address(geocoder: Geocoder, address: Address) -> Place | None:
    """Look the address up; None when the provider knows no such address."""
    if isinstance(geocoder, PdokLocatieserver):
        return _find_pdok(geocoder, address)
    return _find_nominatim(geocoder, address)
