"""Worker dashboards in a real browser: the landing page, who is involved (with the map), the
newly active list with a reach-out, the network and the follow-up queue; axe-core finds no
serious or critical violations."""

from __future__ import annotations

import pytest

from mutualaid.extensions import db
from tests.dashboard_builders import MINE, PASSWORD, asks, helped, offers, person, staff, vog
from tests.staff_login import browser_sign_in

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in(page, hengelo):
    staff("coach@example.org")
    anna = person(first_name="Anna", last_name="Jansen", phone="0612345678", days_active=200)
    piet = person(first_name="Piet", days_active=12)
    offers(anna)
    helped(anna, piet, days_ago=3)
    asks(piet, days_ago=6)
    asks(person(first_name="Nood"), days_ago=0, urgency="high")
    vog(anna, expires_in_days=12)
    db.session.commit()
    browser_sign_in(page, "coach@example.org", PASSWORD)
    page.wait_for_url("**/")
    return page


def test_dashboard_links_to_each_view_with_counts(signed_in):
    page = signed_in
    page.goto("/wijkwerk/")
    assert page.get_by_role("heading", level=1).inner_text() == "Wijkwerk"
    assert page.get_by_role("link", name="Wijkwerk").first.is_visible()
    screenshot(page, "worker-dashboard")
    assert axe(page) == []
    page.get_by_role("link", name="Opvolgen").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Opvolgen"
    assert axe(page) == []
    assert list(page.problems) == []


def test_newly_active_list_and_reach_out(signed_in):
    page = signed_in
    page.goto("/wijkwerk/nieuw-actief")
    assert page.get_by_role("heading", name="Piet", exact=False).first.is_visible()
    screenshot(page, "worker-newly-active")
    assert axe(page) == []
    form = page.locator("form.reach-out").first
    form.get_by_label("Hoe had u contact?").select_option("phone")
    form.get_by_label("Notitie (mag leeg blijven)").fill("Gebeld, wil meer doen")
    form.get_by_role("button", name="Contact opslaan").click()
    assert "Uw contact is opgeslagen" in page.locator(".flash").inner_text()
    assert list(page.problems) == []


def test_involved_page_draws_the_blocks_on_the_map(signed_in):
    page = signed_in
    page.goto(f"/wijkwerk/buurt/{MINE}/betrokken")
    page.locator("#cells-map .leaflet-interactive").first.wait_for()
    assert page.locator("#cells-table tbody tr").count() >= 1
    screenshot(page, "worker-involved")
    assert axe(page) == []
    page.goto(f"/wijkwerk/buurt/{MINE}/netwerk")
    assert page.locator("svg.network-svg title").first.text_content().startswith("Hulpnetwerk")
    screenshot(page, "worker-network")
    assert axe(page) == []
    assert list(page.problems) == []
