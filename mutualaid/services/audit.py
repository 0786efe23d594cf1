"""The audit log: every professional view of, or change to, a resident's personal data.

`record_event` adds an event to the current transaction (it is committed with the change it
describes); `record_view` is for read-only views and commits at once, so a page that only shows
data still leaves its trace.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..extensions import db
from ..models import AuditEvent
from .transactions import commit

# Why a professional opens a resident's data, as a code: a reason that travels in a URL (a
# GET's query string ends up in proxy and server logs) is one of these, never free text.
VIEW_REASONS = ("phone", "in_person", "home_visit", "follow_up", "review", "vetting", "intake")


def record_event(
    actor_user_id: int | None,
    action: str,
    *,
    subject_resident_id: int | None = None,
    object_type: str | None = None,
    object_id: int | str | None = None,
    reason: str | None = None,
    detail: dict | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Add one audit event to the session (not committed)."""
    event = AuditEvent(
        actor_user_id=actor_user_id,
        action=action,
        subject_resident_id=subject_resident_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        reason=reason,
        detail=detail,
        remote_addr=remote_addr,
    )
    db.session.add(event)
    return event


def record_view(
    actor_user_id: int,
    what: str,
    subject_resident_ids: Iterable[int],
    *,
    reason: str | None = None,
    detail: dict | None = None,
) -> int:
    """Audit that a professional saw these residents' personal data (one event each); commit."""
    count = 0
    for resident_id in dict.fromkeys(subject_resident_ids):
        record_event(
            actor_user_id,
            f"view:{what}",
            subject_resident_id=resident_id,
            object_type="resident",
            object_id=resident_id,
            reason=reason,
            detail=detail,
        )
        count += 1
    commit()
    return count
