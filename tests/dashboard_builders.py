"""Builders for the worker dashboard tests: neighbourhoods, staff, activity and done help."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import Match, Neighbourhood, VogRecord, Vouch
from mutualaid.models.base import utcnow
from mutualaid.services.accounts import create_user
from tests import builders, staff_login
from tests.staff_login import enrol

PASSWORD = "long-enough-password"
# Two Hengelo neighbourhoods: the worker's own and one next door that is not theirs.
MINE = "BU01640000"
OTHER = "BU01640101"


def neighbourhood(code: str) -> Neighbourhood:
    return db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == code))


def staff(email: str, role: str = "worker", codes: tuple[str, ...] = (MINE,)):
    extra = {"neighbourhood_codes": list(codes)} if role == "worker" else {}
    if role == "municipality":
        extra = {"municipality_code": "GM0164"}
    user = create_user(email, PASSWORD, role, email.split("@")[0].title(), **extra)
    enrol(user)  # staff sign in with a second factor (tests/staff_login.py)
    db.session.commit()
    return user


def person(code: str = MINE, *, days_active: int | None = 10, **overrides):
    """A resident of a neighbourhood, first active `days_active` days ago (None: never)."""
    place = neighbourhood(code)
    values = {
        "neighbourhood_id": place.id,
        "home_lat": place.centroid_lat,
        "home_lon": place.centroid_lon,
        "first_active_at": None if days_active is None else utcnow() - timedelta(days=days_active),
    }
    values.update(overrides)
    return builders.resident(**values)


def asks(requester, *, days_ago: int = 1, **overrides):
    """An open request by `requester`, created `days_ago` days ago."""
    at = utcnow() - timedelta(days=days_ago)
    values = {
        "neighbourhood_id": requester.neighbourhood_id,
        "created_at": at,
        "updated_at": at,
    }
    values.update(overrides)
    item = builders.help_request(requester, **values)
    db.session.flush()
    return item


def offers(helper, **overrides):
    item = builders.offer(helper, neighbourhood_id=helper.neighbourhood_id, **overrides)
    db.session.flush()
    return item


def helped(helper, requester, *, days_ago: int = 5, status: str = "done"):
    """`helper` helped `requester` (a done match), `days_ago` days ago."""
    at = utcnow() - timedelta(days=days_ago)
    request = asks(requester, days_ago=days_ago + 1, status="done" if status == "done" else "open")
    offer = offers(helper)
    match = Match(
        request_id=request.id,
        offer_id=offer.id,
        helper_id=helper.id,
        status=status,
        done_at=at if status == "done" else None,
        accepted_at=at,
        status_changed_at=at,
    )
    db.session.add(match)
    db.session.flush()
    return match


def decline(request, helper):
    offer = offers(helper)
    match = Match(request_id=request.id, offer_id=offer.id, helper_id=helper.id, status="declined")
    db.session.add(match)
    db.session.flush()
    return match


def vog(resident, *, issued_days_ago: int = 30, expires_in_days: int | None = None):
    today = utcnow().date()
    record = VogRecord(
        resident_id=resident.id,
        issued_on=today - timedelta(days=issued_days_ago),
        expires_on=None if expires_in_days is None else today + timedelta(days=expires_in_days),
    )
    db.session.add(record)
    db.session.flush()
    return record


def vouch(resident, worker, *, revoked: bool = False):
    item = Vouch(
        resident_id=resident.id, worker_user_id=worker.id, revoked_at=utcnow() if revoked else None
    )
    db.session.add(item)
    db.session.flush()
    return item


def sign_in(client, email: str) -> None:
    response = staff_login.sign_in(client, email, PASSWORD)
    assert response.status_code == 302
