"""/api/v1/offers: your offers of help (list, offer, change, pause, resume); and the other
way round, /api/v1/open-requests: browse open requests near you and offer to help."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..services.aid import pause_offer, post_offer, resume_offer, update_offer
from ..services.aid_views import DISTANCE_BANDS, get_offer, my_offers
from ..services.helping import offer_to_help, open_requests_near
from .access import api_access, api_resident_id
from .ids import object_id
from .resident_schemas import (
    LANGUAGE_HELP,
    MatchSchema,
    OfferSchema,
    PageArgsSchema,
    WhenSchema,
    api_language,
)

blp = Blueprint(
    "offers_api",
    __name__,
    url_prefix="/api/v1",
    description="Residents: your offers of help, and open requests near you",
)


class OfferInputSchema(Schema):
    """A new offer; on PATCH every field is optional."""

    categories = fields.List(fields.String(), required=True, metadata={"example": ["vervoer"]})
    description = fields.String()
    radius_m = fields.Integer()
    slots = fields.Integer(metadata={"description": "21-bit week grid (bit = day*3 + part)"})
    capacity = fields.Integer(metadata={"description": "how many people at once (1-20)"})
    languages = fields.List(fields.String(), metadata=LANGUAGE_HELP)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class OfferChangeSchema(OfferInputSchema):
    """A change to an offer: only the fields given change."""

    categories = fields.List(fields.String())


class OfferPageSchema(Schema):
    items = fields.List(fields.Nested(OfferSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class BrowseArgsSchema(PageArgsSchema):
    category = fields.String()
    distance_band = fields.Integer(
        validate=validate.OneOf(DISTANCE_BANDS),
        metadata={"description": "at most this many metres away"},
    )
    neighbourhood_id = object_id()


class OpenRequestSchema(Schema):
    """An open request as a possible helper sees it: no name, address or description."""

    request_id = fields.Integer(required=True)
    category = fields.String(required=True)
    category_name = fields.String(required=True)
    distance_band = fields.Integer(allow_none=True, metadata={"description": "upper bound, m"})
    distance_label = fields.String(required=True)
    neighbourhood = fields.String(allow_none=True)
    when = fields.Nested(WhenSchema, required=True)
    urgency = fields.String(required=True)
    needs_vog = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    my_match_status = fields.String(allow_none=True)


class OpenRequestPageSchema(Schema):
    items = fields.List(fields.Nested(OpenRequestSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


@blp.route("/offers")
class Offers(MethodView):
    @api_access("resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, OfferPageSchema)
    def get(self, args):
        """Your offers of help, newest first."""
        return my_offers(api_resident_id(), args["page"], args["per_page"], api_language())

    @api_access("resident")
    @blp.arguments(OfferInputSchema)
    @blp.response(201, OfferSchema)
    def post(self, body):
        """Offer help; open requests it may serve are matched in the background."""
        resident_id = api_resident_id()
        offer = post_offer(resident_id, **body)
        return get_offer(offer.id, resident_id, api_language())


@blp.route("/offers/<int:offer_id>")
class OfferItem(MethodView):
    @api_access("resident")
    @blp.response(200, OfferSchema)
    def get(self, offer_id: int):
        """One of your offers (404 for someone else's)."""
        return get_offer(offer_id, api_resident_id(), api_language())

    @api_access("resident")
    @blp.arguments(OfferChangeSchema)
    @blp.response(200, OfferSchema)
    def patch(self, body, offer_id: int):
        """Change an offer; it is matched again."""
        resident_id = api_resident_id()
        update_offer(offer_id, resident_id, **body)
        return get_offer(offer_id, resident_id, api_language())


@blp.route("/offers/<int:offer_id>/pause")
class OfferPause(MethodView):
    @api_access("resident")
    @blp.response(200, OfferSchema)
    def post(self, offer_id: int):
        """Pause an offer: no new suggestions until you resume it."""
        resident_id = api_resident_id()
        pause_offer(offer_id, resident_id)
        return get_offer(offer_id, resident_id, api_language())


@blp.route("/offers/<int:offer_id>/resume")
class OfferResume(MethodView):
    @api_access("resident")
    @blp.response(200, OfferSchema)
    def post(self, offer_id: int):
        """Resume a paused offer."""
        resident_id = api_resident_id()
        resume_offer(offer_id, resident_id)
        return get_offer(offer_id, resident_id, api_language())


@blp.route("/open-requests")
class OpenRequests(MethodView):
    @api_access("resident")
    @blp.arguments(BrowseArgsSchema, location="query")
    @blp.response(200, OpenRequestPageSchema)
    def get(self, args):
        """Open requests near you, nearest first (no names or addresses)."""
        return open_requests_near(api_resident_id(), language=api_language(), **args)


@blp.route("/open-requests/<int:request_id>/offer-help")
class OfferHelp(MethodView):
    @api_access("resident")
    @blp.response(201, MatchSchema)
    def post(self, request_id: int):
        """Offer to help with an open request; the requester accepts or declines."""
        return offer_to_help(request_id, api_resident_id())
