"""Signing in as staff in tests: password, then the code from the authenticator app.

Staff accounts (worker, municipality, admin) need a second factor. The builders enrol them
with TEST_TOTP_SECRET (`enrol`); an account that is not enrolled is set up through the set-up
page, as a newcomer would. The code is worked out from the stored secret, like the app on a
phone would.

The product accepts each time-step's code once (no replay). Tests sign the same account in
many times within 30 seconds, so `fresh_code` forgets the last used step first; the refusal
of a replayed code itself is tested in tests/e2e/test_second_factor.py.
"""

from __future__ import annotations

from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import User
from mutualaid.services.second_factor import current_code, enrol_with_secret, is_enrolled

# A fixed base32 secret for test accounts (never used outside tests).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CODE_PAGE = "/auth/code"
SETUP_PAGE = "/auth/code/setup"


def enrol(user: User) -> User:
    """Give a staff account its second factor (TEST_TOTP_SECRET); the caller commits."""
    enrol_with_secret(user, TEST_TOTP_SECRET)
    return user


def fresh_code(email: str) -> str:
    """The account's current code, usable now even if this time-step was used before."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    assert user is not None and user.totp_secret_encrypted, f"{email}: no second factor secret"
    user.totp_last_step = None
    db.session.commit()
    return current_code(user)


def complete_second_factor(client, response, email: str):
    """After the password step: enter the code (or set the factor up first). Returns the
    final response (a redirect onwards, or the recovery codes page after a set-up)."""
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if location.endswith(SETUP_PAGE):
        client.get(SETUP_PAGE)  # the set-up page makes the secret
        return client.post(SETUP_PAGE, data={"code": fresh_code(email)})
    if location.endswith(CODE_PAGE):
        return client.post(CODE_PAGE, data={"code": fresh_code(email)})
    return response


def sign_in(client, email: str, password: str, next_url: str | None = None):
    """Sign in through the pages (password, then code for staff); the last response."""
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    response = client.post(url, data={"email": email, "password": password})
    return complete_second_factor(client, response, email)


def browser_sign_in(page, email: str, password: str) -> None:
    """The same in Chromium (Dutch pages): password, then the code, as a person would."""
    page.goto("/auth/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    if page.url.endswith(SETUP_PAGE):
        page.get_by_label("Code", exact=True).fill(fresh_code(email))
        page.locator("main button[type=submit]").click()
        page.get_by_role("link", name="Ik heb mijn codes bewaard: ga verder").click()
    elif page.url.endswith(CODE_PAGE):
        page.get_by_label("Code", exact=True).fill(fresh_code(email))
        page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def is_enrolled_email(email: str) -> bool:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    return user is not None and is_enrolled(user)
