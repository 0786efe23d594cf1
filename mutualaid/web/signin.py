"""Starting a session, and the step between password and session for staff.

A resident is signed in after the password. A staff member (worker, municipality, admin) is
not: the password only leaves a pending marker in the session (whose account, which
session_version, since when), and `begin_session(user, second_factor=True)` follows only after
a right code from the authenticator app (or a recovery code). The user loader (app factory)
refuses a staff session without that mark, so no other path to a staff session exists.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, session, url_for
from flask_login import login_user

from ..extensions import db
from ..models import User
from ..services.second_factor import MAX_FAILED_CODES, needs_second_factor

PENDING = "second_factor_pending"
# Set in a session that began after a second factor (the user loader checks it for staff).
PASSED = "second_factor"


def safe_next(target: str | None) -> str:
    """Only redirect to a path on this site (no open redirects)."""
    if target and not urlsplit(target).netloc and target.startswith("/") and "\\" not in target:
        return target
    return url_for("main.home")


def _fresh_session() -> None:
    """Nothing from before carries over (session fixation), except the chosen language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def begin_session(user: User, *, second_factor: bool = False) -> None:
    """Sign in on a fresh session. Staff only after their second factor."""
    if needs_second_factor(user) and not second_factor:
        raise RuntimeError("a staff session begins only after the second factor")
    _fresh_session()
    login_user(user)
    if second_factor:
        session[PASSED] = int(time.time())


def start_pending(user: User, next_url: str | None) -> None:
    """The password was right: remember whose code we wait for (on a fresh session)."""
    _fresh_session()
    session[PENDING] = {
        "user_id": user.id,
        "session_version": user.session_version,
        "started": int(time.time()),
        "failures": user.totp_failed_attempts or 0,
        "next": safe_next(next_url),
    }


def end_pending() -> None:
    session.pop(PENDING, None)


def pending_next() -> str:
    return (session.get(PENDING) or {}).get("next") or url_for("main.home")


def pending_user() -> User | None:
    """The account whose code we wait for; None (and the marker gone) when there is none, it
    is older than SECOND_FACTOR_PENDING_SECONDS, too many codes were wrong since it began, or
    the account changed (disabled, password reset, signed out everywhere)."""
    marker = session.get(PENDING)
    if not isinstance(marker, dict):
        return None
    limit = current_app.config.get("SECOND_FACTOR_PENDING_SECONDS", 300)
    user = db.session.get(User, marker.get("user_id") or 0)
    if (
        user is None
        or not user.is_enabled
        or not needs_second_factor(user)
        or user.session_version != marker.get("session_version")
        or time.time() - marker.get("started", 0) > limit
        or too_many_failures(user, marker)
    ):
        end_pending()
        return None
    return user


def too_many_failures(user: User, marker: dict | None = None) -> bool:
    """Whether this pending sign-in has seen MAX_FAILED_CODES wrong codes. Counted in the
    database, so an older copy of the session cookie does not bring attempts back."""
    marker = marker or session.get(PENDING) or {}
    return (user.totp_failed_attempts or 0) - marker.get("failures", 0) >= MAX_FAILED_CODES


def pending_key() -> str:
    """Rate-limit key of the code step: the account waited for (else the client address)."""
    from flask_limiter.util import get_remote_address

    marker = session.get(PENDING)
    if isinstance(marker, dict) and marker.get("user_id"):
        return f"second-factor:{marker['user_id']}"
    return get_remote_address()
