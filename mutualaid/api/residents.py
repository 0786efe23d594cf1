"""/api/v1/residents (community workers): assisted intake, a resident's data (audited), help
asked and offered on their behalf, vouch, VOG, expiring VOGs, hand-over codes.
/api/v1/activation (public, rate limited): a resident turns a hand-over code into an account.

A resident outside the worker's neighbourhoods is 404, as if they did not exist.
"""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields, validate

from ..extensions import limiter
from ..services.audit import VIEW_REASONS
from ..services.handover import activate_account_with_token, issue_handover_code
from ..services.intake import (
    offer_help_for,
    register_resident,
    request_help_for,
    resident_profile,
)
from ..services.vetting import (
    EXPIRY_WINDOW_DAYS,
    expiring_vogs,
    record_vog,
    revoke_vouch,
    vouch_for,
)
from .access import api_access, api_user, public

blp = Blueprint(
    "residents_api",
    __name__,
    url_prefix="/api/v1",
    description="Community workers: residents in their neighbourhoods (every view audited)",
)


class IntakeSchema(Schema):
    first_name = fields.String(required=True)
    last_name = fields.String(load_default=None)
    phone = fields.String(load_default=None)
    street = fields.String(load_default=None)
    house_number = fields.String(load_default=None)
    postcode = fields.String(load_default=None, metadata={"example": "7551 AB"})
    lat = fields.Float(load_default=None)
    lon = fields.Float(load_default=None)
    neighbourhood = fields.String(
        load_default=None, metadata={"description": "CBS code, e.g. BU01640000"}
    )
    languages = fields.List(fields.String(), load_default=["nl"])
    channels = fields.List(fields.String(), load_default=["phone"])
    consent_method = fields.String(
        required=True,
        metadata={"description": "how consent was given: phone, in_person, home_visit, paper"},
    )
    consent_date = fields.Date(load_default=None)
    consent_note = fields.String(load_default=None)


class ConsentOnRecordSchema(Schema):
    purpose = fields.String()
    method = fields.String()
    given_at = fields.DateTime()
    recorded_by_user_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class VogRecordSchema(Schema):
    id = fields.Integer()
    issued_on = fields.Date()
    expires_on = fields.Date(allow_none=True)
    screening_profile = fields.String(allow_none=True)
    recorded_by_user_id = fields.Integer(allow_none=True)


class VouchRecordSchema(Schema):
    worker_user_id = fields.Integer()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ResidentRequestItemSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()


class ResidentOfferItemSchema(Schema):
    id = fields.Integer()
    is_active = fields.Boolean()
    created_at = fields.DateTime()


class ResidentRecordSchema(Schema):
    id = fields.Integer(required=True)
    first_name = fields.String()
    last_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    house_number = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    neighbourhood_id = fields.Integer(allow_none=True)
    self_service = fields.Boolean()
    known_to_services = fields.Boolean()
    registered_by_user_id = fields.Integer(allow_none=True)


class ResidentProfileSchema(Schema):
    resident = fields.Nested(ResidentRecordSchema)
    neighbourhood = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    channels = fields.List(fields.String())
    has_account = fields.Boolean()
    handover_code_expires_at = fields.DateTime(allow_none=True)
    requests = fields.List(fields.Nested(ResidentRequestItemSchema))
    offers = fields.List(fields.Nested(ResidentOfferItemSchema))
    matches = fields.List(fields.Dict())
    vogs = fields.List(fields.Nested(VogRecordSchema))
    vouches = fields.List(fields.Nested(VouchRecordSchema))
    consents = fields.List(fields.Nested(ConsentOnRecordSchema))


class ViewArgsSchema(Schema):
    reason = fields.String(
        load_default=None,
        validate=validate.OneOf(VIEW_REASONS),
        metadata={"description": "why you look, as a code (audited; no free text in a URL)"},
    )


class OnBehalfSchema(Schema):
    """The fields of a request or offer (see /api/v1/requests and /api/v1/offers)."""

    class Meta:
        unknown = INCLUDE  # passed to the service, which names any field it does not know


class RequestOnBehalfSchema(OnBehalfSchema):
    consent_method = fields.String(required=True)


class VouchBodySchema(Schema):
    note = fields.String(load_default=None)


class RevokeBodySchema(Schema):
    """In the body, not the query string: free text in a URL ends up in logs."""

    reason = fields.String(load_default=None, validate=validate.Length(max=200))


class VogBodySchema(Schema):
    issued_on = fields.String(required=True, metadata={"example": "2025-03-14"})
    screening_profile = fields.String(load_default=None)
    expires_on = fields.String(load_default=None)


class ExpiringArgsSchema(Schema):
    days = fields.Integer(load_default=EXPIRY_WINDOW_DAYS, validate=validate.Range(min=1, max=365))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ExpiringSchema(Schema):
    resident_id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String(allow_none=True)
    neighbourhood = fields.String(allow_none=True)
    issued_on = fields.Date()
    expires_on = fields.Date()
    days_left = fields.Integer()
    screening_profile = fields.String(allow_none=True)


