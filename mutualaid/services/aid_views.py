"""Read-only views of a resident's own requests and offers, plus the shared view helpers
(pagination, distance bands, "when" in words) that the helping views use too.

Views are plain dicts (JSON-ready apart from dates): the pages and the API render the same.
Someone else's request or offer is NotFound.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..errors import Invalid
from ..extensions import db
from ..matching import describe_slots
from ..models import Category, HelpRequest, Match, Neighbourhood, Offer
from ..models.vocab import ALL_SLOTS, language_codes
from .aid import own_offer, own_request

LANGUAGES = ("nl", "en")
# Distance bands shown to residents: the upper bound in metres (the last one is open-ended).
DISTANCE_BANDS = (500, 1000, 2000, 5000)
_BAND_LABELS = {
    "nl": ("minder dan 500 m", "500 m tot 1 km", "1 tot 2 km", "2 tot 5 km", "meer dan 5 km"),
    "en": ("less than 500 m", "500 m to 1 km", "1 to 2 km", "2 to 5 km", "more than 5 km"),
}
MAX_PER_PAGE = 100
# What the request and offer views read besides the row, loaded with it (the neighbourhood's
# name only, not its boundary): a list of them costs a fixed number of statements.
REQUEST_LIST_LOADS = (
    joinedload(HelpRequest.category),
    joinedload(HelpRequest.neighbourhood).load_only(Neighbourhood.id, Neighbourhood.name),
)
OFFER_VIEW_LOADS = (
    selectinload(Offer.categories),
    joinedload(Offer.neighbourhood).load_only(Neighbourhood.id, Neighbourhood.name),
)


def language_or_default(language: str | None) -> str:
    """nl or en (Dutch unless English is asked for)."""
    return language if language in LANGUAGES else "nl"


def require_page(page, per_page) -> tuple[int, int]:
    """Valid page and per_page numbers (per_page at most MAX_PER_PAGE)."""
    for field, value, maximum in (("page", page, 100_000), ("per_page", per_page, MAX_PER_PAGE)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise Invalid(
                f"{field} must be a whole number from 1 to {maximum}", field=field, rule="range"
            )
    return page, per_page


def paginate(statement, page: int, per_page: int) -> tuple[list, int]:
    """One page of the rows of a select, and the total number of rows."""
    page, per_page = require_page(page, per_page)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total or 0


def page_of(items: list, page: int, per_page: int, total: int) -> dict:
    """The page dict every list view returns."""
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def distance_band(distance_m: float | None) -> int | None:
    """The band's upper bound in metres (None: farther than the last band or unknown)."""
    if distance_m is None:
        return None
    return next((bound for bound in DISTANCE_BANDS if distance_m < bound), None)


def distance_band_label(distance_m: float | None, language: str = "nl") -> str | None:
    """A distance band in words ("1 tot 2 km"); never the exact distance."""
    if distance_m is None:
        return None
    labels = _BAND_LABELS[language_or_default(language)]
    band = distance_band(distance_m)
    return labels[DISTANCE_BANDS.index(band)] if band else labels[-1]


def approximate_distance(distance_m: float | None, language: str = "nl") -> dict:
    """Distance rounded to 100 m, and "less than 500 m" when closer (no exact position)."""
    language = language_or_default(language)
    if distance_m is None:
        return {"distance_rounded_m": None, "distance_label": None}
    if distance_m < 500:
        return {"distance_rounded_m": None, "distance_label": _BAND_LABELS[language][0]}
    rounded = int(round(distance_m / 100.0) * 100)
    if rounded < 1000:
        label = f"{rounded} m"
    else:
        km = f"{rounded / 1000:.1f}"
        label = f"{km.replace('.', ',') if language == 'nl' else km} km"
    return {"distance_rounded_m": rounded, "distance_label": label}


def slot_codes(mask: int) -> list[str]:
    """The slots of a week grid as codes like "mon-morning" (stable for forms and the API)."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    parts = ("morning", "afternoon", "evening")
    return [f"{days[b // 3]}-{parts[b % 3]}" for b in range(21) if (mask or 0) >> b & 1]


def when_view(request: HelpRequest, language: str = "nl") -> dict:
    """When help is wanted: slots, dated window, recurring, and a short text."""
    language = language_or_default(language)
    if request.slots and request.slots != ALL_SLOTS:
        text = describe_slots(request.slots, language, limit=3)
    else:
        text = "wanneer het u uitkomt" if language == "nl" else "any time"
    if request.window_start is not None:
        window = f"{request.window_start:%d-%m} – {request.window_end:%d-%m-%Y}"
        text = f"{window}, {text}" if request.slots else window
    return {
        "slots": request.slots,
        "slot_codes": slot_codes(request.slots),
        "window_start": request.window_start,
        "window_end": request.window_end,
        "recurring": request.recurring,
        "text": text,
    }


def category_name(category: Category, language: str = "nl") -> str:
    """The category's name in the language."""
    return category.name_en if language_or_default(language) == "en" else category.name_nl


