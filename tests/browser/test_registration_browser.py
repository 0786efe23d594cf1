"""Registering in Chromium, without JavaScript doing anything for it: the "check your email"
page, asking for a new link, a link that does not work, and confirming with the link from the
mail (the real local SMTP server). axe: no serious or critical violations on each page."""

from __future__ import annotations

import pytest
from flask import current_app
from playwright.sync_api import expect

from tests.confirmation import link_path
from tests.queued_jobs import run_account_mail_jobs
from tests.smtp_server import local_smtp_server

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord"


def heading(page):
    return page.get_by_role("heading", level=1)


def test_register_check_email_resend_and_confirm(page, hengelo):
    with local_smtp_server(current_app._get_current_object()) as inbox:
        page.goto("/auth/register")
        page.locator("#first_name").fill("Cor")
        page.locator("#email").fill("cor@example.org")
        page.locator("#password").fill(PASSWORD)
        page.locator("#consent").check()
        page.get_by_role("button", name="Account maken").click()
        expect(heading(page)).to_have_text("Kijk in uw e-mail")
        expect(page.locator("main")).to_contain_text("De link werkt 24 uur")
        expect(page.locator("main")).not_to_contain_text("cor@example.org")
        assert axe(page) == []
        screenshot(page, "register-check-email")

        # Asking for a new link answers the same for any address.
        page.get_by_label("E-mailadres").fill("cor@example.org")
        page.get_by_role("button", name="Stuur een nieuwe link").click()
        expect(page.get_by_role("status")).to_contain_text("hebben we een nieuwe link gestuurd")
        assert axe(page) == []
        run_account_mail_jobs()
        first, second = inbox.wait_for(2)

    # The first link still works until one is used; a made-up one does not.
    page.goto("/auth/confirm/dit-is-geen-echte-link-1234567890")
    expect(heading(page)).to_have_text("Deze link werkt niet meer")
    assert axe(page) == []

    page.goto(link_path(second))
    expect(heading(page)).to_have_text("Bevestig uw e-mailadres")
    assert axe(page) == []
    page.get_by_role("button", name="Ja, dit is mijn e-mailadres").click()
    expect(page.get_by_role("status")).to_contain_text("Uw e-mailadres is bevestigd")
    expect(heading(page)).to_have_text("Uw adres")

    # Every link of the account is spent now.
    page.goto(link_path(first))
    expect(heading(page)).to_have_text("Deze link werkt niet meer")
