"""Pages for municipality users: monitoring of informal help (aggregates only, no person).

A municipality user sees their own municipality only; admins may pick any (`?gemeente=`).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..services.monitoring import (
    Report,
    map_areas,
    monitoring_report,
    municipality_choices,
    report_csv,
)
from ..services.monitoring.periods import parse_date
from ..services.monitoring.svg import bar_chart, choropleth
from .access import roles_required

bp = Blueprint("municipality", __name__, url_prefix="/gemeente")


def _report_from_args() -> Report:
    args = request.args
    return monitoring_report(
        role=current_user.role,
        own_code=current_user.municipality_code,
        requested_code=args.get("gemeente") or None,
        default_code=current_app.config["DEFAULT_MUNICIPALITY_CODE"],
        level=args.get("level", "neighbourhood"),
        period=args.get("period", "month"),
        start=parse_date(args.get("from"), "from"),
        end=parse_date(args.get("to"), "to"),
        today=date.today(),
        threshold=current_app.config["SMALL_COUNT_THRESHOLD"],
    )


def measure_names() -> dict[str, str]:
    """Translated names of the measures (also the chart titles)."""
    return {
        "requests_opened": _("Requests for help"),
        "requests_matched": _("Requests matched"),
        "share_matched": _("Share matched"),
        "median_hours_to_match": _("Median hours to a match"),
        "requests_completed": _("Help completed"),
        "active_helpers": _("Active helpers"),
        "new_helpers": _("New helpers"),
        "repeat_requesters": _("Repeat requesters"),
    }


CHARTED = (
    "requests_opened",
    "requests_matched",
    "requests_completed",
    "active_helpers",
    "new_helpers",
    "repeat_requesters",
)


@bp.get("/")
@bp.get("/monitoring")
@roles_required("municipality", "admin")
def monitoring():
    """Figures per period and area, trends as charts, a map and a CSV link."""
    report = _report_from_args()
    names = measure_names()
    focus = _focus_period(report)
    area = report.area(request.args.get("area") or report.municipality.code)
    labels = [report.label(p) for p in report.periods]
    charts = [
        (
            measure,
            bar_chart(
                f"chart-{measure}",
                _(
                    "%(measure)s per %(period)s, %(area)s",
                    measure=names[measure],
                    period=_("week") if report.period == "week" else _("month"),
                    area=area.name,
                ),
                labels,
                [report.figure(measure, area.code, p) for p in report.periods],
                report.threshold,
                _("hidden (small number)"),
            ),
        )
        for measure in CHARTED
    ]
    figures = {
        a.code: report.figure("requests_opened", a.code, focus)
        for a in report.rows("neighbourhood")
    }
    svg_map = choropleth(
        "map",
        _("Requests for help per neighbourhood, %(period)s", period=report.label(focus)),
        _(
            "A map of the neighbourhoods of %(name)s. Each neighbourhood shows its number of "
            "requests for help; the same numbers are in the table below.",
            name=report.municipality.name,
        ),
        map_areas(report.municipality.code),
        figures,
        report.threshold,
        {
            "zero": _("0 requests"),
            "suppressed": _("hidden (small number)"),
            "or_more": _("or more"),
        },
    )
    return render_template(
        "municipality/monitoring.html",
        report=report,
        names=names,
        charts=charts,
        svg_map=svg_map,
        focus=focus,
        chart_area=area,
        english=str(get_locale()) == "en",
        choices=municipality_choices() if current_user.role == "admin" else [],
        args=request.args,
    )


def _focus_period(report: Report) -> date:
    wanted = parse_date(request.args.get("focus"), "focus")
    if wanted is not None:
        for p in report.periods:
            if p == wanted:
                return p
    return report.periods[-1]


@bp.get("/monitoring.csv")
@roles_required("municipality", "admin")
def monitoring_csv():
    """The same figures as CSV (suppressed as "<5")."""
    report = _report_from_args()
    name = f"monitoring-{report.municipality.code}-{report.period}-{report.start.isoformat()}.csv"
    return Response(
        report_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
