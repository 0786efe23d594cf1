"""The resident flow in a real browser, in Dutch: a new resident registers and asks for help,
a neighbour offers to help, the requester accepts, they exchange messages, the help is marked
done and the requester says thanks. Contact details appear only after both said yes."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from playwright.sync_api import expect

from mutualaid.extensions import db
from mutualaid.services.accounts import create_user
from mutualaid.services.demo import ensure_categories
from tests import builders
from tests.confirmation import link_path
from tests.queued_jobs import run_account_mail_jobs
from tests.smtp_server import local_smtp_server

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord"


def seeded_resident(first_name: str, email: str) -> None:
    """A resident with an account and a home in Binnenstad-Centrum (committed for the server)."""
    person = builders.resident(first_name=first_name, email=email, phone="06 1234 5678")
    create_user(email, PASSWORD, "resident", first_name, resident_id=person.id)
    db.session.commit()


def sign_in(page, email: str) -> None:
    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()


def register(page, first_name: str, email: str) -> None:
    """Register through the registration page, confirm the address with the link from the
    mail (the real local SMTP server), and place the home by choosing a neighbourhood."""
    with local_smtp_server(current_app._get_current_object()) as inbox:
        page.goto("/auth/register")
        page.locator("#first_name").fill(first_name)
        page.locator("#email").fill(email)
        page.locator("#password").fill(PASSWORD)
        page.locator("#consent").check()
        page.get_by_role("button", name="Account maken").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw e-mail")
        assert axe(page) == []
        run_account_mail_jobs()
        [mail] = inbox.wait_for(1)
    assert mail["To"] == email
    page.goto(link_path(mail))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bevestig uw e-mailadres")
    page.get_by_role("button", name="Ja, dit is mijn e-mailadres").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw adres")
    page.locator("#neighbourhood_code").select_option("BU01640000")
    page.get_by_role("button", name="Deze buurt gebruiken").click()


def ask_for_help(page) -> None:
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Hulp vragen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hulp vragen")
    page.get_by_label("Boodschappen", exact=True).check()
    page.get_by_label("Wat hebt u nodig?").fill("Boodschappen van de supermarkt, een volle tas")
    page.get_by_label("Donderdag ochtend").check()
    page.get_by_label("Met een bericht op deze website").check()
    page.get_by_role("button", name="Hulpvraag versturen").click()
    expect(page.get_by_role("status")).to_contain_text("Uw hulpvraag is opgeslagen")


def offer_and_volunteer(page) -> None:
    """The helper offers help with groceries, looks at the requests nearby and volunteers."""
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role(
        "link", name="Hulp aanbieden"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hulp aanbieden")
    page.get_by_label("Boodschappen", exact=True).check()
    page.get_by_label("Donderdag ochtend").check()
    page.get_by_role("button", name="Hulpaanbod opslaan").click()
    page.get_by_role("link", name="Bekijk wie hulp nodig heeft in de buurt").click()
    card = page.locator(".card", has_text="Boodschappen")
    expect(card).to_contain_text("Binnenstad-Centrum")
    # Browsing shows no name, address or description of the requester.
    expect(page.locator("main")).not_to_contain_text("Anna")
    page.get_by_role("button", name="Ik wil helpen").click()
    expect(page.get_by_role("status")).to_contain_text("Wij vragen Anna of uw hulp welkom is")


def test_register_ask_offer_accept_message_done_thanks(browser, live_server, page, hengelo):
    ensure_categories()
    seeded_resident("Bram", "bram@example.org")
    anna = page  # the requester's browser (phone-sized)
    register(anna, "Anna", "anna@example.org")
    ask_for_help(anna)
    screenshot(anna, "flow-1-request")

    bram_context = browser.new_context(
        base_url=live_server, locale="nl-NL", viewport={"width": 1280, "height": 900}
    )
    bram = bram_context.new_page()
    sign_in(bram, "bram@example.org")
    offer_and_volunteer(bram)
    # Before Anna said yes, Bram sees neither her email nor an address.
    expect(bram.locator("main")).not_to_contain_text("anna@example.org")
    screenshot(bram, "flow-2-offered-desktop")

    # Anna sees Bram's offer on her overview and accepts it.
    anna.goto("/mijn/")
    anna.get_by_role("link", name=re.compile("Boodschappen · Bram")).click()
    expect(anna.locator(".panel")).to_contain_text("Bram biedt aan om u te helpen")
    anna.get_by_role("button", name="Ja, graag").click()
    expect(anna.get_by_role("status")).to_contain_text("U hebt ja gezegd")
    expect(anna.locator("main .status")).to_have_text("Afgesproken")

    anna.get_by_label("Uw bericht").fill("Fijn! Komt u donderdag om 10 uur?")
    anna.get_by_role("button", name="Bericht versturen").click()
    expect(anna.locator(".thread")).to_contain_text("Komt u donderdag om 10 uur?")
    screenshot(anna, "flow-3-match-phone")
    assert axe(anna) == []

    # Bram now sees Anna's message and the contact details she chose (her email).
    bram.goto("/mijn/berichten")
    bram.get_by_role("link", name=re.compile("Boodschappen · Anna")).click()
    expect(bram.locator(".thread")).to_contain_text("Komt u donderdag om 10 uur?")
    expect(bram.locator("main")).to_contain_text("anna@example.org")
    bram.get_by_label("Uw bericht").fill("Ja, tot donderdag!")
    bram.get_by_role("button", name="Bericht versturen").click()
    expect(bram.locator(".thread li")).to_have_count(2)
    bram.get_by_role("button", name="De hulp is klaar").click()
    expect(bram.get_by_role("status")).to_contain_text("De hulp staat op klaar")
    screenshot(bram, "flow-4-done-desktop")

    # Anna reads the reply and says thanks.
    anna.reload()
    expect(anna.locator(".thread")).to_contain_text("Ja, tot donderdag!")
    anna.get_by_role("link", name="Bedank de helper").click()
    anna.get_by_label("Heel goed").check()
    anna.get_by_label("Een kort berichtje").fill("Heel erg bedankt, Bram!")
    anna.get_by_role("button", name="Bedankje versturen").click()
    expect(anna.get_by_role("status")).to_contain_text("bedankje doorgegeven aan Bram")
    expect(anna.locator("main")).to_contain_text("Heel erg bedankt, Bram!")
    screenshot(anna, "flow-5-thanks-phone")

    assert list(anna.problems) == []
    bram_context.close()


def test_ask_form_shows_other_address_fields_only_when_chosen(page, hengelo):
    ensure_categories()
    seeded_resident("Carla", "carla@example.org")
    sign_in(page, "carla@example.org")
    page.goto("/mijn/hulp-vragen")
    address = page.get_by_label("Straat en huisnummer")
    expect(address).to_be_hidden()
    page.get_by_label("Op een ander adres").check()
    expect(address).to_be_visible()
    # Childminding always needs a VOG-checked helper: choosing it ticks the box.
    page.get_by_label("Oppas kinderen", exact=False).check()
    expect(page.get_by_label("Alleen een helper met een VOG", exact=False)).to_be_checked()
    assert list(page.problems) == []
