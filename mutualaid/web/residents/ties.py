"""Resident pages: ties."""

from . import bp  # noqa: F401
