"""The second factor of staff accounts (community workers, municipality users, admins): a TOTP
code from an authenticator app, or one of ten single-use recovery codes.

The TOTP secret is stored encrypted (Fernet; the key is TOTP_ENCRYPTION_KEY or derived from
SECRET_KEY), recovery codes only as a hash (secret tokens with purpose "recovery"). A code is
accepted once: the time-step it belongs to is remembered and that step or an older one is
refused afterwards (no replay of a code someone saw over a shoulder).
"""

from __future__ import annotations

import base64
import hmac
import re
import time
from dataclasses import dataclass

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import func, select, update

from ..errors import Conflict, Invalid, NotAuthenticated, NotFound
from ..extensions import db
from ..models import SecretToken, User
from ..models.base import utcnow
from ..models.vocab import SECOND_FACTOR_ROLES
from .audit import record_event
from .tokens import find_live_token, issue_token, normalise_code, spend_token
from .transactions import commit

RECOVERY_CODE_COUNT = 10
# Codes from the step before and after the current one also count (clocks drift, people type
# slowly): 30 seconds either way.
VALID_WINDOW = 1
# A pending sign-in ends after this many wrong codes; the password is then needed again.
MAX_FAILED_CODES = 5
SIX_DIGITS = re.compile(r"^[0-9]{6}$")
WRONG_CODE = "this code is not correct"


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the secret (for typing in) and the URI (for the QR code)."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four characters, easier to type over."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def needs_second_factor(user: User) -> bool:
    """Whether this account signs in with a second factor (every staff role)."""
    return user.role in SECOND_FACTOR_ROLES


def is_enrolled(user: User) -> bool:
    """Whether the account has a confirmed second factor."""
    return user.totp_enabled_at is not None and user.totp_secret_encrypted is not None


# --- The secret at rest ---------------------------------------------------------------------


def _fernet() -> Fernet:
    key = current_app.config.get("TOTP_ENCRYPTION_KEY")
    if not key:
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"mutualaid-second-factor",
            info=b"totp-secret-encryption",
        ).derive(current_app.config["SECRET_KEY"].encode())
        key = base64.urlsafe_b64encode(derived).decode()
    return Fernet(key)


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _secret_of(user: User) -> str:
    try:
        return _fernet().decrypt(user.totp_secret_encrypted.encode()).decode()
    except (InvalidToken, AttributeError):
        # A changed key: the stored secret is useless; an admin resets the second factor.
        raise NotAuthenticated(WRONG_CODE, field="code", rule="second_factor") from None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, issuer=current_app.config.get("TOTP_ISSUER") or "Burenhulp")


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_enabled:
        raise NotFound("this account does not exist", field="user_id")
    return user


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time-step (within the window) whose code this is, or None."""
    totp = _totp(secret)
    current = totp.timecode(_as_datetime(now))
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step  # no early return: every candidate is compared (same time)
    return found


def _as_datetime(now: float | None):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(time.time() if now is None else now, UTC)


def clean_code(code: str | None) -> str:
    """A code as typed: spaces and dashes dropped."""
    return "".join(ch for ch in (code or "") if ch not in " -\t")


# --- Enrolment ------------------------------------------------------------------------------


def start_enrolment(user_id: int) -> Enrolment:
    """A secret for the set-up page: new, or the one from an enrolment not yet confirmed (a
    reload shows the same QR code as before). Refused when a second factor is already on."""
    user = _user(user_id)
    if is_enrolled(user):
        raise Conflict("the second factor is already set up", field="code", rule="enrolled")
    if user.totp_secret_encrypted:
        try:
            secret = _fernet().decrypt(user.totp_secret_encrypted.encode()).decode()
        except InvalidToken:
            secret = None
    else:
        secret = None
    if secret is None:
        secret = pyotp.random_base32()  # 32 characters: 160 bits, as RFC 4226 recommends
        user.totp_secret_encrypted = encrypt_secret(secret)
        user.totp_last_step = None
        commit()
    return Enrolment(secret=secret, uri=_totp(secret).provisioning_uri(name=user.email))


def confirm_enrolment(user_id: int, code: str, *, now: float | None = None) -> list[str]:
    """Switch the second factor on with a first code from the app; returns the recovery codes
    (shown once)."""
    user = _user(user_id)
    if is_enrolled(user):
        raise Conflict("the second factor is already set up", field="code", rule="enrolled")
    if not user.totp_secret_encrypted:
        raise Invalid("start the set-up first", field="code", rule="not_started")
    code = clean_code(code)
    step = _matching_step(_secret_of(user), code, now) if SIX_DIGITS.match(code) else None
    if step is None:
        raise Invalid(WRONG_CODE, field="code", rule="second_factor")
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.totp_failed_attempts = 0
    codes = _new_recovery_codes(user)
    record_event(user.id, "second_factor:enabled", object_type="user", object_id=user.id)
    commit()
    return codes


def enrol_with_secret(user: User, secret: str) -> None:
    """Switch the second factor on with a known secret (demo accounts, test builders); the
    caller commits. No recovery codes are made."""
    user.totp_secret_encrypted = encrypt_secret(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = None
    user.totp_failed_attempts = 0


# --- Signing in -----------------------------------------------------------------------------


def _failed(user: User, message: str = WRONG_CODE) -> NotAuthenticated:
    user.totp_failed_attempts = (user.totp_failed_attempts or 0) + 1
    commit()
    return NotAuthenticated(message, field="code", rule="second_factor")


def verify_code(user_id: int, code: str, *, now: float | None = None) -> User:
    """Accept a current code from the app once; NotAuthenticated otherwise (counted)."""
    user = _user(user_id)
    if not is_enrolled(user):
        raise NotAuthenticated(WRONG_CODE, field="code", rule="second_factor")
    code = clean_code(code)
    step = _matching_step(_secret_of(user), code, now) if SIX_DIGITS.match(code) else None
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        raise _failed(user)
    # Guarded update: of two requests with the same code at the same moment only one wins.
    won = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step, totp_failed_attempts=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        raise _failed(_user(user_id))
    commit()
    db.session.refresh(user)
    return user


def use_recovery_code(user_id: int, code: str) -> User:
    """Accept one of the account's recovery codes, once; NotAuthenticated otherwise."""
    user = _user(user_id)
    try:
        token = find_live_token("recovery", code)
    except Invalid:
        token = None
    if token is None or token.user_id != user.id or not is_enrolled(user):
        raise _failed(user)
    spend_token(token)
    user.totp_failed_attempts = 0
    db.session.flush()
    left = recovery_codes_left(user.id)
    record_event(
        user.id,
        "second_factor:recovery_code_used",
        object_type="user",
        object_id=user.id,
        detail={"left": left},
    )
    commit()
    return user


