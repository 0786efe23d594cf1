"""/api/v1/ties: people you know (by an invitation code the other confirms), undoing a tie,
and blocking (a blocked pair is never matched)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.routing import BuildError

from ..extensions import limiter
from ..services import ties
from .access import api_access, api_resident_id
from .ids import object_id

blp = Blueprint(
    "ties_api",
    __name__,
    url_prefix="/api/v1/ties",
    description="Residents: people you know, and blocking",
)


class TieSchema(Schema):
    resident_id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    kind = fields.String(required=True)
    since = fields.DateTime(required=True)


class TieBlockSchema(Schema):
    resident_id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    since = fields.DateTime()


class TieListSchema(Schema):
    ties = fields.List(fields.Nested(TieSchema), required=True)
    blocked = fields.List(fields.Nested(TieBlockSchema), required=True)
    open_invitations = fields.Integer(required=True)


class TieInvitationSchema(Schema):
    code = fields.String(required=True, metadata={"description": "shown only in this answer"})
    expires_at = fields.DateTime(required=True)
    link = fields.String(allow_none=True, metadata={"description": "a page that confirms it"})


class TieConfirmSchema(Schema):
    code = fields.String(required=True)


class TieBlockInputSchema(Schema):
    resident_id = object_id(required=True)


def _confirm_link(code: str) -> str | None:
    """The web page where the other person confirms the code (when the pages exist)."""
    try:
        return url_for("residents.confirm_tie", code=code, _external=True)
    except BuildError:
        return None


@blp.route("")
class Ties(MethodView):
    @api_access("resident")
    @blp.response(200, TieListSchema)
    def get(self):
        """The people you know, whom you blocked, and how many of your codes are open."""
        return ties.my_ties(api_resident_id())


@blp.route("/invitations")
class Invitations(MethodView):
    @api_access("resident")
    @blp.response(201, TieInvitationSchema)
    def post(self):
        """A code (valid 14 days, single use) to give to someone you know."""
        invitation = ties.create_tie_invitation(api_resident_id())
        return {**invitation, "link": _confirm_link(invitation["code"])}


@blp.route("/confirm")
class Confirm(MethodView):
    decorators = (limiter.limit("10 per minute", methods=["POST"]),)  # codes are not guessed

    @api_access("resident")
    @blp.arguments(TieConfirmSchema)
    @blp.response(201, TieSchema)
    def post(self, body):
        """Confirm someone's code: you now know each other."""
        return ties.confirm_tie_invitation(api_resident_id(), body["code"])


@blp.route("/<int:resident_id>")
class TieItem(MethodView):
    @api_access("resident")
    @blp.response(204)
    def delete(self, resident_id: int):
        """Undo the tie with this resident."""
        ties.remove_tie(api_resident_id(), resident_id)


@blp.route("/blocks")
class Blocks(MethodView):
    @api_access("resident")
    @blp.arguments(TieBlockInputSchema)
    @blp.response(201, TieBlockSchema)
    def post(self, body):
        """Block someone you met here: you are never matched again."""
        return ties.block_resident(api_resident_id(), body["resident_id"])


@blp.route("/blocks/<int:resident_id>")
class BlockItem(MethodView):
    @api_access("resident")
    @blp.response(204)
    def delete(self, resident_id: int):
        """Lift your block."""
        ties.unblock_resident(api_resident_id(), resident_id)
