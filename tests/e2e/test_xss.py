"""An XSS corpus in every free-text field a resident or a community worker can write, then every
page and API answer that shows it: pages contain it only escaped (no raw tag, no attribute
breakout, no template evaluated), the API returns it as the same JSON string, never as HTML."""

from __future__ import annotations

import json

import pytest
from markupsafe import escape
from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import Match, ProblemReport
from mutualaid.services import helping
from mutualaid.services.accounts import create_user
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.demo import ensure_categories
from mutualaid.services.followup import record_follow_up
from mutualaid.services.intake import register_resident
from mutualaid.services.match_review import choose_helper
from mutualaid.services.matching import match_request
from mutualaid.services.messages import post_message
from mutualaid.services.newly_active import reach_out
from mutualaid.services.problems import report_problem
from tests import staff_login
from tests.casework import CENTRE_CODE, PASSWORD, api_headers, resident_in
from tests.xss_payloads import XSS_PAYLOADS

# Every free-text field: a short tag is appended to the payload so each field can be traced.
FIELDS = {
    "rq": "request description",
    "ad": "request address line",
    "of": "offer description",
    "fn": "requester first name",
    "ln": "requester last name",
    "hn": "helper first name",
    "mr": "message by the requester",
    "mh": "message by the helper",
    "th": "thanks note",
    "pr": "problem report",
    "dr": "decline reason",
    "rv": "worker's reason in match review",
    "cn": "contact note",
    "fu": "follow-up note",
    "tk": "API token label",
    "in": "name at intake",
    "ce": "consent note at intake",
    "dn": "account display name",
}
TRIED = {"pages": set(), "checks": 0}


@pytest.fixture(scope="module", autouse=True)
def report_the_figures():
    yield
    print(
        f"\nXSS: {len(XSS_PAYLOADS)} payloads x {len(FIELDS)} fields x {len(TRIED['pages'])} "
        f"pages and API answers; {TRIED['checks']} escaping checks"
    )


def tagged(payload: str, tag: str) -> str:
    return f"{payload}~{tag}"


def _sign_in(client, email: str):
    response = staff_login.sign_in(client, email, PASSWORD)
    assert response.status_code == 302, email
    return client


def _world(app, payload: str) -> dict:
    """A requester, a helper and a worker whose every written text is the payload."""
    ensure_categories()
    value = lambda tag: tagged(payload, tag)  # noqa: E731
    worker = create_user(
        "wijkcoach@example.org", PASSWORD, "worker", value("dn"), neighbourhood_codes=[CENTRE_CODE]
    )
    requester = resident_in(CENTRE_CODE, first_name=value("fn"), last_name=value("ln"))
    helper = resident_in(CENTRE_CODE, north_m=300, first_name=value("hn"))
    other = resident_in(CENTRE_CODE, north_m=500, first_name="Bram")
    db.session.commit()
    users = {}
    for key, person in (("requester", requester), ("helper", helper), ("other", other)):
        users[key] = create_user(
            f"{key}{person.id}@example.org", PASSWORD, "resident", "X", resident_id=person.id
        )
    offer = post_offer(
        helper.id, categories=["boodschappen"], description=value("of"), radius_m=3000
    )
    other_offer = post_offer(other.id, categories=["boodschappen"], radius_m=3000)
    request = post_request(
        requester.id,
        category="boodschappen",
        description=value("rq"),
        address_line=value("ad") + " 12",
        postcode="7551AB",
        lat=requester.home_lat,
        lon=requester.home_lon,
    )
    match_request(request.id, force=True)
    match = db.session.scalar(
        select(Match).where(Match.request_id == request.id, Match.helper_id == helper.id)
    )
    helping.invite_helper(match.id, requester.id)
    helping.accept_match(match.id, helper.id)
    post_message(match.id, requester.id, value("mr"))
    post_message(match.id, helper.id, value("mh"))
    report = report_problem(requester.id, value("pr"), match_id=match.id)
    helping.give_thanks(match.id, requester.id, 5, value("th"))
    # A second request: the worker picks a helper with a reason, who declines with one.
    second = post_request(requester.id, category="boodschappen", description=value("rq"))
    chosen = choose_helper(worker.id, second.id, other_offer.id, value("rv"))
    helping.decline_match(chosen.id, other.id, reason=value("dr"))
    reach_out(worker.id, requester.id, "phone", value("cn"))
    problem_id = report["id"] if isinstance(report, dict) else report.id
    problem_id = problem_id or db.session.scalar(select(ProblemReport.id))
    record_follow_up(worker.id, "problem", problem_id, "note", value("fu"))
    create_api_token(users["requester"].id, value("tk"))
    intake = register_resident(
        worker.id,
        first_name=value("in"),
        consent_method="phone",
        consent_note=value("ce"),
        phone="0612345678",
        neighbourhood=CENTRE_CODE,
    )
    db.session.commit()
    return {
        "worker": worker,
        "users": users,
        "requester": requester.id,
        "helper": helper.id,
        "intake": intake.id,
        "request": request.id,
        "second": second.id,
        "match": match.id,
        "offer": offer.id,
    }


