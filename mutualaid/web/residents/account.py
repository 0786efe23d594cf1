"""Resident pages: account."""

from .blueprint import bp  # noqa: F401
