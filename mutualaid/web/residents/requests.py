"""Resident pages: requests."""

from . import bp  # noqa: F401
