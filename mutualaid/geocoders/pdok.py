"""The PDOK Locatieserver (the Dutch government's address service) as a geopy geocoder."""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import urlencode

from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

DEFAULT_DOMAIN = "api.pdok.nl"
# `POINT(6.79360000 52.26560000)`: WGS84, longitude first.
_POINT = re.compile(
    r"^\s*POINT\s*\(\s*(-?[\d.]+(?:[eE]-?\d+)?)\s+(-?[\d.]+(?:[eE]-?\d+)?)\s*\)\s*$"
)


def parse_point(wkt: str) -> tuple[float, float]:
    """(lat, lon) from PDOK's `centroide_ll` (`POINT(lon lat)`); ValueError when malformed."""
    match = _POINT.match(wkt or "")
    if not match:
        raise ValueError(f"not a WKT point: {wkt!r}")
    lon, lat = float(match.group(1)), float(match.group(2))
    return lat, lon


class PdokLocatieserver(Geocoder):
    """Geocoder for the PDOK Locatieserver `free` search (version 3.1).

    Documentation: https://github.com/PDOK/locatieserver/wiki/API-Locatieserver

    `geocode()` returns a `geopy.location.Location` whose `.raw` is the PDOK document (with
    `weergavenaam`, `straatnaam`, `huisnummer`, `postcode`, `buurtcode`, `gemeentecode`, ...).
    """

    api_path = "/bzk/locatieserver/search/v3_1/free"

    def __init__(
        self,
        *,
        domain: str = DEFAULT_DOMAIN,
        scheme: str | None = None,
        timeout=DEFAULT_SENTINEL,
        proxies=DEFAULT_SENTINEL,
        user_agent: str | None = None,
        ssl_context=DEFAULT_SENTINEL,
        adapter_factory=None,
    ) -> None:
        super().__init__(
            scheme=scheme,
            timeout=timeout,
            proxies=proxies,
            user_agent=user_agent,
            ssl_context=ssl_context,
            adapter_factory=adapter_factory,
        )
        # A domain may carry a path prefix (a self-hosted mirror behind a proxy).
        self.domain = domain.strip("/")
        self.api = f"{self.scheme}://{self.domain}{self.api_path}"

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout=DEFAULT_SENTINEL,
        rows: int | None = None,
        fq: str | None = "type:adres",
    ):
        """Search addresses (`fq=type:adres` by default); None when nothing matches."""
        params: dict[str, object] = {"q": query, "rows": rows or (1 if exactly_one else 10)}
        if fq:
            params["fq"] = fq
        url = "?".join((self.api, urlencode(params)))
        callback = partial(self._parse_json, exactly_one=exactly_one)
        return self._call_geocoder(url, callback, timeout=timeout)

    def _parse_json(self, page: dict, exactly_one: bool):
        docs = (page or {}).get("response", {}).get("docs") or []
        locations = [self._parse_doc(doc) for doc in docs if doc.get("centroide_ll")]
        if not locations:
            return None
        return locations[0] if exactly_one else locations

    @staticmethod
    def _parse_doc(doc: dict) -> Location:
        lat, lon = parse_point(doc["centroide_ll"])
        return Location(doc.get("weergavenaam"), (lat, lon), doc)
