"""Resident pages: requests."""

from .blueprint import bp  # noqa: F401
