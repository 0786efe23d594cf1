"""Resident pages: matches."""

from .blueprint import bp  # noqa: F401
