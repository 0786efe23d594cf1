"""Who may call an API operation: a Bearer token (or a signed-in browser session for reads),
and a role. Declared on each operation: `@api_access("resident")`, or `@public` (re-exported
from `web.access`, the one access layer) for the few operations anyone may call.

Object scopes (own data, assigned neighbourhoods, own municipality) are checked in the
services, which take the actor's id and raise NotFound/NotAllowed.
"""

from __future__ import annotations

from functools import wraps

from flask import request
from flask_login import current_user

from ..errors import NotAllowed, NotAuthenticated
from ..models import User
from ..services.tokens import user_for_api_token
from ..web.access import ROLES, public

__all__ = ["api_access", "api_resident_id", "api_user", "public"]

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_CACHE_KEY = "mutualaid.api_user"


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def api_user() -> User:
    """The caller: from the Bearer token, else (reads only) the browser session."""
    # Cached per request (in its WSGI environ, not in `g`: an app context, and so `g`, can
    # outlive one request, e.g. in tests, and the next request may carry another token).
    cached = request.environ.get(_CACHE_KEY)
    if cached is not None:
        return cached
    secret = _bearer()
    if secret is not None:
        user = user_for_api_token(secret)
    elif request.method in SAFE_METHODS and current_user.is_authenticated:
        # A session cookie may read (the docs page, the map); changes need a token, so a
        # cross-site form can never change anything through the API.
        user = current_user._get_current_object()
    else:
        raise NotAuthenticated(
            "sign in with an API token (Authorization: Bearer …)", rule="bearer_token"
        )
    request.environ[_CACHE_KEY] = user
    return user


def api_access(*roles: str):
    """Only callers with one of these roles (401 without credentials, 403 with another role)."""

    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"api_access needs known roles, not {sorted(unknown) or 'none'}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = api_user()
            if user.role not in roles:
                raise NotAllowed("your role may not do this", rule="role")
            return view(*args, **kwargs)

        wrapped.access_rule = roles  # read by web.access.route_rules
        wrapped.access_roles = roles
        return wrapped

    return decorator


def api_resident_id() -> int:
    """The calling resident's id (a resident account always has one)."""
    user = api_user()
    if user.resident_id is None:
        raise NotAllowed("this account has no resident profile", rule="resident")
    return user.resident_id
