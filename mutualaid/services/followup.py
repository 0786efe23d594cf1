"""The follow-up queue: what a community worker should look at in their neighbourhoods.

Kinds: open requests unmatched past FOLLOW_UP_UNMATCHED_DAYS, urgent open requests, residents
who keep needing help (FOLLOW_UP_REPEAT_REQUESTS in FOLLOW_UP_REPEAT_DAYS), requests declined
again and again (FOLLOW_UP_DECLINES), open problem reports, and VOGs that expire within
VOG_EXPIRY_WARNING_DAYS. Each item suggests an action; a worker records what they did. A closing
action ("referred", "handled") taken after the item arose removes it; others mark it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app
from sqlalchemy import String, case, cast, func, select

from ..errors import NotFound
from ..extensions import db
from ..models import (
    Category,
    FollowUpAction,
    HelpRequest,
    Match,
    ProblemReport,
    Resident,
    User,
    VogRecord,
)
from ..models.base import utcnow
from ..models.vocab import FOLLOW_UP_KINDS
from .audit import record_event, record_view
from .query_plans import without_jit
from .transactions import commit
from .validation import require_choice, require_int, require_text
from .worker_scope import in_scope, scope_ids, scoped_resident, vog_expiry, vog_valid_on

ACTIONS = ("called", "visited", "note", "referred", "handled")
CLOSING_ACTIONS = ("referred", "handled")
# What to do first, per kind (shown with the item; msgids translated in the template).
SUGGESTED = {
    "urgent": "Call the resident today and find help",
    "unmatched": "Call the resident, or find a helper yourself",
    "repeat_requester": "Check whether formal care is needed",
    "declined": "Ask what goes wrong, and find a helper together",
    "problem": "Read the report and contact the people involved",
    "vog_expiry": "Ask the volunteer to apply for a new VOG",
}
ORDER = ("urgent", "problem", "unmatched", "declined", "repeat_requester", "vog_expiry")


@dataclass
class TakenAction:
    action: str
    note: str | None
    by: str | None
    at: datetime


@dataclass
class FollowUpItem:
    kind: str
    key: str  # "<kind>:<id>", stable across page loads
    resident_id: int | None
    first_name: str | None
    last_name: str | None
    request_id: int | None
    problem_report_id: int | None
    since: datetime
    detail: dict
    suggested: str
    neighbourhood_id: int | None = None
    actions: list[TakenAction] = field(default_factory=list)
    closed: bool = False


@dataclass
class FollowUpPage:
    items: list[FollowUpItem]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def _open_request_select(ids, now: datetime, columns, only=None):
    """Open requests in scope that need follow-up (urgent, unmatched too long, declined too
    often), with the number of declines as `declined`; `only`: just these request ids."""
    config = current_app.config
    old = now - timedelta(days=config["FOLLOW_UP_UNMATCHED_DAYS"])
    open_here = (HelpRequest.status == "open") & in_scope(HelpRequest.neighbourhood_id, ids)
    if only is not None:
        open_here = open_here & HelpRequest.id.in_(only)
    declines = (
        select(Match.request_id, func.count().label("n"))
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(Match.status == "declined", open_here)
        .group_by(Match.request_id)
        .subquery()
    )
    n_declined = func.coalesce(declines.c.n, 0)
    kind = case(
        (HelpRequest.urgency == "high", "urgent"),
        (n_declined >= config["FOLLOW_UP_DECLINES"], "declined"),
        else_="unmatched",
    )
    return (
        select(*columns, n_declined.label("declined"), kind.label("kind"))
        .outerjoin(declines, declines.c.request_id == HelpRequest.id)
        .where(
            open_here,
            (HelpRequest.urgency == "high")
            | (HelpRequest.created_at <= old)
            | (n_declined >= config["FOLLOW_UP_DECLINES"]),
        )
    )


def _request_kind(urgency: str, declined: int) -> str:
    if urgency == "high":
        return "urgent"
    if declined >= current_app.config["FOLLOW_UP_DECLINES"]:  # as the CASE above
        return "declined"
    return "unmatched"


def _open_request_items(ids, now: datetime, only=None) -> list[FollowUpItem]:
    # Plain columns, not ORM objects: a busy district has hundreds of open requests.
    rows = db.session.execute(
        _open_request_select(
            ids,
            now,
            (
                HelpRequest.id,
                HelpRequest.created_at,
                HelpRequest.urgency,
                HelpRequest.neighbourhood_id,
                Resident.id.label("resident_id"),
                Resident.first_name,
                Resident.last_name,
                Category.name_nl,
                Category.name_en,
            ),
            only,
        )
        .join(Resident, Resident.id == HelpRequest.requester_id)
        .join(Category, Category.id == HelpRequest.category_id)
    ).all()
    items = []
    for row in rows:
        kind = _request_kind(row.urgency, row.declined)
        person = SimpleNamespace(
            id=row.resident_id,
            first_name=row.first_name,
            last_name=row.last_name,
            neighbourhood_id=row.neighbourhood_id,
        )
        detail = {
            "category_nl": row.name_nl,
            "category_en": row.name_en,
            "declined": int(row.declined),
            "urgency": row.urgency,
        }
        items.append(_item(kind, row.id, person, row.created_at, detail))
        items[-1].request_id = row.id
    return items


def _item(kind: str, object_id: int, resident, since, detail) -> FollowUpItem:
    return FollowUpItem(
        kind=kind,
        key=f"{kind}:{object_id}",
        resident_id=resident.id if resident else None,
        first_name=resident.first_name if resident else None,
        last_name=resident.last_name if resident else None,
        request_id=None,
        problem_report_id=None,
        since=_aware(since),
        detail=detail,
        suggested=SUGGESTED[kind],
        neighbourhood_id=resident.neighbourhood_id if resident else None,
    )


def _repeat_select(ids, now: datetime, columns, only=None):
    """Residents in scope with FOLLOW_UP_REPEAT_REQUESTS requests or more in the window, with
    that number and their last request's time (requests are grouped first: few rows join)."""
    config = current_app.config
    since = now - timedelta(days=config["FOLLOW_UP_REPEAT_DAYS"])
    per_requester = (
        select(
            HelpRequest.requester_id.label("rid"),
            func.count(HelpRequest.id).label("n"),
            func.max(HelpRequest.created_at).label("last"),
        )
        .where(HelpRequest.created_at >= since)
        .group_by(HelpRequest.requester_id)
        .having(func.count(HelpRequest.id) >= config["FOLLOW_UP_REPEAT_REQUESTS"])
        .subquery()
    )
    where = [in_scope(Resident.neighbourhood_id, ids), Resident.erased_at.is_(None)]
    if only is not None:
        where.append(Resident.id.in_(only))
    return (
        select(*columns, per_requester.c.n, per_requester.c.last)
        .join(per_requester, per_requester.c.rid == Resident.id)
        .where(*where)
    )


