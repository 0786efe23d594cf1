"""The follow-up queue read page by page (ordered, counted and paged without reading every
item) shows exactly what building the whole queue and slicing it showed, for workers and
admins, every kind filter, closed items and the overview's counts, on random data."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from mutualaid.extensions import db
from mutualaid.models import FollowUpAction, ProblemReport
from mutualaid.models.base import utcnow
from mutualaid.models.vocab import FOLLOW_UP_KINDS
from mutualaid.services import followup
from mutualaid.services.dashboard import worker_overview
from mutualaid.services.followup import ORDER, follow_up_count, follow_up_queue
from mutualaid.services.worker_scope import scope_ids
from tests.dashboard_builders import MINE, OTHER, asks, decline, person, staff, vog

PLACES = (MINE, OTHER, "BU01640100", "BU01640201")


def whole_queue(ids, include_closed: bool) -> list:
    """The queue as it was built before paging: every item in full, then filtered and sorted."""
    now = utcnow()
    items = (
        followup._open_request_items(ids, now)
        + followup._problem_items(ids)
        + followup._repeat_items(ids, now)
        + followup._vog_items(ids, now.date())
    )
    followup._attach_actions(items)
    if not include_closed:
        items = [i for i in items if not i.closed]
    items.sort(key=lambda i: (ORDER.index(i.kind), i.since, i.key))
    return items


def random_queue(rng: random.Random, worker) -> None:
    people = [person(rng.choice(PLACES), first_name=f"P{i}") for i in range(40)]
    same_moment = utcnow() - timedelta(days=6, hours=3)
    requests = []
    for who in people:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            extra = {"urgency": "high"} if rng.random() < 0.25 else {}
            if rng.random() < 0.15:  # several requests at the very same moment (ties)
                extra["created_at"] = same_moment
            requests.append(asks(who, days_ago=rng.randint(0, 40), **extra))
    for request in rng.sample(requests, len(requests) // 4):
        for _ in range(rng.randint(1, 4)):
            decline(request, rng.choice(people))
    for who in rng.sample(people, 6):
        report = ProblemReport(
            reporter_id=who.id, neighbourhood_id=who.neighbourhood_id, body="Niemand kwam"
        )
        db.session.add(report)
        db.session.flush()
        requests.append(report)
    for who in rng.sample(people, 5):
        vog(who, issued_days_ago=36 * 30 - rng.randint(1, 25))
    db.session.flush()
    # Actions: some close an item (after it arose), some came before it (do not close it).
    for target in rng.sample(requests, len(requests) // 3):
        problem = isinstance(target, ProblemReport)
        kind = "problem" if problem else rng.choice(["urgent", "unmatched", "declined"])
        when = utcnow() - timedelta(days=rng.choice([0, 0, 50]))
        db.session.add(
            FollowUpAction(
                kind=kind,
                action=rng.choice(["called", "note", "referred", "handled"]),
                worker_user_id=worker.id,
                problem_report_id=target.id if problem else None,
                request_id=None if problem else target.id,
                created_at=when,
            )
        )
    for who in rng.sample(people, 8):
        db.session.add(
            FollowUpAction(
                kind=rng.choice(["repeat_requester", "vog_expiry"]),
                action=rng.choice(["called", "handled"]),
                worker_user_id=worker.id,
                resident_id=who.id,
            )
        )
    db.session.commit()


@pytest.mark.parametrize("seed", [5, 6])
def test_pages_equal_the_whole_queue_sliced(hengelo, seed):
    rng = random.Random(seed)
    worker = staff("coach@example.org", codes=(MINE, OTHER))
    admin = staff("admin@example.org", "admin")
    random_queue(rng, worker)
    for actor in (worker, admin):
        ids = scope_ids(actor.id)
        for include_closed in (False, True):
            whole = whole_queue(ids, include_closed)
            counts = {k: sum(1 for i in whole if i.kind == k) for k in FOLLOW_UP_KINDS}
            assert sum(counts.values()) > 20
            for kind in ("", *FOLLOW_UP_KINDS):
                wanted = [i for i in whole if not kind or i.kind == kind]
                for page in (1, 2, 3, 9):
                    got = follow_up_queue(
                        actor.id, kind=kind, include_closed=include_closed, page=page, per_page=7
                    )
                    assert got.items == wanted[(page - 1) * 7 : page * 7], (kind, page)
                    assert got.total == len(wanted)
                    assert got.counts == counts
        overview = worker_overview(actor.id)
        whole = whole_queue(ids, False)
        assert overview.follow_up == len(whole) == follow_up_count(ids)
        assert overview.follow_up_by_kind == {
            k: sum(1 for i in whole if i.kind == k) for k in FOLLOW_UP_KINDS
        }
        for row in overview.neighbourhoods:
            assert row.follow_up == sum(
                1 for i in whole if i.neighbourhood_id is not None and _code(i) == row.code
            )


def _code(item) -> str:
    from mutualaid.models import Neighbourhood

    return db.session.get(Neighbourhood, item.neighbourhood_id).code
