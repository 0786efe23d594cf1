"""Account hardening through the test client: the same answers for known and unknown accounts,
rate limits counted in Redis, a fresh session at sign-in, and "sign out everywhere"."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import func, select

from mutualaid.background import get_queue, get_redis
from mutualaid.extensions import db, limiter
from mutualaid.models import SecretToken
from mutualaid.services import accounts
from mutualaid.services.accounts import register_resident
from tests.conftest import make_test_app
from tests.queued_jobs import run_account_mail_jobs
from tests.smtp_server import local_smtp_server

PASSWORD = "een-lang-wachtwoord"


@pytest.fixture
def anna_account(app_ctx):
    return register_resident(
        first_name="Anna",
        email="anna@example.org",
        password=PASSWORD,
        consent=True,
        email_confirmed=True,  # as if the mailed link was followed
    )


def sign_in(client, email="anna@example.org", password=PASSWORD):
    return client.post("/auth/login", data={"email": email, "password": password})


def api_token(client) -> str:
    answer = client.post(
        "/api/v1/auth/tokens", json={"email": "anna@example.org", "password": PASSWORD}
    )
    assert answer.status_code == 201
    return answer.json["token"]


def as_a_new_request():
    """Forget the user Flask-Login cached in `g`: in these tests one app context (and so one
    `g`) spans many requests, where in production each request starts without it."""
    g.pop("_login_user", None)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- The same answers for known and unknown accounts ----------------------------------------


def test_dummy_hash_costs_as_much_as_a_real_one():
    """An unknown email is verified against a hash with the same argon2 parameters."""
    assert not accounts._hasher.check_needs_rehash(accounts._DUMMY_HASH)


def test_sign_in_page_answers_the_same_for_unknown_email_and_wrong_password(app_ctx, anna_account):
    client = app_ctx.test_client()
    known = sign_in(client, "anna@example.org", "wrong-password-1")
    unknown = sign_in(client, "nobody@example.org", "wrong-password-1")
    assert known.status_code == unknown.status_code == 422
    # The pages differ only in the email typed back into the form.
    assert known.get_data(as_text=True).replace("anna@example.org", "X") == unknown.get_data(
        as_text=True
    ).replace("nobody@example.org", "X")


def test_api_token_answers_the_same_for_unknown_email_and_wrong_password(app_ctx, anna_account):
    client = app_ctx.test_client()
    body = {"password": "wrong-password-1"}
    known = client.post("/api/v1/auth/tokens", json={**body, "email": "anna@example.org"})
    unknown = client.post("/api/v1/auth/tokens", json={**body, "email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 401
    assert known.json == unknown.json


@pytest.mark.parametrize(
    ("path", "as_json"), [("/auth/password/forgot", False), ("/api/v1/auth/password-reset", True)]
)
def test_reset_answers_the_same_and_queues_one_job_either_way(app_ctx, anna_account, path, as_json):
    client = app_ctx.test_client()
    queue = get_queue("notifications")
    queue.empty()

    def ask(email):
        return (
            client.post(path, json={"email": email})
            if as_json
            else client.post(path, data={"email": email})
        )

    known, unknown = ask("anna@example.org"), ask("nobody@example.org")
    assert known.status_code == unknown.status_code
    assert known.get_data() == unknown.get_data()
    assert known.headers.get("Location") == unknown.headers.get("Location")
    # Nothing is written during the request; each asks for one job, with ids only.
    assert db.session.scalar(select(func.count(SecretToken.id))) == 0
    jobs = queue.get_jobs()
    assert [job.func_name for job in jobs] == ["mutualaid.jobs.send_password_reset"] * 2
    assert [job.args[0] for job in jobs] == [anna_account.id, None]
    assert "anna@example.org" not in repr([job.args for job in jobs])
    with local_smtp_server(app_ctx) as inbox:
        run_account_mail_jobs()
        inbox.wait_for(1)
    # The job for the unknown address did nothing; the known one made a link and mailed it.
    assert db.session.scalar(select(func.count(SecretToken.id))) == 1
    assert [message["To"] for message in inbox.messages] == ["anna@example.org"]


def test_registration_with_a_taken_email_queues_a_notice_not_an_account(app_ctx, anna_account):
    client = app_ctx.test_client()
    queue = get_queue("notifications")
    queue.empty()
    form = {"first_name": "Bea", "email": "ANNA@example.org", "password": PASSWORD}
    response = client.post("/auth/register", data={**form, "consent": "yes"})
    assert response.status_code == 302
    [job] = queue.get_jobs()
    assert job.func_name == "mutualaid.jobs.send_registration_notice"
    assert job.args == [anna_account.id, "http://localhost/auth/password/reset/{token}"]
    queue.empty()


# --- Rate limits in Redis -----------------------------------------------------------------


@pytest.fixture
def limited(app_ctx, instance_path):
    """A client of an app with rate limits on (counted in the test Redis)."""
    app = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        RATELIMIT_ENABLED=True,
    )
    limiter.reset()
    try:
        yield app.test_client()
    finally:
        limiter.reset()
        limiter.enabled = False  # the limiter object is shared by every app in this process
        get_queue("notifications").empty()


def limit_keys() -> list[bytes]:
    return sorted(get_redis().scan_iter("LIMITS:LIMITER/mutualaid/*"))


def test_the_limiter_counts_in_the_apps_redis(app_ctx, instance_path):
    app = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"], app_ctx.config["REDIS_URL"], instance_path
    )
    uri = app.config["RATELIMIT_STORAGE_URI"]
    redis_url = app_ctx.config["REDIS_URL"]
    assert uri == redis_url.replace("unix://", "redis+unix://", 1)


BAD_REGISTRATION = {"first_name": "Dirk", "email": "dirk@example.org", "password": "kort"}


@pytest.mark.parametrize(
    ("path", "body", "as_json", "limit"),
    [
        ("/auth/login", {"email": "x@example.org", "password": "wrong-password"}, False, 10),
        ("/auth/register", BAD_REGISTRATION, False, 10),
        ("/auth/password/forgot", {"email": "x@example.org"}, False, 5),
        ("/auth/register/resend", {"email": "x@example.org"}, False, 5),
        ("/activeren", {"code": "AAAAA-BBBBB", "email": "x@example.org"}, False, 10),
        ("/api/v1/auth/tokens", {"email": "x@example.org", "password": "wrong-pass"}, True, 10),
        ("/api/v1/auth/register", {**BAD_REGISTRATION, "consent": True}, True, 10),
        ("/api/v1/auth/password-reset", {"email": "x@example.org"}, True, 5),
    ],
)
def test_past_the_limit_the_answer_is_429_and_the_count_is_in_redis(
    limited, path, body, as_json, limit
):
    def post():
        return limited.post(path, json=body) if as_json else limited.post(path, data=body)

    codes = [post().status_code for _ in range(limit)]
    assert 429 not in codes
    assert limit_keys(), "no rate limit counter in Redis"
    refused = post()
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    if as_json:
        assert refused.json["error"] == "too_many_requests"
        assert set(refused.json) <= {"error", "message", "field", "rule", "errors"}


def test_a_second_app_on_the_same_redis_shares_the_count(limited, app_ctx, instance_path):
    """Several web processes share one count: a fresh app (a second process) sees it."""
    for _ in range(5):
        limited.post("/api/v1/auth/password-reset", json={"email": "x@example.org"})
    other = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        RATELIMIT_ENABLED=True,
    ).test_client()
    answer = other.post("/api/v1/auth/password-reset", json={"email": "x@example.org"})
    assert answer.status_code == 429


@pytest.mark.parametrize(("hops", "other_client_status"), [(1, 202), (0, 429)])
def test_behind_a_proxy_each_client_has_its_own_count(
    limited, app_ctx, instance_path, hops, other_client_status
):
    """With PROXY_FIX_HOPS the forwarded client address is counted; without, the header is
    ignored (anyone could send one) and the connecting address counts."""
    app = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        RATELIMIT_ENABLED=True,
        PROXY_FIX_HOPS=hops,
    )
    client = app.test_client()

    def ask(address):
        return client.post(
            "/api/v1/auth/password-reset",
            json={"email": "x@example.org"},
            headers={"X-Forwarded-For": address},
        ).status_code

    assert [ask("192.0.2.1") for _ in range(6)] == [202] * 5 + [429]
    assert ask("192.0.2.2") == other_client_status


# --- A new session at sign-in, and sign out everywhere -------------------------------------


def test_sign_in_starts_a_fresh_session_and_keeps_the_language(app_ctx, anna_account):
    client = app_ctx.test_client()
    client.get("/?lang=en")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = client.get_cookie("session").value
    assert sign_in(client).status_code == 302
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"] == str(anna_account.id)


def test_a_session_cookie_from_before_sign_out_everywhere_stops_working(app_ctx, anna_account):
    laptop, phone = app_ctx.test_client(), app_ctx.test_client()
    sign_in(laptop)
    sign_in(phone)
    stolen = phone.get_cookie("session").value
    copied = app_ctx.test_client()
    copied.set_cookie("session", stolen)
    as_a_new_request()
    assert copied.get("/mijn/gegevens").status_code == 200  # a copied cookie works until then
    token = api_token(laptop)
    assert phone.get("/mijn/gegevens").status_code == 200
    page = laptop.get("/mijn/gegevens").get_data(as_text=True)
    assert 'action="/auth/sessions/revoke"' in page

    done = laptop.post("/auth/sessions/revoke")
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/login")
    as_a_new_request()
    assert laptop.get("/mijn/gegevens").status_code == 302
    assert phone.get("/mijn/gegevens").status_code == 302
    replay = app_ctx.test_client()
    replay.set_cookie("session", stolen)
    as_a_new_request()
    assert replay.get("/mijn/gegevens").status_code == 302  # to sign in
    assert laptop.get("/api/v1/me", headers=bearer(token)).status_code == 401
    # Signing in again works.
    assert sign_in(laptop).status_code == 302
    assert laptop.get("/mijn/gegevens").status_code == 200


def test_sign_out_everywhere_through_the_api(app_ctx, anna_account):
    client, browser = app_ctx.test_client(), app_ctx.test_client()
    sign_in(browser)
    first, second = api_token(client), api_token(client)
    answer = client.post("/api/v1/me/sessions/revoke", headers=bearer(first))
    assert answer.status_code == 200 and answer.json == {"revoked_tokens": 2}
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 401
    as_a_new_request()
    assert browser.get("/mijn/gegevens").status_code == 302


def test_sign_out_everywhere_needs_a_signed_in_user(app_ctx):
    client = app_ctx.test_client()
    assert client.post("/api/v1/me/sessions/revoke").status_code == 401
    assert client.post("/auth/sessions/revoke").status_code in (302, 401)
