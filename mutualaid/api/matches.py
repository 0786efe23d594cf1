"""/api/v1/matches: the matches you are a side of, their actions (invite, accept, decline,
done, thanks, cancel, report) and their message threads; /api/v1/invitations and
/api/v1/overview ("Mijn burenhulp")."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..services import helping, messages
from .access import api_access, api_resident_id
from .resident_schemas import (
    InvitationSchema,
    MatchPageSchema,
    MatchSchema,
    OfferSchema,
    PageArgsSchema,
    RequestSchema,
    api_language,
)

blp = Blueprint(
    "matches_api",
    __name__,
    url_prefix="/api/v1",
    description="Residents: matches, their actions and messages",
)


class ReasonSchema(Schema):
    reason = fields.String(allow_none=True, metadata={"description": "optional, short"})


class ThanksSchema(Schema):
    rating = fields.Integer(required=True, metadata={"description": "1 (poor) to 5 (great)"})
    note = fields.String(allow_none=True)


class ReportInputSchema(Schema):
    body = fields.String(required=True, metadata={"description": "what went wrong"})


class ReportSchema(Schema):
    id = fields.Integer(required=True)
    match_id = fields.Integer(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    neighbourhood = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class MessageInputSchema(Schema):
    body = fields.String(required=True)


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    match_id = fields.Integer(required=True)
    mine = fields.Boolean(required=True)
    sender_first_name = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class ThreadSchema(Schema):
    match_id = fields.Integer(required=True)
    status = fields.String(required=True)
    role = fields.String(required=True)
    other_first_name = fields.String(required=True)
    can_write = fields.Boolean(required=True)
    messages = fields.List(fields.Nested(MessageSchema), required=True)


class ThreadSummarySchema(Schema):
    match_id = fields.Integer(required=True)
    other_first_name = fields.String(required=True)
    category_name = fields.String(required=True)
    status = fields.String(required=True)
    messages = fields.Integer(required=True)
    unread = fields.Integer(required=True)
    last_message_at = fields.DateTime(required=True)


class OverviewSchema(Schema):
    requests = fields.List(fields.Nested(RequestSchema), required=True)
    offers = fields.List(fields.Nested(OfferSchema), required=True)
    matches = fields.List(fields.Nested(MatchSchema), required=True)
    invitations = fields.List(fields.Nested(InvitationSchema), required=True)
    threads = fields.List(fields.Nested(ThreadSummarySchema), required=True)


@blp.route("/matches")
class Matches(MethodView):
    @api_access("resident")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MatchPageSchema)
    def get(self, args):
        """Your matches as requester or helper (beyond a mere suggestion), newest first."""
        return helping.my_matches_page(
            api_resident_id(), args["page"], args["per_page"], api_language()
        )


@blp.route("/matches/<int:match_id>")
class MatchItem(MethodView):
    @api_access("resident")
    @blp.response(200, MatchSchema)
    def get(self, match_id: int):
        """A match you are a side of (404 otherwise); the address and contact details only
        once both said yes."""
        return helping.match_detail(match_id, api_resident_id(), api_language())


@blp.route("/matches/<int:match_id>/invite")
class MatchInvite(MethodView):
    @api_access("resident")
    @blp.response(200, MatchSchema)
    @blp.alt_response(409, description="the request or match no longer allows it")
    def post(self, match_id: int):
        """Invite this suggested helper (requester); the helper then says yes or no."""
        return helping.invite_helper(match_id, api_resident_id(), language=api_language())


@blp.route("/matches/<int:match_id>/accept")
class MatchAccept(MethodView):
    @api_access("resident")
    @blp.response(200, MatchSchema)
    @blp.alt_response(409, description="already accepted, someone else was, or not your turn")
    def post(self, match_id: int):
        """Say yes to an invitation (helper) or to an offer of help (requester)."""
        return helping.accept_match(match_id, api_resident_id(), language=api_language())


@blp.route("/matches/<int:match_id>/decline")
class MatchDecline(MethodView):
    @api_access("resident")
    @blp.arguments(ReasonSchema)
    @blp.response(200, MatchSchema)
    def post(self, body, match_id: int):
        """Say no; you are not suggested to each other again for this request."""
        return helping.decline_match(
            match_id, api_resident_id(), body.get("reason"), language=api_language()
        )


@blp.route("/matches/<int:match_id>/done")
class MatchDone(MethodView):
    @api_access("resident")
    @blp.response(200, MatchSchema)
    def post(self, match_id: int):
        """The help has happened (either side)."""
        return helping.mark_done(match_id, api_resident_id(), language=api_language())


@blp.route("/matches/<int:match_id>/thanks")
class MatchThanks(MethodView):
    @api_access("resident")
    @blp.arguments(ThanksSchema)
    @blp.response(200, MatchSchema)
    def post(self, body, match_id: int):
        """Thank your helper with a rating and a short note (requester, once)."""
        return helping.give_thanks(
            match_id, api_resident_id(), body["rating"], body.get("note"), language=api_language()
        )


@blp.route("/matches/<int:match_id>/cancel")
class MatchCancel(MethodView):
    @api_access("resident")
    @blp.arguments(ReasonSchema)
    @blp.response(200, MatchSchema)
    def post(self, body, match_id: int):
        """Withdraw your invitation or stop an accepted match; the other side is told."""
        return helping.cancel_match(
            match_id, api_resident_id(), body.get("reason"), language=api_language()
        )


@blp.route("/matches/<int:match_id>/report")
class MatchReport(MethodView):
    @api_access("resident")
    @blp.arguments(ReportInputSchema)
    @blp.response(201, ReportSchema)
    def post(self, body, match_id: int):
        """Report a problem; the community worker of the neighbourhood follows it up."""
        return helping.report_problem(api_resident_id(), body["body"], match_id=match_id)


@blp.route("/matches/<int:match_id>/messages")
class MatchMessages(MethodView):
    @api_access("resident")
    @blp.response(200, ThreadSchema)
    def get(self, match_id: int):
        """The message thread (oldest first); messages to you are marked read."""
        return messages.thread(match_id, api_resident_id())

    @api_access("resident")
    @blp.arguments(MessageInputSchema)
    @blp.response(201, MessageSchema)
    def post(self, body, match_id: int):
        """Write to the other side of the match."""
        return messages.post_message(match_id, api_resident_id(), body["body"])


@blp.route("/invitations")
class Invitations(MethodView):
    @api_access("resident")
    @blp.response(200, InvitationSchema(many=True))
    def get(self):
        """Requests waiting for your yes or no as a helper (no names, no addresses)."""
        return helping.invitations_for_helper(api_resident_id(), api_language())


@blp.route("/overview")
class Overview(MethodView):
    @api_access("resident")
    @blp.response(200, OverviewSchema)
    def get(self):
        """Mijn burenhulp: all your requests, offers, matches and threads, newest first."""
        return helping.my_overview(api_resident_id(), api_language())


@blp.route("/problems")
class Problems(MethodView):
    @api_access("resident")
    @blp.arguments(ReportInputSchema)
    @blp.response(201, ReportSchema)
    def post(self, body):
        """Report a problem not tied to one match; it goes to your neighbourhood's worker."""
        return helping.report_problem(api_resident_id(), body["body"])
