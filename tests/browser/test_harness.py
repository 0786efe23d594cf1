"""The browser harness itself: the app is served, pages load their bundled assets, axe runs."""

from __future__ import annotations

import pytest

from .conftest import axe, screenshot

pytestmark = pytest.mark.browser


def test_home_page_loads_in_dutch_with_no_console_errors(page, hengelo):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == "Hulp in uw buurt"
    screenshot(page, "home-phone")
    assert list(page.problems) == []


def test_home_page_has_no_serious_accessibility_violations(page, hengelo):
    page.goto("/")
    assert axe(page) == []


def test_api_docs_render_from_the_bundled_swagger_ui(page):
    page.goto("/api/v1/docs")
    # The viewer replaces the no-JavaScript text with the operations of our OpenAPI document.
    page.locator(".swagger-ui .info .title").wait_for()
    assert "mutualaid API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/api/v1/health").first.wait_for()
    screenshot(page, "api-docs")
    assert list(page.problems) == []


def test_axe_helper_reports_a_critical_violation_when_there_is_one(page, hengelo):
    """The check can fail: an image without a text alternative is a critical violation."""
    page.goto("/")
    page.evaluate(
        "() => { const img = document.createElement('img');"
        " img.src = '/static/favicon.svg'; document.querySelector('main').appendChild(img); }"
    )
    assert [v["id"] for v in axe(page)] == ["image-alt"]
