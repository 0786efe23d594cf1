"""Notifications to residents (in-app always; email or SMS when configured)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, in_list, utcnow

NOTIFICATION_CHANNELS = ("in_app", "email", "sms")
NOTIFICATION_STATUSES = ("pending", "sent", "failed")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(in_list("channel", NOTIFICATION_CHANNELS), name="channel_known"),
        CheckConstraint(in_list("status", NOTIFICATION_STATUSES), name="status_known"),
        CheckConstraint("wave IS NULL OR wave >= 1", name="wave_positive"),
        Index("ix_notifications_resident_created", "resident_id", "created_at"),
        Index("ix_notifications_request_wave", "request_id", "wave"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: the same notification is never sent twice, however often a job is retried.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE")
    )
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False, default="in_app")
    wave: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
