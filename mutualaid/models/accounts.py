"""Secrets handed to people (password reset links, API tokens, activation and invitation codes).

Only a hash is stored: a leaked database does not give anyone a working token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, in_list, utcnow
from .vocab import TOKEN_PURPOSES


class SecretToken(db.Model):
    """One secret: single-use (reset, activation, invitation) or revocable (API token)."""

    __tablename__ = "secret_tokens"
    __table_args__ = (
        CheckConstraint(in_list("purpose", TOKEN_PURPOSES), name="purpose_known"),
        CheckConstraint(
            "user_id IS NOT NULL OR resident_id IS NOT NULL", name="belongs_to_someone"
        ),
        Index("ix_secret_tokens_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    # sha256 hex of the secret; secrets are random, so no salt or slow hash is needed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    # A name the owner gives an API token ("my phone"); never the secret itself.
    label: Mapped[str | None] = mapped_column(String(80))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User", foreign_keys=[user_id])
