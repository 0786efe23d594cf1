"""Object ids in API input: whole numbers that fit the database's INTEGER column."""

from __future__ import annotations

from marshmallow import fields, validate

MAX_ID = 2**31 - 1  # INTEGER on PostgreSQL; a larger id can only be unknown


def object_id(**kwargs) -> fields.Integer:
    """An id field: a larger number is a 422 naming the field, never a database overflow."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)
