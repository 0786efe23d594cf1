"""Account services: registering residents, password reset and change, API tokens, inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mutualaid.errors import Conflict, Invalid, NotAuthenticated, NotFound
from mutualaid.extensions import db
from mutualaid.models import AuditEvent, ConsentRecord, Resident, SecretToken, User
from mutualaid.services.account_mail import request_password_reset
from mutualaid.services.accounts import (
    authenticate,
    change_password,
    register_resident,
    reset_password,
)
from mutualaid.services.api_tokens import (
    MAX_LIVE_TOKENS,
    create_api_token,
    create_api_token_with_password,
    list_api_tokens,
    revoke_api_token,
)
from mutualaid.services.inbox import list_notifications, mark_all_read, mark_read, unread_count
from mutualaid.services.notifications import notify
from mutualaid.services.profile import update_profile
from mutualaid.services.tokens import user_for_api_token
from tests.queued_jobs import run_account_mail_jobs
from tests.smtp_server import local_smtp_server

PASSWORD = "een-lang-wachtwoord"
LINK = "http://example.test/reset/{token}"


def register(**overrides) -> User:
    values = {
        "first_name": "Anna",
        "email": "anna@example.org",
        "password": PASSWORD,
        "consent": True,
        "email_confirmed": True,  # as if the mailed link was followed
    }
    values.update(overrides)
    return register_resident(**values)


def counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Resident, ConsentRecord)
    )


def test_registration_stores_resident_account_and_consent_together(app_ctx):
    user = register(
        email=" Anna@Example.org ",
        phone="06-12345678",
        postcode="7551ab",
        house_number="12 a",
        languages=["nl", "ar"],
        channels=["phone", "in_person"],
    )
    resident = db.session.get(Resident, user.resident_id)
    assert user.email == resident.email == "anna@example.org"
    assert user.role == "resident" and user.display_name == "Anna"
    assert resident.postcode == "7551AB" and resident.house_number == "12A"
    assert resident.language_mask == 0b10001 and resident.self_service
    # No geocoder configured in the tests: the page will say so and offer the map.
    assert resident.geocode_status == "unavailable"
    consent = db.session.scalar(select(ConsentRecord))
    assert (consent.purpose, consent.method, consent.withdrawn_at) == ("matching", "online", None)
    assert authenticate("anna@example.org", PASSWORD).id == user.id
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "register:resident")
        )
        == 1
    )


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"consent": False}, "consent", "required"),
        ({"email": "anna@"}, "email", "email"),
        ({"password": "short"}, "password", "min_length"),
        ({"first_name": ""}, "first_name", "required"),
        ({"first_name": "x" * 81}, "first_name", "max_length"),
        ({"phone": "12"}, "phone", "phone"),
        ({"postcode": "ABCD12", "house_number": "1"}, "postcode", "format"),
        ({"postcode": "7551AB"}, "house_number", "required"),
        ({"house_number": "3"}, "postcode", "required"),
        ({"languages": ["xx"]}, "languages", "known"),
        ({"languages": "nl"}, "languages", "list"),
        ({"channels": ["pigeon"]}, "channels", "known"),
    ],
)
def test_bad_registration_names_the_field_and_stores_nothing(app_ctx, overrides, field, rule):
    with pytest.raises(Invalid) as error:
        register(**overrides)
    assert (error.value.field, error.value.rule) == (field, rule)
    db.session.rollback()
    assert counts() == (0, 0, 0)


def test_all_registration_problems_are_named_at_once(app_ctx):
    with pytest.raises(Invalid) as error:
        register(email="x", password="kort", consent=False, channels=["pigeon"])
    assert error.value.field == "email"
    assert list(error.value.errors) == ["email", "password", "channels", "consent"]


def test_an_email_in_use_is_a_conflict_and_nothing_is_added(app_ctx):
    register()
    with pytest.raises(Conflict) as error:
        register(email="ANNA@example.org", first_name="Bea")
    assert error.value.field == "email"
    assert "Anna" not in error.value.message
    db.session.rollback()
    assert counts() == (1, 1, 1)


def test_reset_mail_arrives_and_its_link_sets_a_new_password_once(app_ctx):
    user = register()
    version = user.session_version
    with local_smtp_server(app_ctx) as inbox:
        request_password_reset("anna@example.org", LINK)
        run_account_mail_jobs()
        [mail] = inbox.wait_for(1)
    body = mail.get_body().get_content()
    secret = body.split("http://example.test/reset/", 1)[1].split()[0]
    assert mail["To"] == "anna@example.org"
    assert "60 minuten" in body
    # Only the hash is stored.
    assert db.session.scalar(select(SecretToken.token_hash)) != secret

    reset_password(secret, "nieuw-wachtwoord-1")
    user = db.session.get(User, user.id)
    assert user.session_version == version + 1
    assert authenticate("anna@example.org", "nieuw-wachtwoord-1").id == user.id
    with pytest.raises(NotAuthenticated):
        authenticate("anna@example.org", PASSWORD)
    with pytest.raises(Invalid) as used:
        reset_password(secret, "nog-een-wachtwoord")
    assert used.value.field == "token"


def test_a_reset_for_an_unknown_email_sends_nothing_and_stores_nothing(app_ctx):
    register()
    with local_smtp_server(app_ctx) as inbox:
        request_password_reset("nobody@example.org", LINK)
        run_account_mail_jobs()
    assert inbox.messages == []
    assert db.session.scalar(select(func.count(SecretToken.id))) == 0


def test_an_expired_reset_link_is_refused(app_ctx):
    register()
    app_ctx.config["PASSWORD_RESET_MINUTES"] = 1
    try:
        with local_smtp_server(app_ctx) as inbox:
            request_password_reset("anna@example.org", LINK)
            run_account_mail_jobs()
            [mail] = inbox.wait_for(1)
    finally:
        app_ctx.config["PASSWORD_RESET_MINUTES"] = 60
    secret = mail.get_body().get_content().split("/reset/", 1)[1].split()[0]
    token = db.session.scalar(select(SecretToken))
    assert abs(token.expires_at - token.created_at - timedelta(minutes=1)) < timedelta(seconds=1)
    token.expires_at = token.created_at
    db.session.commit()
    with pytest.raises(Invalid) as expired:
        reset_password(secret, "nieuw-wachtwoord-1")
    assert expired.value.field == "token"


def test_a_reset_with_a_short_password_keeps_the_link_usable(app_ctx):
    register()
    with local_smtp_server(app_ctx) as inbox:
        request_password_reset("anna@example.org", LINK)
        run_account_mail_jobs()
        [mail] = inbox.wait_for(1)
    secret = mail.get_body().get_content().split("/reset/", 1)[1].split()[0]
    with pytest.raises(Invalid) as short:
        reset_password(secret, "kort")
    assert short.value.field == "password"
    db.session.rollback()
    reset_password(secret, "nieuw-wachtwoord-1")


def test_a_newer_reset_spends_the_older_links(app_ctx):
    register()
    with local_smtp_server(app_ctx) as inbox:
        request_password_reset("anna@example.org", LINK)
        request_password_reset("anna@example.org", LINK)
        run_account_mail_jobs()
        mails = inbox.wait_for(2)
    first, second = (m.get_body().get_content().split("/reset/", 1)[1].split()[0] for m in mails)
    reset_password(second, "nieuw-wachtwoord-1")
    with pytest.raises(Invalid):
        reset_password(first, "nog-een-wachtwoord")


def test_changing_the_password_checks_the_current_one_and_bumps_the_version(app_ctx):
    user = register()
    with pytest.raises(Invalid) as wrong:
        change_password(user.id, "fout-fout-fout", "nieuw-wachtwoord-1")
    assert wrong.value.field == "current_password"
    with pytest.raises(Invalid) as short:
        change_password(user.id, PASSWORD, "kort")
    assert short.value.field == "new_password"
    db.session.rollback()
    before = db.session.get(User, user.id).session_version
    change_password(user.id, PASSWORD, "nieuw-wachtwoord-1")
    assert db.session.get(User, user.id).session_version == before + 1


def test_profile_update_changes_only_allowed_fields(app_ctx):
    user = register()
    update_profile(user.resident_id, {"first_name": "Anneke", "phone": "", "languages": ["en"]})
    resident = db.session.get(Resident, user.resident_id)
    assert resident.first_name == db.session.get(User, user.id).display_name == "Anneke"
    assert resident.phone is None and resident.language_mask == 0b10
    with pytest.raises(Invalid) as unknown:
        update_profile(user.resident_id, {"home_lat": 1.0})
    assert unknown.value.field == "home_lat"
    with pytest.raises(Invalid) as none:
        update_profile(user.resident_id, {"languages": []})
    assert none.value.field == "languages"


def test_api_tokens_are_created_listed_and_revoked(app_ctx):
    user = register()
    token, secret = create_api_token(user.id, "telefoon")
    assert user_for_api_token(secret).id == user.id
    items, total = list_api_tokens(user.id)
    assert total == 1 and items[0].label == "telefoon"
    revoke_api_token(user.id, token.id)
    with pytest.raises(NotAuthenticated):
        user_for_api_token(secret)
    assert list_api_tokens(user.id)[1] == 0


def test_api_token_errors(app_ctx):
    user = register()
    other = register(email="bert@example.org", first_name="Bert")
    with pytest.raises(Invalid) as no_label:
        create_api_token(user.id, "  ")
    assert no_label.value.field == "label"
    with pytest.raises(NotAuthenticated):
        create_api_token_with_password("anna@example.org", "fout-fout-fout", "app")
    token, _ = create_api_token(other.id, "bert")
    with pytest.raises(NotFound):
        revoke_api_token(user.id, token.id)
    with pytest.raises(NotFound):
        revoke_api_token(user.id, 999_999)


def test_the_number_of_live_tokens_is_capped(app_ctx):
    user = register()
    for n in range(MAX_LIVE_TOKENS):
        create_api_token(user.id, f"app {n}")
    with pytest.raises(Conflict) as capped:
        create_api_token(user.id, "one more")
    assert capped.value.rule == "max_tokens"


def test_inbox_lists_in_app_notifications_and_marks_them_read(app_ctx):
    user = register()
    other = register(email="bert@example.org", first_name="Bert")
    app_ctx.config["SMTP_HOST"] = ""
    notify(user.resident_id, "test", "a", "Een", "1")
    notify(user.resident_id, "test", "b", "Twee", "2")
    theirs = notify(other.resident_id, "test", "c", "Drie", "3")[0]
    items, total = list_notifications(user.resident_id)
    assert [n.subject for n in items] == ["Twee", "Een"] and total == 2
    assert unread_count(user.resident_id) == 2
    mark_read(user.resident_id, items[1].id)
    assert unread_count(user.resident_id) == 1
    with pytest.raises(NotFound):
        mark_read(user.resident_id, theirs.id)
    assert mark_all_read(user.resident_id) == 1
    assert unread_count(user.resident_id) == 0
    assert unread_count(other.resident_id) == 1
