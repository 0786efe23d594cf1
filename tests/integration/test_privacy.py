"""Own data: export, erasure (people go, statistics stay), the audit trail, and notifications
that never carry another resident's address, phone or email."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from mutualaid.errors import Invalid, NotFound
from mutualaid.extensions import db
from mutualaid.models import (
    ConsentRecord,
    HelpRequest,
    Match,
    Message,
    Notification,
    Offer,
    Resident,
    ResidentBlock,
    SecretToken,
    TrustTie,
    User,
)
from mutualaid.services.accounts import create_user, register_resident
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.audit import record_view
from mutualaid.services.demo import ensure_categories
from mutualaid.services.erasure import ERASED_NAME, erase_own_account, erase_resident
from mutualaid.services.notifications import send_next_wave
from mutualaid.services.privacy import export_my_data, my_audit_trail
from tests import builders
from tests.smtp_server import local_smtp_server

PASSWORD = "een-lang-wachtwoord"


@pytest.fixture
def town(hengelo):
    ensure_categories()
    hengelo.config.update(SMTP_HOST="", SMS_CHANNEL="", WAVE_SIZE=3)
    return hengelo


def person(
    first_name: str, email: str, phone: str, street: str, house: str, postcode: str = "7551 AB"
) -> Resident:
    """A registered resident with a full address and a home point in Hengelo centre."""
    user = register_resident(
        first_name=first_name,
        email=email,
        password=PASSWORD,
        consent=True,
        phone=phone,
        postcode=postcode,
        house_number=house,
        channels=["message", "phone"],
        email_confirmed=True,  # as if the mailed link was followed
    )
    resident = db.session.get(Resident, user.resident_id)
    resident.home_lat, resident.home_lon = builders.CENTRE
    resident.street = street
    resident.location_source = "map"
    db.session.commit()
    return resident


def private_strings(resident: Resident) -> list[str]:
    return [
        s
        for s in (
            resident.email,
            resident.phone,
            resident.street,
            resident.postcode,
            f"{resident.street} {resident.house_number}",
        )
        if s
    ]


def match_between(requester: Resident, helper: Resident, status: str = "suggested") -> Match:
    request = builders.help_request(requester, description="Boodschappen doen")
    offer = builders.offer(helper)
    db.session.flush()
    match = Match(
        request_id=request.id,
        offer_id=offer.id,
        helper_id=helper.id,
        status=status,
        score=0.8,
        rank=1,
    )
    db.session.add(match)
    db.session.commit()
    return match


@pytest.fixture
def pair(town):
    anna = person("Anna", "anna@example.org", "0611111111", "Marskant", "12")
    bert = person("Bert", "bert@example.org", "0622222222", "Enschedesestraat", "99", "7552 CD")
    return anna, bert


def test_export_holds_everything_of_mine_and_only_a_first_name_of_the_other(pair):
    anna, bert = pair
    match = match_between(anna, bert, status="accepted")
    db.session.add(Message(match_id=match.id, sender_resident_id=anna.id, body="Tot morgen!"))
    db.session.add(Message(match_id=match.id, sender_resident_id=bert.id, body="Prima."))
    db.session.commit()

    db.session.add(ResidentBlock(blocker_id=anna.id, blocked_id=bert.id))
    db.session.commit()
    data = export_my_data(anna.id)
    text = json.dumps(data)
    assert data["blocked"][0]["first_name"] == "Bert"
    assert export_my_data(bert.id)["blocked"] == []  # who blocked me is not mine to see
    assert data["profile"]["email"] == "anna@example.org"
    assert data["profile"]["phone"] == "0611111111"
    assert [c["purpose"] for c in data["consents"]] == ["matching"]
    assert len(data["requests"]) == 1 and data["requests"][0]["description"] == "Boodschappen doen"
    assert data["matches"][0]["other_first_name"] == "Bert"
    assert [m["from"] for m in data["messages"]] == ["me", "other"]
    for secret in private_strings(bert):
        assert secret not in text, secret


def test_a_helper_export_leaves_out_suggestions_nobody_acted_on(pair):
    anna, bert = pair
    match_between(anna, bert, status="suggested")
    assert export_my_data(bert.id)["matches"] == []
    assert len(export_my_data(anna.id)["matches"]) == 1


def test_audit_trail_names_professionals_and_only_my_events(pair):
    anna, bert = pair
    worker = create_user("coach@example.org", PASSWORD, "worker", "Wijkcoach Noord")
    record_view(worker.id, "resident", [anna.id], reason="follow-up")
    record_view(worker.id, "resident", [bert.id], reason="about Bert")
    items, total = my_audit_trail(anna.id)
    assert total == 1
    assert items[0]["actor"] == "Wijkcoach Noord" and items[0]["actor_role"] == "worker"
    assert items[0]["reason"] == "follow-up"
    # The resident's own actions (registering) are not "who viewed my data".
    assert all(item["actor_role"] != "resident" for item in items)


def test_erasure_removes_the_person_and_keeps_the_statistics(pair):
    anna, bert = pair
    request = builders.help_request(anna, description="Hulp bij de tuin, Marskant 12")
    offer = builders.offer(anna)
    db.session.flush()
    request.address_line = "Marskant 12"
    db.session.add(TrustTie(resident_a_id=anna.id, resident_b_id=bert.id, kind="knows", weight=0.5))
    user = db.session.scalar(select(User).where(User.resident_id == anna.id))
    create_api_token(user.id, "telefoon")
    neighbourhood_id = request.neighbourhood_id
    category_id = request.category_id
    requests_before = db.session.scalar(select(func.count(HelpRequest.id)))

    erase_resident(anna.id)

    anna = db.session.get(Resident, anna.id)
    assert anna.erased_at is not None and anna.first_name == ERASED_NAME
    for name in ("email", "phone", "street", "house_number", "postcode", "home_lat", "home_lon"):
        assert getattr(anna, name) is None, name
    user = db.session.get(User, user.id)
    assert not user.is_enabled and "anna" not in user.email
    assert (
        db.session.scalar(
            select(func.count(SecretToken.id)).where(
                SecretToken.user_id == user.id, SecretToken.revoked_at.is_(None)
            )
        )
        == 0
    )
    request = db.session.get(HelpRequest, request.id)
    assert request.status == "cancelled" and request.anonymised_at is not None
    assert request.description == "" and request.address_line is None
    assert (request.neighbourhood_id, request.category_id) == (neighbourhood_id, category_id)
    assert db.session.scalar(select(func.count(HelpRequest.id))) == requests_before
    assert db.session.get(Offer, offer.id).is_active is False
    assert db.session.scalar(select(func.count(TrustTie.id))) == 0
    consent = db.session.scalar(select(ConsentRecord).where(ConsentRecord.resident_id == anna.id))
    assert consent.withdrawn_at is not None
    # The email is free for a new account.
    person("Anna", "anna@example.org", "0611111111", "Marskant", "12")


def test_erasure_cancels_matches_in_progress_and_tells_the_other_side_without_a_name(pair):
    anna, bert = pair
    as_requester = match_between(anna, bert, status="accepted")
    as_helper = match_between(bert, anna, status="invited")
    bert_request_id = as_helper.request_id
    db.session.get(HelpRequest, bert_request_id).status = "open"
    db.session.add(
        Message(match_id=as_requester.id, sender_resident_id=anna.id, body="Ik woon op nr 12")
    )
    db.session.commit()

    told = erase_resident(anna.id)

    assert told == 2
    for match_id in (as_requester.id, as_helper.id):
        assert db.session.get(Match, match_id).status == "cancelled"
    notes = db.session.scalars(
        select(Notification).where(Notification.resident_id == bert.id)
    ).all()
    assert len(notes) == 2
    for note in notes:
        assert "Anna" not in note.subject + note.body
        assert "account verwijderd" in note.body
    bodies = db.session.scalars(select(Message.body).where(Message.sender_resident_id == anna.id))
    assert set(bodies) == {"[verwijderd]"}
    # Bert's own request is open again and waits for matching.
    assert db.session.get(HelpRequest, bert_request_id).status == "open"


def test_a_helper_leaving_reopens_the_requesters_matched_request(pair):
    anna, bert = pair
    match = match_between(bert, anna, status="accepted")
    request = db.session.get(HelpRequest, match.request_id)
    request.status = "matched"
    db.session.commit()
    erase_resident(anna.id)
    request = db.session.get(HelpRequest, match.request_id)
    assert request.status == "open" and request.matching_pending_since is not None


def test_erasing_twice_or_an_unknown_resident_is_not_found(pair):
    anna, _ = pair
    erase_resident(anna.id)
    with pytest.raises(NotFound):
        erase_resident(anna.id)
    with pytest.raises(NotFound):
        export_my_data(anna.id)
    with pytest.raises(NotFound):
        erase_resident(999_999)


def test_erasing_ones_own_account_needs_the_box_and_the_password(pair):
    anna, _ = pair
    user = db.session.scalar(select(User).where(User.resident_id == anna.id))
    with pytest.raises(Invalid) as no_box:
        erase_own_account(user.id, PASSWORD, confirmed=False)
    assert no_box.value.field == "confirm"
    with pytest.raises(Invalid) as wrong:
        erase_own_account(user.id, "fout-fout-fout", confirmed=True)
    assert wrong.value.field == "password"
    assert db.session.get(Resident, anna.id).erased_at is None
    erase_own_account(user.id, PASSWORD, confirmed=True)
    assert db.session.get(Resident, anna.id).erased_at is not None


def test_no_notification_carries_another_residents_address_phone_or_email(pair, town):
    """Run the flows that notify (waves, invite, accept, done, thanks, erasure) with email on,
    then read every in-app text and every email that arrived."""
    from mutualaid.services.helping import accept_match, give_thanks
    from mutualaid.services.inviting import invite_helper

    anna, bert = pair
    carla = person("Carla", "carla@example.org", "0633333333", "Deldenerstraat", "7", "7553 EF")
    people = (anna, bert, carla)
    private = {r.id: private_strings(r) for r in people}
    email_of = {r.email: r.id for r in people}
    with local_smtp_server(town) as inbox:
        waved = match_between(anna, bert)
        send_next_wave(waved.request_id, force=True)
        invited = match_between(anna, carla)
        invite_helper(invited.id, anna.id)
        accept_match(invited.id, carla.id)
        give_thanks(invited.id, anna.id, 5, "Dank je wel!")
        in_progress = match_between(bert, anna, status="accepted")
        erase_resident(anna.id)
        mails = list(inbox.messages)

    rows = db.session.scalars(select(Notification)).all()
    assert {row.resident_id for row in rows} >= {bert.id, carla.id}
    assert in_progress.id in {row.match_id for row in rows}
    assert mails, "email is configured: notifications also go out by email"
    texts = [(row.resident_id, row.subject + "\n" + row.body) for row in rows]
    texts += [
        (email_of[mail["To"]], mail["Subject"] + "\n" + mail.get_body().get_content())
        for mail in mails
    ]
    for recipient, text in texts:
        for owner, strings in private.items():
            if owner != recipient:
                assert not [s for s in strings if s in text], (recipient, text)
