"""The staff second factor (TOTP + recovery codes), through the pages and the API.

A right password alone gives a staff member no session; the code from their app does, once.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import AuditEvent, SecretToken, User
from mutualaid.services.accounts import create_user
from mutualaid.services.second_factor import current_code, reset_second_factor
from tests import builders
from tests.staff_login import TEST_TOTP_SECRET, enrol, fresh_code, sign_in

PASSWORD = "long-enough-password"
STAFF_PAGES = ("/wijkwerk/", "/gemeente/monitoring", "/admin/queues", "/auth/second-factor")


@pytest.fixture(autouse=True)
def each_request_loads_its_own_user(monkeypatch):
    """The test's app context is shared by the requests of every client, so Flask-Login's
    cached user (g._login_user) would carry over from one client's request to another's."""
    original = FlaskClient.open

    def open_fresh(self, *args, **kwargs):
        g.pop("_login_user", None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FlaskClient, "open", open_fresh)


def account(role: str, email: str | None = None, *, enrolled: bool = True) -> User:
    email = email or f"{role}@example.org"
    extra = {"municipality_code": "GM0164"} if role == "municipality" else {}
    if role == "resident":
        extra = {"resident_id": builders.resident(email=email).id}
    user = create_user(email, PASSWORD, role, role.title(), **extra)
    if enrolled and role != "resident":
        enrol(user)
    db.session.commit()
    return user


def password_step(client, email: str, next_url: str | None = None):
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": PASSWORD})


def code_at(offset_steps: int = 0) -> str:
    return pyotp.TOTP(TEST_TOTP_SECRET).at(time.time() + 30 * offset_steps)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize("role", ["worker", "municipality", "admin"])
def test_a_right_password_alone_gives_staff_no_session(client, role):
    user = account(role)
    response = password_step(client, user.email)
    assert response.status_code == 302 and response.location.endswith("/auth/code")
    for url in STAFF_PAGES:
        page = client.get(url)
        assert page.status_code == 302 and "/auth/login" in page.location, url
    page = client.get("/auth/code")
    assert page.status_code == 200
    assert "code van 6 cijfers in uit uw authenticator-app" in page.get_data(as_text=True)


def test_the_right_code_signs_in_and_goes_on_to_next(client):
    worker = account("worker")
    password_step(client, worker.email, next_url="/admin/queues")
    response = client.post("/auth/code", data={"code": code_at()})
    assert response.status_code == 302 and response.location.endswith("/admin/queues")
    assert client.get("/auth/second-factor").status_code == 200
    assert client.get("/admin/queues").status_code == 403  # a worker, not an admin


def test_a_wrong_code_is_refused_naming_the_field_and_gives_no_session(client):
    worker = account("worker")
    password_step(client, worker.email)
    response = client.post("/auth/code", data={"code": "000000"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#code"' in page and 'aria-invalid="true"' in page
    assert "Deze code klopt niet" in page
    assert client.get("/auth/second-factor").status_code == 302
    assert client.post("/auth/code", data={"code": "abc"}).status_code == 422


def test_a_code_of_a_step_before_or_after_counts_but_not_two_steps_away(client):
    worker = account("worker")
    password_step(client, worker.email)
    assert client.post("/auth/code", data={"code": code_at(-3)}).status_code == 422
    assert client.post("/auth/code", data={"code": code_at(+3)}).status_code == 422
    assert client.post("/auth/code", data={"code": code_at(-1)}).status_code == 302


def test_a_used_code_cannot_be_used_again(client, app):
    worker = account("worker")
    code = code_at()
    password_step(client, worker.email)
    assert client.post("/auth/code", data={"code": code}).status_code == 302
    other = app.test_client()  # someone who saw the code over a shoulder
    password_step(other, worker.email)
    assert other.post("/auth/code", data={"code": code}).status_code == 422
    # An older code (the step before) is refused too once a newer one was used.
    assert other.post("/auth/code", data={"code": code_at(-1)}).status_code == 422
    assert other.get("/auth/second-factor").status_code == 302


def test_five_wrong_codes_end_the_pending_sign_in(client):
    worker = account("worker")
    password_step(client, worker.email)
    for _ in range(4):
        assert client.post("/auth/code", data={"code": "123456"}).status_code == 422
    response = client.post("/auth/code", data={"code": "123456"})
    assert response.status_code == 302 and response.location.endswith("/auth/login")
    # The right code now does not help: the password is needed again.
    response = client.post("/auth/code", data={"code": fresh_code(worker.email)})
    assert response.status_code == 302 and response.location.endswith("/auth/login")
    assert client.get("/auth/second-factor").status_code == 302
    assert sign_in(client, worker.email, PASSWORD).status_code == 302
    assert client.get("/auth/second-factor").status_code == 200


def test_an_old_copy_of_the_cookie_does_not_bring_attempts_back(client, app):
    worker = account("worker")
    password_step(client, worker.email)
    cookie = client.get_cookie("session").value
    for _ in range(5):
        client.post("/auth/code", data={"code": "123456"})
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.post("/auth/code", data={"code": fresh_code(worker.email)})
    assert response.status_code == 302 and response.location.endswith("/auth/login")


def test_the_pending_sign_in_expires(client, app):
    worker = account("worker")
    password_step(client, worker.email)
    with client.session_transaction() as session:
        marker = dict(session["second_factor_pending"])
        marker["started"] -= 301  # SECOND_FACTOR_PENDING_SECONDS is 300
        session["second_factor_pending"] = marker
    response = client.post("/auth/code", data={"code": fresh_code(worker.email)})
    assert response.status_code == 302 and response.location.endswith("/auth/login")
    assert client.get("/auth/second-factor").status_code == 302


def test_no_pending_sign_in_no_code_page(client):
    for url in ("/auth/code", "/auth/code/recovery", "/auth/code/setup"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.endswith("/auth/login")


def test_a_staff_session_needs_the_second_factor_mark(client):
    """A session with the user id but without the second factor (another path that signs in,
    now or later) is not a staff session."""
    worker = account("worker")
    with client.session_transaction() as session:
        session["_user_id"] = str(worker.id)
        session["session_version"] = worker.session_version
    assert client.get("/auth/second-factor").status_code == 302
    with client.session_transaction() as session:
        session["second_factor"] = 1
    assert client.get("/auth/second-factor").status_code == 200


def test_enrolment_shows_a_qr_code_and_the_key_then_recovery_codes_once(client):
    worker = account("worker", enrolled=False)
    response = password_step(client, worker.email, next_url="/wijkwerk/")
    assert response.location.endswith("/auth/code/setup")
    assert client.get("/wijkwerk/").status_code == 302  # nothing before the set-up
    page = client.get("/auth/code/setup").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    key = re.search(r'<p class="secret-key" id="secret-key"><code>([A-Z2-7 ]+)</code>', page)
    secret = key.group(1).replace(" ", "")
    assert len(secret) == 32 and all(len(g) == 4 for g in key.group(1).split())
    # A reload shows the same key (the app may already hold it).
    assert secret in client.get("/auth/code/setup").get_data(as_text=True).replace(" ", "")
    db.session.expire_all()
    assert db.session.get(User, worker.id).totp_secret_encrypted not in (None, secret)
    wrong = client.post("/auth/code/setup", data={"code": "000000"})
    assert wrong.status_code == 422 and 'href="#code"' in wrong.get_data(as_text=True)
    done = client.post("/auth/code/setup", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>", done.get_data(True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/wijkwerk/"' in done.get_data(as_text=True)
    assert client.get("/wijkwerk/").status_code == 200
    # Only hashes are stored.
    stored = db.session.scalars(
        select(SecretToken.token_hash).where(SecretToken.purpose == "recovery")
    )
    assert not set(stored) & {c.replace("-", "") for c in codes}
    assert len(events("second_factor:enabled")) == 1
    # Set up once: the set-up page is not offered again.
    client.post("/auth/logout")
    assert password_step(client, worker.email).location.endswith("/auth/code")


def enrol_through_pages(client, user) -> list[str]:
    password_step(client, user.email)
    client.get("/auth/code/setup")
    response = client.post("/auth/code/setup", data={"code": fresh_code(user.email)})
    return re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", response.get_data(True))


def test_a_recovery_code_works_once(client, app):
    worker = account("worker", enrolled=False)
    codes = enrol_through_pages(client, worker)
    client.post("/auth/logout")
    password_step(client, worker.email)
    page = client.get("/auth/code").get_data(as_text=True)
    assert 'href="/auth/code/recovery"' in page
    typed = codes[0].lower().replace("-", " ")  # case, spaces and dashes do not matter
    response = client.post("/auth/code/recovery", data={"code": typed})
    assert response.status_code == 302
    assert client.get("/auth/second-factor").status_code == 200
    assert "nog 9 ongebruikte herstelcodes" in client.get("/auth/second-factor").get_data(True)
    [used] = events("second_factor:recovery_code_used")
    assert used.actor_user_id == worker.id and used.detail == {"left": 9}
    other = app.test_client()
    password_step(other, worker.email)
    assert other.post("/auth/code/recovery", data={"code": codes[0]}).status_code == 422
    assert other.post("/auth/code/recovery", data={"code": codes[1]}).status_code == 302


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(client, app):
    worker = account("worker", enrolled=False)
    old = enrol_through_pages(client, worker)
    refused = client.post("/auth/second-factor", data={"code": "000000"})
    assert refused.status_code == 422 and 'href="#code"' in refused.get_data(True)
    response = client.post("/auth/second-factor", data={"code": fresh_code(worker.email)})
    new = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", response.get_data(True))
    assert len(new) == 10 and not set(new) & set(old)
    assert len(events("second_factor:recovery_codes_regenerated")) == 1
    other = app.test_client()
    password_step(other, worker.email)
    assert other.post("/auth/code/recovery", data={"code": old[2]}).status_code == 422
    assert other.post("/auth/code/recovery", data={"code": new[0]}).status_code == 302


def test_an_admin_resets_a_second_factor_audited_and_the_person_enrols_again(client, app):
    admin = account("admin")
    worker = account("worker")
    sign_in(client, admin.email, PASSWORD)
    page = client.get("/admin/second-factor").get_data(as_text=True)
    assert worker.email in page
    worker_browser = app.test_client()
    sign_in(worker_browser, worker.email, PASSWORD)
    assert worker_browser.get("/auth/second-factor").status_code == 200
    response = client.post(f"/admin/second-factor/{worker.id}/reset", data={"reason": "lost phone"})
    assert response.status_code == 302
    [event] = events("second_factor:reset")
    assert (event.actor_user_id, event.object_id, event.reason) == (
        admin.id,
        str(worker.id),
        "lost phone",
    )
    # Their sessions ended; at the next sign-in they set it up again.
    assert worker_browser.get("/auth/second-factor").status_code == 302
    assert password_step(worker_browser, worker.email).location.endswith("/auth/code/setup")
    # Residents and unknown ids: 404; workers may not reset anything.
    resident = account("resident")
    assert client.post(f"/admin/second-factor/{resident.id}/reset").status_code == 404
    assert client.post("/admin/second-factor/999999/reset").status_code == 404
    other_worker = account("worker", "other@example.org")
    sign_in(worker_browser, other_worker.email, PASSWORD)
    assert worker_browser.post(f"/admin/second-factor/{admin.id}/reset").status_code == 403


def test_residents_sign_in_with_a_password_only(client):
    resident = account("resident")
    response = password_step(client, resident.email)
    assert response.status_code == 302 and not response.location.endswith("/auth/code")
    assert client.get("/mijn/gegevens").status_code in (200, 302)
    assert client.get("/auth/code").location.endswith("/auth/login")
    assert client.get("/auth/second-factor").status_code == 403


def test_a_password_reset_does_not_sign_staff_in(client):
    from mutualaid.services.tokens import issue_token

    worker = account("worker")
    _, secret = issue_token("password_reset", user_id=worker.id)
    db.session.commit()
    response = client.post(
        f"/auth/password/reset/{secret}",
        data={"password": "another-long-password", "password_confirm": "another-long-password"},
    )
    assert response.status_code == 302 and response.location.endswith("/auth/login")
    assert client.get("/auth/second-factor").status_code == 302


def test_the_api_needs_otp_for_staff_with_the_same_answer_as_a_wrong_password(client):
    worker = account("worker")
    resident = account("resident")

    def token(email, password=PASSWORD, **extra):
        body = {"email": email, "password": password, **extra}
        return client.post("/api/v1/auth/tokens", json=body)

    wrong_password = token(worker.email, "not-the-password")
    assert wrong_password.status_code == 401
    for answer in (
        token(worker.email),
        token(worker.email, otp="000000"),
        token(worker.email, otp="AAAAA-BBBBB"),
        token("nobody@example.org"),
    ):
        assert answer.status_code == 401
        assert answer.get_json() == wrong_password.get_json()
    good = token(worker.email, otp=fresh_code(worker.email))
    assert good.status_code == 201 and good.get_json()["token"].startswith("ma_")
    # The same code a second time: refused (no replay).
    db.session.expire_all()
    replay = token(worker.email, otp=current_code(db.session.get(User, worker.id)))
    assert replay.status_code == 401
    # Residents: no otp needed (and one sent is ignored).
    assert token(resident.email).status_code == 201
    assert token(resident.email, otp="123456").status_code == 201
    # Too long: a clear 422 naming the field.
    too_long = token(worker.email, otp="1" * 100)
    assert too_long.status_code == 422 and "otp" in too_long.get_data(as_text=True)


def test_the_openapi_document_describes_otp(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = spec["components"]["schemas"]["TokenRequest"]["properties"]["otp"]
    assert "authenticator app" in schema["description"]


def test_reset_is_refused_to_non_admins_in_the_service(app_ctx):
    worker = account("worker")
    other = account("worker", "other@example.org")
    from mutualaid.errors import NotFound

    with pytest.raises(NotFound):
        reset_second_factor(worker.id, other.id)


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("nl", ("Vul uw code in", "authenticator-app", "herstelcode")),
        ("en", ("Enter your code", "authenticator app", "recovery code")),
    ],
)
def test_the_code_pages_speak_dutch_and_english(client, lang, texts):
    worker = account("worker", enrolled=False)
    client.get(f"/?lang={lang}")
    password_step(client, worker.email)
    setup = client.get("/auth/code/setup").get_data(as_text=True)
    client.post("/auth/code/setup", data={"code": fresh_code(worker.email)})
    client.post("/auth/logout")
    client.get(f"/?lang={lang}")
    password_step(client, worker.email)
    page = client.get("/auth/code").get_data(as_text=True)
    for text in texts:
        assert text in page, text
    assert ("QR-code" if lang == "nl" else "QR code") in setup


def test_demo_staff_sign_in_with_the_code_from_flask_demo_code(client, app_ctx, monkeypatch):
    from click.testing import CliRunner

    from mutualaid.services.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo

    seed_demo(seed=5, residents=40)
    runner = CliRunner()
    answer = runner.invoke(app_ctx.cli, ["demo-code", "beheer@example.org"])
    assert answer.exit_code == 0 and re.fullmatch(r"[0-9]{6}\n", answer.output), answer.output
    assert answer.output.strip() == pyotp.TOTP(DEMO_TOTP_SECRET).now()
    login = client.post(
        "/auth/login", data={"email": "beheer@example.org", "password": DEMO_PASSWORD}
    )
    assert login.location.endswith("/auth/code")
    assert client.post("/auth/code", data={"code": answer.output.strip()}).status_code == 302
    assert client.get("/admin/queues").status_code == 200
    # A demo database from before the second factor: the demo key is set on first use.
    worker = db.session.scalar(select(User).where(User.email == "wijkcoach.oost@example.org"))
    worker.totp_secret_encrypted, worker.totp_enabled_at = None, None
    db.session.commit()
    again = runner.invoke(app_ctx.cli, ["demo-code", "wijkcoach.oost@example.org"])
    assert again.exit_code == 0 and again.output.strip() == pyotp.TOTP(DEMO_TOTP_SECRET).now()
    # Residents and unknown addresses have no code; production refuses the command.
    assert runner.invoke(app_ctx.cli, ["demo-code", "bewoner@example.org"]).exit_code != 0
    assert runner.invoke(app_ctx.cli, ["demo-code", "nobody@example.org"]).exit_code != 0
    monkeypatch.setitem(app_ctx.config, "ENV_NAME", "production")
    refused = runner.invoke(app_ctx.cli, ["demo-code", "beheer@example.org"])
    assert refused.exit_code != 0 and "never in production" in refused.output


def test_the_secret_is_stored_encrypted_with_the_configured_key(app_ctx, monkeypatch):
    from cryptography.fernet import Fernet

    from mutualaid.services.second_factor import start_enrolment

    key = Fernet.generate_key().decode()
    monkeypatch.setitem(app_ctx.config, "TOTP_ENCRYPTION_KEY", key)
    worker = account("worker", enrolled=False)
    enrolment = start_enrolment(worker.id)
    stored = db.session.get(User, worker.id).totp_secret_encrypted
    assert enrolment.secret not in stored
    assert Fernet(key.encode()).decrypt(stored.encode()).decode() == enrolment.secret
    assert enrolment.uri.startswith("otpauth://totp/Burenhulp:")


def test_the_code_step_is_rate_limited(app_ctx, instance_path):
    from mutualaid.extensions import limiter
    from tests.conftest import make_test_app

    app = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        RATELIMIT_ENABLED=True,
    )
    limiter.reset()
    try:
        client = app.test_client()
        worker = account("worker")
        password_step(client, worker.email)
        answers = [
            client.post("/auth/code", data={"code": "123456"}).status_code for _ in range(10)
        ]
        assert 429 not in answers
        refused = client.post("/auth/code", data={"code": fresh_code(worker.email)})
        assert refused.status_code == 429 and "Retry-After" in refused.headers
    finally:
        limiter.reset()
        limiter.enabled = False  # the limiter object is shared by every app in this process
