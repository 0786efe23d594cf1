"""Small steps the match services share: status changes, the request lock, notifications."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import Category, HelpRequest, Match
from ..models.base import utcnow
from .notifications import notify
from .validation import require_text


def tell(resident_id: int, kind: str, match: Match, subject: str, body: str) -> None:
    """An in-app notification (and email when configured) about a match; sent once per key.

    Texts name the category and a first name only: never an address, phone or email."""
    notify(
        resident_id,
        kind,
        f"{kind}:{match.id}:{resident_id}",
        subject,
        body,
        request_id=match.request_id,
        match_id=match.id,
    )


def category_nl(request: HelpRequest) -> str:
    return db.session.get(Category, request.category_id).name_nl.lower()


def set_status(match: Match, status: str, reason: str | None = None) -> None:
    match.status = status
    match.status_changed_at = utcnow()
    if reason is not None:
        match.status_reason = reason


def releases_lock_on_error(service: Callable) -> Callable:
    """Roll back when the service refuses (a 4xx): the request row lock is released at once
    and nothing half-changed stays in the session, whoever called the service."""

    @wraps(service)
    def wrapped(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except DomainError:
            db.session.rollback()
            raise

    return wrapped


def lock_request(request_id: int) -> HelpRequest:
    """The request row, locked until commit (PostgreSQL; SQLite serialises writers anyway)."""
    return db.session.execute(
        select(HelpRequest)
        .where(HelpRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def fresh(match: Match) -> Match:
    """The match as stored now (after the request lock, another accept may have changed it)."""
    return db.session.execute(
        select(Match).where(Match.id == match.id).execution_options(populate_existing=True)
    ).scalar_one()


def reason_text(reason: str | None) -> str | None:
    if reason is None:
        return None
    return require_text("reason", reason, max_length=500, required=False) or None
