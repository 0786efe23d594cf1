"""Matching engine v2 through the service layer: trusted and previous helpers found beyond a
crowded street, the warm path equal to the batch path, VOGs that expire, and writes of only
what changed."""

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from mutualaid import matching as engine
from mutualaid.extensions import db
from mutualaid.models import Match, Resident, TrustTie, User, VogRecord, Vouch
from mutualaid.models.base import utcnow
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import engine_inputs, match_request
from mutualaid.services.snapshot import load_snapshot, months_before
from mutualaid.services.trust import rebuild_helped_ties
from mutualaid.services.warm import WarmMatcher
from tests import builders

HOME = (52.2640, 6.7935)


def neighbour(north_m: float, **overrides) -> Resident:
    return builders.resident(home_lat=HOME[0] + north_m / 111_195.0, home_lon=HOME[1], **overrides)


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def tie(a: Resident, b: Resident, kind: str = "knows", weight: float = 1.0) -> None:
    low, high = sorted((a.id, b.id))
    db.session.add(
        TrustTie(
            resident_a_id=low, resident_b_id=high, kind=kind, weight=weight, confirmed_at=utcnow()
        )
    )


def worker(name: str) -> User:
    user = User(email=f"{name}@example.org", password_hash="x", role="worker", display_name=name)
    db.session.add(user)
    db.session.flush()
    return user


def done_help(requester: Resident, helper: Resident, times: int) -> None:
    """Completed help in the past (closed requests with done matches)."""
    offer = post_offer(helper.id, categories=["klusjes"], capacity=5)
    for _ in range(times):
        request = post_request(requester.id, category="klusjes", description="Eerder")
        db.session.add(
            Match(request_id=request.id, offer_id=offer.id, helper_id=helper.id, status="done")
        )
        request.status = "done"
    offer.is_active = False
    db.session.commit()


def crowded_street():
    """A requester with 45 helpers on the same street within 90 m; one who helped twice at
    300 m, a friend at 350 m, and a helper vouched for by the requester's community worker at
    400 m (the three live on other streets)."""
    requester = neighbour(0)
    crowd = [neighbour(2 * i + 1) for i in range(45)]
    previous, friend, recommended = (neighbour(d, street="Deldenerstraat") for d in (300, 350, 400))
    done_help(requester, previous, 2)
    rebuild_helped_ties()  # the periodic job derives the `helped` tie from completed help
    tie(requester, friend)
    coach = worker("coach")
    db.session.add_all(
        [Vouch(resident_id=p.id, worker_user_id=coach.id) for p in (requester, recommended)]
    )
    db.session.commit()
    for helper in [*crowd, previous, friend, recommended]:
        post_offer(helper.id, categories=["boodschappen"], radius_m=3000)
    request = post_request(requester.id, category="boodschappen", description="Boodschappen")
    return request, previous, friend, recommended


def stored(request_id: int) -> dict[int, Match]:
    return {
        m.helper_id: m
        for m in db.session.scalars(select(Match).where(Match.request_id == request_id))
    }


def test_trusted_helpers_beyond_a_crowded_street_are_suggested_and_named(town):
    request, previous, friend, recommended = crowded_street()
    match_request(request.id)
    rows = stored(request.id)
    assert {previous.id, friend.id, recommended.id} <= set(rows)
    assert rows[previous.id].rank <= 3 and rows[friend.id].rank <= 3
    assert rows[recommended.id].rank <= 10
    assert "hielp u al twee keer" in rows[previous.id].explanation_nl
    assert "helped you twice" in rows[previous.id].explanation_en
    assert "kent u" in rows[friend.id].explanation_nl
    assert "knows you" in rows[friend.id].explanation_en
    assert "aanbevolen door de wijkcoach" in rows[recommended.id].explanation_nl
    assert "recommended by the community worker" in rows[recommended.id].explanation_en


def test_the_warm_path_gives_the_same_candidates_as_the_batch_path(town):
    request, *_ = crowded_street()
    other = post_request(neighbour(30).id, category="boodschappen", description="Melk")
    ids = [request.id, other.id]
    warm = WarmMatcher()
    warm.refresh()
    warm_requests, warm_found = warm.rank_requests(ids, 10, engine.Weights())
    requests, offers, trust, exclusions, history = engine_inputs(load_snapshot(ids))
    cold = engine.rank(requests, offers, trust, exclusions, history)

    def listing(reqs, offs, found):
        return sorted(
            zip(
                reqs.ids[found.request_idx].tolist(),
                offs.ids[found.offer_idx].tolist(),
                found.rank.tolist(),
                np.round(found.total, 9).tolist(),
                engine.explain(found, "en"),
                strict=True,
            )
        )

    assert len(cold) == 20
    assert listing(warm_requests, warm.index.offers, warm_found) == listing(requests, offers, cold)


