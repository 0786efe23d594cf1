"""Text the database cannot store is refused at the door, for pages and the API alike.

PostgreSQL refuses a NUL character (U+0000) in any text column, so a form field, query
argument, path word or JSON string holding one would otherwise end as a 500 when it reaches an
INSERT or a WHERE. No browser or person sends one on purpose: it is a 422 naming the field
before any view runs."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from .errors import Invalid

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_DEPTH = 20


def _refuse(field: str) -> None:
    raise Invalid(f"{field} contains a NUL character", field=field, rule="no_nul")


def _check(field: str, value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        _refuse(field)


def _walk(value: Any, path: str, depth: int = 0) -> None:
    """Every string in a JSON document (keys too), named by its path (`body` at the top)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            name = key if path == "body" else f"{path}.{key}"
            _check(name.replace("\x00", "\\0"), key)
            _walk(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", depth + 1)
    else:
        _check(path, value)


def refuse_nul_characters() -> None:
    for name, value in (request.view_args or {}).items():
        _check(name, value)
    for name, value in request.args.items(multi=True):
        _check(name, name + value)
    if request.mimetype in FORM_TYPES:
        for name, value in request.form.items(multi=True):
            _check(name, name + value)
    elif request.is_json:
        _walk(request.get_json(silent=True), "body")


def register_input_text_guard(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
