"""schemathesis over /api/v1/openapi.json: every operation, called through the Flask app (WSGI,
no network) as a resident, a community worker and a municipality user on a small seeded town.
No answer may be a 5xx, and every answer must be a documented status with a body that fits its
documented schema."""

from __future__ import annotations

import tempfile
from contextlib import suppress
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from mutualaid.errors import NotAuthenticated, NotFound
from mutualaid.extensions import db
from mutualaid.models import User
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.demo import seed_demo
from mutualaid.services.neighbourhoods import import_neighbourhoods
from mutualaid.services.tokens import user_for_api_token
from tests.conftest import BUNDLED_GEOJSON, _empty_all_tables, make_test_app

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ("resident", "worker", "municipality")
CASES = {"operations": set(), "calls": 0}


def _spec_app():
    """An app only to read the OpenAPI document at import (each call names the test app)."""
    folder = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    return make_test_app(f"sqlite:///{folder / 'spec.sqlite'}", "redis://127.0.0.1:1/0", folder)


# Loaded at import, so each operation is its own pytest item (schemathesis' lazy fixture loader
# does not work with pytest 9).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _spec_app())
MOST = schema.exclude(method="DELETE", path="/api/v1/me")
ERASE = schema.include(method="DELETE", path="/api/v1/me")


@pytest.fixture(scope="module")
def world(app):
    """A seeded small town; the three callers' (user id, Bearer secret), renewed when revoked."""
    with app.app_context():
        import_neighbourhoods(BUNDLED_GEOJSON)
        result = seed_demo(seed=11, residents=30)
        emails = {}
        for role, email in result.logins:
            emails.setdefault(role.split(" ")[0], email)
        callers = {}
        for role in ROLES:
            user = db.session.query(User).filter_by(email=emails[role]).one()
            callers[role] = [user.id, create_api_token(user.id, "schemathesis")[1]]
        db.session.remove()
    yield callers
    with app.app_context():
        _empty_all_tables()
        db.session.remove()
    print(
        f"\nschemathesis: {CASES['calls']} calls over {len(CASES['operations'])} operations "
        f"({len(ROLES)} roles each case)"
    )


def _live_headers(app, callers: dict, role: str) -> dict:
    """The role's Bearer header; a new token when a generated call revoked the old one."""
    user_id, secret = callers[role]
    with app.app_context():
        try:
            user_for_api_token(secret)
        except NotAuthenticated:
            with suppress(NotFound):  # erased by DELETE /me: the stale token gets its 401
                callers[role][1] = secret = create_api_token(user_id, "schemathesis")[1]
        db.session.remove()
    return {"Authorization": f"Bearer {secret}"}


@MOST.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_within_its_documented_schema(case, app, world):
    CASES["operations"].add(case.operation.label)
    for role in ROLES:
        response = case.call(app=app, headers=_live_headers(app, world, role))
        CASES["calls"] += 1
        case.validate_response(response, checks=CHECKS)
        if response.status_code in (400, 422):  # bad input always names what was wrong
            assert response.json().get("field"), response.text


@ERASE.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_erasing_my_account_answers_within_its_documented_schema(case, app, world):
    # Last: it erases the callers' accounts, so it runs after every other operation.
    CASES["operations"].add(case.operation.label)
    for role in ROLES:
        response = case.call(app=app, headers=_live_headers(app, world, role))
        CASES["calls"] += 1
        case.validate_response(response, checks=CHECKS)
