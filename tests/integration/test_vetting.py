"""Vouching and VOGs: the vouch the engine reads, VOG expiry, the 30-day list, and an expired
VOG stopping the matches that need one."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from mutualaid.errors import Invalid, NotAllowed, NotFound
from mutualaid.extensions import db
from mutualaid.models import AuditEvent, Match, Offer, VogRecord, Vouch
from mutualaid.models.base import utcnow
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_all, match_request
from mutualaid.services.snapshot import load_snapshot
from mutualaid.services.vetting import (
    expiring_vogs,
    record_vog,
    revoke_vouch,
    vouch_for,
)
from tests.casework import FAR_CODE, resident_in, staff


@pytest.fixture
def town(hengelo):
    ensure_categories()
    return hengelo


def audit_actions(resident_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_resident_id == resident_id)
            .order_by(AuditEvent.id)
        )
    )


def test_vouch_is_the_standing_the_engine_reads_and_can_be_revoked(town):
    worker = staff()
    helper = resident_in()
    offer = post_offer(helper.id, categories=["boodschappen"])
    vouch_for(worker.id, helper.id, note="Ken haar van het buurthuis")
    vouched = load_snapshot(None).offers["vouched"]
    assert vouched.tolist() == [True]
    vouch_for(worker.id, helper.id)  # again: still one row, still active
    assert db.session.scalar(select(Vouch).where(Vouch.resident_id == helper.id)).revoked_at is None
    assert revoke_vouch(worker.id, helper.id, reason="verhuisd") == 1
    assert load_snapshot(None).offers["vouched"].tolist() == [False]
    assert audit_actions(helper.id) == [
        "resident.vouch",
        "resident.vouch",
        "resident.vouch_revoked",
    ]
    assert db.session.get(Offer, offer.id).matching_pending_since is not None


def test_worker_cannot_vouch_outside_their_neighbourhoods_and_residents_cannot_at_all(town):
    worker = staff()
    elsewhere = resident_in(FAR_CODE)
    with pytest.raises(NotFound):
        vouch_for(worker.id, elsewhere.id)
    with pytest.raises(NotAllowed):
        vouch_for(staff("resident").id, resident_in().id)
    assert db.session.scalar(select(Vouch)) is None
    vouch_for(staff("admin").id, elsewhere.id)  # an admin acts everywhere


def test_vog_expiry_defaults_to_the_configured_months_and_is_validated(town, app_ctx):
    worker = staff()
    helper = resident_in()
    issued = date(2025, 3, 14)
    record = record_vog(
        worker.id, helper.id, issued_on=issued.isoformat(), screening_profile="84 Personen"
    )
    months = app_ctx.config["VOG_VALID_MONTHS"]
    assert record.expires_on == date(2025 + months // 12, 3 + months % 12, 14)
    assert record.screening_profile == "84 Personen" and record.recorded_by_user_id == worker.id
    given = record_vog(worker.id, helper.id, issued_on=issued, expires_on="2026-01-01")
    assert given.expires_on == date(2026, 1, 1)
    for values, field in (
        ({"issued_on": None}, "issued_on"),
        ({"issued_on": "14-03-2025"}, "issued_on"),
        ({"issued_on": utcnow().date() + timedelta(days=1)}, "issued_on"),
        ({"issued_on": issued, "expires_on": issued}, "expires_on"),
        ({"issued_on": issued, "screening_profile": "x" * 81}, "screening_profile"),
    ):
        with pytest.raises(Invalid) as caught:
            record_vog(worker.id, helper.id, **values)
        assert caught.value.field == field
    assert db.session.query(VogRecord).count() == 2
    assert audit_actions(helper.id) == ["resident.vog_recorded", "resident.vog_recorded"]


def test_expiring_list_shows_only_the_next_30_days_in_the_workers_neighbourhoods(town):
    worker = staff()
    admin = staff("admin")
    today = utcnow().date()
    soon = resident_in(first_name="Binnenkort")
    later = resident_in(first_name="Later")
    gone = resident_in(first_name="Verlopen")
    renewed = resident_in(first_name="Vernieuwd")
    far = resident_in(FAR_CODE, first_name="Ver")
    issued = today - timedelta(days=1000)
    record_vog(admin.id, soon.id, issued_on=issued, expires_on=today + timedelta(days=10))
    record_vog(admin.id, later.id, issued_on=issued, expires_on=today + timedelta(days=31))
    record_vog(admin.id, gone.id, issued_on=issued, expires_on=today - timedelta(days=1))
    record_vog(admin.id, renewed.id, issued_on=issued, expires_on=today + timedelta(days=5))
    record_vog(admin.id, renewed.id, issued_on=today, expires_on=today + timedelta(days=900))
    record_vog(admin.id, far.id, issued_on=issued, expires_on=today + timedelta(days=3))

    rows = expiring_vogs(worker.id)
    assert [(r["first_name"], r["days_left"]) for r in rows] == [("Binnenkort", 10)]
    assert [r["first_name"] for r in expiring_vogs(admin.id)] == ["Ver", "Binnenkort"]
    viewed = db.session.scalars(
        select(AuditEvent.subject_resident_id).where(
            AuditEvent.actor_user_id == worker.id, AuditEvent.action == "view:vog_expiring"
        )
    ).all()
    assert viewed == [soon.id]


def test_expired_vog_stops_matches_that_need_one(town):
    worker = staff()
    today = utcnow().date()
    valid = resident_in(north_m=300, first_name="Geldig")
    expired = resident_in(north_m=100, first_name="Verlopen")
    for helper in (valid, expired):
        post_offer(helper.id, categories=["kinderoppas", "boodschappen"])
    # Issued recently enough by the months rule, but expired by its own date.
    record_vog(
        worker.id,
        expired.id,
        issued_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=1),
    )
    record_vog(worker.id, valid.id, issued_on=today - timedelta(days=400))
    parent = resident_in(north_m=-100)
    childminding = post_request(parent.id, category="kinderoppas", description="Oppas woensdag")
    groceries = post_request(parent.id, category="boodschappen", description="Boodschappen")
    match_request(childminding.id, force=True)
    match_all()

    def helpers(request_id):
        return set(
            db.session.scalars(select(Match.helper_id).where(Match.request_id == request_id))
        )

    assert helpers(childminding.id) == {valid.id}
    assert helpers(groceries.id) == {valid.id, expired.id}  # no VOG needed: both may help
