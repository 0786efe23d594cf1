"""The match lifecycle between two residents: invite, offer to help, accept, decline, cancel,
done, thanks, and reporting a problem.

    suggested --invite_helper--> invited(by requester) --helper accepts--> accepted --> done
    (open request) --offer_to_help--> invited(by helper) --requester accepts--> accepted
    suggested, asked in a wave --helper says yes--> invited(by helper), requester confirms;
        after let_service_invite the helper's yes accepts at once (the requester delegated)

The resident stays in charge: nobody is matched without both having said yes. Accepting locks
the request row (SELECT ... FOR UPDATE on PostgreSQL), so of two concurrent accepts one wins and
the other gets a 409. The read-only views live in `helping_views.py`, `browse.py` and
`my_aid.py`; they are re-exported here so callers need one import.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..background import enqueue_after_commit
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import (
    HelpRequest,
    Match,
    Offer,
    Resident,
)
from ..models.base import utcnow
from .aid import mark_request_for_matching
from .browse import open_requests_near
from .helping_views import (
    awaiting_side,
    first_name,
    invitations_for_helper,
    match_detail,
    match_view,
    party_match,
    suggestions_for_request,
)
from .inviting import invite_helper, let_service_invite, offer_to_help
from .match_steps import (
    category_nl,
    fresh,
    lock_request,
    reason_text,
    releases_lock_on_error,
    set_status,
    tell,
)
from .my_aid import my_matches, my_matches_page, my_overview, my_threads
from .problems import report_problem
from .transactions import commit
from .validation import require_int, require_text

__all__ = [
    "accept_match",
    "cancel_match",
    "decline_match",
    "give_thanks",
    "invitations_for_helper",
    "invite_helper",
    "let_service_invite",
    "mark_done",
    "match_detail",
    "my_matches",
    "my_matches_page",
    "my_overview",
    "my_threads",
    "offer_to_help",
    "open_requests_near",
    "report_problem",
    "suggestions_for_request",
]


def _refuse_accept(match: Match, request: HelpRequest, side: str) -> None:
    """Raise the clear 409 that says why this match cannot be accepted now."""
    if match.status == "accepted":
        raise Conflict("this match was already accepted", field="status", rule="already_accepted")
    if request.status != "open":
        raise Conflict(
            "another helper was already accepted for this request (or it is closed)",
            field="status",
            rule="taken",
        )
    if match.status in ("declined", "cancelled", "expired", "done"):
        raise Conflict(
            f"this match is {match.status} and can no longer be accepted",
            field="status",
            rule="closed",
        )
    if awaiting_side(match) not in (None, side):
        raise Conflict(
            "you already said yes; the other side still has to answer",
            field="status",
            rule="awaiting_other",
        )
    raise Conflict("there is nothing to accept yet", field="status", rule="not_invited")


def _check_capacity(match: Match) -> None:
    offer = db.session.get(Offer, match.offer_id)
    busy = db.session.scalar(
        select(func.count(Match.id)).where(
            Match.offer_id == match.offer_id, Match.status == "accepted", Match.id != match.id
        )
    )
    if busy >= offer.capacity:
        raise Conflict(
            "this helper already helps as many people as they can at once",
            field="capacity",
            rule="capacity",
        )


def _close_other_matches(match: Match) -> list[Match]:
    """Once one helper is accepted, the request's other live matches end (not committed)."""
    told = []
    others = db.session.scalars(
        select(Match).where(
            Match.request_id == match.request_id,
            Match.id != match.id,
            Match.status.in_(("suggested", "invited")),
        )
    ).all()
    for other in others:
        if other.status == "invited":
            told.append(other)
            set_status(other, "cancelled", "another helper was accepted")
        else:
            set_status(other, "expired", "another helper was accepted")
    return told


@releases_lock_on_error
def accept_match(match_id: int, resident_id: int, language: str = "nl") -> dict:
    """The side that was asked says yes. When both have said yes the match is accepted, the
    request is matched and its other matches end; accepting twice or too late is a 409."""
    match, side = party_match(match_id, resident_id)
    request = lock_request(match.request_id)
    match = fresh(match)
    if request.status != "open" or awaiting_side(match) != side:
        _refuse_accept(match, request, side)
    if match.status == "suggested" and match.invited_by != "service":
        # A helper answered a wave: now the requester says yes or no (they stay in charge).
        set_status(match, "invited")
        match.invited_by, match.invited_at = "helper", utcnow()
        commit()
        tell(
            request.requester_id,
            "match_offered",
            match,
            f"{first_name(match.helper)} wil u helpen",
            f"{first_name(match.helper)} wil u helpen met {category_nl(request)}. "
            "Kijk in mutualaid en zeg ja of nee.",
        )
        return match_view(match, side, language)
    _check_capacity(match)
    now = utcnow()
    set_status(match, "accepted")
    match.accepted_at = now
    request.status, request.matching_pending_since = "matched", None
    told = _close_other_matches(match)
    commit()
    other_id = match.helper_id if side == "requester" else request.requester_id
    name = first_name(db.session.get(Resident, resident_id))
    tell(
        other_id,
        "match_accepted",
        match,
        f"{name} zei ja",
        f"{name} zei ja: u helpt elkaar met {category_nl(request)}. "
        "In mutualaid ziet u nu hoe u elkaar bereikt.",
    )
    for other in told:
        tell(
            other.helper_id,
            "match_taken",
            other,
            "Er is al iemand gevonden",
            "Voor deze hulpvraag is al iemand gevonden. Bedankt dat u wilde helpen.",
        )
    return match_view(match, side, language)


