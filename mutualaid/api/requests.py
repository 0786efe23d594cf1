"""/api/v1/requests: your own help requests (list, ask, change, cancel), their ranked
suggestions, and letting the service invite helpers in waves."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..services.aid import cancel_request, post_request, update_request
from ..services.aid_views import get_request, my_requests
from ..services.helping import let_service_invite, suggestions_for_request
from .access import api_access, api_resident_id
from .resident_schemas import (
    CHANNEL_HELP,
    URGENCY_HELP,
    MatchSchema,
    PageArgsSchema,
    RequestSchema,
    api_language,
)

blp = Blueprint(
    "requests_api",
    __name__,
    url_prefix="/api/v1/requests",
    description="Residents: your help requests and their suggested helpers",
)


class RequestInputSchema(Schema):
    """A new request; on PATCH every field is optional."""

    category = fields.String(required=True, metadata={"example": "boodschappen"})
    description = fields.String(required=True)
    slots = fields.Integer(
        metadata={"description": "21-bit week grid (bit = day*3 + part); omit for any time"}
    )
    window_start = fields.Date(allow_none=True)
    window_end = fields.Date(allow_none=True)
    recurring = fields.Boolean()
    urgency = fields.String(metadata=URGENCY_HELP)
    needs_vog = fields.Boolean(metadata={"description": "some categories always need one"})
    needs_shared_language = fields.Boolean()
    contact_channel = fields.String(allow_none=True, metadata=CHANNEL_HELP)
    max_distance_m = fields.Integer()
    address_line = fields.String(
        allow_none=True, metadata={"description": "another address than home, e.g. 'Markt 1'"}
    )
    postcode = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True, metadata={"description": "a point on the map"})
    lon = fields.Float(allow_none=True)


class RequestChangeSchema(RequestInputSchema):
    """A change to a request: only the fields given change."""

    category = fields.String()
    description = fields.String()


class RequestPageSchema(Schema):
    items = fields.List(fields.Nested(RequestSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class WaveSchema(Schema):
    wave = fields.Integer(allow_none=True, metadata={"description": "None: nobody left to ask"})
    asked = fields.Integer(required=True)


@blp.route("")
class Requests(MethodView):
    @api_access("resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, RequestPageSchema)
    def get(self, args):
        """Your requests, newest first."""
        return my_requests(api_resident_id(), args["page"], args["per_page"], api_language())

    @api_access("resident")
    @blp.arguments(RequestInputSchema)
    @blp.response(201, RequestSchema)
    def post(self, body):
        """Ask for help; matching starts in the background."""
        resident_id = api_resident_id()
        request = post_request(resident_id, **body)
        return get_request(request.id, resident_id, api_language())


@blp.route("/<int:request_id>")
class RequestItem(MethodView):
    @api_access("resident")
    @blp.response(200, RequestSchema)
    def get(self, request_id: int):
        """One of your requests (404 for someone else's)."""
        return get_request(request_id, api_resident_id(), api_language())

    @api_access("resident")
    @blp.arguments(RequestChangeSchema)
    @blp.response(200, RequestSchema)
    def patch(self, body, request_id: int):
        """Change an open request; it is matched again."""
        resident_id = api_resident_id()
        update_request(request_id, resident_id, **body)
        return get_request(request_id, resident_id, api_language())


@blp.route("/<int:request_id>/cancel")
class RequestCancel(MethodView):
    @api_access("resident")
    @blp.response(200, RequestSchema)
    def post(self, request_id: int):
        """Cancel a request; helpers who were asked are told."""
        resident_id = api_resident_id()
        cancel_request(request_id, resident_id)
        return get_request(request_id, resident_id, api_language())


@blp.route("/<int:request_id>/suggestions")
class Suggestions(MethodView):
    @api_access("resident")
    @blp.response(200, MatchSchema(many=True))
    def get(self, request_id: int):
        """The ranked helpers for your request: first name, rounded distance, explanation."""
        return suggestions_for_request(request_id, api_resident_id(), api_language())


@blp.route("/<int:request_id>/invite-waves")
class InviteWaves(MethodView):
    @api_access("resident")
    @blp.response(200, WaveSchema)
    def post(self, request_id: int):
        """Let the service ask the suggested helpers in waves; the first who says yes helps."""
        return let_service_invite(request_id, api_resident_id())
