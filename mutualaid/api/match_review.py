"""/api/v1/requests/<id>/review (community workers): a request's ranked candidates, and confirm,
choose another helper or withdraw, each with a reason. /api/v1/what-if: preview other weights
(stores nothing); /api/v1/what-if/default: an admin makes them the default ranker version.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..services.match_review import (
    choose_helper,
    confirm_match,
    nearby_offers,
    review_request,
    withdraw_match,
)
from ..services.what_if import make_default_weights, what_if
from .access import api_access, api_user
from .ids import object_id

blp = Blueprint(
    "match_review_api",
    __name__,
    url_prefix="/api/v1",
    description="Community workers: match review and what-if weights",
)


class ScorePartsSchema(Schema):
    proximity = fields.Float()
    availability = fields.Float()
    trust = fields.Float()
    continuity = fields.Float()
    language = fields.Float()
    fairness = fields.Float()


class ReviewCandidateSchema(Schema):
    match_id = fields.Integer()
    offer_id = fields.Integer()
    helper_id = fields.Integer()
    helper_first_name = fields.String()
    rank = fields.Integer(allow_none=True)
    status = fields.String()
    proposed_by = fields.String()
    invited_by = fields.String(allow_none=True)
    score = fields.Float()
    parts = fields.Nested(ScorePartsSchema)
    distance_m = fields.Float(allow_none=True)
    explanation_nl = fields.String()
    explanation_en = fields.String()
    status_reason = fields.String(allow_none=True)


class ReviewedRequestSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    category = fields.String()
    description = fields.String()
    urgency = fields.String()
    needs_vog = fields.Boolean()
    requester_id = fields.Integer()
    requester_first_name = fields.String()
    neighbourhood = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ReviewSchema(Schema):
    request = fields.Nested(ReviewedRequestSchema)
    candidates = fields.List(fields.Nested(ReviewCandidateSchema))


class NearbyHelperSchema(Schema):
    offer_id = fields.Integer()
    helper_id = fields.Integer()
    helper_first_name = fields.String()
    distance_m = fields.Float()
    eligible = fields.Boolean()
    problems = fields.List(
        fields.String(),
        metadata={"description": "hard filters it fails: vog, blocked, capacity, declined, ..."},
    )


class NearbyPageSchema(Schema):
    items = fields.List(fields.Nested(NearbyHelperSchema))
    total = fields.Integer()


class ConfirmSchema(Schema):
    match_id = object_id(required=True)
    reason = fields.String(required=True)
    helper_agreed = fields.Boolean(
        load_default=False,
        metadata={"description": "an assisted helper said yes by phone: accept at once"},
    )


class ChooseSchema(Schema):
    offer_id = object_id(required=True)
    reason = fields.String(required=True)
    helper_agreed = fields.Boolean(load_default=False)


class WithdrawSchema(Schema):
    match_id = object_id(required=True)
    reason = fields.String(required=True)


class ReviewedMatchSchema(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    offer_id = fields.Integer()
    helper_id = fields.Integer()
    status = fields.String()
    proposed_by = fields.String()
    invited_by = fields.String(allow_none=True)
    status_reason = fields.String(allow_none=True)
    status_changed_by_user_id = fields.Integer(allow_none=True)


class WhatIfWeightsSchema(Schema):
    proximity = fields.Raw(required=True)
    availability = fields.Raw(required=True)
    trust = fields.Raw(required=True)
    continuity = fields.Raw(required=True)
    language = fields.Raw(required=True)
    fairness = fields.Raw(required=True)


class DefaultWeightsSchema(WhatIfWeightsSchema):
    source_user_id = fields.Integer(
        load_default=None, metadata={"description": "the worker whose what-if this was"}
    )


class WhatIfTopSchema(Schema):
    offer_id = fields.Integer()
    helper_id = fields.Integer()
    helper_first_name = fields.String(allow_none=True)
    score = fields.Float()
    distance_m = fields.Float()


class WhatIfMoveSchema(Schema):
    offer_id = fields.Integer()
    helper_id = fields.Integer()
    helper_first_name = fields.String(allow_none=True)
    rank_now = fields.Integer(allow_none=True)
    rank_new = fields.Integer(allow_none=True)


class WhatIfRowSchema(Schema):
    request_id = fields.Integer()
    category = fields.String()
    requester_first_name = fields.String()
    top_now = fields.Nested(WhatIfTopSchema, allow_none=True)
    top_new = fields.Nested(WhatIfTopSchema, allow_none=True)
    changed = fields.Boolean()
    moves = fields.List(fields.Nested(WhatIfMoveSchema))


class WhatIfSchema(Schema):
    weights = fields.Nested(ScorePartsSchema)
    current_weights = fields.Nested(ScorePartsSchema)
    current_version = fields.String()
    changed = fields.Integer(metadata={"description": "requests whose top helper changes"})
    requests = fields.List(fields.Nested(WhatIfRowSchema))


class RankerVersionSchema(Schema):
    version = fields.String()
    weights = fields.Nested(ScorePartsSchema)


@blp.route("/requests/<int:request_id>/review")
class Review(MethodView):
    @api_access("worker", "admin")
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, description="no such request in your neighbourhoods")
    def get(self, request_id: int):
        """The request's ranked candidates with their score parts and explanations (audited)."""
        return review_request(api_user().id, request_id)


