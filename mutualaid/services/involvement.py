"""Who is involved in a neighbourhood: residents active as requester and/or helper.

One set-based query per page: the neighbourhood's active residents with their activity as
correlated counts (index probes per resident), sorted and paged in the database, with the total
from a window count. The map never shows a home: active residents are counted per ~250 m grid
cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, not_, select

from ..extensions import db
from ..models import HelpRequest, Match, Offer, Resident, VogRecord, Vouch
from ..models.base import utcnow
from .audit import record_view
from .validation import require_choice, require_int, require_text
from .worker_scope import paginate, scoped_neighbourhood, vog_expiry, vog_valid_on

ROLE_FILTERS = ("", "requester", "helper", "both")
VOG_FILTERS = ("", "valid", "expiring", "expired", "none")
SORTS = ("last_activity", "first_active", "name", "helps_given", "helps_received")
CELL_METRES = 250
METRES_PER_DEGREE_LAT = 111_320.0


@dataclass
class InvolvementQuery:
    """Filters, sort and page of the who-is-involved list (validated by `parse_query`)."""

    role: str = ""
    newly_active: bool = False
    vouched: bool = False
    vog: str = ""
    q: str = ""
    sort: str = "last_activity"
    descending: bool = True
    page: int = 1
    per_page: int = 50


@dataclass
class InvolvedResident:
    id: int
    first_name: str
    last_name: str | None
    first_active_at: datetime | None
    last_activity_at: datetime | None
    requests: int
    offers: int
    helps_given: int
    helps_received: int
    vouched: bool
    vog_status: str
    vog_expires_on: date | None
    known_to_services: bool
    newly_active: bool


@dataclass
class InvolvementPage:
    neighbourhood_code: str
    neighbourhood_name: str
    items: list[InvolvedResident]
    total: int
    page: int
    per_page: int
    query: InvolvementQuery = field(default_factory=InvolvementQuery)
    # The neighbourhood's boundary (public CBS GeoJSON) to draw around the map cells.
    outline: str = ""


def parse_query(args: dict) -> InvolvementQuery:
    """Validate filter/sort/page values from a form or query string (422 naming the field)."""

    def flag(name: str) -> bool:
        return str(args.get(name) or "").lower() in {"1", "true", "yes", "on"}

    sort = args.get("sort") or "last_activity"
    return InvolvementQuery(
        role=require_choice("role", args.get("role") or "", ROLE_FILTERS),
        newly_active=flag("newly_active"),
        vouched=flag("vouched"),
        vog=require_choice("vog", args.get("vog") or "", VOG_FILTERS),
        q=require_text("q", args.get("q") or "", max_length=80, required=False),
        sort=require_choice("sort", sort, SORTS),
        descending=(args.get("order") or ("asc" if sort == "name" else "desc")) != "asc",
        page=require_int("page", args.get("page") or 1, minimum=1, maximum=100_000),
        per_page=require_int("per_page", args.get("per_page") or 50, minimum=1, maximum=200),
    )


def activity_columns(dialect: str) -> dict:
    """Per resident (correlated to Resident): requests, offers, helps given and received, and
    the last activity. Each is an index probe per resident (requester_id, helper_id), which at
    a few thousand residents per neighbourhood beats aggregating the whole activity tables."""

    def scalar(statement):
        return statement.correlate(Resident).scalar_subquery()

    done_at = func.coalesce(Match.done_at, Match.status_changed_at)
    given = (Match.helper_id == Resident.id) & (Match.status == "done")
    last_parts = [
        scalar(
            select(func.max(HelpRequest.updated_at)).where(HelpRequest.requester_id == Resident.id)
        ),
        scalar(select(func.max(Offer.updated_at)).where(Offer.helper_id == Resident.id)),
        scalar(select(func.max(done_at)).where(given)),
    ]
    if dialect == "postgresql":
        last = func.greatest(*last_parts)  # ignores NULLs
    else:  # SQLite: multi-argument max() is scalar; ISO text sorts like time, '' before all
        last = func.nullif(func.max(*(func.coalesce(p, "") for p in last_parts)), "")
    return {
        "requests": scalar(
            select(func.count(HelpRequest.id)).where(HelpRequest.requester_id == Resident.id)
        ),
        "offers": scalar(select(func.count(Offer.id)).where(Offer.helper_id == Resident.id)),
        "helps_given": scalar(select(func.count(Match.id)).where(given)),
        "helps_received": scalar(
            select(func.count(Match.id))
            .join(HelpRequest, HelpRequest.id == Match.request_id)
            .where(HelpRequest.requester_id == Resident.id, Match.status == "done")
        ),
        "last_activity_at": last,
    }


def _vog_filter(kind: str, today: date, months: int, warn_days: int):
    valid_now = vog_valid_on(Resident.id, today, months)
    valid_later = vog_valid_on(Resident.id, today + timedelta(days=warn_days + 1), months)
    has_any = select(VogRecord.id).where(VogRecord.resident_id == Resident.id).exists()
    return {
        "valid": valid_later,
        "expiring": and_(valid_now, not_(valid_later)),
        "expired": and_(has_any, not_(valid_now)),
        "none": not_(has_any),
    }[kind]


def _sort_column(sort: str, activity: dict):
    return {
        "last_activity": activity["last_activity_at"],
        "first_active": Resident.first_active_at,
        "name": func.lower(Resident.first_name),
        "helps_given": activity["helps_given"],
        "helps_received": activity["helps_received"],
    }[sort]


def member_ids(neighbourhood_id: int) -> list[int]:
    """Ids of the neighbourhood's active residents."""
    return list(db.session.scalars(select(Resident.id).where(_members(neighbourhood_id))))


