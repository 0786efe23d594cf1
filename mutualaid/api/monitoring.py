"""/api/v1/monitoring: municipal figures per area and period (aggregates only), JSON and CSV.

A municipality user gets their own municipality (another code: 404); an admin may pass
`gemeente`. Small counts are suppressed: such a figure has `value: null`, `suppressed: true`
and `display: "<5"`. No person is ever part of the answer.
"""

from __future__ import annotations

from datetime import date

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..services.monitoring import MEASURES, monitoring_report, report_csv
from ..services.monitoring.periods import LEVELS, PERIODS, next_period
from .access import api_access, api_user

blp = Blueprint(
    "monitoring_api",
    __name__,
    url_prefix="/api/v1",
    description="Municipal monitoring of informal help: aggregates only, small counts hidden",
)


class MonitoringArgsSchema(Schema):
    level = fields.String(load_default="neighbourhood", validate=validate.OneOf(LEVELS))
    period = fields.String(load_default="month", validate=validate.OneOf(PERIODS))
    start = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "first day; snapped to the start of its week or month"},
    )
    end = fields.Date(
        data_key="to",
        load_default=None,
        metadata={"description": "last day (default today); snapped to its week or month"},
    )
    gemeente = fields.String(
        load_default=None,
        metadata={"description": "municipality code (admins only; others get their own)"},
    )


class PageArgsSchema(MonitoringArgsSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class FigureSchema(Schema):
    value = fields.Raw(
        allow_none=True,
        required=True,
        metadata={
            "type": "number",
            "nullable": True,
            "description": "null when suppressed or not defined (e.g. a share of 0 requests)",
        },
    )
    suppressed = fields.Boolean(
        required=True, metadata={"description": "true: hidden to protect small numbers"}
    )
    display = fields.String(
        required=True, metadata={"description": 'as shown on the page: "<5" when suppressed'}
    )


class AreaSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))


class RowSchema(Schema):
    area = fields.Nested(AreaSchema, required=True)
    period_start = fields.Date(required=True)
    period = fields.String(required=True, metadata={"description": "2026-W47 or 2026-11"})
    figures = fields.Dict(
        keys=fields.String(validate=validate.OneOf(MEASURES)),
        values=fields.Nested(FigureSchema),
        required=True,
    )
    category_mix = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(FigureSchema),
        required=True,
        metadata={"description": "requests opened per category code"},
    )


class MonitoringSchema(Schema):
    municipality = fields.Nested(AreaSchema, required=True)
    level = fields.String(required=True)
    period = fields.String(required=True)
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    threshold = fields.Integer(required=True, metadata={"description": "counts below are hidden"})
    items = fields.List(fields.Nested(RowSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


def _report(args: dict):
    user = api_user()
    return monitoring_report(
        role=user.role,
        own_code=user.municipality_code,
        requested_code=args.get("gemeente"),
        default_code=current_app.config["DEFAULT_MUNICIPALITY_CODE"],
        level=args["level"],
        period=args["period"],
        start=args.get("start"),
        end=args.get("end"),
        today=date.today(),
        threshold=current_app.config["SMALL_COUNT_THRESHOLD"],
    )


def _figure(figure, threshold: int) -> dict:
    return {
        "value": figure.value,
        "suppressed": figure.suppressed,
        "display": figure.text(threshold),
    }


@blp.route("/monitoring")
class Monitoring(MethodView):
    @api_access("municipality", "admin")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MonitoringSchema)
    @blp.alt_response(404, description="no such municipality (or not yours)")
    def get(self, args):
        """Figures per area (the municipality, then the chosen level) and period, paginated."""
        report = _report(args)
        t = report.threshold
        areas = (
            report.rows()
            if report.level == "municipality"
            else [
                report.municipality,
                *report.rows(),
            ]
        )
        keys = [(a, p) for a in areas for p in report.periods]
        first = (args["page"] - 1) * args["per_page"]
        items = [
            {
                "area": {"code": a.code, "name": a.name, "level": a.level},
                "period_start": p,
                "period": report.label(p),
                "figures": {m: _figure(report.figure(m, a.code, p), t) for m in MEASURES},
                "category_mix": {
                    c: _figure(report.mix(c, a.code, p), t) for c, _, _ in report.categories
                },
            }
            for a, p in keys[first : first + args["per_page"]]
        ]
        last = report.periods[-1]
        return {
            "municipality": {
                "code": report.municipality.code,
                "name": report.municipality.name,
                "level": "municipality",
            },
            "level": report.level,
            "period": report.period,
            "start": report.start,
            "end": date.fromordinal(next_period(last, report.period).toordinal() - 1),
            "threshold": t,
            "items": items,
            "total": len(keys),
            "page": args["page"],
            "per_page": args["per_page"],
        }


@blp.route("/monitoring.csv")
class MonitoringCsv(MethodView):
    @api_access("municipality", "admin")
    @blp.arguments(MonitoringArgsSchema, location="query")
    @blp.response(200, content_type="text/csv", description="one row per area, period, measure")
    @blp.alt_response(404, description="no such municipality (or not yours)")
    def get(self, args):
        """The same figures as CSV; suppressed figures are written as "<5"."""
        report = _report(args)
        return Response(
            report_csv(report),
            mimetype="text/csv",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="monitoring-{report.municipality.code}.csv"'
                )
            },
        )
