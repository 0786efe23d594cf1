"""CSRF on every state change (issue 10, browser protection): with CSRF on, every page route
that changes something — as each role that may call it, and anonymously for the public ones —
refuses a form without the token with a 400, and no table changes. (The API is exempt: it
takes a Bearer token, and a session cookie alone may not change anything there; see the
authorization matrix.)"""

from __future__ import annotations

import pytest

from mutualaid.web.access import PUBLIC, route_rules
from tests.e2e.test_authorization_matrix import (
    BODIES,
    CHANGES,
    _sign_in,
    allowed,
    build_world,
    row_counts,
    url_for_rule,
)

ROLES = ("anonymous", "resident", "worker", "municipality", "admin")
CHECKED: dict[str, int] = {}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_change_without_the_csrf_token_is_refused(app_ctx, client, hengelo, role):
    world = build_world()
    _sign_in(client, role, world)  # with CSRF off, as the other tests sign in
    staff_role = role in ("worker", "admin", "municipality")
    values = world.own | world.own_staff if staff_role else world.own_staff | world.own
    routes = [
        r
        for r in route_rules(app_ctx)
        if r[1] in CHANGES
        and not r[0].startswith("/api/")
        and (r[3] == PUBLIC if role == "anonymous" else allowed(role, r[3]) and r[3] != PUBLIC)
    ]
    app_ctx.config["WTF_CSRF_ENABLED"] = True
    problems = []
    try:
        before = row_counts()
        for rule, method, _endpoint, _declared in routes:
            response = client.open(
                url_for_rule(rule, values), method=method, data=BODIES.get(rule, {})
            )
            if response.status_code != 400:
                problems.append(f"{method} {rule} -> {response.status_code}")
    finally:
        app_ctx.config["WTF_CSRF_ENABLED"] = False
    assert row_counts() == before
    CHECKED[role] = len(routes)
    print(f"\ncsrf: {role}: {len(routes)} page changes refused without the token")
    assert routes and problems == [], "\n".join(problems)
