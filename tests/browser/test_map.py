"""The neighbourhood map on "who needs help nearby": drawn from our own boundaries with no tile
server, the neighbourhoods with open requests shaded, a click filters the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mutualaid.extensions import db
from mutualaid.services.accounts import create_user
from mutualaid.services.aid import post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.offers import post_offer
from tests import builders

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord"


def test_map_draws_neighbourhoods_and_filters_by_a_click(page, hengelo):
    ensure_categories()
    anna = builders.resident(first_name="Anna", email="anna@example.org")
    bram = builders.resident(first_name="Bram", email="bram@example.org")
    create_user(bram.email, PASSWORD, "resident", "Bram", resident_id=bram.id)
    db.session.commit()
    post_offer(bram.id, categories=["boodschappen"], slots=(1 << 21) - 1)
    post_request(anna.id, category="boodschappen", description="Een volle tas", slots=1)

    page.goto("/auth/login")
    page.locator("#email").fill(bram.email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.goto("/mijn/in-de-buurt")
    map_box = page.locator("#requests-map")
    expect(map_box).to_be_visible()
    expect(map_box.locator("path.leaflet-interactive")).to_have_count(62)
    shaded = map_box.locator("path[fill='#ffbf47']")
    expect(shaded).to_have_count(1)
    shaded.dispatch_event("click")
    page.wait_for_url("**neighbourhood_id=*")
    expect(page.locator("#neighbourhood_id option:checked")).to_have_text("Binnenstad-Centrum")
    expect(page.locator(".card")).to_have_count(1)
    assert list(page.problems) == []
