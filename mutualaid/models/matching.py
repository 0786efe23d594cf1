"""Matches between requests and offers, trust ties, matching runs and learned ranker weights."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin, UTCDateTime, in_list, utcnow
from .vocab import INVITERS, MATCH_PROPOSERS, MATCH_STATUSES, RUN_STATUSES, TRUST_KINDS

SCORE_PARTS = ("proximity", "availability", "trust", "continuity", "language", "fairness")


def _unit_range(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0 AND {column} <= 1", name=f"{column}_range")


class TrustTie(TimestampMixin, db.Model):
    """A tie between two residents, stored once per pair and kind (a_id < b_id)."""

    __tablename__ = "trust_ties"
    __table_args__ = (
        UniqueConstraint("resident_a_id", "resident_b_id", "kind"),
        CheckConstraint("resident_a_id < resident_b_id", name="ordered_pair"),
        CheckConstraint(in_list("kind", TRUST_KINDS), name="kind_known"),
        _unit_range("weight"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_a_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False
    )
    resident_b_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False)
    # A `knows` tie counts only when both declared it; the second declaration confirms it.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Match(TimestampMixin, db.Model):
    """A request x offer pairing with its score, explanation and lifecycle."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("request_id", "offer_id"),
        CheckConstraint(in_list("status", MATCH_STATUSES), name="status_known"),
        CheckConstraint(in_list("proposed_by", MATCH_PROPOSERS), name="proposer_known"),
        _unit_range("score"),
        *(_unit_range(f"score_{part}") for part in SCORE_PARTS),
        CheckConstraint("rank IS NULL OR rank >= 1", name="rank_positive"),
        CheckConstraint(
            f"invited_by IS NULL OR {in_list('invited_by', INVITERS)}", name="inviter_known"
        ),
        CheckConstraint(
            "feedback_rating IS NULL OR feedback_rating BETWEEN 1 AND 5", name="rating_range"
        ),
        CheckConstraint("distance_m IS NULL OR distance_m >= 0", name="distance_non_negative"),
        Index("ix_matches_helper_status", "helper_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"), nullable=False
    )
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("offers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Denormalised from the offer: capacity and fairness count a helper's matches often.
    # No foreign key of its own: the offer's (which cascades from the helper) keeps it valid,
    # and a bulk write of suggestions would pay a key check per row for nothing (0005).
    helper_id: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="suggested", nullable=False)
    proposed_by: Mapped[str] = mapped_column(String(10), default="engine", nullable=False)
    proposed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    score_proximity: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    score_availability: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    score_trust: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    score_continuity: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    score_language: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    score_fairness: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    distance_m: Mapped[float | None] = mapped_column(Float)
    explanation_nl: Mapped[str] = mapped_column(Text, nullable=False, default="")
    explanation_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    engine_version: Mapped[str | None] = mapped_column(String(32))
    # The run that last wrote this suggestion; informational, so no key check per row (0005).
    matching_run_id: Mapped[str | None] = mapped_column(String(64))
    # Which side declined (requester/helper), so neither is suggested to the other again.
    declined_by: Mapped[str | None] = mapped_column(String(10))
    feedback_rating: Mapped[int | None] = mapped_column(Integer)
    # The lifecycle in detail: who asked whom, when each side said yes, done, thanks.
    invited_by: Mapped[str | None] = mapped_column(String(10))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    thanks_note: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why a worker confirmed, overrode or withdrew it, or why it was cancelled.
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    status_changed_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    request = relationship("HelpRequest")
    offer = relationship("Offer")
    helper = relationship("Resident", primaryjoin="foreign(Match.helper_id) == Resident.id")


class MatchingRun(db.Model):
    """One background matching run; its id is the rq job id."""

    __tablename__ = "matching_runs"
    __table_args__ = (
        CheckConstraint(in_list("status", RUN_STATUSES), name="status_known"),
        Index("ix_matching_runs_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="queued", nullable=False)
    engine_version: Mapped[str | None] = mapped_column(String(32))
    requests_considered: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    offers_considered: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    candidates_found: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    suggestions_written: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    timings: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RankerVersion(db.Model):
    """Weights of the ranking, default or learned from outcomes, with validation figures."""

    __tablename__ = "ranker_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    weights: Mapped[dict] = mapped_column(JSON, nullable=False)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    outcomes_used: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # An admin who made a worker's what-if weights the default (NULL: default or learned).
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
