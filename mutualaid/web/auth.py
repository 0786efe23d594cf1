"""Signing in and out, registering as a resident, and a forgotten password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..errors import DomainError, NotAuthenticated
from ..extensions import limiter
from ..models.vocab import ROLES
from ..services.account_mail import register_resident_quietly, request_password_reset
from ..services.accounts import authenticate, check_reset_token, sign_out_everywhere
from ..services.accounts import reset_password as reset_password_with_token
from ..services.second_factor import is_enrolled, needs_second_factor
from .access import public, roles_required
from .account_text import MESSAGES, account_errors
from .forms import LoginForm
from .residents.common import CHANNEL_LABELS, LANGUAGE_LABELS
from .signin import begin_session, safe_next, start_pending

__all__ = ["begin_session", "bp"]

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except NotAuthenticated:
            form.password.errors.append(_("Email address or password is not correct."))
        else:
            if needs_second_factor(user):
                # Staff: no session yet. First the code from their app (or set one up).
                start_pending(user, request.args.get("next"))
                step = "second_factor.code" if is_enrolled(user) else "second_factor.setup"
                return redirect(url_for(step))
            begin_session(user)
            return redirect(safe_next(request.args.get("next")))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@public  # signing out needs no account: it only ends a session
def logout():
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("main.home"))


@bp.post("/sessions/revoke")
@roles_required(*ROLES)
def revoke_sessions():
    """Sign out everywhere: every session (this one too) ends and every API token stops."""
    sign_out_everywhere(current_user.id)
    logout_user()
    flash(_("You are signed out on all your devices. Sign in again to go on."))
    return redirect(url_for("auth.login"))


# --- Registering -----------------------------------------------------------------------------


def registration_values(form) -> dict:
    """The service's fields from the registration form (the service validates them)."""
    return {
        "first_name": form.get("first_name", ""),
        "email": form.get("email", ""),
        "password": form.get("password", ""),
        "phone": form.get("phone", ""),
        "postcode": form.get("postcode", ""),
        "house_number": form.get("house_number", ""),
        "languages": form.getlist("languages") or ["nl"],
        "channels": form.getlist("channels"),
        "consent": form.get("consent") == "yes",
    }


def link_template(endpoint: str) -> str:
    """An emailed link's full URL with `{token}` where the secret goes (url_for would escape
    the braces)."""
    return url_for(endpoint, token="TOKEN", _external=True).replace("TOKEN", "{token}")


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def register():
    """Create a resident account (with consent); it works once the emailed link is followed."""
    errors: dict = {}
    data: dict = {"languages": ["nl"], "channels": ["message"]}
    if request.method == "POST":
        values = registration_values(request.form)
        data = {k: v for k, v in values.items() if k != "password"}
        try:
            register_resident_quietly(
                link_template("registration.confirm"),
                link_template("auth.reset_password"),
                **values,
            )
        except DomainError as exc:
            errors = account_errors(exc)
        else:
            # The same answer whether or not the address already had an account: a new one
            # gets a confirmation link by email, the owner of a taken one a notice. Nobody is
            # signed in here.
            return redirect(url_for("registration.check_email"))
    page = render_template(
        "auth/register.html",
        data=data,
        errors=errors,
        languages=[(code, label) for code, label in LANGUAGE_LABELS.items()],
        channels=list(CHANNEL_LABELS.items()),
    )
    return page, 422 if errors else 200


# --- Forgotten password ----------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit("5 per minute", methods=["POST"])
def forgot_password():
    """Ask for a reset link by email; the answer is the same whether the address is known."""
    if request.method == "GET":
        return render_template("auth/forgot_password.html", errors={}, data={})
    # The secret goes where the placeholder is; url_for would escape the braces.
    template = url_for("auth.reset_password", token="TOKEN", _external=True)
    request_password_reset(request.form.get("email", ""), template.replace("TOKEN", "{token}"))
    flash(
        _(
            "If there is an account with this email address, we have sent it an email with a "
            "link. The link works for a short time. Also look in your spam folder."
        )
    )
    return redirect(url_for("auth.forgot_password"))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public  # the token in the link is the credential
@limiter.limit("10 per minute", methods=["POST"])
def reset_password(token: str):
    """Choose a new password with the emailed link (once, for a short time)."""
    try:
        check_reset_token(token)
    except DomainError:
        return render_template("auth/reset_invalid.html"), 400
    errors: dict = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("password_confirm", ""):
            errors = {"password_confirm": str(MESSAGES["password_confirm"])}
        else:
            try:
                reset_password_with_token(token, password)
            except DomainError as exc:
                errors = account_errors(exc)
            else:
                logout_user()
                flash(_("Your password has been changed. Sign in with your new password."))
                return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", errors=errors), 422 if errors else 200
