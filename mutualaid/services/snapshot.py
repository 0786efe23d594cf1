"""Loading what matching needs from the database as numpy arrays, in a few bulk queries.

No per-row queries: each table is read once with the columns the engine uses, and grouped
counts (active matches, completed helps, notifications) come from GROUP BY queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from flask import current_app
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import aliased

from ..extensions import db
from ..matching.availability import slots_for_window
from ..matching.types import TIE_DECLARED, TIE_VOUCH
from ..models import (
    Category,
    HelpRequest,
    Match,
    Notification,
    Offer,
    OfferCategory,
    Resident,
    ResidentBlock,
    TrustTie,
    VogRecord,
    Vouch,
)
from ..models.base import utcnow
from ..models.vocab import ACTIVE_MATCH_STATUSES

NEWLY_ACTIVE_DAYS = 28
RECENT_NOTIFICATION_DAYS = 7
# Two residents vouched for by the same community worker: a weak direct tie (the worker
# knows both), which makes the helper a candidate and is explained as a recommendation.
VOUCH_TIE_WEIGHT = 0.5


@dataclass
class Snapshot:
    """Columns for the engine, keyed by name; ids are database ids."""

    requests: dict[str, np.ndarray]
    offers: dict[str, np.ndarray]
    ties: tuple[np.ndarray, ...]  # resident a, resident b, weight, kind bits (TIE_*)
    declined_pairs: np.ndarray  # (n, 2) request id, offer id
    blocked_pairs: np.ndarray  # (n, 2) resident id, resident id
    helped_pairs: np.ndarray  # (n, 3) requester id, helper id, times helped


class StreetIds:
    """Small integer ids for (neighbourhood, street name), so same-street is an int compare."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}

    def __call__(self, neighbourhood_id, street) -> int:
        if not street:
            return -1
        key = (neighbourhood_id, " ".join(street.lower().split()))
        return self.ids.setdefault(key, len(self.ids))


def _array(rows, column: int, dtype) -> np.ndarray:
    return np.fromiter((r[column] for r in rows), dtype=dtype, count=len(rows))


def _count_by(statement) -> dict[int, int]:
    return dict(db.session.execute(statement).all())


def window_slots(start: date | None, end: date | None) -> int:
    """The weekly slots a dated window covers (0 when there is no window)."""
    if start is None or end is None:
        return 0
    return slots_for_window(start, end)


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


def vog_valid_condition(today: date):
    """A VOG counts while valid: until `expires_on` when set, else for VOG_VALID_MONTHS after
    it was issued."""
    issued_since = months_before(today, current_app.config["VOG_VALID_MONTHS"])
    return or_(
        VogRecord.expires_on >= today,
        and_(VogRecord.expires_on.is_(None), VogRecord.issued_on >= issued_since),
    )


def load_requests(request_ids: list[int] | None, streets: StreetIds) -> dict[str, np.ndarray]:
    """Open requests (all, or the given ids) with their requester's languages."""
    statement = (
        select(
            HelpRequest.id,
            HelpRequest.requester_id,
            HelpRequest.lat,
            HelpRequest.lon,
            Category.bit,
            HelpRequest.max_distance_m,
            HelpRequest.slots,
            HelpRequest.needs_vog,
            Resident.language_mask,
            HelpRequest.needs_shared_language,
            HelpRequest.neighbourhood_id,
            HelpRequest.street,
            HelpRequest.window_start,
            HelpRequest.window_end,
        )
        .join(Category, Category.id == HelpRequest.category_id)
        .join(Resident, Resident.id == HelpRequest.requester_id)
        .where(HelpRequest.status == "open")
        .order_by(HelpRequest.id)
    )
    if request_ids is not None:
        statement = statement.where(HelpRequest.id.in_(request_ids))
    rows = db.session.execute(statement).all()
    slots = np.fromiter(
        ((r.slots or 0) | window_slots(r.window_start, r.window_end) for r in rows),
        dtype=np.int64,
        count=len(rows),
    )
    return {
        "ids": _array(rows, 0, np.int64),
        "requester_ids": _array(rows, 1, np.int64),
        "lat": _array(rows, 2, np.float64),
        "lon": _array(rows, 3, np.float64),
        "category": _array(rows, 4, np.int64),
        "max_distance_m": _array(rows, 5, np.float64),
        "slots": slots,
        "needs_vog": _array(rows, 7, bool),
        "languages": _array(rows, 8, np.int64),
        "needs_shared_language": _array(rows, 9, bool),
        "neighbourhood_id": np.fromiter(
            (r[10] if r[10] is not None else -1 for r in rows), dtype=np.int64, count=len(rows)
        ),
        "street_id": np.fromiter(
            (streets(r[10], r[11]) for r in rows), dtype=np.int64, count=len(rows)
        ),
    }


