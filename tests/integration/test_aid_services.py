"""Posting and changing requests and offers: validation, neighbourhoods, consent, the outbox."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from mutualaid.background import get_queue
from mutualaid.errors import Conflict, Invalid, NotAllowed, NotFound
from mutualaid.extensions import db
from mutualaid.models import ConsentRecord, HelpRequest, Offer
from mutualaid.services.accounts import create_user
from mutualaid.services.aid import (
    cancel_request,
    post_offer,
    post_request,
    update_offer,
    update_request,
)
from mutualaid.services.demo import ensure_categories
from tests import builders


@pytest.fixture
def town(hengelo):
    ensure_categories()
    get_queue("matching").empty()
    return hengelo


def queued_job_args(queue="matching") -> list:
    q = get_queue(queue)
    return [(job.func_name, job.args) for job in q.get_jobs()]


def test_posted_request_is_placed_in_its_neighbourhood_and_queued_after_commit(town):
    anna = builders.resident()
    request = post_request(
        anna.id, category="boodschappen", description="Boodschappen doen", slots=0b111
    )
    assert request.neighbourhood.name == "Binnenstad-Centrum"
    assert request.matching_pending_since is not None
    assert queued_job_args() == [("mutualaid.jobs.match_request", [request.id])]
    assert anna.first_active_at is not None


def test_request_for_a_vog_category_requires_a_vog_helper(town):
    request = post_request(builders.resident().id, category="kinderoppas", description="Oppas")
    assert request.needs_vog is True


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"category": "vliegen", "description": "x"}, "category"),
        ({"category": "vervoer", "description": ""}, "description"),
        ({"category": "vervoer", "description": "x", "slots": 1 << 22}, "slots"),
        ({"category": "vervoer", "description": "x", "slots": "veel"}, "slots"),
        ({"category": "vervoer", "description": "x", "urgency": "now"}, "urgency"),
        ({"category": "vervoer", "description": "x", "max_distance_m": 10}, "max_distance_m"),
        ({"category": "vervoer", "description": "x", "lat": 52.37, "lon": 4.89}, "location"),
        ({"category": "vervoer", "description": "x", "lat": 99, "lon": 6.79}, "lat"),
        (
            {
                "category": "vervoer",
                "description": "x",
                "window_start": date(2020, 1, 1),
                "window_end": date(2020, 1, 2),
            },
            "window_end",
        ),
        ({"category": "vervoer", "description": "x", "window_start": date.today()}, "window_end"),
        ({"category": "vervoer", "description": "x", "colour": "red"}, "colour"),
        ({"description": "x"}, "category"),
    ],
)
def test_bad_request_input_names_the_field_and_stores_nothing(town, values, field):
    anna = builders.resident()
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        post_request(anna.id, **values)
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(HelpRequest.id))) == 0
    assert queued_job_args() == []


def test_worker_registers_a_request_on_behalf_with_recorded_consent(town):
    from mutualaid.models import Neighbourhood

    centre = db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == "BU01640000"))
    worker = create_user(
        "coach@example.org",
        "long-enough-password",
        "worker",
        "Coach",
        neighbourhood_codes=[centre.code],
    )
    truus = builders.resident(
        email=None, phone="0612345678", self_service=False, neighbourhood_id=centre.id
    )
    request = post_request(
        truus.id,
        category="vervoer",
        description="Naar de huisarts",
        registered_by_user_id=worker.id,
        consent_method="phone",
    )
    consent = db.session.get(ConsentRecord, request.consent_id)
    assert consent.recorded_by_user_id == worker.id and consent.method == "phone"


def test_worker_cannot_register_for_a_resident_outside_their_neighbourhoods(town):
    worker = create_user(
        "coach@example.org",
        "long-enough-password",
        "worker",
        "Coach",
        neighbourhood_codes=["BU01640101"],
    )
    truus = builders.resident(neighbourhood_id=None)
    with pytest.raises(NotAllowed) as caught:
        post_request(
            truus.id,
            category="vervoer",
            description="x",
            registered_by_user_id=worker.id,
            consent_method="phone",
        )
    assert caught.value.rule == "neighbourhood_scope"


def test_on_behalf_without_a_consent_method_is_refused(town):
    worker = create_user("admin@example.org", "long-enough-password", "admin", "Admin")
    with pytest.raises(Invalid) as caught:
        post_request(
            builders.resident().id,
            category="vervoer",
            description="x",
            registered_by_user_id=worker.id,
        )
    assert caught.value.field == "consent_method"


def test_rolled_back_transaction_enqueues_nothing(town):
    from mutualaid.background import enqueue_after_commit

    get_queue("default").empty()  # earlier tests (done, thanks) queue trust rebuilds there
    enqueue_after_commit(db.session, "mutualaid.jobs.ping", "x", queue="default")
    db.session.rollback()
    db.session.commit()
    assert get_queue("default").count == 0


def test_update_and_cancel_follow_the_request_lifecycle(town):
    anna = builders.resident()
    request = post_request(anna.id, category="tuin", description="Heg snoeien")
    update_request(request.id, anna.id, description="Heg en gras", urgency="high")
    assert request.description == "Heg en gras"
    other = builders.resident()
    with pytest.raises(NotFound):  # someone else's request does not exist for them
        update_request(request.id, other.id, description="mine now")
    cancel_request(request.id, anna.id)
    assert request.status == "cancelled" and request.matching_pending_since is None
    with pytest.raises(Conflict):
        update_request(request.id, anna.id, description="again")


def test_offer_is_posted_paused_and_reactivated(town):
    jan = builders.resident()
    offer = post_offer(
        jan.id,
        categories=["boodschappen", "vervoer", "vervoer"],
        radius_m=2500,
        slots=0b101,
        capacity=2,
    )
    assert sorted(c.code for c in offer.categories) == ["boodschappen", "vervoer"]
    assert ("mutualaid.jobs.match_offer", [offer.id]) in queued_job_args()
    update_offer(offer.id, jan.id, is_active=False)
    assert db.session.get(Offer, offer.id).is_active is False


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"categories": []}, "categories"),
        ({"categories": ["onbekend"]}, "categories"),
        ({"categories": ["tuin"], "radius_m": 0}, "radius_m"),
        ({"categories": ["tuin"], "capacity": 21}, "capacity"),
        ({"categories": ["tuin"], "capacity": True}, "capacity"),
    ],
)
def test_bad_offer_input_names_the_field(town, values, field):
    with pytest.raises(Invalid) as caught:
        post_offer(builders.resident().id, **values)
    assert caught.value.field == field


def test_window_in_the_future_is_accepted(town):
    start = date.today() + timedelta(days=2)
    request = post_request(
        builders.resident().id,
        category="vervoer",
        description="Ritje",
        window_start=start,
        window_end=start + timedelta(days=1),
    )
    assert request.window_end > request.window_start
