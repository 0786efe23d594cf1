"""Test helpers for the community-worker actions: staff accounts, residents in and out of a
worker's neighbourhoods, and a fingerprint of the stored matching state."""

from __future__ import annotations

import hashlib
from itertools import count

from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import Match, Neighbourhood, RankerVersion, Resident
from mutualaid.services.accounts import create_user
from mutualaid.services.tokens import issue_token
from mutualaid.services.transactions import commit
from tests import builders
from tests.staff_login import enrol

CENTRE_CODE = "BU01640000"  # Binnenstad-Centrum: the worker's neighbourhood in these tests
FAR_CODE = "BU01640200"  # Noord: somebody else's
PASSWORD = "een-lang-wachtwoord"
_seq = count(1)


def staff(role: str = "worker", codes: tuple[str, ...] = (CENTRE_CODE,), name: str = "Wil"):
    """A worker (assigned to `codes`), admin, municipality or resident account."""
    extra = {}
    if role == "worker":
        extra["neighbourhood_codes"] = list(codes)
    if role == "municipality":
        extra["municipality_code"] = "GM0164"
    if role == "resident":
        extra["resident_id"] = builders.resident().id
    user = create_user(
        f"{role}{next(_seq)}.{name.lower()}@example.org", PASSWORD, role, name, **extra
    )
    if role != "resident":
        enrol(user)  # staff sign in with a second factor (tests/staff_login.py)
        db.session.commit()
    return user


def api_headers(user) -> dict[str, str]:
    """A Bearer token header for the user."""
    _, secret = issue_token("api", user_id=user.id, label="tests")
    commit()
    return {"Authorization": f"Bearer {secret}"}


def neighbourhood(code: str) -> Neighbourhood:
    return db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == code))


def resident_in(code: str = CENTRE_CODE, north_m: float = 0.0, **overrides) -> Resident:
    """A resident living in the neighbourhood (near its inner point), placed in it."""
    area = neighbourhood(code)
    values = {
        "home_lat": area.centroid_lat + north_m / 111_195.0,
        "home_lon": area.centroid_lon,
        "neighbourhood_id": area.id,
    }
    values.update(overrides)
    return builders.resident(**values)


def matching_fingerprint() -> tuple:
    """Row counts and a checksum of every stored match and ranker version."""
    matches = db.session.execute(
        select(
            Match.id,
            Match.request_id,
            Match.offer_id,
            Match.status,
            Match.rank,
            Match.score,
            Match.updated_at,
        ).order_by(Match.id)
    ).all()
    versions = db.session.execute(
        select(RankerVersion.id, RankerVersion.version, RankerVersion.is_active).order_by(
            RankerVersion.id
        )
    ).all()
    digest = hashlib.sha256(repr((matches, versions)).encode()).hexdigest()
    return len(matches), len(versions), digest
