"""Help requests (hulpvragen), offers of help (hulpaanbod) and their categories."""

from __future__ import annotations

from datetime import date, datetime

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
from .base import TimestampMixin, UTCDateTime, in_list
from .vocab import CHANNELS, LOCATION_SOURCES, REQUEST_STATUSES, URGENCIES

SLOTS_RANGE = "{col} >= 0 AND {col} < 2097152"  # 21 weekly slots: 7 days x 3 day-parts


class Category(db.Model):
    """A kind of help (boodschappen, vervoer, ...). `bit` is its position in offer bitmasks."""

    __tablename__ = "categories"
    __table_args__ = (CheckConstraint("bit >= 0 AND bit < 63", name="bit_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    bit: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    name_nl: Mapped[str] = mapped_column(String(80), nullable=False)
    name_en: Mapped[str] = mapped_column(String(80), nullable=False)
    requires_vog: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class HelpRequest(TimestampMixin, db.Model):
    """A resident's request for help, with where, when and what kind."""

    __tablename__ = "help_requests"
    __table_args__ = (
        CheckConstraint(in_list("status", REQUEST_STATUSES), name="status_known"),
        CheckConstraint(in_list("urgency", URGENCIES), name="urgency_known"),
        CheckConstraint(SLOTS_RANGE.format(col="slots"), name="slots_range"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint(
            "max_distance_m > 0 AND max_distance_m <= 50000", name="max_distance_range"
        ),
        CheckConstraint(
            "window_end IS NULL OR window_start IS NULL OR window_end >= window_start",
            name="window_order",
        ),
        CheckConstraint(
            "registered_by_user_id IS NULL OR consent_id IS NOT NULL", name="consent_when_on_behalf"
        ),
        CheckConstraint(
            f"contact_channel IS NULL OR {in_list('contact_channel', CHANNELS)}",
            name="contact_channel_known",
        ),
        CheckConstraint(
            f"location_source IS NULL OR {in_list('location_source', LOCATION_SOURCES)}",
            name="location_source_known",
        ),
        Index("ix_help_requests_status_neighbourhood", "status", "neighbourhood_id"),
        Index("ix_help_requests_lat_lon", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    street: Mapped[str | None] = mapped_column(String(120))
    # Private: shown only to the accepted helper. NULL means "at the requester's home".
    address_line: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(7))
    location_source: Mapped[str | None] = mapped_column(String(16))
    neighbourhood_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbourhoods.id", ondelete="SET NULL"), index=True
    )
    contact_channel: Mapped[str | None] = mapped_column(String(12))
    urgency: Mapped[str] = mapped_column(String(8), default="normal", nullable=False)
    slots: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    recurring: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    max_distance_m: Mapped[int] = mapped_column(Integer, default=3000, nullable=False)
    needs_vog: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    needs_shared_language: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="open", nullable=False)
    # Who typed it in: NULL when the requester did so themself, else the worker (with consent).
    registered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))
    consent = relationship("ConsentRecord")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Outbox: set in the same transaction as the change; cleared when matching has run.
    matching_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    requester = relationship("Resident")
    category = relationship("Category")
    neighbourhood = relationship("Neighbourhood")


class OfferCategory(db.Model):
    __tablename__ = "offer_categories"

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Offer(TimestampMixin, db.Model):
    """A resident's offer of help: what, how far, when, and how many matches at once."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(SLOTS_RANGE.format(col="slots"), name="slots_range"),
        CheckConstraint("radius_m > 0 AND radius_m <= 50000", name="radius_range"),
        CheckConstraint("capacity >= 1 AND capacity <= 20", name="capacity_range"),
        CheckConstraint("language_mask >= 0", name="language_mask_range"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        Index("ix_offers_active_lat_lon", "is_active", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helper_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Where the helper starts from (defaults to home); kept private like the home address.
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    street: Mapped[str | None] = mapped_column(String(120))
    neighbourhood_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbourhoods.id", ondelete="SET NULL"), index=True
    )
    radius_m: Mapped[int] = mapped_column(Integer, default=2000, nullable=False)
    slots: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    language_mask: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    matching_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    helper = relationship("Resident")
    categories = relationship("Category", secondary="offer_categories")
    neighbourhood = relationship("Neighbourhood")
