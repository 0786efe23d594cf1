"""Retention: closed requests are anonymised after the period; the statistics stay right."""

from datetime import timedelta

from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Match, Message, Notification
from mutualaid.models.base import utcnow
from mutualaid.services.neighbourhoods import assign_neighbourhood
from mutualaid.services.retention import REMOVED_TEXT, anonymise_closed_requests
from tests import builders


def closed_request(days_ago: int, status: str = "done") -> HelpRequest:
    requester = builders.resident()
    helper = builders.resident(first_name="Helper")
    request = builders.help_request(
        requester,
        description="Boodschappen voor mevrouw op nummer 12, sleutel onder de mat",
        address_line="Marskant 12",
        postcode="7551AB",
        street="Marskant",
        status=status,
        closed_at=utcnow() - timedelta(days=days_ago),
        neighbourhood_id=assign_neighbourhood(*builders.CENTRE).id,
    )
    offer = builders.offer(helper)
    db.session.flush()
    match = Match(
        request_id=request.id,
        offer_id=offer.id,
        helper_id=helper.id,
        status="done" if status == "done" else "cancelled",
        thanks_note="Dank je wel Helper!",
        feedback_rating=5,
    )
    db.session.add(match)
    db.session.flush()
    db.session.add(Message(match_id=match.id, sender_resident_id=helper.id, body="Ik bel om 10u"))
    db.session.add(
        Notification(
            idempotency_key=f"test-{request.id}",
            resident_id=requester.id,
            request_id=request.id,
            kind="match_done",
            subject="Klaar",
            body="Helper heeft u geholpen",
        )
    )
    db.session.commit()
    return request


def test_old_closed_requests_are_anonymised_and_recent_or_open_ones_kept(hengelo):
    old = closed_request(400)
    recent = closed_request(10)
    old_open = builders.help_request(description="Nog steeds hulp nodig")
    db.session.commit()
    by_category_before = db.session.execute(
        select(HelpRequest.category_id, HelpRequest.neighbourhood_id, HelpRequest.status).order_by(
            HelpRequest.id
        )
    ).all()

    counts = anonymise_closed_requests(older_than_days=365)

    assert counts["requests"] == 1 and counts["messages"] == 1 and counts["notifications"] == 1
    db.session.expire_all()
    gone = db.session.get(HelpRequest, old.id)
    assert gone.anonymised_at is not None
    assert gone.description == "" and gone.address_line is None and gone.postcode is None
    centre = gone.neighbourhood
    assert (gone.lat, gone.lon) == (centre.centroid_lat, centre.centroid_lon)
    match = db.session.scalar(select(Match).where(Match.request_id == old.id))
    assert match.thanks_note is None and match.feedback_rating == 5 and match.status == "done"
    assert (
        db.session.scalar(select(Message.body).where(Message.match_id == match.id)) == REMOVED_TEXT
    )
    assert db.session.get(HelpRequest, recent.id).description.startswith("Boodschappen")
    assert db.session.get(HelpRequest, old_open.id).description == "Nog steeds hulp nodig"
    # The figures per category, neighbourhood and status are what they were.
    assert (
        db.session.execute(
            select(
                HelpRequest.category_id, HelpRequest.neighbourhood_id, HelpRequest.status
            ).order_by(HelpRequest.id)
        ).all()
        == by_category_before
    )
    assert db.session.scalar(select(func.count(Match.id))) == 2


def test_a_second_run_finds_nothing_more_to_do(hengelo):
    closed_request(400, status="cancelled")
    assert anonymise_closed_requests(older_than_days=365)["requests"] == 1
    assert anonymise_closed_requests(older_than_days=365) == {
        "requests": 0,
        "matches": 0,
        "messages": 0,
        "notifications": 0,
    }
