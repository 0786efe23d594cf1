"""/api/v1/me: your own profile, all your data (export), erasure, who viewed your data, and
your in-app notifications."""

from __future__ import annotations

from flask import jsonify, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..models.vocab import CHANNELS, LANGUAGES, ROLES, channel_codes, language_codes
from ..services.accounts import sign_out_everywhere
from ..services.erasure import erase_resident
from ..services.inbox import list_notifications, mark_all_read, mark_read, unread_count
from ..services.privacy import download_export, my_audit_trail, prepare_export
from ..services.profile import update_profile
from .access import api_access, api_resident_id, api_user
from .auth import PageArgsSchema

blp = Blueprint(
    "me_api",
    __name__,
    url_prefix="/api/v1/me",
    description="Your own data: profile, export, erasure, audit trail, notifications",
)


class NeighbourhoodRefSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class ProfileSchema(Schema):
    id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    house_number = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    neighbourhood = fields.Nested(NeighbourhoodRefSchema, allow_none=True)
    has_home_location = fields.Boolean(required=True)
    location_source = fields.String(allow_none=True)
    geocode_status = fields.String(allow_none=True)
    languages = fields.List(fields.String(), required=True)
    channels = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)


class ProfileUpdateSchema(Schema):
    first_name = fields.String()
    last_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String()
    languages = fields.List(fields.String(), metadata={"description": ", ".join(LANGUAGES)})
    channels = fields.List(fields.String(), metadata={"description": ", ".join(CHANNELS)})


class AuditItemSchema(Schema):
    at = fields.String(required=True)
    actor = fields.String(required=True, metadata={"description": "the professional's name"})
    actor_role = fields.String(required=True)
    action = fields.String(required=True)
    reason = fields.String(allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditItemSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    subject = fields.String(required=True)
    body = fields.String(required=True)
    request_id = fields.Integer(allow_none=True)
    match_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    total = fields.Integer(required=True)
    unread = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


def profile(resident) -> dict:
    """The resident's own profile as the API shows it."""
    neighbourhood = resident.neighbourhood
    return {
        "id": resident.id,
        "first_name": resident.first_name,
        "last_name": resident.last_name,
        "email": resident.email,
        "phone": resident.phone,
        "street": resident.street,
        "house_number": resident.house_number,
        "postcode": resident.postcode,
        "neighbourhood": (
            {"code": neighbourhood.code, "name": neighbourhood.name} if neighbourhood else None
        ),
        "has_home_location": resident.home_lat is not None,
        "location_source": resident.location_source,
        "geocode_status": resident.geocode_status,
        "languages": language_codes(resident.language_mask),
        "channels": channel_codes(resident.channel_mask),
        "created_at": resident.created_at,
    }


@blp.route("")
class Me(MethodView):
    @api_access("resident")
    @blp.response(200, ProfileSchema)
    def get(self):
        """Your profile."""
        api_resident_id()
        return profile(api_user().resident)

    @api_access("resident")
    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, ProfileSchema)
    def patch(self, body):
        """Change your names, phone, languages, contact channels or email address."""
        return profile(update_profile(api_resident_id(), body))

    @api_access("resident")
    @blp.response(204)
    def delete(self):
        """Delete your account: personal data erased everywhere, anonymous figures kept.

        Matches in progress are cancelled and the other side is told (without a name)."""
        erase_resident(api_resident_id(), actor_user_id=api_user().id)


class ExportLinkSchema(Schema):
    download_url = fields.String(
        required=True, metadata={"description": "GET it once, with your token, before it expires"}
    )
    expires_at = fields.DateTime(required=True)


@blp.route("/export")
class Export(MethodView):
    @api_access("resident")
    @blp.response(201, ExportLinkSchema)
    def post(self):
        """Prepare a download of all your data: a one-time link, valid for a few minutes.

        Exports expire: the data itself is never stored; the link works once, for you only."""
        secret, expires_at = prepare_export(api_resident_id(), api_user().id)
        return {
            "download_url": url_for("me_api.ExportDownload", token=secret),
            "expires_at": expires_at,
        }


@blp.route("/export/<token>")
class ExportDownload(MethodView):
    @api_access("resident")
    @blp.response(200)
    @blp.alt_response(404, description="the link is unknown, used, expired or not yours")
    def get(self, token: str):
        """All your data as JSON (once per link): profile, consents, requests, offers,
        matches, messages, ties, notifications and who viewed your data."""
        data = download_export(api_resident_id(), api_user().id, token)
        response = jsonify(data)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
        return response


@blp.route("/audit")
class Audit(MethodView):
    @api_access("resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """Which professionals viewed or changed your data, when and why (newest first)."""
        items, total = my_audit_trail(
            api_resident_id(), page=args["page"], per_page=args["per_page"]
        )
        return {"items": items, "total": total, **args}


@blp.route("/notifications")
class Notifications(MethodView):
    @api_access("resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args):
        """Your in-app notifications, newest first."""
        resident_id = api_resident_id()
        items, total = list_notifications(resident_id, page=args["page"], per_page=args["per_page"])
        unread = unread_count(resident_id)
        return {"items": items, "total": total, "unread": unread, **args}


@blp.route("/notifications/read")
class NotificationsRead(MethodView):
    @api_access("resident")
    @blp.response(204)
    def post(self):
        """Mark all your notifications read."""
        mark_all_read(api_resident_id())


@blp.route("/notifications/<int:notification_id>/read")
class NotificationRead(MethodView):
    @api_access("resident")
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, description="not one of your notifications")
    def post(self, notification_id: int):
        """Mark one notification read."""
        return mark_read(api_resident_id(), notification_id)


class RevokedSchema(Schema):
    revoked_tokens = fields.Integer(
        required=True, metadata={"description": "how many API tokens stopped working"}
    )


@blp.route("/sessions/revoke")
class SessionsRevoke(MethodView):
    @api_access(*ROLES)
    @blp.response(200, RevokedSchema)
    def post(self):
        """Sign out everywhere: every browser session ends and every API token (this one too)
        stops working."""
        return {"revoked_tokens": sign_out_everywhere(api_user().id)}
