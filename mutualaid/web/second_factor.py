"""The second factor of staff: the code step after the password, a recovery code instead, the
first set-up (QR code, recovery codes shown once), and the account page for new recovery codes.

The code pages are public (there is no session yet) but do nothing without a pending marker
from a right password (web/signin.py); each wrong code is counted and a few end the sign-in.
"""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError
from ..extensions import limiter
from ..models.vocab import SECOND_FACTOR_ROLES
from ..services.second_factor import (
    confirm_enrolment,
    is_enrolled,
    recovery_codes_left,
    regenerate_recovery_codes,
    start_enrolment,
    use_recovery_code,
    verify_code,
)
from .access import public, roles_required
from .signin import (
    begin_session,
    end_pending,
    pending_key,
    pending_next,
    pending_user,
    too_many_failures,
)

bp = Blueprint("second_factor", __name__, url_prefix="/auth")

CODE_LIMITS = ("10 per minute", "30 per hour")


def _limited(view):
    """Rate limits of the code steps: per client address, and per account waited for."""
    view = limiter.limit(CODE_LIMITS[1], methods=["POST"], key_func=pending_key)(view)
    return limiter.limit(CODE_LIMITS[0], methods=["POST"])(view)


def _start_again():
    flash(_("Your sign-in has ended. Sign in again with your email address and password."))
    return redirect(url_for("auth.login"))


def _finish(user):
    """The second factor is done: now, and only now, the session begins."""
    target = pending_next()
    begin_session(user, second_factor=True)
    return target


def _wrong(user, message: str):
    """A wrong code: counted; after a few the pending sign-in ends."""
    if too_many_failures(user):
        end_pending()
        flash(_("You entered a wrong code too many times. Sign in again."))
        return None
    return message


def _code_step(check, template: str, wrong: str, signed_in):
    """One code step: needs a pending sign-in of an enrolled account; a right code begins the
    session (then `signed_in(user)` says where to), a wrong one is counted."""
    user = pending_user()
    if user is None:
        return _start_again()
    if not is_enrolled(user):
        return redirect(url_for("second_factor.setup"))
    error = None
    if request.method == "POST":
        try:
            check(user.id, request.form.get("code", ""))
        except DomainError:
            error = _wrong(user, wrong)
            if error is None:
                return redirect(url_for("auth.login"))
        else:
            return signed_in(user)
    return render_template(template, error=error), 422 if error else 200


@bp.route("/code", methods=["GET", "POST"])
@public  # no session yet: the pending marker from a right password is needed
@_limited
def code():
    """Enter the 6-digit code from the authenticator app."""
    return _code_step(
        verify_code,
        "auth/second_factor_code.html",
        _("This code is not correct. Enter the 6 digits your app shows now."),
        lambda user: redirect(_finish(user)),
    )


@bp.route("/code/recovery", methods=["GET", "POST"])
@public  # no session yet: the pending marker from a right password is needed
@_limited
def recovery():
    """Sign in with one of the recovery codes instead (a lost or broken phone)."""

    def signed_in(user):
        target = _finish(user)
        left = recovery_codes_left(user.id)
        flash(_("You are signed in with a recovery code. You have %(left)s codes left.", left=left))
        if left <= 3:
            flash(_("Make new recovery codes soon, on the page 'Second step'."))
        return redirect(target)

    return _code_step(
        use_recovery_code,
        "auth/second_factor_recovery.html",
        _("This recovery code is not correct or was already used."),
        signed_in,
    )


def qr_code(uri: str) -> str:
    """The provisioning URI as an SVG data URI (made here; no script, allowed by the CSP)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


@bp.route("/code/setup", methods=["GET", "POST"])
@public  # no session yet: the pending marker from a right password is needed
@_limited
def setup():
    """First sign-in of a staff member: set up the app, confirm with a first code."""
    user = pending_user()
    if user is None:
        return _start_again()
    if is_enrolled(user):
        return redirect(url_for("second_factor.code"))
    error = None
    if request.method == "POST":
        try:
            codes = confirm_enrolment(user.id, request.form.get("code", ""))
        except DomainError:
            error = _("This code is not correct. Enter the 6 digits your app shows now.")
        else:
            target = _finish(user)
            return render_template("auth/recovery_codes.html", codes=codes, next_url=target)
    enrolment = start_enrolment(user.id)
    page = render_template(
        "auth/second_factor_setup.html",
        enrolment=enrolment,
        qr=qr_code(enrolment.uri),
        error=error,
    )
    return page, 422 if error else 200


@bp.route("/second-factor", methods=["GET", "POST"])
@roles_required(*SECOND_FACTOR_ROLES)
@limiter.limit("10 per minute", methods=["POST"])
def manage():
    """My second step: how many recovery codes are left; make a new set (needs a code)."""
    error = None
    if request.method == "POST":
        try:
            codes = regenerate_recovery_codes(current_user.id, request.form.get("code", ""))
        except DomainError:
            error = _("This code is not correct. Enter the 6 digits your app shows now.")
        else:
            return render_template(
                "auth/recovery_codes.html", codes=codes, next_url=url_for(".manage")
            )
    page = render_template(
        "auth/second_factor_manage.html",
        left=recovery_codes_left(current_user.id),
        enabled_at=current_user.totp_enabled_at,
        error=error,
    )
    return page, 422 if error else 200