def load_offers(streets: StreetIds, offer_ids: list[int] | None = None) -> dict[str, np.ndarray]:
    """Active offers with category masks, load, and the helper's standing."""
    now = utcnow()
    statement = (
        select(
            Offer.id,
            Offer.helper_id,
            Offer.lat,
            Offer.lon,
            Offer.radius_m,
            Offer.slots,
            Offer.capacity,
            Offer.language_mask,
            Offer.neighbourhood_id,
            Offer.street,
            Resident.first_active_at,
        )
        .join(Resident, Resident.id == Offer.helper_id)
        .where(Offer.is_active.is_(True), Resident.erased_at.is_(None))
        .order_by(Offer.id)
    )
    if offer_ids is not None:
        statement = statement.where(Offer.id.in_(offer_ids))
    rows = db.session.execute(statement).all()
    ids = _array(rows, 0, np.int64)
    helper_ids = _array(rows, 1, np.int64)

    pair_query = (
        select(OfferCategory.offer_id, Category.bit)
        .join(Category, Category.id == OfferCategory.category_id)
        .where(Category.is_active.is_(True))
    )
    if offer_ids is not None:
        pair_query = pair_query.where(OfferCategory.offer_id.in_(offer_ids))
    pairs = db.session.execute(pair_query).all()
    category_mask = np.zeros(len(ids), dtype=np.int64)
    if pairs and len(ids):
        offer_col = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        bits = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
        position = np.searchsorted(ids, offer_col)
        known = (position < len(ids)) & (ids[np.minimum(position, len(ids) - 1)] == offer_col)
        np.bitwise_or.at(category_mask, position[known], np.left_shift(1, bits[known]))

    # For a handful of changed offers (the warm matcher's refresh) count only theirs.
    few = offer_ids is not None and len(offer_ids) <= 5000

    def only(column, values):
        return column.in_(values.tolist()) if few else true()

    active = _count_by(
        select(Match.offer_id, func.count())
        .where(Match.status.in_(ACTIVE_MATCH_STATUSES), only(Match.offer_id, ids))
        .group_by(Match.offer_id)
    )
    completed = _count_by(
        select(Match.helper_id, func.count())
        .where(Match.status == "done", only(Match.helper_id, helper_ids))
        .group_by(Match.helper_id)
    )
    feedback = dict(
        db.session.execute(
            select(Match.helper_id, func.avg(Match.feedback_rating))
            .where(Match.feedback_rating.is_not(None), only(Match.helper_id, helper_ids))
            .group_by(Match.helper_id)
        ).all()
    )
    notified = _count_by(
        select(Notification.resident_id, func.count())
        .where(
            Notification.created_at >= now - timedelta(days=RECENT_NOTIFICATION_DAYS),
            Notification.kind == "help_wanted",
            only(Notification.resident_id, helper_ids),
        )
        .group_by(Notification.resident_id)
    )
    vog_valid = set(
        db.session.scalars(
            select(VogRecord.resident_id).where(
                vog_valid_condition(now.date()), only(VogRecord.resident_id, helper_ids)
            )
        )
    )
    vouched = set(
        db.session.scalars(
            select(Vouch.resident_id).where(
                Vouch.revoked_at.is_(None), only(Vouch.resident_id, helper_ids)
            )
        )
    )
    newly_since = now - timedelta(days=NEWLY_ACTIVE_DAYS)

    def per_helper(mapping, default=0.0, dtype=np.float64):
        return np.fromiter(
            (mapping.get(h, default) for h in helper_ids.tolist()),
            dtype=dtype,
            count=len(helper_ids),
        )

    return {
        "ids": ids,
        "helper_ids": helper_ids,
        "lat": _array(rows, 2, np.float64),
        "lon": _array(rows, 3, np.float64),
        "category_mask": category_mask,
        "radius_m": _array(rows, 4, np.float64),
        "slots": _array(rows, 5, np.int64),
        "capacity": _array(rows, 6, np.int64),
        "active_matches": np.fromiter(
            (active.get(i, 0) for i in ids.tolist()), dtype=np.int64, count=len(ids)
        ),
        "recent_notifications": per_helper(notified, 0, np.int64),
        "languages": _array(rows, 7, np.int64),
        "vog_valid": np.isin(helper_ids, list(vog_valid)),
        "vouched": np.isin(helper_ids, list(vouched)),
        "completed_helps": per_helper(completed, 0, np.int64),
        "mean_feedback": np.fromiter(
            (
                (float(feedback[h]) - 1) / 4 if feedback.get(h) is not None else np.nan
                for h in helper_ids.tolist()
            ),
            dtype=np.float64,
            count=len(helper_ids),
        ),
        "newly_active": np.fromiter(
            (r[10] is not None and r[10] >= newly_since for r in rows), dtype=bool, count=len(rows)
        ),
        "neighbourhood_id": np.fromiter(
            (r[8] if r[8] is not None else -1 for r in rows), dtype=np.int64, count=len(rows)
        ),
        "street_id": np.fromiter(
            (streets(r[8], r[9]) for r in rows), dtype=np.int64, count=len(rows)
        ),
    }


