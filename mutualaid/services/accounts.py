"""User accounts: creating them, passwords (argon2) and signing in."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotAuthenticated, NotFound
from ..extensions import db
from ..models import (
    ConsentRecord,
    Neighbourhood,
    Resident,
    SecretToken,
    User,
    WorkerAssignment,
)
from ..models.base import utcnow
from ..models.vocab import ROLES, channel_mask, language_mask
from .addresses import normalise_house_number, normalise_postcode
from .audit import record_event
from .geocoding import mark_home_for_geocoding
from .passwords import check_password_policy
from .tokens import find_live_token, spend_token
from .transactions import commit, flush
from .validation import require_text

_hasher = PasswordHasher()
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Verified against when the email is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return (email or "").strip().lower()


def create_user(
    email: str,
    password: str,
    role: str,
    display_name: str,
    *,
    municipality_code: str | None = None,
    neighbourhood_codes: list[str] = (),
    resident_id: int | None = None,
    commit_now: bool = True,
    email_confirmed: bool = True,
    actor_user_id: int | None = None,
) -> User:
    """Create an account; workers get their neighbourhoods, municipality users their code.

    Accounts an admin or worker makes count as confirmed; a resident registering themselves
    gets `email_confirmed=False` and can sign in only after following the emailed link. A
    professional role is audited (`role:grant`; actor None: the command line)."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise Invalid("email is not a valid address", field="email", rule="email")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role", rule="known")
    check_password_policy(password)
    if not (display_name or "").strip():
        raise Invalid("display_name is required", field="display_name", rule="required")
    if db.session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise Conflict("an account with this email already exists", field="email", rule="unique")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name.strip(),
        municipality_code=municipality_code,
        resident_id=resident_id,
        email_confirmed_at=utcnow() if email_confirmed else None,
    )
    db.session.add(user)
    flush()
    if neighbourhood_codes:
        if role != "worker":
            raise Invalid(
                "only workers are assigned neighbourhoods",
                field="neighbourhoods",
                rule="worker_only",
            )
        found = dict(
            db.session.execute(
                select(Neighbourhood.code, Neighbourhood.id).where(
                    Neighbourhood.code.in_(neighbourhood_codes)
                )
            ).all()
        )
        missing = sorted(set(neighbourhood_codes) - set(found))
        if missing:
            db.session.rollback()
            raise Invalid(
                "unknown neighbourhood code(s): " + ", ".join(missing),
                field="neighbourhoods",
                rule="exists",
            )
        db.session.add_all(
            WorkerAssignment(user_id=user.id, neighbourhood_id=nid) for nid in found.values()
        )
    if role != "resident":
        # A professional role (and a worker's neighbourhoods: what they may see) is a role
        # change: audited like VOG changes, exports and erasures. No email in the event.
        record_event(
            actor_user_id,
            "role:grant",
            object_type="user",
            object_id=user.id,
            detail={
                "role": role,
                "municipality": municipality_code,
                "neighbourhoods": sorted(neighbourhood_codes),
            },
        )
    if commit_now:
        commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The enabled, confirmed user with this email and password; NotAuthenticated otherwise.

    An account whose email address is not confirmed yet gets the same answer as a wrong
    password (after the same slow check), so sign-in does not tell that it exists."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_enabled or user.email_confirmed_at is None:
        raise NotAuthenticated("email or password is not correct", field="password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    commit()
    return user


# --- Residents registering themselves -------------------------------------------------------

PHONE = re.compile(r"^\+?[0-9 ()-]{8,20}$")


def normalise_phone(value: str | None) -> str | None:
    """A phone number of digits (with + ( ) - and spaces allowed); None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    if not PHONE.match(text) or sum(ch.isdigit() for ch in text) < 8:
        raise Invalid("phone is not a valid phone number", field="phone", rule="phone")
    return text


def require_codes(field: str, codes, convert) -> int:
    """A bitmask from a list of vocabulary codes; Invalid naming the field for an unknown one."""
    if isinstance(codes, str) or not isinstance(codes, list | tuple | set):
        raise Invalid(f"{field} must be a list", field=field, rule="list")
    try:
        return convert(codes)
    except ValueError as exc:
        raise Invalid(str(exc), field=field, rule="known") from None


def check_new_password(password: str | None, field: str = "password") -> str:
    """The password when the policy allows it (services/passwords.py); Invalid otherwise."""
    return check_password_policy(password, field)


def email_taken(email: str, *, except_user_id: int | None = None) -> bool:
    query = select(func.count(User.id)).where(User.email == email)
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return bool(db.session.scalar(query))


def register_resident(
    *,
    first_name: str,
    email: str,
    password: str,
    consent: bool,
    phone: str | None = None,
    postcode: str | None = None,
    house_number: str | None = None,
    languages=("nl",),
    channels=("message",),
    email_confirmed: bool = False,
) -> User:
    """Create a resident and their account in one transaction, with consent for matching.

    The account is not usable until its email address is confirmed (`confirm_email`, the
    emailed link); until then nothing else happens for it (no geocoding, no audit event), and
    the retention job removes it after UNCONFIRMED_ACCOUNT_DAYS.

    Every field is checked before anything is stored; the Invalid names the first problem and
    lists them all in `errors`, so a form can show each one at once."""
    checks = {
        "first_name": lambda: require_text("first_name", first_name, max_length=80),
        "email": lambda: _valid_email(email),
        "password": lambda: check_new_password(password),
        "phone": lambda: normalise_phone(phone),
        "address": lambda: _optional_address(postcode, house_number),
        "languages": lambda: require_codes("languages", languages, language_mask) or 1,
        "channels": lambda: require_codes("channels", channels, channel_mask),
        "consent": lambda: _require_consent(consent),
    }
    values, problems = {}, []
    for name, check in checks.items():
        try:
            values[name] = check()
        except Invalid as exc:
            problems.append(exc)
    if problems:
        first = problems[0]
        error = Invalid(
            first.message,
            field=first.field,
            rule=first.rule,
            errors={p.field: [p.message] for p in problems},
        )
        # Each field's rule too, so a form can give the advice that fits (e.g. too common).
        error.rules = {p.field: p.rule for p in problems}
        raise error
    email = values["email"]
    resident = Resident(
        first_name=values["first_name"],
        email=email,
        phone=values["phone"],
        postcode=values["address"][0],
        house_number=values["address"][1],
        language_mask=values["languages"],
        channel_mask=values["channels"],
        self_service=True,
    )
    if email_taken(email):
        # Deliberately short: it does not say whose account it is or what it holds.
        raise Conflict(
            "this email address cannot be used to register; sign in or reset your password",
            field="email",
            rule="unique",
        )
    db.session.add(resident)
    flush()
    user = create_user(
        email,
        password,
        "resident",
        resident.first_name,
        resident_id=resident.id,
        commit_now=False,
        email_confirmed=False,
    )
    db.session.add(ConsentRecord(resident_id=resident.id, purpose="matching", method="online"))
    if email_confirmed:
        mark_email_confirmed(user)
    commit()
    return user


def mark_email_confirmed(user: User) -> bool:
    """Within the caller's transaction: the owner showed the address is theirs (they followed a
    link sent to it). The registration's waiting work starts now: the audit event, and the
    address becomes a point in a background job once this commits. False if it already was."""
    if user.email_confirmed_at is not None:
        return False
    user.email_confirmed_at = utcnow()
    if user.role == "resident" and user.resident is not None:
        record_event(user.id, "register:resident", subject_resident_id=user.resident_id)
        mark_home_for_geocoding(user.resident)
    return True


def _valid_email(value: str) -> str:
    email = normalise_email(value)
    if not EMAIL.match(email) or len(email) > 254:
        raise Invalid("email is not a valid address", field="email", rule="email")
    return email


def _require_consent(consent: bool) -> bool:
    if consent is not True:
        raise Invalid(
            "consent to use your data for matching is required", field="consent", rule="required"
        )
    return True


def _optional_address(postcode, house_number) -> tuple[str | None, str | None]:
    """Postcode and house number, both or neither (the location page can add them later)."""
    postcode = (postcode or "").strip() if isinstance(postcode, str | None) else postcode
    house_number = (
        (house_number or "").strip() if isinstance(house_number, str | None) else house_number
    )
    if not postcode and not house_number:
        return None, None
    if not postcode:
        raise Invalid("postcode is required with a house number", field="postcode", rule="required")
    if not house_number:
        raise Invalid(
            "house_number is required with a postcode", field="house_number", rule="required"
        )
    return normalise_postcode(postcode), normalise_house_number(house_number)


def verify_password(user_id: int, password: str, field: str = "password") -> User:
    """The enabled account when the password is its own; Invalid naming `field` otherwise."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_enabled:
        raise NotFound("this account does not exist", field="user_id")
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        raise Invalid("the password is not correct", field=field, rule="correct") from None
    return user


