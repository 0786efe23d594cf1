"""Offers of help (hulpaanbod): posting, changing, pausing and resuming.

Someone else's offer is reported as not found. Every change is matched again (outbox).
"""

from __future__ import annotations

from sqlalchemy import update

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Match, Offer, Resident
from ..models.base import utcnow
from ..models.vocab import language_mask
from .aid_common import (
    active_resident,
    category_by_code,
    mark_offer_for_matching,
    place_row,
    reject_unknown_fields,
)
from .transactions import commit
from .validation import require_int, require_slots, require_text

OFFER_FIELDS = (
    "categories",
    "description",
    "radius_m",
    "slots",
    "capacity",
    "languages",
    "lat",
    "lon",
)


def _language_mask(codes) -> int:
    """The bitmask of a list of ISO language codes; Invalid naming `languages`."""
    try:
        mask = language_mask(codes) if isinstance(codes, list | tuple) else 0
    except ValueError as exc:
        raise Invalid(str(exc), field="languages", rule="known") from None
    if not mask:
        raise Invalid(
            "languages must list at least one language", field="languages", rule="required"
        )
    return mask


def _apply_offer_fields(offer: Offer, resident: Resident, values: dict) -> None:
    if "categories" in values:
        codes = values["categories"]
        if not isinstance(codes, list | tuple) or not codes:
            raise Invalid(
                "categories must list at least one category", field="categories", rule="required"
            )
        try:
            offer.categories = [category_by_code(code) for code in dict.fromkeys(codes)]
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
        if not offer.slots:
            raise Invalid(
                "choose at least one day-part when you are free", field="slots", rule="required"
            )
    if "capacity" in values:
        offer.capacity = require_int("capacity", values["capacity"], minimum=1, maximum=20)
    if "languages" in values:
        offer.language_mask = _language_mask(values["languages"])
    if "lat" in values or "lon" in values:
        place_row(offer, resident, values.get("lat"), values.get("lon"))


def post_offer(helper_id: int, **values) -> Offer:
    """Store a new offer of help and queue matching for the open requests it may serve.

    Fields: categories (codes), description, radius_m, slots (21-bit week grid), capacity,
    languages (ISO codes; default the helper's own), lat+lon (default home).
    """
    reject_unknown_fields(values, OFFER_FIELDS)
    if "categories" not in values:
        raise Invalid("categories is required", field="categories", rule="required")
    resident = active_resident(helper_id)
    offer = Offer(helper_id=resident.id, language_mask=resident.language_mask, is_active=True)
    values.setdefault("lat", None)
    values.setdefault("lon", None)
    with db.session.no_autoflush:
        _apply_offer_fields(offer, resident, values)
    if resident.first_active_at is None:
        resident.first_active_at = utcnow()
    db.session.add(offer)
    db.session.flush()
    mark_offer_for_matching(offer)
    commit()
    return offer


def own_offer(offer_id: int, helper_id: int) -> Offer:
    """The helper's own offer; NotFound for a missing one or someone else's."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.helper_id != helper_id:
        raise NotFound(f"offer {offer_id} does not exist", field="offer_id")
    return offer


def update_offer(offer_id: int, helper_id: int, **values) -> Offer:
    """Change an offer (categories, radius, times, capacity, languages, place, active/paused)."""
    offer = own_offer(offer_id, helper_id)
    active = values.pop("is_active", None)
    reject_unknown_fields(values, OFFER_FIELDS)
    with db.session.no_autoflush:
        _apply_offer_fields(offer, offer.helper, values)
    if active is not None:
        offer.is_active = bool(active)
        if not offer.is_active:
            _expire_offer_suggestions(offer.id)
    mark_offer_for_matching(offer)
    commit()
    return offer


def _expire_offer_suggestions(offer_id: int) -> None:
    """A paused offer is not suggested any more (invited and accepted matches go on)."""
    db.session.execute(
        update(Match)
        .where(Match.offer_id == offer_id, Match.status == "suggested")
        # The reason lets the engine bring these back when the offer is resumed (suggestions.py).
        .values(status="expired", status_reason="the offer was paused", status_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def pause_offer(offer_id: int, helper_id: int) -> Offer:
    """Pause an offer: no new suggestions or invitations until it is resumed."""
    return update_offer(offer_id, helper_id, is_active=False)


def resume_offer(offer_id: int, helper_id: int) -> Offer:
    """Resume a paused offer; it is matched again."""
    return update_offer(offer_id, helper_id, is_active=True)
