"""Knowing each other and blocking: a resident hands out an invitation code, the other confirms
it and a `knows` trust tie exists (matching then trusts the pair); either can undo it or block
the other, and a blocked pair is never matched (the engine filters blocks)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import HelpRequest, Match, Resident, ResidentBlock, SecretToken, TrustTie
from ..models.base import utcnow
from .helping_views import first_name
from .notifications import notify
from .tokens import find_live_token, issue_token, spend_token
from .transactions import commit

INVITATION_VALID_FOR = timedelta(days=14)
KNOWS_WEIGHT = 0.8


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None:
        raise NotFound(f"resident {resident_id} does not exist", field="resident_id")
    return resident


def _blocked(a: int, b: int) -> bool:
    return bool(
        db.session.scalar(
            select(ResidentBlock.blocker_id).where(
                or_(
                    (ResidentBlock.blocker_id == a) & (ResidentBlock.blocked_id == b),
                    (ResidentBlock.blocker_id == b) & (ResidentBlock.blocked_id == a),
                )
            )
        )
    )


def create_tie_invitation(resident_id: int) -> dict:
    """A code (valid 14 days, single use) to give to someone you know; shown only now.

    Returns {"code", "expires_at"}; pages and the API turn the code into a link."""
    _resident(resident_id)
    token, code = issue_token("tie_invite", resident_id=resident_id, valid_for=INVITATION_VALID_FOR)
    commit()
    return {"code": code, "expires_at": token.expires_at}


def _knows_tie(a: int, b: int) -> TrustTie | None:
    low, high = _pair(a, b)
    return db.session.scalar(
        select(TrustTie).where(
            TrustTie.resident_a_id == low,
            TrustTie.resident_b_id == high,
            TrustTie.kind == "knows",
        )
    )


def tie_view(tie: TrustTie, resident_id: int) -> dict:
    """A tie as one of its two residents sees it: the other's first name only."""
    other_id = tie.resident_b_id if tie.resident_a_id == resident_id else tie.resident_a_id
    return {
        "resident_id": other_id,
        "first_name": first_name(db.session.get(Resident, other_id)),
        "kind": tie.kind,
        "since": tie.confirmed_at or tie.created_at,
    }


def confirm_tie_invitation(resident_id: int, code: str) -> dict:
    """Confirm someone's invitation code: both now `know` each other (idempotent)."""
    me = _resident(resident_id)
    token = find_live_token("tie_invite", code)
    inviter_id = token.resident_id
    if inviter_id == resident_id:
        raise Invalid(
            "this is your own code; give it to someone you know", field="code", rule="not_self"
        )
    inviter = db.session.get(Resident, inviter_id)
    if inviter is None or inviter.erased_at is not None or _blocked(inviter_id, resident_id):
        raise Invalid("this code or link is not valid (any more)", field="code", rule="valid")
    tie = _knows_tie(inviter_id, resident_id)
    now = utcnow()
    if tie is None:
        low, high = _pair(inviter_id, resident_id)
        tie = TrustTie(resident_a_id=low, resident_b_id=high, kind="knows", weight=KNOWS_WEIGHT)
        db.session.add(tie)
    tie.confirmed_at = tie.confirmed_at or now
    spend_token(token)
    commit()
    notify(
        inviter_id,
        "tie_confirmed",
        f"tie_confirmed:{token.id}",
        f"{first_name(me)} kent u",
        f"{first_name(me)} heeft bevestigd dat u elkaar kent.",
    )
    return tie_view(tie, resident_id)


def remove_tie(resident_id: int, other_id: int) -> None:
    """Undo a `knows` tie (either side may)."""
    tie = _knows_tie(resident_id, other_id)
    if tie is None or resident_id == other_id:
        raise NotFound("you have no such tie", field="resident_id")
    db.session.delete(tie)
    commit()


def _related(resident_id: int, other_id: int) -> bool:
    """Whether the two met through the service (a tie or a match): only such can be blocked,
    so ids cannot be probed."""
    low, high = _pair(resident_id, other_id)
    if db.session.scalar(
        select(TrustTie.id).where(TrustTie.resident_a_id == low, TrustTie.resident_b_id == high)
    ):
        return True
    return bool(
        db.session.scalar(
            select(Match.id)
            .join(HelpRequest, HelpRequest.id == Match.request_id)
            .where(
                or_(
                    (HelpRequest.requester_id == resident_id) & (Match.helper_id == other_id),
                    (HelpRequest.requester_id == other_id) & (Match.helper_id == resident_id),
                )
            )
            .limit(1)
        )
    )


def block_resident(resident_id: int, other_id: int) -> dict:
    """Block someone one met through the service: their `knows` tie ends and their suggested
    and invited matches are cancelled; they are never matched again."""
    _resident(resident_id)
    if other_id == resident_id:
        raise Invalid("you cannot block yourself", field="resident_id", rule="not_self")
    if db.session.get(Resident, other_id) is None or not _related(resident_id, other_id):
        raise NotFound(f"resident {other_id} does not exist", field="resident_id")
    if db.session.get(ResidentBlock, (resident_id, other_id)) is None:
        db.session.add(ResidentBlock(blocker_id=resident_id, blocked_id=other_id))
    tie = _knows_tie(resident_id, other_id)
    if tie is not None:
        db.session.delete(tie)
    now = utcnow()
    for match in db.session.scalars(
        select(Match)
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(
            Match.status.in_(("suggested", "invited")),
            or_(
                (HelpRequest.requester_id == resident_id) & (Match.helper_id == other_id),
                (HelpRequest.requester_id == other_id) & (Match.helper_id == resident_id),
            ),
        )
    ):
        match.status = "cancelled" if match.status == "invited" else "expired"
        match.status_reason, match.status_changed_at = "blocked", now
    commit()
    return {"resident_id": other_id, "first_name": first_name(db.session.get(Resident, other_id))}


def unblock_resident(resident_id: int, other_id: int) -> None:
    """Lift one's own block (a block by the other side stays)."""
    block = db.session.get(ResidentBlock, (resident_id, other_id))
    if block is None:
        raise NotFound("you have not blocked this resident", field="resident_id")
    db.session.delete(block)
    commit()


def my_ties(resident_id: int) -> dict:
    """The people I know (confirmed `knows` ties), whom I blocked, and my open invitations;
    first names only."""
    ties = db.session.scalars(
        select(TrustTie)
        .where(
            TrustTie.kind == "knows",
            TrustTie.confirmed_at.is_not(None),
            or_(TrustTie.resident_a_id == resident_id, TrustTie.resident_b_id == resident_id),
        )
        .order_by(TrustTie.confirmed_at.desc(), TrustTie.id)
    ).all()
    blocks = db.session.scalars(
        select(ResidentBlock)
        .where(ResidentBlock.blocker_id == resident_id)
        .order_by(ResidentBlock.created_at.desc())
    ).all()
    now = utcnow()
    open_invitations = len(
        db.session.scalars(
            select(SecretToken.id).where(
                SecretToken.purpose == "tie_invite",
                SecretToken.resident_id == resident_id,
                SecretToken.used_at.is_(None),
                SecretToken.revoked_at.is_(None),
                SecretToken.expires_at > now,
            )
        ).all()
    )
    return {
        "ties": [tie_view(t, resident_id) for t in ties],
        "blocked": [
            {
                "resident_id": b.blocked_id,
                "first_name": first_name(db.session.get(Resident, b.blocked_id)),
                "since": b.created_at,
            }
            for b in blocks
        ],
        "open_invitations": open_invitations,
    }
