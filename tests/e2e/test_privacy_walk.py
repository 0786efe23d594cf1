"""Privacy walk: as other residents, open every resident-facing page and API response (every
GET route under /mijn and /api/v1, with the ids of the request, its matches and offers filled
in) and find none of the requester's address, house number, postcode, exact point, phone or
email before both said yes; after acceptance the accepted helper does see them."""

from __future__ import annotations

import itertools
import re

import pytest
from flask import g

from mutualaid.extensions import db
from mutualaid.services import helping, messages
from mutualaid.services.accounts import create_user
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.demo import ensure_categories
from tests import staff_login
from tests.flows import PRIVATE, make_street, neighbour

PASSWORD = "long-enough-password"
SKIPPED_PREFIXES = ("/api/v1/docs", "/api/v1/openapi.json", "/static")

FORBIDDEN = [
    re.compile(re.escape(f"{PRIVATE['street']} {PRIVATE['house_number']}")),
    re.compile(re.escape(PRIVATE["street"])),
    re.compile(r"(?<![\d.])" + PRIVATE["house_number"] + r"(?!\d)"),
    re.compile(r"7551\s?ZX"),
    re.compile(re.escape(PRIVATE["phone"])),
    re.compile(re.escape(PRIVATE["email"])),
    # The requester's exact home point (the others live due north, so on the same longitude).
    re.compile(r"52\.264(?!\d)"),
]


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


class Viewer:
    """A resident with an API token and a signed-in browser session."""

    def __init__(self, app, resident, email: str) -> None:
        user = create_user(
            email, PASSWORD, "resident", resident.first_name, resident_id=resident.id
        )
        _, secret = create_api_token(user.id, "walk")
        self.resident = resident
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.api = app.test_client()
        self.browser = app.test_client()
        g.pop("_login_user", None)
        login = staff_login.sign_in(self.browser, email, PASSWORD)
        assert login.status_code == 302, "the resident could not sign in"

    def get(self, url: str):
        # The tests hold one app context open, so Flask-Login's per-request cache of the
        # signed-in user (g._login_user) would carry over from another viewer's request.
        g.pop("_login_user", None)
        client, headers = (
            (self.api, self.headers) if url.startswith("/api/") else (self.browser, {})
        )
        return client.get(url, headers=headers)


def resident_get_routes(app) -> list:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods
            and rule.rule.startswith(("/mijn", "/api/v1"))
            and not rule.rule.startswith(SKIPPED_PREFIXES)
        ),
        key=lambda rule: rule.rule,
    )


def urls(app, values: dict[str, list]) -> list[str]:
    """Every resident GET route with each combination of known ids filled in."""
    found = []
    for rule in resident_get_routes(app):
        names = sorted(rule.arguments)
        if any(name not in values for name in names):
            pytest.fail(f"the privacy walk does not know how to fill {rule.rule}: add it")
        for combination in itertools.product(*(values[name] for name in names)):
            path = rule.rule
            for name, value in zip(names, combination, strict=True):
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), path)
            found.append(path)
    return found


def leaks(text: str) -> list[str]:
    return [pattern.pattern for pattern in FORBIDDEN if pattern.search(text)]


@pytest.fixture
def scene(town):
    """Anna asked for help; Helper1 is invited (with a message), Helper2 suggested, and a
    stranger lives further away. Everyone but Anna signs in."""
    street = make_street(helpers=2)
    invited = street.match_of(street.helpers[0])
    helping.invite_helper(invited.id, street.requester.id)
    messages.post_message(invited.id, street.requester.id, "Kunt u dinsdag?")
    messages.post_message(invited.id, street.helpers[0].id, "Misschien, ik laat het weten")
    stranger = neighbour(900, first_name="Vreemde", street="Lansinkweg", house_number="3")
    from mutualaid.services.aid import post_offer

    post_offer(stranger.id, categories=["boodschappen"], radius_m=3000, slots=1)
    viewers = {
        "helper1": Viewer(town, street.helpers[0], "helper1@example.org"),
        "helper2": Viewer(town, street.helpers[1], "helper2@example.org"),
        "stranger": Viewer(town, stranger, "stranger@example.org"),
    }
    matches = [street.match_of(h).id for h in street.helpers]
    offers = [o.id for o in street.offers]
    values = {
        "request_id": [street.request.id],
        "match_id": matches,
        "offer_id": offers,
        "resident_id": [street.requester.id],
        "code": [street.request.neighbourhood.code],
        "token": ["not-a-token"],
        "notification_id": [1],
        "kind": ["problem"],
        "target_id": [street.request.id],
        "filename": ["x"],
    }
    db.session.commit()
    return street, viewers, values


def walk(app, viewer: Viewer, values: dict) -> dict[str, list[str]]:
    found = {}
    for url in urls(app, values):
        response = viewer.get(url)
        text = response.get_data(as_text=True)
        problems = leaks(text)
        if problems:
            found[url] = problems
    return found


def test_nobody_else_sees_the_requesters_private_details_before_acceptance(town, scene):
    street, viewers, values = scene
    walked = urls(town, values)
    assert any(u.startswith("/mijn") for u in walked) and len(walked) > 20
    for name, viewer in viewers.items():
        assert walk(town, viewer, values) == {}, name
    # The walk really saw the pages as the invited helper: the first name, not the address.
    invited = street.match_of(street.helpers[0]).id
    for url in (f"/mijn/hulp/{invited}", f"/api/v1/matches/{invited}"):
        response = viewers["helper1"].get(url)
        assert response.status_code == 200 and "Anna" in response.get_data(as_text=True)


def test_the_accepted_helper_sees_them_and_the_others_still_do_not(town, scene):
    street, viewers, values = scene
    match_id = street.match_of(street.helpers[0]).id
    helping.accept_match(match_id, street.helpers[0].id)
    db.session.commit()
    helper = viewers["helper1"]
    detail = helper.get(f"/api/v1/matches/{match_id}").get_data(as_text=True)
    for secret in ("Marskant 86417", "7551ZX", PRIVATE["phone"], PRIVATE["email"]):
        assert secret in detail
    page = helper.get(f"/mijn/hulp/{match_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Marskant" in text and "86417" in text and PRIVATE["phone"] in text
    for name in ("helper2", "stranger"):
        assert walk(town, viewers[name], values) == {}, name
