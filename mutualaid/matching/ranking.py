"""Ranking: candidates -> hard filters -> score parts -> weighted total -> top-k per request."""

from __future__ import annotations

import numpy as np

from .candidates import OfferIndex
from .filters import ExclusionIndex, passes_hard_filters
from .params import DEFAULT_PARAMS, Params
from .scoring import score_pairs
from .social import social_pairs, union_pairs
from .types import Candidates, Exclusions, History, OfferBatch, RequestBatch, TrustGraph

# Above this many requests the delta set is folded into the trees before a batch query.
BATCH_COMPACT_THRESHOLD = 256


def _gather(
    index: OfferIndex, requests: RequestBatch, exclusions: ExclusionIndex, params: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Filtered candidate pairs; k grows for requests with too few survivors."""
    offers = index.offers
    max_reach = index.max_radius_m
    rows = np.arange(len(requests))
    k = params.initial_k
    kept_r, kept_o, kept_d = [], [], []
    while len(rows):
        pairs = index.query(requests, k, rows)
        ok = passes_hard_filters(
            requests, offers, pairs.request_idx, pairs.offer_idx, pairs.distance_m, exclusions
        )
        # Only pairs strictly nearer than the k-th neighbour are surely complete: offers at
        # exactly that distance (same building) may have been cut off by k.
        inside = ok & (pairs.distance_m < pairs.reach_m[pairs.request_idx])
        survivors = np.bincount(pairs.request_idx[inside], minlength=len(requests))[rows]
        reach = pairs.reach_m[rows]
        # Done: a full pool, or nothing further away could pass the distance filters.
        done = (
            (survivors >= params.candidate_pool)
            | ~np.isfinite(reach)
            | (reach > np.minimum(requests.max_distance_m[rows], max_reach))
            | (k >= params.max_k)
        )
        finished = rows[done]
        take = ok & np.isin(pairs.request_idx, finished)
        kept_r.append(pairs.request_idx[take])
        kept_o.append(pairs.offer_idx[take])
        kept_d.append(pairs.distance_m[take])
        rows = rows[~done]
        k *= params.k_growth
    return nearest_per_request(
        np.concatenate(kept_r),
        np.concatenate(kept_o),
        np.concatenate(kept_d),
        params.candidate_pool,
    )


def _first_per_group(r: np.ndarray, pool: int) -> np.ndarray:
    """Mask of the first `pool` rows of each run of equal r (rows already in order)."""
    starts = np.r_[0, np.flatnonzero(r[1:] != r[:-1]) + 1]
    position = np.arange(len(r)) - np.repeat(starts, np.diff(np.r_[starts, len(r)]))
    return position < pool


def nearest_per_request(
    r: np.ndarray, o: np.ndarray, d: np.ndarray, pool: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `pool` nearest pairs of each request, ties broken by offer position, so the
    candidate set is exactly defined whatever k the tree was asked for."""
    if len(r) == 0:
        return r, o, d
    # Pairs straight from the k-d tree are grouped per request and nearest first; only the
    # requests where that order breaks (ties at equal distance, merged delta offers) are sorted.
    change = r[1:] != r[:-1]
    in_order = change | (d[1:] > d[:-1]) | ((d[1:] == d[:-1]) & (o[1:] > o[:-1]))
    if change.sum() + 1 != np.count_nonzero(np.bincount(r)):
        unsorted = np.ones(len(r), dtype=bool)  # not even grouped: sort everything
    else:
        unsorted = np.isin(r, r[1:][~in_order])
    sorted_rows = np.flatnonzero(~unsorted)
    keep = [sorted_rows[_first_per_group(r[sorted_rows], pool)]]
    rest = np.flatnonzero(unsorted)
    if len(rest):
        order = rest[np.lexsort((o[rest], d[rest], r[rest]))]
        keep.append(order[_first_per_group(r[order], pool)])
    keep = np.concatenate(keep)
    return r[keep], o[keep], d[keep]


def top_k_order(
    request_idx: np.ndarray, total: np.ndarray, offer_pos: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the best k per request (ties broken by offer position) and their ranks."""
    if len(request_idx) and request_idx.max() < 1 << 22 and offer_pos.max() < 1 << 21:
        # One int64 sort key: request | score (descending, 2**-20 resolution) | offer.
        quantised = np.round((1.0 - np.clip(total, 0, 1)) * ((1 << 20) - 1)).astype(np.int64)
        key = (request_idx.astype(np.int64) << 41) | (quantised << 21) | offer_pos
        order = np.argsort(key)
    else:  # very large batches: the slower three-key sort
        order = np.lexsort((offer_pos, -total, request_idx))
    grouped = request_idx[order]
    starts = np.r_[0, np.flatnonzero(grouped[1:] != grouped[:-1]) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = rank < k
    return order[keep], rank[keep] + 1


def rank(
    requests: RequestBatch,
    offers: OfferBatch | OfferIndex,
    trust: TrustGraph | None = None,
    exclusions: Exclusions | None = None,
    history: History | None = None,
    params: Params = DEFAULT_PARAMS,
) -> Candidates:
    """The top-k helpers per request with score parts; requests without candidates are absent."""
    index = offers if isinstance(offers, OfferIndex) else OfferIndex(offers)
    if len(requests) == 0 or len(index) == 0:
        return Candidates.empty()
    if index.delta and len(requests) > BATCH_COMPACT_THRESHOLD:
        index.compact()
    trust = trust or TrustGraph.empty()
    history = history or History.none()
    excluded = ExclusionIndex(exclusions or Exclusions.none())
    spatial = _gather(index, requests, excluded, params)
    social = social_pairs(index, requests, trust, history, excluded)
    r, o, d, social_only = union_pairs(spatial, social, len(index.offers))
    if len(r) == 0:
        return Candidates.empty()
    return score_and_rank(requests, index.offers, r, o, d, social_only, trust, history, params)


def score_and_rank(
    requests: RequestBatch,
    offers: OfferBatch,
    r: np.ndarray,
    o: np.ndarray,
    d: np.ndarray,
    social_only: np.ndarray,
    trust: TrustGraph,
    history: History,
    params: Params,
) -> Candidates:
    """Score candidate pairs and keep the top-k per request (shared with the reference)."""
    facts = score_pairs(requests, offers, r, o, d, trust, history, params)
    total = facts["parts"] @ params.weights.as_array()
    keep, ranks = top_k_order(r, total, o, params.top_k)
    return Candidates(
        request_idx=r[keep],
        offer_idx=o[keep],
        rank=ranks,
        total=total[keep],
        parts=facts["parts"][keep].astype(np.float32),
        distance_m=d[keep],
        same_street=facts["same_street"][keep],
        same_neighbourhood=facts["same_neighbourhood"][keep],
        overlap_slots=facts["overlap_slots"][keep],
        times_helped=facts["times_helped"][keep],
        tie=facts["tie"][keep],
        vouched=offers.vouched[o[keep]],
        social_only=social_only[keep],
    )
