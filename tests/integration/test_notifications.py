"""Notifications: once per key, through the channels that reach a person, in fair waves."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import Match, Notification
from mutualaid.models.base import utcnow
from mutualaid.models.vocab import channel_mask
from mutualaid.services.demo import ensure_categories
from mutualaid.services.notifications import (
    notify,
    requests_awaiting_a_wave,
    send_next_wave,
)
from tests import builders


@pytest.fixture
def town(hengelo):
    ensure_categories()
    hengelo.config.update(
        WAVE_SIZE=2,
        WAVE_TIMEOUT_MINUTES=60,
        HELPER_DAILY_NOTIFICATION_BUDGET=2,
        SMTP_HOST="",
        SMS_CHANNEL="",
    )
    yield hengelo
    hengelo.config.update(SMS_CHANNEL="")


def request_with_suggestions(helpers: int = 5):
    """An open request with `helpers` suggested helpers, best first."""
    request = builders.help_request(neighbourhood_id=None)
    db.session.flush()
    matches = []
    for i in range(helpers):
        offer = builders.offer()
        db.session.flush()
        match = Match(
            request_id=request.id,
            offer_id=offer.id,
            helper_id=offer.helper_id,
            score=0.9 - i * 0.1,
            rank=i + 1,
        )
        db.session.add(match)
        matches.append(match)
    db.session.commit()
    return request, matches


def asked(request_id) -> list[tuple[int, int]]:
    return [
        tuple(r)
        for r in db.session.execute(
            select(Notification.resident_id, Notification.wave)
            .where(Notification.request_id == request_id)
            .order_by(Notification.id)
        )
    ]


def test_a_notification_is_sent_once_per_key(town):
    person = builders.resident()
    db.session.commit()
    assert len(notify(person.id, "test", "k1", "Onderwerp", "Tekst")) == 1
    assert notify(person.id, "test", "k1", "Onderwerp", "Tekst") == []
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_sms_channel_is_used_when_configured_and_the_person_wants_phone(town):
    town.config["SMS_CHANNEL"] = "mutualaid.channels.LogSmsChannel"
    person = builders.resident(phone="0612345678", channel_mask=channel_mask(["phone"]))
    db.session.commit()
    sent = notify(person.id, "test", "k2", "Onderwerp", "Tekst")
    assert sorted(n.channel for n in sent) == ["in_app", "sms"]


def test_first_wave_asks_the_top_candidates(town):
    request, matches = request_with_suggestions()
    assert send_next_wave(request.id) == 1
    assert asked(request.id) == [(matches[0].helper_id, 1), (matches[1].helper_id, 1)]


def test_next_wave_waits_for_the_timeout_then_asks_the_next_ones(town):
    request, matches = request_with_suggestions()
    send_next_wave(request.id)
    assert send_next_wave(request.id) is None  # too early
    db.session.execute(
        Notification.__table__.update().values(created_at=utcnow() - timedelta(minutes=61))
    )
    db.session.commit()
    assert send_next_wave(request.id) == 2
    assert [h for h, w in asked(request.id) if w == 2] == [m.helper_id for m in matches[2:4]]


def test_no_new_wave_once_someone_accepted(town):
    request, matches = request_with_suggestions()
    matches[3].status = "accepted"
    db.session.commit()
    assert send_next_wave(request.id, force=True) is None
    assert request.id not in requests_awaiting_a_wave()


def test_helper_over_the_daily_budget_is_skipped(town):
    _, busy_matches = request_with_suggestions(helpers=1)
    busy_helper = busy_matches[0].helper_id
    # The same helper was already asked about two other requests today.
    for _ in range(2):
        other = builders.help_request()
        db.session.flush()
        notify(
            busy_helper,
            "help_wanted",
            f"help_wanted:{other.id}:{busy_helper}",
            "s",
            "b",
            request_id=other.id,
        )
    request, _ = request_with_suggestions(helpers=2)
    db.session.add(
        Match(
            request_id=request.id,
            offer_id=busy_matches[0].offer_id,
            helper_id=busy_helper,
            score=0.99,
            rank=1,
        )
    )
    db.session.commit()
    send_next_wave(request.id)
    assert busy_helper not in [h for h, _ in asked(request.id)]
    assert len(asked(request.id)) == 2


def test_help_wanted_text_does_not_reveal_the_requester(town):
    request, _ = request_with_suggestions(helpers=1)
    send_next_wave(request.id)
    note = db.session.scalar(select(Notification).where(Notification.request_id == request.id))
    requester = request.requester
    for private in (requester.first_name, requester.street, requester.email):
        assert private not in note.body and private not in note.subject
