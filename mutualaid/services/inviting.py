"""Asking the other side: the requester invites a helper or lets the service invite in waves;
a helper offers to help with an open request. The other side then accepts or declines
(`helping.py`)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..matching.geo import haversine_m
from ..models import (
    HelpRequest,
    Match,
    Notification,
    Offer,
    OfferCategory,
    Resident,
    VogRecord,
)
from ..models.base import utcnow
from .browse import blocked_ids
from .helping_views import first_name, match_view, party_match
from .match_steps import category_nl, fresh, lock_request, releases_lock_on_error, set_status, tell
from .notifications import send_next_wave
from .transactions import commit


@releases_lock_on_error
def invite_helper(match_id: int, requester_id: int, language: str = "nl") -> dict:
    """The requester invites a suggested helper; the helper then accepts or declines."""
    match, side = party_match(match_id, requester_id)
    if side != "requester":
        raise NotFound(f"match {match_id} does not exist", field="match_id")
    request = lock_request(match.request_id)
    match = fresh(match)
    if request.status != "open":
        raise Conflict(
            f"this request is {request.status}; nobody can be invited now",
            field="status",
            rule="open",
        )
    if match.status == "invited":
        return match_view(match, side, language)  # inviting twice changes nothing
    if match.status != "suggested":
        raise Conflict(
            f"this helper cannot be invited: the match is {match.status}",
            field="status",
            rule="suggested",
        )
    set_status(match, "invited")
    match.invited_by, match.invited_at = "requester", utcnow()
    commit()
    tell(
        match.helper_id,
        "match_invited",
        match,
        "U bent uitgenodigd om te helpen",
        f"Een buurtgenoot vraagt of u wilt helpen: {category_nl(request)}. "
        "Kijk in mutualaid en zeg ja of nee.",
    )
    return match_view(match, side, language)


def let_service_invite(request_id: int, requester_id: int) -> dict:
    """The requester lets the service ask the suggested helpers in waves; the first helper
    who says yes is matched. Returns {"wave": number or None, "asked": helpers asked now}."""
    request = db.session.get(HelpRequest, request_id)
    if request is None or request.requester_id != requester_id:
        raise NotFound(f"request {request_id} does not exist", field="request_id")
    if request.status != "open":
        raise Conflict(f"this request is {request.status}", field="status", rule="open")
    suggested = db.session.scalars(
        select(Match).where(Match.request_id == request_id, Match.status == "suggested")
    ).all()
    if not suggested:
        raise Conflict(
            "there are no suggested helpers yet; try again later",
            field="suggestions",
            rule="required",
        )
    for match in suggested:  # the requester's yes, given in advance to whoever answers first
        if match.invited_by is None:  # invited_at stays empty until a helper answers
            match.invited_by = "service"
    commit()
    wave = send_next_wave(request_id, force=True)
    asked = 0
    if wave is not None:
        asked = db.session.scalar(
            select(func.count(func.distinct(Notification.resident_id))).where(
                Notification.request_id == request_id, Notification.wave == wave
            )
        )
    return {"wave": wave, "asked": asked or 0}


def _helper_offer(request: HelpRequest, helper_id: int) -> Offer:
    """The helper's active offer that covers the request's category."""
    offer = db.session.scalar(
        select(Offer)
        .join(OfferCategory, OfferCategory.offer_id == Offer.id)
        .where(
            Offer.helper_id == helper_id,
            Offer.is_active.is_(True),
            OfferCategory.category_id == request.category_id,
        )
        .order_by(Offer.id)
    )
    if offer is None:
        raise Invalid(
            "you need an active offer of help for this kind of help first",
            field="offer",
            rule="required",
        )
    if request.needs_vog:
        months = current_app.config["VOG_VALID_MONTHS"]
        since = (utcnow() - timedelta(days=30.44 * months)).date()
        if not db.session.scalar(
            select(func.count(VogRecord.id)).where(
                VogRecord.resident_id == helper_id, VogRecord.issued_on >= since
            )
        ):
            raise Invalid(
                "this help needs a recent VOG (certificate of conduct); "
                "a community worker can record yours",
                field="vog",
                rule="required",
            )
    return offer


@releases_lock_on_error
def offer_to_help(request_id: int, helper_id: int, language: str = "nl") -> dict:
    """A helper offers to help with an open request; the requester accepts or declines."""
    request = db.session.get(HelpRequest, request_id)
    if (
        request is None
        or request.requester_id == helper_id
        or request.requester_id in blocked_ids(helper_id)
    ):
        raise NotFound(f"request {request_id} does not exist", field="request_id")
    request = lock_request(request_id)
    if request.status != "open":
        raise Conflict(
            "this request is no longer open (someone else helps already, or it was closed)",
            field="status",
            rule="open",
        )
    offer = _helper_offer(request, helper_id)
    match = db.session.scalar(
        select(Match).where(Match.request_id == request_id, Match.helper_id == helper_id)
    ) or Match(
        request_id=request_id,
        offer_id=offer.id,
        helper_id=helper_id,
        status="expired",
        proposed_by="resident",
        explanation_nl="Aangeboden door de helper",
        explanation_en="Offered by the helper",
    )
    if match.status in ("invited", "accepted", "done"):
        return match_view(match, "helper", language)  # already offered or helping: nothing changes
    if match.status == "declined":
        raise Conflict(
            "this help was declined before; it cannot be offered again",
            field="status",
            rule="declined",
        )
    if match.id is None:
        db.session.add(match)

    match.distance_m = round(float(haversine_m(offer.lat, offer.lon, request.lat, request.lon)), 1)
    set_status(match, "invited")
    match.proposed_by, match.invited_by, match.invited_at = "resident", "helper", utcnow()
    commit()
    helper_name = first_name(db.session.get(Resident, helper_id))
    tell(
        request.requester_id,
        "match_offered",
        match,
        f"{helper_name} wil u helpen",
        f"{helper_name} wil u helpen met {category_nl(request)}. "
        "Kijk in mutualaid en zeg ja of nee.",
    )
    return match_view(match, "helper", language)
