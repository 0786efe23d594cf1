"""Marshmallow schemas shared by the resident API modules (requests, offers, matches, ties):
the views the services return, pagination, and the language of texts."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from ..models.vocab import CHANNELS, LANGUAGES, URGENCIES


def api_language() -> str:
    """nl or en from the Accept-Language header (Dutch by default)."""
    return request.accept_languages.best_match(["nl", "en"], default="nl")


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class WhenSchema(Schema):
    slots = fields.Integer(
        required=True, metadata={"description": "21-bit week grid (bit = day*3 + part)"}
    )
    slot_codes = fields.List(fields.String(), required=True, metadata={"example": ["mon-morning"]})
    window_start = fields.Date(allow_none=True)
    window_end = fields.Date(allow_none=True)
    recurring = fields.Boolean(required=True)
    text = fields.String(required=True, metadata={"description": "in words, nl or en"})


class AddressSchema(Schema):
    address_line = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    house_number = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)


class ContactSchema(Schema):
    first_name = fields.String(required=True)
    channels = fields.List(fields.String(), required=True)
    phone = fields.String()
    email = fields.String()


class MatchSchema(Schema):
    """A match as one of its two residents may see it: before both said yes, a first name,
    a rounded distance and the neighbourhood; after, the helper sees the address and both
    see the contact details the other chose."""

    match_id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    role = fields.String(required=True, metadata={"enum": ["requester", "helper"]})
    status = fields.String(required=True)
    request_status = fields.String(required=True)
    rank = fields.Integer(allow_none=True)
    other_first_name = fields.String(required=True)
    category = fields.String(required=True)
    category_name = fields.String(required=True)
    description = fields.String(required=True)
    urgency = fields.String(required=True)
    when = fields.Nested(WhenSchema, required=True)
    neighbourhood = fields.String(allow_none=True)
    distance_rounded_m = fields.Integer(allow_none=True)
    distance_label = fields.String(allow_none=True)
    distance_band = fields.String(allow_none=True)
    explanation = fields.String(allow_none=True)
    invited_by = fields.String(allow_none=True)
    awaiting = fields.String(allow_none=True, metadata={"description": "whose yes is awaited"})
    actions = fields.List(fields.String(), required=True)
    invited_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    feedback_rating = fields.Integer(allow_none=True)
    thanks_note = fields.String(allow_none=True)
    status_reason = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    address = fields.Nested(AddressSchema, allow_none=True)
    contact = fields.Nested(ContactSchema, allow_none=True)


class MatchPageSchema(Schema):
    items = fields.List(fields.Nested(MatchSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class InvitationSchema(Schema):
    """What a helper sees of an invitation: no name, no address."""

    match_id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    status = fields.String(required=True)
    category = fields.String(required=True)
    category_name = fields.String(required=True)
    description = fields.String(required=True)
    urgency = fields.String(required=True)
    when = fields.Nested(WhenSchema, required=True)
    neighbourhood = fields.String(allow_none=True)
    distance_band = fields.String(allow_none=True)
    invited_by = fields.String(allow_none=True)
    invited_at = fields.DateTime(allow_none=True)
    actions = fields.List(fields.String(), required=True)


class RequestSchema(Schema):
    """A request as its own requester sees it."""

    id = fields.Integer(required=True)
    status = fields.String(required=True)
    category = fields.String(required=True)
    category_name = fields.String(required=True)
    description = fields.String(required=True)
    urgency = fields.String(required=True)
    when = fields.Nested(WhenSchema, required=True)
    slots = fields.Integer(required=True)
    window_start = fields.Date(allow_none=True)
    window_end = fields.Date(allow_none=True)
    recurring = fields.Boolean(required=True)
    needs_vog = fields.Boolean(required=True)
    needs_shared_language = fields.Boolean(required=True)
    contact_channel = fields.String(allow_none=True)
    max_distance_m = fields.Integer(required=True)
    address_line = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    at_home = fields.Boolean(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    location_source = fields.String(allow_none=True)
    neighbourhood = fields.String(allow_none=True)
    registered_by_worker = fields.Boolean(required=True)
    suggestions = fields.Integer(required=True)
    invited = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True)


class OfferSchema(Schema):
    """An offer as its own helper sees it."""

    id = fields.Integer(required=True)
    categories = fields.List(fields.String(), required=True)
    category_names = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    radius_m = fields.Integer(required=True)
    slots = fields.Integer(required=True)
    slot_codes = fields.List(fields.String(), required=True)
    capacity = fields.Integer(required=True)
    languages = fields.List(fields.String(), required=True)
    is_active = fields.Boolean(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    neighbourhood = fields.String(allow_none=True)
    active_matches = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


CHANNEL_HELP = {"description": ", ".join(CHANNELS)}
URGENCY_HELP = {"description": ", ".join(URGENCIES)}
LANGUAGE_HELP = {"description": ", ".join(LANGUAGES)}