@blp.route("/requests/<int:request_id>/review/helpers")
class NearbyHelpers(MethodView):
    @api_access("worker", "admin")
    @blp.response(200, NearbyPageSchema)
    def get(self, request_id: int):
        """Active offers in the request's category, nearest first, with the filters they fail."""
        items = nearby_offers(api_user().id, request_id)
        return {"items": items, "total": len(items)}


@blp.route("/requests/<int:request_id>/review/confirm")
class Confirm(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(ConfirmSchema)
    @blp.response(200, ReviewedMatchSchema)
    def post(self, body, request_id: int):
        """Confirm a suggested candidate: invite the helper (or accept for an assisted helper)."""
        return confirm_match(
            api_user().id,
            body["match_id"],
            body["reason"],
            helper_agreed=body["helper_agreed"],
            request_id=request_id,
        )


@blp.route("/requests/<int:request_id>/review/choose")
class Choose(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(ChooseSchema)
    @blp.response(201, ReviewedMatchSchema)
    def post(self, body, request_id: int):
        """Invite a helper of your choice (VOG, blocks, capacity and declines still apply)."""
        return choose_helper(
            api_user().id,
            request_id,
            body["offer_id"],
            body["reason"],
            helper_agreed=body["helper_agreed"],
        )


@blp.route("/requests/<int:request_id>/review/withdraw")
class Withdraw(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(WithdrawSchema)
    @blp.response(200, ReviewedMatchSchema)
    def post(self, body, request_id: int):
        """Withdraw a match (cancelled, with your reason); the request is matched again."""
        return withdraw_match(
            api_user().id, body["match_id"], body["reason"], request_id=request_id
        )


@blp.route("/what-if")
class WhatIf(MethodView):
    @api_access("worker", "admin")
    @blp.arguments(WhatIfWeightsSchema)
    @blp.response(200, WhatIfSchema)
    def post(self, body):
        """Which open requests in your neighbourhoods get another top helper under these weights
        (0 switches a part off). Nothing is stored."""
        return what_if(api_user().id, body)


@blp.route("/what-if/default")
class WhatIfDefault(MethodView):
    @api_access("admin")
    @blp.arguments(DefaultWeightsSchema)
    @blp.response(201, RankerVersionSchema)
    def post(self, body):
        """Make these weights the default: a new active ranker version (admins only)."""
        source = body.pop("source_user_id")
        return make_default_weights(api_user().id, body, source_user_id=source)