def verify_second_factor(user_id: int, code: str) -> User:
    """A code from the app (six digits) or a recovery code (anything else)."""
    if SIX_DIGITS.match(clean_code(code)):
        return verify_code(user_id, code)
    return use_recovery_code(user_id, code)


def failed_attempts(user_id: int) -> int:
    user = db.session.get(User, user_id)
    return user.totp_failed_attempts if user else 0


# --- Recovery codes -------------------------------------------------------------------------


def _live_recovery_codes(user_id: int):
    return select(SecretToken).where(
        SecretToken.user_id == user_id,
        SecretToken.purpose == "recovery",
        SecretToken.used_at.is_(None),
        SecretToken.revoked_at.is_(None),
    )


def recovery_codes_left(user_id: int) -> int:
    """How many of the account's recovery codes are still unused."""
    query = _live_recovery_codes(user_id).subquery()
    return db.session.scalar(select(func.count()).select_from(query))


def _new_recovery_codes(user: User) -> list[str]:
    """Revoke the account's recovery codes and make a new set (not committed)."""
    now = utcnow()
    for token in db.session.scalars(_live_recovery_codes(user.id)):
        token.revoked_at = now
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        _token, secret = issue_token("recovery", user_id=user.id)
        codes.append(format_recovery_code(secret))
    return codes


def format_recovery_code(secret: str) -> str:
    """XXXXX-XXXXX: two halves are easier to read out and copy."""
    secret = normalise_code(secret)
    return f"{secret[:5]}-{secret[5:]}"


def regenerate_recovery_codes(user_id: int, code: str) -> list[str]:
    """A new set of recovery codes (the old ones stop working); needs a current app code."""
    user = verify_code(user_id, code)
    codes = _new_recovery_codes(user)
    record_event(
        user.id, "second_factor:recovery_codes_regenerated", object_type="user", object_id=user.id
    )
    commit()
    return codes


# --- Admin ----------------------------------------------------------------------------------


def reset_second_factor(admin_user_id: int, user_id: int, reason: str | None = None) -> User:
    """An admin switches a staff member's second factor off (a lost phone): their sessions
    end, their recovery codes stop, and at the next sign-in they set it up again."""
    admin = _user(admin_user_id)
    if admin.role != "admin":
        raise NotFound("this account does not exist", field="user_id")
    user = db.session.get(User, user_id)
    if user is None or not needs_second_factor(user):
        raise NotFound("this account does not exist", field="user_id")
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.totp_failed_attempts = 0
    user.session_version += 1
    now = utcnow()
    for token in db.session.scalars(_live_recovery_codes(user.id)):
        token.revoked_at = now
    record_event(
        admin.id,
        "second_factor:reset",
        object_type="user",
        object_id=user.id,
        reason=reason or None,
    )
    commit()
    return user


def staff_accounts() -> list[User]:
    """Every staff account, for the admin page, by role and email."""
    return list(
        db.session.scalars(
            select(User).where(User.role.in_(SECOND_FACTOR_ROLES)).order_by(User.role, User.email)
        )
    )


# --- Demo -----------------------------------------------------------------------------------


def current_code(user: User, *, now: float | None = None) -> str:
    """The code the user's app shows now (the demo's `flask demo-code`, and tests)."""
    return _totp(_secret_of(user)).at(_as_datetime(now))
