"""Resident pages: location."""

from .blueprint import bp  # noqa: F401
