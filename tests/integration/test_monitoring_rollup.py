"""The daily rollup answers exactly what the direct computation over the live tables answers
(every figure, every suppressed cell, every median), on random towns, after a full build and
after incremental refreshes of random changes; on SQLite and (with DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import Match, MonitoringFact, MonitoringPeriod, Neighbourhood, Resident
from mutualaid.services.monitoring import monitoring_report
from mutualaid.services.monitoring import rollup as rollup_service
from mutualaid.services.monitoring.report import build_report
from tests import builders

TODAY = date(2027, 3, 15)
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_DAYS = (datetime(2027, 3, 14, tzinfo=UTC) - START).days
CATEGORIES = ("boodschappen", "vervoer", "klussen")
# (period, level, from, to, threshold): defaults, a range with February 2027 (exactly four
# ISO weeks: its month and weeks are suppressed together), no suppression at all.
CASES = [
    ("month", "neighbourhood", None, None, 5),
    ("week", "district", None, None, 5),
    ("week", "neighbourhood", date(2027, 1, 20), date(2027, 3, 10), 3),
    ("month", "municipality", date(2026, 1, 1), date(2027, 3, 1), 5),
    ("month", "neighbourhood", date(2026, 6, 1), date(2027, 2, 28), 1),
]


def moment(rng: random.Random, lo: datetime = START, days: float = SPAN_DAYS) -> datetime:
    return lo + timedelta(seconds=rng.uniform(0, days * 86400))


def random_town(rng: random.Random, hoods: list[Neighbourhood]) -> dict:
    """Residents in a handful of neighbourhoods (small and large counts), offers, requests and
    matches in every state, including old matches without accepted_at and done requests
    without closed_at."""
    cats = [builders.category(code, bit=i) for i, code in enumerate(CATEGORIES)]
    people = [
        builders.resident(neighbourhood_id=rng.choice(hoods).id if rng.random() < 0.95 else None)
        for _ in range(rng.randint(60, 110))
    ]
    offers = []
    for helper in rng.sample(people, len(people) // 3):
        for _ in range(rng.choice([1, 1, 2])):
            offers.append(builders.offer(helper, categories=[rng.choice(cats)]))
            offers[-1].created_at = moment(rng)
    db.session.flush()
    requests = []
    for requester in rng.sample(people, len(people) // 2):
        for _ in range(rng.choice([1, 1, 2, 3])):
            requests.append(new_request(rng, requester, hoods, cats))
    db.session.flush()
    matches = [new_match(rng, q, rng.choice(offers)) for q in requests if rng.random() < 0.7]
    db.session.commit()
    return {
        "people": people,
        "offers": offers,
        "requests": requests,
        "matches": matches,
        "cats": cats,
    }


def new_request(rng, requester, hoods, cats, when=None):
    created = when or moment(rng)
    status = rng.choice(["open", "open", "matched", "done", "done", "cancelled", "expired"])
    closed = None
    if status == "done" and rng.random() < 0.8:
        closed = created + timedelta(days=rng.uniform(0, 20))
    where = rng.choice(hoods).id if rng.random() < 0.9 else requester.neighbourhood_id
    return builders.help_request(
        requester,
        neighbourhood_id=where,
        category_id=rng.choice(cats).id,
        created_at=created,
        status=status,
        closed_at=closed,
    )


def new_match(rng, request, offer):
    status = rng.choice(["suggested", "accepted", "accepted", "done", "declined", "cancelled"])
    accepted = request.created_at + timedelta(hours=rng.expovariate(1 / 40))
    legacy = status in ("accepted", "done") and rng.random() < 0.2
    match = Match(
        request_id=request.id,
        offer_id=offer.id,
        helper_id=offer.helper_id,
        status=status,
        accepted_at=None if legacy or status in ("suggested", "declined") else accepted,
        status_changed_at=accepted + timedelta(hours=rng.uniform(0, 100)),
    )
    db.session.add(match)
    return match


def both(case) -> tuple:
    period, level, start, end, threshold = case
    args = dict(level=level, period=period, start=start, end=end, today=TODAY, threshold=threshold)
    direct = build_report("GM0164", source="direct", **args)
    rolled = build_report("GM0164", source="rollup_as_is", **args)
    return direct, rolled


def assert_same(case) -> None:
    direct, rolled = both(case)
    assert rolled.periods == direct.periods
    assert rolled.areas == direct.areas
    assert rolled.figures == direct.figures, case
    assert rolled.category_mix == direct.category_mix, case


def rollup_rows() -> tuple[set, set]:
    """The rollup's rows and its sums per week and month."""
    return (
        set(db.session.execute(select(MonitoringFact.__table__)).all()),
        set(db.session.execute(select(MonitoringPeriod.__table__)).all()),
    )


