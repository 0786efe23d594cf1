"""Assisted intake (consent on behalf, help asked and offered for an offline resident) and the
hand-over to an online account with a single-use activation code."""

from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import select

from mutualaid.background import get_redis
from mutualaid.channels import SmsChannel
from mutualaid.errors import Conflict, Invalid, NotAllowed, NotFound
from mutualaid.extensions import db
from mutualaid.models import AuditEvent, ConsentRecord, Resident, SecretToken, User
from mutualaid.models.base import utcnow
from mutualaid.services.accounts import authenticate
from mutualaid.services.demo import ensure_categories
from mutualaid.services.handover import activate_account, issue_handover_code, own_history
from mutualaid.services.intake import (
    offer_help_for,
    register_resident,
    request_help_for,
    resident_profile,
)
from tests.casework import CENTRE_CODE, FAR_CODE, PASSWORD, neighbourhood, resident_in, staff
from tests.geocoder_server import geocoder_server, use_geocoder  # noqa: F401 (fixture)


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def register(worker, **overrides) -> Resident:
    values = {
        "first_name": "Gerda",
        "last_name": "Jansen",
        "phone": "074 123 45 67",
        "postcode": "7551 ab",
        "house_number": "12",
        "street": "Marktstraat",
        "neighbourhood": CENTRE_CODE,
        "languages": ["nl", "de"],
        "consent_method": "phone",
        "consent_note": "Gebeld met dochter erbij",
    }
    values.update(overrides)
    return register_resident(worker.id, **values)


def test_intake_records_the_resident_and_consent_on_their_behalf(town):
    worker = staff()
    yesterday = utcnow().date() - timedelta(days=1)
    gerda = register(worker, consent_date=yesterday.isoformat())
    assert (gerda.self_service, gerda.registered_by_user_id) == (False, worker.id)
    assert gerda.neighbourhood_id == neighbourhood(CENTRE_CODE).id
    assert gerda.postcode == "7551AB" and gerda.location_source == "worker"
    assert gerda.account is None and gerda.email is None
    consent = db.session.scalar(select(ConsentRecord).where(ConsentRecord.resident_id == gerda.id))
    assert (consent.purpose, consent.method, consent.recorded_by_user_id) == (
        "matching",
        "phone",
        worker.id,
    )
    assert consent.given_at.date() == yesterday and consent.note == "Gebeld met dochter erbij"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "resident.intake"))
    assert (event.actor_user_id, event.subject_resident_id) == (worker.id, gerda.id)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"consent_method": "online"}, "consent_method"),
        ({"consent_method": None}, "consent_method"),
        ({"consent_date": "morgen"}, "consent_date"),
        ({"postcode": "ABCD 12"}, "postcode"),
        ({"phone": "bel me"}, "phone"),
        ({"languages": ["xx"]}, "languages"),
        ({"neighbourhood": None}, "neighbourhood"),
        ({"neighbourhood": FAR_CODE}, "neighbourhood"),
        ({"neighbourhood": None, "lat": 52.2871, "lon": 6.7955}, "neighbourhood"),  # Noord
    ],
)
def test_bad_intake_names_the_field_and_stores_nothing(town, overrides, field):
    worker = staff()
    with pytest.raises(Invalid) as caught:
        register(worker, **overrides)
    assert caught.value.field == field
    assert db.session.query(Resident).count() == 0
    assert db.session.query(ConsentRecord).count() == 0


def test_intake_places_a_found_address_and_else_the_chosen_neighbourhood(
    town,
    geocoder_server,  # noqa: F811 (the fixture)
    monkeypatch,
):
    use_geocoder(monkeypatch, town, "pdok", geocoder_server.url)
    get_redis().delete("mutualaid:geocoder:next-slot:pdok")
    worker = staff()
    gerda = register(worker, postcode="7551 AB", house_number="12", neighbourhood=None)
    assert (gerda.location_source, gerda.geocode_status) == ("geocoder", "found")
    assert (gerda.home_lat, gerda.home_lon) == pytest.approx((52.2640, 6.7935), abs=1e-4)
    assert gerda.neighbourhood_id == neighbourhood(CENTRE_CODE).id
    henk = register(worker, first_name="Henk", postcode="7551 AB", house_number="99")
    assert (henk.location_source, henk.geocode_status) == ("worker", "not_found")
    with pytest.raises(Invalid):  # found, but far outside the worker's neighbourhoods
        register(worker, first_name="Ver", postcode="1012 JS", house_number="1")
    assert db.session.query(Resident).count() == 2


def test_worker_asks_and_offers_help_on_behalf_with_consent_and_audit(town):
    worker = staff()
    gerda = register(worker)
    request = request_help_for(
        worker.id, gerda.id, "home_visit", category="boodschappen", description="Boodschappen"
    )
    assert request.registered_by_user_id == worker.id
    assert (
        request.consent.method == "home_visit" and request.consent.recorded_by_user_id == worker.id
    )
    offer = offer_help_for(worker.id, gerda.id, categories=["gezelschap"], description="Praatje")
    assert offer.helper_id == gerda.id
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_resident_id == gerda.id)
    ).all()
    assert actions == ["resident.intake", "request.on_behalf", "offer.on_behalf"]
    with pytest.raises(Invalid):  # bad input: neither the request nor its audit event stored
        request_help_for(worker.id, gerda.id, "phone", category="vliegen")
    about_gerda = select(AuditEvent.id).where(AuditEvent.subject_resident_id == gerda.id)
    assert len(db.session.scalars(about_gerda).all()) == 3  # (the worker's role:grant is not)


