"""A resident's own profile: names, phone, languages, contact channels, email address."""

from __future__ import annotations

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Resident, User
from ..models.vocab import channel_mask, language_mask
from .accounts import EMAIL, email_taken, normalise_email, normalise_phone, require_codes
from .transactions import commit
from .validation import require_text


def update_profile(resident_id: int, values: dict) -> Resident:
    """Change one's own names, phone, languages, contact channels or email address."""
    allowed = ("first_name", "last_name", "phone", "languages", "channels", "email")
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}", field=unknown[0], rule="unknown")
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None:
        raise NotFound("this resident does not exist", field="resident_id")
    user = resident.account
    if "first_name" in values:
        resident.first_name = require_text("first_name", values["first_name"], max_length=80)
        if user is not None:
            user.display_name = resident.first_name
    if "last_name" in values:
        resident.last_name = (
            require_text("last_name", values["last_name"], max_length=120, required=False) or None
        )
    if "phone" in values:
        resident.phone = normalise_phone(values["phone"])
    if "languages" in values:
        mask = require_codes("languages", values["languages"], language_mask)
        if not mask:
            raise Invalid("choose at least one language", field="languages", rule="required")
        resident.language_mask = mask
    if "channels" in values:
        resident.channel_mask = require_codes("channels", values["channels"], channel_mask)
    if "email" in values:
        _change_email(resident, user, values["email"])
    commit()
    return resident


def _change_email(resident: Resident, user: User | None, value: str) -> None:
    email = normalise_email(value)
    if not EMAIL.match(email) or len(email) > 254:
        raise Invalid("email is not a valid address", field="email", rule="email")
    if email_taken(email, except_user_id=user.id if user else None):
        raise Conflict("this email address cannot be used", field="email", rule="unique")
    resident.email = email
    if user is not None:
        user.email = email