def test_a_tie_made_after_the_warm_load_is_picked_up_by_the_refresh(town):
    requester = neighbour(0)
    for i in range(20):
        post_offer(neighbour(i + 1).id, categories=["vervoer"])
    friend = neighbour(1200)
    post_offer(friend.id, categories=["vervoer"], radius_m=3000)
    warm = WarmMatcher()
    warm.refresh()
    tie(requester, friend)
    db.session.commit()
    warm.refresh()
    request = post_request(requester.id, category="vervoer", description="Lift")
    _, found = warm.rank_requests([request.id], 50, engine.Weights())
    assert friend.id in warm.index.offers.helper_ids[found.offer_idx].tolist()


@pytest.mark.parametrize(
    ("issued_ago_days", "expires_in_days", "counts"),
    [
        (100, None, True),  # issued recently, no expiry date: valid for VOG_VALID_MONTHS
        (100, -1, False),  # expired yesterday
        (100, 0, True),  # expires today: still valid
        (365 * 4, None, False),  # older than VOG_VALID_MONTHS (36)
        (365 * 4, 30, True),  # old, but its expiry date is still ahead
    ],
)
def test_a_vog_counts_only_while_valid(town, issued_ago_days, expires_in_days, counts):
    helper = neighbour(100)
    today = date.today()
    db.session.add(
        VogRecord(
            resident_id=helper.id,
            issued_on=today - timedelta(days=issued_ago_days),
            expires_on=None if expires_in_days is None else today + timedelta(expires_in_days),
        )
    )
    db.session.commit()
    post_offer(helper.id, categories=["boodschappen"])
    request = post_request(
        neighbour(0).id, category="boodschappen", description="Boodschappen", needs_vog=True
    )
    match_request(request.id)
    assert (helper.id in stored(request.id)) is counts
    warm = WarmMatcher()
    warm.refresh()
    _, found = warm.rank_requests([request.id], 10, engine.Weights())
    assert (len(found) == 1) is counts


def test_months_before_clamps_to_the_end_of_the_month():
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 11, 22), 36) == date(2023, 11, 22)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_an_unchanged_rematch_writes_nothing_and_accepted_matches_are_never_touched(town):
    helpers = [neighbour(100 * i) for i in range(1, 5)]
    for helper in helpers:
        post_offer(helper.id, categories=["vervoer"], capacity=3)
    request = post_request(neighbour(0).id, category="vervoer", description="Lift")
    first = match_request(request.id, run_id="first")
    assert first["suggestions"] == 4
    accepted = db.session.scalar(
        select(Match).where(Match.request_id == request.id, Match.rank == 2)
    )
    accepted.status, accepted.accepted_at = "accepted", utcnow()
    db.session.commit()
    match_request(request.id, run_id="after-accept", force=True)  # its load changed: re-scored
    before = {
        m.id: (m.status, m.rank, m.score, m.updated_at, m.matching_run_id, m.explanation_nl)
        for m in db.session.scalars(select(Match).where(Match.request_id == request.id))
    }
    db.session.expire_all()
    again = match_request(request.id, run_id="unchanged", force=True)
    assert again["suggestions"] == 0 and again["expired"] == 0
    after = {
        m.id: (m.status, m.rank, m.score, m.updated_at, m.matching_run_id, m.explanation_nl)
        for m in db.session.scalars(select(Match).where(Match.request_id == request.id))
    }
    assert after == before
    # A changed helper: only that helper's row is rewritten; the accepted one stays as it was.
    nearest = db.session.scalar(
        select(Match).where(Match.request_id == request.id, Match.rank == 1)
    )
    nearest.offer.slots = 0b1
    db.session.commit()
    db.session.expire_all()
    third = match_request(request.id, run_id="changed", force=True)
    rows = {
        m.id: m for m in db.session.scalars(select(Match).where(Match.request_id == request.id))
    }
    assert third["suggestions"] >= 1
    assert (rows[accepted.id].status, rows[accepted.id].matching_run_id) == ("accepted", "first")
    assert rows[accepted.id].updated_at == before[accepted.id][3]
    rewritten = {m.matching_run_id for m in rows.values() if m.id != accepted.id}
    assert "changed" in rewritten and "unchanged" not in rewritten


def test_dropped_suggestions_expire_and_new_ones_are_inserted(town):
    town.config["MATCH_TOP_K"] = 1
    try:
        far = neighbour(1500)
        post_offer(far.id, categories=["tuin"])
        request = post_request(neighbour(0).id, category="tuin", description="Heg")
        match_request(request.id)
        near = neighbour(50)
        post_offer(near.id, categories=["tuin"])
        result = match_request(request.id, force=True)
    finally:
        town.config["MATCH_TOP_K"] = 10
    assert result["suggestions"] == 1 and result["expired"] == 1
    rows = stored(request.id)
    assert (rows[far.id].status, rows[near.id].status) == ("expired", "suggested")
