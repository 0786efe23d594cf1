"""Community workers' dashboards as JSON: who is involved, newly active residents, the help
network, the follow-up queue and the audit log. Only workers (their own neighbourhoods) and
admins; every person returned is written to the audit log by the services.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import get_locale
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..models.vocab import CONSENT_METHODS, FOLLOW_UP_KINDS
from ..services.audit_view import audit_for_worker
from ..services.followup import ACTIONS, follow_up_queue, record_follow_up
from ..services.involvement import (
    ROLE_FILTERS,
    SORTS,
    VOG_FILTERS,
    involvement_cells,
    list_involved,
    parse_query,
)
from ..services.network import help_network
from ..services.newly_active import WHICH, list_newly_active, reach_out
from .access import api_access, api_user
from .ids import object_id

blp = Blueprint(
    "involvement_api",
    __name__,
    url_prefix="/api/v1",
    description="Community workers: who is involved, newly active, network, follow-up, audit",
)


class DashboardPageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class InvolvementArgs(DashboardPageArgs):
    role = fields.String(load_default="", validate=validate.OneOf(ROLE_FILTERS))
    newly_active = fields.Boolean(load_default=False)
    vouched = fields.Boolean(load_default=False)
    vog = fields.String(load_default="", validate=validate.OneOf(VOG_FILTERS))
    sort = fields.String(load_default="last_activity", validate=validate.OneOf(SORTS))
    order = fields.String(load_default=None, validate=validate.OneOf(("asc", "desc")))


class InvolvementSearchArgs(InvolvementArgs):
    """The same filters with a name to search for: sent in the body, since a name in the URL
    would end up in proxy and server logs."""

    q = fields.String(
        required=True,
        validate=validate.Length(max=80),
        metadata={"description": "part of a first or last name"},
    )


class InvolvedSchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String(allow_none=True)
    first_active_at = fields.DateTime(allow_none=True)
    last_activity_at = fields.DateTime(allow_none=True)
    requests = fields.Integer()
    offers = fields.Integer()
    helps_given = fields.Integer()
    helps_received = fields.Integer()
    vouched = fields.Boolean()
    vog_status = fields.String(metadata={"enum": ["valid", "expiring", "expired", "none"]})
    vog_expires_on = fields.Date(allow_none=True)
    known_to_services = fields.Boolean()
    newly_active = fields.Boolean()


class InvolvementCellSchema(Schema):
    cell = fields.String(metadata={"description": "grid row:column of a ~250 m cell"})
    bounds = fields.List(fields.List(fields.Float()))
    centre = fields.List(fields.Float())
    residents = fields.Integer()
    requesters = fields.Integer()
    helpers = fields.Integer()


class InvolvementSchema(Schema):
    neighbourhood = fields.String()
    neighbourhood_name = fields.String()
    items = fields.List(fields.Nested(InvolvedSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    cells = fields.List(fields.Nested(InvolvementCellSchema))


class NewlyActiveArgs(DashboardPageArgs):
    which = fields.String(load_default="all", validate=validate.OneOf(WHICH))
    days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=730))


class NewlyActiveDeedSchema(Schema):
    kind = fields.String(metadata={"enum": ["requested", "offered", "helped", "was_helped"]})
    category = fields.String()
    with_first_name = fields.String(allow_none=True)
    at = fields.DateTime(allow_none=True)
    status = fields.String(allow_none=True)


class NewlyActiveSchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    neighbourhood_code = fields.String(allow_none=True)
    first_active_at = fields.DateTime(allow_none=True)
    is_new = fields.Boolean()
    never_matched = fields.Boolean()
    deeds = fields.List(fields.Nested(NewlyActiveDeedSchema))


class NewlyActivePageSchema(Schema):
    items = fields.List(fields.Nested(NewlyActiveSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    days = fields.Integer()
    which = fields.String()


class ReachOutSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(CONSENT_METHODS))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ContactNoteSchema(Schema):
    id = fields.Integer()
    resident_id = fields.Integer()
    method = fields.String()
    note = fields.String()
    created_at = fields.DateTime()


class NetworkNodeSchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    x = fields.Float()
    y = fields.Float()
    degree = fields.Integer()


class NetworkEdgeSchema(Schema):
    source = fields.Integer(metadata={"description": "the helper for `helped` ties"})
    target = fields.Integer()
    kind = fields.String(metadata={"enum": ["helped", "knows"]})
    times = fields.Integer()
    first_at = fields.DateTime()
    is_new = fields.Boolean()


class NetworkSchema(Schema):
    neighbourhood = fields.String(attribute="neighbourhood_code")
    neighbourhood_name = fields.String()
    nodes = fields.List(fields.Nested(NetworkNodeSchema))
    edges = fields.List(fields.Nested(NetworkEdgeSchema))
    outside_ties = fields.Integer()
    truncated = fields.Boolean()
    new_since = fields.DateTime()


class FollowUpArgs(DashboardPageArgs):
    kind = fields.String(load_default="", validate=validate.OneOf(("", *FOLLOW_UP_KINDS)))
    include_closed = fields.Boolean(load_default=False)


class TakenActionSchema(Schema):
    action = fields.String()
    note = fields.String(allow_none=True)
    by = fields.String(allow_none=True)
    at = fields.DateTime()


class FollowUpItemSchema(Schema):
    kind = fields.String(metadata={"enum": list(FOLLOW_UP_KINDS)})
    key = fields.String()
    resident_id = fields.Integer(allow_none=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    problem_report_id = fields.Integer(allow_none=True)
    since = fields.DateTime()
    detail = fields.Dict()
    suggested = fields.String()
    actions = fields.List(fields.Nested(TakenActionSchema))
    closed = fields.Boolean()


class FollowUpPageSchema(Schema):
    items = fields.List(fields.Nested(FollowUpItemSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class FollowUpActionBody(Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class FollowUpActionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    action = fields.String()
    note = fields.String(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    resident_id = fields.Integer(allow_none=True)
    problem_report_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class WorkerAuditArgs(DashboardPageArgs):
    resident_id = object_id(load_default=None)
    include_log_views = fields.Boolean(load_default=False)


class WorkerAuditRowSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    action = fields.String()
    resident_id = fields.Integer(allow_none=True)
    resident_first_name = fields.String(allow_none=True)
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class WorkerAuditPageSchema(Schema):
    items = fields.List(fields.Nested(WorkerAuditRowSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


def _detail(item) -> dict:
    """Follow-up details as JSON values (dates as ISO text)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in item.detail.items()}


