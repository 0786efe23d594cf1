"""Which neighbourhoods a professional may see: a worker their assigned ones, an admin all.

Every dashboard service starts here, so a neighbourhood outside the actor's scope never
yields data: unknown codes are 404, known ones outside the scope 403.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, exists, or_, select

from ..errors import NotAllowed, NotFound
from ..extensions import db
from ..models import Neighbourhood, Resident, User, VogRecord, WorkerAssignment

STAFF_ROLES = ("worker", "admin")


def staff_user(user_id: int) -> User:
    """The acting worker or admin (403 for any other role)."""
    user = db.session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES or not user.is_enabled:
        raise NotAllowed("only community workers and admins may see this", rule="role")
    return user


def scope_ids(user_id: int) -> list[int] | None:
    """Neighbourhood ids the actor may see; None means all of them (admin)."""
    user = staff_user(user_id)
    if user.role == "admin":
        return None
    return list(
        db.session.scalars(
            select(WorkerAssignment.neighbourhood_id).where(WorkerAssignment.user_id == user_id)
        )
    )


def scoped_neighbourhoods(user_id: int) -> list[Neighbourhood]:
    """The neighbourhoods the actor may see, by name."""
    ids = scope_ids(user_id)
    query = select(Neighbourhood).order_by(Neighbourhood.name)
    if ids is not None:
        query = query.where(Neighbourhood.id.in_(ids))
    return list(db.session.scalars(query))


def scoped_neighbourhood(user_id: int, code: str) -> Neighbourhood:
    """One neighbourhood by CBS code: 404 when unknown, 403 when outside the actor's scope."""
    item = db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == code))
    if item is None:
        raise NotFound(f"no neighbourhood {code}", field="code", rule="exists")
    ids = scope_ids(user_id)
    if ids is not None and item.id not in ids:
        raise NotAllowed(
            "this neighbourhood is not one of yours", field="code", rule="neighbourhood_scope"
        )
    return item


def scoped_resident(user_id: int, resident_id: int) -> Resident:
    """A resident in the actor's neighbourhoods (404 otherwise: existence is not revealed)."""
    item = db.session.get(Resident, resident_id)
    ids = scope_ids(user_id)
    if (
        item is None
        or item.erased_at is not None
        or (ids is not None and item.neighbourhood_id not in ids)
    ):
        raise NotFound("no such resident in your neighbourhoods", field="resident_id")
    return item


def in_scope(column, ids: list[int] | None):
    """A WHERE clause limiting a neighbourhood-id column to the scope (True for admins)."""
    return column.is_not(None) if ids is None else column.in_(ids or [-1])


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's end."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for dd in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=dd)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def vog_valid_on(resident_id_col, day: date, valid_months: int):
    """EXISTS a VOG for the resident that is still valid on `day` (expires_on, else issue date
    plus the configured validity)."""
    return exists(
        select(VogRecord.id).where(
            VogRecord.resident_id == resident_id_col,
            or_(
                VogRecord.expires_on >= day,
                and_(
                    VogRecord.expires_on.is_(None),
                    VogRecord.issued_on >= add_months(day, -valid_months),
                ),
            ),
        )
    )


def vog_expiry(record: VogRecord, valid_months: int) -> date:
    """The day a VOG stops counting."""
    return record.expires_on or add_months(record.issued_on, valid_months)


def paginate(query: Select, page: int, per_page: int) -> Select:
    """Apply page/per_page (1-based) to a select."""
    return query.limit(per_page).offset((page - 1) * per_page)
