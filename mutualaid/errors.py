"""Domain exceptions. Services raise these; one handler per interface maps them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can be told about."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule
        # field -> messages, for forms or payloads with several problems at once
        self.errors = errors or ({field: [message]} if field else {})

    def to_dict(self) -> dict:
        body: dict = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.rule:
            body["rule"] = self.rule
        if self.errors:
            body["errors"] = self.errors
        return body


class Invalid(DomainError):
    """Input breaks a rule (a range, a format, a missing value)."""

    status_code = 422
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class NotAllowed(DomainError):
    """The actor may not do this (role, neighbourhood scope, ownership)."""

    status_code = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"


class Conflict(DomainError):
    """The change clashes with what is stored (a duplicate, a state that no longer allows it)."""

    status_code = 409
    code = "conflict"


class UnsupportedMediaType(DomainError):
    """A body in a format the interface does not read (e.g. text/plain where JSON belongs)."""

    status_code = 415
    code = "unsupported_media_type"
