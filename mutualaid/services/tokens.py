"""Secret tokens: issue, check and spend them (password reset, API, activation, invitation).

The secret is shown once to whoever asked for it; only its sha256 is stored. Checks compare
hashes, so a lookup by hash is a constant-time equality on random data.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..errors import Invalid, NotAuthenticated
from ..extensions import db
from ..models import SecretToken, User
from ..models.base import utcnow
from ..models.vocab import TOKEN_PURPOSES
from .transactions import commit, flush

# API tokens carry a readable prefix so a leaked one is recognisable in a scanner or log.
API_TOKEN_PREFIX = "ma_"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Codes people copy from paper or a screen: short, no look-alikes, spaces/dashes/case ignored.
READABLE_CODES = ("activation", "tie_invite", "recovery")


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256((secret or "").encode()).hexdigest()


def new_secret(purpose: str) -> str:
    """A fresh random secret: long for links and API tokens, short and readable for codes."""
    if purpose == "api":
        return API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    if purpose in READABLE_CODES:
        # 10 characters from an alphabet without look-alikes (0/O, 1/I/L): easy on paper.
        alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
        return "".join(secrets.choice(alphabet) for _ in range(10))
    return secrets.token_urlsafe(32)


def normalise_code(code: str) -> str:
    """Codes typed by people: ignore spaces, dashes and case."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def issue_token(
    purpose: str,
    *,
    user_id: int | None = None,
    resident_id: int | None = None,
    valid_for: timedelta | None = None,
    label: str | None = None,
    created_by_user_id: int | None = None,
) -> tuple[SecretToken, str]:
    """Store a new token (not committed) and return it with its secret, shown only now."""
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    secret = new_secret(purpose)
    stored = normalise_code(secret) if purpose in READABLE_CODES else secret
    token = SecretToken(
        purpose=purpose,
        token_hash=hash_secret(stored),
        user_id=user_id,
        resident_id=resident_id,
        label=label,
        created_by_user_id=created_by_user_id,
        expires_at=utcnow() + valid_for if valid_for else None,
    )
    db.session.add(token)
    flush()
    return token, secret


def find_live_token(
    purpose: str, secret: str, *, now: datetime | None = None, with_user: bool = False
) -> SecretToken:
    """The unexpired, unused, unrevoked token with this secret; Invalid otherwise.
    `with_user`: its account is loaded in the same statement (`token.user`).

    The message never says which of those was the reason, nor whose token it was.
    """
    now = now or utcnow()
    stored = normalise_code(secret) if purpose in READABLE_CODES else secret
    statement = select(SecretToken).where(
        SecretToken.token_hash == hash_secret(stored), SecretToken.purpose == purpose
    )
    if with_user:
        statement = statement.options(joinedload(SecretToken.user))
    token = db.session.scalar(statement)
    if (
        token is None
        or token.used_at is not None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        raise Invalid("this code or link is not valid (any more)", field="code", rule="valid")
    return token


def spend_token(token: SecretToken) -> None:
    """Mark a single-use token as used (not committed)."""
    token.used_at = utcnow()


def user_for_api_token(secret: str) -> User:
    """The enabled user an API bearer token belongs to (its last use recorded); else 401."""
    if not secret or not secret.startswith(API_TOKEN_PREFIX):
        raise NotAuthenticated("a valid API token is required", rule="bearer_token")
    try:
        token = find_live_token("api", secret, with_user=True)  # one statement per API call
    except Invalid:
        raise NotAuthenticated(
            "the API token is unknown, expired or revoked", rule="bearer_token"
        ) from None
    user = token.user if token.user_id else None
    if user is None or not user.is_enabled:
        raise NotAuthenticated("the API token is unknown, expired or revoked", rule="bearer_token")
    now = utcnow()
    # Recorded at most once a minute: a write and commit on every API call would cost more
    # than the call itself (and expire everything the session had loaded).
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        commit()
    return user
