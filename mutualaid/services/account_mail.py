"""Account mails, written and sent in background jobs: the password reset link, and after a
registration either the link that confirms a new account's address (email_confirmation.py) or
the notice that someone tried to register with an address that already has an account.

The requests that queue them answer the same for known and unknown addresses and do the same
work either way (one lookup, one job), so neither the answer nor its timing tells whether an
address has an account. The jobs get ids only, never an email address.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..background import enqueue
from ..channels import send_email
from ..dev_outbox import write_to_dev_outbox
from ..errors import Conflict
from ..extensions import db
from ..models import User
from .accounts import hash_password, normalise_email, register_resident
from .tokens import issue_token
from .transactions import commit

log = logging.getLogger(__name__)


def register_resident_quietly(
    confirm_link_template: str, reset_link_template: str, **values
) -> None:
    """Register a resident without revealing whether the email address already has an account.

    Either way one background job mails the address and nothing comes back, so the caller
    answers the same: a new account (not usable yet) gets a link to confirm the address; the
    owner of a taken address gets a notice with a link to choose a new password. Problems with
    the fields raise Invalid as in `register_resident`. The templates hold `{token}`."""
    try:
        user = register_resident(**values)
    except Conflict as exc:
        if exc.field != "email":
            raise
        # The same slow step as a new account (argon2), so the two take about as long.
        hash_password(values.get("password") or "")
        owner_id = db.session.scalar(
            select(User.id).where(User.email == normalise_email(values["email"]))
        )
        job, user_id, link_template = (
            "mutualaid.jobs.send_registration_notice",
            owner_id,
            reset_link_template,
        )
    else:
        job, user_id, link_template = (
            "mutualaid.jobs.send_email_confirmation",
            user.id,
            confirm_link_template,
        )
    try:
        # Ids (and the link template, the same for everyone) only: never the address itself.
        enqueue(job, user_id, link_template, queue="notifications")
    except Exception:  # Redis down: the answer stays the same; the person can ask again
        log.warning("a registration mail could not be queued", exc_info=True)


def send_registration_notice(user_id: int | None, link_template: str) -> bool:
    """Mail an account's owner that someone tried to register with their address, with a link
    to choose a new password (which also finishes a registration never confirmed)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_enabled:
        return False
    minutes = current_app.config.get("PASSWORD_RESET_MINUTES", 60)
    link = _reset_link(user, link_template, minutes)
    subject = "Iemand probeerde zich aan te melden / Someone tried to register"
    if user.email_confirmed_at is None:
        situation_nl = (
            "U heeft zich al eerder aangemeld met dit adres, maar het nog niet bevestigd. Kies "
            "met de link hieronder een wachtwoord: daarmee is uw aanmelding klaar."
        )
        situation_en = (
            "You registered with this address before but did not confirm it yet. Choose a "
            "password with the link above: that finishes your registration."
        )
    else:
        situation_nl = (
            "U heeft al een account, dus er is niets veranderd. Wachtwoord vergeten? Kies met "
            "de link hieronder een nieuw wachtwoord."
        )
        situation_en = (
            "You already have an account, so nothing changed. Forgot your password? Choose a "
            "new one with the link above."
        )
    body = (
        f"Hallo {user.display_name},\n\n"
        f"Iemand probeerde zich aan te melden met uw e-mailadres. {situation_nl} De link werkt "
        f"{minutes} minuten en maar één keer.\n\n"
        f"{link}\n\n"
        "Was u het niet? Dan hoeft u niets te doen.\n\n"
        "---\n"
        f"Someone tried to register with your email address. {situation_en} The link works for "
        f"{minutes} minutes, once. Not you? Then do nothing.\n"
    )
    return send_account_mail(user, subject, body, what="registration notice")


def request_password_reset(email: str, link_template: str) -> None:
    """Ask for a reset mail to this address; the mail is written and sent in a background job.

    Known or unknown, enabled or not, the request does the same work (one lookup, one job), so
    neither the answer nor its timing tells whether the address has an account; an unknown
    address gets a job that does nothing. `link_template` holds `{token}` for the secret.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    user_id = user.id if user is not None and user.is_enabled else None
    try:
        # Ids only in the job: never the email address itself.
        enqueue("mutualaid.jobs.send_password_reset", user_id, link_template, queue="notifications")
    except Exception:  # Redis down: the answer stays the same; the person can ask again
        log.warning("a password reset mail could not be queued", exc_info=True)


def send_password_reset(user_id: int | None, link_template: str) -> bool:
    """Mail a single-use reset link to this account (the background half of a reset request);
    None (an unknown address) does nothing. True when a mail went out."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_enabled:
        return False
    minutes = current_app.config.get("PASSWORD_RESET_MINUTES", 60)
    link = _reset_link(user, link_template, minutes)
    subject = "Nieuw wachtwoord instellen / Set a new password"
    body = (
        f"Hallo {user.display_name},\n\n"
        "U heeft gevraagd om een nieuw wachtwoord. Klik op de link hieronder om een nieuw "
        f"wachtwoord te kiezen. De link werkt {minutes} minuten en maar één keer.\n\n"
        f"{link}\n\n"
        "Heeft u dit niet gevraagd? Dan hoeft u niets te doen.\n\n"
        "---\n"
        f"You asked to set a new password. The link above works for {minutes} minutes, once.\n"
    )
    return send_account_mail(user, subject, body, what="password reset")


def _reset_link(user: User, link_template: str, minutes: int) -> str:
    """A new single-use password reset link for this account (committed)."""
    _token, secret = issue_token(
        "password_reset", user_id=user.id, valid_for=timedelta(minutes=minutes)
    )
    commit()
    return link_template.format(token=secret)


def send_account_mail(user: User, subject: str, body: str, *, what: str) -> bool:
    """Send one account mail. Without SMTP, development writes it to the dev outbox (a file,
    see dev_outbox.py) and production logs an error; a link in it is never logged."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        written = write_to_dev_outbox(config, what.replace(" ", "_"), user.email, subject, body)
        if written is not None:
            log.warning(
                "SMTP_HOST is not set; %s mail for user %s written to %s", what, user.id, written
            )
        else:
            log.error("SMTP_HOST is not set: a %s mail could not be sent", what)
        return False
    try:
        send_email(config, user.email, subject, body)
    except Exception as exc:  # the answer stays the same; the person can ask again
        # No traceback: an SMTP error's text can name the recipient's address.
        log.warning("%s mail for user %s could not be sent: %s", what, user.id, type(exc).__name__)
        return False
    return True
