"""Account pages through the test client: register, forgotten password (a real local SMTP
server), my details, download, who viewed my data, tokens, notifications, delete account."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import url_for
from flask_babel import refresh
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.logs import mask_secret_paths
from mutualaid.models import ConsentRecord, Resident, SecretToken, User
from mutualaid.services.accounts import create_user
from mutualaid.services.audit import record_view
from mutualaid.services.notifications import notify
from tests.confirmation import (
    RESET_LINK,
    follow_confirmation,
    link_path,
    register_and_confirm,
    with_mail,
)
from tests.queued_jobs import run_account_mail_jobs
from tests.smtp_server import local_smtp_server

PASSWORD = "een-lang-wachtwoord"


def register_form(**overrides) -> dict:
    form = {
        "first_name": "Anna",
        "email": "anna@example.org",
        "password": PASSWORD,
        "phone": "06 12345678",
        "postcode": "7551 AB",
        "house_number": "12",
        "languages": ["nl", "en"],
        "channels": ["message", "phone"],
        "consent": "yes",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def anna(client, app_ctx):
    """Anna registered, confirmed her address with the mailed link and is signed in."""
    register_and_confirm(client, app_ctx, register_form())
    return client


def test_registering_creates_resident_account_and_consent_and_signs_in_after_confirming(
    client, app_ctx
):
    form_page = client.get("/auth/register")
    assert form_page.status_code == 200
    assert 'name="consent"' in form_page.get_data(as_text=True)

    response, [mail] = with_mail(
        app_ctx, lambda: client.post("/auth/register", data=register_form())
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/register/check-email"
    assert mail["To"] == "anna@example.org"
    # Not signed in, and the account does not work until the link is followed.
    assert client.get("/mijn/gegevens").status_code == 302
    user = db.session.scalar(select(User))
    assert user.email_confirmed_at is None
    assert follow_confirmation(client, link_path(mail)).status_code == 302
    db.session.refresh(user)
    assert user.email_confirmed_at is not None
    resident = db.session.get(Resident, user.resident_id)
    assert user.role == "resident" and user.email == "anna@example.org"
    assert resident.first_name == "Anna" and resident.postcode == "7551AB"
    assert resident.house_number == "12" and resident.phone == "06 12345678"
    consent = db.session.scalar(select(ConsentRecord))
    assert (consent.resident_id, consent.purpose, consent.method) == (
        resident.id,
        "matching",
        "online",
    )
    # Signed in: my details page opens.
    assert client.get("/mijn/gegevens").status_code == 200


def test_confirming_goes_on_to_the_address_page(client, app_ctx):
    response = register_and_confirm(client, app_ctx, register_form())
    endpoint = (
        "residents.location"
        if "residents.location" in app_ctx.view_functions
        else "residents.account"
    )
    with app_ctx.test_request_context():
        assert response.headers["Location"] == url_for(endpoint)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent": None}, "consent"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"first_name": " "}, "first_name"),
        ({"postcode": "12345"}, "postcode"),
        ({"house_number": ""}, "house_number"),
        ({"phone": "bel mij"}, "phone"),
    ],
)
def test_a_bad_registration_names_the_field_and_stores_nothing(client, overrides, field):
    response = client.post("/auth/register", data=register_form(**overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html and f'href="#{field}"' in html
    assert count(User) == 0 and count(Resident) == 0 and count(ConsentRecord) == 0


def test_an_email_in_use_gets_the_same_answer_and_its_owner_a_mail(client, app_ctx):
    first, _mails = with_mail(app_ctx, lambda: client.post("/auth/register", data=register_form()))
    again, [notice] = with_mail(
        app_ctx, lambda: client.post("/auth/register", data=register_form(first_name="Bea"))
    )
    assert again.status_code == first.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert notice["To"] == "anna@example.org"
    assert "/auth/password/reset/" in link_path(notice, RESET_LINK)
    # Not signed in as Anna, and nothing of hers changed.
    assert client.get("/mijn/gegevens").status_code == 302
    assert count(User) == 1 and count(Resident) == 1


def test_registration_page_is_in_dutch_by_default(client):
    html = client.get("/auth/register").get_data(as_text=True)
    assert "Account maken" in html and "Ik ga akkoord" in html


def follow_reset_link(inbox) -> str:
    [message] = inbox.wait_for(1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://localhost(/auth/password/reset/\S+)", body)
    assert link, body
    return link.group(1)


def test_forgotten_password_mails_a_link_that_works_once(anna, app_ctx):
    anna.post("/auth/logout")
    with local_smtp_server(app_ctx) as inbox:
        response = anna.post("/auth/password/forgot", data={"email": "ANNA@example.org "})
        run_account_mail_jobs()
        assert response.status_code == 302
        path = follow_reset_link(inbox)
    assert inbox.messages[0]["To"] == "anna@example.org"

    assert anna.get(path).status_code == 200
    mismatch = anna.post(path, data={"password": "nieuw-wachtwoord-1", "password_confirm": "x"})
    assert mismatch.status_code == 422
    short = anna.post(path, data={"password": "kort", "password_confirm": "kort"})
    assert short.status_code == 422 and 'href="#password"' in short.get_data(as_text=True)

    new = "nieuw-wachtwoord-1"
    done = anna.post(path, data={"password": new, "password_confirm": new})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/login")
    # Used: the link does not work a second time.
    again = anna.post(path, data={"password": "nog-een-wachtwoord", "password_confirm": "nog"})
    assert again.status_code == 400
    assert anna.get(path).status_code == 400
    # The new password signs in; the old one does not.
    old = anna.post("/auth/login", data={"email": "anna@example.org", "password": PASSWORD})
    assert old.status_code == 422
    ok = anna.post("/auth/login", data={"email": "anna@example.org", "password": new})
    assert ok.status_code == 302


def test_forgot_password_answers_the_same_for_an_unknown_email(anna, app_ctx):
    anna.post("/auth/logout")
    with local_smtp_server(app_ctx) as inbox:
        known = anna.post("/auth/password/forgot", data={"email": "anna@example.org"})
        unknown = anna.post("/auth/password/forgot", data={"email": "nobody@example.org"})
        run_account_mail_jobs()
        inbox.wait_for(1)
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert len(inbox.messages) == 1
    resets = select(func.count(SecretToken.id)).where(SecretToken.purpose == "password_reset")
    assert db.session.scalar(resets) == 1


def test_an_expired_or_unknown_reset_link_is_refused(anna, app_ctx):
    anna.post("/auth/logout")
    with local_smtp_server(app_ctx) as inbox:
        anna.post("/auth/password/forgot", data={"email": "anna@example.org"})
        run_account_mail_jobs()
        path = follow_reset_link(inbox)
    token = db.session.scalar(select(SecretToken).where(SecretToken.purpose == "password_reset"))
    token.expires_at = token.created_at - timedelta(seconds=1)
    db.session.commit()
    expired = anna.post(path, data={"password": "nieuw-wachtwoord", "password_confirm": "x" * 0})
    assert expired.status_code in (400, 422)
    new = "nieuw-wachtwoord-1"
    assert anna.post(path, data={"password": new, "password_confirm": new}).status_code == 400
    assert anna.get("/auth/password/reset/not-a-real-token").status_code == 400


def test_a_reset_signs_out_sessions_from_before(anna, app_ctx):
    other_browser = app_ctx.test_client()
    other_browser.post("/auth/login", data={"email": "anna@example.org", "password": PASSWORD})
    assert other_browser.get("/mijn/gegevens").status_code == 200
    with local_smtp_server(app_ctx) as inbox:
        anna.post("/auth/password/forgot", data={"email": "anna@example.org"})
        run_account_mail_jobs()
        path = follow_reset_link(inbox)
    new = "nieuw-wachtwoord-1"
    anna.post(path, data={"password": new, "password_confirm": new})
    assert other_browser.get("/mijn/gegevens").status_code == 302  # to sign in


def test_changing_the_password_checks_the_current_one(anna, app_ctx):
    wrong = anna.post(
        "/mijn/gegevens/wachtwoord",
        data={
            "current_password": "fout-fout-fout",
            "new_password": "a" * 12,
            "password_confirm": "a" * 12,
        },
    )
    assert wrong.status_code == 422 and 'href="#current_password"' in wrong.get_data(as_text=True)
    ok = anna.post(
        "/mijn/gegevens/wachtwoord",
        data={"current_password": PASSWORD, "new_password": "a" * 12, "password_confirm": "a" * 12},
    )
    assert ok.status_code == 302
    assert anna.get("/mijn/gegevens").status_code == 302  # signed out: sign in again


def test_my_details_can_be_changed(anna):
    response = anna.post(
        "/mijn/gegevens",
        data={
            "first_name": "Anneke",
            "last_name": "",
            "email": "anna@example.org",
            "phone": "",
            "languages": ["nl"],
            "channels": ["message"],
        },
    )
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident))
    assert resident.first_name == "Anneke" and resident.phone is None
    bad = anna.post(
        "/mijn/gegevens", data={"first_name": "Anneke", "email": "x", "languages": ["nl"]}
    )
    assert bad.status_code == 422 and 'href="#email"' in bad.get_data(as_text=True)


def test_download_gives_a_json_file_with_my_data_once(anna):
    page = anna.get("/mijn/gegevens").get_data(as_text=True)
    assert 'action="/mijn/gegevens/download"' in page and 'method="post"' in page
    prepared = anna.post("/mijn/gegevens/download")
    assert prepared.status_code == 302
    link = prepared.headers["Location"]
    assert link.startswith("/mijn/gegevens/export/")
    token = link.rsplit("/", 1)[1]
    assert token not in mask_secret_paths(f'"GET {link} HTTP/1.1" 200')  # not in access logs
    response = anna.get(link)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["first_name"] == "Anna"
    assert data["profile"]["postcode"] == "7551AB"
    # The link is spent: opening it again (history, a cache, someone else) gives nothing.
    again = anna.get(link)
    assert again.status_code == 302 and again.headers["Location"] == "/mijn/gegevens"
    assert "Deze downloadlink werkt niet meer" in anna.get("/mijn/gegevens").get_data(as_text=True)


def test_who_viewed_my_data_shows_the_professional_and_reason(anna):
    resident = db.session.scalar(select(Resident))
    worker = create_user("coach@example.org", PASSWORD, "worker", "Wijkcoach Noord")
    record_view(worker.id, "resident", [resident.id], reason="follow-up")
    html = anna.get("/mijn/gegevens/inzage").get_data(as_text=True)
    assert "Wijkcoach Noord" in html and "follow-up" in html
    assert "Heeft uw gegevens bekeken" in html


def test_api_token_page_shows_the_secret_once_and_revokes(anna):
    made = anna.post("/mijn/api-tokens", data={"label": "telefoon"})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token">(ma_[^<]+)<', html).group(1)
    assert anna.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = anna.get("/mijn/api-tokens").get_data(as_text=True)
    assert "telefoon" in listing and secret not in listing

    empty = anna.post("/mijn/api-tokens", data={"label": ""})
    assert empty.status_code == 422

    token_id = db.session.scalar(select(SecretToken.id).where(SecretToken.purpose == "api"))
    assert anna.post(f"/mijn/api-tokens/{token_id}/intrekken").status_code == 302
    assert anna.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_someone_elses_token_cannot_be_revoked_on_the_page(anna, app_ctx):
    other = create_user("coach@example.org", PASSWORD, "worker", "Wijkcoach")
    from mutualaid.services.api_tokens import create_api_token

    token, _secret = create_api_token(other.id, "werk")
    assert anna.post(f"/mijn/api-tokens/{token.id}/intrekken").status_code == 404
    assert db.session.get(SecretToken, token.id).revoked_at is None


def test_notifications_page_lists_newest_first_and_marks_read(anna):
    resident = db.session.scalar(select(Resident))
    notify(resident.id, "test", "n:1", "Eerste bericht", "Tekst")
    notify(resident.id, "test", "n:2", "Tweede bericht", "Tekst")
    html = anna.get("/mijn/meldingen").get_data(as_text=True)
    assert html.index("Tweede bericht") < html.index("Eerste bericht")
    # The menu shows how many are unread (with words for screen readers).
    assert '2<span class="visually-hidden"> ongelezen</span>' in html
    assert anna.post("/mijn/meldingen/gelezen").status_code == 302
    assert "Markeer alles als gelezen" not in anna.get("/mijn/meldingen").get_data(as_text=True)


def test_deleting_my_account_needs_confirmation_and_password(anna):
    page = anna.get("/mijn/gegevens/verwijderen")
    assert page.status_code == 200
    unconfirmed = anna.post("/mijn/gegevens/verwijderen", data={"password": PASSWORD})
    assert unconfirmed.status_code == 422
    wrong = anna.post(
        "/mijn/gegevens/verwijderen", data={"password": "fout-fout-fout", "confirm": "yes"}
    )
    assert wrong.status_code == 422
    assert db.session.scalar(select(Resident.erased_at)) is None

    done = anna.post("/mijn/gegevens/verwijderen", data={"password": PASSWORD, "confirm": "yes"})
    assert done.status_code == 302
    resident = db.session.scalar(select(Resident))
    assert resident.erased_at is not None and resident.email is None
    assert anna.get("/mijn/gegevens").status_code == 302
    login = anna.post("/auth/login", data={"email": "anna@example.org", "password": PASSWORD})
    assert login.status_code == 422
    # The address is free for a new account.
    assert anna.post("/auth/register", data=register_form()).status_code == 302


def test_account_pages_need_a_signed_in_resident(client):
    for path in (
        "/mijn/gegevens",
        "/mijn/meldingen",
        "/mijn/api-tokens",
        "/mijn/gegevens/export/some-link",
    ):
        assert client.get(path).status_code == 302
    assert client.post("/mijn/gegevens/download").status_code == 302


def test_registration_needs_the_csrf_token_of_its_form_when_csrf_is_on(app_ctx, instance_path):
    from tests.conftest import make_test_app

    app = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        WTF_CSRF_ENABLED=True,
    )
    browser = app.test_client()
    assert browser.post("/auth/register", data=register_form()).status_code == 400
    page = browser.get("/auth/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # The confirmation's button needs the token of its page too (follow_confirmation sends it).
    register_and_confirm(browser, app_ctx, {**register_form(), "csrf_token": token})
    # Every form on the account pages carries the token.
    for path in ("/mijn/gegevens", "/mijn/api-tokens", "/mijn/gegevens/verwijderen"):
        html = browser.get(path).get_data(as_text=True)
        assert html.count("<form") == html.count('name="csrf_token"'), path


def test_account_pages_work_in_english(anna):
    # The test app context outlives requests, and Flask-Babel caches the locale on it.
    refresh()
    pages = {
        "/mijn/gegevens?lang=en": "My details",
        "/mijn/gegevens/inzage": "Who looked at my data",
        "/mijn/api-tokens": "API tokens",
        "/mijn/meldingen": "My notifications",
        "/mijn/gegevens/wachtwoord": "Change my password",
        "/mijn/gegevens/verwijderen": "Delete my account",
    }
    for path, title in pages.items():
        response = anna.get(path)
        assert response.status_code == 200 and f"<h1>{title}</h1>" in response.get_data(
            as_text=True
        ), path


def test_every_problem_of_a_registration_is_listed_at_once(client):
    response = client.post(
        "/auth/register",
        data=register_form(first_name="", email="nope", password="kort", consent=None),
    )
    html = response.get_data(as_text=True)
    start = html.index('class="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    links = re.findall(r'href="#(\w+)"', summary)
    assert links == ["first_name", "email", "password", "consent"]
    assert count(User) == 0
