"""The matching service on a real database: suggestions stored, accepted matches kept,
better helpers replace suggestions, runs recorded."""

import pytest
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.matching import PART_NAMES
from mutualaid.models import HelpRequest, Match, MatchingRun, Resident
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_all, match_offer, match_request, preview_rankings
from tests import builders

# Points in Binnenstad-Centrum, a few hundred metres apart.
HOME = (52.2640, 6.7935)


def neighbour(north_m: float, **overrides) -> Resident:
    return builders.resident(home_lat=HOME[0] + north_m / 111_195.0, home_lon=HOME[1], **overrides)


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def suggestions(request_id: int) -> list[tuple[int, str]]:
    return [
        tuple(r)
        for r in db.session.execute(
            select(Match.helper_id, Match.status)
            .where(Match.request_id == request_id)
            .order_by(Match.status, Match.rank)
        )
    ]


def test_suggestions_are_stored_ranked_and_explained(town):
    near, far = neighbour(100), neighbour(900)
    post_offer(far.id, categories=["boodschappen"])
    post_offer(near.id, categories=["boodschappen"])
    request = post_request(neighbour(0).id, category="boodschappen", description="Boodschappen")
    result = match_request(request.id, run_id="test-run-1")
    assert result["suggestions"] == 2
    rows = db.session.scalars(
        select(Match).where(Match.request_id == request.id).order_by(Match.rank)
    ).all()
    assert [m.helper_id for m in rows] == [near.id, far.id]
    assert rows[0].explanation_nl.startswith("100 m") and rows[0].explanation_en
    assert rows[0].engine_version.startswith("1.0/") and rows[0].matching_run_id == "test-run-1"
    assert 0 < rows[1].score < rows[0].score <= 1
    assert db.session.get(HelpRequest, request.id).matching_pending_since is None
    run = db.session.get(MatchingRun, "test-run-1")
    assert run.status == "succeeded" and run.suggestions_written == 2
    assert run.requests_considered == 1 and set(run.timings) >= {"load_s", "rank_s", "store_s"}


def test_rerun_is_idempotent_and_keeps_accepted_matches(town):
    helpers = [neighbour(100 * i) for i in range(1, 4)]
    for helper in helpers:
        post_offer(helper.id, categories=["vervoer"], capacity=2)
    request = post_request(neighbour(0).id, category="vervoer", description="Lift")
    match_request(request.id)
    first = db.session.scalars(select(Match).where(Match.request_id == request.id)).all()
    first[0].status = "accepted"
    db.session.commit()
    match_request(request.id, force=True)
    match_request(request.id, force=True)
    rows = suggestions(request.id)
    assert len(rows) == 3  # unique per request x offer: no duplicates
    assert "accepted" in {s for _, s in rows}
    assert db.session.scalar(select(func.count(Match.id))) == 3


def test_a_better_helper_replaces_a_suggestion(town):
    town.config["MATCH_TOP_K"] = 1
    try:
        far = neighbour(1500)
        post_offer(far.id, categories=["tuin"])
        request = post_request(neighbour(0).id, category="tuin", description="Heg")
        match_request(request.id)
        assert suggestions(request.id) == [(far.id, "suggested")]
        near = neighbour(50)
        match_offer(post_offer(near.id, categories=["tuin"]).id)
    finally:
        town.config["MATCH_TOP_K"] = 10
    assert sorted(suggestions(request.id), key=lambda row: row[1]) == [
        (far.id, "expired"),
        (near.id, "suggested"),
    ]


def test_declined_helper_is_not_suggested_again(town):
    helper = neighbour(100)
    post_offer(helper.id, categories=["klusjes"])
    request = post_request(neighbour(0).id, category="klusjes", description="Lamp")
    match_request(request.id)
    match = db.session.scalar(select(Match).where(Match.request_id == request.id))
    match.status = "declined"
    db.session.commit()
    match_request(request.id, force=True)
    assert suggestions(request.id) == [(helper.id, "declined")]


def test_closed_request_is_skipped_and_its_mark_cleared(town):
    request = post_request(neighbour(0).id, category="klusjes", description="Lamp")
    request.status = "cancelled"
    db.session.commit()
    assert match_request(request.id) == {"skipped": "request is cancelled"}
    assert db.session.get(HelpRequest, request.id).matching_pending_since is None


def test_match_all_covers_every_open_request_and_the_command_reports(town):
    from click.testing import CliRunner

    for i in range(3):
        post_offer(neighbour(300 + i).id, categories=["maaltijd"])
        post_request(neighbour(10 * i).id, category="maaltijd", description="Eten")
    result = match_all()
    assert result["requests"] == 3 and result["suggestions"] == 9
    output = CliRunner().invoke(town.cli, ["match", "--all"]).output
    assert "requests: 3" in output
    bad = CliRunner().invoke(town.cli, ["match"])
    assert bad.exit_code != 0 and "exactly one of --all or --request" in bad.output


def test_one_job_matches_every_pending_request_and_the_others_then_skip(town):
    post_offer(neighbour(200).id, categories=["vervoer"], capacity=3)
    ids = [
        post_request(neighbour(10 * i).id, category="vervoer", description="Lift").id
        for i in range(3)
    ]
    result = match_request(ids[1])
    assert result["requests"] == 3 and result["suggestions"] == 3
    assert match_request(ids[0]) == {"skipped": "already matched"}
    assert match_request(ids[2]) == {"skipped": "already matched"}
    assert match_request(ids[2], force=True)["requests"] == 1


def test_preview_rankings_follows_the_weights_and_stores_nothing(town):
    near, far = neighbour(100), neighbour(1500)
    post_offer(near.id, categories=["boodschappen"])
    post_offer(far.id, categories=["boodschappen"])
    request = post_request(neighbour(0).id, category="boodschappen", description="Boodschappen")
    before = (
        db.session.scalar(select(func.count(Match.id))),
        db.session.scalar(select(func.count(MatchingRun.id))),
    )
    default = preview_rankings([request.id])
    assert [c["helper_id"] for c in default[request.id]] == [near.id, far.id]
    first = default[request.id][0]
    assert set(first) == {
        "offer_id",
        "helper_id",
        "rank",
        "score",
        "parts",
        "distance_m",
        "explanation_nl",
        "explanation_en",
    }
    assert set(first["parts"]) == set(PART_NAMES) and first["rank"] == 1
    assert first["explanation_nl"].startswith("100 m")
    # Proximity off and only availability left: both score the same, ties by offer order.
    flat = preview_rankings([request.id], {"proximity": 0.0}, top_k=1)
    assert len(flat[request.id]) == 1
    assert flat[request.id][0]["score"] != first["score"]
    assert preview_rankings([]) == {}
    after = (
        db.session.scalar(select(func.count(Match.id))),
        db.session.scalar(select(func.count(MatchingRun.id))),
    )
    assert after == before
