"""The address page in a real browser: with no geocoder configured (as in `make run`) the
resident clicks their home on the Leaflet map drawn from our own neighbourhood boundaries."""

from __future__ import annotations

import pytest

from mutualaid.extensions import db
from mutualaid.models import Resident
from mutualaid.services.accounts import create_user
from tests import builders

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord"


@pytest.fixture
def homeless(hengelo) -> int:
    """A resident whose home is not known yet."""
    person = builders.resident(
        first_name="Greet", email="greet@example.org", home_lat=None, home_lon=None, street=None
    )
    create_user(person.email, PASSWORD, "resident", "Greet", resident_id=person.id)
    db.session.commit()
    return person.id


def test_a_resident_places_their_home_on_the_map(page, homeless):
    page.goto("/auth/login")
    page.locator("#email").fill("greet@example.org")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.goto("/mijn/adres")

    page.get_by_label("Postcode", exact=True).fill("7551 AB")
    page.get_by_label("Huisnummer").fill("12")
    page.get_by_role("button", name="Adres opslaan").click()
    assert page.get_by_text("Deze website kan geen adressen opzoeken").is_visible()

    map_box = page.locator("#location-map")
    map_box.wait_for(state="visible")  # shown by the script; hidden without JavaScript
    page.locator("#location-map path.leaflet-interactive").first.wait_for()
    submit = page.get_by_role("button", name="Deze plek opslaan")
    assert submit.is_disabled()
    map_box.click()  # the middle of the map: Hengelo's centre
    assert submit.is_enabled()
    assert page.locator("#lat").input_value() != ""
    assert axe(page) == []
    screenshot(page, "location-map")
    submit.click()

    assert page.get_by_text("U hebt uw plek op de kaart gekozen").is_visible()
    db.session.expire_all()
    resident = db.session.get(Resident, homeless)
    assert resident.location_source == "map" and resident.neighbourhood_id is not None
    assert page.problems == []  # no script errors, no CSP violations


def test_without_javascript_the_neighbourhood_list_does_it(browser, live_server, homeless):
    context = browser.new_context(base_url=live_server, locale="nl-NL", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/auth/login")
        page.locator("#email").fill("greet@example.org")
        page.locator("#password").fill(PASSWORD)
        page.locator("form.form button[type=submit]").click()
        page.goto("/mijn/adres")
        assert not page.locator("#location-map").is_visible()
        page.get_by_label("Kies uw buurt").select_option("BU01640101")
        page.get_by_role("button", name="Deze buurt gebruiken").click()
        assert page.get_by_text("U hebt de buurt Tichelwerk gekozen").is_visible()
    finally:
        context.close()