def _repeat_items(ids, now: datetime, only=None) -> list[FollowUpItem]:
    since = now - timedelta(days=current_app.config["FOLLOW_UP_REPEAT_DAYS"])
    rows = db.session.execute(_repeat_select(ids, now, (Resident,), only)).all()
    return [
        _item("repeat_requester", r.id, r, last, {"requests": int(n), "days": since.date()})
        for r, n, last in rows
    ]


def _problem_where(ids, only=None) -> list:
    where = [ProblemReport.handled_at.is_(None), in_scope(ProblemReport.neighbourhood_id, ids)]
    if only is not None:
        where.append(ProblemReport.id.in_(only))
    return where


def _problem_items(ids, only=None) -> list[FollowUpItem]:
    items = []
    for report in db.session.scalars(select(ProblemReport).where(*_problem_where(ids, only))):
        reporter = db.session.get(Resident, report.reporter_id) if report.reporter_id else None
        item = _item("problem", report.id, reporter, report.created_at, {"body": report.body})
        item.problem_report_id = report.id
        item.neighbourhood_id = report.neighbourhood_id
        item.request_id = report.request_id
        items.append(item)
    return items


def _vog_items(ids, today: date, only=None) -> list[FollowUpItem]:
    config = current_app.config
    months, warn = config["VOG_VALID_MONTHS"], config["VOG_EXPIRY_WARNING_DAYS"]
    where = [
        in_scope(Resident.neighbourhood_id, ids),
        Resident.erased_at.is_(None),
        vog_valid_on(Resident.id, today, months),
        ~vog_valid_on(Resident.id, today + timedelta(days=warn + 1), months),
    ]
    if only is not None:
        where.append(Resident.id.in_(only))
    residents = db.session.scalars(select(Resident).where(*where)).all()
    records: dict[int, date] = {}
    for record in db.session.scalars(
        select(VogRecord).where(VogRecord.resident_id.in_([r.id for r in residents] or [-1]))
    ):
        expiry = vog_expiry(record, months)
        records[record.resident_id] = max(expiry, records.get(record.resident_id, expiry))
    items = []
    for r in residents:
        expires = records[r.id]
        start = datetime.combine(expires - timedelta(days=warn), datetime.min.time())
        items.append(
            _item(
                "vog_expiry", r.id, r, start.replace(tzinfo=utcnow().tzinfo), {"expires": expires}
            )
        )
    return items


