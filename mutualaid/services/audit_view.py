"""What a worker sees of the audit log: events about the residents of their neighbourhoods.

Showing the log is itself a view of those residents, so it is audited too (as `view:audit`);
those events are left out of the list unless asked for, or every look would fill the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEvent, Resident, User
from .audit import record_view
from .validation import require_int
from .worker_scope import in_scope, paginate, scope_ids

AUDIT_VIEW_ACTION = "view:audit"


@dataclass
class AuditRow:
    id: int
    at: datetime
    actor: str | None
    actor_role: str | None
    action: str
    resident_id: int | None
    resident_first_name: str | None
    object_type: str | None
    object_id: str | None
    reason: str | None


@dataclass
class AuditPage:
    items: list[AuditRow]
    total: int
    page: int
    per_page: int


def audit_for_worker(
    actor_user_id: int,
    *,
    resident_id: int | None = None,
    include_log_views: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Audit events about the actor's residents, newest first (the look itself is audited)."""
    page = require_int("page", page, minimum=1, maximum=100_000)
    per_page = require_int("per_page", per_page, minimum=1, maximum=200)
    ids = scope_ids(actor_user_id)
    statement = (
        select(AuditEvent, User.display_name, User.role, Resident.first_name)
        .join(Resident, Resident.id == AuditEvent.subject_resident_id)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(in_scope(Resident.neighbourhood_id, ids))
    )
    if resident_id is not None:
        statement = statement.where(AuditEvent.subject_resident_id == resident_id)
    if not include_log_views:
        statement = statement.where(AuditEvent.action != AUDIT_VIEW_ACTION)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.execute(
        paginate(statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page, per_page)
    ).all()
    items = [
        AuditRow(
            event.id,
            event.at,
            name,
            role,
            event.action,
            event.subject_resident_id,
            first_name,
            event.object_type,
            event.object_id,
            event.reason,
        )
        for event, name, role, first_name in rows
    ]
    record_view(
        actor_user_id, "audit", [i.resident_id for i in items if i.resident_id], reason="audit log"
    )
    return AuditPage(items, total, page, per_page)
