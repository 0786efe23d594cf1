"""Resident pages: my details ("Mijn gegevens"), download my data, who viewed my data,
password, delete my account, API tokens and in-app notifications."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ...errors import DomainError
from ...models.vocab import channel_codes, language_codes
from ...services.accounts import change_password
from ...services.api_tokens import create_api_token, list_api_tokens, revoke_api_token
from ...services.erasure import erase_own_account
from ...services.inbox import list_notifications, mark_all_read, mark_read, unread_count
from ...services.privacy import download_export, my_audit_trail, prepare_export
from ...services.profile import update_profile
from ..account_text import MESSAGES, account_errors
from .blueprint import bp
from .common import CHANNEL_LABELS, LANGUAGE_LABELS, ascii_digits, me, resident_required

PER_PAGE = 20


def _page() -> int:
    value = request.args.get("page", "1")
    # 1..100,000 like every list (a larger page is empty, never a database overflow).
    return min(max(int(value), 1), 100_000) if ascii_digits(value) else 1


@bp.app_context_processor
def notification_badge() -> dict:
    """`unread_notifications()` for the menu badge: counted only when a page asks."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated or current_user.resident_id is None:
            return 0
        return unread_count(current_user.resident_id)

    return {"unread_notifications": unread_notifications}


# --- My details -----------------------------------------------------------------------------


def _profile_data(resident) -> dict:
    return {
        "first_name": resident.first_name,
        "last_name": resident.last_name or "",
        "email": resident.email or "",
        "phone": resident.phone or "",
        "languages": language_codes(resident.language_mask),
        "channels": channel_codes(resident.channel_mask),
    }


def _render_profile(data: dict, errors: dict):
    resident = current_user.resident
    page = render_template(
        "residents/account/profile.html",
        data=data,
        errors=errors,
        resident=resident,
        languages=list(LANGUAGE_LABELS.items()),
        channels=list(CHANNEL_LABELS.items()),
    )
    return page, 422 if errors else 200


@bp.route("/gegevens", methods=["GET", "POST"])
@resident_required
def account():
    """My details: change them, and the way to my data, password, tokens, deleting."""
    if request.method == "GET":
        return _render_profile(_profile_data(current_user.resident), {})
    form = request.form
    values = {
        "first_name": form.get("first_name", ""),
        "last_name": form.get("last_name", ""),
        "email": form.get("email", ""),
        "phone": form.get("phone", ""),
        "languages": form.getlist("languages"),
        "channels": form.getlist("channels"),
    }
    try:
        update_profile(me(), values)
    except DomainError as exc:
        return _render_profile(values, account_errors(exc))
    flash(_("Your details are saved."))
    return redirect(url_for(".account"))


@bp.post("/gegevens/download")
@resident_required
def download_my_data():
    """Prepare a one-time download of all my data and start it (exports expire)."""
    secret, _expires = prepare_export(me(), current_user.id)
    return redirect(url_for(".download_file", token=secret))


# ".../export/<secret>": the log filter masks the secret in request lines (mutualaid/logs.py).
@bp.get("/gegevens/export/<token>")
@resident_required
def download_file(token: str):
    """All my data as a JSON file, once per link; a used or expired link asks for a new one."""
    try:
        data = download_export(me(), current_user.id, token)
    except DomainError:
        flash(_("This download link has expired. Ask for a new download."))
        return redirect(url_for(".account"))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="mijn-gegevens.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/gegevens/inzage")
@resident_required
def audit_trail():
    """Which professionals looked at my data, when and why."""
    page = _page()
    items, total = my_audit_trail(me(), page=page, per_page=PER_PAGE)
    for item in items:
        item["when"] = datetime.fromisoformat(item["at"])
    return render_template(
        "residents/account/audit.html", items=items, total=total, page=page, per_page=PER_PAGE
    )


@bp.route("/gegevens/wachtwoord", methods=["GET", "POST"])
@resident_required
def password():
    """Change my password (my other sessions stop)."""
    errors: dict = {}
    if request.method == "POST":
        new = request.form.get("new_password", "")
        if new != request.form.get("password_confirm", ""):
            errors = {"password_confirm": str(MESSAGES["password_confirm"])}
        else:
            try:
                change_password(current_user.id, request.form.get("current_password", ""), new)
            except DomainError as exc:
                errors = account_errors(exc)
            else:
                logout_user()
                flash(_("Your password has been changed. Sign in with your new password."))
                return redirect(url_for("auth.login"))
    page = render_template("residents/account/password.html", errors=errors)
    return page, 422 if errors else 200


@bp.route("/gegevens/verwijderen", methods=["GET", "POST"])
@resident_required
def delete_account():
    """Delete my account, after a confirmation with my password."""
    errors: dict = {}
    if request.method == "POST":
        try:
            erase_own_account(
                current_user.id,
                request.form.get("password", ""),
                confirmed=request.form.get("confirm") == "yes",
            )
        except DomainError as exc:
            errors = account_errors(exc)
            if "password" in errors:
                errors["password"] = _("This is not your password.")
        else:
            logout_user()
            flash(_("Your account and your personal data have been deleted."))
            return redirect(url_for("main.home"))
    page = render_template("residents/account/delete.html", errors=errors)
    return page, 422 if errors else 200


# --- API tokens -----------------------------------------------------------------------------


def _render_tokens(errors: dict, new_secret: str | None = None, label: str = ""):
    items, _total = list_api_tokens(current_user.id, per_page=100)
    page = render_template(
        "residents/account/tokens.html",
        tokens=items,
        errors=errors,
        new_secret=new_secret,
        label=label,
    )
    response = Response(page, status=422 if errors else 200)
    # The secret is in this page only once: never keep it in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/api-tokens", methods=["GET", "POST"])
@resident_required
def api_tokens():
    """My API tokens: make one (its secret is shown once), see and revoke them."""
    if request.method == "GET":
        return _render_tokens({})
    label = request.form.get("label", "")
    try:
        _token, secret = create_api_token(current_user.id, label)
    except DomainError as exc:
        return _render_tokens(account_errors(exc), label=label)
    return _render_tokens({}, new_secret=secret)


@bp.post("/api-tokens/<int:token_id>/intrekken")
@resident_required
def revoke_token(token_id: int):
    """Revoke one of my API tokens."""
    revoke_api_token(current_user.id, token_id)
    flash(_("The token is revoked. It no longer works."))
    return redirect(url_for(".api_tokens"))


# --- Notifications --------------------------------------------------------------------------


@bp.get("/meldingen")
@resident_required
def notifications():
    """My notifications, newest first."""
    page = _page()
    items, total = list_notifications(me(), page=page, per_page=PER_PAGE)
    return render_template(
        "residents/account/notifications.html",
        items=items,
        total=total,
        page=page,
        per_page=PER_PAGE,
    )


@bp.post("/meldingen/gelezen")
@resident_required
def notifications_read():
    """Mark all my notifications read."""
    mark_all_read(me())
    return redirect(url_for(".notifications"))


@bp.post("/meldingen/<int:notification_id>/gelezen")
@resident_required
def notification_read(notification_id: int):
    """Mark one notification read."""
    mark_read(me(), notification_id)
    return redirect(url_for(".notifications"))
