"""axe-core (bundled) on the key resident pages, on a phone and on a desktop: no serious or
critical violations. Screenshots of each page are saved when MUTUALAID_SCREENSHOTS is set."""

from __future__ import annotations

import pytest

from mutualaid.extensions import db
from mutualaid.models import Match
from mutualaid.services.accounts import create_user
from mutualaid.services.aid import post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.helping import accept_match
from mutualaid.services.inviting import offer_to_help
from mutualaid.services.messages import post_message
from mutualaid.services.offers import post_offer
from tests import builders

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "een-lang-wachtwoord"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def _account(first_name: str) -> int:
    person = builders.resident(first_name=first_name, email=f"{first_name.lower()}@example.org")
    create_user(person.email, PASSWORD, "resident", first_name, resident_id=person.id)
    db.session.commit()
    return person.id


@pytest.fixture
def pages(hengelo) -> dict[str, str]:
    """Anna asks twice: one request has a suggested helper, the other an accepted match with
    messages. Returns the paths of the pages to check, signed in as Anna."""
    ensure_categories()
    anna, bram = _account("Anna"), _account("Bram")
    post_offer(bram, categories=["boodschappen", "vervoer"], slots=0b111, capacity=3)
    suggested = post_request(anna, category="boodschappen", description="Een volle tas", slots=1)
    offer_id = db.session.query(Match).count()  # no matches yet: the engine would add them
    assert offer_id == 0
    from mutualaid.models import Offer

    offer = db.session.query(Offer).one()
    db.session.add(
        Match(
            request_id=suggested.id,
            offer_id=offer.id,
            helper_id=bram,
            status="suggested",
            proposed_by="engine",
            rank=1,
            score=0.82,
            distance_m=340.0,
            explanation_nl="340 m · zelfde straat · vrij ma ochtend",
            explanation_en="340 m · same street · free Mon morning",
        )
    )
    db.session.commit()
    lift = post_request(anna, category="vervoer", description="Naar de huisarts", slots=2)
    match = offer_to_help(lift.id, bram)
    accept_match(match["match_id"], anna)
    post_message(match["match_id"], anna, "Fijn! Tot dinsdag.")
    post_message(match["match_id"], bram, "Tot dinsdag, ik bel even aan.")
    return {
        "home": "/",
        "overview": "/mijn/",
        "ask": "/mijn/hulp-vragen",
        "offer": "/mijn/hulp-aanbieden/nieuw",
        "suggestions": f"/mijn/hulpvragen/{suggested.id}/helpers",
        "match": f"/mijn/hulp/{match['match_id']}",
        "messages": "/mijn/berichten",
        "open-requests": "/mijn/in-de-buurt",
    }


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_key_pages_have_no_serious_or_critical_axe_violations(page, pages, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    page.goto("/auth/login")
    page.locator("#email").fill("anna@example.org")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    found = {}
    for name, path in pages.items():
        page.goto(path)
        screenshot(page, f"axe-{name}-{viewport}")
        violations = axe(page)
        if violations:
            found[name] = violations
    assert found == {}
    assert list(page.problems) == []


def test_form_errors_are_announced_and_linked(page, pages):
    """The error summary links to the field, and the field says what is wrong (axe too)."""
    page.goto("/auth/login")
    page.locator("#email").fill("anna@example.org")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.goto("/mijn/hulp-vragen")
    page.get_by_role("button", name="Hulpvraag versturen").click()
    summary = page.get_by_role("alert")
    assert "Er is een probleem" in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert page.evaluate("() => location.hash") == "#category"
    screenshot(page, "axe-ask-errors-phone")
    assert axe(page) == []
