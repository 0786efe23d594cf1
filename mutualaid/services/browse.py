"""Browsing the other way round: open requests near a helper (category, distance band,
neighbourhood, when, urgency; no names, addresses or descriptions)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import or_, select

from ..errors import Invalid
from ..extensions import db
from ..matching.geo import haversine_m
from ..models import (
    Category,
    HelpRequest,
    Match,
    Neighbourhood,
    Offer,
    OfferCategory,
    Resident,
    ResidentBlock,
)
from .aid_views import (
    DISTANCE_BANDS,
    category_name,
    distance_band,
    distance_band_label,
    page_of,
    require_page,
    when_view,
)
from .validation import require_int


def blocked_ids(resident_id: int) -> set[int]:
    """Residents this one blocked or was blocked by (never shown to each other)."""
    rows = db.session.execute(
        select(ResidentBlock.blocker_id, ResidentBlock.blocked_id).where(
            or_(ResidentBlock.blocker_id == resident_id, ResidentBlock.blocked_id == resident_id)
        )
    ).all()
    return {a if b == resident_id else b for a, b in rows}


def _helper_origin(helper_id: int) -> tuple[float, float, int, set[int]]:
    """Where a helper starts from, how far they go and which categories they offer."""
    offers = db.session.scalars(
        select(Offer).where(Offer.helper_id == helper_id, Offer.is_active.is_(True))
    ).all()
    if offers:
        category_ids = set(
            db.session.scalars(
                select(OfferCategory.category_id).where(
                    OfferCategory.offer_id.in_([o.id for o in offers])
                )
            )
        )
        return offers[0].lat, offers[0].lon, max(o.radius_m for o in offers), category_ids
    helper = db.session.get(Resident, helper_id)
    if helper is None or helper.home_lat is None:
        raise Invalid(
            "offer help first (or give your address): we need to know where you are",
            field="offer",
            rule="required",
        )
    return helper.home_lat, helper.home_lon, 2000, set()


def open_requests_near(
    helper_id: int,
    category: str | None = None,
    distance_band: int | None = None,
    neighbourhood_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
    language: str = "nl",
) -> dict:
    """Open requests a helper could take on, nearest first: category, distance band,
    neighbourhood, when and urgency. No names, addresses or descriptions."""
    page, per_page = require_page(page, per_page)
    if distance_band is not None and distance_band not in DISTANCE_BANDS:
        raise Invalid(
            f"distance_band must be one of {', '.join(map(str, DISTANCE_BANDS))}",
            field="distance_band",
            rule="choice",
        )
    lat, lon, radius, category_ids = _helper_origin(helper_id)
    reach = distance_band or max(radius, 500)
    statement = select(HelpRequest).where(
        HelpRequest.status == "open",
        HelpRequest.requester_id != helper_id,
        HelpRequest.requester_id.not_in(blocked_ids(helper_id) or {-1}),
    )
    if category is not None:
        found = db.session.scalar(select(Category.id).where(Category.code == category))
        if found is None:
            raise Invalid(f"category {category!r} is not known", field="category", rule="known")
        statement = statement.where(HelpRequest.category_id == found)
    elif category_ids:
        statement = statement.where(HelpRequest.category_id.in_(category_ids))
    if neighbourhood_id is not None:
        # An id from a form or query string: a whole number the INTEGER column can hold.
        neighbourhood_id = require_int(
            "neighbourhood_id", neighbourhood_id, minimum=1, maximum=2**31 - 1
        )
        statement = statement.where(HelpRequest.neighbourhood_id == neighbourhood_id)
    dlat = reach / 111_195.0
    dlon = dlat / max(np.cos(np.radians(lat)), 0.01)
    statement = statement.where(
        HelpRequest.lat.between(lat - dlat, lat + dlat),
        HelpRequest.lon.between(lon - dlon, lon + dlon),
    )
    rows = db.session.scalars(statement).all()
    if not rows:
        return page_of([], page, per_page, 0)
    distances = haversine_m(
        lat, lon, np.array([r.lat for r in rows]), np.array([r.lon for r in rows])
    ).tolist()
    near = sorted(
        ((d, r) for d, r in zip(distances, rows, strict=True) if d <= reach),
        key=lambda pair: (pair[0], pair[1].id),
    )
    chosen = near[(page - 1) * per_page : page * per_page]
    mine = dict(
        db.session.execute(
            select(Match.request_id, Match.status).where(
                Match.helper_id == helper_id, Match.request_id.in_([r.id for _, r in chosen])
            )
        ).all()
    )
    # The page's categories and neighbourhood names in one statement each (not one per row).
    categories = {
        c.id: c
        for c in db.session.scalars(
            select(Category).where(Category.id.in_({r.category_id for _, r in chosen}))
        )
    }
    names = dict(
        db.session.execute(
            select(Neighbourhood.id, Neighbourhood.name).where(
                Neighbourhood.id.in_({r.neighbourhood_id for _, r in chosen} - {None})
            )
        ).all()
    )
    items = [
        _open_request_view(r, d, mine.get(r.id), language, categories[r.category_id], names)
        for d, r in chosen
    ]
    return page_of(items, page, per_page, len(near))


def _open_request_view(
    request: HelpRequest,
    distance: float,
    mine,
    language: str,
    category: Category,
    names: dict[int, str],
) -> dict:
    return {
        "request_id": request.id,
        "category": category.code,
        "category_name": category_name(category, language),
        "distance_band": distance_band(distance),
        "distance_label": distance_band_label(distance, language),
        "neighbourhood": names.get(request.neighbourhood_id),
        "when": when_view(request, language),
        "urgency": request.urgency,
        "needs_vog": request.needs_vog,
        "created_at": request.created_at,
        "my_match_status": mine,
    }
