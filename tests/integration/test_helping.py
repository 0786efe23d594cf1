"""The match lifecycle as residents live it: suggestions, invitations, offers to help, accept and
decline (with the 409s), done, thanks, problems, the overview; and what each side may see."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from mutualaid.errors import Conflict, Invalid, NotFound
from mutualaid.extensions import db
from mutualaid.models import (
    HelpRequest,
    Match,
    Notification,
    ProblemReport,
    ResidentBlock,
    TrustTie,
)
from mutualaid.services import helping
from mutualaid.services.aid import cancel_request, pause_offer, post_request, resume_offer
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_request
from mutualaid.services.trust import rebuild_helped_ties
from tests import builders
from tests.conftest import using_postgres
from tests.flows import PRIVATE, make_street, neighbour


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def notifications_of(resident_id: int) -> list[Notification]:
    return db.session.scalars(
        select(Notification).where(Notification.resident_id == resident_id)
    ).all()


def assert_private_absent(value) -> None:
    text = json.dumps(value, default=str)
    for secret in PRIVATE.values():
        assert secret not in text


def test_requester_sees_ranked_suggestions_with_first_name_and_rounded_distance(town):
    street = make_street(helpers=2)
    views = helping.suggestions_for_request(street.request.id, street.requester.id)
    assert [v["other_first_name"] for v in views] == ["Helper1", "Helper2"]
    assert [v["rank"] for v in views] == [1, 2]
    first = views[0]
    assert first["status"] == "suggested" and first["actions"] == ["invite", "decline"]
    assert first["distance_label"] == "less than 500 m" or first["distance_label"].startswith(
        "minder dan"
    )
    assert views[1]["distance_rounded_m"] == 600 and views[1]["distance_label"] == "600 m"
    assert first["explanation"].startswith("minder dan 500 m")
    assert first["address"] is None and first["contact"] is None
    english = helping.suggestions_for_request(street.request.id, street.requester.id, "en")
    assert english[0]["explanation"].startswith("less than 500 m")
    assert english[0]["category_name"] == "Groceries"


def test_someone_elses_request_and_match_are_not_found(town):
    street = make_street(helpers=1)
    stranger = neighbour(100)
    match = street.match_of(street.helpers[0])
    with pytest.raises(NotFound):
        helping.suggestions_for_request(street.request.id, stranger.id)
    for action in (helping.match_detail, helping.accept_match, helping.mark_done):
        with pytest.raises(NotFound):
            action(match.id, stranger.id)
    with pytest.raises(NotFound):
        helping.invite_helper(match.id, street.helpers[0].id)  # only the requester invites
    with pytest.raises(NotFound):
        helping.match_detail(999_999, street.requester.id)


def test_invited_helper_sees_the_invitation_without_name_or_address(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    match = street.match_of(helper)
    view = helping.invite_helper(match.id, street.requester.id)
    assert view["status"] == "invited" and view["awaiting"] == "helper"
    invitations = helping.invitations_for_helper(helper.id)
    assert [i["match_id"] for i in invitations] == [match.id]
    assert set(invitations[0]) >= {"category", "description", "distance_band", "neighbourhood"}
    assert "other_first_name" not in invitations[0]
    assert invitations[0]["neighbourhood"] == "Binnenstad-Centrum"
    assert_private_absent(invitations)
    assert_private_absent(helping.match_detail(match.id, helper.id))
    told = notifications_of(helper.id)
    assert [n.kind for n in told] == ["match_invited"]
    assert_private_absent([n.subject + n.body for n in told])


def test_both_yes_shows_the_address_to_the_helper_and_contact_to_both(town):
    street = make_street(helpers=2)
    helper, other = street.helpers
    match = street.match_of(helper)
    helping.invite_helper(match.id, street.requester.id)
    helping.invite_helper(street.match_of(other).id, street.requester.id)
    accepted = helping.accept_match(match.id, helper.id)
    assert accepted["status"] == "accepted"
    assert accepted["address"]["address_line"] == "Marskant 86417"
    assert accepted["address"]["postcode"] == "7551ZX"
    assert accepted["contact"]["phone"] == PRIVATE["phone"]
    assert accepted["contact"]["email"] == PRIVATE["email"]
    requester_view = helping.match_detail(match.id, street.requester.id)
    assert requester_view["address"] is None
    assert requester_view["contact"]["phone"] == helper.phone
    db.session.expire_all()
    assert db.session.get(HelpRequest, street.request.id).status == "matched"
    assert street.match_of(other).status == "cancelled"
    assert "match_taken" in [n.kind for n in notifications_of(other.id)]
    assert "match_accepted" in [n.kind for n in notifications_of(street.requester.id)]
    # The other helper, who was not accepted, still sees nothing private.
    assert_private_absent(helping.match_detail(street.match_of(other).id, other.id))
    for note in notifications_of(other.id) + notifications_of(helper.id):
        assert_private_absent(note.subject + note.body)


def test_another_address_is_what_the_accepted_helper_sees(town):
    street = make_street(
        helpers=1, address_line="Enschedesestraat 12", postcode="7552 CV", lat=52.262, lon=6.80
    )
    match = street.match_of(street.helpers[0])
    helping.invite_helper(match.id, street.requester.id)
    view = helping.accept_match(match.id, street.helpers[0].id)
    assert view["address"] == {"address_line": "Enschedesestraat 12", "postcode": "7552CV"}


def test_accepting_twice_is_a_conflict(town):
    street = make_street(helpers=1)
    match = street.match_of(street.helpers[0])
    helping.invite_helper(match.id, street.requester.id)
    helping.accept_match(match.id, street.helpers[0].id)
    with pytest.raises(Conflict) as caught:
        helping.accept_match(match.id, street.helpers[0].id)
    assert caught.value.rule == "already_accepted"


def test_accepting_after_someone_else_was_accepted_is_a_conflict(town):
    street = make_street(helpers=2)
    first, second = (street.match_of(h) for h in street.helpers)
    helping.invite_helper(first.id, street.requester.id)
    helping.invite_helper(second.id, street.requester.id)
    helping.accept_match(first.id, street.helpers[0].id)
    with pytest.raises(Conflict) as caught:
        helping.accept_match(second.id, street.helpers[1].id)
    assert caught.value.rule == "taken"
    assert "already accepted" in caught.value.message


def test_the_inviting_side_cannot_accept_its_own_invitation(town):
    street = make_street(helpers=1)
    match = street.match_of(street.helpers[0])
    helping.invite_helper(match.id, street.requester.id)
    with pytest.raises(Conflict) as caught:
        helping.accept_match(match.id, street.requester.id)
    assert caught.value.rule == "awaiting_other"


def test_declined_helper_is_told_and_not_suggested_again(town):
    street = make_street(helpers=2)
    helper = street.helpers[0]
    match = street.match_of(helper)
    helping.invite_helper(match.id, street.requester.id)
    view = helping.decline_match(match.id, helper.id, reason="Ik ben die week weg")
    assert view["status"] == "declined"
    assert "match_declined" in [n.kind for n in notifications_of(street.requester.id)]
    with pytest.raises(Conflict):
        helping.decline_match(match.id, helper.id)
    match_request(street.request.id, force=True)
    db.session.expire_all()
    assert street.match_of(helper).status == "declined"


def test_helper_offers_to_help_and_the_requester_accepts(town):
    street = make_street(helpers=0)
    helper = neighbour(400, first_name="Karim")
    from mutualaid.services.aid import post_offer

    post_offer(helper.id, categories=["boodschappen"], radius_m=2000, slots=1)
    browse = helping.open_requests_near(helper.id)
    assert browse["total"] == 1
    item = browse["items"][0]
    assert item["request_id"] == street.request.id and item["distance_band"] == 500
    assert "description" not in item and "other_first_name" not in item
    assert_private_absent(browse)
    offered = helping.offer_to_help(street.request.id, helper.id)
    assert offered["status"] == "invited" and offered["awaiting"] == "requester"
    assert helping.open_requests_near(helper.id)["items"][0]["my_match_status"] == "invited"
    assert "match_offered" in [n.kind for n in notifications_of(street.requester.id)]
    with pytest.raises(Conflict):
        helping.accept_match(offered["match_id"], helper.id)  # the requester answers
    accepted = helping.accept_match(offered["match_id"], street.requester.id)
    assert accepted["status"] == "accepted"
    assert helping.match_detail(offered["match_id"], helper.id)["address"]["postcode"] == ("7551ZX")


def test_offering_help_needs_a_fitting_offer_and_an_open_request(town):
    street = make_street(helpers=0)
    helper = neighbour(400)
    with pytest.raises(Invalid) as caught:
        helping.offer_to_help(street.request.id, helper.id)
    assert caught.value.field == "offer"
    with pytest.raises(NotFound):
        helping.offer_to_help(street.request.id, street.requester.id)  # one's own request
    with pytest.raises(NotFound):
        helping.offer_to_help(999_999, helper.id)


def test_open_requests_filters_and_hides_blocked_requesters(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    assert helping.open_requests_near(helper.id, category="boodschappen")["total"] == 1
    assert helping.open_requests_near(helper.id, category="tuin")["total"] == 0
    assert helping.open_requests_near(helper.id, distance_band=500)["total"] == 1
    with pytest.raises(Invalid) as caught:
        helping.open_requests_near(helper.id, distance_band=123)
    assert caught.value.field == "distance_band"
    with pytest.raises(Invalid):
        helping.open_requests_near(helper.id, category="vliegen")
    db.session.add(ResidentBlock(blocker_id=street.requester.id, blocked_id=helper.id))
    db.session.commit()
    assert helping.open_requests_near(helper.id)["total"] == 0
    with pytest.raises(NotFound):
        helping.offer_to_help(street.request.id, helper.id)


def test_a_helper_answering_a_wave_needs_the_requesters_yes(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    match = street.match_of(helper)
    from mutualaid.services.notifications import send_next_wave

    assert send_next_wave(street.request.id, force=True) == 1
    assert [i["match_id"] for i in helping.invitations_for_helper(helper.id)] == [match.id]
    view = helping.accept_match(match.id, helper.id)
    assert view["status"] == "invited" and view["invited_by"] == "helper"
    assert helping.accept_match(match.id, street.requester.id)["status"] == "accepted"


def test_letting_the_service_invite_accepts_the_first_helper_who_says_yes(town):
    street = make_street(helpers=2)
    result = helping.let_service_invite(street.request.id, street.requester.id)
    assert result["wave"] == 1 and result["asked"] >= 1
    helper = street.helpers[0]
    assert helping.accept_match(street.match_of(helper).id, helper.id)["status"] == "accepted"
    with pytest.raises(Conflict):
        helping.let_service_invite(street.request.id, street.requester.id)
    with pytest.raises(NotFound):
        helping.let_service_invite(street.request.id, helper.id)


def test_cancelling_the_request_ends_its_matches_and_tells_the_helper(town):
    street = make_street(helpers=2)
    invited = street.match_of(street.helpers[0])
    helping.invite_helper(invited.id, street.requester.id)
    cancel_request(street.request.id, street.requester.id)
    db.session.expire_all()
    assert street.match_of(street.helpers[0]).status == "cancelled"
    assert street.match_of(street.helpers[1]).status == "expired"
    told = notifications_of(street.helpers[0].id)
    assert "request_cancelled" in [n.kind for n in told]
    assert "request_cancelled" not in [n.kind for n in notifications_of(street.helpers[1].id)]


def test_cancelling_an_accepted_match_opens_the_request_again(town):
    street = make_street(helpers=1)
    match = street.match_of(street.helpers[0])
    helping.invite_helper(match.id, street.requester.id)
    helping.accept_match(match.id, street.helpers[0].id)
    view = helping.cancel_match(match.id, street.helpers[0].id, reason="Ik ben ziek")
    assert view["status"] == "cancelled" and view["status_reason"] == "Ik ben ziek"
    db.session.expire_all()
    request = db.session.get(HelpRequest, street.request.id)
    assert request.status == "open" and request.matching_pending_since is not None
    with pytest.raises(Conflict):
        helping.cancel_match(match.id, street.requester.id)


def test_done_and_thanks_strengthen_the_helped_tie(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    match = street.match_of(helper)
    helping.invite_helper(match.id, street.requester.id)
    helping.accept_match(match.id, helper.id)
    with pytest.raises(NotFound):
        helping.give_thanks(match.id, helper.id, 5)  # only the requester thanks
    done = helping.mark_done(match.id, helper.id)
    assert done["status"] == "done" and "thanks" not in done["actions"]
    with pytest.raises(Conflict):
        helping.mark_done(match.id, street.requester.id)
    with pytest.raises(Invalid) as caught:
        helping.give_thanks(match.id, street.requester.id, 6)
    assert caught.value.field == "rating"
    thanked = helping.give_thanks(match.id, street.requester.id, 5, "Heel fijn, dank je!")
    assert thanked["feedback_rating"] == 5 and thanked["thanks_note"] == "Heel fijn, dank je!"
    with pytest.raises(Conflict):
        helping.give_thanks(match.id, street.requester.id, 4)
    db.session.expire_all()
    assert db.session.get(HelpRequest, street.request.id).status == "done"
    rebuild_helped_ties()
    tie = db.session.scalar(select(TrustTie).where(TrustTie.kind == "helped"))
    assert {tie.resident_a_id, tie.resident_b_id} == {street.requester.id, helper.id}
    assert tie.weight > 0.5  # one help (0.5) plus good feedback
    # After the help both still see the match, with the contact details they shared.
    assert helping.match_detail(match.id, helper.id)["address"]["postcode"] == "7551ZX"


def test_a_problem_report_goes_to_the_neighbourhood(town):
    street = make_street(helpers=1)
    match = street.match_of(street.helpers[0])
    helping.invite_helper(match.id, street.requester.id)
    report = helping.report_problem(street.helpers[0].id, "Niemand deed open", match_id=match.id)
    assert report["neighbourhood"] == "Binnenstad-Centrum"
    stored = db.session.get(ProblemReport, report["id"])
    assert stored.request_id == street.request.id and stored.neighbourhood_id is not None
    with pytest.raises(Invalid) as caught:
        helping.report_problem(street.requester.id, "   ", match_id=match.id)
    assert caught.value.field == "body"
    with pytest.raises(NotFound):
        helping.report_problem(neighbour(50).id, "Lastig", match_id=match.id)
    with pytest.raises(NotFound):
        helping.report_problem(neighbour(60).id, "Lastig", request_id=street.request.id)
    general = helping.report_problem(street.requester.id, "Vraag over de buurt")
    assert general["match_id"] is None and general["neighbourhood"] == "Binnenstad-Centrum"


def test_my_overview_holds_everything_newest_first_including_finished_help(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    match = street.match_of(helper)
    helping.invite_helper(match.id, street.requester.id)
    helping.accept_match(match.id, helper.id)
    helping.mark_done(match.id, helper.id)
    second = post_request(street.requester.id, category="tuin", description="Heg knippen")
    from mutualaid.services.messages import post_message

    post_message(match.id, helper.id, "Graag gedaan!")
    overview = helping.my_overview(street.requester.id)
    assert [r["id"] for r in overview["requests"]] == [second.id, street.request.id]
    assert [m["match_id"] for m in overview["matches"]] == [match.id]
    assert overview["matches"][0]["status"] == "done"
    assert overview["threads"][0]["unread"] == 1
    helper_view = helping.my_overview(helper.id)
    assert [o["id"] for o in helper_view["offers"]] == [street.offers[0].id]
    assert helper_view["matches"][0]["role"] == "helper"


def test_paused_offer_loses_its_suggestions_and_is_matched_again_when_resumed(town):
    street = make_street(helpers=1)
    offer = street.offers[0]
    pause_offer(offer.id, street.helpers[0].id)
    db.session.expire_all()
    assert street.match_of(street.helpers[0]).status == "expired"
    assert helping.suggestions_for_request(street.request.id, street.requester.id) == []
    resumed = resume_offer(offer.id, street.helpers[0].id)
    assert resumed.is_active and resumed.matching_pending_since is not None
    later = post_request(street.requester.id, category="boodschappen", description="Melk")
    match_request(later.id, force=True)
    assert [
        v["other_first_name"]
        for v in helping.suggestions_for_request(later.id, street.requester.id)
    ] == ["Helper1"]
    with pytest.raises(NotFound):
        pause_offer(offer.id, street.requester.id)


def test_blocked_pair_is_never_suggested(town):
    from mutualaid.services.ties import block_resident

    street = make_street(helpers=2)
    blocked = street.helpers[0]
    block_resident(street.requester.id, blocked.id)
    db.session.expire_all()
    assert street.match_of(blocked).status == "expired"
    match_request(street.request.id, force=True)
    db.session.expire_all()
    names = [
        v["other_first_name"]
        for v in helping.suggestions_for_request(street.request.id, street.requester.id)
    ]
    assert names == ["Helper2"]


@pytest.mark.skipif(not using_postgres(), reason="row locks exist only on PostgreSQL")
def test_concurrent_accepts_on_one_request_let_exactly_one_win(town):
    street = make_street(helpers=2)
    matches = [street.match_of(h) for h in street.helpers]
    for match in matches:
        helping.invite_helper(match.id, street.requester.id)
    pairs = [(m.id, h.id) for m, h in zip(matches, street.helpers, strict=True)]
    app = town
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(match_id: int, helper_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                helping.accept_match(match_id, helper_id)
                outcomes.append("accepted")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["accepted", "conflict"]
    db.session.expire_all()
    statuses = db.session.scalars(
        select(Match.status).where(Match.request_id == street.request.id)
    ).all()
    assert sorted(statuses) == ["accepted", "cancelled"]
    assert (
        db.session.scalar(select(func.count(HelpRequest.id)).where(HelpRequest.status == "matched"))
        == 1
    )


def test_request_input_errors_name_the_field(town):
    anna = neighbour(0)
    cases = [
        ({"category": "vliegen", "description": "x"}, "category"),
        ({"category": "tuin", "description": "  "}, "description"),
        ({"category": "tuin", "description": "x", "slots": 0}, "slots"),
        ({"category": "tuin", "description": "x", "lat": 95, "lon": 6.79}, "lat"),
        ({"category": "tuin", "description": "x", "lat": 52.26, "lon": "oost"}, "lon"),
        ({"category": "tuin", "description": "x", "lat": 48.85, "lon": 2.35}, "location"),
        ({"category": "tuin", "description": "x", "contact_channel": "fax"}, "contact_channel"),
        ({"category": "tuin", "description": "x", "window_start": "morgen"}, "window_start"),
        (
            {"category": "tuin", "description": "x", "address_line": "Dorp 1", "postcode": "12"},
            "postcode",
        ),
        ({"category": "tuin", "description": "x", "colour": "red"}, "colour"),
    ]
    for values, field in cases:
        with pytest.raises(Invalid) as caught:
            post_request(anna.id, **values)
        assert caught.value.field == field, values
    assert db.session.scalar(select(func.count(HelpRequest.id))) == 0


def test_request_fields_are_stored_and_a_vog_category_forces_the_vog(town):
    anna = neighbour(0)
    request = post_request(
        anna.id,
        category="kinderoppas",
        description="Oppas woensdagmiddag",
        needs_vog=False,
        contact_channel="phone",
        window_start="2099-01-05",
        window_end="2099-01-09",
        recurring=True,
        urgency="high",
        needs_shared_language=True,
    )
    assert request.needs_vog is True and request.contact_channel == "phone"
    assert str(request.window_start) == "2099-01-05" and request.recurring
    # No grid given and no window is "any time": allowed.
    plain = post_request(anna.id, category="tuin", description="Gras maaien")
    assert plain.slots == 0


def test_offer_languages_are_validated_and_stored(town):
    from mutualaid.services.aid import post_offer

    jan = builders.resident()
    offer = post_offer(jan.id, categories=["vervoer"], languages=["nl", "tr"], slots=1)
    assert offer.language_mask == 0b1001
    with pytest.raises(Invalid) as caught:
        post_offer(jan.id, categories=["vervoer"], languages=["klingon"], slots=1)
    assert caught.value.field == "languages"
    with pytest.raises(Invalid) as caught:
        post_offer(jan.id, categories=["vervoer"], slots=0)
    assert caught.value.field == "slots"


def test_the_helper_gets_only_the_contact_the_requester_chose(town):
    street = make_street(helpers=1, contact_channel="phone")
    match = street.match_of(street.helpers[0])
    helping.invite_helper(match.id, street.requester.id)
    contact = helping.accept_match(match.id, street.helpers[0].id)["contact"]
    assert contact["phone"] == PRIVATE["phone"] and "email" not in contact
    assert contact["channels"] == ["phone"]
