"""The one access layer: every route declares who may call it, where the route is defined.

Deny by default: a view carries either a role rule (`@roles_required("worker", "admin")` for
pages, `@api_access(...)` for API operations) or an explicit `@public`. `undeclared_routes(app)`
lists every route and method without one; a test fails on any (tests/unit/test_route_rules.py).
Object scopes (own data, assigned neighbourhoods, own municipality) are checked in the services,
which take the actor's id and raise NotFound (404) or NotAllowed (403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort
from flask_login import current_user, login_required

from ..models.vocab import ROLES

PUBLIC = "public"
__all__ = ["PUBLIC", "ROLES", "public", "roles_required", "route_rules", "undeclared_routes"]
# Framework routes we do not define ourselves; public by nature (bundled files, the API spec).
FRAMEWORK_PUBLIC = {
    "static": "bundled CSS, JavaScript and images",
    "api-docs.openapi_json": "the OpenAPI document of the API",
}
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def public(view: Callable) -> Callable:
    """Anyone may call this route, signed in or not (home, sign-in, register, health...)."""
    view.access_rule = PUBLIC
    return view


def roles_required(*roles: str):
    """Only signed-in users with one of these roles; others get 403 (anonymous: to sign in)."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"roles_required needs known roles, not {sorted(unknown) or 'none'}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = roles
        wrapped.access_roles = roles  # kept: older tests read this name
        return wrapped

    return decorator


def declared_rule(view: Callable | None) -> str | tuple[str, ...] | None:
    """The rule a view function declares: PUBLIC, a tuple of roles, or None (undeclared)."""
    return getattr(view, "access_rule", None)


def route_rules(app: Flask) -> list[tuple[str, str, str, str | tuple[str, ...] | None]]:
    """(url rule, method, endpoint, declared rule) for every route and method of the app."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - IMPLICIT_METHODS):
            if rule.endpoint in FRAMEWORK_PUBLIC:
                declared = PUBLIC
            elif view_class is not None:  # a MethodView: each method declares its own rule
                declared = declared_rule(getattr(view_class, method.lower(), None))
            else:
                declared = declared_rule(view)
            found.append((rule.rule, method, rule.endpoint, declared))
    return sorted(found)


def undeclared_routes(app: Flask) -> list[tuple[str, str]]:
    """Every (url rule, method) that declares no access rule: each one is a defect."""
    return [(rule, method) for rule, method, _, declared in route_rules(app) if declared is None]