def _pages(w: dict) -> dict[str, list[str]]:
    """Who looks at which pages."""
    return {
        "requester": [
            "/mijn/",
            f"/mijn/hulpvragen/{w['request']}",
            f"/mijn/hulpvragen/{w['second']}",
            f"/mijn/hulp/{w['match']}",
            f"/mijn/hulp/{w['match']}/bedanken",
            "/mijn/berichten",
            "/mijn/meldingen",
            "/mijn/api-tokens",
            "/mijn/gegevens",
            "/mijn/gegevens/inzage",
            "/mijn/kennen",
        ],
        "helper": [
            "/mijn/",
            f"/mijn/hulp/{w['match']}",
            "/mijn/berichten",
            "/mijn/meldingen",
            "/mijn/hulp-aanbieden",
            f"/mijn/hulp-aanbieden/{w['offer']}",
            "/mijn/uitnodigingen",
            "/mijn/kennen",
        ],
        "worker": [
            "/wijkwerk/",
            f"/wijkwerk/bewoners/{w['requester']}",
            f"/wijkwerk/bewoners/{w['helper']}",
            f"/wijkwerk/bewoners/{w['intake']}",
            f"/wijkwerk/buurt/{CENTRE_CODE}/betrokken",
            f"/wijkwerk/buurt/{CENTRE_CODE}/netwerk",
            "/wijkwerk/opvolging",
            "/wijkwerk/opvolging?include_closed=1",
            f"/wijkwerk/hulpvragen/{w['request']}/beoordelen",
            f"/wijkwerk/hulpvragen/{w['second']}/beoordelen",
            "/wijkwerk/nieuw-actief",
            "/wijkwerk/audit",
        ],
    }


def _api(w: dict) -> dict[str, list[str]]:
    return {
        "requester": [
            f"/api/v1/requests/{w['request']}",
            f"/api/v1/matches/{w['match']}",
            f"/api/v1/matches/{w['match']}/messages",
            "/api/v1/matches",
            "/api/v1/overview",
            "/api/v1/me",
            "export",  # POST /api/v1/me/export, then GET its one-time link
            "/api/v1/auth/tokens",
        ],
        "helper": [
            f"/api/v1/offers/{w['offer']}",
            f"/api/v1/matches/{w['match']}",
            f"/api/v1/matches/{w['match']}/messages",
            "/api/v1/invitations",
        ],
        "worker": [
            f"/api/v1/neighbourhoods/{CENTRE_CODE}/involvement",
            f"/api/v1/neighbourhoods/{CENTRE_CODE}/network",
            f"/api/v1/neighbourhoods/{CENTRE_CODE}/newly-active",
            "/api/v1/follow-up?include_closed=true",
            f"/api/v1/requests/{w['request']}/review",
            f"/api/v1/requests/{w['second']}/review",
            f"/api/v1/residents/{w['requester']}",
        ],
    }


def _assert_escaped_html(html: str, payload: str, where: str) -> set[str]:
    """No raw payload; return the field tags shown (escaped) on the page."""
    seen = set()
    for tag in FIELDS:
        raw, safe = tagged(payload, tag), str(escape(tagged(payload, tag)))
        if raw != safe:
            assert raw not in html, f"{FIELDS[tag]} unescaped on {where}"
        if safe in html:
            seen.add(tag)
        TRIED["checks"] += 1
    lowered = html.lower()
    for attribute in ('href="javascript:', "href='javascript:", 'src="javascript:'):
        assert attribute not in lowered, f"{attribute} on {where}"
    return seen


def _walk_json(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk_json(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_json(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_every_written_text_is_escaped_on_every_page_and_in_the_api(app_ctx, hengelo, payload):
    w = _world(app_ctx, payload)
    emails = {
        "requester": w["users"]["requester"].email,
        "helper": w["users"]["helper"].email,
        "worker": w["worker"].email,
    }
    seen: dict[str, set[str]] = {}
    for who, paths in _pages(w).items():
        client = _sign_in(app_ctx.test_client(), emails[who])
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, f"{who} {path}: {response.status_code}"
            assert response.mimetype in ("text/html", "image/svg+xml")
            html = response.get_data(as_text=True)
            seen[f"{who} {path}"] = _assert_escaped_html(html, payload, f"{who} {path}")
            TRIED["pages"].add(f"{who} {path.split('?')[0]}")
    api_seen = set()
    for who, paths in _api(w).items():
        user = w["worker"] if who == "worker" else w["users"][who]
        headers = api_headers(user)
        for path in paths:
            name = path
            if path == "export":
                link = app_ctx.test_client().post("/api/v1/me/export", headers=headers)
                path, name = link.get_json()["download_url"], "/api/v1/me/export"
            response = app_ctx.test_client().get(path, headers=headers)
            assert response.status_code == 200, f"{who} {path}: {response.get_json()}"
            # JSON is data, not markup: served as JSON, never sniffed as HTML, text intact.
            assert response.mimetype == "application/json"
            assert response.headers.get("X-Content-Type-Options") == "nosniff"
            strings = list(_walk_json(json.loads(response.get_data(as_text=True))))
            for tag in FIELDS:
                if any(tagged(payload, tag) in text for text in strings):
                    api_seen.add(tag)
            TRIED["pages"].add(f"{who} {name.split('?')[0]}")
    shown = set().union(*seen.values())
    # Each field was really displayed somewhere (else the escaping check proved nothing).
    assert shown | api_seen == set(FIELDS), f"never shown: {set(FIELDS) - shown - api_seen}"
    assert {"rq", "of", "mr", "mh", "th", "fn", "hn", "fu", "rv", "tk", "in", "ce"} <= shown, shown