@blp.route("/neighbourhoods/<code>/involvement")
class Involvement(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(InvolvementArgs, location="query")
    @blp.response(200, InvolvementSchema)
    def get(self, args, code: str):
        """Residents active in a neighbourhood (filter, sort, page) and map cells."""
        return _involvement(code, args)


@blp.route("/neighbourhoods/<code>/involvement/search")
class InvolvementSearch(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(InvolvementSearchArgs)
    @blp.response(200, InvolvementSchema)
    def post(self, args, code: str):
        """The same list, searched by name (the name in the body, never in the URL)."""
        return _involvement(code, args)


def _involvement(code: str, args: dict) -> dict:
    raw = {k: ("1" if v is True else "" if v is False else v) for k, v in args.items()}
    page = list_involved(api_user().id, code, parse_query(raw))
    return {
        "neighbourhood": page.neighbourhood_code,
        "neighbourhood_name": page.neighbourhood_name,
        "items": page.items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "cells": involvement_cells(api_user().id, code),
    }


@blp.route("/neighbourhoods/<code>/newly-active")
class NewlyActive(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(NewlyActiveArgs, location="query")
    @blp.response(200, NewlyActivePageSchema)
    def get(self, args, code: str):
        """Newly active residents not known to services, and offerers never matched."""
        return list_newly_active(
            api_user().id, code=code, language=str(get_locale() or "nl")[:2], **args
        )


@blp.route("/newly-active")
class NewlyActiveAll(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(NewlyActiveArgs, location="query")
    @blp.response(200, NewlyActivePageSchema)
    def get(self, args):
        """The same over all of the caller's neighbourhoods."""
        return list_newly_active(api_user().id, language=str(get_locale() or "nl")[:2], **args)


@blp.route("/residents/<int:resident_id>/contact-notes")
class ReachOut(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(ReachOutSchema)
    @blp.response(201, ContactNoteSchema)
    def post(self, body, resident_id: int):
        """Reach out: record a contact note and mark the resident known to services."""
        return reach_out(api_user().id, resident_id, body["method"], body["note"])


@blp.route("/neighbourhoods/<code>/network")
class NetworkView(MethodView):
    @api_access("worker", "admin")
    @blp.response(200, NetworkSchema)
    def get(self, code: str):
        """Help ties in a neighbourhood (nodes with a fixed layout, edges; new ones flagged)."""
        return help_network(api_user().id, code)


@blp.route("/follow-up")
class FollowUp(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(FollowUpArgs, location="query")
    @blp.response(200, FollowUpPageSchema)
    def get(self, args):
        """The follow-up queue of the caller's neighbourhoods, most pressing first."""
        page = follow_up_queue(api_user().id, **args)
        for item in page.items:
            item.detail = _detail(item)
        return page


@blp.route("/follow-up/<kind>/<int:target_id>/actions")
class FollowUpActions(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(FollowUpActionBody)
    @blp.response(201, FollowUpActionSchema)
    def post(self, body, kind: str, target_id: int):
        """Record an action on an item ("referred" and "handled" close it)."""
        return record_follow_up(api_user().id, kind, target_id, body["action"], body["note"])


@blp.route("/audit")
class Audit(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(WorkerAuditArgs, location="query")
    @blp.response(200, WorkerAuditPageSchema)
    def get(self, args):
        """Audit events about the residents of the caller's neighbourhoods, newest first."""
        return audit_for_worker(api_user().id, **args)
