"""Resident pages: knowing each other (an invitation code the other confirms), undoing a tie,
blocking someone."""

from __future__ import annotations

from contextlib import suppress

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ...errors import Invalid, NotFound
from ...extensions import limiter
from ...services.ties import (
    block_resident,
    confirm_tie_invitation,
    create_tie_invitation,
    my_ties,
    remove_tie,
    unblock_resident,
)
from .blueprint import bp
from .common import errors_from, me, resident_required

# The new code is shown once, on the page the POST redirects to (then it is gone).
NEW_CODE_KEY = "new_tie_code"


@bp.get("/kennen")
@resident_required
def ties():
    """The neighbours I know, whom I blocked, and a code to give to someone I know."""
    new_code = session.pop(NEW_CODE_KEY, None)
    link = url_for(".confirm_tie", code=new_code, _external=True) if new_code else None
    return render_template("residents/ties.html", **my_ties(me()), new_code=new_code, link=link)


@bp.post("/kennen/code")
@resident_required
def new_tie_code():
    """Make an invitation code (valid two weeks, used once)."""
    session[NEW_CODE_KEY] = create_tie_invitation(me())["code"]
    return redirect(url_for(".ties") + "#new-code")


@bp.route("/kennen/bevestigen", methods=["GET", "POST"])
@resident_required
@limiter.limit("10 per minute", methods=["POST"])  # codes are not guessed
def confirm_tie():
    """Confirm the code (or link) of someone I know."""
    errors: dict = {}
    code = request.values.get("code", "").strip()
    if request.method == "POST":
        try:
            tie = confirm_tie_invitation(me(), code)
        except Invalid as exc:
            errors = errors_from(exc)
        else:
            flash(_("Done: you and %(name)s know each other now.", name=tie["first_name"]))
            return redirect(url_for(".ties"))
    page = render_template("residents/tie_confirm.html", code=code, errors=errors)
    return page, 422 if errors else 200


@bp.post("/kennen/<int:other_id>/ongedaan")
@resident_required
def undo_tie(other_id: int):
    """Undo a tie (either side may)."""
    with suppress(NotFound):  # already gone: the page shows how it stands now
        remove_tie(me(), other_id)
    flash(_("You are no longer listed as knowing each other."))
    return redirect(url_for(".ties"))


@bp.post("/kennen/<int:other_id>/blokkeren")
@resident_required
def block(other_id: int):
    """Block someone I met through the service: we are never matched again."""
    blocked = block_resident(me(), other_id)
    flash(_("%(name)s is blocked. You will not be matched again.", name=blocked["first_name"]))
    return redirect(url_for(".ties"))


@bp.post("/kennen/<int:other_id>/deblokkeren")
@resident_required
def unblock(other_id: int):
    """Lift my block."""
    unblock_resident(me(), other_id)
    flash(_("The block is lifted."))
    return redirect(url_for(".ties"))
