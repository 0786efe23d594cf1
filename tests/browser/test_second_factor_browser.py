"""A community worker sets up the second step in Chromium: QR code (shown under our CSP),
the key for typing in, the first code, the recovery codes; then signs in again with a code and
with a recovery code. axe: no serious or critical violations on any of these pages."""

from __future__ import annotations

import re

import pyotp
import pytest

from mutualaid.extensions import db
from tests.dashboard_builders import PASSWORD, staff

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def newcomer(hengelo):
    user = staff("nieuw@example.org")
    user.totp_secret_encrypted = None  # a new colleague: no second step yet
    user.totp_enabled_at = None
    db.session.commit()
    return user


def password_step(page, email: str) -> None:
    page.goto("/auth/login?next=/wijkwerk/")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()


def submit(page) -> None:
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()


def test_a_worker_sets_up_the_second_step_and_signs_in_with_it(page, newcomer):
    password_step(page, newcomer.email)
    assert page.url.endswith("/auth/code/setup")
    assert page.get_by_role("heading", level=1).inner_text() == "Stel de tweede stap in"
    qr = page.locator("img.qr-code")
    assert qr.is_visible()
    assert page.evaluate("() => document.querySelector('img.qr-code').naturalWidth") > 0
    assert "QR-code" in qr.get_attribute("alt")
    screenshot(page, "second-factor-setup")
    assert axe(page) == []
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)

    page.get_by_label("Code", exact=True).fill("000000")
    submit(page)
    assert "Er is een probleem" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Code", exact=True).get_attribute("aria-invalid") == "true"
    assert axe(page) == []

    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    submit(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Uw herstelcodes"
    codes = [c.inner_text() for c in page.locator("ol.recovery-codes code").all()]
    assert len(codes) == 10
    screenshot(page, "second-factor-recovery-codes")
    assert axe(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="Ik heb mijn codes bewaard: ga verder").click()
    assert page.url.endswith("/wijkwerk/")

    # Next time: the code page, and a recovery code instead.
    page.context.clear_cookies()
    password_step(page, newcomer.email)
    assert page.url.endswith("/auth/code")
    assert page.get_by_role("heading", level=1).inner_text() == "Vul uw code in"
    assert axe(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="gebruik een herstelcode").click()
    assert axe(page) == []
    page.get_by_label("Herstelcode", exact=True).fill(codes[0])
    submit(page)
    assert page.url.endswith("/wijkwerk/")
    assert "nog 9 codes over" in page.locator(".flash").inner_text()

    page.goto("/auth/second-factor")
    assert page.get_by_role("heading", level=1).inner_text() == "Tweede stap"
    assert axe(page) == []
    # The wrong first code was answered 422 on purpose; nothing else went wrong.
    assert [p for p in page.problems if "status of 422" not in p] == []
