"""Match review by a community worker: see a request's ranked candidates, then confirm one,
choose another helper, or withdraw a match — always with a reason, always audited.

How a worker's confirmation works (a decision, documented here and in the README):
- Confirming a candidate (or choosing another helper) INVITES the helper on the requester's
  behalf: status `invited`, `invited_by='worker'`. A helper is a volunteer and says yes
  themself, in the app or by phone.
- When the helper is an assisted resident (not online, `self_service=False`) and agreed by
  phone or in person, the worker passes on that yes (`helper_agreed=True`): the match is
  `accepted` at once and the request `matched`. For a helper who is online that shortcut is
  refused: they answer themselves.
- A confirmed engine suggestion keeps `proposed_by='engine'` (the ranker learns from it); a
  helper the worker chose is `proposed_by='worker'` with `proposed_by_user_id`.
- Withdrawing cancels the match (`status_reason`, `status_changed_by_user_id`); a request that
  loses its accepted helper is open again and matched again.
Both residents get an in-app notification without any contact details of the other.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, or_, select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..matching.geo import haversine_m
from ..models import (
    SCORE_PARTS,
    HelpRequest,
    Match,
    Offer,
    OfferCategory,
    Resident,
    ResidentBlock,
)
from ..models.base import utcnow
from ..models.vocab import ACTIVE_MATCH_STATUSES
from .aid_common import mark_request_for_matching
from .audit import record_event, record_view
from .casework import scoped_match, scoped_request
from .match_review_notices import notify_invited, notify_withdrawn
from .match_steps import fresh, lock_request, releases_lock_on_error
from .transactions import commit
from .validation import require_text
from .vetting import residents_with_valid_vog

REVIEW_STATUSES = ("suggested", "invited", "accepted", "declined", "cancelled", "expired", "done")
NEARBY_LIMIT = 20
NEARBY_RADIUS_M = 15_000


def _reason(reason) -> str:
    return require_text("reason", reason, max_length=1000)


def match_summary(match: Match) -> dict:
    """A candidate as the review shows it: rank, score, parts, explanation, helper first name."""
    return {
        "match_id": match.id,
        "offer_id": match.offer_id,
        "helper_id": match.helper_id,
        "helper_first_name": match.helper.first_name,
        "rank": match.rank,
        "status": match.status,
        "proposed_by": match.proposed_by,
        "invited_by": match.invited_by,
        "score": round(match.score, 4),
        "parts": {p: round(getattr(match, f"score_{p}"), 4) for p in SCORE_PARTS},
        "distance_m": None if match.distance_m is None else round(match.distance_m),
        "explanation_nl": match.explanation_nl,
        "explanation_en": match.explanation_en,
        "status_reason": match.status_reason,
    }


def request_summary(request: HelpRequest) -> dict:
    """The request as the review shows it (the worker may see the requester's name)."""
    return {
        "id": request.id,
        "status": request.status,
        "category": request.category.code,
        "category_nl": request.category.name_nl,
        "category_en": request.category.name_en,
        "description": request.description,
        "urgency": request.urgency,
        "needs_vog": request.needs_vog,
        "requester_id": request.requester_id,
        "requester_first_name": request.requester.first_name,
        "requester_last_name": request.requester.last_name,
        "neighbourhood": request.neighbourhood.name if request.neighbourhood else None,
        "created_at": request.created_at,
    }


def review_request(actor_id: int, request_id: int) -> dict:
    """The request with its ranked candidates and their score parts (an audited view)."""
    request = scoped_request(actor_id, request_id)
    matches = list(
        db.session.scalars(
            select(Match)
            .where(Match.request_id == request.id)
            .order_by(Match.rank.is_(None), Match.rank, Match.id)
        )
    )
    record_view(
        actor_id,
        "match_review",
        [request.requester_id, *(m.helper_id for m in matches)],
        reason="match review",
        detail={"request_id": request.id},
    )
    return {"request": request_summary(request), "candidates": [match_summary(m) for m in matches]}


def nearby_offers(actor_id: int, request_id: int, limit: int = NEARBY_LIMIT) -> list[dict]:
    """Active offers in the request's category, nearest first, each marked eligible or why not."""
    request = scoped_request(actor_id, request_id)
    dlat = NEARBY_RADIUS_M / 111_195.0
    dlon = dlat / max(np.cos(np.radians(request.lat)), 0.01)
    rows = db.session.execute(
        select(Offer, Resident.first_name)
        .join(OfferCategory, OfferCategory.offer_id == Offer.id)
        .join(Resident, Resident.id == Offer.helper_id)
        .where(
            OfferCategory.category_id == request.category_id,
            Offer.is_active.is_(True),
            Resident.erased_at.is_(None),
            Offer.helper_id != request.requester_id,
            Offer.lat.between(request.lat - dlat, request.lat + dlat),
            Offer.lon.between(request.lon - dlon, request.lon + dlon),
        )
    ).all()
    if not rows:
        return []
    distances = haversine_m(
        request.lat,
        request.lon,
        np.array([o.lat for o, _ in rows]),
        np.array([o.lon for o, _ in rows]),
    ).tolist()
    ranked = sorted(zip(rows, distances, strict=True), key=lambda item: item[1])[:limit]
    result = []
    for (offer, first_name), distance in ranked:
        problems = _ineligibility(request, offer)
        result.append(
            {
                "offer_id": offer.id,
                "helper_id": offer.helper_id,
                "helper_first_name": first_name,
                "distance_m": round(distance),
                "eligible": not problems,
                "problems": problems,
            }
        )
    record_view(
        actor_id,
        "nearby_helpers",
        [r["helper_id"] for r in result],
        reason="match review",
        detail={"request_id": request.id},
    )
    return result


def _ineligibility(request: HelpRequest, offer: Offer) -> list[str]:
    """The hard filters this offer fails for the request (empty: eligible)."""
    problems = []
    if not offer.is_active or offer.helper.erased_at is not None:
        problems.append("inactive")
    if request.category_id not in {c.id for c in offer.categories}:
        problems.append("category")
    if offer.helper_id == request.requester_id:
        problems.append("self")
    if request.needs_vog and not residents_with_valid_vog([offer.helper_id]):
        problems.append("vog")
    pair = (request.requester_id, offer.helper_id)
    blocked = db.session.scalar(
        select(func.count()).where(
            or_(
                (ResidentBlock.blocker_id == pair[0]) & (ResidentBlock.blocked_id == pair[1]),
                (ResidentBlock.blocker_id == pair[1]) & (ResidentBlock.blocked_id == pair[0]),
            )
        )
    )
    if blocked:
        problems.append("blocked")
    declined = db.session.scalar(
        select(func.count()).where(
            Match.request_id == request.id, Match.offer_id == offer.id, Match.status == "declined"
        )
    )
    if declined:
        problems.append("declined")
    active = db.session.scalar(
        select(func.count()).where(
            Match.offer_id == offer.id,
            Match.status.in_(ACTIVE_MATCH_STATUSES),
            Match.request_id != request.id,
        )
    )
    if active >= offer.capacity:
        problems.append("capacity")
    return problems


def _require_open(request: HelpRequest) -> None:
    if request.status != "open":
        raise Conflict(
            f"only open requests get a helper; this one is {request.status}",
            field="status",
            rule="open",
        )


def _require_eligible(request: HelpRequest, offer: Offer) -> None:
    problems = _ineligibility(request, offer)
    if problems:
        raise Conflict(
            f"this helper does not pass the rules for this request: {', '.join(problems)}",
            field="offer_id",
            rule=problems[0],
        )


def _invite(match: Match, actor_id: int, reason: str, helper_agreed: bool) -> None:
    """Invite for the requester (or accept: an assisted helper said yes by phone)."""
    if helper_agreed and match.helper.self_service:
        raise Invalid(
            "only for a helper who is not online may a worker pass on their yes",
            field="helper_agreed",
            rule="assisted_helper",
        )
    now = utcnow()
    match.invited_by, match.invited_at = "worker", now
    match.status = "accepted" if helper_agreed else "invited"
    if helper_agreed:
        match.accepted_at = now
        match.request.status = "matched"
        match.request.matching_pending_since = None
    match.status_reason, match.status_changed_by_user_id = reason, actor_id
    match.status_changed_at = match.updated_at = now


def _audit(actor_id: int, action: str, match: Match, reason: str) -> None:
    record_event(
        actor_id,
        action,
        subject_resident_id=match.request.requester_id,
        object_type="match",
        object_id=match.id,
        reason=reason[:200],
        detail={"helper_id": match.helper_id, "status": match.status, "offer_id": match.offer_id},
    )


@releases_lock_on_error
def confirm_match(
    actor_id: int,
    match_id: int,
    reason,
    *,
    helper_agreed: bool = False,
    request_id: int | None = None,
) -> Match:
    """Confirm a suggested candidate: the worker invites the helper (or passes on their yes)."""
    reason = _reason(reason)
    match = scoped_match(actor_id, match_id, request_id)
    lock_request(match.request_id)  # one change to a request at a time (residents' too)
    match = fresh(match)
    _require_open(match.request)
    if match.status != "suggested":
        raise Conflict(
            f"only a suggestion can be confirmed; this match is {match.status}",
            field="status",
            rule="suggested",
        )
    _require_eligible(match.request, match.offer)
    _invite(match, actor_id, reason, helper_agreed)
    _audit(actor_id, "match.confirm", match, reason)
    commit()
    notify_invited(match)
    return match


@releases_lock_on_error
def choose_helper(
    actor_id: int, request_id: int, offer_id, reason, *, helper_agreed: bool = False
) -> Match:
    """Invite a helper of the worker's choice for the request (hard filters still apply)."""
    reason = _reason(reason)
    request = lock_request(scoped_request(actor_id, request_id).id)
    _require_open(request)
    match = _choose(actor_id, request, offer_id, reason, helper_agreed)
    commit()
    notify_invited(match)
    return match


def _choose(actor_id: int, request: HelpRequest, offer_id, reason: str, helper_agreed: bool):
    """The chosen helper's match, invited (not committed)."""
    try:
        offer = db.session.get(Offer, int(offer_id))
    except (TypeError, ValueError):
        offer = None
    if offer is None:
        raise Invalid("offer_id is not a known offer", field="offer_id", rule="exists")
    _require_eligible(request, offer)
    match = db.session.scalar(
        select(Match).where(Match.request_id == request.id, Match.offer_id == offer.id)
    )
    if match is not None and match.status in (*ACTIVE_MATCH_STATUSES, "done"):
        raise Conflict(
            f"this helper is already {match.status} for this request", field="offer_id", rule="new"
        )
    if match is None:
        match = Match(request_id=request.id, offer_id=offer.id, helper_id=offer.helper_id)
        db.session.add(match)
        distance = haversine_m(request.lat, request.lon, offer.lat, offer.lon)
        match.distance_m = float(distance)
    match.request, match.offer, match.helper = request, offer, offer.helper
    match.proposed_by, match.proposed_by_user_id, match.rank = "worker", actor_id, None
    _invite(match, actor_id, reason, helper_agreed)
    db.session.flush()
    _audit(actor_id, "match.choose", match, reason)
    return match


@releases_lock_on_error
def withdraw_match(actor_id: int, match_id: int, reason, *, request_id: int | None = None) -> Match:
    """Withdraw a suggested, invited or accepted match; the request is open (and matched) again."""
    reason = _reason(reason)
    match = scoped_match(actor_id, match_id, request_id)
    lock_request(match.request_id)
    match = fresh(match)
    if match.status not in ("suggested", *ACTIVE_MATCH_STATUSES):
        raise Conflict(
            f"a {match.status} match cannot be withdrawn", field="status", rule="withdrawable"
        )
    was = match.status
    now = utcnow()
    match.status, match.status_reason = "cancelled", reason
    match.status_changed_by_user_id, match.status_changed_at, match.updated_at = actor_id, now, now
    request = match.request
    if was == "accepted" and request.status == "matched":
        still = db.session.scalar(
            select(func.count()).where(
                Match.request_id == request.id, Match.status == "accepted", Match.id != match.id
            )
        )
        if not still:
            request.status = "open"
            mark_request_for_matching(request)
    _audit(actor_id, "match.withdraw", match, reason)
    commit()
    if was != "suggested":
        notify_withdrawn(match)
    return match