def load_ties() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Confirmed trust ties (knows, group, helped) and vouch ties (same worker), with kinds."""
    ties = db.session.execute(
        select(TrustTie.resident_a_id, TrustTie.resident_b_id, func.max(TrustTie.weight))
        .where(TrustTie.confirmed_at.is_not(None))
        .group_by(TrustTie.resident_a_id, TrustTie.resident_b_id)
    ).all()
    first, second = aliased(Vouch), aliased(Vouch)
    vouch_pairs = db.session.execute(
        select(first.resident_id, second.resident_id)
        .join(second, second.worker_user_id == first.worker_user_id)
        .where(
            first.resident_id < second.resident_id,
            first.revoked_at.is_(None),
            second.revoked_at.is_(None),
        )
        .distinct()
    ).all()
    rows = ties + [(a, b, VOUCH_TIE_WEIGHT) for a, b in vouch_pairs]
    kinds = np.r_[
        np.full(len(ties), TIE_DECLARED, np.int64), np.full(len(vouch_pairs), TIE_VOUCH, np.int64)
    ]
    return _array(rows, 0, np.int64), _array(rows, 1, np.int64), _array(rows, 2, np.float64), kinds


def load_relations() -> tuple:
    """Trust ties (with kinds), declined pairs, blocks and who helped whom before."""
    declined = db.session.execute(
        select(Match.request_id, Match.offer_id).where(Match.status == "declined")
    ).all()
    blocks = db.session.execute(select(ResidentBlock.blocker_id, ResidentBlock.blocked_id)).all()
    helped = db.session.execute(
        select(HelpRequest.requester_id, Match.helper_id, func.count())
        .join(HelpRequest, and_(HelpRequest.id == Match.request_id))
        .where(Match.status == "done")
        .group_by(HelpRequest.requester_id, Match.helper_id)
    ).all()
    return (
        load_ties(),
        np.array(declined, dtype=np.int64).reshape(-1, 2),
        np.array(blocks, dtype=np.int64).reshape(-1, 2),
        np.array(helped, dtype=np.int64).reshape(-1, 3),
    )


def load_snapshot(request_ids: list[int] | None = None) -> Snapshot:
    """Everything one matching run needs, read in one transaction."""
    streets = StreetIds()
    offers = load_offers(streets)
    requests = load_requests(request_ids, streets)
    ties, declined, blocks, helped = load_relations()
    return Snapshot(requests, offers, ties, declined, blocks, helped)
