"""An expired suggestion comes back when the reason it expired has passed: an offer paused and
resumed is suggested again for the requests it was suggested for, through the service and
through a real worker running the job that resuming enqueues. Suggestions that expired because
nobody acted on them in time, or because of a block, stay expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mutualaid.background import QUEUE_NAMES, get_queue
from mutualaid.extensions import db
from mutualaid.models import Match
from mutualaid.models.base import utcnow
from mutualaid.services import helping
from mutualaid.services.aid import pause_offer, resume_offer
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import expire_stale_suggestions, match_offer, match_request
from mutualaid.services.suggestions import DROPPED_REASON, PAUSED_REASON
from tests.flows import make_street
from tests.integration.worker_helpers import running_worker, wait_for


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def status(street, helper) -> tuple[str, str | None]:
    """The match's status and reason as stored now (not what the session remembers)."""
    return tuple(
        db.session.execute(
            select(Match.status, Match.status_reason).where(
                Match.request_id == street.request.id, Match.helper_id == helper.id
            )
        ).one()
    )


def names(street) -> list[str]:
    return [
        v["other_first_name"]
        for v in helping.suggestions_for_request(street.request.id, street.requester.id)
    ]


def test_a_resumed_offer_is_suggested_again_for_the_same_request(town):
    street = make_street(helpers=1)
    helper, offer = street.helpers[0], street.offers[0]
    match_id = street.match_of(helper).id
    pause_offer(offer.id, helper.id)
    assert status(street, helper) == ("expired", PAUSED_REASON)
    assert names(street) == []
    # A run while the offer is paused leaves it expired.
    match_request(street.request.id, force=True)
    assert status(street, helper) == ("expired", PAUSED_REASON)

    resume_offer(offer.id, helper.id)
    result = match_offer(offer.id)  # the job resuming enqueued
    assert result["revived"] == 1
    assert status(street, helper) == ("suggested", None)
    assert names(street) == ["Helper1"]
    assert street.match_of(helper).id == match_id  # the same row, brought back


def test_a_suggestion_ranked_out_and_back_in_is_suggested_again(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    # A run that no longer ranks the pair (the helper's offer is out of reach for a moment).
    offer = street.offers[0]
    db.session.execute(update(type(offer)).where(type(offer).id == offer.id).values(radius_m=1))
    db.session.commit()
    match_request(street.request.id, force=True)
    assert status(street, helper) == ("expired", DROPPED_REASON)
    db.session.execute(update(type(offer)).where(type(offer).id == offer.id).values(radius_m=3000))
    db.session.commit()
    match_request(street.request.id, force=True)
    assert status(street, helper) == ("suggested", None)


def test_suggestions_nobody_acted_on_in_time_stay_expired(town):
    street = make_street(helpers=1)
    helper = street.helpers[0]
    days = town.config["SUGGESTION_TTL_DAYS"]
    db.session.execute(update(Match).values(updated_at=utcnow() - timedelta(days=days + 1)))
    db.session.commit()
    assert expire_stale_suggestions()["suggestions"] == 1
    match_request(street.request.id, force=True)
    assert status(street, helper)[0] == "expired"


def test_a_blocked_pair_stays_expired_after_a_resume(town):
    from mutualaid.services.ties import block_resident

    street = make_street(helpers=1)
    helper, offer = street.helpers[0], street.offers[0]
    block_resident(street.requester.id, helper.id)
    pause_offer(offer.id, helper.id)
    resume_offer(offer.id, helper.id)
    match_offer(offer.id)
    assert status(street, helper) == ("expired", "blocked")


@pytest.mark.slow
def test_a_real_worker_brings_the_suggestion_back_after_a_resume(town, instance_path, tmp_path):
    street = make_street(helpers=1)
    helper, offer = street.helpers[0], street.offers[0]
    for name in QUEUE_NAMES:
        get_queue(name).empty()
    pause_offer(offer.id, helper.id)
    assert status(street, helper) == ("expired", PAUSED_REASON)
    with running_worker(town, instance_path, tmp_path / "worker.log"):
        resume_offer(offer.id, helper.id)  # enqueues match_offer once this commits
        assert wait_for(lambda: status(street, helper) == ("suggested", None), timeout=60)
    assert names(street) == ["Helper1"]
