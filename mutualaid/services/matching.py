"""Matching runs: feed the engine from the database and store its suggestions.

One run = load a snapshot (bulk queries), rank with the pure engine, upsert the top-k
suggestions in bulk, clear the outbox marks of what was matched, and record the run with its
counts and timings. Jobs call `match_request`, `match_offer` and `match_all`.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import numpy as np
from flask import current_app
from sqlalchemy import select, update

from .. import matching as engine
from ..background import enqueue_after_commit
from ..extensions import db
from ..models import Category, HelpRequest, MatchingRun, Offer, OfferCategory, RankerVersion
from ..models.base import utcnow
from .snapshot import load_snapshot
from .suggestions import SuggestionRows, store_suggestions
from .transactions import commit
from .warm import warm_matcher

# Up to this many requests are ranked together on the warm index in one job.
WARM_BATCH_LIMIT = 100


def active_weights() -> tuple[engine.Weights, str]:
    """The ranking weights in use: the active learned version, else the defaults."""
    row = db.session.scalar(
        select(RankerVersion)
        .where(RankerVersion.is_active.is_(True))
        .order_by(RankerVersion.created_at.desc())
    )
    if row is None:
        return engine.Weights(), "default"
    return engine.Weights.from_dict(row.weights), row.version


def engine_inputs(snapshot) -> tuple:
    """Engine dataclasses from a snapshot."""
    requests = engine.RequestBatch(**snapshot.requests)
    offers = engine.OfferBatch(**snapshot.offers)
    trust = engine.TrustGraph.from_edges(*snapshot.ties)
    exclusions = engine.Exclusions(snapshot.declined_pairs, snapshot.blocked_pairs)
    helped = snapshot.helped_pairs
    history = engine.History(helped[:, 0], helped[:, 1], helped[:, 2])
    return requests, offers, trust, exclusions, history


def suggestion_rows(
    candidates: engine.Candidates, requests: engine.RequestBatch, offers: engine.OfferBatch
) -> SuggestionRows:
    """Database rows for ranked candidates, with both explanations."""
    return SuggestionRows(
        request_id=requests.ids[candidates.request_idx],
        offer_id=offers.ids[candidates.offer_idx],
        helper_id=offers.helper_ids[candidates.offer_idx],
        rank=candidates.rank,
        score=candidates.total,
        parts=candidates.parts,
        distance_m=candidates.distance_m,
        explanation_nl=engine.explain(candidates, "nl"),
        explanation_en=engine.explain(candidates, "en"),
    )


def _start_run(run_id: str | None, trigger: str) -> MatchingRun:
    run = db.session.get(MatchingRun, run_id) if run_id else None
    if run is None:
        run = MatchingRun(id=run_id or f"manual-{uuid.uuid4().hex[:12]}", trigger=trigger)
        db.session.add(run)
    run.status, run.started_at, run.error = "running", utcnow(), None
    run.engine_version = engine.ENGINE_VERSION
    commit()
    return run


def _rank(request_ids: list[int] | None, params: engine.Params, timings: dict) -> tuple:
    """(requests, offers, candidates) from the warm matcher for one request, else cold."""
    clock = time.perf_counter()
    warm = warm_matcher()
    if warm is not None and request_ids is not None and len(request_ids) <= WARM_BATCH_LIMIT:
        requests, candidates = warm.rank_requests(request_ids, params.top_k, params.weights)
        timings["rank_s"] = round(time.perf_counter() - clock, 4)
        timings["warm"] = 1
        return requests, warm.index.offers, len(warm.index), candidates
    snapshot = load_snapshot(request_ids)
    requests, offers, trust, exclusions, history = engine_inputs(snapshot)
    timings["load_s"] = round(time.perf_counter() - clock, 4)
    clock = time.perf_counter()
    candidates = engine.rank(requests, offers, trust, exclusions, history, params)
    timings["rank_s"] = round(time.perf_counter() - clock, 4)
    return requests, offers, len(offers), candidates


def run_matching(
    request_ids: list[int] | None,
    *,
    run_id: str | None = None,
    trigger: str = "manual",
    pause_s: float = 0.0,
) -> dict:
    """Match the given open requests (None: all open requests) and store the suggestions."""
    run = _start_run(run_id, trigger)
    run_key, started = run.id, run.started_at
    timings: dict[str, float] = {}
    try:
        weights, weights_version = active_weights()
        params = engine.Params(weights=weights, top_k=current_app.config["MATCH_TOP_K"])
        requests, offers, offer_count, candidates = _rank(request_ids, params, timings)
        if pause_s:
            time.sleep(pause_s)  # fault injection: the job tests kill or time out the job here
        clock = time.perf_counter()
        rows = suggestion_rows(candidates, requests, offers)
        considered = requests.ids.tolist()
        counts = store_suggestions(
            rows, considered, f"{engine.ENGINE_VERSION}/{weights_version}", run_key, utcnow()
        )
        _clear_request_marks(considered, started)
        if trigger == "request" and counts["written"]:
            # Ask the first helpers once the suggestions are committed.
            for request_id in considered:
                enqueue_after_commit(
                    db.session, "mutualaid.jobs.notify_next_wave", request_id, queue="notifications"
                )
        timings["store_s"] = round(time.perf_counter() - clock, 4)
        run = db.session.get(MatchingRun, run_key)
        run.status, run.finished_at, run.timings = "succeeded", utcnow(), timings
        run.requests_considered, run.offers_considered = len(requests), offer_count
        run.candidates_found, run.suggestions_written = len(candidates), counts["written"]
        commit()
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(MatchingRun, run_key)
        run.status, run.finished_at = "failed", utcnow()
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        commit()
        raise
    return {
        "run": run_key,
        "requests": len(considered),
        "suggestions": counts["written"],
        "expired": counts["expired"],
        "revived": counts.get("revived", 0),
        **timings,
    }


def _clear_request_marks(request_ids: list[int], started) -> None:
    """Clear the outbox marks set before this run started (later changes need another run)."""
    for start in range(0, len(request_ids), 10_000):
        db.session.execute(
            update(HelpRequest)
            .where(
                HelpRequest.id.in_(request_ids[start : start + 10_000]),
                HelpRequest.matching_pending_since <= started,
            )
            .values(matching_pending_since=None)
            .execution_options(synchronize_session=False)
        )


def match_request(
    request_id: int, run_id: str | None = None, pause_s: float = 0.0, force: bool = False
) -> dict:
    """Match a request that is waiting for matching, together with others waiting too.

    Under a burst, one job matches every pending request (up to a batch) in one run; the jobs
    queued for the others then find nothing pending and return at once. `force` matches the
    request even when it is not marked (the `match --request` command)."""
    request = db.session.get(HelpRequest, request_id)
    if request is None:
        return {"skipped": "no such request"}
    if request.status != "open":
        request.matching_pending_since = None
        commit()
        return {"skipped": f"request is {request.status}"}
    if request.matching_pending_since is None and not force:
        return {"skipped": "already matched"}
    others = db.session.scalars(
        select(HelpRequest.id)
        .where(
            HelpRequest.status == "open",
            HelpRequest.matching_pending_since.is_not(None),
            HelpRequest.id != request_id,
        )
        .order_by(HelpRequest.matching_pending_since)
        .limit(WARM_BATCH_LIMIT - 1)
    ).all()
    return run_matching([request_id, *others], run_id=run_id, trigger="request", pause_s=pause_s)


def requests_near_offer(offer: Offer) -> list[int]:
    """Open requests of the offer's categories within its radius (bounding box, then exact)."""
    bits = (
        select(Category.id)
        .join(OfferCategory, OfferCategory.category_id == Category.id)
        .where(OfferCategory.offer_id == offer.id)
    )
    dlat = offer.radius_m / 111_195.0
    dlon = dlat / max(np.cos(np.radians(offer.lat)), 0.01)
    rows = db.session.execute(
        select(HelpRequest.id, HelpRequest.lat, HelpRequest.lon).where(
            HelpRequest.status == "open",
            HelpRequest.category_id.in_(bits),
            HelpRequest.lat.between(offer.lat - dlat, offer.lat + dlat),
            HelpRequest.lon.between(offer.lon - dlon, offer.lon + dlon),
        )
    ).all()
    if not rows:
        return []
    distance = engine.geo.haversine_m(
        offer.lat, offer.lon, np.array([r.lat for r in rows]), np.array([r.lon for r in rows])
    )
    return [r.id for r, d in zip(rows, distance.tolist(), strict=True) if d <= offer.radius_m]


