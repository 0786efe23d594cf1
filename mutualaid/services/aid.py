"""Help requests (hulpvragen): posting, changing, cancelling.

Every change that matching must see sets the row's outbox mark (`matching_pending_since`) in the
same transaction and asks for a matching job after commit. Someone else's request is reported as
not found (never as forbidden): its existence is not the caller's business. Offers live in
`offers.py` and are re-exported here for older callers.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from ..errors import Conflict, Invalid, NotAllowed, NotFound
from ..extensions import db
from ..models import Category, ConsentRecord, HelpRequest, Match, Resident, User
from ..models.base import utcnow
from ..models.vocab import CHANNELS, CONSENT_METHODS, URGENCIES
from . import geocoding
from .aid_common import (
    LIVE_MATCH_STATUSES,
    active_resident,
    category_by_code,
    mark_offer_for_matching,
    mark_request_for_matching,
    parse_date,
    place_row,
    reject_unknown_fields,
)
from .neighbourhoods import validate_location
from .offers import (
    OFFER_FIELDS,
    own_offer,
    pause_offer,
    post_offer,
    resume_offer,
    update_offer,
)
from .transactions import commit
from .validation import (
    require_choice,
    require_int,
    require_slots,
    require_text,
    require_window,
)

__all__ = [
    "OFFER_FIELDS",
    "REQUEST_FIELDS",
    "cancel_request",
    "end_live_matches",
    "mark_offer_for_matching",
    "mark_request_for_matching",
    "own_offer",
    "own_request",
    "pause_offer",
    "post_offer",
    "post_request",
    "reject_unknown_fields",
    "resume_offer",
    "update_offer",
    "update_request",
]

REQUEST_FIELDS = (
    "category",
    "description",
    "slots",
    "window_start",
    "window_end",
    "urgency",
    "max_distance_m",
    "recurring",
    "needs_shared_language",
    "needs_vog",
    "contact_channel",
    "address_line",
    "postcode",
    "lat",
    "lon",
)
POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")


def normalise_postcode(value) -> str:
    """A Dutch postcode as stored: four digits and two capitals, no space ("7551AB")."""
    match = POSTCODE.match((value or "").strip()) if isinstance(value, str) else None
    if match is None:
        raise Invalid(
            "postcode must look like 1234 AB (four digits, two letters)",
            field="postcode",
            rule="format",
        )
    return f"{match.group(1)}{match.group(2).upper()}"


def _geocode(address_line: str, postcode: str) -> tuple[float, float] | None:
    """The point of another address from the geocoder (`services/geocoding.py`); None when
    it cannot answer now (the resident then places the point on the map). An address that
    does not exist is Invalid naming the postcode."""
    try:
        outcome = geocoding.geocode_address(address_line, postcode)
    except Invalid:
        raise
    except Exception:  # an unreachable geocoder must not lose the request: ask for a point
        return None
    outcome.raise_if_not_found(field="postcode")
    return (outcome.lat, outcome.lon) if outcome.found else None


def _place_request(request: HelpRequest, resident: Resident, values: dict) -> None:
    """Home (default), a point on the map, or another address (geocoded, else a point)."""
    lat, lon = values.get("lat"), values.get("lon")
    address = values.get("address_line")
    if address is None and values.get("postcode") is None:
        if "address_line" in values or "postcode" in values:  # explicitly back to home
            request.address_line = request.postcode = None
        if lat is None and lon is None:
            request.location_source = resident.location_source
        else:
            request.location_source = "map"
            request.street = None
        place_row(request, resident, lat, lon)
        return
    request.address_line = require_text("address_line", address, max_length=200)
    request.postcode = normalise_postcode(values.get("postcode"))
    request.street = None  # the street of another address is part of the private address
    if lat is not None or lon is not None:
        validate_location(lat, lon)
        request.location_source = "map"
    else:
        point = _geocode(request.address_line, request.postcode)
        if point is None:
            raise Invalid(
                "this address could not be placed on the map; choose the place on the map",
                field="lat",
                rule="required",
            )
        lat, lon = point
        request.location_source = "geocoder"
    place_row(request, resident, lat, lon)


def _check_on_behalf(worker_id: int, resident: Resident, consent_method: str | None) -> None:
    worker = db.session.get(User, worker_id)
    if worker is None or worker.role not in ("worker", "admin"):
        raise NotAllowed(
            "only community workers register requests on someone's behalf",
            field="registered_by_user_id",
        )
    if worker.role == "worker" and resident.neighbourhood_id not in {
        n.id for n in worker.neighbourhoods
    }:
        raise NotAllowed(
            "this resident lives outside your neighbourhoods",
            field="resident_id",
            rule="neighbourhood_scope",
        )
    require_choice("consent_method", consent_method, CONSENT_METHODS)


def _apply_when(request: HelpRequest, values: dict, today: date) -> None:
    if "slots" in values:
        request.slots = require_slots("slots", values["slots"])
    if "window_start" in values or "window_end" in values:
        request.window_start, request.window_end = require_window(
            parse_date("window_start", values.get("window_start", request.window_start)),
            parse_date("window_end", values.get("window_end", request.window_end)),
            today,
        )
    # An explicitly empty grid without a dated window says "never": that cannot be matched.
    if "slots" in values and not request.slots and request.window_start is None:
        raise Invalid(
            "choose at least one day-part in the week grid, or a date window",
            field="slots",
            rule="required",
        )


def _apply_request_fields(
    request: HelpRequest, resident: Resident, values: dict, today: date
) -> None:
    if "category" in values:
        category = category_by_code(values["category"])
        request.category_id = category.id
        request.category = category
    if "description" in values:
        request.description = require_text("description", values["description"], max_length=2000)
    _apply_when(request, values, today)
    if "urgency" in values:
        request.urgency = require_choice("urgency", values["urgency"], URGENCIES)
    if "max_distance_m" in values:
        request.max_distance_m = require_int(
            "max_distance_m", values["max_distance_m"], minimum=100, maximum=50000
        )
    if "contact_channel" in values:
        channel = values["contact_channel"]
        request.contact_channel = (
            None if channel is None else require_choice("contact_channel", channel, CHANNELS)
        )
    for flag in ("recurring", "needs_shared_language", "needs_vog"):
        if flag in values:
            setattr(request, flag, bool(values[flag]))
    # Some categories (childminding) always need a VOG-checked helper, whatever was asked.
    category = request.category or db.session.get(Category, request.category_id)
    if category is not None and category.requires_vog:
        request.needs_vog = True
    if any(key in values for key in ("lat", "lon", "address_line", "postcode")):
        _place_request(request, resident, values)


def post_request(
    requester_id: int,
    *,
    registered_by_user_id: int | None = None,
    consent_method: str | None = None,
    **values,
) -> HelpRequest:
    """Store a new help request and queue it for matching (after commit).

    Fields: category (code), description, slots (21-bit week grid; omit for "any time"),
    window_start/window_end (dates or ISO strings), recurring, urgency (low/normal/high),
    needs_vog (forced on by some categories), needs_shared_language, contact_channel
    (phone/message/video/in_person), max_distance_m, and where: nothing (home), lat+lon (a point
    on the map) or address_line+postcode (another address, geocoded; lat+lon when no geocoder).
    """
    reject_unknown_fields(values, REQUEST_FIELDS)
    if "category" not in values:
        raise Invalid("category is required", field="category", rule="required")
    values.setdefault("description", "")
    resident = active_resident(requester_id)
    request = HelpRequest(requester_id=resident.id, status="open", description="")
    if registered_by_user_id is not None:
        _check_on_behalf(registered_by_user_id, resident, consent_method)
        consent = ConsentRecord(
            resident_id=resident.id,
            purpose="matching",
            method=consent_method,
            recorded_by_user_id=registered_by_user_id,
        )
        db.session.add(consent)
        request.registered_by_user_id = registered_by_user_id
        request.consent = consent
    values.setdefault("lat", None)
    values.setdefault("lon", None)
    with db.session.no_autoflush:
        _apply_request_fields(request, resident, values, utcnow().date())
    if resident.first_active_at is None:
        resident.first_active_at = utcnow()
    db.session.add(request)
    db.session.flush()
    mark_request_for_matching(request)
    commit()
    return request


def own_request(request_id: int, requester_id: int) -> HelpRequest:
    """The requester's own request; NotFound for a missing one or someone else's."""
    request = db.session.get(HelpRequest, request_id)
    if request is None or request.requester_id != requester_id:
        raise NotFound(f"request {request_id} does not exist", field="request_id")
    return request


_own_request = own_request  # older name, kept for callers written before the rename


def update_request(request_id: int, requester_id: int, **values) -> HelpRequest:
    """Change an open request (same fields as post_request); it is matched again."""
    request = own_request(request_id, requester_id)
    if request.status != "open":
        raise Conflict(
            f"only open requests can be changed; this one is {request.status}",
            field="status",
            rule="open",
        )
    reject_unknown_fields(values, REQUEST_FIELDS)
    with db.session.no_autoflush:
        _apply_request_fields(request, request.requester, values, utcnow().date())
    mark_request_for_matching(request)
    commit()
    return request


def end_live_matches(request_id: int, status: str, reason: str) -> list[Match]:
    """Close the live matches of a request (not committed); returns those a helper knew of."""
    now = utcnow()
    told = []
    for match in db.session.scalars(
        select(Match).where(Match.request_id == request_id, Match.status.in_(LIVE_MATCH_STATUSES))
    ):
        if match.status in ("invited", "accepted") or match.invited_by == "service":
            told.append(match)
        match.status = status if match.status != "suggested" else "expired"
        match.status_reason = reason
        match.status_changed_at = now
    return told


def cancel_request(request_id: int, requester_id: int) -> HelpRequest:
    """Cancel an open or matched request; its live matches end and their helpers are told."""
    request = own_request(request_id, requester_id)
    if request.status not in ("open", "matched"):
        raise Conflict(
            f"a {request.status} request cannot be cancelled", field="status", rule="cancellable"
        )
    request.status = "cancelled"
    request.closed_at = utcnow()
    request.matching_pending_since = None
    told = end_live_matches(request.id, "cancelled", "the request was cancelled")
    commit()
    from .notifications import notify  # notify commits per channel: only after our commit

    category = db.session.get(Category, request.category_id)
    for match in told:
        notify(
            match.helper_id,
            "request_cancelled",
            f"request_cancelled:{request.id}:{match.helper_id}",
            f"Hulpvraag ingetrokken: {category.name_nl}",
            "De buurtgenoot heeft de hulpvraag ingetrokken. U hoeft niets te doen. "
            "Bedankt dat u wilde helpen.",
            request_id=request.id,
            match_id=match.id,
        )
    return request
