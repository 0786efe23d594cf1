"""Residents report a problem (about a match, a request, or in general); the report is routed
to the neighbourhood, whose community workers see it in their follow-up queue."""

from __future__ import annotations

from sqlalchemy import func, select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import HelpRequest, Match, ProblemReport, Resident
from .aid_views import neighbourhood_name
from .helping_views import party_match
from .neighbourhoods import get_locator
from .transactions import commit
from .validation import require_text


def _report_subject(
    resident_id: int, match_id: int | None, request_id: int | None
) -> tuple[int | None, HelpRequest | None]:
    """The match and request a report is about, checked to be the reporter's own."""
    request = None
    if match_id is not None:
        match, _side = party_match(match_id, resident_id)
        request = db.session.get(HelpRequest, match.request_id)
        if request_id is not None and request_id != request.id:
            raise Invalid(
                "request_id does not belong to this match", field="request_id", rule="match"
            )
    elif request_id is not None:
        request = db.session.get(HelpRequest, request_id)
        involved = request is not None and (
            request.requester_id == resident_id
            or db.session.scalar(
                select(func.count(Match.id)).where(
                    Match.request_id == request_id,
                    Match.helper_id == resident_id,
                    Match.status.in_(("invited", "accepted", "done", "cancelled")),
                )
            )
        )
        if not involved:
            raise NotFound(f"request {request_id} does not exist", field="request_id")
    return match_id, request


def _home_neighbourhood(resident: Resident) -> int | None:
    """The resident's neighbourhood, located from the home point when not stored."""
    if resident.neighbourhood_id is not None or resident.home_lat is None:
        return resident.neighbourhood_id
    return get_locator().locate(resident.home_lat, resident.home_lon)


def report_problem(
    resident_id: int, body: str, match_id: int | None = None, request_id: int | None = None
) -> dict:
    """Report a problem (about a match, a request, or in general); it goes to the community
    workers of the neighbourhood, who see it in their follow-up queue."""
    body = require_text("body", body, max_length=4000)
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None:
        raise NotFound(f"resident {resident_id} does not exist", field="resident_id")
    match_id, request = _report_subject(resident_id, match_id, request_id)
    neighbourhood_id = (
        request.neighbourhood_id if request is not None else None
    ) or _home_neighbourhood(resident)
    report = ProblemReport(
        reporter_id=resident_id,
        match_id=match_id,
        request_id=request.id if request is not None else None,
        neighbourhood_id=neighbourhood_id,
        body=body,
    )
    db.session.add(report)
    commit()
    return {
        "id": report.id,
        "match_id": report.match_id,
        "request_id": report.request_id,
        "neighbourhood": neighbourhood_name(neighbourhood_id),
        "created_at": report.created_at,
    }
