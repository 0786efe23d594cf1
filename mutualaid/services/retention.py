"""Retention: closed requests are anonymised after a configurable period (AVG/GDPR).

What is kept is what the statistics need: the rows themselves, their category, neighbourhood,
status and dates, and the matches' outcomes and scores. What goes is what could identify or
describe a person: the description, the address and exact point (moved to the neighbourhood's
centre), thank-you notes and reasons, the message texts and the notifications about it.

Self-registered accounts whose email address was never confirmed are removed outright after
UNCONFIRMED_ACCOUNT_DAYS: nobody could use them, and nothing else refers to them.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import (
    ConsentRecord,
    HelpRequest,
    Match,
    Message,
    Neighbourhood,
    Notification,
    ProblemReport,
    Resident,
    SecretToken,
    User,
)
from ..models.base import utcnow
from .transactions import commit

CLOSED_STATUSES = ("done", "cancelled", "expired")
REMOVED_TEXT = "[verwijderd]"


def anonymise_closed_requests(older_than_days: int | None = None, batch: int = 1000) -> dict:
    """Anonymise requests closed longer ago than the retention period; return the counts."""
    days = older_than_days if older_than_days is not None else current_app.config["RETENTION_DAYS"]
    cutoff = utcnow() - timedelta(days=days)
    totals = {"requests": 0, "matches": 0, "messages": 0, "notifications": 0}
    while True:
        ids = db.session.scalars(
            select(HelpRequest.id)
            .where(
                HelpRequest.status.in_(CLOSED_STATUSES),
                HelpRequest.closed_at < cutoff,
                HelpRequest.anonymised_at.is_(None),
            )
            .limit(batch)
        ).all()
        if not ids:
            return totals
        counts = _anonymise(ids)
        for key, value in counts.items():
            totals[key] += value
        commit()  # per batch: a long backlog never holds one huge transaction


def _anonymise(request_ids: list[int]) -> dict:
    now = utcnow()
    centre = (
        select(Neighbourhood.centroid_lat, Neighbourhood.centroid_lon)
        .where(Neighbourhood.id == HelpRequest.neighbourhood_id)
        .correlate(HelpRequest)
    )
    requests = db.session.execute(
        update(HelpRequest)
        .where(HelpRequest.id.in_(request_ids))
        .values(
            description="",
            address_line=None,
            postcode=None,
            street=None,
            # The exact point could show where someone lives: the neighbourhood's centre is
            # enough for figures per neighbourhood (rounded when there is no neighbourhood).
            lat=db.func.coalesce(
                centre.with_only_columns(Neighbourhood.centroid_lat).scalar_subquery(),
                db.func.round(db.cast(HelpRequest.lat, db.Numeric), 2),
            ),
            lon=db.func.coalesce(
                centre.with_only_columns(Neighbourhood.centroid_lon).scalar_subquery(),
                db.func.round(db.cast(HelpRequest.lon, db.Numeric), 2),
            ),
            anonymised_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    match_ids = select(Match.id).where(Match.request_id.in_(request_ids))
    matches = db.session.execute(
        update(Match)
        .where(Match.request_id.in_(request_ids))
        .values(thanks_note=None, status_reason=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    messages = db.session.execute(
        update(Message)
        .where(Message.match_id.in_(match_ids), Message.body != REMOVED_TEXT)
        .values(body=REMOVED_TEXT)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(ProblemReport)
        .where(ProblemReport.request_id.in_(request_ids))
        .values(body=REMOVED_TEXT)
        .execution_options(synchronize_session=False)
    )
    notifications = db.session.execute(
        delete(Notification)
        .where((Notification.request_id.in_(request_ids)) | (Notification.match_id.in_(match_ids)))
        .execution_options(synchronize_session=False)
    ).rowcount
    return {
        "requests": requests,
        "matches": matches,
        "messages": messages,
        "notifications": notifications,
    }


def remove_unconfirmed_accounts(older_than_days: int | None = None) -> int:
    """Remove self-registered accounts whose email address was not confirmed in time (with
    their resident, consent and links); how many. Nothing else can hang off them: an account
    that is not confirmed cannot sign in, and its registration's other work waits for the
    confirmation."""
    days = (
        older_than_days
        if older_than_days is not None
        else current_app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    )
    cutoff = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(User.id, User.resident_id).where(
            User.email_confirmed_at.is_(None),
            User.role == "resident",
            User.created_at < cutoff,
        )
    ).all()
    if not rows:
        return 0
    user_ids = [user_id for user_id, _ in rows]
    resident_ids = [resident_id for _, resident_id in rows if resident_id is not None]
    db.session.execute(
        delete(SecretToken)
        .where(SecretToken.user_id.in_(user_ids) | SecretToken.resident_id.in_(resident_ids))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(ConsentRecord)
        .where(ConsentRecord.resident_id.in_(resident_ids))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(User).where(User.id.in_(user_ids)).execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(Resident)
        .where(Resident.id.in_(resident_ids))
        .execution_options(synchronize_session=False)
    )
    commit()
    return len(user_ids)
