"""The hot resident reads take a fixed number of SQL statements, however many matches, helpers
and messages there are: an N+1 (one lookup per listed row) makes these tests fail.

Counting statements is behaviour, not timing: the same street is read with 2 helpers and again
after 4 more helpers joined, been invited and written; every read must cost the same number of
statements both times, and no more than its budget. Each read starts from an empty session
(as in a server process), so nothing is answered from the identity map of the test itself.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from mutualaid.extensions import db
from mutualaid.models import Match
from mutualaid.services.aid import post_offer
from mutualaid.services.demo import ensure_categories
from mutualaid.services.inviting import invite_helper
from mutualaid.services.matching import match_request
from mutualaid.services.messages import post_message
from tests.e2e.test_api_resident_flows import token_for
from tests.flows import make_street, neighbour

# Statements per request, including the Bearer token check (one SELECT of the token with its
# account) and, at most once a minute, recording the token's last use (not counted here).
BUDGET = {
    "suggestions": 3,  # the token, the request (category, requester, neighbourhood), matches
    "matches": 3,  # the token, the count, the page (with everything match_view reads)
    "overview": 8,
    "messages": 4,  # the token, the match, marking read (commits only if any), the messages
    "requests": 4,
    "offers": 5,
    "invitations": 2,
    "open_requests": 8,
    "notifications": 4,
}


@contextmanager
def counted():
    """Count the SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def _read_all(client, street, auth) -> dict[str, int]:
    request_id = street.request.id
    anna, helper = auth["anna"], auth["h1"]
    match_id = street.match_of(street.helpers[0]).id
    reads = {
        "suggestions": (f"/api/v1/requests/{request_id}/suggestions", anna),
        "matches": ("/api/v1/matches", anna),
        "overview": ("/api/v1/overview", anna),
        "messages": (f"/api/v1/matches/{match_id}/messages", anna),
        "requests": ("/api/v1/requests", anna),
        "offers": ("/api/v1/offers", helper),
        "invitations": ("/api/v1/invitations", helper),
        "open_requests": ("/api/v1/open-requests?per_page=20", helper),
        "notifications": ("/api/v1/me/notifications", anna),
    }
    counts = {}
    for name, (path, headers) in reads.items():
        client.get(path, headers=headers)  # the token's last use is now recorded
        db.session.remove()  # a fresh session, as in a new request of a server process
        with counted() as statements:
            answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.get_json())
        counts[name] = len(statements)
        db.session.remove()
    return counts


def _invite_and_write(street, helpers) -> None:
    for helper in helpers:
        match = street.match_of(helper)
        invite_helper(match.id, street.requester.id)
        post_message(match.id, helper.id, f"Hallo, ik ben {helper.first_name}")
        post_message(match.id, street.requester.id, "Fijn, dank u!")


def test_hot_reads_take_a_fixed_number_of_statements(client, town):
    street = make_street(helpers=2)
    auth = {"anna": token_for(street.requester), "h1": token_for(street.helpers[0])}
    _invite_and_write(street, street.helpers)
    few = _read_all(client, street, auth)

    more = []
    for index in range(4):
        helper = neighbour(150 * (index + 1) + 50, first_name=f"Extra{index}", channel_mask=0b11)
        post_offer(helper.id, categories=["boodschappen"], radius_m=3000, slots=(1 << 21) - 1)
        more.append(helper)
    match_request(street.request.id, force=True)
    db.session.expire_all()
    _invite_and_write(street, more)
    shown = db.session.scalars(select(Match).where(Match.request_id == street.request.id)).all()
    assert len(shown) == 6  # the read below lists six helpers, not two
    many = _read_all(client, street, auth)

    for name, budget in BUDGET.items():
        assert many[name] == few[name], f"{name}: {few[name]} statements, then {many[name]}"
        assert many[name] <= budget, f"{name}: {many[name]} statements, budget {budget}"
