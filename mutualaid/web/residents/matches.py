"""Resident pages: matches."""

from . import bp  # noqa: F401