@releases_lock_on_error
def decline_match(
    match_id: int, resident_id: int, reason: str | None = None, language: str = "nl"
) -> dict:
    """The side that was asked says no (a requester may also turn down a suggestion); the two
    are not suggested to each other again for this request."""
    match, side = party_match(match_id, resident_id)
    request = db.session.get(HelpRequest, match.request_id)
    asked = awaiting_side(match) == side
    if not (asked or (match.status == "suggested" and side == "requester")):
        if match.status == "declined":
            raise Conflict("this match was already declined", field="status", rule="declined")
        raise Conflict(
            f"a {match.status} match cannot be declined"
            + (" (it waits for the other side)" if match.status == "invited" else ""),
            field="status",
            rule="not_asked",
        )
    was_invited = match.status == "invited"
    set_status(match, "declined", reason_text(reason))
    match.declined_by = side
    commit()
    if was_invited:  # the other side asked: tell them (never the reason's details)
        other_id = match.helper_id if side == "requester" else request.requester_id
        tell(
            other_id,
            "match_declined",
            match,
            "Het gaat deze keer niet door",
            f"{first_name(db.session.get(Resident, resident_id))} kan deze keer niet. "
            "Kijk in mutualaid voor andere mogelijkheden.",
        )
    return match_view(match, side, language)


@releases_lock_on_error
def cancel_match(
    match_id: int, resident_id: int, reason: str | None = None, language: str = "nl"
) -> dict:
    """Withdraw an invitation one made, or stop an accepted match (the request opens again
    and is matched anew); the other side is told."""
    match, side = party_match(match_id, resident_id)
    request = lock_request(match.request_id)
    match = fresh(match)
    own_invitation = match.status == "invited" and awaiting_side(match) != side
    if not (own_invitation or match.status == "accepted"):
        raise Conflict(
            f"a {match.status} match cannot be cancelled by you",
            field="status",
            rule="cancellable",
        )
    was_accepted = match.status == "accepted"
    set_status(match, "cancelled", reason_text(reason) or f"cancelled by the {side}")
    if was_accepted and request.status == "matched":
        request.status = "open"
        mark_request_for_matching(request)
    commit()
    other_id = match.helper_id if side == "requester" else request.requester_id
    tell(
        other_id,
        "match_cancelled",
        match,
        "Het gaat niet door",
        f"{first_name(db.session.get(Resident, resident_id))} heeft de afspraak over "
        f"{category_nl(request)} afgezegd.",
    )
    return match_view(match, side, language)


@releases_lock_on_error
def mark_done(match_id: int, resident_id: int, language: str = "nl") -> dict:
    """Either side says the help has happened: the match and the request are done."""
    match, side = party_match(match_id, resident_id)
    request = lock_request(match.request_id)
    match = fresh(match)
    if match.status != "accepted":
        raise Conflict(
            "only an accepted match can be marked done"
            + (" (it is done already)" if match.status == "done" else ""),
            field="status",
            rule="accepted",
        )
    now = utcnow()
    set_status(match, "done")
    match.done_at = now
    request.status, request.closed_at = "done", now
    # Completed help strengthens the `helped` trust tie; the rebuild runs in the worker.
    enqueue_after_commit(db.session, "mutualaid.jobs.rebuild_trust_weights", queue="default")
    commit()
    other_id = match.helper_id if side == "requester" else request.requester_id
    tell(
        other_id,
        "match_done",
        match,
        "De hulp is klaar",
        f"{first_name(db.session.get(Resident, resident_id))} gaf aan dat de hulp klaar is. "
        "Uw berichten blijven te lezen in mutualaid.",
    )
    return match_view(match, side, language)


@releases_lock_on_error
def give_thanks(
    match_id: int, requester_id: int, rating: int, note: str | None = None, language: str = "nl"
) -> dict:
    """The requester thanks the helper with a rating (1-5) and a short note; an accepted
    match is marked done first. Once per match."""
    match, side = party_match(match_id, requester_id)
    if side != "requester":
        raise NotFound(f"match {match_id} does not exist", field="match_id")
    rating = require_int("rating", rating, minimum=1, maximum=5)
    note = require_text("note", note, max_length=1000, required=False) or None
    if match.status == "accepted":
        mark_done(match_id, requester_id)
        match = fresh(match)
    if match.status != "done":
        raise Conflict("thanks can be given once the help is done", field="status", rule="done")
    if match.feedback_at is not None:
        raise Conflict("you already said thanks for this help", field="rating", rule="once")
    match.feedback_rating, match.thanks_note, match.feedback_at = rating, note, utcnow()
    enqueue_after_commit(db.session, "mutualaid.jobs.rebuild_trust_weights", queue="default")
    commit()
    tell(
        match.helper_id,
        "match_thanks",
        match,
        "U krijgt een bedankje",
        f"{first_name(db.session.get(Resident, requester_id))} bedankt u voor uw hulp. "
        "Lees het bericht in mutualaid.",
    )
    return match_view(match, side, language)
