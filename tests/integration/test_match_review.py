"""Match review by a community worker: candidates with their score parts; confirm, choose
another helper, withdraw (with a reason, audited, residents told); what-if stores nothing;
only an admin makes weights the default."""

import pytest
from sqlalchemy import select

from mutualaid.errors import Conflict, Invalid, NotAllowed, NotFound
from mutualaid.extensions import db
from mutualaid.models import (
    AuditEvent,
    HelpRequest,
    Match,
    Notification,
    RankerVersion,
    ResidentBlock,
)
from mutualaid.models.base import utcnow
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.match_review import (
    choose_helper,
    confirm_match,
    nearby_offers,
    review_request,
    withdraw_match,
)
from mutualaid.services.matching import active_weights, match_request
from mutualaid.services.vetting import record_vog, vouch_for
from mutualaid.services.what_if import make_default_weights, what_if
from tests.casework import FAR_CODE, matching_fingerprint, resident_in, staff

DEFAULTS = {
    "proximity": 0.35,
    "availability": 0.2,
    "trust": 0.2,
    "continuity": 0.1,
    "language": 0.05,
    "fairness": 0.1,
}
TRUST_ONLY = dict.fromkeys(DEFAULTS, 0.0) | {"trust": 1.0}


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


@pytest.fixture
def scene(town):
    """A worker, a requester, a near helper, a far but vouched helper with a VOG, suggestions."""
    worker = staff()
    requester = resident_in(
        first_name="Annie", phone="0612345678", street="Marktstraat", house_number="7"
    )
    near = resident_in(
        north_m=150, first_name="Bram", phone="0687654321", street="Enschedesestraat"
    )
    far = resident_in(north_m=1400, first_name="Cor")
    near_offer = post_offer(near.id, categories=["boodschappen"])
    far_offer = post_offer(far.id, categories=["boodschappen"])
    vouch_for(worker.id, far.id)
    record_vog(worker.id, far.id, issued_on=utcnow().date())
    request = post_request(requester.id, category="boodschappen", description="Boodschappen")
    match_request(request.id, force=True)
    return {
        "worker": worker,
        "requester": requester,
        "near": near,
        "far": far,
        "near_offer": near_offer,
        "far_offer": far_offer,
        "request": request,
    }


def suggestion(request_id: int, helper_id: int) -> Match:
    return db.session.scalar(
        select(Match).where(Match.request_id == request_id, Match.helper_id == helper_id)
    )


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_review_lists_ranked_candidates_with_parts_and_is_audited(scene):
    review = review_request(scene["worker"].id, scene["request"].id)
    candidates = review["candidates"]
    assert [c["helper_id"] for c in candidates] == [scene["near"].id, scene["far"].id]
    assert [c["rank"] for c in candidates] == [1, 2]
    assert set(candidates[0]["parts"]) == set(DEFAULTS)
    assert candidates[0]["explanation_nl"] and candidates[0]["explanation_en"]
    assert review["request"]["requester_first_name"] == "Annie"
    seen = {e.subject_resident_id for e in events("view:match_review")}
    assert seen == {scene["requester"].id, scene["near"].id, scene["far"].id}


def test_confirm_invites_the_helper_with_a_reason_audits_and_tells_both(scene):
    match = suggestion(scene["request"].id, scene["near"].id)
    with pytest.raises(Invalid) as caught:
        confirm_match(scene["worker"].id, match.id, "  ")
    assert caught.value.field == "reason"
    assert db.session.get(Match, match.id).status == "suggested"

    confirm_match(scene["worker"].id, match.id, "Annie kent Bram van de markt")
    match = db.session.get(Match, match.id)
    assert (match.status, match.invited_by, match.proposed_by) == ("invited", "worker", "engine")
    assert match.status_reason == "Annie kent Bram van de markt"
    assert match.status_changed_by_user_id == scene["worker"].id
    [event] = events("match.confirm")
    assert (event.actor_user_id, event.reason) == (scene["worker"].id, match.status_reason)
    notes = db.session.scalars(select(Notification).where(Notification.match_id == match.id)).all()
    assert {n.resident_id for n in notes} == {scene["requester"].id, scene["near"].id}
    for note in notes:
        text = note.subject + note.body
        for secret in ("0612345678", "0687654321", "Marktstraat", "Enschedesestraat", "@"):
            assert secret not in text
    with pytest.raises(Conflict):  # only a suggestion can be confirmed
        confirm_match(scene["worker"].id, match.id, "nog eens")