def _attach_actions(items: list[FollowUpItem]) -> None:
    """Actions taken per item (newest first); a closing action after `since` closes it."""
    request_ids = [i.request_id for i in items if i.request_id and i.kind != "problem"]
    resident_ids = [i.resident_id for i in items if i.kind in ("repeat_requester", "vog_expiry")]
    report_ids = [i.problem_report_id for i in items if i.problem_report_id]
    rows = db.session.execute(
        select(FollowUpAction, User.display_name)
        .outerjoin(User, User.id == FollowUpAction.worker_user_id)
        .where(
            FollowUpAction.request_id.in_(request_ids or [-1])
            | FollowUpAction.resident_id.in_(resident_ids or [-1])
            | FollowUpAction.problem_report_id.in_(report_ids or [-1])
        )
        .order_by(FollowUpAction.created_at.desc(), FollowUpAction.id.desc())
    ).all()
    by_key: dict[str, list] = {}
    for action, name in rows:
        key = f"{action.kind}:{_target_id(action)}"
        by_key.setdefault(key, []).append(
            TakenAction(action.action, action.note, name, _aware(action.created_at))
        )
    for item in items:
        item.actions = by_key.get(item.key, [])
        item.closed = any(a.action in CLOSING_ACTIONS and a.at >= item.since for a in item.actions)


def _target_id(action: FollowUpAction) -> int | None:
    if action.kind == "problem":
        return action.problem_report_id
    if action.kind in ("repeat_requester", "vog_expiry"):
        return action.resident_id
    return action.request_id


class _Stub(NamedTuple):
    """What ordering, counting and closing need of an item; the rest is read for one page."""

    kind: str
    object_id: int
    since: datetime
    neighbourhood_id: int | None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.object_id}"

    def order(self) -> tuple:
        return (ORDER.index(self.kind), self.since, self.key)


REQUEST_KINDS = ("urgent", "unmatched", "declined")
# The other kinds are few (problem reports, residents asking often, VOGs about to expire).
FEW_KINDS = tuple(k for k in ORDER if k not in REQUEST_KINDS)


def _request_queue(ids: list[int] | None, now: datetime, include_closed: bool):
    """Subquery of the request items (id, since, neighbourhood_id, kind): open ones only
    unless `include_closed` (closed: a closing action on the item at or after it arose)."""
    items = _open_request_select(
        ids,
        now,
        (
            HelpRequest.id.label("id"),
            HelpRequest.created_at.label("since"),
            HelpRequest.neighbourhood_id.label("neighbourhood_id"),
        ),
    ).subquery()
    query = select(items.c.id, items.c.since, items.c.neighbourhood_id, items.c.kind)
    if not include_closed:
        closing = (
            select(
                FollowUpAction.kind,
                FollowUpAction.request_id,
                func.max(FollowUpAction.created_at).label("at"),
            )
            .where(
                FollowUpAction.action.in_(CLOSING_ACTIONS),
                FollowUpAction.kind.in_(REQUEST_KINDS),
                FollowUpAction.request_id.is_not(None),
            )
            .group_by(FollowUpAction.kind, FollowUpAction.request_id)
            .subquery()
        )
        query = query.outerjoin(
            closing, (closing.c.kind == items.c.kind) & (closing.c.request_id == items.c.id)
        ).where(closing.c.at.is_(None) | (closing.c.at < items.c.since))
    return query.subquery()


def _key_order(queue):
    """ORDER BY of request items: since, then the key as text ("urgent:10" < "urgent:9")."""
    text = cast(queue.c.id, String)
    if db.session.get_bind().dialect.name == "postgresql":
        text = text.collate("C")
    return (queue.c.since, text)


def _request_stubs(queue, kind: str | None = None, offset: int = 0, limit: int | None = None):
    query = select(queue.c.kind, queue.c.id, queue.c.since, queue.c.neighbourhood_id)
    if kind is not None:
        query = query.where(queue.c.kind == kind)
    query = query.order_by(*_key_order(queue)).offset(offset).limit(limit)
    return [_Stub(k, i, _aware(since), nid) for k, i, since, nid in db.session.execute(query)]


