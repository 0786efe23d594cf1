"""What requests and offers share: field checks, the owner, the place, the outbox mark."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..background import enqueue_after_commit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Category, HelpRequest, Offer, Resident
from ..models.base import utcnow
from .neighbourhoods import assign_neighbourhood

# Matches that end when their request or offer ends.
LIVE_MATCH_STATUSES = ("suggested", "invited", "accepted")


def reject_unknown_fields(values: dict, allowed: tuple[str, ...]) -> None:
    """Invalid naming the first field that is not one of `allowed`."""
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}", field=unknown[0], rule="unknown")


def active_resident(resident_id: int) -> Resident:
    """The resident, unless missing or erased (NotFound)."""
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None:
        raise NotFound(f"resident {resident_id} does not exist", field="resident_id")
    return resident


def category_by_code(code: str) -> Category:
    """The active category with this code; Invalid naming `category` otherwise."""
    category = db.session.scalar(select(Category).where(Category.code == code))
    if category is None or not category.is_active:
        raise Invalid(f"category {code!r} is not a known category", field="category", rule="known")
    return category


def place_row(row, resident: Resident, lat, lon) -> None:
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


def parse_date(field: str, value) -> date | None:
    """A date from a date or an ISO string (YYYY-MM-DD); None stays None."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(f"{field} must be a date (YYYY-MM-DD)", field=field, rule="date") from None
