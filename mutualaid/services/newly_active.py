"""Newly active residents a worker may want to reach out to, and offerers never matched.

"Newly active": first activity within NEWLY_ACTIVE_DAYS and not known to services. Residents who
offered help and never had a match accepted are listed too (whenever they started): they are
the ones who drop away first. Reaching out records a contact note and marks them known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..extensions import db
from ..models import Category, ContactNote, HelpRequest, Match, Offer, Resident
from ..models.base import utcnow
from ..models.vocab import CONSENT_METHODS
from .audit import record_event, record_view
from .query_plans import without_jit
from .transactions import commit
from .validation import require_choice, require_int, require_text
from .worker_scope import (
    in_scope,
    paginate,
    scope_ids,
    scoped_neighbourhood,
    scoped_neighbourhoods,
    scoped_resident,
)

WHICH = ("all", "new", "never_matched")
MATCHED_STATUSES = ("accepted", "done")


@dataclass
class Deed:
    """One thing a resident did: asked or offered help, helped or was helped (first names)."""

    kind: str  # requested / offered / helped / was_helped
    category: str
    with_first_name: str | None
    at: datetime | None
    status: str | None = None


@dataclass
class NewlyActiveResident:
    id: int
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    neighbourhood_code: str | None
    first_active_at: datetime | None
    is_new: bool
    never_matched: bool
    deeds: list[Deed] = field(default_factory=list)


@dataclass
class NewlyActivePage:
    items: list[NewlyActiveResident]
    total: int
    page: int
    per_page: int
    days: int
    which: str
    code: str | None = None
    # (code, name) of the actor's neighbourhoods, to choose one.
    choices: list[tuple[str, str]] = field(default_factory=list)


def _never_matched():
    """A resident offered help and no match of theirs as helper was ever accepted."""
    has_offer = select(Offer.id).where(Offer.helper_id == Resident.id).exists()
    matched = (
        select(Match.id)
        .where(Match.helper_id == Resident.id, Match.status.in_(MATCHED_STATUSES))
        .exists()
    )
    return and_(has_offer, not_(matched))


def _deeds(resident_ids: list[int], language: str) -> dict[int, list[Deed]]:
    """What each resident did and with whom (first names only), newest first."""
    ids = resident_ids or [-1]
    name = Category.name_nl if language == "nl" else Category.name_en
    deeds: dict[int, list[Deed]] = {rid: [] for rid in resident_ids}
    for rid, cat, at, status in db.session.execute(
        select(HelpRequest.requester_id, name, HelpRequest.created_at, HelpRequest.status)
        .join(Category, Category.id == HelpRequest.category_id)
        .where(HelpRequest.requester_id.in_(ids))
    ):
        deeds[rid].append(Deed("requested", cat, None, at, status))
    for offer in db.session.scalars(
        select(Offer).options(selectinload(Offer.categories)).where(Offer.helper_id.in_(ids))
    ):
        cats = ", ".join((c.name_nl if language == "nl" else c.name_en) for c in offer.categories)
        deeds[offer.helper_id].append(
            Deed("offered", cats, None, offer.created_at, "active" if offer.is_active else "paused")
        )
    requester = aliased(Resident)
    helper = aliased(Resident)
    matched = (
        select(
            requester.id,
            requester.first_name,
            helper.id,
            helper.first_name,
            name,
            func.coalesce(Match.done_at, Match.accepted_at, Match.status_changed_at),
        )
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .join(requester, requester.id == HelpRequest.requester_id)
        .join(helper, helper.id == Match.helper_id)
        .join(Category, Category.id == HelpRequest.category_id)
        .where(Match.status.in_(MATCHED_STATUSES))
    )
    # Two index-friendly queries instead of one OR across the join.
    for _, req_name, help_id, _, cat, at in db.session.execute(
        matched.where(Match.helper_id.in_(ids))
    ):
        deeds[help_id].append(Deed("helped", cat, req_name, at))
    for req_id, _, _, help_name, cat, at in db.session.execute(
        matched.where(HelpRequest.requester_id.in_(ids))
    ):
        deeds[req_id].append(Deed("was_helped", cat, help_name, at))
    far_past = datetime.min.replace(tzinfo=utcnow().tzinfo)
    for items in deeds.values():
        items.sort(key=lambda d: d.at or far_past, reverse=True)
    return deeds


def list_newly_active(
    actor_user_id: int,
    *,
    code: str | None = None,
    which: str = "all",
    days: int | None = None,
    page: int = 1,
    per_page: int = 20,
    language: str = "nl",
) -> NewlyActivePage:
    """Newly active residents not known to services, plus never-matched offerers; audited."""
    which = require_choice("which", which, WHICH)
    days = require_int(
        "days", days or current_app.config["NEWLY_ACTIVE_DAYS"], minimum=1, maximum=730
    )
    page = require_int("page", page, minimum=1, maximum=100_000)
    per_page = require_int("per_page", per_page, minimum=1, maximum=200)
    ids = [scoped_neighbourhood(actor_user_id, code).id] if code else scope_ids(actor_user_id)
    without_jit()
    since = utcnow() - timedelta(days=days)
    is_new = Resident.first_active_at >= since
    never = _never_matched()
    wanted = {"all": or_(is_new, never), "new": is_new, "never_matched": never}[which]
    statement = select(Resident).where(
        in_scope(Resident.neighbourhood_id, ids),
        Resident.first_active_at.is_not(None),
        Resident.erased_at.is_(None),
        Resident.known_to_services.is_(False),
        wanted,
    )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    residents = list(
        db.session.scalars(
            paginate(
                statement.options(joinedload(Resident.neighbourhood)).order_by(
                    Resident.first_active_at.desc(), Resident.id
                ),
                page,
                per_page,
            )
        )
    )
    resident_ids = [r.id for r in residents]
    never_ids = set(
        db.session.scalars(select(Resident.id).where(Resident.id.in_(resident_ids or [-1]), never))
    )
    deeds = _deeds(resident_ids, language)
    items = [
        NewlyActiveResident(
            id=r.id,
            first_name=r.first_name,
            last_name=r.last_name,
            email=r.email,
            phone=r.phone,
            neighbourhood_code=r.neighbourhood.code if r.neighbourhood else None,
            first_active_at=r.first_active_at,
            is_new=r.first_active_at >= since,
            never_matched=r.id in never_ids,
            deeds=deeds[r.id],
        )
        for r in residents
    ]
    record_view(
        actor_user_id,
        "newly_active",
        resident_ids,
        reason="reach out to newly active residents",
        detail={"neighbourhood": code} if code else None,
    )
    choices = [(n.code, n.name) for n in scoped_neighbourhoods(actor_user_id)]
    return NewlyActivePage(items, total, page, per_page, days, which, code, choices)


def newly_active_counts(neighbourhood_ids: list[int]) -> dict[int, int]:
    """Per neighbourhood, how many residents the newly-active list shows (counts, not audited)."""
    since = utcnow() - timedelta(days=current_app.config["NEWLY_ACTIVE_DAYS"])
    without_jit()
    rows = db.session.execute(
        select(Resident.neighbourhood_id, func.count(Resident.id))
        .where(
            Resident.neighbourhood_id.in_(neighbourhood_ids or [-1]),
            Resident.first_active_at.is_not(None),
            Resident.erased_at.is_(None),
            Resident.known_to_services.is_(False),
            or_(Resident.first_active_at >= since, _never_matched()),
        )
        .group_by(Resident.neighbourhood_id)
    ).all()
    return {nid: int(n) for nid, n in rows}


def reach_out(actor_user_id: int, resident_id: int, method: str, note: str) -> ContactNote:
    """Record that a worker contacted a resident and mark them known to services (audited)."""
    method = require_choice("method", method, CONSENT_METHODS)
    note = require_text("note", note, max_length=2000, required=False)
    resident = scoped_resident(actor_user_id, resident_id)
    contact = ContactNote(
        resident_id=resident.id, worker_user_id=actor_user_id, method=method, note=note
    )
    db.session.add(contact)
    resident.known_to_services = True
    record_event(
        actor_user_id,
        "reach_out",
        subject_resident_id=resident.id,
        object_type="contact_note",
        reason="reach out to a newly active resident",
        detail={"method": method},
    )
    commit()
    return contact