def test_a_worker_passes_on_the_yes_only_of_a_helper_who_is_not_online(scene):
    near_match = suggestion(scene["request"].id, scene["near"].id)
    with pytest.raises(Invalid) as caught:
        confirm_match(scene["worker"].id, near_match.id, "belde", helper_agreed=True)
    assert caught.value.field == "helper_agreed"
    far = scene["far"]
    far.self_service, far.registered_by_user_id = False, scene["worker"].id
    db.session.commit()
    far_match = suggestion(scene["request"].id, far.id)
    confirm_match(
        scene["worker"].id, far_match.id, "Cor zei ja aan de telefoon", helper_agreed=True
    )
    assert db.session.get(Match, far_match.id).status == "accepted"
    assert db.session.get(HelpRequest, scene["request"].id).status == "matched"


def test_choose_another_helper_applies_the_hard_filters(scene):
    worker, request = scene["worker"], scene["request"]
    other = resident_in(north_m=3000, first_name="Dirk")
    other_offer = post_offer(other.id, categories=["boodschappen"])
    nearby = nearby_offers(worker.id, request.id)
    assert [o["helper_first_name"] for o in nearby] == ["Bram", "Cor", "Dirk"]
    assert all(o["eligible"] for o in nearby)

    db.session.add(ResidentBlock(blocker_id=scene["requester"].id, blocked_id=other.id))
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        choose_helper(worker.id, request.id, other_offer.id, "ken hem")
    assert caught.value.rule == "blocked"
    db.session.query(ResidentBlock).delete()
    db.session.commit()

    match = choose_helper(worker.id, request.id, other_offer.id, "Dirk heeft een auto")
    assert (match.status, match.proposed_by, match.proposed_by_user_id) == (
        "invited",
        "worker",
        worker.id,
    )
    assert match.distance_m == pytest.approx(3000, rel=0.05)
    assert events("match.choose")[0].reason == "Dirk heeft een auto"
    with pytest.raises(Conflict):
        choose_helper(worker.id, request.id, other_offer.id, "nog eens")
    with pytest.raises(Invalid) as caught:
        choose_helper(worker.id, request.id, 99999, "onbekend")
    assert caught.value.field == "offer_id"


def test_a_refused_choice_leaves_nothing_for_a_later_commit(scene):
    worker = scene["worker"]
    other = resident_in(north_m=2000, first_name="Eva")  # online: answers herself
    offer = post_offer(other.id, categories=["boodschappen"])
    before = matching_fingerprint()
    with pytest.raises(Invalid) as caught:
        choose_helper(worker.id, scene["request"].id, offer.id, "belde", helper_agreed=True)
    assert caught.value.field == "helper_agreed"
    review_request(worker.id, scene["request"].id)  # the page shown next commits its audit
    assert matching_fingerprint() == before


def test_choosing_a_helper_without_a_vog_for_a_vog_request_is_refused(scene):
    worker = scene["worker"]
    post_offer(scene["near"].id, categories=["kinderoppas"])
    post_offer(scene["far"].id, categories=["kinderoppas"])
    request = post_request(scene["requester"].id, category="kinderoppas", description="Oppas")
    offers = {o["helper_id"]: o for o in nearby_offers(worker.id, request.id)}
    assert offers[scene["near"].id]["problems"] == ["vog"]
    with pytest.raises(Conflict) as caught:
        choose_helper(worker.id, request.id, offers[scene["near"].id]["offer_id"], "ken haar")
    assert caught.value.rule == "vog"
    match = choose_helper(worker.id, request.id, offers[scene["far"].id]["offer_id"], "heeft VOG")
    assert match.status == "invited"


