"""Bodies the API cannot read: refused as a whole before any operation looks at its fields."""

from __future__ import annotations

from flask import Flask, request

from ..errors import UnsupportedMediaType

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def refuse_bodies_that_are_not_json() -> None:
    """A body sent as text/plain, a form or anything but JSON is a 415 naming `body` (without
    this, the operation would answer with a list of "missing" fields that were in fact sent)."""
    if not request.path.startswith("/api/") or request.method not in BODY_METHODS:
        return
    if (request.content_length or request.headers.get("Transfer-Encoding")) and not request.is_json:
        raise UnsupportedMediaType(
            f"send the body as application/json, not {request.mimetype or 'without a type'}",
            field="body",
            rule="content_type",
        )


def register_input_guard(app: Flask) -> None:
    """Check every API request's body type before its operation runs."""
    app.before_request(refuse_bodies_that_are_not_json)
