"""Fixed vocabularies of the domain: statuses, roles, languages, contact channels, categories.

Languages and channels are stored as small bitmasks (the engine compares them with a bitwise
AND); the order of each tuple below is therefore part of the stored format: append, never
reorder.
"""

from __future__ import annotations

from collections.abc import Iterable

ROLES = ("resident", "worker", "municipality", "admin")
# Roles that see other people's personal data: they sign in with a second factor (TOTP).
SECOND_FACTOR_ROLES = ("worker", "municipality", "admin")

REQUEST_STATUSES = ("open", "matched", "done", "cancelled", "expired")
OPEN_REQUEST_STATUSES = ("open",)
URGENCIES = ("low", "normal", "high")

MATCH_STATUSES = ("suggested", "invited", "accepted", "done", "declined", "cancelled", "expired")
# Matches that hold a helper's capacity.
ACTIVE_MATCH_STATUSES = ("invited", "accepted")
MATCH_PROPOSERS = ("engine", "resident", "worker")
# Who asked the other side to say yes on an invited match: the requester invited a helper, a
# helper offered to help with a request, a worker proposed it, or the service invited in waves.
INVITERS = ("requester", "helper", "worker", "service")
# Where a resident's or request's point came from.
LOCATION_SOURCES = ("geocoder", "map", "postcode_area", "worker", "demo")
GEOCODE_STATUSES = ("pending", "found", "not_found", "unavailable")
# Single-use or revocable secrets, stored only as a hash.
# "recovery": a staff member's single-use second-factor recovery codes; "confirm_email": the
# link that confirms a new account's email address.
TOKEN_PURPOSES = (
    "password_reset",
    "api",
    "activation",
    "tie_invite",
    "export",
    "recovery",
    "confirm_email",
)
FOLLOW_UP_KINDS = ("unmatched", "urgent", "repeat_requester", "declined", "problem", "vog_expiry")

TRUST_KINDS = ("helped", "knows", "group")

CONSENT_PURPOSES = ("matching", "contact_by_worker", "share_street_with_helper")
CONSENT_METHODS = ("online", "phone", "in_person", "paper", "home_visit")

RUN_STATUSES = ("queued", "running", "succeeded", "failed")

# ISO 639-1 codes of languages spoken in Dutch neighbourhoods; bit i = LANGUAGES[i].
LANGUAGES = (
    "nl",
    "en",
    "de",
    "tr",
    "ar",
    "pl",
    "uk",
    "ti",
    "fr",
    "es",
    "so",
    "fa",
    "ru",
    "pap",
    "zgh",
    "ber",
    "it",
    "pt",
    "ro",
    "bg",
    "zh",
    "sy",
)
CHANNELS = ("phone", "message", "video", "in_person")

# Default help categories (code, Dutch name, English name, needs a VOG-verified helper).
DEFAULT_CATEGORIES = (
    ("boodschappen", "Boodschappen", "Groceries", False),
    ("vervoer", "Vervoer", "Transport", False),
    ("gezelschap", "Gezelschap / een praatje", "Company / a chat", False),
    ("klusjes", "Klusjes", "Odd jobs", False),
    ("formulieren", "Formulieren en papierwerk", "Forms and paperwork", False),
    ("digitale_hulp", "Digitale hulp", "Help with phone or computer", False),
    ("huisdieren", "Huisdieren", "Pets", False),
    ("tuin", "Tuin", "Garden", False),
    ("maaltijd", "Maaltijd", "Meal", False),
    ("kinderoppas", "Oppas kinderen", "Childminding", True),
)

DAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
DAY_PARTS = ("morning", "afternoon", "evening")
ALL_SLOTS = (1 << 21) - 1


def _mask(codes: Iterable[str], vocabulary: tuple[str, ...], what: str) -> int:
    mask = 0
    for code in codes:
        try:
            mask |= 1 << vocabulary.index(code)
        except ValueError:
            raise ValueError(f"unknown {what} {code!r}; known: {', '.join(vocabulary)}") from None
    return mask


def _codes(mask: int, vocabulary: tuple[str, ...]) -> list[str]:
    return [code for i, code in enumerate(vocabulary) if mask >> i & 1]


def language_mask(codes: Iterable[str]) -> int:
    """Bitmask of the given ISO language codes."""
    return _mask(codes, LANGUAGES, "language")


def language_codes(mask: int) -> list[str]:
    """ISO language codes in a bitmask."""
    return _codes(mask, LANGUAGES)


def channel_mask(codes: Iterable[str]) -> int:
    """Bitmask of contact channels."""
    return _mask(codes, CHANNELS, "channel")


def channel_codes(mask: int) -> list[str]:
    """Contact channels in a bitmask."""
    return _codes(mask, CHANNELS)
