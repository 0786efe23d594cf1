"""The JSON API for accounts and own data: tokens, /me, export, erasure, audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from mutualaid.extensions import db, limiter
from mutualaid.models import Resident, SecretToken, User
from mutualaid.models.base import utcnow
from mutualaid.services.accounts import create_user, register_resident
from mutualaid.services.audit import record_view
from tests.conftest import make_test_app

PASSWORD = "een-lang-wachtwoord"


def make_resident(email="anna@example.org", first_name="Anna", **extra) -> User:
    return register_resident(
        first_name=first_name,
        email=email,
        password=PASSWORD,
        consent=True,
        phone="0612345678",
        postcode="7551 AB",
        house_number="12a",
        email_confirmed=True,  # as if the mailed link was followed
        **extra,
    )


def get_token(client, email="anna@example.org", label="test") -> str:
    response = client.post(
        "/api/v1/auth/tokens", json={"email": email, "password": PASSWORD, "label": label}
    )
    assert response.status_code == 201, response.json
    return response.json["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_email_and_password_give_a_token_that_opens_me(client):
    make_resident()
    token = get_token(client)
    assert token.startswith("ma_")
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json["first_name"] == "Anna"
    assert me.json["postcode"] == "7551AB" and me.json["house_number"] == "12A"
    assert me.json["languages"] == ["nl"]
    # Only the hash is stored.
    stored = db.session.scalars(select(SecretToken.token_hash)).all()
    assert token not in stored


def test_a_wrong_password_gets_no_token(client):
    make_resident()
    response = client.post(
        "/api/v1/auth/tokens", json={"email": "anna@example.org", "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert response.json["error"] == "unauthenticated"
    assert "token" not in response.json


def test_me_without_a_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.json["rule"] == "bearer_token"


def test_tokens_are_listed_without_secrets_and_a_revoked_one_is_401(client):
    make_resident()
    first = get_token(client, label="telefoon")
    second = get_token(client, label="laptop")
    listed = client.get("/api/v1/auth/tokens", headers=bearer(first))
    assert listed.status_code == 200
    assert listed.json["total"] == 2
    assert [t["label"] for t in listed.json["items"]] == ["laptop", "telefoon"]
    assert first not in listed.get_data(as_text=True)
    assert all("token" not in t for t in listed.json["items"])

    laptop_id = listed.json["items"][0]["id"]
    revoked = client.delete(f"/api/v1/auth/tokens/{laptop_id}", headers=bearer(first))
    assert revoked.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 200
    assert client.get("/api/v1/auth/tokens", headers=bearer(first)).json["total"] == 1


def test_someone_elses_token_cannot_be_revoked(client):
    make_resident()
    make_resident(email="bert@example.org", first_name="Bert")
    anna = get_token(client)
    bert = get_token(client, email="bert@example.org")
    bert_id = client.get("/api/v1/auth/tokens", headers=bearer(bert)).json["items"][0]["id"]
    response = client.delete(f"/api/v1/auth/tokens/{bert_id}", headers=bearer(anna))
    assert response.status_code == 404 and response.json["field"] == "token_id"
    assert client.get("/api/v1/me", headers=bearer(bert)).status_code == 200


def test_me_can_be_changed_and_bad_values_name_the_field(client):
    make_resident()
    token = get_token(client)
    changed = client.patch(
        "/api/v1/me",
        headers=bearer(token),
        json={"last_name": "Jansen", "languages": ["nl", "tr"], "channels": ["phone"]},
    )
    assert changed.status_code == 200
    assert changed.json["last_name"] == "Jansen"
    assert changed.json["languages"] == ["nl", "tr"] and changed.json["channels"] == ["phone"]

    bad = client.patch("/api/v1/me", headers=bearer(token), json={"languages": ["xx"]})
    assert bad.status_code == 422 and bad.json["field"] == "languages"
    bad = client.patch("/api/v1/me", headers=bearer(token), json={"phone": "bel me"})
    assert bad.status_code == 422 and bad.json["field"] == "phone"
    bad = client.patch("/api/v1/me", headers=bearer(token), json={"first_name": "  "})
    assert bad.status_code == 422 and bad.json["field"] == "first_name"
    unknown = client.patch("/api/v1/me", headers=bearer(token), json={"role": "admin"})
    assert unknown.status_code == 422
    assert db.session.scalar(select(User.role).where(User.email == "anna@example.org")) == (
        "resident"
    )


def test_changing_email_to_one_in_use_is_a_conflict(client):
    make_resident()
    make_resident(email="bert@example.org", first_name="Bert")
    token = get_token(client)
    response = client.patch("/api/v1/me", headers=bearer(token), json={"email": "bert@example.org"})
    assert response.status_code == 409 and response.json["field"] == "email"


def test_a_browser_session_may_read_me_but_not_delete_it(client):
    make_resident()
    client.post("/auth/login", data={"email": "anna@example.org", "password": PASSWORD})
    assert client.get("/api/v1/me").status_code == 200
    assert client.delete("/api/v1/me").status_code == 401
    assert db.session.scalar(select(Resident.erased_at)) is None


def test_export_holds_my_data_and_audit_names_the_professional(client):
    user = make_resident()
    worker = create_user("coach@example.org", PASSWORD, "worker", "Wijkcoach Noord")
    record_view(worker.id, "resident", [user.resident_id], reason="follow-up")
    token = get_token(client)
    data = download_export(client, token)
    assert data["profile"]["email"] == "anna@example.org"
    assert data["consents"][0]["purpose"] == "matching"
    assert data["audit_events"][0]["actor"] == "Wijkcoach Noord"

    audit = client.get("/api/v1/me/audit", headers=bearer(token))
    assert audit.status_code == 200 and audit.json["total"] == 1
    item = audit.json["items"][0]
    assert item["actor"] == "Wijkcoach Noord" and item["actor_role"] == "worker"
    assert item["action"] == "view:resident" and item["reason"] == "follow-up"


def test_delete_me_erases_and_the_token_stops_working(client):
    make_resident()
    token = get_token(client)
    assert client.delete("/api/v1/me", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    resident = db.session.scalar(select(Resident))
    assert resident.erased_at is not None and resident.email is None
    # The email is free again.
    make_resident()


def test_notifications_list_and_mark_read(client):
    from mutualaid.services.notifications import notify

    user = make_resident()
    notify(user.resident_id, "test", "k:1", "Eerste", "Tekst 1")
    notify(user.resident_id, "test", "k:2", "Tweede", "Tekst 2")
    token = get_token(client)
    listed = client.get("/api/v1/me/notifications", headers=bearer(token)).json
    assert [n["subject"] for n in listed["items"]] == ["Tweede", "Eerste"]
    assert listed["unread"] == 2
    first_id = listed["items"][1]["id"]
    read = client.post(f"/api/v1/me/notifications/{first_id}/read", headers=bearer(token))
    assert read.status_code == 200 and read.json["read_at"]
    assert client.get("/api/v1/me/notifications", headers=bearer(token)).json["unread"] == 1
    assert client.post("/api/v1/me/notifications/read", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me/notifications", headers=bearer(token)).json["unread"] == 0
    assert client.post(
        "/api/v1/me/notifications/99999/read", headers=bearer(token)
    ).status_code == (404)


@pytest.fixture
def rate_limited_client(app_ctx, instance_path):
    """A client of an app with rate limits on; the shared limiter is switched off after."""
    limited = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        RATELIMIT_ENABLED=True,
    )
    limiter.reset()
    try:
        yield limited.test_client()
    finally:
        limiter.reset()
        limiter.enabled = False  # the limiter object is shared by every app in this process


def test_the_token_endpoint_is_rate_limited(rate_limited_client):
    codes = [
        rate_limited_client.post(
            "/api/v1/auth/tokens", json={"email": "x@example.org", "password": "wrong-password"}
        ).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert codes[-1] == 429


def download_export(client, token: str) -> dict:
    """Prepare the one-time export link and fetch it once."""
    link = client.post("/api/v1/me/export", headers=bearer(token))
    assert link.status_code == 201, link.json
    response = client.get(link.json["download_url"], headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.json


def test_an_export_link_works_once_for_its_owner_and_expires(client, app_ctx):
    make_resident()
    make_resident("bert@example.org", first_name="Bert")
    token, bert = get_token(client), get_token(client, "bert@example.org")
    link = client.post("/api/v1/me/export", headers=bearer(token)).json
    assert link["download_url"].startswith("/api/v1/me/export/")
    # Not without the token, not for someone else; the data never sits at a bare URL.
    assert client.get(link["download_url"]).status_code == 401
    assert client.get(link["download_url"], headers=bearer(bert)).status_code == 404
    first = client.get(link["download_url"], headers=bearer(token))
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert first.json["profile"]["email"] == "anna@example.org"
    again = client.get(link["download_url"], headers=bearer(token))
    assert again.status_code == 404 and again.json["field"] == "code"
    # A new link replaces an unused one; an expired link is refused.
    old = client.post("/api/v1/me/export", headers=bearer(token)).json["download_url"]
    new = client.post("/api/v1/me/export", headers=bearer(token)).json["download_url"]
    assert client.get(old, headers=bearer(token)).status_code == 404
    db.session.execute(
        update(SecretToken).where(SecretToken.purpose == "export").values(expires_at=utcnow())
    )
    db.session.commit()
    assert client.get(new, headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/me/export", headers=bearer(token)).status_code == 405


def test_the_openapi_document_lists_auth_and_me(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/auth/tokens", "/api/v1/me", "/api/v1/me/export", "/api/v1/me/audit"):
        assert path in paths


@pytest.mark.parametrize("per_page", [0, 101])
def test_pagination_bounds_are_checked(client, per_page):
    make_resident()
    token = get_token(client)
    response = client.get(f"/api/v1/auth/tokens?per_page={per_page}", headers=bearer(token))
    assert response.status_code == 422


def test_password_reset_can_be_asked_through_the_api_with_the_same_answer(client, app_ctx):
    from tests.queued_jobs import run_account_mail_jobs
    from tests.smtp_server import local_smtp_server

    make_resident()
    with local_smtp_server(app_ctx) as inbox:
        known = client.post("/api/v1/auth/password-reset", json={"email": "anna@example.org"})
        unknown = client.post("/api/v1/auth/password-reset", json={"email": "x@example.org"})
        run_account_mail_jobs()
        inbox.wait_for(1)
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert [m["To"] for m in inbox.messages] == ["anna@example.org"]
    assert "/auth/password/reset/" in inbox.messages[0].get_body().get_content()
    missing = client.post("/api/v1/auth/password-reset", json={})
    assert missing.status_code == 422


def test_a_resident_registers_through_the_api_and_gets_a_token_after_confirming(client, app_ctx):
    from tests.confirmation import follow_confirmation, link_path, with_mail

    body = {
        "first_name": "Dirk",
        "email": "dirk@example.org",
        "password": PASSWORD,
        "consent": True,
        "postcode": "7551 AB",
        "house_number": "3",
        "languages": ["nl", "de"],
    }
    created, [mail] = with_mail(app_ctx, lambda: client.post("/api/v1/auth/register", json=body))
    assert created.status_code == 202
    assert "password" not in created.json and "dirk" not in created.get_data(as_text=True)
    # No token before the address is confirmed: the answer of a wrong password.
    early = client.post(
        "/api/v1/auth/tokens", json={"email": "dirk@example.org", "password": PASSWORD}
    )
    wrong = client.post(
        "/api/v1/auth/tokens", json={"email": "dirk@example.org", "password": "fout-fout-fout"}
    )
    assert early.status_code == wrong.status_code == 401
    assert early.get_data() == wrong.get_data()
    assert mail["To"] == "dirk@example.org"
    assert follow_confirmation(app_ctx.test_client(), link_path(mail)).status_code == 302
    token = get_token(client, email="dirk@example.org")
    me = client.get("/api/v1/me", headers=bearer(token)).json
    assert me["languages"] == ["nl", "de"] and me["postcode"] == "7551AB"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"consent": False}, 422, "consent"),
        ({"email": "dirk"}, 422, "email"),
        ({"password": "short"}, 422, "password"),
        ({"languages": ["klingon"]}, 422, "languages"),
    ],
)
def test_bad_api_registrations_name_the_field(client, change, status, field):
    make_resident()
    body = {"first_name": "Dirk", "email": "dirk@example.org", "password": PASSWORD}
    body.update({"consent": True, **change})
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == status
    assert response.json["field"] == field
    assert db.session.scalar(select(func.count(Resident.id))) == 1


def test_api_registration_without_consent_field_is_refused(client):
    body = {"first_name": "Dirk", "email": "dirk@example.org", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 422
    assert db.session.scalar(select(func.count(Resident.id))) == 0


def test_api_registration_with_a_taken_email_answers_as_for_a_new_one(client, app_ctx):
    from tests.queued_jobs import run_account_mail_jobs
    from tests.smtp_server import local_smtp_server

    make_resident()
    body = {"first_name": "Dirk", "password": PASSWORD, "consent": True}
    with local_smtp_server(app_ctx) as inbox:
        taken = client.post("/api/v1/auth/register", json={**body, "email": "anna@example.org"})
        new = client.post("/api/v1/auth/register", json={**body, "email": "dirk@example.org"})
        assert run_account_mail_jobs() == 2
        notice, confirmation = inbox.wait_for(2)
    assert taken.status_code == new.status_code == 202
    assert taken.get_data() == new.get_data()
    # The owner of the taken address hears about it; nothing of theirs changed. The new
    # address gets its confirmation link.
    assert notice["To"] == "anna@example.org"
    assert "register" in notice.get_body().get_content()
    assert confirmation["To"] == "dirk@example.org"
    assert "/auth/confirm/" in confirmation.get_body().get_content()
    assert db.session.scalar(select(func.count(Resident.id))) == 2
