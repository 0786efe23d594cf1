"""The password policy (length, not composition; common passwords refused) wherever a password
is chosen: registration, reset, change, activation with a handover code, and `create-user`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mutualaid.errors import Invalid
from mutualaid.extensions import db
from mutualaid.models import User
from mutualaid.services.accounts import (
    authenticate,
    change_password,
    create_user,
    register_resident,
    reset_password,
)
from mutualaid.services.demo import DEMO_PASSWORD
from mutualaid.services.handover import activate_account, issue_handover_code
from mutualaid.services.intake import register_resident as register_on_behalf
from mutualaid.services.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    common_passwords,
    is_common_password,
)
from mutualaid.services.tokens import issue_token
from tests.casework import CENTRE_CODE, staff

GOOD = "een-lang-wachtwoord"
# On the bundled list and long enough, so only the common-password rule refuses them.
COMMON = ("qwertyuiop", "1234567890", "password123", "Manchester")


def register(password: str) -> User:
    return register_resident(
        first_name="Anna",
        email="anna@example.org",
        password=password,
        consent=True,
        email_confirmed=True,  # as if the mailed link was followed
    )


def users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_bundled_list_holds_the_most_common_passwords():
    listed = common_passwords()
    assert len(listed) >= 10_000
    assert {"123456", "password", "qwerty", "qwertyuiop"} <= listed


@pytest.mark.parametrize("password", [DEMO_PASSWORD, GOOD, "x" * MAX_PASSWORD_LENGTH, "ā" * 10])
def test_long_uncommon_passwords_pass_without_composition_rules(password):
    assert check_password_policy(password) == password


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("kort", "min_length"),
        ("123456789", "min_length"),
        (None, "min_length"),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "max_length"),
        *[(p, "common") for p in COMMON],
        (" QWERTYUIOP ", "common"),
    ],
)
def test_refused_passwords_name_the_field_and_the_rule(password, rule):
    with pytest.raises(Invalid) as caught:
        check_password_policy(password)
    assert (caught.value.field, caught.value.rule) == ("password", rule)


def test_case_and_spaces_do_not_hide_a_common_password():
    assert is_common_password("QwertyUIOP")
    assert not is_common_password(DEMO_PASSWORD)


@pytest.mark.parametrize("password", COMMON)
def test_registration_refuses_a_common_password_and_stores_nothing(app_ctx, password):
    with pytest.raises(Invalid) as caught:
        register(password)
    assert (caught.value.field, caught.value.rule) == ("password", "common")
    assert users() == 0


def test_registration_lists_each_rule_beside_its_field(app_ctx):
    with pytest.raises(Invalid) as caught:
        register_resident(
            first_name="", email="anna@example.org", password="qwertyuiop", consent=True
        )
    assert caught.value.rules == {"first_name": "required", "password": "common"}


def test_password_change_refuses_a_common_new_password(app_ctx):
    user = register(GOOD)
    with pytest.raises(Invalid) as caught:
        change_password(user.id, GOOD, "1234567890")
    assert (caught.value.field, caught.value.rule) == ("new_password", "common")
    assert authenticate("anna@example.org", GOOD).id == user.id


def test_password_reset_refuses_a_common_password_and_keeps_the_link(app_ctx):
    user = register(GOOD)
    _token, secret = issue_token("password_reset", user_id=user.id, valid_for=timedelta(hours=1))
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        reset_password(secret, "password123")
    assert (caught.value.field, caught.value.rule) == ("password", "common")
    assert reset_password(secret, "een-ander-lang-wachtwoord").id == user.id


def test_create_user_refuses_common_and_overlong_passwords(app_ctx):
    for password, rule in (("qwertyuiop", "common"), ("y" * 201, "max_length")):
        with pytest.raises(Invalid) as caught:
            create_user("staff@example.org", password, "admin", "Beheer")
        assert (caught.value.field, caught.value.rule) == ("password", rule)
    assert users() == 0


def test_activation_with_a_handover_code_refuses_a_common_password(hengelo):
    from mutualaid.services.demo import ensure_categories

    ensure_categories()
    worker = staff()
    gerda = register_on_behalf(
        worker.id,
        first_name="Gerda",
        postcode="7551 ab",
        house_number="12",
        neighbourhood=CENTRE_CODE,
        consent_method="phone",
    )
    code = issue_handover_code(worker.id, gerda.id)["code"]
    with pytest.raises(Invalid) as caught:
        activate_account(code, "gerda@example.org", "1q2w3e4r5t")
    assert (caught.value.field, caught.value.rule) == ("password", "common")
    # The code is not spent by the refusal.
    assert activate_account(code, "gerda@example.org", GOOD).resident_id == gerda.id


def test_create_user_command_refuses_a_common_password(app_ctx):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "beheer@example.org",
            "--role",
            "admin",
            "--name",
            "Beheer",
        ],
        input="qwertyuiop\nqwertyuiop\n",
    )
    assert result.exit_code != 0
    assert "password" in result.output
    assert users() == 0


def test_common_password_error_reaches_the_registration_page(client):
    response = client.post(
        "/auth/register",
        data={
            "first_name": "Anna",
            "email": "anna@example.org",
            "password": "qwertyuiop",
            "consent": "yes",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#password"' in html
    assert "wachtwoord gebruiken heel veel mensen" in html


def test_common_password_through_the_api_names_the_field(client):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "first_name": "Anna",
            "email": "anna@example.org",
            "password": "password123",
            "consent": True,
        },
    )
    assert response.status_code == 422
    assert (response.json["field"], response.json["rule"]) == ("password", "common")
