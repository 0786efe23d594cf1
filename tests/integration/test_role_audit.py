"""Role changes are audited (issue 10, audit): giving an account a professional role — and a
worker the neighbourhoods they may see — writes an append-only `role:grant` event, from the
command line (`flask create-user`, the only way to make staff) as from the service. The event
names the role and the neighbourhoods, not the email. A resident's own registration is not a
role change (it has its own event)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import AuditEvent, User
from mutualaid.services.accounts import create_user
from tests import builders
from tests.casework import CENTRE_CODE, PASSWORD


def _grants() -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "role:grant").order_by(AuditEvent.id)
    ).all()


def test_flask_create_user_audits_the_role_and_the_neighbourhoods(hengelo):
    result = CliRunner().invoke(
        hengelo.cli,
        [
            "create-user",
            "--email",
            "wil.wijkwerker@example.org",
            "--role",
            "worker",
            "--name",
            "Wil",
            "--neighbourhood",
            CENTRE_CODE,
            "--password",
            PASSWORD,
        ],
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "wil.wijkwerker@example.org"))
    [event] = _grants()
    assert event.actor_user_id is None  # the command line
    assert (event.object_type, event.object_id) == ("user", str(user.id))
    assert event.detail == {"role": "worker", "municipality": None, "neighbourhoods": [CENTRE_CODE]}
    assert "wil.wijkwerker" not in json.dumps(event.detail)


def test_every_professional_role_is_audited_with_its_actor_and_residents_are_not(hengelo):
    admin = create_user("beheer@example.org", PASSWORD, "admin", "Beheer")
    create_user(
        "gemeente@example.org",
        PASSWORD,
        "municipality",
        "Gemeente",
        municipality_code="GM0164",
        actor_user_id=admin.id,
    )
    create_user(
        "bewoner@example.org", PASSWORD, "resident", "Bewoner", resident_id=builders.resident().id
    )
    grants = _grants()
    assert [(g.actor_user_id, g.detail["role"]) for g in grants] == [
        (None, "admin"),
        (admin.id, "municipality"),
    ]
    assert grants[1].detail["municipality"] == "GM0164"


def test_a_refused_account_leaves_no_grant(hengelo):
    from mutualaid.errors import Invalid

    try:
        create_user(
            "wil@example.org", PASSWORD, "worker", "Wil", neighbourhood_codes=["BU99999999"]
        )
    except Invalid as exc:
        assert exc.field == "neighbourhoods"
    else:
        raise AssertionError("an unknown neighbourhood must be refused")
    db.session.rollback()
    assert _grants() == []
