"""/api/v1/auth/tokens: get an API token with email and password, list and revoke your own."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..extensions import limiter
from ..models.vocab import CHANNELS, LANGUAGES, ROLES
from ..services.account_mail import register_resident_quietly, request_password_reset
from ..services.api_tokens import (
    create_api_token_with_password,
    list_api_tokens,
    revoke_api_token,
)
from .access import api_access, api_user, public

blp = Blueprint(
    "auth_api",
    __name__,
    url_prefix="/api/v1/auth",
    description="API tokens: `Authorization: Bearer <token>` on every other call",
)


class TokenRequestSchema(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    label = fields.String(
        load_default="API", metadata={"description": "a name for the token, e.g. 'my phone'"}
    )
    otp = fields.String(
        load_default=None,
        load_only=True,
        validate=validate.Length(max=32),
        metadata={
            "description": "staff accounts (worker, municipality, admin) only, and required "
            "for them: the current 6-digit code from their authenticator app, or one of "
            "their recovery codes (each works once). Missing or wrong: 401, the same answer "
            "as a wrong password."
        },
    )


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    label = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(
        required=True, metadata={"description": "the secret: shown only in this answer"}
    )


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class TokenPageSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


@blp.route("/tokens")
class Tokens(MethodView):
    # Guessing passwords through the API is as slow as through the sign-in page.
    decorators = (limiter.limit("10 per minute", methods=["POST"]),)

    @public  # the email and password in the body are the credentials
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, NewTokenSchema)
    @blp.alt_response(
        401, description="email or password is not correct (staff: or otp missing or wrong)"
    )
    def post(self, body):
        """Sign in with email and password (staff: and `otp`) and get a new API token (shown
        once)."""
        token, secret = create_api_token_with_password(
            body["email"], body["password"], body["label"], body["otp"]
        )
        return {
            "id": token.id,
            "label": token.label,
            "created_at": token.created_at,
            "last_used_at": None,
            "token": secret,
        }

    @api_access(*ROLES)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, TokenPageSchema)
    def get(self, args):
        """Your API tokens that still work, newest first (never their secrets)."""
        items, total = list_api_tokens(api_user().id, page=args["page"], per_page=args["per_page"])
        return {"items": items, "total": total, **args}


@blp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @api_access(*ROLES)
    @blp.response(204)
    @blp.alt_response(404, description="not one of your tokens")
    def delete(self, token_id: int):
        """Revoke one of your API tokens: it stops working at once."""
        revoke_api_token(api_user().id, token_id)


class ResetRequestSchema(Schema):
    email = fields.String(required=True)


@blp.route("/password-reset")
class PasswordReset(MethodView):
    decorators = (limiter.limit("5 per minute", methods=["POST"]),)

    @public  # the same answer whether or not the address has an account
    @blp.arguments(ResetRequestSchema)
    @blp.response(202)
    def post(self, body):
        """Email a single-use link to choose a new password (on the website)."""
        template = url_for("auth.reset_password", token="TOKEN", _external=True)
        request_password_reset(body["email"], template.replace("TOKEN", "{token}"))


class RegistrationSchema(Schema):
    first_name = fields.String(required=True)
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    consent = fields.Boolean(
        required=True,
        metadata={"description": "must be true: the data is used to find help (matching)"},
    )
    phone = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    house_number = fields.String(allow_none=True)
    languages = fields.List(fields.String(), metadata={"description": ", ".join(LANGUAGES)})
    channels = fields.List(fields.String(), metadata={"description": ", ".join(CHANNELS)})


class RegisteredSchema(Schema):
    message = fields.String(required=True)


REGISTERED = (
    "Registration received. We have sent an email to the address. A new account works once "
    "the link in that email is followed; then get a token at /api/v1/auth/tokens. If the "
    "address already had an account, its owner was told instead."
)


def _link_template(endpoint: str) -> str:
    return url_for(endpoint, token="TOKEN", _external=True).replace("TOKEN", "{token}")


@blp.route("/register")
class Register(MethodView):
    decorators = (limiter.limit("10 per minute", methods=["POST"]),)

    @public  # anyone may register as a resident
    @blp.arguments(RegistrationSchema)
    @blp.response(202, RegisteredSchema)
    def post(self, body):
        """Register as a resident (consent required); confirm the address with the emailed
        link, then get a token at /auth/tokens.

        The answer is the same whether or not the address already has an account (its owner
        is told by email instead), so nobody learns which addresses are registered. Until the
        link is followed the account cannot get a token (401, as a wrong password)."""
        register_resident_quietly(
            _link_template("registration.confirm"),
            _link_template("auth.reset_password"),
            **body,
        )
        return {"message": REGISTERED}