def change_password(user_id: int, current_password: str, new_password: str) -> User:
    """Set a new password after checking the current one; other sessions stop counting."""
    user = verify_password(user_id, current_password, "current_password")
    user.password_hash = hash_password(check_new_password(new_password, "new_password"))
    user.session_version += 1
    record_event(user.id, "password:change", subject_resident_id=user.resident_id)
    commit()
    return user


def sign_out_everywhere(user_id: int) -> int:
    """End every session of this account and revoke all its API tokens; how many tokens."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("this account does not exist", field="user_id")
    # The user loader compares this with the version the session was started with.
    user.session_version += 1
    now = utcnow()
    tokens = db.session.scalars(
        select(SecretToken).where(
            SecretToken.user_id == user.id,
            SecretToken.purpose == "api",
            SecretToken.revoked_at.is_(None),
        )
    ).all()
    for token in tokens:
        token.revoked_at = now
    record_event(user.id, "sessions:revoke", subject_resident_id=user.resident_id)
    commit()
    return len(tokens)


# --- Password reset -------------------------------------------------------------------------


def check_reset_token(secret: str) -> None:
    """Invalid (field `token`) when the reset link is unknown, used or expired."""
    _live_reset_token(secret)


def _live_reset_token(secret: str):
    try:
        return find_live_token("password_reset", secret or "")
    except Invalid:
        raise Invalid(
            "this reset link is not valid (any more); ask for a new one",
            field="token",
            rule="valid",
        ) from None


def reset_password(secret: str, new_password: str) -> User:
    """Set a new password with a reset link; the link and older sessions stop working."""
    token = _live_reset_token(secret)
    user = db.session.get(User, token.user_id)
    if user is None or not user.is_enabled:
        raise Invalid(
            "this reset link is not valid (any more); ask for a new one",
            field="token",
            rule="valid",
        )
    user.password_hash = hash_password(check_new_password(new_password))
    user.session_version += 1
    # The link came by email: following it confirms the address too.
    mark_email_confirmed(user)
    now = utcnow()
    # Every other reset link of this account is spent too: only the newest use counts.
    for other in db.session.scalars(
        select(SecretToken).where(
            SecretToken.user_id == user.id,
            SecretToken.purpose == "password_reset",
            SecretToken.used_at.is_(None),
        )
    ):
        other.used_at = now
    spend_token(token)
    record_event(user.id, "password:reset", subject_resident_id=user.resident_id)
    commit()
    return user
