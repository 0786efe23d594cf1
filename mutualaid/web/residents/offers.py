"""Resident pages: offers."""

from .blueprint import bp  # noqa: F401
