"""A resident's in-app notifications: list them (newest first), count unread, mark read."""

from __future__ import annotations

from sqlalchemy import func, select, update

from ..errors import NotFound
from ..extensions import db
from ..models import Notification
from ..models.base import utcnow
from .transactions import commit


def _in_app(resident_id: int):
    # Each channel keeps its own row; the in-app row is the one shown on the page.
    return select(Notification).where(
        Notification.resident_id == resident_id, Notification.channel == "in_app"
    )


def list_notifications(
    resident_id: int, *, page: int = 1, per_page: int = 20, unread_only: bool = False
) -> tuple[list[Notification], int]:
    """One page of the resident's in-app notifications, newest first, with the total."""
    query = _in_app(resident_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def unread_count(resident_id: int) -> int:
    """How many in-app notifications the resident has not read yet (the badge in the menu)."""
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.resident_id == resident_id,
            Notification.channel == "in_app",
            Notification.read_at.is_(None),
        )
    )


def mark_read(resident_id: int, notification_id: int) -> Notification:
    """Mark one of the resident's notifications read; someone else's is NotFound."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.resident_id != resident_id or row.channel != "in_app":
        raise NotFound(f"notification {notification_id} does not exist", field="notification_id")
    if row.read_at is None:
        row.read_at = utcnow()
        commit()
    return row


def mark_all_read(resident_id: int) -> int:
    """Mark all the resident's in-app notifications read; how many changed."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.resident_id == resident_id,
            Notification.channel == "in_app",
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    commit()
    return result.rowcount
