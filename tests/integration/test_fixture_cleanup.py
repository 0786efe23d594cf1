"""The per-test cleanup empties every table, also around an assisted resident without contact
details (deleting the worker first used to break that resident's `reachable` check)."""

from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import Resident
from mutualaid.services.accounts import create_user
from tests import builders


def test_assisted_resident_without_phone_or_email_is_stored(app_ctx):
    worker = create_user("coach@example.org", "een-lang-wachtwoord-9", "worker", "Coach")
    builders.resident(email=None, phone=None, registered_by_user_id=worker.id)
    db.session.commit()
    assert db.session.scalar(select(func.count(Resident.id))) == 1


def test_the_next_test_starts_empty(app_ctx):
    assert db.session.scalar(select(func.count(Resident.id))) == 0
