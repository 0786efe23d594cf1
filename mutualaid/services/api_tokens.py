"""API tokens a person makes for an app or script: create (the secret is shown once), list,
revoke. Only a hash is stored (services/tokens.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from ..errors import Conflict, NotAuthenticated, NotFound
from ..extensions import db
from ..models import SecretToken, User
from ..models.base import utcnow
from .accounts import authenticate
from .audit import record_event
from .second_factor import is_enrolled, needs_second_factor, verify_second_factor
from .tokens import issue_token
from .transactions import commit
from .validation import require_text

WRONG_PASSWORD = "email or password is not correct"  # as services/accounts.authenticate
# A person rarely needs many: a cap stops a script from filling the table.
MAX_LIVE_TOKENS = 20


def _live_tokens(user_id: int):
    return select(SecretToken).where(
        SecretToken.user_id == user_id,
        SecretToken.purpose == "api",
        SecretToken.revoked_at.is_(None),
    )


def create_api_token(user_id: int, label: str) -> tuple[SecretToken, str]:
    """A new API token for this account, with its secret (shown only now)."""
    label = require_text("label", label, max_length=80)
    user = db.session.get(User, user_id)
    if user is None or not user.is_enabled:
        raise NotFound("this account does not exist", field="user_id")
    live = db.session.scalar(select(func.count()).select_from(_live_tokens(user_id).subquery()))
    if live >= MAX_LIVE_TOKENS:
        raise Conflict(
            f"you already have {MAX_LIVE_TOKENS} tokens; revoke one first",
            field="label",
            rule="max_tokens",
        )
    token, secret = issue_token("api", user_id=user_id, resident_id=user.resident_id, label=label)
    record_event(user_id, "api_token:create", object_type="secret_token", object_id=token.id)
    commit()
    return token, secret


def create_api_token_with_password(
    email: str, password: str, label: str, otp: str | None = None
) -> tuple:
    """Sign in with email and password and get a new API token (for apps and scripts).

    Staff accounts also need `otp`: a current code from their app or a recovery code. A
    missing or wrong one gets the very answer of a wrong password (nothing tells an account
    is staff)."""
    label = require_text("label", label, max_length=80)
    user = authenticate(email, password)
    if needs_second_factor(user):
        try:
            if not otp or not is_enrolled(user):
                raise NotAuthenticated(WRONG_PASSWORD, field="password")
            verify_second_factor(user.id, otp)
        except NotAuthenticated:
            raise NotAuthenticated(WRONG_PASSWORD, field="password") from None
    return create_api_token(user.id, label)


def list_api_tokens(user_id: int, *, page: int = 1, per_page: int = 50) -> tuple[list, int]:
    """This account's tokens that still work, newest first, with the total (never secrets)."""
    query = _live_tokens(user_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(SecretToken.created_at.desc(), SecretToken.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def revoke_api_token(user_id: int, token_id: int) -> SecretToken:
    """Revoke one of this account's API tokens; someone else's (or unknown) is NotFound."""
    token = db.session.get(SecretToken, token_id)
    if token is None or token.purpose != "api" or token.user_id != user_id:
        raise NotFound(f"token {token_id} does not exist", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event(user_id, "api_token:revoke", object_type="secret_token", object_id=token.id)
        commit()
    return token
