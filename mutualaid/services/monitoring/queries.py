"""The grouped SQL behind the monitoring: one query per measure, per neighbourhood and period.

Every query groups by (neighbourhood id, period start) and runs unchanged on SQLite and
PostgreSQL; only the period bucket and the time difference are written per dialect. Periods
are ISO weeks (starting Monday) or calendar months, in UTC. Districts and the municipality are
sums of their neighbourhoods (computed in Python), which holds because each measure counts
every request or person in exactly one neighbourhood.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from statistics import median

from sqlalchemy import ColumnElement, func, or_, select, tuple_

from ...extensions import db
from ...models import Category, HelpRequest, Match, Neighbourhood, Offer, Resident

# A match counts as "matched" once both sides said yes (it may be done or cancelled later).
ACCEPTED_STATUSES = ("accepted", "done")

# Counts keyed by (neighbourhood id, period start).
Grid = dict[tuple[int, date], int]


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def period_start(column, period: str) -> ColumnElement:
    """SQL for the first day of the week (Monday) or month of a UTC timestamp, as 'YYYY-MM-DD'."""
    if _dialect() == "postgresql":
        utc = func.timezone("UTC", column)
        return func.to_char(func.date_trunc(period, utc), "YYYY-MM-DD")
    if period == "week":
        # 'weekday 0' moves forward to Sunday (or stays), minus 6 days is that week's Monday.
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def seconds_between(start, end) -> ColumnElement:
    """SQL for end - start in seconds."""
    if _dialect() == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _in_municipality(column, municipality_code: str) -> ColumnElement:
    return column.in_(
        select(Neighbourhood.id).where(Neighbourhood.municipality_code == municipality_code)
    )


def _grid(rows) -> Grid:
    return {(nid, date.fromisoformat(p)): int(n) for nid, p, n in rows if nid is not None}


def accepted_at() -> ColumnElement:
    """When a match was accepted (older rows without accepted_at: their last status change)."""
    return func.coalesce(Match.accepted_at, Match.status_changed_at)


def requests_opened_by_category(
    code: str, period: str, start: datetime, end: datetime
) -> dict[tuple[int, date, str], int]:
    """Requests opened, per neighbourhood, period and category code."""
    bucket = period_start(HelpRequest.created_at, period).label("p")
    rows = db.session.execute(
        select(HelpRequest.neighbourhood_id, bucket, HelpRequest.category_id, func.count())
        .where(
            HelpRequest.created_at >= start,
            HelpRequest.created_at < end,
            _in_municipality(HelpRequest.neighbourhood_id, code),
        )
        .group_by(HelpRequest.neighbourhood_id, bucket, HelpRequest.category_id)
    ).all()
    codes = dict(db.session.execute(select(Category.id, Category.code)).all())
    return {(nid, date.fromisoformat(p), codes[cat]): int(n) for nid, p, cat, n in rows}


def first_acceptances():
    """Subquery: per request, when its first match was accepted."""
    return (
        select(Match.request_id.label("request_id"), func.min(accepted_at()).label("at"))
        .where(or_(Match.accepted_at.is_not(None), Match.status.in_(ACCEPTED_STATUSES)))
        .group_by(Match.request_id)
        .subquery()
    )


def time_to_match(
    code: str, period: str, start: datetime, end: datetime
) -> dict[tuple[int, date], list[float]]:
    """Seconds from opening to the first accepted match, for requests opened in each period."""
    first = first_acceptances()
    bucket = period_start(HelpRequest.created_at, period).label("p")
    rows = db.session.execute(
        select(
            HelpRequest.neighbourhood_id,
            bucket,
            seconds_between(HelpRequest.created_at, first.c.at),
        )
        .join(first, first.c.request_id == HelpRequest.id)
        .where(
            HelpRequest.created_at >= start,
            HelpRequest.created_at < end,
            _in_municipality(HelpRequest.neighbourhood_id, code),
        )
    ).all()
    durations: dict[tuple[int, date], list[float]] = defaultdict(list)
    for nid, p, seconds in rows:
        durations[(nid, date.fromisoformat(p))].append(max(float(seconds), 0.0))
    return durations


def matched_and_medians(
    code: str, period: str, start: datetime, end: datetime
) -> tuple[Grid, dict[tuple[str, date], float]]:
    """Requests opened per period that found a helper (per neighbourhood), and the median
    seconds to that first acceptance per neighbourhood, district and municipality.

    PostgreSQL computes the medians itself (percentile_cont over grouping sets), so tens of
    thousands of durations never leave the database; SQLite gets the durations.
    """
    if _dialect() != "postgresql":
        return _matched_and_medians_in_python(code, period, start, end)
    first = first_acceptances()
    rows = (
        select(
            HelpRequest.neighbourhood_id.label("nid"),
            Neighbourhood.district_code.label("district"),
            period_start(HelpRequest.created_at, period).label("p"),
            seconds_between(HelpRequest.created_at, first.c.at).label("secs"),
        )
        .join(first, first.c.request_id == HelpRequest.id)
        .join(Neighbourhood, Neighbourhood.id == HelpRequest.neighbourhood_id)
        .where(
            HelpRequest.created_at >= start,
            HelpRequest.created_at < end,
            Neighbourhood.municipality_code == code,
        )
        .subquery()
    )
    return median_grid(rows, neighbourhoods_of(code), code)


def _matched_and_medians_in_python(code, period, start, end):
    durations = time_to_match(code, period, start, end)
    hoods = neighbourhoods_of(code)
    by_id = {n.id: n for n in hoods}
    gathered: dict[tuple[str, date], list[float]] = defaultdict(list)
    for (nid, day), values in durations.items():
        n = by_id[nid]
        for area in (n.code, n.district_code, code):
            gathered[(area, day)].extend(values)
    counts = {key: len(values) for key, values in durations.items()}
    return counts, {key: median(values) for key, values in gathered.items()}


def requests_completed(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """Requests marked done, per neighbourhood and the period in which they were closed."""
    closed = func.coalesce(HelpRequest.closed_at, HelpRequest.updated_at)
    bucket = period_start(closed, period).label("p")
    return _grid(
        db.session.execute(
            select(HelpRequest.neighbourhood_id, bucket, func.count())
            .where(
                HelpRequest.status == "done",
                closed >= start,
                closed < end,
                _in_municipality(HelpRequest.neighbourhood_id, code),
            )
            .group_by(HelpRequest.neighbourhood_id, bucket)
        ).all()
    )


def active_helpers(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """Distinct helpers with a match accepted in the period, by the helper's home neighbourhood."""
    at = accepted_at()
    bucket = period_start(at, period).label("p")
    # Distinct (helper, period) pairs first: far fewer rows to join to the residents.
    pairs = (
        select(Match.helper_id.label("hid"), bucket)
        .where(
            or_(Match.accepted_at.is_not(None), Match.status.in_(ACCEPTED_STATUSES)),
            at >= start,
            at < end,
        )
        .group_by(Match.helper_id, bucket)
        .subquery()
    )
    return _grid(
        db.session.execute(
            select(Resident.neighbourhood_id, pairs.c.p, func.count())
            .join(Resident, Resident.id == pairs.c.hid)
            .where(_in_municipality(Resident.neighbourhood_id, code))
            .group_by(Resident.neighbourhood_id, pairs.c.p)
        ).all()
    )


