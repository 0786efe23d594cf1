"""The one error body every API error has, as documented in the OpenAPI document."""

from __future__ import annotations

from flask_smorest import Api
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """`error` (a short code), `message`, and for input errors `field`, `rule` and `errors`."""

    error = fields.String(required=True, metadata={"description": "short code, e.g. invalid"})
    message = fields.String(metadata={"description": "what went wrong, in words"})
    field = fields.String(
        allow_none=True, metadata={"description": "the field (or `body`) that is wrong"}
    )
    rule = fields.String(
        allow_none=True, metadata={"description": "the rule it breaks, e.g. max_length"}
    )
    errors = fields.Dict(metadata={"description": "messages by field"})


class MutualaidApi(Api):
    """flask-smorest's Api documenting our error body instead of its own."""

    ERROR_SCHEMA = ErrorSchema
