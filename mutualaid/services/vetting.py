"""Vouching for residents and recording VOGs (certificates of conduct), with their expiry.

A vouch is the `vouched` standing the engine reads (an active Vouch row). A VOG is recorded by
its issue date and screening profile, never the document; it counts until `expires_on`
(by default issue date + VOG_VALID_MONTHS). Matches that need a VOG need a valid one.
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import and_, func, or_, select

from ..errors import Invalid
from ..extensions import db
from ..models import Neighbourhood, Offer, Resident, VogRecord, Vouch
from ..models.base import utcnow
from .aid_common import mark_offer_for_matching
from .audit import record_event, record_view
from .casework import scope_ids, scoped_resident
from .transactions import commit
from .validation import require_text

EXPIRY_WINDOW_DAYS = 30


def default_expiry(issued_on: date) -> date:
    """The day a VOG issued on `issued_on` stops counting (VOG_VALID_MONTHS later)."""
    return issued_on + relativedelta(months=current_app.config["VOG_VALID_MONTHS"])


def vog_valid_clause(day: date):
    """SQL condition: a VOG record still counts on `day` (explicit expiry, else by issue date)."""
    return or_(
        VogRecord.expires_on > day,
        and_(
            VogRecord.expires_on.is_(None),
            VogRecord.issued_on
            > day - relativedelta(months=current_app.config["VOG_VALID_MONTHS"]),
        ),
    )


def residents_with_valid_vog(resident_ids: list[int], day: date | None = None) -> set[int]:
    """Which of these residents hold a VOG that counts on `day` (default today)."""
    if not resident_ids:
        return set()
    day = day or utcnow().date()
    return set(
        db.session.scalars(
            select(VogRecord.resident_id).where(
                VogRecord.resident_id.in_(resident_ids), vog_valid_clause(day)
            )
        )
    )


def _remark_offers(resident_id: int) -> None:
    """The resident's standing changed: their active offers are matched again (outbox)."""
    for offer in db.session.scalars(
        select(Offer).where(Offer.helper_id == resident_id, Offer.is_active.is_(True))
    ):
        mark_offer_for_matching(offer)


def vouch_for(actor_id: int, resident_id: int, note: str | None = None) -> Vouch:
    """The worker vouches for a resident (again, if an earlier vouch was revoked)."""
    resident = scoped_resident(actor_id, resident_id)
    note = require_text("note", note, max_length=1000, required=False) or None
    vouch = db.session.scalar(
        select(Vouch).where(Vouch.resident_id == resident.id, Vouch.worker_user_id == actor_id)
    )
    if vouch is None:
        vouch = Vouch(resident_id=resident.id, worker_user_id=actor_id)
        db.session.add(vouch)
    vouch.note, vouch.revoked_at, vouch.created_at = note, None, utcnow()
    record_event(
        actor_id,
        "resident.vouch",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
    )
    _remark_offers(resident.id)
    commit()
    return vouch


def revoke_vouch(actor_id: int, resident_id: int, reason: str | None = None) -> int:
    """Revoke the actor's vouch (an admin: every vouch) for the resident; how many were revoked."""
    resident = scoped_resident(actor_id, resident_id)
    statement = select(Vouch).where(Vouch.resident_id == resident.id, Vouch.revoked_at.is_(None))
    if scope_ids(actor_id) is not None:  # a worker revokes only their own word
        statement = statement.where(Vouch.worker_user_id == actor_id)
    vouches = list(db.session.scalars(statement))
    for vouch in vouches:
        vouch.revoked_at = utcnow()
    record_event(
        actor_id,
        "resident.vouch_revoked",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
        reason=(reason or "")[:200] or None,
        detail={"revoked": len(vouches)},
    )
    _remark_offers(resident.id)
    commit()
    return len(vouches)


def _as_date(field: str, value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"{field} must be a date (YYYY-MM-DD)", field=field, rule="date") from None


def record_vog(
    actor_id: int,
    resident_id: int,
    *,
    issued_on,
    screening_profile: str | None = None,
    expires_on=None,
) -> VogRecord:
    """Record that the worker saw a VOG: issue date, screening profile, expiry (never the file)."""
    resident = scoped_resident(actor_id, resident_id)
    today = utcnow().date()
    issued = _as_date("issued_on", issued_on)
    if issued is None:
        raise Invalid("issued_on is required", field="issued_on", rule="required")
    if issued > today:
        raise Invalid("issued_on lies in the future", field="issued_on", rule="not_future")
    expires = _as_date("expires_on", expires_on) or default_expiry(issued)
    if expires <= issued:
        raise Invalid("expires_on must be after issued_on", field="expires_on", rule="after_issue")
    profile = require_text("screening_profile", screening_profile, max_length=80, required=False)
    record = VogRecord(
        resident_id=resident.id,
        issued_on=issued,
        expires_on=expires,
        screening_profile=profile or None,
        recorded_by_user_id=actor_id,
    )
    db.session.add(record)
    record_event(
        actor_id,
        "resident.vog_recorded",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
        detail={"issued_on": issued.isoformat(), "expires_on": expires.isoformat()},
    )
    _remark_offers(resident.id)
    commit()
    return record


def expiring_vogs(actor_id: int, within_days: int = EXPIRY_WINDOW_DAYS) -> list[dict]:
    """Residents in the actor's neighbourhoods whose newest VOG expires within `within_days`."""
    scope = scope_ids(actor_id)
    today = utcnow().date()
    latest = (
        select(VogRecord.resident_id, func.max(VogRecord.id).label("vog_id"))
        .group_by(VogRecord.resident_id)
        .subquery()
    )
    statement = (
        select(VogRecord, Resident, Neighbourhood.name)
        .join(latest, latest.c.vog_id == VogRecord.id)
        .join(Resident, Resident.id == VogRecord.resident_id)
        .outerjoin(Neighbourhood, Neighbourhood.id == Resident.neighbourhood_id)
        .where(Resident.erased_at.is_(None))
    )
    if scope is not None:
        statement = statement.where(Resident.neighbourhood_id.in_(scope or [-1]))
    until = today + timedelta(days=within_days)
    rows = []
    for vog, resident, neighbourhood in db.session.execute(statement):
        expires = vog.expires_on or default_expiry(vog.issued_on)
        if not today <= expires <= until:
            continue
        rows.append(
            {
                "resident_id": resident.id,
                "first_name": resident.first_name,
                "last_name": resident.last_name,
                "neighbourhood": neighbourhood,
                "issued_on": vog.issued_on,
                "expires_on": expires,
                "days_left": (expires - today).days,
                "screening_profile": vog.screening_profile,
            }
        )
    rows.sort(key=lambda r: (r["expires_on"], r["first_name"]))
    if rows:
        record_view(actor_id, "vog_expiring", [r["resident_id"] for r in rows])
    return rows
