"""Browser tests: the app served on a loopback port, driven by Playwright in Debian's Chromium.

No browser can be downloaded here, so Playwright drives an installed Chromium
(`MUTUALAID_CHROMIUM`, else `chromium` on the PATH). Without one the tests are skipped and the
run says so loudly; with MUTUALAID_REQUIRE_BROWSER=1 (CI) a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_test_app

AXE_URL = "/static/vendor/axe-core/axe.min.js"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SKIP_MESSAGE = "BROWSER TESTS SKIPPED: no Chromium found"
_skipped: list[str] = []


def chromium_path() -> str | None:
    """The Chromium to drive: MUTUALAID_CHROMIUM, else one on the PATH, else None."""
    configured = os.environ.get("MUTUALAID_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_required() -> bool:
    return os.environ.get("MUTUALAID_REQUIRE_BROWSER") == "1"


def pytest_terminal_summary(terminalreporter) -> None:
    """Say loudly that the browser tests did not run (it must never pass unnoticed)."""
    if _skipped:
        terminalreporter.write_sep("!", f"{SKIP_MESSAGE} ({_skipped[0]})", red=True, bold=True)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """A headless Chromium for the session (skipped, or failed in CI, when there is none)."""
    executable = chromium_path()
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and executable is None:
        reason = "install Debian's chromium or set MUTUALAID_CHROMIUM"
    if reason is not None:
        if browser_required():
            pytest.fail(f"MUTUALAID_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        _skipped.append(reason)
        pytest.skip(f"{SKIP_MESSAGE}: {reason}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_app(app, database_url, redis_url, instance_path):
    """A second app on the same database and Redis, with CSRF on as in production."""
    return make_test_app(database_url, redis_url, instance_path, WTF_CSRF_ENABLED=True)


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The app served by werkzeug in a thread on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


class PageProblems(list):
    """Console errors and failed same-origin requests seen by a page (CSP violations too)."""


@pytest.fixture
def page(browser, live_server, app_ctx, request) -> Iterator:
    """A fresh Dutch browser context (phone-sized unless a test resizes it) on the live server."""
    context = browser.new_context(
        base_url=live_server, locale="nl-NL", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems = PageProblems()
    tab.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.problems = problems
    yield tab
    context.close()


def axe(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run the bundled axe-core on the page; return the violations of these impacts."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Loaded from our own origin, so the page's CSP (script-src 'self') allows it.
        page.add_script_tag(url=AXE_URL)
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot when MUTUALAID_SCREENSHOTS names a folder (to look at)."""
    folder = os.environ.get("MUTUALAID_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
