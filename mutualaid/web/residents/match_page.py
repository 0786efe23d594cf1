"""Resident pages: one match — answer, messages, done, thanks, report a problem."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...errors import Conflict, Invalid
from ...services.helping import accept_match, cancel_match, decline_match, give_thanks, mark_done
from ...services.helping_views import match_detail
from ...services.messages import post_message, thread
from ...services.problems import report_problem
from .blueprint import bp
from .common import errors_from, form_int, lang, me, resident_required

ACTIONS = {
    "ja": (accept_match, _l("You said yes.")),
    "nee": (decline_match, _l("You said no. Thank you for letting us know.")),
    "stoppen": (cancel_match, _l("This help has been stopped.")),
    "klaar": (mark_done, _l("Well done! The help is marked as done.")),
}
NOT_POSSIBLE = _l("This is not possible any more. Look at the current situation below.")


def _render(match_id: int, errors: dict | None = None, body: str = ""):
    page = render_template(
        "residents/match.html",
        match=match_detail(match_id, me(), lang()),
        thread=thread(match_id, me()),
        errors=errors or {},
        body=body,
    )
    return page, 422 if errors else 200


@bp.get("/hulp/<int:match_id>")
@resident_required
def match(match_id: int):
    """A match: status, what is agreed, contact details once both said yes, and messages."""
    return _render(match_id)


@bp.post("/hulp/<int:match_id>/<any(ja, nee, stoppen, klaar):action>")
@resident_required
def match_action(match_id: int, action: str):
    """Say yes or no, stop, or mark the help as done."""
    service, done_text = ACTIONS[action]
    try:
        service(match_id, me())
    except Conflict:
        flash(str(NOT_POSSIBLE))
    else:
        flash(str(done_text))
    return redirect(url_for(".match", match_id=match_id))


@bp.post("/hulp/<int:match_id>/berichten")
@resident_required
def send_message(match_id: int):
    """Write a message in the thread of this match."""
    body = request.form.get("body", "")
    try:
        post_message(match_id, me(), body)
    except Invalid as exc:
        return _render(match_id, errors_from(exc), body)
    except Conflict:
        flash(str(NOT_POSSIBLE))
        return redirect(url_for(".match", match_id=match_id))
    flash(_("Your message is sent."))
    return redirect(url_for(".match", match_id=match_id) + "#thread")


@bp.route("/hulp/<int:match_id>/bedanken", methods=["GET", "POST"])
@resident_required
def thanks(match_id: int):
    """Say thank you to the helper, with a rating and a short note."""
    view = match_detail(match_id, me(), lang())
    errors, data = {}, {}
    if request.method == "POST":
        data = request.form
        try:
            give_thanks(match_id, me(), form_int(data.get("rating")), data.get("note", ""))
        except Invalid as exc:
            errors = errors_from(exc)
        except Conflict:
            flash(str(NOT_POSSIBLE))
            return redirect(url_for(".match", match_id=match_id))
        else:
            flash(
                _("Thank you! We passed on your thanks to %(name)s.", name=view["other_first_name"])
            )
            return redirect(url_for(".match", match_id=match_id))
    page = render_template("residents/thanks.html", match=view, errors=errors, data=data)
    return page, 422 if errors else 200


@bp.route("/hulp/<int:match_id>/probleem", methods=["GET", "POST"])
@resident_required
def report(match_id: int):
    """Tell the community worker about a problem with this help."""
    view = match_detail(match_id, me(), lang())
    errors, body = {}, ""
    if request.method == "POST":
        body = request.form.get("body", "")
        try:
            report_problem(me(), body, match_id=match_id)
        except Invalid as exc:
            errors = errors_from(exc)
        else:
            flash(_("Thank you. A community worker of your neighbourhood will contact you."))
            return redirect(url_for(".match", match_id=match_id))
    page = render_template("residents/report.html", match=view, errors=errors, body=body)
    return page, 422 if errors else 200
