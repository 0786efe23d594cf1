"""User accounts: creating them, passwords (argon2) and signing in."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotAuthenticated
from ..extensions import db
from ..models import Neighbourhood, User, WorkerAssignment
from ..models.base import utcnow
from ..models.vocab import ROLES
from .transactions import commit, flush

_hasher = PasswordHasher()
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
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
) -> User:
    """Create an account; workers get their neighbourhoods, municipality users their code."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise Invalid("email is not a valid address", field="email", rule="email")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role", rule="known")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
            rule="min_length",
        )
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
    if commit_now:
        commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The enabled user with this email and password; NotAuthenticated otherwise."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_enabled:
        raise NotAuthenticated("email or password is not correct", field="password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    commit()
    return user
