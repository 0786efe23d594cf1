"""Who a community worker may act on: residents and requests in their assigned neighbourhoods.

Admins act everywhere. Anything outside a worker's neighbourhoods is reported as not found
(404), so a worker cannot learn that a resident or request exists elsewhere. Other roles get
NotAllowed (403).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from ..errors import DomainError, NotFound
from ..extensions import db
from ..models import HelpRequest, Match, Neighbourhood
from . import worker_scope
from .worker_scope import scoped_resident, staff_user  # noqa: F401  (one rule, used here too)


@contextmanager
def undone_on_error() -> Iterator[None]:
    """A refused change leaves nothing behind in the session (a page may still commit a view)."""
    try:
        yield
    except DomainError:
        db.session.rollback()
        raise


def scope_ids(user_id: int) -> set[int] | None:
    """The neighbourhood ids a worker covers, as a set; None for an admin (everywhere)."""
    ids = worker_scope.scope_ids(user_id)
    return None if ids is None else set(ids)


def in_scope(scope: set[int] | None, neighbourhood_id: int | None) -> bool:
    """Whether a neighbourhood lies in a scope (None: everywhere)."""
    return scope is None or (neighbourhood_id is not None and neighbourhood_id in scope)


def scoped_request(user_id: int, request_id: int) -> HelpRequest:
    """The request if it (or its requester) lies in the actor's neighbourhoods; else NotFound."""
    scope = scope_ids(user_id)
    request = db.session.get(HelpRequest, request_id)
    if request is None or not (
        in_scope(scope, request.neighbourhood_id)
        or in_scope(scope, request.requester.neighbourhood_id)
    ):
        raise NotFound(f"request {request_id} does not exist", field="request_id")
    return request


def scoped_match(user_id: int, match_id: int, request_id: int | None = None) -> Match:
    """The match (of `request_id`, when given) if its request is in the actor's neighbourhoods;
    else NotFound."""
    match = db.session.get(Match, match_id)
    if match is None or (request_id is not None and match.request_id != request_id):
        raise NotFound(f"match {match_id} does not exist", field="match_id")
    try:
        scoped_request(user_id, match.request_id)
    except NotFound:
        raise NotFound(f"match {match_id} does not exist", field="match_id") from None
    return match


def scope_neighbourhoods(user_id: int) -> list[dict]:
    """The neighbourhoods the actor works in (an admin: all), by name: id, code, name."""
    scope = scope_ids(user_id)
    statement = select(Neighbourhood.id, Neighbourhood.code, Neighbourhood.name).order_by(
        Neighbourhood.name
    )
    if scope is not None:
        statement = statement.where(Neighbourhood.id.in_(scope or [-1]))
    return [{"id": r.id, "code": r.code, "name": r.name} for r in db.session.execute(statement)]
