"""Hand-over: a resident registered by a worker goes online with a single-use activation code.

The worker creates the code (printed on paper, or sent by SMS when an SMS gateway is
configured); it is valid for 14 days and replaces any earlier code. The resident enters it with
an email address and a new password: an account linked to their resident record is created,
the code is spent, and they see everything that was done on their behalf. A wrong, expired or
used code gets one and the same answer, which never says whether an account exists.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ..channels import configured_channels
from ..errors import Conflict, DomainError, Invalid
from ..extensions import db
from ..models import HelpRequest, Match, Offer, Resident, SecretToken, User
from ..models.base import utcnow
from .accounts import create_user
from .audit import record_event
from .casework import scoped_resident
from .tokens import find_live_token, issue_token
from .transactions import commit

CODE_VALID_FOR = timedelta(days=14)
REFUSED = "this code is not valid (any more). Ask your community worker for a new code."


def format_code(secret: str) -> str:
    """A code as printed: two groups of five (typing ignores the dash)."""
    return f"{secret[:5]}-{secret[5:]}" if len(secret) == 10 else secret


def _sms_channel():
    return next((c for c in configured_channels(current_app.config) if c.name == "sms"), None)


def sms_available() -> bool:
    """Whether an SMS gateway is configured."""
    return _sms_channel() is not None


def issue_handover_code(
    actor_id: int, resident_id: int, *, send_sms: bool = False, activation_url: str = ""
) -> dict:
    """A fresh activation code for a resident without an account (earlier codes stop working)."""
    resident = scoped_resident(actor_id, resident_id)
    if resident.account is not None:
        raise Conflict(
            "this resident already has an account", field="resident_id", rule="no_account"
        )
    sms = _sms_channel() if send_sms else None
    if send_sms and sms is None:
        raise Invalid("sending by SMS is not configured", field="send_sms", rule="configured")
    if send_sms and not resident.phone:
        raise Invalid("this resident has no phone number", field="send_sms", rule="phone")
    now = utcnow()
    db.session.execute(
        update(SecretToken)
        .where(
            SecretToken.resident_id == resident.id,
            SecretToken.purpose == "activation",
            SecretToken.used_at.is_(None),
            SecretToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token, secret = issue_token(
        "activation",
        resident_id=resident.id,
        valid_for=CODE_VALID_FOR,
        created_by_user_id=actor_id,
    )
    record_event(
        actor_id,
        "resident.handover_code",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
        detail={"token_id": token.id, "sms": bool(send_sms)},
    )
    commit()
    code = format_code(secret)
    if sms is not None:
        # The gateway is told the code only; no name or address goes with it.
        sms.deliver(
            resident.phone,
            f"Uw code voor mutualaid: {code}. Ga naar {activation_url or '/activeren'} "
            "en kies uw eigen wachtwoord. De code werkt 14 dagen en maar 1 keer.",
        )
    return {
        "code": code,
        "expires_at": token.expires_at,
        "resident_id": resident.id,
        "first_name": resident.first_name,
        "sent_by_sms": sms is not None,
    }


def activate_account(code: str, email: str, password: str) -> User:
    """Turn a live activation code into a resident account (the code is spent)."""
    try:
        token = find_live_token("activation", code)
    except Invalid:
        raise Invalid(REFUSED, field="code", rule="valid") from None
    resident = db.session.get(Resident, token.resident_id) if token.resident_id else None
    if resident is None or resident.erased_at is not None or resident.account is not None:
        raise Invalid(REFUSED, field="code", rule="valid")
    try:
        user = create_user(
            email,
            password,
            "resident",
            resident.first_name,
            resident_id=resident.id,
            commit_now=False,
        )
        # Spend the code atomically: of two people using it at once, only one gets through.
        spent = db.session.execute(
            update(SecretToken)
            .where(SecretToken.id == token.id, SecretToken.used_at.is_(None))
            .values(used_at=utcnow())
        ).rowcount
        if spent != 1:
            raise Invalid(REFUSED, field="code", rule="valid")
    except DomainError:
        db.session.rollback()
        raise
    resident.self_service = True
    if not resident.email:
        resident.email = user.email
    record_event(
        user.id,
        "account.activated",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
        detail={"token_id": token.id, "issued_by": token.created_by_user_id},
    )
    commit()
    return user


def activate_account_with_token(code: str, email: str, password: str) -> tuple[User, str]:
    """Activate (as above) and hand the new account an API token, for apps (shown once)."""
    user = activate_account(code, email, password)
    _, secret = issue_token("api", user_id=user.id, label="activation")
    commit()
    return user, secret


def own_history(resident_id: int) -> dict:
    """What the resident sees of their own history (their own data, not audited)."""
    requests = list(
        db.session.scalars(
            select(HelpRequest)
            .where(HelpRequest.requester_id == resident_id)
            .order_by(HelpRequest.created_at.desc())
        )
    )
    offers = list(
        db.session.scalars(
            select(Offer).where(Offer.helper_id == resident_id).order_by(Offer.created_at.desc())
        )
    )
    matches = list(
        db.session.scalars(
            select(Match)
            .join(HelpRequest, HelpRequest.id == Match.request_id)
            .where(
                (HelpRequest.requester_id == resident_id) | (Match.helper_id == resident_id),
                Match.status.in_(("invited", "accepted", "done")),
            )
            .order_by(Match.status_changed_at.desc())
        )
    )
    return {"requests": requests, "offers": offers, "matches": matches}