def _request_counts(queue) -> dict[tuple[str, int | None], int]:
    """(kind, neighbourhood id) -> number of request items."""
    return {
        (kind, nid): int(n)
        for kind, nid, n in db.session.execute(
            select(queue.c.kind, queue.c.neighbourhood_id, func.count()).group_by(
                queue.c.kind, queue.c.neighbourhood_id
            )
        )
    }


def _few_stubs(ids: list[int] | None, now: datetime, include_closed: bool) -> list[_Stub]:
    """The problem, repeat-requester and VOG items as stubs, most pressing first."""
    stubs = [
        _Stub("problem", pid, _aware(created), nid)
        for pid, created, nid in db.session.execute(
            select(
                ProblemReport.id, ProblemReport.created_at, ProblemReport.neighbourhood_id
            ).where(*_problem_where(ids))
        )
    ]
    stubs += [
        _Stub("repeat_requester", rid, _aware(last), nid)
        for rid, nid, _, last in db.session.execute(
            _repeat_select(ids, now, (Resident.id, Resident.neighbourhood_id))
        )
    ]
    stubs += [
        _Stub(i.kind, i.resident_id, i.since, i.neighbourhood_id)
        for i in _vog_items(ids, now.date())
    ]
    if not include_closed:
        latest = _closing_times(FEW_KINDS)
        stubs = [s for s in stubs if not (s.key in latest and latest[s.key] >= s.since)]
    stubs.sort(key=_Stub.order)
    return stubs


def _closing_times(kinds: tuple[str, ...]) -> dict[str, datetime]:
    """Per item key of these kinds, the latest closing action taken on it."""
    latest: dict[str, datetime] = {}
    for kind, request_id, resident_id, report_id, at in db.session.execute(
        select(
            FollowUpAction.kind,
            FollowUpAction.request_id,
            FollowUpAction.resident_id,
            FollowUpAction.problem_report_id,
            func.max(FollowUpAction.created_at),
        )
        .where(FollowUpAction.action.in_(CLOSING_ACTIONS), FollowUpAction.kind.in_(kinds))
        .group_by(
            FollowUpAction.kind,
            FollowUpAction.request_id,
            FollowUpAction.resident_id,
            FollowUpAction.problem_report_id,
        )
    ):
        action = SimpleNamespace(
            kind=kind, request_id=request_id, resident_id=resident_id, problem_report_id=report_id
        )
        key = f"{kind}:{_target_id(action)}"
        at = _aware(at)
        if key not in latest or at > latest[key]:
            latest[key] = at
    return latest


def _hydrate(ids: list[int] | None, now: datetime, stubs: list[_Stub]) -> list[FollowUpItem]:
    """The full items (names, details, actions taken) of these stubs, in their order."""
    wanted: dict[str, list[int]] = {}
    for stub in stubs:
        wanted.setdefault(stub.kind, []).append(stub.object_id)
    requests = [i for k in REQUEST_KINDS for i in wanted.get(k, [])]
    items: list[FollowUpItem] = []
    if requests:
        items += _open_request_items(ids, now, only=requests)
    if "problem" in wanted:
        items += _problem_items(ids, only=wanted["problem"])
    if "repeat_requester" in wanted:
        items += _repeat_items(ids, now, only=wanted["repeat_requester"])
    if "vog_expiry" in wanted:
        items += _vog_items(ids, now.date(), only=wanted["vog_expiry"])
    by_key = {item.key: item for item in items}
    # An item that changed kind or went away between the two reads is left out.
    shown = [by_key[stub.key] for stub in stubs if stub.key in by_key]
    _attach_actions(shown)
    return shown


def build_queue(ids: list[int] | None, *, include_closed: bool = False) -> list[FollowUpItem]:
    """Every follow-up item in these neighbourhoods (None: all), most pressing first."""
    now = utcnow()
    stubs = _request_stubs(_request_queue(ids, now, include_closed))
    stubs += _few_stubs(ids, now, include_closed)
    stubs.sort(key=_Stub.order)
    return _hydrate(ids, now, stubs)


def queue_counts(ids: list[int] | None) -> tuple[dict[str, int], dict[int, int]]:
    """Open items per kind and per neighbourhood (counts only: nothing is read per person)."""
    without_jit()
    now = utcnow()
    by_kind = {kind: 0 for kind in FOLLOW_UP_KINDS}
    per_place: dict[int, int] = {}
    pairs = list(_request_counts(_request_queue(ids, now, False)).items())
    pairs += [((s.kind, s.neighbourhood_id), 1) for s in _few_stubs(ids, now, False)]
    for (kind, nid), n in pairs:
        by_kind[kind] += n
        if nid is not None:
            per_place[nid] = per_place.get(nid, 0) + n
    return by_kind, per_place


