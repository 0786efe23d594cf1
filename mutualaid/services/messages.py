"""Message threads per match: only its two residents write and read, from the invitation on,
and the thread stays readable after the help ended."""

from __future__ import annotations

from sqlalchemy import func, select, update

from ..errors import Conflict
from ..extensions import db
from ..models import HelpRequest, Match, Message, Resident
from ..models.base import utcnow
from .helping_views import first_name, party_match
from .match_steps import category_nl
from .notifications import notify
from .transactions import commit
from .validation import require_text

# A thread opens once someone was asked; after the help it stays readable (and writable).
THREAD_STATUSES = ("invited", "accepted", "done")
MAX_MESSAGE_LENGTH = 4000


def message_view(message: Message, resident_id: int) -> dict:
    """One message as a side of the thread sees it."""
    sender = (
        db.session.get(Resident, message.sender_resident_id)
        if message.sender_resident_id is not None
        else None
    )
    mine = message.sender_resident_id == resident_id
    return {
        "id": message.id,
        "match_id": message.match_id,
        "mine": mine,
        "sender_first_name": first_name(sender) if sender else "Wijkcoach",
        "body": message.body,
        "created_at": message.created_at,
        "read_at": message.read_at,
    }


def post_message(match_id: int, resident_id: int, body: str) -> dict:
    """Write in the thread of a match one is a side of; the other side is told in-app (the
    notification does not repeat the text, so no contact details travel through it)."""
    match, side = party_match(match_id, resident_id)
    body = require_text("body", body, max_length=MAX_MESSAGE_LENGTH)
    if match.status not in THREAD_STATUSES:
        raise Conflict(
            "messages can be written once someone was invited for this help",
            field="status",
            rule="thread_open",
        )
    message = Message(match_id=match.id, sender_resident_id=resident_id, body=body)
    db.session.add(message)
    commit()
    request = db.session.get(HelpRequest, match.request_id)
    other_id = match.helper_id if side == "requester" else request.requester_id
    name = first_name(db.session.get(Resident, resident_id))
    notify(
        other_id,
        "message",
        f"message:{message.id}:{other_id}",
        f"Nieuw bericht van {name}",
        f"{name} stuurde u een bericht over {category_nl(request)}. Lees het in mutualaid.",
        request_id=request.id,
        match_id=match.id,
    )
    return message_view(message, resident_id)


def thread(match_id: int, resident_id: int) -> dict:
    """The thread of a match, oldest first; the other side's messages are marked read.

    Returns {"match_id", "status", "other_first_name", "can_write", "messages": [...]}."""
    match, side = party_match(match_id, resident_id)
    now = utcnow()
    marked = db.session.execute(
        update(Message)
        .where(
            Message.match_id == match.id,
            Message.read_at.is_(None),
            (Message.sender_resident_id.is_(None)) | (Message.sender_resident_id != resident_id),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount:  # nothing newly read (the usual re-read): nothing to commit
        commit()
    messages = db.session.scalars(
        select(Message)
        .where(Message.match_id == match.id)
        .order_by(Message.created_at, Message.id)
        .execution_options(populate_existing=True)
    ).all()
    other = match.helper if side == "requester" else match.request.requester
    return {
        "match_id": match.id,
        "status": match.status,
        "role": side,
        "other_first_name": first_name(other),
        "can_write": match.status in THREAD_STATUSES,
        "messages": [message_view(m, resident_id) for m in messages],
    }


def unread_count(resident_id: int) -> int:
    """How many messages from others in the resident's threads are still unread."""
    own_requests = select(HelpRequest.id).where(HelpRequest.requester_id == resident_id)
    mine = select(Match.id).where(
        (Match.helper_id == resident_id) | (Match.request_id.in_(own_requests))
    )
    return (
        db.session.scalar(
            select(func.count(Message.id)).where(
                Message.match_id.in_(mine),
                Message.read_at.is_(None),
                (Message.sender_resident_id.is_(None))
                | (Message.sender_resident_id != resident_id),
            )
        )
        or 0
    )