def _members(neighbourhood_id: int):
    return and_(
        Resident.neighbourhood_id == neighbourhood_id,
        Resident.first_active_at.is_not(None),
        Resident.erased_at.is_(None),
    )


def _filtered(neighbourhood_id: int, query: InvolvementQuery, now: datetime):
    """The SELECT of residents and their activity after filters (not yet sorted or paged)."""
    config = current_app.config
    activity = {
        name: column.label(name)
        for name, column in activity_columns(db.engine.dialect.name).items()
    }
    vouched = (
        select(Vouch.id)
        .where(Vouch.resident_id == Resident.id, Vouch.revoked_at.is_(None))
        .exists()
    )
    statement = select(
        Resident,
        *activity.values(),
        vouched.label("vouched"),
        func.count().over().label("total"),
    ).where(_members(neighbourhood_id))
    if query.role in ("requester", "both"):
        statement = statement.where(
            select(HelpRequest.id).where(HelpRequest.requester_id == Resident.id).exists()
        )
    if query.role in ("helper", "both"):
        statement = statement.where(select(Offer.id).where(Offer.helper_id == Resident.id).exists())
    if query.newly_active:
        since = now - timedelta(days=config["NEWLY_ACTIVE_DAYS"])
        statement = statement.where(Resident.first_active_at >= since)
    if query.vouched:
        statement = statement.where(vouched)
    if query.vog:
        statement = statement.where(
            _vog_filter(
                query.vog, now.date(), config["VOG_VALID_MONTHS"], config["VOG_EXPIRY_WARNING_DAYS"]
            )
        )
    if query.q:
        pattern = f"%{query.q.lower()}%"
        full = func.lower(Resident.first_name + " " + func.coalesce(Resident.last_name, ""))
        statement = statement.where(full.like(pattern))
    return statement, activity


def vog_statuses(resident_ids: list[int], today: date) -> dict[int, tuple[str, date | None]]:
    """(status, best expiry) per resident: valid / expiring / expired / none."""
    config = current_app.config
    months, warn = config["VOG_VALID_MONTHS"], config["VOG_EXPIRY_WARNING_DAYS"]
    best: dict[int, date] = {}
    for record in db.session.scalars(
        select(VogRecord).where(VogRecord.resident_id.in_(resident_ids or [-1]))
    ):
        expiry = vog_expiry(record, months)
        if record.resident_id not in best or expiry > best[record.resident_id]:
            best[record.resident_id] = expiry
    result: dict[int, tuple[str, date | None]] = {}
    for rid in resident_ids:
        expiry = best.get(rid)
        if expiry is None:
            status = "none"
        elif expiry < today:
            status = "expired"
        elif expiry <= today + timedelta(days=warn):
            status = "expiring"
        else:
            status = "valid"
        result[rid] = (status, expiry)
    return result


