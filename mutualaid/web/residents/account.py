"""Resident pages: account."""

from . import bp  # noqa: F401