def test_withdraw_cancels_with_a_reason_and_opens_the_request_again(scene):
    worker = scene["worker"]
    far = scene["far"]
    far.self_service = False
    db.session.commit()
    match = suggestion(scene["request"].id, far.id)
    confirm_match(worker.id, match.id, "afgesproken", helper_agreed=True)
    with pytest.raises(Invalid):
        withdraw_match(worker.id, match.id, "")
    withdraw_match(worker.id, match.id, "Cor is ziek")
    match = db.session.get(Match, match.id)
    assert (match.status, match.status_reason) == ("cancelled", "Cor is ziek")
    assert match.status_changed_by_user_id == worker.id
    request = db.session.get(HelpRequest, scene["request"].id)
    assert request.status == "open" and request.matching_pending_since is not None
    assert events("match.withdraw")[0].reason == "Cor is ziek"
    with pytest.raises(Conflict):
        withdraw_match(worker.id, match.id, "nog eens")


def test_requests_outside_the_workers_neighbourhoods_are_not_found(scene):
    stranger = staff(codes=(FAR_CODE,))
    match = suggestion(scene["request"].id, scene["near"].id)
    before = matching_fingerprint()
    for action in (
        lambda: review_request(stranger.id, scene["request"].id),
        lambda: confirm_match(stranger.id, match.id, "reden"),
        lambda: withdraw_match(stranger.id, match.id, "reden"),
        lambda: choose_helper(stranger.id, scene["request"].id, scene["far_offer"].id, "reden"),
    ):
        with pytest.raises(NotFound):
            action()
    with pytest.raises(NotAllowed):
        review_request(staff("municipality").id, scene["request"].id)
    assert matching_fingerprint() == before
    assert not events("match.confirm") and not events("view:match_review")


def test_what_if_reports_changed_top_helpers_and_stores_nothing(scene):
    worker = scene["worker"]
    before = matching_fingerprint()
    result = what_if(worker.id, TRUST_ONLY)
    assert matching_fingerprint() == before
    [row] = result["requests"]
    assert row["request_id"] == scene["request"].id
    assert row["top_now"]["helper_id"] == scene["near"].id
    assert row["top_new"]["helper_id"] == scene["far"].id
    assert row["changed"] is True and result["changed"] == 1
    moves = {m["helper_id"]: (m["rank_now"], m["rank_new"]) for m in row["moves"]}
    assert moves == {scene["far"].id: (2, 1), scene["near"].id: (1, 2)}
    same = what_if(worker.id, DEFAULTS)
    assert same["changed"] == 0
    assert matching_fingerprint() == before
    # A worker elsewhere sees none of these requests.
    assert what_if(staff(codes=(FAR_CODE,)).id, TRUST_ONLY)["requests"] == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (DEFAULTS | {"trust": 2}, "trust"),
        (DEFAULTS | {"trust": "veel"}, "trust"),
        ({k: v for k, v in DEFAULTS.items() if k != "fairness"}, "fairness"),
        (dict.fromkeys(DEFAULTS, 0), "proximity"),
        (DEFAULTS | {"luck": 1}, "luck"),
    ],
)
def test_what_if_refuses_bad_weights(town, values, field):
    with pytest.raises(Invalid) as caught:
        what_if(staff().id, values)
    assert caught.value.field == field


def test_only_an_admin_makes_weights_the_default(scene):
    worker, admin = scene["worker"], staff("admin")
    before = matching_fingerprint()
    with pytest.raises(NotAllowed):
        make_default_weights(worker.id, TRUST_ONLY, source_user_id=worker.id)
    assert matching_fingerprint() == before
    first = make_default_weights(admin.id, DEFAULTS | {"proximity": 0.5})
    second = make_default_weights(admin.id, TRUST_ONLY, source_user_id=worker.id)
    rows = db.session.scalars(select(RankerVersion).order_by(RankerVersion.id)).all()
    assert [(r.version, r.is_active) for r in rows] == [
        (first["version"], False),
        (second["version"], True),
    ]
    assert rows[1].created_by_user_id == admin.id
    assert rows[1].metrics["source"] == f"what-if by user {worker.id}"
    weights, version = active_weights()
    assert version == second["version"] and weights.trust == 1.0 and weights.proximity == 0.0
    assert events("ranker.weights_default")[-1].actor_user_id == admin.id
