"""Address to location for a resident's home: by the geocoder (in a background job), by a
point on the map, or by choosing a neighbourhood (no JavaScript).

The provider is configured (`GEOCODER` = pdok | nominatim | "" for off). When none is
configured or it cannot be reached, the status is `unavailable` and the resident places the
point on the map or chooses their neighbourhood. Lookups, the cache and the rate limit live in
`services/addresses.py`; `geocode_address` is re-exported here for the request service.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from .. import background
from ..background import enqueue_after_commit
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..geocoders import Place
from ..models import Neighbourhood, Resident
from ..models.base import utcnow
from .addresses import (
    GeocodeOutcome,
    format_postcode,
    geocode_address,
    geocoder_configured,
    lookup,
    normalise_house_number,
    normalise_postcode,
    parse_address,
)
from .neighbourhoods import assign_neighbourhood, get_locator, validate_location
from .transactions import commit

# Re-exported: the request, registration and intake services import them from here.
__all__ = [
    "GeocodeOutcome",
    "geocode_address",
    "normalise_house_number",
    "normalise_postcode",
    "parse_address",
]

log = logging.getLogger(__name__)

JOB = "mutualaid.jobs.geocode_resident"
# A background job may wait this long for its turn under the rate limit.
JOB_MAX_WAIT_SECONDS = 120.0
# The API answers an address at once when the provider does within this time (else: later).
API_LOOKUP_SECONDS = 3.0


# --- A resident's home -----------------------------------------------------------------------


def _resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
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
        timeout=min(lookup_timeout or 0, current_app.config["GEOCODER_TIMEOUT_SECONDS"]),
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
    resident = db.session.get(Resident, resident_id, with_for_update=True)
    if (
        resident is None
        or resident.erased_at is not None  # erased meanwhile: nothing to place
        or resident.geocode_status != "pending"
        or (resident.postcode, resident.house_number) != asked
    ):
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


def location_page(resident_id: int) -> dict:
    """Everything the address page shows: the resident's own location and the fallback list."""
    return {"location": home_location(resident_id), "neighbourhoods": neighbourhood_choices()}


def neighbourhood_features() -> dict:
    """The imported neighbourhoods as a GeoJSON FeatureCollection (public CBS data) for maps."""
    rows = db.session.execute(
        select(Neighbourhood.code, Neighbourhood.name, Neighbourhood.geometry_geojson).order_by(
            Neighbourhood.code
        )
    ).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": row.code, "name": row.name},
                "geometry": json.loads(row.geometry_geojson),
            }
            for row in rows
        ],
    }


def sweep_pending_geocoding(min_age_seconds: int = 300, limit: int = 1000) -> int:
    """Enqueue geocoding again for homes still pending after a while (Redis was down when
    the address was saved, or a worker died). Duplicates are harmless: the job skips homes
    that are no longer pending."""
    if not geocoder_configured():
        return 0
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    ids = list(
        db.session.scalars(
            select(Resident.id)
            .where(
                Resident.geocode_status == "pending",
                Resident.updated_at <= cutoff,
                Resident.erased_at.is_(None),
            )
            .order_by(Resident.updated_at)
            .limit(limit)
        )
    )
    db.session.rollback()  # read-only: end the transaction before talking to Redis
    for resident_id in ids:
        background.enqueue(JOB, resident_id, queue="default")
    return len(ids)
