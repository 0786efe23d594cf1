"""The outbox sweep: enqueue matching for every request or offer still marked as pending."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from .. import background
from ..extensions import db
from ..models import HelpRequest, Offer
from ..models.base import utcnow
from .geocoding import sweep_pending_geocoding


def sweep_outbox(min_age_seconds: int = 10, limit: int = 5000) -> dict[str, int]:
    """Enqueue pending work older than min_age_seconds (younger work is still being enqueued).

    Duplicate enqueues are harmless: the matching jobs are idempotent.
    """
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    request_ids = list(
        db.session.scalars(
            select(HelpRequest.id)
            .where(HelpRequest.matching_pending_since <= cutoff, HelpRequest.status == "open")
            .order_by(HelpRequest.matching_pending_since)
            .limit(limit)
        )
    )
    offer_ids = list(
        db.session.scalars(
            select(Offer.id)
            .where(Offer.matching_pending_since <= cutoff)
            .order_by(Offer.matching_pending_since)
            .limit(limit)
        )
    )
    db.session.rollback()  # read-only: end the transaction before talking to Redis
    for request_id in request_ids:
        background.enqueue("mutualaid.jobs.match_request", request_id, queue="matching")
    for offer_id in offer_ids:
        background.enqueue("mutualaid.jobs.match_offer", offer_id, queue="matching")
    homes = sweep_pending_geocoding()
    return {"requests": len(request_ids), "offers": len(offer_ids), "homes": homes}
