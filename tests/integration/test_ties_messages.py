"""Knowing each other (invitation codes, confirmed `knows` ties), blocking, and message threads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mutualaid.errors import Conflict, Invalid, NotFound
from mutualaid.extensions import db
from mutualaid.models import Match, Notification, ResidentBlock, SecretToken, TrustTie
from mutualaid.models.base import utcnow
from mutualaid.services import helping, messages, ties
from mutualaid.services.demo import ensure_categories
from tests.flows import PRIVATE, make_street, neighbour


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def test_confirmed_invitation_code_makes_a_knows_tie(town):
    anna, bert = neighbour(0, first_name="Anna"), neighbour(200, first_name="Bert")
    invitation = ties.create_tie_invitation(anna.id)
    assert len(invitation["code"]) == 10
    assert invitation["expires_at"] - utcnow() > timedelta(days=13)
    view = ties.confirm_tie_invitation(bert.id, invitation["code"].lower())  # case-insensitive
    assert view == {
        "resident_id": anna.id,
        "first_name": "Anna",
        "kind": "knows",
        "since": view["since"],
    }
    tie = db.session.scalar(select(TrustTie))
    low, high = sorted((anna.id, bert.id))
    assert (tie.resident_a_id, tie.resident_b_id, tie.kind) == (low, high, "knows")
    assert tie.confirmed_at is not None and tie.weight == 0.8
    assert [t["first_name"] for t in ties.my_ties(anna.id)["ties"]] == ["Bert"]
    assert [t["first_name"] for t in ties.my_ties(bert.id)["ties"]] == ["Anna"]
    told = db.session.scalars(select(Notification).where(Notification.resident_id == anna.id))
    assert [n.kind for n in told] == ["tie_confirmed"]
    # A code works once.
    with pytest.raises(Invalid) as caught:
        ties.confirm_tie_invitation(bert.id, invitation["code"])
    assert caught.value.field == "code"


def test_confirming_again_with_a_new_code_keeps_one_tie(town):
    anna, bert = neighbour(0), neighbour(200)
    for _ in range(2):
        ties.confirm_tie_invitation(bert.id, ties.create_tie_invitation(anna.id)["code"])
    assert db.session.scalar(select(func.count(TrustTie.id))) == 1


def test_a_tie_with_yourself_is_refused(town):
    anna = neighbour(0)
    code = ties.create_tie_invitation(anna.id)["code"]
    with pytest.raises(Invalid) as caught:
        ties.confirm_tie_invitation(anna.id, code)
    assert (caught.value.field, caught.value.rule) == ("code", "not_self")
    with pytest.raises(Invalid):
        ties.block_resident(anna.id, anna.id)
    assert db.session.scalar(select(func.count(TrustTie.id))) == 0


def test_an_expired_or_unknown_code_is_refused(town):
    anna, bert = neighbour(0), neighbour(200)
    code = ties.create_tie_invitation(anna.id)["code"]
    token = db.session.scalar(select(SecretToken))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    for attempt in (code, "NOPE-NOPE-NO"):
        with pytest.raises(Invalid):
            ties.confirm_tie_invitation(bert.id, attempt)


def test_either_side_removes_the_tie(town):
    anna, bert = neighbour(0), neighbour(200)
    ties.confirm_tie_invitation(bert.id, ties.create_tie_invitation(anna.id)["code"])
    ties.remove_tie(bert.id, anna.id)
    assert ties.my_ties(anna.id)["ties"] == []
    with pytest.raises(NotFound):
        ties.remove_tie(anna.id, bert.id)


def test_blocking_ends_the_tie_and_cancels_invitations_between_them(town):
    street = make_street(helpers=2)
    helper = street.helpers[0]
    ties.confirm_tie_invitation(helper.id, ties.create_tie_invitation(street.requester.id)["code"])
    match = street.match_of(helper)
    helping.invite_helper(match.id, street.requester.id)
    blocked = ties.block_resident(helper.id, street.requester.id)
    assert blocked["first_name"] == "Anna"
    assert PRIVATE["email"] not in str(ties.my_ties(helper.id))
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "cancelled"
    assert db.session.get(ResidentBlock, (helper.id, street.requester.id)) is not None
    assert ties.my_ties(street.requester.id)["ties"] == []
    assert [b["resident_id"] for b in ties.my_ties(helper.id)["blocked"]] == [street.requester.id]
    # A block by either side stops new codes too.
    code = ties.create_tie_invitation(street.requester.id)["code"]
    with pytest.raises(Invalid):
        ties.confirm_tie_invitation(helper.id, code)
    ties.unblock_resident(helper.id, street.requester.id)
    assert ties.my_ties(helper.id)["blocked"] == []


def test_only_people_one_met_can_be_blocked(town):
    anna, stranger = neighbour(0), neighbour(900)
    with pytest.raises(NotFound):
        ties.block_resident(anna.id, stranger.id)
    with pytest.raises(NotFound):
        ties.block_resident(anna.id, 999_999)


def test_message_thread_between_the_two_sides(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    match = street.match_of(helper)
    with pytest.raises(Conflict) as caught:  # a mere suggestion has no thread yet
        messages.post_message(match.id, street.requester.id, "Hallo")
    assert caught.value.rule == "thread_open"
    helping.invite_helper(match.id, street.requester.id)
    sent = messages.post_message(match.id, street.requester.id, "Kunt u dinsdag?")
    assert sent["mine"] and sent["sender_first_name"] == "Anna"
    messages.post_message(match.id, helper.id, "Ja hoor")
    assert messages.unread_count(helper.id) == 1
    thread = messages.thread(match.id, helper.id)
    assert [m["body"] for m in thread["messages"]] == ["Kunt u dinsdag?", "Ja hoor"]
    assert [m["mine"] for m in thread["messages"]] == [False, True]
    assert thread["other_first_name"] == "Anna"
    assert messages.unread_count(helper.id) == 0
    assert messages.unread_count(street.requester.id) == 1
    note = db.session.scalar(
        select(Notification).where(
            Notification.resident_id == helper.id, Notification.kind == "message"
        )
    )
    assert "Kunt u dinsdag" not in note.body and PRIVATE["phone"] not in note.body


def test_thread_stays_readable_and_writable_after_the_help(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    match = street.match_of(helper)
    helping.invite_helper(match.id, street.requester.id)
    helping.accept_match(match.id, helper.id)
    messages.post_message(match.id, helper.id, "Tot straks")
    helping.mark_done(match.id, street.requester.id)
    messages.post_message(match.id, street.requester.id, "Dank je wel!")
    assert len(messages.thread(match.id, helper.id)["messages"]) == 2


def test_message_to_a_match_you_are_not_in_is_not_found(town):
    street = make_street(helpers=1)
    match = street.match_of(street.helpers[0])
    helping.invite_helper(match.id, street.requester.id)
    stranger = neighbour(700)
    with pytest.raises(NotFound):
        messages.post_message(match.id, stranger.id, "Hoi")
    with pytest.raises(NotFound):
        messages.thread(match.id, stranger.id)
    with pytest.raises(Invalid) as caught:
        messages.post_message(match.id, street.requester.id, "   ")
    assert caught.value.field == "body"
