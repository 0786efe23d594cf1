"""Registration with email confirmation: a known and an unknown address get the very same
answer and the same work; the account works only after the mailed single-use link; asking
for a new link; the notice to an address's owner; the retention job removes accounts never
confirmed. Mails go through the real local SMTP server (tests/smtp_server.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mutualaid import jobs
from mutualaid.background import QUEUE_NAMES, get_queue
from mutualaid.extensions import db
from mutualaid.models import ConsentRecord, Resident, SecretToken, User
from mutualaid.models.base import utcnow
from mutualaid.services.accounts import register_resident
from tests.confirmation import (
    CONFIRM_LINK,
    CSRF,
    RESET_LINK,
    follow_confirmation,
    link_path,
    with_mail,
)
from tests.conftest import make_test_app

PASSWORD = "een-lang-wachtwoord"


def form(email: str, **overrides) -> dict:
    values = {
        "first_name": "Bea",
        "email": email,
        "password": PASSWORD,
        "postcode": "7551 AB",
        "house_number": "3",
        "languages": ["nl"],
        "channels": ["message"],
        "consent": "yes",
    }
    values.update(overrides)
    return values


def api_body(email: str) -> dict:
    return {"first_name": "Bea", "email": email, "password": PASSWORD, "consent": True}


def without_csrf(html: str) -> str:
    return CSRF.sub('name="csrf_token" value="-"', html)


def queued_jobs() -> list[str]:
    return [job.func_name for name in QUEUE_NAMES for job in get_queue(name).get_jobs()]


def empty_queues() -> None:
    for name in QUEUE_NAMES:
        get_queue(name).empty()


@pytest.fixture
def anna(app_ctx):
    """An account whose address is confirmed (the 'known' address)."""
    empty_queues()
    user = register_resident(
        first_name="Anna",
        email="anna@example.org",
        password=PASSWORD,
        consent=True,
        email_confirmed=True,
    )
    yield user
    empty_queues()


@pytest.fixture
def csrf_app(app_ctx, instance_path):
    """The app as in production: CSRF on (the pages carry a token per session)."""
    return make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        WTF_CSRF_ENABLED=True,
    )


def register_on_the_website(app, email: str) -> dict:
    """One visitor registers: everything they can observe, and the work it caused."""
    browser = app.test_client()
    page = browser.get("/auth/register").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    before = len(queued_jobs())
    answer = browser.post("/auth/register", data={**form(email), "csrf_token": token})
    jobs_queued = len(queued_jobs()) - before
    landing = browser.get(answer.headers["Location"])
    return {
        "status": answer.status_code,
        "location": answer.headers["Location"],
        "headers": sorted(k for k, _value in answer.headers if k != "X-Request-ID"),
        "body": answer.get_data(),
        "landing_status": landing.status_code,
        "landing": without_csrf(landing.get_data(as_text=True)),
        "jobs": jobs_queued,
    }


def test_a_known_and_an_unknown_address_get_identical_pages_and_the_same_work(
    app_ctx, anna, csrf_app
):
    known, known_mails = with_mail(
        app_ctx, lambda: register_on_the_website(csrf_app, "anna@example.org")
    )
    new, new_mails = with_mail(
        app_ctx, lambda: register_on_the_website(csrf_app, "bea@example.org")
    )
    assert known["status"] == new["status"] == 302
    assert known["location"] == new["location"] == "/auth/register/check-email"
    assert known["headers"] == new["headers"]
    assert known["body"] == new["body"]
    assert known["landing_status"] == new["landing_status"] == 200
    assert known["landing"] == new["landing"]  # byte for byte, but for the CSRF token
    assert "Kijk in uw e-mail" in new["landing"]
    assert "bea@example.org" not in new["landing"] and "Bea" not in new["landing"]
    # The same work: one job each, one mail each (a notice and a confirmation link).
    assert known["jobs"] == new["jobs"] == 1
    assert [m["To"] for m in known_mails] == ["anna@example.org"]
    assert [m["To"] for m in new_mails] == ["bea@example.org"]
    assert RESET_LINK.search(known_mails[0].get_body().get_content())
    assert CONFIRM_LINK.search(new_mails[0].get_body().get_content())
    # Nobody was signed in, and Anna's account is unchanged.
    assert db.session.get(User, anna.id).display_name == "Anna"


def test_the_api_answers_a_known_and_an_unknown_address_alike(app_ctx, anna, client):
    def register(email):
        before = len(queued_jobs())
        answer = client.post("/api/v1/auth/register", json=api_body(email))
        return answer, len(queued_jobs()) - before

    (known, known_jobs), known_mails = with_mail(app_ctx, lambda: register("anna@example.org"))
    (new, new_jobs), new_mails = with_mail(app_ctx, lambda: register("bea@example.org"))
    assert known.status_code == new.status_code == 202
    assert known.get_data() == new.get_data()
    assert known_jobs == new_jobs == 1
    assert len(known_mails) == len(new_mails) == 1


def test_an_unconfirmed_account_cannot_sign_in_and_the_answer_does_not_tell(app_ctx, client):
    with_mail(app_ctx, lambda: client.post("/auth/register", data=form("bea@example.org")))
    right = client.post("/auth/login", data={"email": "bea@example.org", "password": PASSWORD})
    wrong = client.post(
        "/auth/login", data={"email": "bea@example.org", "password": "fout-fout-fout"}
    )
    assert right.status_code == wrong.status_code == 422
    assert without_csrf(right.get_data(as_text=True)) == without_csrf(wrong.get_data(as_text=True))
    assert client.get("/mijn/gegevens").status_code == 302
    api_right = client.post(
        "/api/v1/auth/tokens", json={"email": "bea@example.org", "password": PASSWORD}
    )
    assert api_right.status_code == 401
    assert (
        db.session.scalar(select(func.count(SecretToken.id)).where(SecretToken.purpose == "api"))
        == 0
    )


def test_the_link_confirms_once_signs_in_on_a_fresh_session_and_starts_the_waiting_work(
    app_ctx, client
):
    _answer, [mail] = with_mail(
        app_ctx, lambda: client.post("/auth/register", data=form("bea@example.org"))
    )
    resident = db.session.scalar(select(Resident))
    assert resident.geocode_status is None  # nothing happens for an unconfirmed account
    path = link_path(mail)
    assert "48" not in mail.get_body().get_content() and "24 uur" in mail.get_body().get_content()
    with client.session_transaction() as session:
        session["left_over"] = "from before"
    done = follow_confirmation(client, path)
    assert done.status_code == 302
    with client.session_transaction() as session:
        assert "left_over" not in session  # a fresh session
    assert client.get("/mijn/gegevens").status_code == 200
    db.session.refresh(resident)
    assert resident.geocode_status in ("pending", "unavailable")
    # Once only: the link now shows "does not work any more", for GET and POST alike.
    again = app_ctx.test_client()
    assert again.get(path).status_code == 400
    assert again.post(path).status_code == 400
    assert "werkt niet meer" in again.get(path).get_data(as_text=True)
    # Only the hash of the secret is stored.
    secret = path.rsplit("/", 1)[1]
    assert secret not in repr(db.session.scalars(select(SecretToken.token_hash)).all())


def test_opening_the_link_alone_does_not_confirm(app_ctx, client):
    """Mail scanners open links: only the button (a POST) confirms."""
    _answer, [mail] = with_mail(
        app_ctx, lambda: client.post("/auth/register", data=form("bea@example.org"))
    )
    assert client.get(link_path(mail)).status_code == 200
    assert db.session.scalar(select(User.email_confirmed_at)) is None


def test_an_expired_link_is_refused_and_a_new_one_can_be_asked_for(app_ctx, client, anna):
    _answer, [mail] = with_mail(
        app_ctx, lambda: client.post("/auth/register", data=form("bea@example.org"))
    )
    token = db.session.scalar(select(SecretToken).where(SecretToken.purpose == "confirm_email"))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(link_path(mail)).status_code == 400
    assert client.post(link_path(mail)).status_code == 400
    assert (
        db.session.scalar(select(User.email_confirmed_at).where(User.email == "bea@example.org"))
        is None
    )

    def resend(email):
        before = len(queued_jobs())
        answer = client.post("/auth/register/resend", data={"email": email})
        return answer, len(queued_jobs()) - before

    (waiting, waiting_jobs), [new_mail] = with_mail(app_ctx, lambda: resend("bea@example.org"))
    (confirmed, confirmed_jobs), none = with_mail(app_ctx, lambda: resend("anna@example.org"))
    (unknown, unknown_jobs), nothing = with_mail(app_ctx, lambda: resend("niemand@example.org"))
    assert none == nothing == []
    assert waiting.status_code == confirmed.status_code == unknown.status_code == 302
    assert (
        waiting.headers["Location"] == unknown.headers["Location"] == "/auth/register/check-email"
    )
    assert waiting_jobs == confirmed_jobs == unknown_jobs == 1
    assert new_mail["To"] == "bea@example.org"
    assert follow_confirmation(client, link_path(new_mail)).status_code == 302
    assert client.get("/mijn/gegevens").status_code == 200


def test_the_owner_of_a_taken_address_can_choose_a_new_password_from_the_notice(
    app_ctx, client, anna
):
    _answer, [notice] = with_mail(
        app_ctx, lambda: client.post("/auth/register", data=form("anna@example.org"))
    )
    assert "Iemand probeerde zich aan te melden" in notice["Subject"]
    path = link_path(notice, RESET_LINK)
    new = "nieuw-wachtwoord-1"
    assert client.post(path, data={"password": new, "password_confirm": new}).status_code == 302
    ok = client.post("/auth/login", data={"email": "anna@example.org", "password": new})
    assert ok.status_code == 302


def test_a_registration_never_confirmed_is_finished_by_the_reset_link_of_the_notice(
    app_ctx, client
):
    """Someone registers an address; its owner (who never confirmed) registers again: the
    notice's link lets the owner choose their own password, which confirms the account."""
    with_mail(app_ctx, lambda: client.post("/auth/register", data=form("bea@example.org")))
    _answer, [notice] = with_mail(
        app_ctx,
        lambda: client.post("/auth/register", data=form("bea@example.org", first_name="Bea")),
    )
    assert "nog niet bevestigd" in notice.get_body().get_content()
    path = link_path(notice, RESET_LINK)
    new = "mijn-eigen-wachtwoord"
    assert client.post(path, data={"password": new, "password_confirm": new}).status_code == 302
    ok = client.post("/auth/login", data={"email": "bea@example.org", "password": new})
    assert ok.status_code == 302
    # The first password (the one the other person chose) does not work.
    client.post("/auth/logout")
    old = client.post("/auth/login", data={"email": "bea@example.org", "password": PASSWORD})
    assert old.status_code == 422


