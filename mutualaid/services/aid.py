"""Help requests and offers: posting, changing, cancelling, pausing.

Every change that matching must see sets the row's outbox mark (`matching_pending_since`) in the
same transaction and asks for a matching job after commit.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..background import enqueue_after_commit
from ..errors import Conflict, Invalid, NotAllowed, NotFound
from ..extensions import db
from ..models import Category, ConsentRecord, HelpRequest, Offer, Resident, User
from ..models.base import utcnow
from ..models.vocab import CONSENT_METHODS, URGENCIES
from .neighbourhoods import assign_neighbourhood
from .transactions import commit
from .validation import (
    require_choice,
    require_int,
    require_slots,
    require_text,
    require_window,
)

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
    "lat",
    "lon",
)
OFFER_FIELDS = ("categories", "description", "radius_m", "slots", "capacity", "lat", "lon")


def reject_unknown_fields(values: dict, allowed: tuple[str, ...]) -> None:
    """Invalid naming the first field that is not one of `allowed`."""
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}", field=unknown[0], rule="unknown")


def _active_resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None:
        raise NotFound(f"resident {resident_id} does not exist", field="resident_id")
    return resident


def _category(code: str) -> Category:
    category = db.session.scalar(select(Category).where(Category.code == code))
    if category is None or not category.is_active:
        raise Invalid(f"category {code!r} is not a known category", field="category", rule="known")
    return category


def _place(row, resident: Resident, lat, lon) -> None:
    """Location and neighbourhood of a request or offer; defaults to the resident's home."""
    if lat is None and lon is None:
        if resident.home_lat is None:
            raise Invalid(
                "a location is needed (the resident has no home location)",
                field="location",
                rule="required",
            )
        lat, lon = resident.home_lat, resident.home_lon
        row.street = resident.street
    neighbourhood = assign_neighbourhood(lat, lon)
    row.lat, row.lon = float(lat), float(lon)
    row.neighbourhood_id = neighbourhood.id


def mark_request_for_matching(request: HelpRequest) -> None:
    """Outbox: mark the request and ask for a matching job after commit."""
    request.matching_pending_since = utcnow()
    enqueue_after_commit(db.session, "mutualaid.jobs.match_request", request.id, queue="matching")


def mark_offer_for_matching(offer: Offer) -> None:
    """Outbox: mark the offer and ask for a matching job after commit."""
    offer.matching_pending_since = utcnow()
    enqueue_after_commit(db.session, "mutualaid.jobs.match_offer", offer.id, queue="matching")


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


def _apply_request_fields(
    request: HelpRequest, resident: Resident, values: dict, today: date
) -> None:
    if "category" in values:
        category = _category(values["category"])
        request.category_id = category.id
        request.needs_vog = category.requires_vog
    if "description" in values:
        request.description = require_text("description", values["description"], max_length=2000)
    if "slots" in values:
        request.slots = require_slots("slots", values["slots"])
    if "window_start" in values or "window_end" in values:
        request.window_start, request.window_end = require_window(
            values.get("window_start", request.window_start),
            values.get("window_end", request.window_end),
            today,
        )
    if "urgency" in values:
        request.urgency = require_choice("urgency", values["urgency"], URGENCIES)
    if "max_distance_m" in values:
        request.max_distance_m = require_int(
            "max_distance_m", values["max_distance_m"], minimum=100, maximum=50000
        )
    for flag in ("recurring", "needs_shared_language"):
        if flag in values:
            setattr(request, flag, bool(values[flag]))
    if "lat" in values or "lon" in values:
        _place(request, resident, values.get("lat"), values.get("lon"))


def post_request(
    requester_id: int,
    *,
    registered_by_user_id: int | None = None,
    consent_method: str | None = None,
    **values,
) -> HelpRequest:
    """Store a new help request and queue it for matching (after commit)."""
    reject_unknown_fields(values, REQUEST_FIELDS)
    if "category" not in values:
        raise Invalid("category is required", field="category", rule="required")
    resident = _active_resident(requester_id)
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
    _apply_request_fields(request, resident, values, utcnow().date())
    if resident.first_active_at is None:
        resident.first_active_at = utcnow()
    db.session.add(request)
    db.session.flush()
    mark_request_for_matching(request)
    commit()
    return request


