"""Signing in as staff in tests: password, then the code from the authenticator app.

Staff accounts (worker, municipality, admin) need a second factor. The builders enrol them
with TEST_TOTP_SECRET (`enrol`); an account made elsewhere without one gets it when the sign-in
lands on the set-up page (as if set up before; the set-up itself is tested in
tests/e2e/test_second_factor.py and the enrolment browser test). The code is worked out from
the stored secret, like the app on a phone would.

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


def enrol_email(email: str) -> None:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    enrol(user)
    db.session.commit()


def complete_second_factor(client, response, email: str):
    """After the password step: enter the code (enrolling the account first if the sign-in
    asks for a set-up). Returns the final response: a redirect onwards."""
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if location.endswith(SETUP_PAGE):
        enrol_email(email)
        location = CODE_PAGE
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
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    if page.url.endswith(SETUP_PAGE):
        enrol_email(email)
        page.goto(CODE_PAGE)
    if page.url.endswith(CODE_PAGE):
        page.get_by_label("Code", exact=True).fill(fresh_code(email))
        with page.expect_navigation():
            page.locator("main button[type=submit]").click()


def is_enrolled_email(email: str) -> bool:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    return user is not None and is_enrolled(user)