def follow_up_queue(
    actor_user_id: int,
    *,
    kind: str = "",
    include_closed: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> FollowUpPage:
    """One page of the actor's follow-up queue; audits each resident shown.

    The queue is counted in SQL and its order is kind first (ORDER), then since and key, so a
    page is a run of at most a few kinds: the request kinds are paged in SQL (ORDER BY, LIMIT),
    the few other items in Python. Names, details and actions are read for the page only.
    """
    if kind:
        require_choice("kind", kind, FOLLOW_UP_KINDS)
    page = require_int("page", page, minimum=1, maximum=100_000)
    per_page = require_int("per_page", per_page, minimum=1, maximum=200)
    ids = scope_ids(actor_user_id)
    without_jit()
    now = utcnow()
    queue = _request_queue(ids, now, include_closed)
    counts = {k: 0 for k in FOLLOW_UP_KINDS}
    for (k, _), n in _request_counts(queue).items():
        counts[k] += n
    few: dict[str, list[_Stub]] = {}
    for stub in _few_stubs(ids, now, include_closed):
        few.setdefault(stub.kind, []).append(stub)
        counts[stub.kind] += 1
    start, end = (page - 1) * per_page, page * per_page
    stubs: list[_Stub] = []
    first = 0  # position of this kind's first item in the (filtered) queue
    for k in ORDER:
        if kind and k != kind:
            continue
        lo, hi = max(start - first, 0), min(end - first, counts[k])
        if lo < hi:
            if k in REQUEST_KINDS:
                stubs += _request_stubs(queue, k, offset=lo, limit=hi - lo)
            else:
                stubs += few.get(k, [])[lo:hi]
        first += counts[k]
    shown = _hydrate(ids, now, stubs)
    record_view(
        actor_user_id,
        "follow_up",
        [i.resident_id for i in shown if i.resident_id],
        reason="follow-up queue",
    )
    total = counts[kind] if kind else sum(counts.values())
    return FollowUpPage(shown, total, page, per_page, counts)


def follow_up_count(neighbourhood_ids: list[int] | None) -> int:
    """How many open items the queue holds (a count, not audited)."""
    return sum(queue_counts(neighbourhood_ids)[0].values())


def _resolve_target(actor_user_id: int, kind: str, target_id: int) -> tuple[dict, int | None]:
    """Check the item's target is in the actor's scope; return FollowUpAction ids and subject."""
    ids = scope_ids(actor_user_id)
    if kind == "problem":
        report = db.session.get(ProblemReport, target_id)
        if report is None or (ids is not None and report.neighbourhood_id not in ids):
            raise NotFound("no such problem report in your neighbourhoods", field="target_id")
        return {"problem_report_id": report.id}, report.reporter_id
    if kind in ("repeat_requester", "vog_expiry"):
        resident = scoped_resident(actor_user_id, target_id)
        return {"resident_id": resident.id}, resident.id
    request = db.session.get(HelpRequest, target_id)
    if request is None or (ids is not None and request.neighbourhood_id not in ids):
        raise NotFound("no such request in your neighbourhoods", field="target_id")
    return {"request_id": request.id, "resident_id": request.requester_id}, request.requester_id


def record_follow_up(
    actor_user_id: int, kind: str, target_id: int, action: str, note: str = ""
) -> FollowUpAction:
    """Record what a worker did about a follow-up item (audited); closing actions close it."""
    kind = require_choice("kind", kind, FOLLOW_UP_KINDS)
    action = require_choice("action", action, ACTIONS)
    note = require_text("note", note, max_length=2000, required=False)
    target_id = require_int("target_id", target_id, minimum=1, maximum=2**31 - 1)
    target, subject = _resolve_target(actor_user_id, kind, target_id)
    item = FollowUpAction(
        kind=kind, action=action, note=note or None, worker_user_id=actor_user_id, **target
    )
    db.session.add(item)
    if kind == "problem" and action in CLOSING_ACTIONS:
        report = db.session.get(ProblemReport, target["problem_report_id"])
        report.handled_at = utcnow()
        report.handled_by_user_id = actor_user_id
    record_event(
        actor_user_id,
        "follow_up",
        subject_resident_id=subject,
        object_type=kind,
        object_id=target_id,
        reason="follow-up",
        detail={"action": action},
    )
    commit()
    return item
