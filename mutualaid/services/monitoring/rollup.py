"""The persisted daily rollup the monitoring answers from, and how it is kept up to date.

`monitoring_daily` (models/monitoring.py) holds one row per counted thing per UTC day: a
request opened, matched (with its seconds to the first acceptance) or completed, a helper
active on a day, a resident's first offer, a resident's requests of a day. Each row carries
the request or resident it stands for (`key_id`), so an incremental refresh recomputes only the
requests and residents that changed since the last one and writes only the rows that differ.
The readers at the bottom answer exactly what `queries.py` computes from the live tables (the
same grids and medians), from this narrow table and its sums per week and month
(`monitoring_periods`, recomputed for the periods whose days changed): no joins of requests,
matches, offers and residents, no first-acceptance or first-offer subqueries over all of
history. `tests/integration/test_monitoring_rollup.py` proves rollup == direct on random data.

Freshness: a periodic job (`refresh_job`, every MONITORING_ROLLUP_SECONDS) takes changes in;
a monitoring read refreshes first only when the last refresh is older than
MONITORING_ROLLUP_MAX_AGE_SECONDS (default 300; 0 under TESTING, so tests read what they just
wrote). Changes are found by `updated_at` (indexed on every counted table) from the previous
refresh minus a margin, so a transaction that committed late is still taken in. Deleted rows
leave no `updated_at`: each refresh drops rows of requests and residents that no longer exist,
and a full rebuild (`refresh_rollup(full=True)`, daily) covers the rest.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from statistics import median

from flask import current_app
from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Integer,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union,
)

from ...extensions import db
from ...models import (
    HelpRequest,
    Match,
    MonitoringFact,
    MonitoringPeriod,
    MonitoringRollupState,
    Neighbourhood,
    Offer,
    Resident,
)
from ...models.base import utcnow
from ..transactions import commit
from .periods import PERIODS, next_period, period_of
from .queries import (
    ACCEPTED_STATUSES,
    Grid,
    accepted_at,
    median_grid,
    neighbourhoods_of,
    seconds_between,
)

log = logging.getLogger(__name__)

BY_REQUEST = ("opened", "matched", "completed")
BY_PERSON = ("helper", "new_helper", "requester")
# Rows changed this long before the previous refresh are looked at again (late commits).
MARGIN = timedelta(minutes=2)
# More changed requests or residents than this: rebuild everything instead.
MAX_INCREMENTAL_KEYS = 20_000
STATE_ID = 1
Fact = MonitoringFact.__table__


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _day(column):
    """SQL for the UTC calendar day of a timestamp."""
    if _dialect() == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return type_coerce(func.date(column), Date)


# --- what the rollup holds: one select per measure, optionally for some keys only -----------


def _opened(keys):
    q = select(
        literal("opened"),
        HelpRequest.id,
        _day(HelpRequest.created_at),
        HelpRequest.neighbourhood_id,
        HelpRequest.category_id,
        literal(1.0, Float),
    ).where(HelpRequest.neighbourhood_id.is_not(None))
    return q if keys is None else q.where(HelpRequest.id.in_(keys))


def _relevant_match():
    return or_(Match.accepted_at.is_not(None), Match.status.in_(ACCEPTED_STATUSES))


def _matched(keys):
    first = select(Match.request_id.label("request_id"), func.min(accepted_at()).label("at"))
    first = first.where(_relevant_match())
    if keys is not None:
        first = first.where(Match.request_id.in_(keys))
    first = first.group_by(Match.request_id).subquery()
    return (
        select(
            literal("matched"),
            HelpRequest.id,
            _day(HelpRequest.created_at),
            HelpRequest.neighbourhood_id,
            null(),
            cast(seconds_between(HelpRequest.created_at, first.c.at), Float),
        )
        .join(first, first.c.request_id == HelpRequest.id)
        .where(HelpRequest.neighbourhood_id.is_not(None))
    )


def _completed(keys):
    closed = func.coalesce(HelpRequest.closed_at, HelpRequest.updated_at)
    q = select(
        literal("completed"),
        HelpRequest.id,
        _day(closed),
        HelpRequest.neighbourhood_id,
        null(),
        literal(1.0, Float),
    ).where(HelpRequest.status == "done", HelpRequest.neighbourhood_id.is_not(None))
    return q if keys is None else q.where(HelpRequest.id.in_(keys))


def _helpers(keys):
    day = _day(accepted_at())
    pairs = select(Match.helper_id.label("hid"), day.label("day")).where(_relevant_match())
    if keys is not None:
        pairs = pairs.where(Match.helper_id.in_(keys))
    pairs = pairs.group_by(Match.helper_id, day).subquery()
    return (
        select(
            literal("helper"),
            pairs.c.hid,
            pairs.c.day,
            Resident.neighbourhood_id,
            null(),
            literal(1.0, Float),
        )
        .join(Resident, Resident.id == pairs.c.hid)
        .where(Resident.neighbourhood_id.is_not(None))
    )


def _new_helpers(keys):
    first = select(Offer.helper_id.label("hid"), func.min(Offer.created_at).label("at"))
    if keys is not None:
        first = first.where(Offer.helper_id.in_(keys))
    first = first.group_by(Offer.helper_id).subquery()
    return (
        select(
            literal("new_helper"),
            first.c.hid,
            _day(first.c.at),
            Resident.neighbourhood_id,
            null(),
            literal(1.0, Float),
        )
        .join(Resident, Resident.id == first.c.hid)
        .where(Resident.neighbourhood_id.is_not(None))
    )


def _requesters(keys):
    day = _day(HelpRequest.created_at)
    per_day = select(
        HelpRequest.requester_id.label("rid"), day.label("day"), func.count().label("n")
    )
    if keys is not None:
        per_day = per_day.where(HelpRequest.requester_id.in_(keys))
    per_day = per_day.group_by(HelpRequest.requester_id, day).subquery()
    return (
        select(
            literal("requester"),
            per_day.c.rid,
            per_day.c.day,
            Resident.neighbourhood_id,
            null(),
            cast(per_day.c.n, Float),
        )
        .join(Resident, Resident.id == per_day.c.rid)
        .where(Resident.neighbourhood_id.is_not(None))
    )


REQUEST_SOURCES = (_opened, _matched, _completed)
PERSON_SOURCES = (_helpers, _new_helpers, _requesters)
COLUMNS = ["measure", "key_id", "day", "neighbourhood_id", "category_id", "value"]


def _row(row) -> tuple:
    measure, key, day, nid, cat, value = row
    if not isinstance(day, date):
        day = date.fromisoformat(day)
    return (measure, int(key), day, int(nid), None if cat is None else int(cat), float(value))


# --- keeping it up to date ------------------------------------------------------------------


def _state(lock: bool) -> MonitoringRollupState:
    """The state row (created on first use); locked for the refresh on PostgreSQL."""
    if _dialect() == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    db.session.execute(
        upsert(MonitoringRollupState)
        .values(id=STATE_ID, version=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    query = select(MonitoringRollupState).where(MonitoringRollupState.id == STATE_ID)
    if lock:
        query = query.with_for_update()
    return db.session.execute(query.execution_options(populate_existing=True)).scalar_one()


def _changed_keys(since: datetime) -> tuple[list[int], list[int]]:
    """Requests and residents whose counted rows may have changed since `since`."""
    requests = union(
        select(HelpRequest.id).where(HelpRequest.updated_at >= since),
        select(Match.request_id).where(Match.updated_at >= since),
    )
    people = union(
        select(Resident.id).where(Resident.updated_at >= since),
        select(Match.helper_id).where(Match.updated_at >= since, Match.helper_id.is_not(None)),
        select(Offer.helper_id).where(Offer.updated_at >= since),
        select(HelpRequest.requester_id).where(HelpRequest.updated_at >= since),
    )
    return list(db.session.scalars(requests)), list(db.session.scalars(people))


def _rebuild() -> int:
    """Everything again from the live tables; returns the number of rows now in the rollup."""
    db.session.execute(delete(MonitoringFact))
    for source in REQUEST_SOURCES + PERSON_SOURCES:
        db.session.execute(insert(MonitoringFact).from_select(COLUMNS, source(None)))
    if _dialect() == "postgresql":
        # Fresh statistics, or the planner guesses a handful of rows and picks poor plans.
        db.session.execute(text("ANALYZE monitoring_daily"))
    _sum_periods(None)
    return db.session.scalar(select(func.count()).select_from(MonitoringFact)) or 0


# --- the sums per week and month -------------------------------------------------------------

PERIOD_COLUMNS = ["kind", "start", "measure", "neighbourhood_id", "category_id", "value"]


def _start(kind: str):
    """SQL for the first day of the week or month of a rollup day, as a date."""
    if _dialect() == "postgresql":
        return cast(func.date_trunc(kind, cast(Fact.c.day, DateTime)), Date)
    return type_coerce(_bucket(kind), Date)


def _period_sums(kind: str, days):
    """Selects of every measure's sums per period and neighbourhood (`days`: a WHERE clause
    limiting the rollup rows, or None for all)."""
    start = _start(kind).label("start")
    nid = Fact.c.neighbourhood_id

    def where(measure):
        return (
            and_(Fact.c.measure == measure, days)
            if days is not None
            else (Fact.c.measure == measure)
        )

    def counted(measure, value=None, category=None):
        cat = Fact.c.category_id if category else literal(0, Integer)
        return (
            select(
                literal(kind),
                start,
                literal(measure),
                nid,
                cat,
                value if value is not None else func.count(),
            )
            .where(where(measure))
            .group_by(start, nid, *([Fact.c.category_id] if category else []))
        )

    per_person = (
        select(nid.label("nid"), start)
        .where(where("requester"))
        .group_by(Fact.c.key_id, nid, start)
        .having(func.sum(Fact.c.value) >= 2)
        .subquery()
    )
    return [
        counted("opened", category=True),
        counted("completed"),
        counted("helper", func.count(func.distinct(Fact.c.key_id))),
        counted("new_helper"),
        select(
            literal(kind),
            per_person.c.start,
            literal("requester"),
            per_person.c.nid,
            literal(0, Integer),
            func.count(),
        ).group_by(per_person.c.start, per_person.c.nid),
    ]


def _sum_periods(dirty: dict[str, set[date]] | None) -> None:
    """Recompute the sums of these periods (None: all of them) from the rollup rows."""
    for kind in PERIODS:
        if dirty is None:
            db.session.execute(delete(MonitoringPeriod).where(MonitoringPeriod.kind == kind))
            days = None
        else:
            starts = sorted(dirty.get(kind, ()))
            if not starts:
                continue
            db.session.execute(
                delete(MonitoringPeriod).where(
                    MonitoringPeriod.kind == kind, MonitoringPeriod.start.in_(starts)
                )
            )
            days = or_(*[and_(Fact.c.day >= s, Fact.c.day < next_period(s, kind)) for s in starts])
        for statement in _period_sums(kind, days):
            db.session.execute(insert(MonitoringPeriod).from_select(PERIOD_COLUMNS, statement))


def _dirty(days: set[date]) -> dict[str, set[date]]:
    return {kind: {period_of(day, kind) for day in days} for kind in PERIODS}


def _apply(measures: tuple[str, ...], sources, keys: list[int], days: set[date]) -> int:
    """Replace the rows of these keys by what the live tables say now; only differences are
    written (their days are added to `days`). Returns how many rows were deleted or inserted."""
    written = 0
    for start in range(0, len(keys), 5_000):
        chunk = keys[start : start + 5_000]
        fresh = {_row(r) for source in sources for r in db.session.execute(source(chunk))}
        old = {
            _row(r)
            for r in db.session.execute(
                select(*[Fact.c[c] for c in COLUMNS]).where(
                    Fact.c.measure.in_(measures), Fact.c.key_id.in_(chunk)
                )
            )
        }
        gone, new = old - fresh, fresh - old
        if gone:
            db.session.execute(
                Fact.delete().where(
                    Fact.c.measure == bindparam("m"),
                    Fact.c.key_id == bindparam("k"),
                    Fact.c.day == bindparam("d"),
                ),
                [{"m": r[0], "k": r[1], "d": r[2]} for r in gone],
            )
        if new:
            db.session.execute(Fact.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in new])
        written += len(gone) + len(new)
        days.update(r[2] for r in gone | new)
    return written


def _drop_orphans(days: set[date]) -> int:
    """Rows of requests or residents that no longer exist (deleted rows leave no trace)."""
    orphan = or_(
        and_(
            MonitoringFact.measure.in_(BY_REQUEST),
            ~select(HelpRequest.id).where(HelpRequest.id == MonitoringFact.key_id).exists(),
        ),
        and_(
            MonitoringFact.measure.in_(BY_PERSON),
            ~select(Resident.id).where(Resident.id == MonitoringFact.key_id).exists(),
        ),
    )
    found = {_day_value(d) for d in db.session.scalars(select(MonitoringFact.day).where(orphan))}
    if not found:
        return 0
    days.update(found)
    return db.session.execute(delete(MonitoringFact).where(orphan)).rowcount


def _day_value(day) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


def refresh_rollup(*, full: bool = False, unless_younger_than: float | None = None) -> dict:
    """Take changes since the last refresh into the rollup (all of it when `full`, when it was
    never built, or when very much changed), and commit. One refresh at a time (row lock);
    with `unless_younger_than`, a refresh another process finished meanwhile is enough."""
    state = _state(lock=True)
    started = utcnow()
    if (
        unless_younger_than
        and not full
        and state.refreshed_at is not None
        and (started - state.refreshed_at).total_seconds() <= unless_younger_than
    ):
        version = state.version
        commit()
        return {"mode": "fresh", "rows_written": 0, "version": version}
    written, mode = 0, "incremental"
    if full or state.watermark is None:
        mode = "full"
    else:
        requests, people = _changed_keys(state.watermark - MARGIN)
        if len(requests) + len(people) > MAX_INCREMENTAL_KEYS:
            mode = "full"
        else:
            days: set[date] = set()
            written = _apply(BY_REQUEST, REQUEST_SOURCES, sorted(requests), days)
            written += _apply(BY_PERSON, PERSON_SOURCES, sorted(people), days)
            written += _drop_orphans(days)
            _sum_periods(_dirty(days))
    if mode == "full":
        written = _rebuild()
        state.rebuilt_at = started
    if written or mode == "full":
        state.version = (state.version or 0) + 1
    state.watermark = started
    state.refreshed_at = started
    version = state.version
    commit()
    return {"mode": mode, "rows_written": written, "version": version}


def max_age_seconds() -> float:
    return float(current_app.config["MONITORING_ROLLUP_MAX_AGE_SECONDS"])


def ensure_fresh(max_age: float | None = None) -> int:
    """The rollup's version, after a refresh if the last one is older than `max_age` seconds."""
    max_age = max_age_seconds() if max_age is None else max_age
    state = db.session.get(MonitoringRollupState, STATE_ID, populate_existing=True)
    if (
        max_age > 0
        and state is not None
        and state.refreshed_at is not None
        and (utcnow() - state.refreshed_at).total_seconds() <= max_age
    ):
        return state.version
    return refresh_rollup(unless_younger_than=max_age)["version"]


