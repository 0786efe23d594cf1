"""A warm matcher for the worker: the offer index and trust graph stay in memory and are
refreshed with changed rows only, so matching one new request takes milliseconds.

The rq worker refreshes it in its main process before forking a work horse for a matching
job; the horse inherits the up-to-date index through fork (copy-on-write) and uses it.
"""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import select

from .. import matching as engine
from ..extensions import db
from ..models import Match, Offer, ResidentBlock, TrustTie, VogRecord, Vouch
from ..models.base import utcnow
from .snapshot import StreetIds, load_offers, load_relations, load_requests, load_ties

FULL_RELOAD_SECONDS = 600  # standing (VOG, vouches, feedback) changes rarely: reload it all


class WarmMatcher:
    def __init__(self) -> None:
        self.index: engine.OfferIndex | None = None
        self.trust = engine.TrustGraph.empty()
        self.history = engine.History.none()
        self.streets = StreetIds()
        self.synced_at = None
        self.full_at = 0.0

    def refresh(self) -> dict[str, int]:
        """Bring the index up to date: everything now and then, else only what changed."""
        now = utcnow()
        if self.index is None or time.monotonic() - self.full_at > FULL_RELOAD_SECONDS:
            self.index = engine.OfferIndex(engine.OfferBatch(**load_offers(self.streets)))
            ties, _, _, helped = load_relations()
            self.trust = engine.TrustGraph.from_edges(*ties)
            self.history = engine.History(helped[:, 0], helped[:, 1], helped[:, 2])
            self.synced_at, self.full_at = now, time.monotonic()
            db.session.rollback()
            return {"full": len(self.index)}
        since = self.synced_at
        changed = set(db.session.scalars(select(Offer.id).where(Offer.updated_at >= since)))
        touched = db.session.execute(
            select(Match.offer_id, Match.status).where(Match.updated_at >= since)
        ).all()
        changed |= {offer_id for offer_id, _ in touched}
        # A new VOG or vouch changes the helper's standing (and a vouch, the vouch ties).
        vouches = set(
            db.session.scalars(
                select(Vouch.resident_id).where(
                    (Vouch.created_at >= since) | (Vouch.revoked_at >= since)
                )
            )
        )
        standing = vouches | set(
            db.session.scalars(select(VogRecord.resident_id).where(VogRecord.recorded_at >= since))
        )
        if standing:
            changed |= set(
                db.session.scalars(select(Offer.id).where(Offer.helper_id.in_(sorted(standing))))
            )
        if changed:
            fresh = engine.OfferBatch(**load_offers(self.streets, sorted(changed)))
            self.index.remove(sorted(changed))  # paused ones stay removed
            self.index.upsert(fresh)
        ties_changed = vouches or (
            db.session.scalar(select(TrustTie.id).where(TrustTie.updated_at >= since).limit(1))
            is not None
        )
        if any(status == "done" for _, status in touched):
            ties, _, _, helped = load_relations()  # completed help: new history
            self.trust = engine.TrustGraph.from_edges(*ties)
            self.history = engine.History(helped[:, 0], helped[:, 1], helped[:, 2])
        elif ties_changed:
            self.trust = engine.TrustGraph.from_edges(*load_ties())
        self.synced_at = now
        db.session.rollback()
        return {"changed_offers": len(changed)}

    def rank_requests(self, request_ids: list[int], top_k: int, weights: engine.Weights):
        """Rank a few open requests against the warm index."""
        requests = engine.RequestBatch(**load_requests(request_ids, self.streets))
        if len(requests) == 0:
            return requests, engine.Candidates.empty()
        declined = db.session.execute(
            select(Match.request_id, Match.offer_id).where(
                Match.request_id.in_(request_ids), Match.status == "declined"
            )
        ).all()
        requesters = requests.requester_ids.tolist()
        blocks = db.session.execute(
            select(ResidentBlock.blocker_id, ResidentBlock.blocked_id).where(
                ResidentBlock.blocker_id.in_(requesters) | ResidentBlock.blocked_id.in_(requesters)
            )
        ).all()
        exclusions = engine.Exclusions(
            np.array(declined, np.int64).reshape(-1, 2), np.array(blocks, np.int64).reshape(-1, 2)
        )
        params = engine.Params(top_k=top_k, weights=weights)
        return requests, engine.rank(
            requests, self.index, self.trust, exclusions, self.history, params
        )


_warm: WarmMatcher | None = None


def enable_warm_matcher() -> WarmMatcher:
    """Turn on the warm matcher in this process (the worker does, at start)."""
    global _warm
    _warm = _warm or WarmMatcher()
    return _warm


def warm_matcher() -> WarmMatcher | None:
    """The process's warm matcher, if enabled and loaded."""
    return _warm if _warm is not None and _warm.index is not None else None
