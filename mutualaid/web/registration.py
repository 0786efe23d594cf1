"""After registering: "check your email", asking for a new link, and confirming the address.

`register()` (auth.py) sends every successful form here, new address or taken: the page is the
same and names no one. The account works only after the emailed link is followed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from ..errors import DomainError
from ..extensions import limiter
from ..services.email_confirmation import (
    check_confirmation_token,
    confirm_email,
    request_confirmation_resend,
)
from .access import public
from .auth import begin_session, link_template

bp = Blueprint("registration", __name__, url_prefix="/auth")


def after_confirming() -> str:
    """Next stop: the address page (another team's), else my details."""
    try:
        return url_for("residents.location")
    except BuildError:
        return url_for("residents.account")


def _check_email_page():
    return render_template(
        "auth/check_email.html",
        hours=current_app.config["CONFIRM_EMAIL_HOURS"],
        errors={},
    )


@bp.get("/register/check-email")
@public
def check_email():
    """Where every registration lands: look in your mailbox (and ask again if nothing came)."""
    return _check_email_page()


@bp.post("/register/resend")
@public  # the same answer whether or not the address has an account
@limiter.limit("5 per minute; 20 per hour")
def resend():
    """Send a new confirmation link; the answer is the same for any address."""
    email = request.form.get("email", "")
    request_confirmation_resend(email, link_template("registration.confirm"))
    flash(
        _(
            "If this email address has an account that is not confirmed yet, we have sent it a "
            "new link. Also look in your spam folder."
        )
    )
    return redirect(url_for("registration.check_email"))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public  # the token in the link is the credential
@limiter.limit("10 per minute", methods=["POST"])
def confirm(token: str):
    """Confirm the email address with the emailed link. Opening the link shows a button (mail
    scanners that open links do not use it up); pressing it confirms and signs in."""
    try:
        if request.method == "GET":
            check_confirmation_token(token)
            return render_template("auth/confirm_email.html")
        user = confirm_email(token)
    except DomainError:
        page = render_template(
            "auth/confirm_invalid.html", hours=current_app.config["CONFIRM_EMAIL_HOURS"]
        )
        return page, 400
    if user.role != "resident":  # not reached today: staff accounts are confirmed by admins
        flash(_("Your email address is confirmed. You can sign in now."))
        return redirect(url_for("auth.login"))
    begin_session(user)
    flash(_("Welcome! Your email address is confirmed. Now tell us where you live."))
    return redirect(after_confirming())
