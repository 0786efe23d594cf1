"""Messages in a match thread (readable for both parties after the help ends)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("length(body) > 0", name="body_not_empty"),
        CheckConstraint(
            "sender_resident_id IS NOT NULL OR sender_user_id IS NOT NULL", name="has_sender"
        ),
        Index("ix_messages_match_created", "match_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_id: Mapped[int] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), nullable=False
    )
    # A resident writes as themself; a worker (assisted resident) writes as a user.
    sender_resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )
    sender_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
