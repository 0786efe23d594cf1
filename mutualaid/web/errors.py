"""Error pages (HTML) and JSON errors for the API, from domain exceptions and HTTP errors."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


_BODY_RULES = {"Invalid JSON body.": "json", "Invalid input type.": "object"}


def _schema_errors(messages: dict) -> dict:
    """Schema errors as the one error body: `errors` by field, the first `field` and `rule`.

    flask-smorest nests them by location ({"json": {"colour": ["Unknown field."]}})."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    # The body as a whole (unparsable JSON, a list where an object belongs, a key without a
    # name) is `body`.
    for whole in ("json", "_schema", ""):
        if whole in flat:
            value = flat.pop(whole)
            flat.setdefault("body", []).extend(value if isinstance(value, list) else [value])
    if not flat:
        return {}
    field = sorted(flat)[0]
    first = flat[field][0] if isinstance(flat[field], list) and flat[field] else ""
    rule = _BODY_RULES.get(first, "unknown" if first == "Unknown field." else "schema")
    message = f"{field}: {first}" if isinstance(first, str) and first else f"{field} is invalid"
    return {"error": "invalid", "message": message, "field": field, "rule": rule, "errors": flat}


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()  # nothing half-written survives an error
        if _wants_json():
            return jsonify(exc.to_dict()), exc.status_code
        return render_template(
            "errors/error.html", status=exc.status_code, message=exc.message
        ), exc.status_code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            body = {"error": exc.name.lower().replace(" ", "_"), "message": exc.description}
            errors = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
            if errors:
                body.update(_schema_errors(errors))
            return jsonify(body), exc.code
        return render_template(
            "errors/error.html", status=exc.code, message=exc.description
        ), exc.code

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    def database_unavailable(exc: Exception):
        # The database is restarting or unreachable: a retryable 503, never a 500; nothing
        # was committed, and the pool's pre-ping replaces the dead connections once it is back.
        app.logger.warning("database unavailable: %s", type(exc).__name__)
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the session is discarded at teardown
            db.session.remove()
        message = _("The service is temporarily unavailable. Please try again in a minute.")
        headers = {"Retry-After": "30"}
        if _wants_json():
            body = {
                "error": "service_unavailable",
                "message": message,
                "field": None,
                "rule": "database_unavailable",
                "errors": {},
            }
            return jsonify(body), 503, headers
        try:
            page = render_template("errors/error.html", status=503, message=message)
        except (OperationalError, DisconnectionError):  # the layout itself needed the database
            db.session.remove()
            page = render_template("errors/unavailable.html", message=message)
        return page, 503, headers
