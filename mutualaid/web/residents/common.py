"""What the resident pages share: who is signed in, the language, form parsing, error texts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from ...errors import DomainError
from ..access import roles_required
from .blueprint import bp

# Friendly texts for the rules the services enforce, by field (B1 Dutch through the catalogue).
FIELD_MESSAGES = {
    "category": _l("Choose what kind of help."),
    "categories": _l("Choose at least one kind of help."),
    "description": _l("Describe in a few words what you need (at most 2000 characters)."),
    "slots": _l("Choose at least one day-part in the week, or give dates."),
    "window_start": _l("Give a first date (for example 01-12-2026)."),
    "window_end": _l("Give a last date that is not before the first date and not in the past."),
    "urgency": _l("Choose how urgent it is."),
    "contact_channel": _l("Choose how the helper may contact you."),
    "address_line": _l("Give the street and house number."),
    "postcode": _l("Give a postcode like 7551 AB."),
    "lat": _l("We could not find this address. Check it, or ask for help at home."),
    "location": _l("We do not know your address yet. Add your address first."),
    "radius_m": _l("Choose how far you want to travel."),
    "capacity": _l("Choose how many people you can help at the same time."),
    "languages": _l("Choose at least one language."),
    "body": _l("Write a message (at most 2000 characters)."),
    "rating": _l("Choose a rating."),
    "note": _l("Write at most 1000 characters."),
    "offer": _l("First offer help for this kind of help, so we know what you can do and where."),
    "vog": _l("This help needs a recent VOG. A community worker can record yours."),
    "code": _l("This code is not correct or no longer valid."),
}
GENERIC_MESSAGE = _l("Please check this answer.")


def resident_required(view: Callable) -> Callable:
    """Signed in as a resident with a resident record (others: 403, anonymous: sign in)."""

    @roles_required("resident")
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.resident_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def me() -> int:
    """The signed-in resident's id."""
    return current_user.resident_id


def lang() -> str:
    """The page language ("nl" or "en")."""
    return "en" if str(get_locale()) == "en" else "nl"


def errors_from(exc: DomainError) -> dict[str, str]:
    """The field errors of a domain exception, in friendly words."""
    field = exc.field or "form"
    return {field: str(FIELD_MESSAGES.get(field, GENERIC_MESSAGE))}


def ascii_digits(value: str) -> bool:
    """Only 0-9 (str.isdigit() also says yes to "²", which int() refuses)."""
    return value.isascii() and value.isdigit()


def slots_from_form(values: list[str]) -> int:
    """The weekly grid bitmask from the checked slot numbers (0..20); others are ignored."""
    mask = 0
    for value in values:
        if ascii_digits(value) and int(value) < 21:
            mask |= 1 << int(value)
    return mask


def slot_numbers(mask: int | None) -> set[int]:
    """The slot numbers set in a bitmask (to re-check the grid's boxes)."""
    return {b for b in range(21) if (mask or 0) >> b & 1}


def form_int(value: str | None) -> int | str | None:
    """A whole number from a form field, else the text itself (the service names the error)."""
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if ascii_digits(value) else value


STATUS_LABELS = {
    "open": _l("Open"),
    "matched": _l("Helper found"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
    "suggested": _l("Suggested"),
    "invited": _l("Invited"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "active": _l("Active"),
    "paused": _l("Paused"),
}
URGENCY_LABELS = {
    "low": _l("It can wait"),
    "normal": _l("Within a few days"),
    "high": _l("Urgent: today or tomorrow"),
}
CHANNEL_LABELS = {
    "phone": _l("By phone"),
    "message": _l("By message on this website"),
    "video": _l("By video call"),
    "in_person": _l("In person, at the door"),
}
LANGUAGE_LABELS = {
    "nl": _l("Dutch"),
    "en": _l("English"),
    "de": _l("German"),
    "tr": _l("Turkish"),
    "ar": _l("Arabic"),
    "pl": _l("Polish"),
    "uk": _l("Ukrainian"),
    "ti": _l("Tigrinya"),
    "fr": _l("French"),
    "es": _l("Spanish"),
    "so": _l("Somali"),
    "fa": _l("Persian"),
    "ru": _l("Russian"),
}


def endpoint_url(endpoint: str, **values) -> str | None:
    """The URL of an endpoint, or None while another helper's page does not exist yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.context_processor
def resident_page_helpers() -> dict:
    """Labels and helpers every resident template uses."""
    return {
        "status_labels": STATUS_LABELS,
        "urgency_labels": URGENCY_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "language_labels": LANGUAGE_LABELS,
        "endpoint_url": endpoint_url,
    }