def list_involved(
    actor_user_id: int, code: str, query: InvolvementQuery | None = None
) -> InvolvementPage:
    """One page of the residents involved in a neighbourhood; audits each resident shown."""
    query = query or InvolvementQuery()
    neighbourhood = scoped_neighbourhood(actor_user_id, code)
    now = utcnow()
    statement, activity = _filtered(neighbourhood.id, query, now)
    column = _sort_column(query.sort, activity)
    order = column.desc() if query.descending else column.asc()
    # NULLs (never active in that way) last, then a stable tie-break by id.
    statement = statement.order_by(order.nulls_last(), Resident.id)
    rows = db.session.execute(paginate(statement, query.page, query.per_page)).all()
    if rows:
        total = int(rows[0].total)  # count(*) over (): one query for the page and the total
    else:
        total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    ids = [row.Resident.id for row in rows]
    vogs = vog_statuses(ids, now.date())
    newly_since = now - timedelta(days=current_app.config["NEWLY_ACTIVE_DAYS"])
    items = [
        InvolvedResident(
            id=row.Resident.id,
            first_name=row.Resident.first_name,
            last_name=row.Resident.last_name,
            first_active_at=row.Resident.first_active_at,
            last_activity_at=_aware(row.last_activity_at),
            requests=int(row.requests or 0),
            offers=int(row.offers or 0),
            helps_given=int(row.helps_given or 0),
            helps_received=int(row.helps_received or 0),
            vouched=bool(row.vouched),
            vog_status=vogs[row.Resident.id][0],
            vog_expires_on=vogs[row.Resident.id][1],
            known_to_services=row.Resident.known_to_services,
            newly_active=bool(
                row.Resident.first_active_at and row.Resident.first_active_at >= newly_since
            ),
        )
        for row in rows
    ]
    record_view(
        actor_user_id,
        "involvement",
        ids,
        reason="who is involved",
        detail={"neighbourhood": neighbourhood.code},
    )
    return InvolvementPage(
        neighbourhood.code,
        neighbourhood.name,
        items,
        total,
        query.page,
        query.per_page,
        query,
        neighbourhood.geometry_geojson,
    )


def _aware(value: datetime | None) -> datetime | None:
    """A timestamp from a raw aggregate (SQLite returns naive or text) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def snap(lat: float, lon: float, metres: int = CELL_METRES) -> tuple[int, int]:
    """The grid cell (row, column) of a point; the grid is global, so cells never move."""
    dlat = metres / METRES_PER_DEGREE_LAT
    dlon = metres / (METRES_PER_DEGREE_LAT * math.cos(math.radians(52.0)))
    return math.floor(lat / dlat), math.floor(lon / dlon)


def cell_bounds(row: int, col: int, metres: int = CELL_METRES) -> list[list[float]]:
    """[[south, west], [north, east]] of a grid cell, rounded to 5 decimals."""
    dlat = metres / METRES_PER_DEGREE_LAT
    dlon = metres / (METRES_PER_DEGREE_LAT * math.cos(math.radians(52.0)))
    return [
        [round(row * dlat, 5), round(col * dlon, 5)],
        [round((row + 1) * dlat, 5), round((col + 1) * dlon, 5)],
    ]


def involvement_cells(actor_user_id: int, code: str) -> list[dict]:
    """Active residents counted per ~250 m grid cell (no person, no exact point)."""
    neighbourhood = scoped_neighbourhood(actor_user_id, code)
    members = member_ids(neighbourhood.id) or [-1]
    # Index probes per member (requester_id, helper_id): cheaper than the full summary.
    asked = select(HelpRequest.id).where(HelpRequest.requester_id == Resident.id).exists()
    offered = select(Offer.id).where(Offer.helper_id == Resident.id).exists()
    rows = db.session.execute(
        select(Resident.home_lat, Resident.home_lon, asked, offered).where(
            Resident.id.in_(members),
            Resident.home_lat.is_not(None),
            Resident.home_lon.is_not(None),
        )
    ).all()
    cells: dict[tuple[int, int], dict] = {}
    for lat, lon, requests, offers in rows:
        key = snap(lat, lon)
        cell = cells.setdefault(key, {"residents": 0, "requesters": 0, "helpers": 0})
        cell["residents"] += 1
        cell["requesters"] += 1 if requests else 0
        cell["helpers"] += 1 if offers else 0
    result = []
    for (row, col), counts in sorted(cells.items()):
        bounds = cell_bounds(row, col)
        centre = [
            round((bounds[0][0] + bounds[1][0]) / 2, 5),
            round((bounds[0][1] + bounds[1][1]) / 2, 5),
        ]
        result.append({"cell": f"{row}:{col}", "bounds": bounds, "centre": centre, **counts})
    return result


def involvement_counts(neighbourhood_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per neighbourhood: active residents and newly active ones (counts only, not audited)."""
    since = utcnow() - timedelta(days=current_app.config["NEWLY_ACTIVE_DAYS"])
    rows = db.session.execute(
        select(
            Resident.neighbourhood_id,
            func.count(),
            func.sum(case((Resident.first_active_at >= since, 1), else_=0)),
        )
        .where(
            Resident.neighbourhood_id.in_(neighbourhood_ids or [-1]),
            Resident.first_active_at.is_not(None),
            Resident.erased_at.is_(None),
        )
        .group_by(Resident.neighbourhood_id)
    ).all()
    return {nid: {"active": int(n), "newly_active": int(new or 0)} for nid, n, new in rows}
