"""Deny by default: every route and method declares its access rule where it is defined, and
docs/authorization.md lists every one of them with its rule and object scope.

Regenerate the table after adding a route: `.venv/bin/python -m tests.unit.test_route_rules`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Blueprint

from mutualaid.web.access import PUBLIC, public, roles_required, route_rules, undeclared_routes
from tests.conftest import make_test_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "authorization.md"
BEGIN, END = "<!-- routes:begin -->", "<!-- routes:end -->"
WHO = ("anonymous", "resident", "worker", "municipality", "admin")

STAFF = {("worker", "admin"), ("admin",)}
SIGNED_IN = {("resident", "worker", "municipality", "admin")}
# Each area by path prefix (first match wins): its object scope and the rules its routes may
# declare. A route outside these rules (say a worker page opened to residents) fails a test.
AREAS = (
    ("/api/v1/requests/<int:request_id>/review", "neighbourhoods", STAFF),
    ("/api/v1/what-if", "neighbourhoods", STAFF),
    ("/api/v1/residents", "neighbourhoods", STAFF),
    ("/api/v1/neighbourhoods", "neighbourhoods", STAFF),
    ("/api/v1/follow-up", "neighbourhoods", STAFF),
    ("/api/v1/newly-active", "neighbourhoods", STAFF),
    ("/api/v1/audit", "neighbourhoods", STAFF),
    ("/api/v1/monitoring", "municipality", {("municipality", "admin")}),
    ("/api/v1/auth/tokens", "own", SIGNED_IN),
    ("/api/v1/me/sessions", "own", SIGNED_IN),
    ("/auth/second-factor", "own", {("worker", "municipality", "admin")}),  # staff only
    ("/auth/", "own", SIGNED_IN),  # account security of the signed-in user
    ("/api/v1/", "own", {("resident",)}),
    ("/mijn/", "own", {("resident",)}),
    ("/activeren/klaar", "own", {("resident",)}),
    ("/wijkwerk/", "neighbourhoods", STAFF),
    ("/gemeente/", "municipality", {("municipality", "admin")}),
    ("/admin/", "all", {("admin",)}),
)
# The only routes anyone may call (each reviewed: no personal data without a credential).
PUBLIC_ROUTES = {
    ("/", "GET"),
    ("/activeren", "GET"),
    ("/activeren", "POST"),
    ("/api/v1/activation", "POST"),
    ("/api/v1/auth/password-reset", "POST"),
    ("/api/v1/auth/register", "POST"),
    ("/api/v1/auth/tokens", "POST"),
    ("/api/v1/docs", "GET"),
    ("/api/v1/health", "GET"),
    ("/api/v1/openapi.json", "GET"),
    # The second factor after a right password: nothing without its pending marker.
    ("/auth/code", "GET"),
    ("/auth/code", "POST"),
    ("/auth/code/recovery", "GET"),
    ("/auth/code/recovery", "POST"),
    ("/auth/code/setup", "GET"),
    ("/auth/code/setup", "POST"),
    ("/auth/login", "GET"),
    ("/auth/login", "POST"),
    ("/auth/logout", "POST"),
    ("/auth/password/forgot", "GET"),
    ("/auth/password/forgot", "POST"),
    ("/auth/password/reset/<token>", "GET"),
    ("/auth/password/reset/<token>", "POST"),
    ("/auth/confirm/<token>", "GET"),
    ("/auth/confirm/<token>", "POST"),
    ("/auth/register", "GET"),
    ("/auth/register", "POST"),
    ("/auth/register/check-email", "GET"),
    ("/auth/register/resend", "POST"),
    ("/static/<path:filename>", "GET"),
}
SCOPE_TEXT = {
    "own": "own data (someone else's: 404)",
    "neighbourhoods": "worker: assigned neighbourhoods (others: 403/404); admin: all",
    "municipality": "aggregates of the own municipality (another code: 404); admin: any",
    "all": "everything",
    "none": "no personal data",
}


def scope_of(rule: str, declared) -> str:
    """The object-scope key of a route (public routes carry no personal data)."""
    if declared == PUBLIC:
        return "none"
    return area_of(rule)[1]


def area_of(rule: str) -> tuple:
    """The (prefix, scope, allowed rules) of the area a route belongs to."""
    for area in AREAS:
        if rule.startswith(area[0]):
            return area
    raise LookupError(f"no area for {rule}: add it to AREAS (and docs/authorization.md)")


def render_table(app) -> str:
    """The markdown table of every route: method, path, who may call it, object scope."""
    lines = [
        "| Method | Path | " + " | ".join(WHO) + " | Object scope |",
        "|---|---|" + "---|" * len(WHO) + "---|",
    ]
    for rule, method, _endpoint, declared in route_rules(app):
        allowed = set(WHO) if declared == PUBLIC else set(declared or ())
        marks = " | ".join("yes" if who in allowed else "-" for who in WHO)
        scope = SCOPE_TEXT[scope_of(rule, declared)]
        lines.append(f"| {method} | `{rule}` | {marks} | {scope} |")
    return "\n".join(lines)


def documented_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("routes")
    return make_test_app(f"sqlite:///{folder / 'routes.sqlite'}", None, folder)


def test_every_route_and_method_declares_an_access_rule(plain_app):
    assert undeclared_routes(plain_app) == []
    assert len(route_rules(plain_app)) >= 170


def test_a_new_route_without_a_rule_is_caught(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'x.sqlite'}", None, tmp_path)
    extra = Blueprint("extra", __name__)
    extra.add_url_rule("/forgotten", "forgotten", lambda: "open", methods=["GET", "POST"])
    extra.add_url_rule("/closed", "closed", roles_required("admin")(lambda: "x"))
    extra.add_url_rule("/open", "open", public(lambda: "x"))
    app.register_blueprint(extra)
    assert undeclared_routes(app) == [("/forgotten", "GET"), ("/forgotten", "POST")]


def test_an_unknown_role_is_refused_when_declared():
    with pytest.raises(ValueError):
        roles_required("wizard")
    with pytest.raises(ValueError):
        roles_required()


def test_only_the_reviewed_routes_are_public(plain_app):
    found = {(rule, method) for rule, method, _, declared in route_rules(plain_app)}
    public_ones = {(r, m) for r, m, _, declared in route_rules(plain_app) if declared == PUBLIC}
    assert public_ones == PUBLIC_ROUTES & found


def test_every_route_declares_the_roles_of_its_area(plain_app):
    """Resident pages and operations for residents, worker ones for workers/admins, the
    monitoring for municipality users/admins, the queues for admins."""
    wrong = []
    for rule, method, _endpoint, declared in route_rules(plain_app):
        if declared == PUBLIC:
            continue
        _prefix, _scope, rules = area_of(rule)
        if tuple(declared) not in rules:
            wrong.append((method, rule, declared))
    assert wrong == []


def test_the_authorization_doc_lists_every_route_with_its_rule(plain_app):
    assert documented_table() == render_table(plain_app), (
        "docs/authorization.md is out of date: run .venv/bin/python -m tests.unit.test_route_rules"
    )


def write_doc(app) -> None:
    """Replace the table in docs/authorization.md by the one generated from the routes."""
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{BEGIN}\n{render_table(app)}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    folder = Path(tempfile.mkdtemp())
    write_doc(make_test_app(f"sqlite:///{folder / 'routes.sqlite'}", None, folder))
