"""The municipality's monitoring page in a real Chromium: charts, map, tables, filters, CSV link,
no console errors and no serious or critical accessibility violations (axe-core)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mutualaid.extensions import db
from mutualaid.models import Match, Neighbourhood
from mutualaid.models.base import utcnow
from mutualaid.services.accounts import create_user
from tests import builders
from tests.staff_login import browser_sign_in

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser
PASSWORD = "a-long-browser-password"


@pytest.fixture
def monitored(hengelo):
    """Hengelo with a week of requests in two neighbourhoods and a municipality user."""
    now = utcnow()
    for code, count in (("BU01640000", 12), ("BU01640001", 3)):
        hood = db.session.query(Neighbourhood).filter_by(code=code).one()
        helper = builders.resident(neighbourhood_id=hood.id)
        offer = builders.offer(helper, created_at=now - timedelta(days=2))
        db.session.flush()
        for i in range(count):
            person = builders.resident(neighbourhood_id=hood.id)
            request = builders.help_request(
                person, neighbourhood_id=hood.id, created_at=now - timedelta(hours=30)
            )
            db.session.flush()
            if i % 2 == 0:
                db.session.add(
                    Match(
                        request_id=request.id,
                        offer_id=offer.id,
                        helper_id=helper.id,
                        status="accepted",
                        accepted_at=now - timedelta(hours=20),
                    )
                )
    create_user(
        "gemeente@example.org",
        PASSWORD,
        "municipality",
        "Gemeente Hengelo",
        municipality_code="GM0164",
    )
    db.session.commit()
    return hengelo


def sign_in(page) -> None:
    browser_sign_in(page, "gemeente@example.org", PASSWORD)


def test_monitoring_page_shows_charts_map_and_tables(page, monitored):
    sign_in(page)
    page.goto("/gemeente/monitoring?period=week&level=district")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Monitor burenhulp")
    # Charts and the map are images with a text alternative (title and description).
    images = page.get_by_role("img")
    assert images.count() >= 7
    assert "Hulpvragen" in page.locator("svg#map, svg[aria-labelledby^='map']").first.inner_html()
    assert page.locator("td.suppressed").count() > 0  # the 3 requests of Binnenstad-West
    screenshot(page, "monitoring-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "monitoring-desktop")
    assert list(page.problems) == []


def test_filters_work_without_javascript_and_keep_the_choice(page, monitored):
    sign_in(page)
    page.goto("/gemeente/monitoring")
    page.get_by_label("Niveau").select_option("neighbourhood")
    page.get_by_label("Per", exact=True).select_option("week")
    page.get_by_role("button", name="Tonen").click()
    assert "period=week" in page.url and "level=neighbourhood" in page.url
    assert page.get_by_label("Per", exact=True).input_value() == "week"
    assert page.get_by_role("row", name="Binnenstad-Centrum").count() >= 1
    link = page.get_by_role("link", name="Download deze cijfers (CSV)")
    assert "monitoring.csv" in link.get_attribute("href")


def test_monitoring_page_has_no_serious_accessibility_violations(page, monitored):
    sign_in(page)
    page.goto("/gemeente/monitoring?period=week&level=neighbourhood")
    assert axe(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    assert axe(page) == []
