"""Monitoring periods: ISO weeks and calendar months, and a date range snapped to whole periods.

Ranges are always whole periods: a figure for a week or month is then the same whatever range
is asked for, so two overlapping ranges cannot be subtracted to reveal part of a period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ...errors import Invalid

PERIODS = ("week", "month")
LEVELS = ("municipality", "district", "neighbourhood")
MAX_PERIODS = {"week": 106, "month": 36}
DEFAULT_COUNT = {"week": 13, "month": 12}


def period_of(day: date, period: str) -> date:
    """The first day of the week (Monday) or month that contains `day`."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, period: str) -> date:
    """The first day of the following week or month."""
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_label(start: date, period: str) -> str:
    """'2026-W47' for a week, '2026-11' for a month."""
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def parse_date(value: str | None, field: str) -> date | None:
    """An ISO date (YYYY-MM-DD) or None; Invalid naming the field otherwise."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(f"{field} must be a date like 2026-01-31", field=field, rule="date") from None


def resolve_range(
    period: str, start: date | None, end: date | None, today: date
) -> tuple[list[date], datetime, datetime]:
    """The periods of a range (snapped to whole periods) and its UTC bounds [from, to)."""
    if period not in PERIODS:
        raise Invalid("period must be week or month", field="period", rule="choice")
    last = period_of(end or today, period)
    if start is None:
        first = last
        for _ in range(DEFAULT_COUNT[period] - 1):
            first = period_of(first - timedelta(days=1), period)
    else:
        first = period_of(start, period)
    if first > last:
        raise Invalid("from must not be after to", field="from", rule="order")
    starts = [first]
    while starts[-1] < last:
        starts.append(next_period(starts[-1], period))
    if len(starts) > MAX_PERIODS[period]:
        raise Invalid(
            f"at most {MAX_PERIODS[period]} {period}s at once", field="from", rule="max_range"
        )
    lower = datetime.combine(first, time.min, tzinfo=UTC)
    upper = datetime.combine(next_period(last, period), time.min, tzinfo=UTC)
    return starts, lower, upper


def aligned_month(day: date) -> date | None:
    """The month of `day` if it is exactly four ISO weeks (a February from Monday to Sunday).

    Such a month is the sum of its weeks, so its weekly and monthly figures must be
    suppressed together (otherwise a hidden week could be worked out from the month).
    """
    month = day.replace(day=1)
    following = next_period(month, "month")
    return month if month.weekday() == 0 and (following - month).days == 28 else None


def linked_groups(period: str, starts: list[date]) -> list[list[tuple[str, date]]]:
    """The periods whose tables are suppressed together: alone, or an aligned month with its
    four weeks (whichever of them was asked for)."""
    groups: list[list[tuple[str, date]]] = []
    seen: set[date] = set()
    for start in starts:
        month = aligned_month(start)
        if month is None:
            groups.append([(period, start)])
        elif month not in seen:
            seen.add(month)
            weeks = [("week", month + timedelta(days=7 * i)) for i in range(4)]
            groups.append([*weeks, ("month", month)])
    return groups


def bounds(first: date, last: date, period: str) -> tuple[datetime, datetime]:
    """UTC datetimes from the start of `first` to the end of the period starting at `last`."""
    return (
        datetime.combine(first, time.min, tzinfo=UTC),
        datetime.combine(next_period(last, period), time.min, tzinfo=UTC),
    )
