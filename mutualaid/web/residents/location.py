"""Resident pages: location."""

from . import bp  # noqa: F401