class ExpiringPageSchema(Schema):
    items = fields.List(fields.Nested(ExpiringSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class HandoverBodySchema(Schema):
    send_sms = fields.Boolean(load_default=False)


class HandoverSchema(Schema):
    code = fields.String(metadata={"description": "the single-use code: shown only now"})
    expires_at = fields.DateTime()
    resident_id = fields.Integer()
    first_name = fields.String()
    sent_by_sms = fields.Boolean()


class ActivationBodySchema(Schema):
    code = fields.String(required=True)
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class ActivationSchema(Schema):
    user_id = fields.Integer()
    resident_id = fields.Integer()
    token = fields.String(metadata={"description": "an API token for the new account (once)"})


class CreatedOnBehalfSchema(Schema):
    id = fields.Integer()


@blp.route("/residents")
class Residents(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(IntakeSchema)
    @blp.response(201, ResidentRecordSchema)
    def post(self, body):
        """Register a resident who is not online, with their consent recorded on their behalf."""
        return register_resident(api_user().id, **body)


@blp.route("/residents/<int:resident_id>")
class ResidentItem(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(ViewArgsSchema, location="query")
    @blp.response(200, ResidentProfileSchema)
    @blp.alt_response(404, description="no such resident in your neighbourhoods")
    def get(self, args, resident_id: int):
        """One resident's data, requests, offers, VOG, vouches and consent (audited)."""
        return resident_profile(api_user().id, resident_id, reason=args["reason"])


@blp.route("/residents/<int:resident_id>/requests")
class RequestsOnBehalf(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(RequestOnBehalfSchema)
    @blp.response(201, CreatedOnBehalfSchema)
    def post(self, body, resident_id: int):
        """Ask help on the resident's behalf (consent_method: how they agreed)."""
        consent = body.pop("consent_method")
        return request_help_for(api_user().id, resident_id, consent, **body)


@blp.route("/residents/<int:resident_id>/offers")
class OffersOnBehalf(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(OnBehalfSchema)
    @blp.response(201, CreatedOnBehalfSchema)
    def post(self, body, resident_id: int):
        """Offer help on the resident's behalf."""
        return offer_help_for(api_user().id, resident_id, **body)


@blp.route("/residents/<int:resident_id>/vouch")
class ResidentVouch(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(VouchBodySchema)
    @blp.response(201, VouchRecordSchema)
    def post(self, body, resident_id: int):
        """Vouch for the resident (counts in matching as the `vouched` standing)."""
        return vouch_for(api_user().id, resident_id, note=body["note"])

    @api_access("worker", "admin")
    @blp.arguments(RevokeBodySchema)
    @blp.response(204)
    def delete(self, body, resident_id: int):
        """Revoke your vouch for the resident (an optional reason in the JSON body)."""
        revoke_vouch(api_user().id, resident_id, reason=body["reason"])


@blp.route("/residents/<int:resident_id>/vog")
class ResidentVog(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(VogBodySchema)
    @blp.response(201, VogRecordSchema)
    def post(self, body, resident_id: int):
        """Record a VOG you saw: issue date, screening profile, expiry (never the document)."""
        return record_vog(api_user().id, resident_id, **body)


@blp.route("/residents/vog-expiring")
class ExpiringVogs(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(ExpiringArgsSchema, location="query")
    @blp.response(200, ExpiringPageSchema)
    def get(self, args):
        """VOGs in your neighbourhoods that expire within `days` days (default 30; audited)."""
        rows = expiring_vogs(api_user().id, within_days=args["days"])
        start = (args["page"] - 1) * args["per_page"]
        return {
            "items": rows[start : start + args["per_page"]],
            "total": len(rows),
            "page": args["page"],
            "per_page": args["per_page"],
        }


@blp.route("/residents/<int:resident_id>/handover-code")
class HandoverCode(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(HandoverBodySchema)
    @blp.response(201, HandoverSchema)
    @blp.alt_response(409, description="the resident already has an account")
    def post(self, body, resident_id: int):
        """A single-use activation code (14 days; earlier codes stop working), optionally by SMS."""
        return issue_handover_code(
            api_user().id,
            resident_id,
            send_sms=body["send_sms"],
            activation_url=url_for("activation.activate", _external=True),
        )


@blp.route("/activation")
class Activation(MethodView):
    decorators = (limiter.limit("10 per minute", methods=["POST"]),)

    @public  # the code in the body is the credential
    @blp.arguments(ActivationBodySchema)
    @blp.response(201, ActivationSchema)
    @blp.alt_response(422, description="the code is not valid (the same answer for every reason)")
    def post(self, body):
        """Turn a hand-over code into a resident account with your own email and password."""
        user, secret = activate_account_with_token(body["code"], body["email"], body["password"])
        return {"user_id": user.id, "resident_id": user.resident_id, "token": secret}
