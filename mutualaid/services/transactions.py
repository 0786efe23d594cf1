"""Committing, and turning a violated database constraint into an error that names the field."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, DomainError, Invalid
from ..extensions import db

# Check constraints whose name does not end in the field it guards.
_CHECK_FIELDS = {
    "ordered_pair": "resident_b_id",
    "window_order": "window_end",
    "reachable": "contact",
    "consent_when_on_behalf": "consent",
    "withdrawn_after_given": "withdrawn_at",
    "municipality_scoped": "municipality_code",
    "not_self": "blocked_id",
    "has_sender": "sender",
    "body_not_empty": "body",
}
_RULE_SUFFIXES = ("_range", "_known", "_format", "_positive", "_non_negative", "_not_empty")


def field_for_check(constraint: str) -> tuple[str, str]:
    """(field, rule) for a check constraint name like `ck_help_requests_slots_range`."""
    for table in db.metadata.tables:
        prefix = f"ck_{table}_"
        if constraint.startswith(prefix):
            constraint = constraint[len(prefix) :]
            break
    if constraint in _CHECK_FIELDS:
        return _CHECK_FIELDS[constraint], constraint
    for suffix in _RULE_SUFFIXES:
        if constraint.endswith(suffix):
            return constraint[: -len(suffix)], suffix.lstrip("_")
    return constraint, constraint


def translate_integrity_error(exc: IntegrityError) -> DomainError:
    """A clear domain error for a violated constraint, on SQLite and PostgreSQL alike."""
    orig = exc.orig
    text = str(orig)
    diag = getattr(orig, "diag", None)  # psycopg: the server tells us which constraint and column
    constraint = getattr(diag, "constraint_name", None)
    column = getattr(diag, "column_name", None)
    sqlstate = getattr(orig, "sqlstate", None)

    if sqlstate == "23514" or "CHECK constraint failed" in text:
        name = constraint or text.rsplit(":", 1)[-1].strip()
        field, rule = field_for_check(name)
        return Invalid(f"{field} breaks the rule '{rule}'", field=field, rule=rule)
    if sqlstate == "23502" or "NOT NULL constraint failed" in text:
        field = column or text.rsplit(".", 1)[-1].strip()
        return Invalid(f"{field} is required", field=field, rule="required")
    if sqlstate == "23505" or "UNIQUE constraint failed" in text:
        detail = getattr(diag, "message_detail", None) or ""
        key = re.search(
            r"Key \((.+?)\)=", detail
        )  # PostgreSQL: "Key (a, b)=(1, 2) already exists."
        if key:
            field = key.group(1)
        else:  # SQLite: "UNIQUE constraint failed: matches.request_id, matches.offer_id"
            field = ", ".join(c.strip().split(".")[-1] for c in text.split(":", 1)[-1].split(","))
        return Conflict(f"a record with this {field} already exists", field=field, rule="unique")
    if sqlstate == "23503" or "FOREIGN KEY constraint failed" in text:
        field = None
        if constraint:
            # fk_<table>_<column>_<referred table>: the column is between them
            for table in db.metadata.tables:
                if constraint.startswith(f"fk_{table}_"):
                    rest = constraint[len(f"fk_{table}_") :]
                    field = next(
                        (
                            c.name
                            for c in db.metadata.tables[table].columns
                            if rest.startswith(c.name + "_")
                        ),
                        None,
                    )
        return Invalid(
            f"{field or 'a reference'} points to a record that does not exist (or is still in use)",
            field=field,
            rule="exists",
        )
    return Conflict("the change clashes with stored data")


def commit() -> None:
    """Commit the session; on a violated constraint roll back and raise a domain error."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise translate_integrity_error(exc) from exc


def flush() -> None:
    """Flush (to get ids) with the same constraint translation; the caller still commits."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise translate_integrity_error(exc) from exc