def new_helpers(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """Residents whose first offer of help was made in the period, by home neighbourhood."""
    first = (
        select(Offer.helper_id.label("helper_id"), func.min(Offer.created_at).label("at"))
        .group_by(Offer.helper_id)
        .subquery()
    )
    bucket = period_start(first.c.at, period).label("p")
    return _grid(
        db.session.execute(
            select(Resident.neighbourhood_id, bucket, func.count())
            .join(Resident, Resident.id == first.c.helper_id)
            .where(
                first.c.at >= start,
                first.c.at < end,
                _in_municipality(Resident.neighbourhood_id, code),
            )
            .group_by(Resident.neighbourhood_id, bucket)
        ).all()
    )


def repeat_requesters(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """Residents who opened two or more requests in the same period, by home neighbourhood."""
    bucket = period_start(HelpRequest.created_at, period).label("p")
    per_person = (
        select(HelpRequest.requester_id.label("rid"), bucket)
        .where(HelpRequest.created_at >= start, HelpRequest.created_at < end)
        .group_by(HelpRequest.requester_id, bucket)
        .having(func.count() >= 2)
        .subquery()
    )
    return _grid(
        db.session.execute(
            select(Resident.neighbourhood_id, per_person.c.p, func.count())
            .join(Resident, Resident.id == per_person.c.rid)
            .where(_in_municipality(Resident.neighbourhood_id, code))
            .group_by(Resident.neighbourhood_id, per_person.c.p)
        ).all()
    )


def neighbourhoods_of(code: str) -> list:
    """The neighbourhoods of a municipality (no polygons), by district and name."""
    return list(
        db.session.execute(
            select(
                Neighbourhood.id,
                Neighbourhood.code,
                Neighbourhood.name,
                Neighbourhood.district_code,
                Neighbourhood.district_name,
                Neighbourhood.municipality_name,
            )
            .where(Neighbourhood.municipality_code == code)
            .order_by(Neighbourhood.district_code, Neighbourhood.name)
        ).all()
    )


def municipalities() -> list[tuple[str, str | None]]:
    """Municipality codes (and names) with imported neighbourhoods."""
    return [
        (c, n)
        for c, n in db.session.execute(
            select(Neighbourhood.municipality_code, func.max(Neighbourhood.municipality_name))
            .group_by(Neighbourhood.municipality_code)
            .order_by(Neighbourhood.municipality_code)
        ).all()
    ]


def categories() -> list[Category]:
    """Active help categories, in a fixed order."""
    return list(db.session.scalars(select(Category).order_by(Category.bit)))


def median_grid(rows, hoods, code: str):
    """Counts per neighbourhood and period, and the median seconds per neighbourhood, district
    and municipality and period, in one grouping-sets statement (PostgreSQL) over a subquery
    with columns nid, district, p (the period's first day as text) and secs."""
    result = db.session.execute(
        select(
            rows.c.nid,
            rows.c.district,
            rows.c.p,
            func.count(),
            func.percentile_cont(0.5).within_group(rows.c.secs),
        ).group_by(
            func.grouping_sets(
                tuple_(rows.c.nid, rows.c.district, rows.c.p),
                tuple_(rows.c.district, rows.c.p),
                tuple_(rows.c.p),
            )
        )
    ).all()
    codes = {n.id: n.code for n in hoods}
    counts: Grid = {}
    medians: dict[tuple[str, date], float] = {}
    for nid, district, p, n, mid in result:
        day = date.fromisoformat(p)
        if nid is not None:
            counts[(nid, day)] = int(n)
        area = codes[nid] if nid is not None else district if district is not None else code
        medians[(area, day)] = max(float(mid), 0.0)
    return counts, medians