def neighbourhood_name(neighbourhood_id: int | None) -> str | None:
    """The neighbourhood's name (public: CBS data)."""
    if neighbourhood_id is None:
        return None
    neighbourhood = db.session.get(Neighbourhood, neighbourhood_id)
    return neighbourhood.name if neighbourhood else None


def match_counts(request_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per request: how many of its matches are in each status (one grouped statement)."""
    counts: dict[int, dict[str, int]] = {}
    if request_ids:
        for request_id, status, count in db.session.execute(
            select(Match.request_id, Match.status, func.count())
            .where(Match.request_id.in_(request_ids))
            .group_by(Match.request_id, Match.status)
        ):
            counts.setdefault(request_id, {})[status] = count
    return counts


def active_match_counts(offer_ids: list[int]) -> dict[int, int]:
    """Per offer: how many of its matches are invited or accepted (one grouped statement)."""
    if not offer_ids:
        return {}
    return dict(
        db.session.execute(
            select(Match.offer_id, func.count(Match.id))
            .where(Match.offer_id.in_(offer_ids), Match.status.in_(("invited", "accepted")))
            .group_by(Match.offer_id)
        ).all()
    )


def request_view(
    request: HelpRequest, language: str = "nl", counts: dict[str, int] | None = None
) -> dict:
    """The requester's own view of a request (their own data, so the address too).
    `counts`: its matches per status when a list already counted them (`match_counts`)."""
    category = request.category
    if counts is None:
        counts = match_counts([request.id]).get(request.id, {})
    return {
        "id": request.id,
        "status": request.status,
        "category": category.code,
        "category_name": category_name(category, language),
        "description": request.description,
        "urgency": request.urgency,
        "when": when_view(request, language),
        "slots": request.slots,
        "window_start": request.window_start,
        "window_end": request.window_end,
        "recurring": request.recurring,
        "needs_vog": request.needs_vog,
        "needs_shared_language": request.needs_shared_language,
        "contact_channel": request.contact_channel,
        "max_distance_m": request.max_distance_m,
        "address_line": request.address_line,
        "postcode": request.postcode,
        "at_home": request.address_line is None and request.location_source != "map",
        "lat": request.lat,
        "lon": request.lon,
        "location_source": request.location_source,
        "neighbourhood": request.neighbourhood.name if request.neighbourhood else None,
        "registered_by_worker": request.registered_by_user_id is not None,
        "suggestions": counts.get("suggested", 0),
        "invited": counts.get("invited", 0),
        "accepted": counts.get("accepted", 0) + counts.get("done", 0),
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "closed_at": request.closed_at,
    }


def offer_view(offer: Offer, language: str = "nl", active: int | None = None) -> dict:
    """The helper's own view of an offer. `active`: its invited and accepted matches when a
    list already counted them (`active_match_counts`)."""
    if active is None:
        active = active_match_counts([offer.id]).get(offer.id, 0)
    return {
        "id": offer.id,
        "categories": [c.code for c in offer.categories],
        "category_names": [category_name(c, language) for c in offer.categories],
        "description": offer.description,
        "radius_m": offer.radius_m,
        "slots": offer.slots,
        "slot_codes": slot_codes(offer.slots),
        "capacity": offer.capacity,
        "languages": language_codes(offer.language_mask),
        "is_active": offer.is_active,
        "lat": offer.lat,
        "lon": offer.lon,
        "neighbourhood": offer.neighbourhood.name if offer.neighbourhood else None,
        "active_matches": active or 0,
        "created_at": offer.created_at,
        "updated_at": offer.updated_at,
    }


def my_requests(resident_id: int, page: int = 1, per_page: int = 20, language: str = "nl") -> dict:
    """The resident's requests, newest first, one page: {items, page, per_page, total}."""
    statement = (
        select(HelpRequest)
        .options(*REQUEST_LIST_LOADS)
        .where(HelpRequest.requester_id == resident_id)
        .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
    )
    rows, total = paginate(statement, page, per_page)
    counts = match_counts([r.id for r in rows])
    items = [request_view(r, language, counts.get(r.id, {})) for r in rows]
    return page_of(items, page, per_page, total)


def get_request(request_id: int, resident_id: int, language: str = "nl") -> dict:
    """One of the resident's own requests (NotFound for someone else's)."""
    return request_view(own_request(request_id, resident_id), language)


def my_offers(resident_id: int, page: int = 1, per_page: int = 20, language: str = "nl") -> dict:
    """The resident's offers, newest first, one page: {items, page, per_page, total}."""
    statement = (
        select(Offer)
        .options(*OFFER_VIEW_LOADS)
        .where(Offer.helper_id == resident_id)
        .order_by(Offer.created_at.desc(), Offer.id.desc())
    )
    rows, total = paginate(statement, page, per_page)
    active = active_match_counts([o.id for o in rows])
    items = [offer_view(o, language, active.get(o.id, 0)) for o in rows]
    return page_of(items, page, per_page, total)


def get_offer(offer_id: int, resident_id: int, language: str = "nl") -> dict:
    """One of the resident's own offers (NotFound for someone else's)."""
    return offer_view(own_offer(offer_id, resident_id), language)
