"""The monitoring rollup: what the municipal monitoring counts, per UTC day, kept up to date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime


class MonitoringFact(db.Model):
    """One counted thing on one UTC day, where it counts (no person's data beyond an id).

    `measure` says what: "opened" (a request, by its neighbourhood and category), "matched"
    (a request that found a helper; `value` is the seconds to its first acceptance),
    "completed" (a request marked done, on the day it was closed), "helper" (a helper with a
    match accepted that day, by home), "new_helper" (a resident's first offer, by home) and
    "requester" (a resident's requests opened that day, by home; `value` is how many).
    `key_id` is the request or resident the row stands for, so a change to one of them
    replaces exactly its rows. Weeks and months are sums (or distinct counts) of days.
    """

    __tablename__ = "monitoring_daily"
    __table_args__ = (Index("ix_monitoring_daily_measure_day", "measure", "day"),)

    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    neighbourhood_id: Mapped[int] = mapped_column(Integer, nullable=False)
    category_id: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float, nullable=False)


class MonitoringRollupState(db.Model):
    """One row (id 1): up to when the rollup has taken changes in, and its version."""

    __tablename__ = "monitoring_rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class MonitoringPeriod(db.Model):
    """The rollup summed per ISO week or calendar month and neighbourhood, as the monitoring
    reads it: counts per measure (requests opened also per category; `category_id` 0 for the
    other measures), distinct helpers, residents who asked twice or more in the period. Kept
    from `monitoring_daily`: a refresh recomputes the periods whose days changed."""

    __tablename__ = "monitoring_periods"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    neighbourhood_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(Integer, nullable=False)