def test_outsiders_cannot_register_or_act_for_residents(town):
    worker = staff()
    gerda = register(worker)
    elsewhere = staff(codes=(FAR_CODE,))
    with pytest.raises(NotFound):
        request_help_for(elsewhere.id, gerda.id, "phone", category="boodschappen")
    with pytest.raises(NotFound):
        resident_profile(elsewhere.id, gerda.id)
    with pytest.raises(NotFound):
        issue_handover_code(elsewhere.id, gerda.id)
    with pytest.raises(NotAllowed):
        register(staff("resident"))
    assert db.session.query(SecretToken).count() == 0


def test_resident_profile_is_an_audited_view(town):
    worker = staff()
    gerda = register(worker)
    profile = resident_profile(worker.id, gerda.id, reason="telefoontje")
    assert profile["resident"].first_name == "Gerda" and profile["languages"] == ["nl", "de"]
    assert [c.method for c in profile["consents"]] == ["phone"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "view:resident"))
    assert (event.subject_resident_id, event.reason) == (gerda.id, "telefoontje")


def test_handover_code_creates_an_account_once_and_shows_the_whole_history(town):
    worker = staff()
    gerda = register(worker)
    request = request_help_for(
        worker.id, gerda.id, "phone", category="boodschappen", description="Boodschappen"
    )
    issued = issue_handover_code(worker.id, gerda.id)
    code = issued["code"]
    assert len(code) == 11 and code[5] == "-"
    assert issued["expires_at"] - utcnow() > timedelta(days=13, hours=23)
    stored = db.session.scalar(select(SecretToken).where(SecretToken.resident_id == gerda.id))
    assert code.replace("-", "") not in stored.token_hash  # only a hash is kept

    user = activate_account(code.lower().replace("-", " "), "Gerda@Example.org", PASSWORD)
    assert (user.role, user.resident_id, user.email) == ("resident", gerda.id, "gerda@example.org")
    assert authenticate("gerda@example.org", PASSWORD).id == user.id
    gerda = db.session.get(Resident, gerda.id)
    assert gerda.self_service is True and gerda.email == "gerda@example.org"
    assert [r.id for r in own_history(gerda.id)["requests"]] == [request.id]
    with pytest.raises(Invalid) as caught:
        activate_account(code, "iemand@example.org", PASSWORD)
    assert caught.value.field == "code"
    assert db.session.query(User).filter_by(role="resident").count() == 1
    with pytest.raises(Conflict):
        issue_handover_code(worker.id, gerda.id)


def test_wrong_expired_and_replaced_codes_get_the_same_answer(town):
    worker = staff()
    gerda = register(worker)
    first = issue_handover_code(worker.id, gerda.id)["code"]
    second = issue_handover_code(worker.id, gerda.id)["code"]  # the first stops working
    answers = []
    for code in (first, "ABCDE-FGHJK", ""):
        with pytest.raises(Invalid) as caught:
            activate_account(code, "gerda@example.org", PASSWORD)
        answers.append(caught.value.to_dict())
    token = db.session.scalar(
        select(SecretToken).where(SecretToken.revoked_at.is_(None), SecretToken.used_at.is_(None))
    )
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        activate_account(second, "gerda@example.org", PASSWORD)
    answers.append(caught.value.to_dict())
    assert all(answer == answers[0] for answer in answers)
    assert "account" not in answers[0]["message"]
    assert db.session.query(User).count() == 1  # only the worker


def test_bad_email_or_password_does_not_spend_the_code(town):
    worker = staff()
    gerda = register(worker)
    code = issue_handover_code(worker.id, gerda.id)["code"]
    with pytest.raises(Invalid) as caught:
        activate_account(code, "gerda@example.org", "kort")
    assert caught.value.field == "password"
    with pytest.raises(Conflict):
        activate_account(code, worker.email, PASSWORD)
    assert activate_account(code, "gerda@example.org", PASSWORD).resident_id == gerda.id


def test_sms_hand_over_needs_a_gateway_and_a_phone(town, app_ctx):
    worker = staff()
    gerda = register(worker)
    with pytest.raises(Invalid) as caught:
        issue_handover_code(worker.id, gerda.id, send_sms=True)
    assert caught.value.rule == "configured"
    app_ctx.config["SMS_CHANNEL"] = "tests.integration.test_intake_handover.RecordingSms"
    try:
        result = issue_handover_code(worker.id, gerda.id, send_sms=True, activation_url="/x")
        assert result["sent_by_sms"] is True
        [(phone, text)] = RecordingSms.sent
        assert phone == "074 123 45 67" and result["code"] in text and "Gerda" not in text
        no_phone = resident_in(phone=None, registered_by_user_id=worker.id, self_service=False)
        with pytest.raises(Invalid) as caught:
            issue_handover_code(worker.id, no_phone.id, send_sms=True)
        assert caught.value.rule == "phone"
    finally:
        app_ctx.config["SMS_CHANNEL"] = ""


class RecordingSms(SmsChannel):
    """An SMS gateway that keeps what it was asked to deliver (no real gateway in tests)."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def deliver(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))
