"""50 helpers invited on one request say yes at the same moment, each through its own API client:
exactly one wins, the 49 others get a 409 and the request is matched once (PostgreSQL row lock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Match
from mutualaid.services import helping
from mutualaid.services.accounts import create_user
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_request
from tests.conftest import using_postgres
from tests.flows import neighbour

HELPERS = 50

pytestmark = pytest.mark.skipif(
    not using_postgres(),
    reason="concurrent writers need PostgreSQL: SQLite serialises every write on one file lock, "
    "so it cannot show the row lock at work (set DATABASE_URL=postgresql://...)",
)


def _bearer(resident) -> dict:
    user = create_user(
        f"h{resident.id}@example.org",
        "a-long-enough-password",
        "resident",
        resident.first_name,
        resident_id=resident.id,
    )
    _, secret = create_api_token(user.id, "concurrency")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def fifty_invited(hengelo):
    """One request with 50 helpers nearby, each invited by the requester."""
    ensure_categories()
    requester = neighbour(0, first_name="Anna")
    helpers, offers = [], []
    for index in range(HELPERS):
        helper = neighbour(20 * (index + 1), first_name=f"Helper{index}")
        offers.append(
            post_offer(helper.id, categories=["boodschappen"], radius_m=3000, slots=(1 << 21) - 1)
        )
        helpers.append(helper)
    request = post_request(requester.id, category="boodschappen", description="Boodschappen")
    match_request(request.id, force=True)  # the engine suggests its top few
    suggested = db.session.scalars(select(Match).where(Match.request_id == request.id)).all()
    seen = {m.helper_id for m in suggested}
    for rank, offer in enumerate(offers, start=len(seen) + 1):
        if offer.helper_id not in seen:  # the rest as further suggestions, so all 50 can be asked
            db.session.add(
                Match(
                    request_id=request.id, offer_id=offer.id, helper_id=offer.helper_id, rank=rank
                )
            )
    db.session.commit()
    matches = db.session.scalars(select(Match).where(Match.request_id == request.id)).all()
    by_helper = {m.helper_id: m.id for m in matches}
    assert len(by_helper) == HELPERS, "every helper must have a match to accept"
    for helper in helpers:
        helping.invite_helper(by_helper[helper.id], requester.id)
    return request.id, [(by_helper[h.id], _bearer(h)) for h in helpers]


def test_fifty_concurrent_accepts_let_exactly_one_win(hengelo, fifty_invited):
    request_id, pairs = fifty_invited
    barrier = threading.Barrier(HELPERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def accept(match_id: int, auth: dict) -> None:
        client = hengelo.test_client()  # one client (and app context per request) each
        barrier.wait()
        response = client.post(f"/api/v1/matches/{match_id}/accept", headers=auth)
        with lock:
            statuses.append(response.status_code)
        if response.status_code == 409:
            assert response.get_json()["error"] == "conflict"

    threads = [threading.Thread(target=accept, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(statuses) == [200] + [409] * (HELPERS - 1)

    db.session.expire_all()
    match_statuses = db.session.scalars(
        select(Match.status).where(Match.request_id == request_id)
    ).all()
    assert sorted(match_statuses) == ["accepted"] + ["cancelled"] * (HELPERS - 1)
    assert db.session.get(HelpRequest, request_id).status == "matched"
    # The winner's offer carries exactly one accepted match (capacity 1 respected once).
    accepted = db.session.scalar(
        select(Match).where(Match.request_id == request_id, Match.status == "accepted")
    )
    assert (
        db.session.scalar(
            select(func.count(Match.id)).where(
                Match.offer_id == accepted.offer_id, Match.status == "accepted"
            )
        )
        == 1
    )
