"""What each side of a match may see: suggestions, invitations, open requests nearby, a match,
and the personal overview ("Mijn burenhulp").

Privacy is the rule of this module: before both sides said yes, the other resident is a first
name, a rounded distance and a neighbourhood; never an address, house number, postcode, phone
or email. After acceptance the helper sees where to go and both see the contact details the
other chose. Someone else's match or request is NotFound.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from ..errors import NotFound
from ..extensions import db
from ..models import (
    HelpRequest,
    Match,
    Neighbourhood,
    Notification,
    Resident,
)
from ..models.vocab import channel_codes
from .aid_views import (
    approximate_distance,
    category_name,
    distance_band_label,
    language_or_default,
    when_view,
)

HELP_WANTED = "help_wanted"  # the notification kind of a wave (services/notifications.py)
SHOWN_SUGGESTION_STATUSES = ("suggested", "invited", "accepted", "done")

# What `match_view` reads of a request besides its own row: its category, its requester and
# its neighbourhood's name (not the boundary). Loaded with the request, in the same statement.
REQUEST_VIEW_LOADS = (
    joinedload(HelpRequest.category),
    joinedload(HelpRequest.requester),
    joinedload(HelpRequest.neighbourhood).load_only(Neighbourhood.id, Neighbourhood.name),
)
MATCH_VIEW_LOADS = (
    joinedload(Match.helper),
    joinedload(Match.request).options(*REQUEST_VIEW_LOADS),
)


def first_name(resident: Resident | None) -> str:
    """The name another resident may see: the first name only."""
    if resident is None or resident.erased_at is not None:
        return "Buurtgenoot"
    return resident.first_name


def side_of(match: Match, resident_id: int) -> str:
    """'requester' or 'helper'; NotFound when the resident is neither (someone else's match)."""
    if match.request.requester_id == resident_id:
        return "requester"
    if match.helper_id == resident_id:
        return "helper"
    raise NotFound(f"match {match.id} does not exist", field="match_id")


def party_match(match_id: int, resident_id: int) -> tuple[Match, str]:
    """The match and the resident's side in it; NotFound for a missing or someone else's."""
    match = db.session.get(Match, match_id, options=MATCH_VIEW_LOADS)
    if match is None:
        raise NotFound(f"match {match_id} does not exist", field="match_id")
    return match, side_of(match, resident_id)


def _asked_in_a_wave():
    """A column for a select of matches: was this helper asked about this request in a wave."""
    return (
        select(Notification.id)
        .where(
            Notification.kind == HELP_WANTED,
            Notification.request_id == Match.request_id,
            Notification.resident_id == Match.helper_id,
        )
        .exists()
        .label("asked_in_a_wave")
    )


def load_for_views(statement) -> list[tuple[Match, bool]]:
    """The matches of a `select(Match)` with everything `match_view` needs, in one statement:
    each with its request, category, requester, helper, neighbourhood name and whether the
    helper was asked in a wave (pass that on as `asked`)."""
    rows = db.session.execute(
        statement.add_columns(_asked_in_a_wave()).options(*MATCH_VIEW_LOADS)
    ).all()
    return [(match, bool(asked)) for match, asked in rows]


def was_asked_in_a_wave(match: Match) -> bool:
    """Whether the service asked this helper about this request (a help-wanted notification)."""
    return bool(
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.kind == HELP_WANTED,
                Notification.request_id == match.request_id,
                Notification.resident_id == match.helper_id,
            )
        )
    )


def awaiting_side(match: Match, asked: bool | None = None) -> str | None:
    """Whose yes the match waits for: 'helper', 'requester' or None. `asked`: whether the
    helper was asked in a wave, when already known (else it is looked up when needed)."""
    if match.status == "invited":
        return "requester" if match.invited_by == "helper" else "helper"
    if match.status == "suggested" and (
        match.invited_by == "service" or (was_asked_in_a_wave(match) if asked is None else asked)
    ):
        return "helper"
    return None


def allowed_actions(match: Match, side: str, asked: bool | None = None) -> list[str]:
    """What this side can do with the match now (the pages show these buttons)."""
    awaiting = awaiting_side(match, asked)
    actions: list[str] = []
    if awaiting == side:
        actions += ["accept", "decline"]
    elif match.status == "suggested" and side == "requester":
        actions += ["invite", "decline"]
    if match.status == "invited" and awaiting != side:
        actions.append("cancel")
    if match.status == "accepted":
        actions += ["done", "cancel"]
    if match.status in ("invited", "accepted", "done"):
        actions += ["message", "report"]
    if match.status == "done" and side == "requester" and match.feedback_at is None:
        actions.append("thanks")
    return actions


def _explanation(match: Match, language: str) -> str:
    """The stored explanation with its exact distance replaced by the rounded one."""
    text = match.explanation_en if language == "en" else match.explanation_nl
    parts = (text or "").split(" · ")
    label = approximate_distance(match.distance_m, language)["distance_label"]
    if parts and parts[0].endswith((" m", " km")) and label:
        parts[0] = label
    return " · ".join(p for p in parts if p)


def _contact(resident: Resident, channels: list[str]) -> dict:
    """The contact details a resident chose to share (by their channels)."""
    contact = {"first_name": first_name(resident), "channels": channels}
    if resident.erased_at is not None:
        return contact
    wants_phone = any(c in channels for c in ("phone", "video"))
    wants_email = "message" in channels
    if not (wants_phone or wants_email):  # nothing chosen: whatever reaches them
        wants_phone = wants_email = True
    if wants_phone and resident.phone:
        contact["phone"] = resident.phone
    if wants_email and resident.email:
        contact["email"] = resident.email
    return contact


