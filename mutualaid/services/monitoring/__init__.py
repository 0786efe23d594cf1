"""Municipal monitoring: aggregates per neighbourhood, district and municipality, suppressed.

The municipality role sees aggregates of its own municipality only; nothing here returns a
person. `monitoring_report` applies that scope, `report_csv` writes the same figures as CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from ...errors import NotAllowed, NotFound
from ...extensions import db
from ...models import Neighbourhood
from .queries import municipalities
from .report import COUNT_MEASURES, DERIVED_MEASURES, MEASURES, Figure, Report, build_report
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


def scoped_municipality(role: str, own_code: str | None, requested: str | None) -> str:
    """The municipality an actor may see: their own (municipality role) or any (admin).

    Another municipality's code is answered as if it did not exist (404), so a municipality
    user cannot even learn which other municipalities are served.
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
    return known[0][0]


def monitoring_report(
    *,
    role: str,
    own_code: str | None,
    requested_code: str | None,
    level: str,
    period: str,
    start: date | None,
    end: date | None,
    today: date,
    threshold: int,
) -> Report:
    """The monitoring report the actor may see (scope checked here, not in the views)."""
    code = scoped_municipality(role, own_code, requested_code)
    return build_report(
        code, level=level, period=period, start=start, end=end, today=today, threshold=threshold
    )


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
            head = (report.municipality.code, area.level, area.code, area.name, report.label(p))
            for measure in MEASURES:
                figure = report.figure(measure, area.code, p)
                writer.writerow((*head, p.isoformat(), measure, figure.text(report.threshold)))
            for code, _, _ in report.categories:
                figure = report.mix(code, area.code, p)
                writer.writerow(
                    (*head, p.isoformat(), f"requests_opened:{code}", figure.text(report.threshold))
                )
    return out.getvalue()