def update_request(request_id: int, requester_id: int, **values) -> HelpRequest:
    """Change an open request; it is matched again."""
    request = _own_request(request_id, requester_id)
    if request.status != "open":
        raise Conflict(
            f"only open requests can be changed; this one is {request.status}",
            field="status",
            rule="open",
        )
    reject_unknown_fields(values, REQUEST_FIELDS)
    _apply_request_fields(request, request.requester, values, utcnow().date())
    mark_request_for_matching(request)
    commit()
    return request


def cancel_request(request_id: int, requester_id: int) -> HelpRequest:
    """Cancel an open or matched request (its matches are cancelled by the matching service)."""
    request = _own_request(request_id, requester_id)
    if request.status not in ("open", "matched"):
        raise Conflict(
            f"a {request.status} request cannot be cancelled", field="status", rule="cancellable"
        )
    request.status = "cancelled"
    request.closed_at = utcnow()
    request.matching_pending_since = None
    commit()
    return request


def _own_request(request_id: int, requester_id: int) -> HelpRequest:
    request = db.session.get(HelpRequest, request_id)
    if request is None:
        raise NotFound(f"request {request_id} does not exist", field="request_id")
    if request.requester_id != requester_id:
        raise NotAllowed("this is not your request", field="request_id")
    return request


def _apply_offer_fields(offer: Offer, resident: Resident, values: dict) -> None:
    if "categories" in values:
        codes = values["categories"]
        if not isinstance(codes, list | tuple) or not codes:
            raise Invalid(
                "categories must list at least one category", field="categories", rule="required"
            )
        try:
            offer.categories = [_category(code) for code in dict.fromkeys(codes)]
        except Invalid as exc:
            raise Invalid(exc.message, field="categories", rule="known") from None
    if "description" in values:
        offer.description = require_text(
            "description", values["description"], max_length=2000, required=False
        )
    if "radius_m" in values:
        offer.radius_m = require_int("radius_m", values["radius_m"], minimum=100, maximum=50000)
    if "slots" in values:
        offer.slots = require_slots("slots", values["slots"])
    if "capacity" in values:
        offer.capacity = require_int("capacity", values["capacity"], minimum=1, maximum=20)
    if "lat" in values or "lon" in values:
        _place(offer, resident, values.get("lat"), values.get("lon"))


def post_offer(helper_id: int, **values) -> Offer:
    """Store a new offer of help and queue matching for the open requests it may serve."""
    reject_unknown_fields(values, OFFER_FIELDS)
    if "categories" not in values:
        raise Invalid("categories is required", field="categories", rule="required")
    resident = _active_resident(helper_id)
    offer = Offer(helper_id=resident.id, language_mask=resident.language_mask, is_active=True)
    values.setdefault("lat", None)
    values.setdefault("lon", None)
    _apply_offer_fields(offer, resident, values)
    if resident.first_active_at is None:
        resident.first_active_at = utcnow()
    db.session.add(offer)
    db.session.flush()
    mark_offer_for_matching(offer)
    commit()
    return offer


def update_offer(offer_id: int, helper_id: int, **values) -> Offer:
    """Change an offer (categories, radius, times, capacity, place, active/paused)."""
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise NotFound(f"offer {offer_id} does not exist", field="offer_id")
    if offer.helper_id != helper_id:
        raise NotAllowed("this is not your offer", field="offer_id")
    active = values.pop("is_active", None)
    reject_unknown_fields(values, OFFER_FIELDS)
    _apply_offer_fields(offer, offer.helper, values)
    if active is not None:
        offer.is_active = bool(active)
    mark_offer_for_matching(offer)
    commit()
    return offer