def refresh_job() -> dict:
    """The periodic job: take changes in (a full rebuild once a day, see `periodic.py`)."""
    result = refresh_rollup()
    log.info("monitoring rollup refreshed: %s", result)
    return result


def rebuild_job() -> dict:
    result = refresh_rollup(full=True)
    log.info("monitoring rollup rebuilt: %s", result)
    return result


# --- reading: the same answers as queries.py, from the rollup -------------------------------


def _bucket(period: str):
    """SQL for the first day of the week (Monday) or month of a rollup day, as 'YYYY-MM-DD'."""
    if _dialect() == "postgresql":
        return func.to_char(func.date_trunc(period, cast(Fact.c.day, DateTime)), "YYYY-MM-DD")
    if period == "week":
        return func.date(Fact.c.day, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", Fact.c.day)


def _where(measure: str, code: str, start: datetime, end: datetime):
    return and_(
        Fact.c.measure == measure,
        Fact.c.day >= start.date(),
        Fact.c.day < end.date(),
        Fact.c.neighbourhood_id.in_(
            select(Neighbourhood.id).where(Neighbourhood.municipality_code == code)
        ),
    )


def _grid(rows) -> Grid:
    return {(nid, date.fromisoformat(p)): int(n) for nid, p, n in rows}


def _sums(measure: str, code: str, period: str, start: datetime, end: datetime):
    return db.session.execute(
        select(
            MonitoringPeriod.neighbourhood_id,
            MonitoringPeriod.start,
            MonitoringPeriod.category_id,
            MonitoringPeriod.value,
        ).where(
            MonitoringPeriod.kind == period,
            MonitoringPeriod.measure == measure,
            MonitoringPeriod.start >= start.date(),
            MonitoringPeriod.start < end.date(),
            MonitoringPeriod.neighbourhood_id.in_(
                select(Neighbourhood.id).where(Neighbourhood.municipality_code == code)
            ),
        )
    ).all()


def _count(measure: str, code: str, period: str, start: datetime, end: datetime) -> Grid:
    return {
        (nid, _day_value(p)): int(n) for nid, p, _, n in _sums(measure, code, period, start, end)
    }


def requests_opened_by_category(
    code: str, period: str, start: datetime, end: datetime
) -> dict[tuple[int, date, str], int]:
    """As `queries.requests_opened_by_category`."""
    from ...models import Category

    codes = dict(db.session.execute(select(Category.id, Category.code)).all())
    return {
        (nid, _day_value(p), codes[cat]): int(n)
        for nid, p, cat, n in _sums("opened", code, period, start, end)
    }


def matched_and_medians(
    code: str, period: str, start: datetime, end: datetime
) -> tuple[Grid, dict[tuple[str, date], float]]:
    """As `queries.matched_and_medians` (PostgreSQL's percentile_cont over the same values)."""
    hoods = neighbourhoods_of(code)
    if _dialect() != "postgresql":
        bucket = _bucket(period).label("p")
        rows = db.session.execute(
            select(Fact.c.neighbourhood_id, bucket, Fact.c.value).where(
                _where("matched", code, start, end)
            )
        ).all()
        durations: dict[tuple[int, date], list[float]] = defaultdict(list)
        for nid, p, seconds in rows:
            durations[(nid, date.fromisoformat(p))].append(max(float(seconds), 0.0))
        by_id = {n.id: n for n in hoods}
        gathered: dict[tuple[str, date], list[float]] = defaultdict(list)
        for (nid, day), values in durations.items():
            n = by_id[nid]
            for area in (n.code, n.district_code, code):
                gathered[(area, day)].extend(values)
        counts = {key: len(values) for key, values in durations.items()}
        return counts, {key: median(values) for key, values in gathered.items()}
    rows = (
        select(
            Fact.c.neighbourhood_id.label("nid"),
            Neighbourhood.district_code.label("district"),
            _bucket(period).label("p"),
            Fact.c.value.label("secs"),
        )
        .join(Neighbourhood, Neighbourhood.id == Fact.c.neighbourhood_id)
        .where(_where("matched", code, start, end))
        .subquery()
    )
    return median_grid(rows, hoods, code)


def requests_completed(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """As `queries.requests_completed`."""
    return _count("completed", code, period, start, end)


def active_helpers(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """As `queries.active_helpers`: distinct helpers per period."""
    return _count("helper", code, period, start, end)


def new_helpers(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """As `queries.new_helpers`."""
    return _count("new_helper", code, period, start, end)


def repeat_requesters(code: str, period: str, start: datetime, end: datetime) -> Grid:
    """As `queries.repeat_requesters`: two or more requests in the same period."""
    return _count("requester", code, period, start, end)
