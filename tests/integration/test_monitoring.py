"""Monitoring figures on crafted data: counts, median time to match, new helpers, repeat
requesters, category mix, periods, scope; on SQLite and (with DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mutualaid.errors import Invalid, NotAllowed, NotFound
from mutualaid.extensions import db
from mutualaid.models import Match, Neighbourhood
from mutualaid.services.monitoring import monitoring_report, report_csv, scoped_municipality
from mutualaid.services.monitoring.report import build_report
from mutualaid.services.monitoring.suppression import Equation
from mutualaid.services.neighbourhoods import import_neighbourhoods
from tests import builders

BORNE_GEOJSON = Path(__file__).resolve().parent.parent / "data" / "buurt_borne_test.geojson"
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def hood(code: str) -> Neighbourhood:
    return db.session.query(Neighbourhood).filter_by(code=code).one()


def accepted_match(request, offer, accepted_at, status="accepted", **extra) -> Match:
    match = Match(
        request_id=request.id,
        offer_id=offer.id,
        helper_id=offer.helper_id,
        status=status,
        accepted_at=accepted_at,
        status_changed_at=extra.pop("status_changed_at", accepted_at or at(11, 20)),
        **extra,
    )
    db.session.add(match)
    return match


@pytest.fixture
def borne(hengelo):
    """Borne (3 crafted neighbourhoods, 2 districts) next to the real Hengelo ones."""
    import_neighbourhoods(BORNE_GEOJSON)
    a, b, c = hood("BU01470001"), hood("BU01470002"), hood("BU01470101")
    groceries = builders.category("boodschappen", bit=0)
    transport = builders.category("vervoer", bit=1)

    def person(n):
        return builders.resident(neighbourhood_id=n.id)

    r1, r2, r3 = person(a), person(a), person(b)
    h1, h2 = person(b), person(c)
    o1 = builders.offer(h1, created_at=at(9, 1))
    o2 = builders.offer(h2, created_at=at(10, 10))
    builders.offer(h2, created_at=at(11, 2))  # a second offer: h2 is new in October only
    db.session.flush()

    def ask(who, when, category=groceries, n=None, **extra):
        req = builders.help_request(
            who,
            neighbourhood_id=(n or a).id,
            created_at=when,
            category_id=category.id,
            **extra,
        )
        db.session.flush()
        return req

    q1 = ask(r1, at(10, 5, 10), status="done", closed_at=at(10, 8))
    q2 = ask(r2, at(10, 6, 12), category=transport, status="matched")
    q3 = ask(r1, at(10, 20))  # r1's second request in October: a repeat requester
    q4 = ask(r3, at(11, 3, 1), n=b, status="matched")
    accepted_match(q1, o1, at(10, 6, 10), status="done", done_at=at(10, 8))  # 24 h
    accepted_match(q2, o2, at(10, 6, 18))  # 6 h
    accepted_match(q3, o1, None, status="suggested")  # not a match yet
    accepted_match(q3, o2, None, status="declined")
    # An older row without accepted_at: the status change time counts (26 h).
    accepted_match(q4, o2, None, status_changed_at=at(11, 4, 3))
    # Hengelo activity must never show up in Borne's figures.
    hengelo_resident = builders.resident(neighbourhood_id=hood("BU01640000").id)
    ask(hengelo_resident, at(10, 7), n=hood("BU01640000"))
    db.session.commit()
    return {"a": a.code, "b": b.code, "c": c.code}


def report(threshold=1, period="month", start=OCT, end=NOV, level="neighbourhood"):
    return build_report(
        "GM0147",
        level=level,
        period=period,
        start=start,
        end=end,
        today=date(2026, 11, 22),
        threshold=threshold,
    )


def value(rep, measure, area, p):
    figure = rep.figure(measure, area, p)
    assert not figure.suppressed
    return figure.value


def test_counts_per_neighbourhood_district_and_municipality(borne):
    rep = report()
    assert rep.periods == [OCT, NOV]
    assert value(rep, "requests_opened", borne["a"], OCT) == 3
    assert value(rep, "requests_opened", borne["b"], OCT) == 0
    assert value(rep, "requests_opened", "WK014700", OCT) == 3
    assert value(rep, "requests_opened", "GM0147", OCT) == 3  # Hengelo's request not counted
    assert value(rep, "requests_opened", "GM0147", NOV) == 1
    assert value(rep, "requests_matched", borne["a"], OCT) == 2
    assert value(rep, "share_matched", borne["a"], OCT) == pytest.approx(0.667, abs=0.001)
    assert value(rep, "requests_completed", borne["a"], OCT) == 1
    assert value(rep, "requests_completed", "GM0147", NOV) == 0


def test_median_time_to_match_runs_from_opening_to_the_first_acceptance(borne):
    rep = report()
    assert value(rep, "median_hours_to_match", borne["a"], OCT) == 15.0  # median of 24 h and 6 h
    assert value(rep, "median_hours_to_match", borne["b"], NOV) == 26.0
    assert value(rep, "median_hours_to_match", borne["c"], OCT) is None  # nothing opened there


def test_active_and_new_helpers_are_counted_where_they_live(borne):
    rep = report()
    assert value(rep, "active_helpers", borne["b"], OCT) == 1  # h1
    assert value(rep, "active_helpers", borne["c"], OCT) == 1  # h2
    assert value(rep, "active_helpers", "GM0147", OCT) == 2
    assert value(rep, "active_helpers", borne["c"], NOV) == 1  # h2 again, via its status change
    # New: the first offer ever falls in the period (h1 offered in September).
    assert value(rep, "new_helpers", "GM0147", OCT) == 1
    assert value(rep, "new_helpers", borne["c"], OCT) == 1
    assert value(rep, "new_helpers", "GM0147", NOV) == 0


def test_repeat_requesters_asked_twice_in_the_same_period(borne):
    rep = report()
    assert value(rep, "repeat_requesters", borne["a"], OCT) == 1
    assert value(rep, "repeat_requesters", "GM0147", NOV) == 0
    # Per week the two requests (5 and 20 October) fall in different weeks.
    weekly = report(period="week", start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert all(value(weekly, "repeat_requesters", "GM0147", p) == 0 for p in weekly.periods)


def test_category_mix_adds_up_to_requests_opened(borne):
    rep = report()
    assert rep.mix("boodschappen", borne["a"], OCT).value == 2
    assert rep.mix("vervoer", borne["a"], OCT).value == 1
    assert rep.mix("vervoer", "GM0147", NOV).value == 0


def test_weeks_start_on_monday_in_utc(borne):
    requester = builders.resident(neighbourhood_id=hood(borne["c"]).id)
    for when in (at(10, 4, 23, 30), at(10, 5, 0, 30)):  # Sunday night, Monday morning
        builders.help_request(requester, neighbourhood_id=hood(borne["c"]).id, created_at=when)
    db.session.commit()
    rep = report(period="week", start=date(2026, 9, 28), end=date(2026, 10, 11))
    assert rep.periods == [date(2026, 9, 28), date(2026, 10, 5)]
    assert value(rep, "requests_opened", borne["c"], date(2026, 9, 28)) == 1
    assert value(rep, "requests_opened", borne["c"], date(2026, 10, 5)) == 1
    assert rep.label(date(2026, 10, 5)) == "2026-W41"


def test_small_counts_are_hidden_with_their_complements_and_derived_figures(borne):
    rep = report(threshold=5)
    hidden = rep.figure("requests_opened", borne["a"], OCT)
    assert hidden.suppressed and hidden.value is None and hidden.text(5) == "<5"
    # The district and municipality totals (3) would give it away: hidden as well.
    assert rep.figure("requests_opened", "GM0147", OCT).suppressed
    assert rep.figure("share_matched", borne["a"], OCT).suppressed
    assert rep.figure("median_hours_to_match", borne["a"], OCT).suppressed
    # Zeros are shown.
    assert rep.figure("requests_opened", borne["c"], OCT) == (0, False)
    shown = [f.value for f in rep.figures.values() if not f.suppressed]
    assert all(v is None or v == 0 or v >= 5 or isinstance(v, float) for v in shown)


def test_csv_has_one_row_per_area_period_and_measure_with_suppressed_as_text(borne):
    text = report_csv(report(threshold=5))
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("municipality_code,level,area_code,area_name,period")
    assert (
        "GM0147,neighbourhood,BU01470001,Borne-Centrum,2026-10,2026-10-01,requests_opened,<5"
        in (lines)
    )
    # municipality + 3 neighbourhoods, 2 months, 8 measures + 2 categories.
    assert len(lines) - 1 == 4 * 2 * (8 + 2)


def test_scope_municipality_users_see_only_their_own(borne):
    assert scoped_municipality("municipality", "GM0147", None) == "GM0147"
    assert scoped_municipality("municipality", "GM0147", "GM0147") == "GM0147"
    with pytest.raises(NotFound):
        scoped_municipality("municipality", "GM0147", "GM0164")
    assert scoped_municipality("admin", None, "GM0164") == "GM0164"
    for role in ("worker", "resident"):
        with pytest.raises(NotAllowed):
            scoped_municipality(role, None, "GM0147")


def test_unknown_municipality_and_bad_input_are_refused(borne):
    args = dict(period="month", start=None, end=None, today=date(2026, 11, 22), threshold=5)
    with pytest.raises(NotFound):
        monitoring_report(
            role="admin", own_code=None, requested_code="GM9999", level="district", **args
        )
    with pytest.raises(Invalid) as error:
        monitoring_report(
            role="admin", own_code=None, requested_code="GM0147", level="street", **args
        )
    assert error.value.field == "level"
    with pytest.raises(Invalid) as error:
        report(start=date(2026, 12, 1), end=date(2026, 10, 1))
    assert error.value.field == "from"
    with pytest.raises(Invalid) as error:
        report(period="week", start=date(2020, 1, 1), end=date(2026, 1, 1))
    assert error.value.rule == "max_range"


def test_admins_start_at_the_default_municipality_when_it_is_imported(borne):
    assert scoped_municipality("admin", None, None, "GM0164") == "GM0164"
    assert scoped_municipality("admin", None, None, "GM9999") == "GM0147"  # first imported


def test_a_month_of_exactly_four_weeks_is_suppressed_together_with_its_weeks(borne):
    """February 2027 runs from Monday 1 to Sunday 28: the month is the sum of its four weeks,
    so a small week must not be recoverable as the month minus the other weeks."""
    from tests.unit.test_suppression import attacker_interval

    for code, counts in ((borne["a"], (2, 6, 6, 6)), (borne["b"], (7, 7, 7, 7))):
        n = hood(code)
        for week, count in enumerate(counts):
            for i in range(count):
                person = builders.resident(neighbourhood_id=n.id)
                when = datetime(2027, 2, 1 + 7 * week, 9 + i, tzinfo=UTC)
                builders.help_request(person, neighbourhood_id=n.id, created_at=when)
    db.session.commit()

    def feb(period, threshold):
        return build_report(
            "GM0147",
            level="neighbourhood",
            period=period,
            start=date(2027, 2, 1),
            end=date(2027, 2, 28),
            today=date(2027, 3, 15),
            threshold=threshold,
        )

    shown = {period: feb(period, 5) for period in ("week", "month")}
    truth = {period: feb(period, 1) for period in ("week", "month")}
    assert len(shown["week"].periods) == 4
    assert shown["week"].figure("requests_opened", borne["a"], date(2027, 2, 1)).suppressed
    # What an attacker sees of requests opened: both tables, and how their cells add up.
    areas = [x.code for x in shown["week"].areas]
    values, hidden, equations = {}, set(), []
    for period, rep in shown.items():
        for p in rep.periods:
            for area in areas:
                values[(period, p, area)] = truth[period].figure("requests_opened", area, p).value
                if rep.figure("requests_opened", area, p).suppressed:
                    hidden.add((period, p, area))
            equations += [
                Equation((period, p, parent.code), tuple((period, p, c.code) for c in kids))
                for parent in rep.areas
                if (kids := [c for c in rep.areas if c.parent == parent.code])
            ]
    month = date(2027, 2, 1)
    equations += [
        Equation(("month", month, area), tuple(("week", p, area) for p in shown["week"].periods))
        for area in areas
    ]
    assert hidden
    for key in hidden:
        low, high = attacker_interval(values, equations, hidden, key)
        assert high - low > 1e-6, (key, low, high)