def test_the_retention_job_removes_accounts_never_confirmed(app_ctx, client, anna):
    for email in ("oud@example.org", "nieuw@example.org"):
        with_mail(app_ctx, lambda email=email: client.post("/auth/register", data=form(email)))
    days = app_ctx.config["UNCONFIRMED_ACCOUNT_DAYS"]
    old = db.session.scalar(select(User).where(User.email == "oud@example.org"))
    old_id, old_resident_id = old.id, old.resident_id
    old.created_at = utcnow() - timedelta(days=days, minutes=1)
    db.session.get(User, anna.id).created_at = utcnow() - timedelta(days=days + 30)
    db.session.commit()

    result = jobs.anonymise_closed_requests()  # the daily periodic job
    assert result["unconfirmed_accounts"] == 1
    emails = set(db.session.scalars(select(User.email)))
    assert emails == {"anna@example.org", "nieuw@example.org"}
    assert db.session.get(Resident, old_resident_id) is None
    assert (
        db.session.scalar(
            select(func.count(ConsentRecord.id)).where(ConsentRecord.resident_id == old_resident_id)
        )
        == 0
    )
    assert (
        db.session.scalar(select(func.count(SecretToken.id)).where(SecretToken.user_id == old_id))
        == 0
    )
    # The address is free again: registering with it sends a new confirmation link.
    _answer, [mail] = with_mail(
        app_ctx, lambda: client.post("/auth/register", data=form("oud@example.org"))
    )
    assert re.search(r"/auth/confirm/", mail.get_body().get_content())


def test_accounts_made_by_staff_and_the_demo_count_as_confirmed(app_ctx):
    from mutualaid.services.accounts import authenticate, create_user

    create_user("coach@example.org", PASSWORD, "admin", "Beheer")
    assert authenticate("coach@example.org", PASSWORD).email_confirmed_at is not None
