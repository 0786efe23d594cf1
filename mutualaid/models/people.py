"""People: residents, user accounts and what is recorded about them (consent, VOG, vouches)."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin, UTCDateTime, in_list, utcnow
from .vocab import CONSENT_METHODS, CONSENT_PURPOSES, GEOCODE_STATUSES, LOCATION_SOURCES, ROLES


class Resident(TimestampMixin, db.Model):
    """A person who asks for or offers help. The home location is private (DESIGN §8)."""

    __tablename__ = "residents"
    __table_args__ = (
        CheckConstraint("home_lat BETWEEN -90 AND 90", name="home_lat_range"),
        CheckConstraint("home_lon BETWEEN -180 AND 180", name="home_lon_range"),
        CheckConstraint("language_mask >= 0", name="language_mask_range"),
        CheckConstraint("channel_mask >= 0 AND channel_mask < 16", name="channel_mask_range"),
        CheckConstraint(
            "erased_at IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL "
            "OR registered_by_user_id IS NOT NULL",
            name="reachable",
        ),
        CheckConstraint(
            f"location_source IS NULL OR {in_list('location_source', LOCATION_SOURCES)}",
            name="location_source_known",
        ),
        CheckConstraint(
            f"geocode_status IS NULL OR {in_list('geocode_status', GEOCODE_STATUSES)}",
            name="geocode_status_known",
        ),
        Index("ix_residents_home_lat_lon", "home_lat", "home_lon"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80), nullable=False)
    last_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    street: Mapped[str | None] = mapped_column(String(120))
    house_number: Mapped[str | None] = mapped_column(String(16))
    postcode: Mapped[str | None] = mapped_column(String(7))
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    neighbourhood_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbourhoods.id", ondelete="SET NULL"), index=True
    )
    language_mask: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    channel_mask: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # False: the resident is helped offline (by phone, in person) through a community worker.
    self_service: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    known_to_services: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    first_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    registered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where the home point came from, and how the (background) geocoding of the address went.
    location_source: Mapped[str | None] = mapped_column(String(16))
    geocode_status: Mapped[str | None] = mapped_column(String(12))

    neighbourhood = relationship("Neighbourhood")
    account = relationship(
        "User", back_populates="resident", uselist=False, foreign_keys="User.resident_id"
    )

    def __repr__(self) -> str:
        return f"<Resident {self.id} {self.first_name}>"


class User(UserMixin, TimestampMixin, db.Model):
    """A login. Residents have one linked to their Resident row; staff roles have none."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(in_list("role", ROLES), name="role_known"),
        CheckConstraint(
            "role <> 'municipality' OR municipality_code IS NOT NULL", name="municipality_scoped"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), unique=True
    )
    municipality_code: Mapped[str | None] = mapped_column(String(6))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Bumped by "sign out everywhere" and password changes: older sessions stop counting.
    session_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the owner confirmed the email address (a link sent to it); NULL: not yet.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Second factor (staff): the TOTP secret, encrypted (services/second_factor.py); set but
    # not enabled while enrolment is under way. The last accepted time-step refuses replays.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Wrong codes since the last right one (a pending sign-in ends after a few).
    totp_failed_attempts: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )

    resident = relationship("Resident", back_populates="account", foreign_keys=[resident_id])
    neighbourhoods = relationship("Neighbourhood", secondary="worker_assignments")

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot log in
        return self.is_enabled


class WorkerAssignment(db.Model):
    """Which neighbourhoods a community worker covers (scopes their access to personal data)."""

    __tablename__ = "worker_assignments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    neighbourhood_id: Mapped[int] = mapped_column(
        ForeignKey("neighbourhoods.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ConsentRecord(db.Model):
    """Consent given (or withdrawn) for a purpose; also when a worker records it on behalf."""

    __tablename__ = "consent_records"
    __table_args__ = (
        CheckConstraint(in_list("purpose", CONSENT_PURPOSES), name="purpose_known"),
        CheckConstraint(in_list("method", CONSENT_METHODS), name="method_known"),
        CheckConstraint(
            "withdrawn_at IS NULL OR withdrawn_at >= given_at", name="withdrawn_after_given"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)


class VogRecord(db.Model):
    """A VOG (Verklaring Omtrent het Gedrag) a worker has seen, with its issue date."""

    __tablename__ = "vog_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    # Screening profile of the VOG (e.g. "84 Personen met kinderen"); never the document.
    screening_profile: Mapped[str | None] = mapped_column(String(80))
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class Vouch(db.Model):
    """A community worker vouches for a resident (adds to the resident's standing in matching)."""

    __tablename__ = "vouches"
    __table_args__ = (db.UniqueConstraint("resident_id", "worker_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    worker_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ResidentBlock(db.Model):
    """A resident does not want to be matched with another resident again."""

    __tablename__ = "resident_blocks"
    __table_args__ = (CheckConstraint("blocker_id <> blocked_id", name="not_self"),)

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
