"""Checks shared by the services: each raises Invalid naming the field and the rule."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..errors import Invalid
from ..models.vocab import ALL_SLOTS


def require_text(field: str, value: Any, *, max_length: int, required: bool = True) -> str:
    """Stripped text within a length limit."""
    text = (value or "").strip() if isinstance(value, str | None) else None
    if text is None:
        raise Invalid(f"{field} must be text", field=field, rule="text")
    if required and not text:
        raise Invalid(f"{field} is required", field=field, rule="required")
    if len(text) > max_length:
        raise Invalid(
            f"{field} must be at most {max_length} characters", field=field, rule="max_length"
        )
    return text


def require_int(field: str, value: Any, *, minimum: int, maximum: int) -> int:
    """A whole number within [minimum, maximum] (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Invalid(f"{field} must be a whole number", field=field, rule="integer")
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"{field} must be a whole number", field=field, rule="integer") from None
    if not minimum <= number <= maximum:
        raise Invalid(f"{field} must be between {minimum} and {maximum}", field=field, rule="range")
    return number


def require_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise Invalid(f"{field} must be one of: {', '.join(choices)}", field=field, rule="choice")
    return value


def require_slots(field: str, value: Any) -> int:
    """A weekly availability bitmask (21 slots: 7 days x morning/afternoon/evening)."""
    return require_int(field, value, minimum=0, maximum=ALL_SLOTS)


def require_window(start: date | None, end: date | None, today: date) -> tuple:
    """A dated window: both or neither, end not before start, not entirely in the past."""
    if (start is None) != (end is None):
        field = "window_end" if end is None else "window_start"
        raise Invalid(
            f"{field} is required when the other end of the window is given",
            field=field,
            rule="required",
        )
    if start is None:
        return None, None
    for field, value in (("window_start", start), ("window_end", end)):
        if not isinstance(value, date):
            raise Invalid(f"{field} must be a date", field=field, rule="date")
    if end < start:
        raise Invalid(
            "window_end must not be before window_start", field="window_end", rule="after_start"
        )
    if end < today:
        raise Invalid("window_end lies in the past", field="window_end", rule="not_past")
    return start, end
