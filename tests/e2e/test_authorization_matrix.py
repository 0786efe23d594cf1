"""The authorization matrix: every route and method, as every role, on the caller's own object
and on someone else's (another resident's, another neighbourhood's, another municipality's).

Allowed (the declared rule names the role, or the route is public): never 401/403 nor a
redirect to sign in. Denied: pages redirect anonymous visitors to sign in and answer 403 to
other roles; the API answers 401 without credentials and 403 to another role. Someone else's
object: 403 or 404. A refused change leaves every table's row count as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import Match, Notification
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.inviting import invite_helper
from mutualaid.services.neighbourhoods import import_neighbourhoods
from mutualaid.services.tokens import issue_token
from mutualaid.services.transactions import commit
from mutualaid.web.access import PUBLIC, route_rules
from tests import casework, flows, staff_login
from tests.casework import CENTRE_CODE, FAR_CODE, PASSWORD, resident_in, staff

BORNE_GEOJSON = Path(__file__).resolve().parent.parent / "data" / "buurt_borne_test.geojson"
ROLES = ("anonymous", "resident", "worker", "municipality", "admin")
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
# URL arguments that name an object the caller must own (per role); others are not owned.
SCOPED = {
    "resident": {"request_id", "offer_id", "match_id", "notification_id", "token_id"},
    "worker": {"resident_id", "request_id", "code", "target_id"},
}
# Routes whose request id is a neighbour's open request: helping others is the point.
NOT_OWNED = {
    "/mijn/in-de-buurt/<int:request_id>/helpen",
    "/api/v1/open-requests/<int:request_id>/offer-help",
}
# The municipality scope is a query argument on these routes (another code: 404).
MUNICIPALITY_ROUTES = {
    "/gemeente/",
    "/gemeente/monitoring",
    "/gemeente/monitoring.csv",
    "/api/v1/monitoring",
    "/api/v1/monitoring.csv",
}
# The worker's scope as a query argument (a neighbourhood that is not theirs: refused).
WORKER_QUERY_ROUTES = ("/wijkwerk/nieuw-actief?buurt={code}",)
# Calls that end the caller's session or account (their own tests cover them): not made as
# the allowed caller, so the rest of the run keeps its session.
ENDS = {
    ("/auth/logout", "POST"),
    ("/auth/sessions/revoke", "POST"),
    ("/api/v1/me/sessions/revoke", "POST"),
    ("/mijn/gegevens/verwijderen", "POST"),
    ("/api/v1/me", "DELETE"),
}
# Public steps that follow a right password (a pending sign-in, tests/e2e/test_second_factor.py):
# without one they send the caller to sign in, which is their rule, not a refusal.
PENDING_STEPS = {"/auth/code", "/auth/code/recovery", "/auth/code/setup"}
# Valid bodies, so that a refusal comes from the access rule and not from validation.
BODIES = {
    "/api/v1/matches/<int:match_id>/messages": {"body": "Hallo"},
    "/api/v1/neighbourhoods/<code>/involvement/search": {"q": "a"},
    "/wijkwerk/buurt/<code>/betrokken": {"q": "a"},
    "/api/v1/matches/<int:match_id>/report": {"body": "Niet gekomen"},
    "/api/v1/matches/<int:match_id>/thanks": {"rating": 5},
    "/api/v1/follow-up/<kind>/<int:target_id>/actions": {"action": "called"},
    "/api/v1/requests/<int:request_id>/review/choose": {"offer_id": 1, "reason": "past beter"},
    "/api/v1/requests/<int:request_id>/review/confirm": {"match_id": 1, "reason": "klopt"},
    "/api/v1/requests/<int:request_id>/review/withdraw": {"match_id": 1, "reason": "weg"},
    "/api/v1/residents/<int:resident_id>/contact-notes": {"method": "phone"},
    "/api/v1/residents/<int:resident_id>/requests": {
        "category": "boodschappen",
        "description": "Hulp",
        "slots": 7,
        "consent_method": "phone",
    },
    "/api/v1/residents/<int:resident_id>/vog": {"issued_on": "2026-01-05"},
    "/wijkwerk/bewoners/<int:resident_id>/contact": {"method": "phone"},
    "/wijkwerk/opvolging/<kind>/<int:target_id>": {"action": "called"},
}
# Reads whose URL carries a secret (a reset link, an export link): the made-up one is refused.
SECRET_ARGUMENTS = {"token"}
CHECKED: dict[str, int] = {}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    own: dict = field(default_factory=dict)  # a resident's own objects
    other: dict = field(default_factory=dict)  # another resident's
    own_staff: dict = field(default_factory=dict)  # in the worker's neighbourhood
    other_staff: dict = field(default_factory=dict)  # in another neighbourhood
    headers: dict = field(default_factory=dict)  # the signed-in role's API token


def _notification(resident_id: int, key: str) -> int:
    item = Notification(idempotency_key=key, resident_id=resident_id, kind="test", subject="s")
    db.session.add(item)
    db.session.flush()
    return item.id


def _token_id(user) -> int:
    token, _ = issue_token("api", user_id=user.id, label="matrix")
    return token.id


def build_world() -> World:
    """Two streets (own and someone else's), residents in and out of the worker's area, one
    user per role, and Borne as the other municipality."""
    import_neighbourhoods(BORNE_GEOJSON)
    ensure_categories()
    world = World()
    mine, theirs = flows.make_street(helpers=1), flows.make_street(helpers=1)
    world.users["resident"] = staff("resident")
    world.users["resident"].resident_id = mine.requester.id
    world.users["worker"] = staff("worker", codes=(CENTRE_CODE,))
    world.users["municipality"] = staff("municipality")
    world.users["admin"] = staff("admin")
    other_user = staff("resident")
    other_user.resident_id = theirs.requester.id
    own_offer = post_offer(mine.requester.id, categories=["vervoer"], radius_m=2000, slots=7)
    near, far = resident_in(CENTRE_CODE), resident_in(FAR_CODE)
    near_request = post_request(near.id, category="boodschappen", slots=7, description="Hulp")
    far_request = post_request(far.id, category="boodschappen", slots=7, description="Hulp")
    commit()
    common = {"job_id": "none", "kind": "unmatched", "action": "ja", "token": "x" * 20}
    common |= {"filename": "css/main.css", "other_id": theirs.helpers[0].id}
    common |= {"user_id": world.users["municipality"].id}  # an admin resets their 2nd factor
    world.own = common | {
        "request_id": mine.request.id,
        "offer_id": own_offer.id,
        "match_id": mine.match_of(mine.helpers[0]).id,
        "notification_id": _notification(mine.requester.id, "matrix-own"),
        "token_id": _token_id(world.users["resident"]),
    }
    world.other = common | {
        "request_id": theirs.request.id,
        "offer_id": theirs.offers[0].id,
        "match_id": theirs.match_of(theirs.helpers[0]).id,
        "notification_id": _notification(theirs.requester.id, "matrix-other"),
        "token_id": _token_id(other_user),
    }
    world.own_staff = common | {
        "resident_id": near.id,
        "request_id": near_request.id,
        "target_id": near_request.id,
        "code": CENTRE_CODE,
        "token_id": _token_id(world.users["worker"]),
    }
    world.other_staff = common | {
        "resident_id": far.id,
        "request_id": far_request.id,
        "target_id": far_request.id,
        "code": FAR_CODE,
        "token_id": _token_id(other_user),
    }
    commit()
    return world


def url_for_rule(rule: str, values: dict) -> str:
    """The rule with each <argument> filled from values."""

    def fill(match: re.Match) -> str:
        return str(values[match.group(1)])

    return re.sub(r"<(?:[^:>]+:)?(\w+)>", fill, rule)


def row_counts() -> dict[str, int]:
    db.session.rollback()
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def allowed(role: str, declared) -> bool:
    return declared == PUBLIC or role in declared


def call(client, role, world, rule, method, values):
    api = rule.startswith("/api/")
    headers = world.headers if (api and role != "anonymous") else {}
    kwargs = {}
    if method in CHANGES:
        kwargs = {"json": BODIES.get(rule, {})} if api else {"data": BODIES.get(rule, {})}
    return client.open(url_for_rule(rule, values), method=method, headers=headers, **kwargs)


def denied_as_expected(role: str, rule: str, response) -> bool:
    if rule.startswith("/api/"):
        return response.status_code == (401 if role == "anonymous" else 403)
    if role == "anonymous":
        return response.status_code == 302 and "/auth/login" in response.headers["Location"]
    return response.status_code == 403


def refused(response) -> bool:
    """Denied: 401/403/404, or (a page) a redirect to sign in."""
    to_login = response.status_code == 302 and "/auth/login" in response.headers.get("Location", "")
    return response.status_code in (401, 403, 404) or to_login


@pytest.fixture
def world(hengelo):
    return build_world()


def _sign_in(client, role, world) -> None:
    if role == "anonymous":
        world.headers = {}
        return
    user = world.users[role]
    world.headers = casework.api_headers(user)
    response = staff_login.sign_in(client, user.email, PASSWORD)
    assert response.status_code == 302, role


def _check_unchanged(before, method, rule, problems, what) -> None:
    if method in CHANGES:
        after = row_counts()
        if after != before:
            changed = {k: (before[k], after[k]) for k in after if after[k] != before[k]}
            problems.append(f"{what} {method} {rule} changed rows {changed}")


def _params_of(rule: str) -> set[str]:
    return set(re.findall(r"<(?:[^:>]+:)?(\w+)>", rule))


def _check_role_denied(client, role, world, routes, own, problems) -> int:
    """Routes this role may not call: refused, and nothing changed."""
    checked = 0
    for rule, method, _endpoint, declared in routes:
        if allowed(role, declared):
            continue
        before = row_counts() if method in CHANGES else None
        response = call(client, role, world, rule, method, own)
        if not denied_as_expected(role, rule, response):
            problems.append(f"role-denied {method} {rule} -> {response.status_code}")
        _check_unchanged(before, method, rule, problems, "role-denied")
        checked += 1
    return checked


def _check_foreign_objects(client, role, world, routes, other, problems) -> int:
    """Allowed routes on someone else's object: 403/404, and nothing changed."""
    checked = 0
    scoped = SCOPED.get(role, set())
    for rule, method, _endpoint, declared in routes:
        if declared == PUBLIC or not allowed(role, declared) or rule in NOT_OWNED:
            continue
        if not _params_of(rule) & scoped:
            continue
        before = row_counts() if method in CHANGES else None
        response = call(client, role, world, rule, method, other)
        if not refused(response):
            problems.append(f"foreign object {method} {rule} -> {response.status_code}")
        _check_unchanged(before, method, rule, problems, "foreign")
        checked += 1
    return checked


def _check_other_municipality(client, world, problems) -> int:
    """A municipality user asking for another municipality's figures: 404."""
    for path in sorted(MUNICIPALITY_ROUTES):
        response = client.get(f"{path}?gemeente=GM0147", headers=world.headers)
        if response.status_code != 404:
            problems.append(f"other municipality GET {path} -> {response.status_code}")
    return len(MUNICIPALITY_ROUTES)


def _check_own_objects(client, role, world, routes, own, problems) -> int:
    """Allowed routes on the own object: never refused; reads answer 2xx/3xx (reads first)."""
    checked = 0
    ordered = sorted((r for r in routes if allowed(role, r[3])), key=lambda r: r[1] in CHANGES)
    for rule, method, _endpoint, _declared in ordered:
        if (rule, method) in ENDS:
            continue
        response = call(client, role, world, rule, method, own)
        status = response.status_code
        to_login = status == 302 and "/auth/login" in response.headers["Location"]
        if status in (401, 403) or (to_login and rule not in PENDING_STEPS):
            problems.append(f"allowed {method} {rule} -> {status}")
        elif method == "GET" and status >= 400 and not _params_of(rule) & SECRET_ARGUMENTS:
            problems.append(f"own object GET {rule} -> {status}")
        checked += 1
    return checked


def _check_session_cookie_on_api(client, role, routes, own, problems) -> int:
    """A browser session (no token) may read the API like its role, never change anything."""
    checked = 0
    for rule, method, _endpoint, declared in routes:
        if not rule.startswith("/api/") or declared == PUBLIC or (rule, method) in ENDS:
            continue
        before = row_counts() if method in CHANGES else None
        kwargs = {"json": BODIES.get(rule, {})} if method in CHANGES else {}
        response = client.open(url_for_rule(rule, own), method=method, **kwargs)
        status = response.status_code
        if method in CHANGES and status != 401:
            problems.append(f"session-only {method} {rule} -> {status}")
        elif method == "GET" and allowed(role, declared) and status in (401, 403):
            problems.append(f"session read {rule} -> {status}")
        elif method == "GET" and not allowed(role, declared) and status != 403:
            problems.append(f"session read of another role's {rule} -> {status}")
        _check_unchanged(before, method, rule, problems, "session-only")
        checked += 1
    return checked


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_by_its_declared_rule(app_ctx, client, world, role):
    _sign_in(client, role, world)
    staff_role = role in ("worker", "admin", "municipality")
    own = world.own | world.own_staff if staff_role else world.own_staff | world.own
    other = world.other | world.other_staff if role == "worker" else world.other_staff | world.other
    routes = route_rules(app_ctx)
    problems: list[str] = []
    checked = _check_role_denied(client, role, world, routes, own, problems)
    checked += _check_foreign_objects(client, role, world, routes, other, problems)
    if role == "municipality":
        checked += _check_other_municipality(client, world, problems)
    if role == "worker":
        for url in WORKER_QUERY_ROUTES:
            response = client.get(url.format(code=FAR_CODE))
            if not refused(response):
                problems.append(f"other neighbourhood GET {url} -> {response.status_code}")
            checked += 1
    if role != "anonymous":
        checked += _check_session_cookie_on_api(client, role, routes, own, problems)
    checked += _check_own_objects(client, role, world, routes, own, problems)
    CHECKED[role] = checked
    print(f"\nauthorization matrix: {role}: {checked} route checks")
    assert problems == [], "\n".join(problems)


def test_a_related_resident_reads_the_shared_match_and_nothing_else_of_the_other(
    app_ctx, client, world
):
    """The invited helper (related to the requester by one match): the match and its messages
    are theirs to read; the requester's request, its suggestions and edits stay 404."""
    match_id = world.own["match_id"]
    match = db.session.get(Match, match_id)
    invite_helper(match_id, match.request.requester_id)
    helper_user = staff("resident")
    helper_user.resident_id = match.helper_id
    commit()
    world.users["resident"] = helper_user
    _sign_in(client, "resident", world)
    values = world.own_staff | world.own
    problems: list[str] = []
    checked = 0
    for rule, method, _endpoint, declared in route_rules(app_ctx):
        names = _params_of(rule)
        if declared != ("resident",) or rule in NOT_OWNED or (rule, method) in ENDS:
            continue
        if "match_id" in names and method == "GET":
            response = call(client, "resident", world, rule, method, values)
            if response.status_code >= 400:
                problems.append(f"shared match {rule} -> {response.status_code}")
        elif names & {"request_id", "offer_id", "notification_id"}:
            before = row_counts() if method in CHANGES else None
            response = call(client, "resident", world, rule, method, values)
            if not refused(response):
                problems.append(f"requester's object {method} {rule} -> {response.status_code}")
            _check_unchanged(before, method, rule, problems, "related")
        else:
            continue
        checked += 1
    CHECKED["related resident"] = checked
    assert checked >= 20 and problems == [], "\n".join(problems)


def test_matrix_summary(app_ctx):
    """The figure for the README: routes × roles × ownership cases checked."""
    if not set(ROLES) <= set(CHECKED):
        pytest.skip("run together with the matrix test (all roles)")
    total = sum(CHECKED.values())
    routes = len(route_rules(app_ctx))
    print(f"\nauthorization matrix: {routes} route-methods x {len(ROLES)} roles: {total} checks")
    assert total >= routes * len(ROLES) * 0.9
