"""Friendly words for the account pages' errors (register, password, profile, tokens)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..errors import DomainError

# (field, rule) first, then the field alone: the rule says which advice helps.
MESSAGES = {
    ("email", "unique"): _l(
        "This email address cannot be used. Do you already have an account? "
        "Sign in or choose a new password."
    ),
    ("password", "common"): _l(
        "This password is used by very many people, so it is easy to guess. Choose another one."
    ),
    ("new_password", "common"): _l(
        "This password is used by very many people, so it is easy to guess. Choose another one."
    ),
    ("password", "max_length"): _l("Choose a password of at most 200 characters."),
    ("new_password", "max_length"): _l("Choose a password of at most 200 characters."),
    "email": _l("Give an email address like name@example.nl."),
    "first_name": _l("Give your first name."),
    "last_name": _l("Your last name can have at most 120 characters."),
    "password": _l("Choose a password of at least 10 characters."),
    "new_password": _l("Choose a password of at least 10 characters."),
    "password_confirm": _l("The two passwords are not the same."),
    "current_password": _l("This is not your current password."),
    "phone": _l("Give a phone number with digits, like 06 12345678."),
    "postcode": _l("Give a postcode like 7551 AB."),
    "house_number": _l("Give a house number, like 12 or 12a."),
    "languages": _l("Choose at least one language."),
    "channels": _l("Choose how others may contact you."),
    "consent": _l("You can only take part if you agree. Tick the box."),
    "token": _l("This link is not valid any more. Ask for a new link."),
    "label": _l("Give the token a name of at most 80 characters."),
    "confirm": _l("Tick the box to confirm."),
}
GENERIC = _l("Please check this answer.")


def password_advice(rule: str | None, field: str = "password") -> str:
    """What to do about a refused password: too short, too long or too common."""
    return _message(field, rule)


def _message(field: str, rule: str | None) -> str:
    return str(MESSAGES.get((field, rule)) or MESSAGES.get(field) or GENERIC)


def account_errors(exc: DomainError) -> dict[str, str]:
    """{field: friendly message} for a domain error on an account form, every field it names
    (in the order the service checked them)."""
    fields = list(exc.errors) or [exc.field or "form"]
    rules = {**getattr(exc, "rules", {}), exc.field: exc.rule}
    return {field: _message(field, rules.get(field)) for field in fields}
