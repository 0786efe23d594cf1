"""Logging: one JSON object per line in production (plain text in development), each line with
the request id of the web request, or of the request that enqueued the job, it belongs to.

Personal data stays out of the logs: log ids, never emails, phones, addresses, passwords or
tokens. `scrub()` is a last line of defence for text from libraries (e.g. an SMTP error).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Digits glued to letters on either side are an id (a request id's hex), not a phone number.
_PHONE = re.compile(r"(?<![\w])(\+31|0031|0)[\s-]?[1-9](?:[\s-]?\d){7,8}(?!\w)")
_BEARER = re.compile(r"(?i)(bearer\s+|ma_)[\w.-]{8,}")
_SAFE_ID = re.compile(r"^[\w.-]{1,64}$")
# The secret in a link's path: password reset, email confirmation, data export download.
SECRET_PATH = re.compile(r"(/(?:password/reset|confirm|export)/)(?!\[token\])[\w-]{16,}")
# ... and in a query string: a tie invitation link (`/mijn/kennen/bevestigen?code=...`).
SECRET_QUERY = re.compile(r"([?&](?:code|token)=)(?!\[token\])[^&\s\"'#]+")


def mask_secret_paths(text: str) -> str:
    """Replace the secret in reset, confirmation, export and invitation links with [token]."""
    return SECRET_QUERY.sub(r"\1[token]", SECRET_PATH.sub(r"\1[token]", text))


def scrub(text: str) -> str:
    """Mask email addresses, Dutch phone numbers and tokens in free text."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    return mask_secret_paths(_BEARER.sub("[token]", text))


class SecretPathFilter(logging.Filter):
    """On the access loggers (werkzeug, gunicorn.access): a request line for a reset,
    confirmation or export link loses its secret before any handler sees the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        masked = mask_secret_paths(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def mask_secrets_in_access_logs() -> None:
    """Install SecretPathFilter on the access loggers (idempotent)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretPathFilter) for f in logger.filters):
            logger.addFilter(SecretPathFilter())


def current_request_id() -> str | None:
    """The request id of the web request or job this code runs for."""
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    """Bind a request id to the current context (a job does this with its enqueuer's id)."""
    _request_id.set(value)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    """Root logging for the web server, workers and commands (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_mutualaid", False):
            return
    handler = logging.StreamHandler()
    handler._mutualaid = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)


def register_request_ids(app: Flask) -> None:
    """Give every web request an id (a sane incoming X-Request-ID is kept) and echo it back."""

    @app.before_request
    def bind_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        set_request_id(g.request_id)

    @app.after_request
    def echo_request_id(response):
        if getattr(g, "request_id", None):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    def unbind_request_id(exc):
        set_request_id(None)
