"""Worker actions in a real browser (Dutch, CSRF on): register an offline resident, ask help for
them, print a hand-over code, the resident activates it; match review and what-if. axe-core
finds no serious or critical violations on any of these pages."""

from __future__ import annotations

import re

import pytest

from mutualaid.models.base import utcnow
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_request
from mutualaid.services.vetting import record_vog, vouch_for
from tests.casework import PASSWORD, resident_in, staff
from tests.staff_login import browser_sign_in

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser


def sign_in(page, user) -> None:
    browser_sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/")


@pytest.fixture
def worker(hengelo):
    ensure_categories()
    return staff()


def test_intake_hand_over_and_activation(page, worker, browser, live_server):
    sign_in(page, worker)
    page.goto("/wijkwerk/")
    page.get_by_role("link", name="Een bewoner inschrijven die niet online is").click()
    assert axe(page) == []
    page.get_by_role("button", name="Inschrijven").click()  # nothing filled in
    assert page.locator(".error-summary").is_visible()
    assert axe(page) == []
    page.problems.clear()  # the browser logs the 422 of the refused form; that was the point
    page.get_by_label("Voornaam").fill("Gerda")
    page.get_by_label("Telefoonnummer").fill("074 123 45 67")
    page.get_by_label("Buurt", exact=True).select_option(label="Binnenstad-Centrum")
    page.get_by_label("Bij een huisbezoek").check()
    page.get_by_role("button", name="Inschrijven").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Gerda")
    screenshot(page, "worker-resident-page")
    assert axe(page) == []

    page.get_by_role("link", name="Hulp vragen voor Gerda").click()
    assert axe(page) == []
    page.get_by_label("Boodschappen").check()
    page.get_by_label("Wat is er nodig?").fill("Boodschappen op vrijdag")
    page.get_by_label("Telefonisch").check()
    page.get_by_role("button", name="Hulpvraag opslaan").click()
    assert "opgeslagen" in page.locator(".flash").inner_text()

    page.get_by_role("button", name="Maak een code").click()
    code = page.locator(".sheet-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code)
    screenshot(page, "worker-handover-code")
    assert axe(page) == []
    assert list(page.problems) == []

    context = browser.new_context(base_url=live_server, locale="nl-NL")
    gerda = context.new_page()
    gerda.goto("/activeren")
    assert axe(gerda) == []
    gerda.get_by_label("Uw code").fill(code.lower())
    gerda.get_by_label("Uw e-mailadres").fill("gerda@example.org")
    gerda.get_by_label("Kies een wachtwoord").fill(PASSWORD)
    gerda.get_by_label("Typ het wachtwoord nog een keer").fill(PASSWORD)
    gerda.get_by_role("button", name="Mijn account activeren").click()
    gerda.wait_for_url("**/activeren/klaar")
    assert "Boodschappen op vrijdag" in gerda.locator("main").inner_text()
    assert axe(gerda) == []
    context.close()


def test_match_review_and_what_if(page, worker):
    requester = resident_in(first_name="Annie")
    near = resident_in(north_m=150, first_name="Bram")
    far = resident_in(north_m=1400, first_name="Cor")
    post_offer(near.id, categories=["boodschappen"])
    post_offer(far.id, categories=["boodschappen"])
    vouch_for(worker.id, far.id)
    record_vog(worker.id, far.id, issued_on=utcnow().date())
    request = post_request(requester.id, category="boodschappen", description="Boodschappen")
    match_request(request.id, force=True)

    sign_in(page, worker)
    page.goto(f"/wijkwerk/hulpvragen/{request.id}/beoordelen")
    assert page.get_by_role("heading", level=1).inner_text() == "Bekijken: hulp voor Annie"
    screenshot(page, "worker-match-review")
    assert axe(page) == []
    confirm = page.locator("form", has=page.get_by_role("button", name="Deze helper vragen")).first
    confirm.get_by_role("button", name="Deze helper vragen").click()  # no reason
    assert page.locator(".error-summary").is_visible()
    assert axe(page) == []
    page.problems.clear()
    confirm = page.locator("form", has=page.locator("#helper_agreed"))
    confirm.get_by_label("Reden").fill("Annie kent Bram")
    confirm.get_by_role("button", name="Deze helper vragen").click()
    assert "gevraagd" in page.locator(".flash").inner_text()

    page.goto("/wijkwerk/wat-als")
    assert axe(page) == []
    page.get_by_label("Afstand", exact=True).fill("0")
    page.locator("#off_proximity").check()
    page.get_by_role("button", name="Laat zien wat verandert").click()
    assert page.locator("#result-heading").is_visible()
    screenshot(page, "worker-what-if")
    assert axe(page) == []
    assert list(page.problems) == []
