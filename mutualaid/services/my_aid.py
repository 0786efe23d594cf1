"""The personal overview ("Mijn burenhulp"): all of a resident's requests, offers, matches and
message threads, newest first, finished ones included."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from ..extensions import db
from ..models import HelpRequest, Match, Message, Offer
from .aid_views import (
    OFFER_VIEW_LOADS,
    REQUEST_LIST_LOADS,
    active_match_counts,
    match_counts,
    offer_view,
    page_of,
    request_view,
    require_page,
)
from .helping_views import invitations_for_helper, load_for_views, match_view, side_of


def _my_matches_statement(resident_id: int):
    """Matches the resident is a side of that someone acted on (asked, offered, accepted)."""
    own_requests = select(HelpRequest.id).where(HelpRequest.requester_id == resident_id)
    return (
        select(Match)
        .where(
            or_(Match.helper_id == resident_id, Match.request_id.in_(own_requests)),
            or_(Match.invited_at.is_not(None), Match.status.in_(("accepted", "done"))),
        )
        .order_by(Match.status_changed_at.desc(), Match.id.desc())
    )


def my_matches(resident_id: int, language: str = "nl") -> list[dict]:
    """Every match the resident is a side of (as requester or helper) that went beyond a
    suggestion, newest first."""
    rows = load_for_views(_my_matches_statement(resident_id))
    return [match_view(m, side_of(m, resident_id), language, asked) for m, asked in rows]


def my_matches_page(
    resident_id: int, page: int = 1, per_page: int = 20, language: str = "nl"
) -> dict:
    """One page of my_matches: {items, page, per_page, total}."""
    page, per_page = require_page(page, per_page)
    statement = _my_matches_statement(resident_id)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = load_for_views(statement.limit(per_page).offset((page - 1) * per_page))
    items = [match_view(m, side_of(m, resident_id), language, asked) for m, asked in rows]
    return page_of(items, page, per_page, total or 0)


def my_threads(resident_id: int, language: str = "nl") -> list[dict]:
    """Message threads of the resident's matches, the latest first, with unread counts."""
    own_requests = select(HelpRequest.id).where(HelpRequest.requester_id == resident_id)
    rows = db.session.execute(
        select(
            Message.match_id,
            func.max(Message.created_at),
            func.count(Message.id),
            func.sum(
                case(
                    (
                        and_(
                            Message.read_at.is_(None),
                            or_(
                                Message.sender_resident_id.is_(None),
                                Message.sender_resident_id != resident_id,
                            ),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .join(Match, Match.id == Message.match_id)
        .where(or_(Match.helper_id == resident_id, Match.request_id.in_(own_requests)))
        .group_by(Message.match_id)
        .order_by(func.max(Message.created_at).desc())
    ).all()
    loaded = (
        dict(
            (match.id, (match, asked))
            for match, asked in load_for_views(
                select(Match).where(Match.id.in_([row[0] for row in rows]))
            )
        )
        if rows
        else {}
    )
    threads = []
    for match_id, last_at, count, unread in rows:
        match, asked = loaded[match_id]
        side = side_of(match, resident_id)
        view = match_view(match, side, language, asked)
        threads.append(
            {
                "match_id": match_id,
                "other_first_name": view["other_first_name"],
                "category_name": view["category_name"],
                "status": match.status,
                "messages": count,
                "unread": int(unread or 0),
                "last_message_at": last_at,
            }
        )
    return threads


def my_overview(resident_id: int, language: str = "nl") -> dict:
    """ "Mijn burenhulp": my requests, offers, matches and threads, newest first, finished ones
    included."""
    requests = db.session.scalars(
        select(HelpRequest)
        .options(*REQUEST_LIST_LOADS)
        .where(HelpRequest.requester_id == resident_id)
        .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
    ).all()
    offers = db.session.scalars(
        select(Offer)
        .options(*OFFER_VIEW_LOADS)
        .where(Offer.helper_id == resident_id)
        .order_by(Offer.created_at.desc(), Offer.id.desc())
    ).all()
    counts = match_counts([r.id for r in requests])
    active = active_match_counts([o.id for o in offers])
    return {
        "requests": [request_view(r, language, counts.get(r.id, {})) for r in requests],
        "offers": [offer_view(o, language, active.get(o.id, 0)) for o in offers],
        "matches": my_matches(resident_id, language),
        "invitations": invitations_for_helper(resident_id, language),
        "threads": my_threads(resident_id, language),
    }