def match_offer(offer_id: int, run_id: str | None = None) -> dict:
    """Re-match the open requests a new or changed offer could serve."""
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        return {"skipped": "no such offer"}
    marked = offer.matching_pending_since
    request_ids = requests_near_offer(offer) if offer.is_active else []
    result = (
        run_matching(request_ids, run_id=run_id, trigger="offer")
        if request_ids
        else {"requests": 0, "suggestions": 0}
    )
    db.session.execute(
        update(Offer)
        .where(Offer.id == offer_id, Offer.matching_pending_since == marked)
        .values(matching_pending_since=None)
    )
    commit()
    return result


def preview_rankings(
    request_ids: list[int], weights: dict[str, float] | None = None, top_k: int = 10
) -> dict[int, list[dict]]:
    """Ranked candidates per request under the given weights, storing nothing (what-if page).

    `weights` maps part names (`engine.PART_NAMES`) to weights; parts left out keep the active
    weight, a weight of 0 switches that part off; None means the active weights. Every open
    request id given gets an entry (possibly empty); unknown or closed ids are left out. Each
    candidate is a dict with `offer_id, helper_id, rank, score, parts` (the six score parts by
    name), `distance_m`, `explanation_nl` and `explanation_en`. Nothing is written: no matches,
    no matching run, no commit.
    """
    if not request_ids:
        return {}
    active, _ = active_weights()
    chosen = engine.Weights.from_dict({**active.as_dict(), **(weights or {})})
    params = engine.Params(weights=chosen, top_k=max(1, int(top_k)))
    requests, offers, _, candidates = _rank(list(request_ids), params, {})
    rows = suggestion_rows(candidates, requests, offers)
    result: dict[int, list[dict]] = {int(i): [] for i in requests.ids.tolist()}
    parts = np.asarray(rows.parts, dtype=float).round(6).tolist()
    for i in range(len(rows)):
        result[int(rows.request_id[i])].append(
            {
                "offer_id": int(rows.offer_id[i]),
                "helper_id": int(rows.helper_id[i]),
                "rank": int(rows.rank[i]),
                "score": round(float(rows.score[i]), 6),
                "parts": dict(zip(engine.PART_NAMES, parts[i], strict=True)),
                "distance_m": round(float(rows.distance_m[i]), 1),
                "explanation_nl": rows.explanation_nl[i],
                "explanation_en": rows.explanation_en[i],
            }
        )
    return result


def match_all(run_id: str | None = None, trigger: str = "manual") -> dict:
    """Match every open request."""
    return run_matching(None, run_id=run_id, trigger=trigger)


def expire_stale_suggestions() -> dict[str, int]:
    """Suggestions untouched for SUGGESTION_TTL_DAYS expire; requests past their window too."""
    from ..models import Match

    now = utcnow()
    cutoff = now - timedelta(days=current_app.config["SUGGESTION_TTL_DAYS"])
    suggestions = db.session.execute(
        update(Match)
        .where(Match.status == "suggested", Match.updated_at < cutoff)
        .values(status="expired", status_changed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    requests = db.session.execute(
        update(HelpRequest)
        .where(HelpRequest.status == "open", HelpRequest.window_end < now.date())
        .values(status="expired", closed_at=now, matching_pending_since=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    commit()
    return {"suggestions": suggestions, "requests": requests}
