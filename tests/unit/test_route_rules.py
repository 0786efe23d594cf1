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

# The object scope of each area, by path prefix (first match wins).
SCOPES = (
    ("/api/v1/requests/<int:request_id>/review", "neighbourhoods"),
    ("/api/v1/what-if", "neighbourhoods"),
    ("/api/v1/residents", "neighbourhoods"),
    ("/api/v1/neighbourhoods", "neighbourhoods"),
    ("/api/v1/follow-up", "neighbourhoods"),
    ("/api/v1/newly-active", "neighbourhoods"),
    ("/api/v1/audit", "neighbourhoods"),
    ("/api/v1/monitoring", "municipality"),
    ("/api/v1/auth/tokens", "own"),
    ("/api/v1/", "own"),
    ("/mijn/", "own"),
    ("/activeren/klaar", "own"),
    ("/auth/sessions/revoke", "own"),
    ("/wijkwerk/", "neighbourhoods"),
    ("/gemeente/", "municipality"),
    ("/admin/", "all"),
)
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
    for prefix, scope in SCOPES:
        if rule.startswith(prefix):
            return scope
    raise LookupError(f"no object scope for {rule}: add its area to SCOPES")


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


def test_every_api_route_answers_with_json_rules_and_pages_with_roles(plain_app):
    """Role rules only name real roles; every route has an object scope in the docs."""
    for rule, _method, _endpoint, declared in route_rules(plain_app):
        assert declared == PUBLIC or set(declared) <= set(WHO[1:]), rule
        scope_of(rule, declared)


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
