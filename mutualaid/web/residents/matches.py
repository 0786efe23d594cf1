"""Resident pages: the overview ("Mijn burenhulp"), choosing a helper, invitations, messages."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...errors import Conflict, Invalid
from ...services.aid_views import get_request
from ...services.helping_views import invitations_for_helper, suggestions_for_request
from ...services.inviting import invite_helper, let_service_invite
from ...services.messages import unread_count
from ...services.my_aid import my_overview, my_threads
from .blueprint import bp
from .common import lang, me, resident_required


@bp.get("/")
@resident_required
def overview():
    """Mijn burenhulp: my requests, offers, invitations, matches and messages, newest first."""
    return render_template(
        "residents/overview.html", **my_overview(me(), lang()), unread=unread_count(me())
    )


@bp.get("/berichten")
@resident_required
def messages():
    """My message threads, one per match, the latest first."""
    return render_template("residents/messages.html", threads=my_threads(me(), lang()))


@bp.get("/hulpvragen/<int:request_id>/helpers")
@resident_required
def suggestions(request_id: int):
    """The neighbours who may help with my request, best first, and why."""
    return render_template(
        "residents/suggestions.html",
        item=get_request(request_id, me(), lang()),
        suggestions=suggestions_for_request(request_id, me(), lang()),
    )


@bp.post("/hulpvragen/<int:request_id>/helpers/<int:match_id>/vragen")
@resident_required
def invite(request_id: int, match_id: int):
    """Ask this helper (the requester chooses)."""
    try:
        view = invite_helper(match_id, me())
    except (Conflict, Invalid):
        flash(_("This is not possible any more. Look at the current situation below."))
        return redirect(url_for(".suggestions", request_id=request_id))
    flash(_("We asked %(name)s. We let you know when they answer.", name=view["other_first_name"]))
    return redirect(url_for(".suggestions", request_id=request_id))


@bp.post("/hulpvragen/<int:request_id>/in-rondes")
@resident_required
def let_service_ask(request_id: int):
    """Let the service ask the suggested helpers a few at a time."""
    try:
        result = let_service_invite(request_id, me())
    except (Conflict, Invalid):
        flash(_("This is not possible any more. Look at the current situation below."))
        return redirect(url_for(".suggestions", request_id=request_id))
    if result["asked"]:
        flash(_("We asked a few neighbours. The first one who says yes will help you."))
    else:
        flash(_("There is nobody to ask right now. We keep looking and let you know."))
    return redirect(url_for(".request_detail", request_id=request_id))


@bp.get("/uitnodigingen")
@resident_required
def invitations():
    """Neighbours who asked me for help: answer yes or no."""
    return render_template(
        "residents/invitations.html", invitations=invitations_for_helper(me(), lang())
    )
