"""Resident pages: offers."""

from . import bp  # noqa: F401