def _address(request: HelpRequest, requester: Resident) -> dict:
    """Where the help is: another address given with the request, else the requester's home."""
    if request.address_line:
        return {"address_line": request.address_line, "postcode": request.postcode}
    line = " ".join(p for p in (requester.street, requester.house_number) if p)
    return {
        "address_line": line or None,
        "street": requester.street,
        "house_number": requester.house_number,
        "postcode": requester.postcode,
    }


def match_view(match: Match, side: str, language: str = "nl", asked: bool | None = None) -> dict:
    """One match as `side` may see it (see the module docstring for what is private).

    Reads the match's request, category, requester, helper and neighbourhood through its
    relationships: lists load them with `load_for_views` (which also gives `asked`), so a
    page of matches costs one statement, not a few per match."""
    language = language_or_default(language)
    request = match.request
    category = request.category
    requester = request.requester
    helper = match.helper
    other = helper if side == "requester" else requester
    view = {
        "match_id": match.id,
        "request_id": request.id,
        "role": side,
        "status": match.status,
        "request_status": request.status,
        "rank": match.rank,
        "other_first_name": first_name(other),
        "category": category.code,
        "category_name": category_name(category, language),
        "description": request.description,
        "urgency": request.urgency,
        "when": when_view(request, language),
        "neighbourhood": request.neighbourhood.name if request.neighbourhood else None,
        **approximate_distance(match.distance_m, language),
        "distance_band": distance_band_label(match.distance_m, language),
        "explanation": _explanation(match, language) if side == "requester" else None,
        "invited_by": match.invited_by,
        "awaiting": awaiting_side(match, asked),
        "actions": allowed_actions(match, side, asked),
        "invited_at": match.invited_at,
        "accepted_at": match.accepted_at,
        "done_at": match.done_at,
        "feedback_rating": match.feedback_rating,
        "thanks_note": match.thanks_note,
        "status_reason": match.status_reason,
        "updated_at": match.status_changed_at,
        "address": None,
        "contact": None,
    }
    if match.status in ("accepted", "done"):
        if side == "helper":
            view["address"] = _address(request, requester)
            channels = [request.contact_channel] if request.contact_channel else []
            view["contact"] = _contact(requester, channels or channel_codes(requester.channel_mask))
        else:
            view["contact"] = _contact(helper, channel_codes(helper.channel_mask))
    return view


def match_detail(match_id: int, resident_id: int, language: str = "nl") -> dict:
    """The match as this resident may see it (NotFound when they are not one of its sides)."""
    match, side = party_match(match_id, resident_id)
    return match_view(match, side, language)


def suggestions_for_request(request_id: int, requester_id: int, language: str = "nl") -> list[dict]:
    """The ranked helpers for the requester's own request: first name, rounded distance,
    explanation and status (suggested, invited, accepted, done); best first."""
    request = db.session.get(HelpRequest, request_id, options=REQUEST_VIEW_LOADS)
    if request is None or request.requester_id != requester_id:
        raise NotFound(f"request {request_id} does not exist", field="request_id")
    # The request (with its category, requester, neighbourhood) is in the session already:
    # only the helpers are joined.
    rows = db.session.execute(
        select(Match, _asked_in_a_wave())
        .options(joinedload(Match.helper))
        .where(Match.request_id == request_id, Match.status.in_(SHOWN_SUGGESTION_STATUSES))
        .order_by(Match.rank.is_(None), Match.rank, Match.score.desc(), Match.id)
    ).all()
    order = {s: i for i, s in enumerate(("accepted", "done", "invited", "suggested"))}
    rows = sorted(rows, key=lambda row: order[row[0].status])  # stable: keeps the rank order
    seen: set[int] = set()  # a helper with two fitting offers is shown once, at their best
    shown = [(m, a) for m, a in rows if not (m.helper_id in seen or seen.add(m.helper_id))]
    return [match_view(m, "requester", language, bool(a)) for m, a in shown]


def _invitation_view(match: Match, language: str, asked: bool | None = None) -> dict:
    """An invitation as the helper sees it: what, roughly where, when; no name or address."""
    view = match_view(match, "helper", language, asked)
    keep = (
        "match_id",
        "request_id",
        "status",
        "category",
        "category_name",
        "description",
        "urgency",
        "when",
        "neighbourhood",
        "distance_band",
        "invited_by",
        "invited_at",
        "actions",
    )
    return {key: view[key] for key in keep}


def invitations_for_helper(helper_id: int, language: str = "nl") -> list[dict]:
    """Matches waiting for this helper's yes or no, newest first: category, description,
    distance band and neighbourhood only."""
    asked = select(Notification.request_id).where(
        Notification.kind == HELP_WANTED, Notification.resident_id == helper_id
    )
    rows = load_for_views(
        select(Match)
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(
            Match.helper_id == helper_id,
            HelpRequest.status == "open",
            or_(
                and_(Match.status == "invited", Match.invited_by != "helper"),
                and_(
                    Match.status == "suggested",
                    or_(Match.invited_by == "service", Match.request_id.in_(asked)),
                ),
            ),
        )
        .order_by(Match.status_changed_at.desc(), Match.id.desc())
    )
    return [_invitation_view(m, language, asked) for m, asked in rows]
