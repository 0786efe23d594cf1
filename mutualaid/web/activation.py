"""/activeren: a resident who was registered by a community worker goes online with the
single-use code they got on paper or by SMS, and chooses their own email and password.

Public and rate limited; every refused code gets the same answer.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError
from ..extensions import limiter
from ..services.handover import activate_account, own_history
from .access import public, roles_required
from .account_text import password_advice
from .auth import begin_session
from .residents.common import STATUS_LABELS

bp = Blueprint("activation", __name__, url_prefix="/activeren")


def _messages() -> dict[str, str]:
    return {
        "code": _(
            "This code is not correct or no longer valid. Ask your community worker for a new code."
        ),
        "email": _("Give an email address that you use and that has no account here yet."),
        "password": _("Choose a password of at least 10 characters."),
        "password2": _("The two passwords are not the same."),
    }


def _errors(exc: DomainError) -> dict[str, str]:
    field = exc.field if exc.field in ("code", "email", "password") else "code"
    if field == "password":  # too short, too long or too common: each has its own advice
        return {field: password_advice(exc.rule)}
    return {field: _messages()[field]}


@bp.route("", methods=["GET", "POST"])
@public  # the handover code is the credential
@limiter.limit("10 per minute", methods=["POST"])
def activate():
    """The form: code, email, password twice."""
    data = {"code": request.form.get("code", ""), "email": request.form.get("email", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("password", "") != request.form.get("password2", ""):
            errors = {"password2": _messages()["password2"]}
        else:
            try:
                user = activate_account(data["code"], data["email"], request.form.get("password"))
            except DomainError as exc:
                errors = _errors(exc)
            else:
                begin_session(user)  # a fresh session, as at every sign-in
                return redirect(url_for("activation.done"))
    page = render_template("activation/activate.html", data=data, errors=errors)
    return page, 422 if errors else 200


@bp.get("/klaar")
@roles_required("resident")
def done():
    """Welcome: everything that was done on the resident's behalf so far."""
    history = own_history(current_user.resident_id)
    return render_template("activation/done.html", history=history, status_labels=STATUS_LABELS)
