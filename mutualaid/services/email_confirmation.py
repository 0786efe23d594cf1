"""Confirming a self-registered account's email address.

A resident who registers gets an account that cannot sign in yet, and a mail (background job)
with a single-use link that works CONFIRM_EMAIL_HOURS. Following it confirms the address; only
then does the registration's other work start (see `accounts.mark_email_confirmed`). Asking
for a new link answers the same and does the same work (one lookup, one job) for any address.
Accounts never confirmed are removed by the retention job (`retention.py`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..background import enqueue
from ..errors import Invalid
from ..extensions import db
from ..models import SecretToken, User
from ..models.base import utcnow
from .account_mail import send_account_mail
from .accounts import mark_email_confirmed, normalise_email
from .tokens import find_live_token, issue_token
from .transactions import commit

log = logging.getLogger(__name__)
PURPOSE = "confirm_email"


def send_email_confirmation(user_id: int | None, link_template: str) -> bool:
    """Mail a new confirmation link to an account not confirmed yet (the background half of a
    registration or a resend); anything else does nothing. True when a mail went out."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_enabled or user.email_confirmed_at is not None:
        return False
    config = current_app.config
    hours = config["CONFIRM_EMAIL_HOURS"]
    days = config["UNCONFIRMED_ACCOUNT_DAYS"]
    _token, secret = issue_token(PURPOSE, user_id=user.id, valid_for=timedelta(hours=hours))
    commit()
    link = link_template.format(token=secret)
    subject = "Bevestig uw e-mailadres / Confirm your email address"
    body = (
        f"Hallo {user.display_name},\n\n"
        "Welkom! U heeft zich aangemeld. Klik op de link hieronder om uw e-mailadres te "
        "bevestigen. Daarna is uw account klaar en kunt u inloggen. De link werkt "
        f"{hours} uur en maar één keer.\n\n"
        f"{link}\n\n"
        "Heeft u zich niet aangemeld? Dan hoeft u niets te doen: zonder bevestiging wordt "
        f"het account na {days} dagen verwijderd.\n\n"
        "---\n"
        "Welcome! Click the link above to confirm your email address; then your account is "
        f"ready. The link works for {hours} hours, once. Did not register? Then do nothing: "
        f"an account that is not confirmed is removed after {days} days.\n"
    )
    return send_account_mail(user, subject, body, what="email confirmation")


def request_confirmation_resend(email: str, link_template: str) -> None:
    """Ask for a new confirmation link for this address. Known or unknown, confirmed or not,
    the same work (one lookup, one job); only an unconfirmed account gets a mail."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    waiting = user is not None and user.is_enabled and user.email_confirmed_at is None
    user_id = user.id if waiting else None
    try:
        enqueue(
            "mutualaid.jobs.send_email_confirmation", user_id, link_template, queue="notifications"
        )
    except Exception:  # Redis down: the answer stays the same; the person can ask again
        log.warning("a confirmation mail could not be queued", exc_info=True)


def _live_confirmation(secret: str) -> tuple[SecretToken, User]:
    try:
        token = find_live_token(PURPOSE, secret or "")
    except Invalid:
        token = None
    user = db.session.get(User, token.user_id) if token is not None else None
    if user is None or not user.is_enabled:
        raise Invalid(
            "this confirmation link is not valid (any more); ask for a new one",
            field="token",
            rule="valid",
        )
    return token, user


def check_confirmation_token(secret: str) -> None:
    """Invalid (field `token`) when the confirmation link is unknown, used or expired."""
    _live_confirmation(secret)


def confirm_email(secret: str) -> User:
    """Confirm the address with the emailed link: the account becomes usable. The link (and
    every other confirmation link of the account) stops working."""
    token, user = _live_confirmation(secret)
    mark_email_confirmed(user)
    now = utcnow()
    for other in db.session.scalars(
        select(SecretToken).where(
            SecretToken.user_id == user.id,
            SecretToken.purpose == PURPOSE,
            SecretToken.used_at.is_(None),
        )
    ):
        other.used_at = now
    token.used_at = now
    commit()
    return user
