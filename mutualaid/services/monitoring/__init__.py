"""Municipal monitoring: aggregates per neighbourhood, district and municipality, suppressed.

The municipality role sees aggregates of its own municipality only; nothing here returns a
person. `monitoring_report` applies that scope, `report_csv` writes the same figures as CSV.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import OrderedDict
from datetime import date

from sqlalchemy import func, select

from ...errors import NotAllowed, NotFound
from ...extensions import db
from ...models import Category, Neighbourhood
from .queries import municipalities
from .report import COUNT_MEASURES, DERIVED_MEASURES, MEASURES, Figure, Report, build_report
from .rollup import ensure_fresh
from .svg import MapArea

__all__ = [
    "COUNT_MEASURES",
    "DERIVED_MEASURES",
    "MEASURES",
    "Figure",
    "Report",
    "map_areas",
    "monitoring_report",
    "municipality_choices",
    "report_csv",
]

MONITORING_ROLES = ("municipality", "admin")


def scoped_municipality(
    role: str, own_code: str | None, requested: str | None, default_code: str | None = None
) -> str:
    """The municipality an actor may see: their own (municipality role) or any (admin).

    Another municipality's code is answered as if it did not exist (404): a municipality user
    never receives another municipality's figures.
    """
    if role not in MONITORING_ROLES:
        raise NotAllowed("only municipality users and admins see the monitoring", rule="role")
    if role == "municipality":
        if not own_code or (requested and requested != own_code):
            raise NotFound("no such municipality", field="gemeente", rule="exists")
        return own_code
    if requested:
        return requested
    known = municipalities()
    if not known:
        raise NotFound("no neighbourhoods have been imported", field="gemeente", rule="exists")
    codes = [code for code, _ in known]
    return default_code if default_code in codes else codes[0]


def monitoring_report(
    *,
    role: str,
    own_code: str | None,
    requested_code: str | None,
    default_code: str | None = None,
    level: str,
    period: str,
    start: date | None,
    end: date | None,
    today: date,
    threshold: int,
) -> Report:
    """The monitoring report the actor may see (scope checked here, not in the views)."""
    code = scoped_municipality(role, own_code, requested_code, default_code)
    key = (code, level, period, start, end, today, threshold, data_version())
    report = _cache.get(key)
    if report is None:
        report = build_report(
            code,
            level=level,
            period=period,
            start=start,
            end=end,
            today=today,
            threshold=threshold,
            source="rollup_as_is",
        )
        _cache.put(key, report)
    return report


def data_version() -> tuple:
    """Changes whenever the figures can change: the rollup's version (after bringing it up to
    date if it is older than its maximum age, see `rollup.py`), the neighbourhood import and
    the categories. Between refreshes of the rollup, reports come from the cache."""
    version = ensure_fresh()
    parts = (
        select(func.max(Neighbourhood.imported_at)).scalar_subquery(),
        select(func.count(Category.id)).scalar_subquery(),
        select(func.max(Category.id)).scalar_subquery(),
    )
    return (version, *db.session.execute(select(*parts)).one())


class _ReportCache:
    """The last few reports, reused while the data is unchanged and for at most `ttl` seconds.

    Reports are never changed after they are built, so threads may share them. The key
    always includes the (already scope-checked) municipality.
    """

    def __init__(self, size: int = 32, ttl: float = 600.0) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> Report | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or time.monotonic() - item[0] > self.ttl:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key, report: Report) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), report)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _ReportCache()


def municipality_choices() -> list[tuple[str, str]]:
    """(code, name) of every municipality with imported neighbourhoods."""
    return [(code, name or code) for code, name in municipalities()]


def map_areas(municipality_code: str) -> list[MapArea]:
    """The neighbourhood polygons of a municipality, for the choropleth."""
    rows = db.session.execute(
        select(
            Neighbourhood.code,
            Neighbourhood.name,
            Neighbourhood.geometry_geojson,
            Neighbourhood.centroid_lat,
            Neighbourhood.centroid_lon,
        ).where(Neighbourhood.municipality_code == municipality_code)
    ).all()
    return [MapArea(*row) for row in rows]


CSV_HEADER = (
    "municipality_code",
    "level",
    "area_code",
    "area_name",
    "period",
    "period_start",
    "measure",
    "value",
)


def _spreadsheet_safe(text: str) -> str:
    """Imported names never start a spreadsheet formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(report: Report) -> str:
    """The report's figures, one row per area, period and measure; suppressed as "<5"."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    areas = (
        report.rows()
        if report.level == "municipality"
        else [
            report.municipality,
            *report.rows(),
        ]
    )
    for area in areas:
        for p in report.periods:
            head = (
                report.municipality.code,
                area.level,
                area.code,
                _spreadsheet_safe(area.name),
                report.label(p),
            )
            for measure in MEASURES:
                figure = report.figure(measure, area.code, p)
                writer.writerow((*head, p.isoformat(), measure, figure.text(report.threshold)))
            for code, _, _ in report.categories:
                figure = report.mix(code, area.code, p)
                writer.writerow(
                    (*head, p.isoformat(), f"requests_opened:{code}", figure.text(report.threshold))
                )
    return out.getvalue()
