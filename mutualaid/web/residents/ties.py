"""Resident pages: ties."""

from .blueprint import bp  # noqa: F401