def mutate(rng: random.Random, town: dict, hoods: list[Neighbourhood]) -> None:
    """Random changes of every kind the monitoring counts."""
    people, requests = town["people"], town["requests"]
    for _ in range(8):  # new requests, some in the recent past
        town["requests"].append(
            new_request(rng, rng.choice(people), hoods, town["cats"], moment(rng, days=400))
        )
    db.session.flush()
    for q in rng.sample(requests, 10):  # a first (or earlier) acceptance
        new_match(rng, q, rng.choice(town["offers"]))
    for q in rng.sample(requests, 6):  # done, with or without a closing time
        q.status = "done"
        q.closed_at = moment(rng) if rng.random() < 0.7 else None
    for q in rng.sample(requests, 4):  # another category or neighbourhood
        q.category_id = rng.choice(town["cats"]).id
        q.neighbourhood_id = rng.choice(hoods).id
    for person in rng.sample(people, 5):  # people move (their helper and asker rows follow)
        person.neighbourhood_id = rng.choice(hoods).id
    for m in rng.sample(town["matches"], 5):  # legacy rows: the status change time counts
        m.status = "done"
        m.status_changed_at = moment(rng)
    helper = rng.choice(people)  # an earlier first offer
    town["offers"].append(builders.offer(helper, categories=[town["cats"][0]]))
    town["offers"][-1].created_at = START - timedelta(days=3)
    db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_answers_exactly_what_the_direct_computation_answers(hengelo, seed):
    rng = random.Random(seed)
    hoods = list(db.session.scalars(select(Neighbourhood).order_by(Neighbourhood.code).limit(12)))
    town = random_town(rng, hoods)
    assert rollup_service.refresh_rollup()["mode"] == "full"
    for case in CASES:
        assert_same(case)

    for _ in range(2):
        mutate(rng, town, hoods)
        result = rollup_service.refresh_rollup()
        assert result["mode"] == "incremental" and result["rows_written"] > 0
        for case in CASES:
            assert_same(case)
        incremental = rollup_rows()
        rollup_service.refresh_rollup(full=True)
        assert rollup_rows() == incremental  # the same rows and sums as a rebuild from scratch


def test_an_unchanged_refresh_writes_nothing_and_keeps_the_version(hengelo):
    rng = random.Random(7)
    hoods = list(db.session.scalars(select(Neighbourhood).limit(5)))
    random_town(rng, hoods)
    first = rollup_service.refresh_rollup()
    again = rollup_service.refresh_rollup()
    assert again == {"mode": "incremental", "rows_written": 0, "version": first["version"]}


def test_deleted_residents_leave_the_rollup_at_the_next_refresh(hengelo):
    hood = db.session.scalars(select(Neighbourhood).limit(1)).one()
    gone = builders.resident(neighbourhood_id=hood.id)
    builders.offer(gone, created_at=START)
    db.session.commit()
    rollup_service.refresh_rollup()
    assert (
        db.session.scalar(
            select(MonitoringFact.key_id).where(MonitoringFact.measure == "new_helper")
        )
        == gone.id
    )
    db.session.execute(Resident.__table__.delete().where(Resident.id == gone.id))
    db.session.commit()
    assert rollup_service.refresh_rollup()["rows_written"] == 1
    assert rollup_rows() == (set(), set())


def test_between_refreshes_the_monitoring_answers_from_the_rollup(app_ctx, hengelo):
    """With a maximum age, a page shows the last refresh (the periodic job's), not rows
    written since; after the next refresh it shows them."""
    hood = db.session.scalars(select(Neighbourhood).limit(1)).one()
    asker = builders.resident(neighbourhood_id=hood.id)
    for day in range(6):
        builders.help_request(
            asker, neighbourhood_id=hood.id, created_at=datetime(2027, 3, 1 + day, tzinfo=UTC)
        )
    db.session.commit()
    before = app_ctx.config["MONITORING_ROLLUP_MAX_AGE_SECONDS"]
    app_ctx.config["MONITORING_ROLLUP_MAX_AGE_SECONDS"] = 300
    try:

        def opened() -> int:
            rep = monitoring_report(
                role="admin",
                own_code=None,
                requested_code="GM0164",
                level="municipality",
                period="month",
                start=None,
                end=None,
                today=TODAY,
                threshold=5,
            )
            return rep.figure("requests_opened", "GM0164", date(2027, 3, 1)).value

        assert opened() == 6  # never built: built now
        builders.help_request(
            asker, neighbourhood_id=hood.id, created_at=datetime(2027, 3, 9, tzinfo=UTC)
        )
        db.session.commit()
        assert opened() == 6  # the rollup is younger than its maximum age
        rollup_service.refresh_job()
        assert opened() == 7
    finally:
        app_ctx.config["MONITORING_ROLLUP_MAX_AGE_SECONDS"] = before
