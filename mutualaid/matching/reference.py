"""A brute-force reference ranking: every request against every offer. Slow and obviously
correct; tests and the benchmark check the fast engine against it.

The candidates of a request are its `candidate_pool` nearest offers that pass every hard
filter, plus every offer passing them whose helper has a direct tie with the requester or
helped them before.
"""

from __future__ import annotations

import numpy as np

from .filters import ExclusionIndex, passes_hard_filters
from .geo import haversine_m
from .params import DEFAULT_PARAMS, Params
from .ranking import nearest_per_request, score_and_rank
from .scoring import times_helped
from .types import Exclusions, History, OfferBatch, RequestBatch, TrustGraph


def _tied(trust: TrustGraph, history: History, requester: int, offers: OfferBatch) -> np.ndarray:
    """Per offer: does its helper have a direct tie with the requester, or helped before?"""
    tied = np.zeros(len(offers), dtype=bool)
    row = trust.index_of(np.array([requester]))[0]
    if row >= 0:
        weights = trust.matrix.getrow(row).toarray().ravel()
        col = trust.index_of(offers.helper_ids)
        tied |= (col >= 0) & (weights[np.maximum(col, 0)] > 0)
    helped = times_helped(history, np.full(len(offers), requester), offers.helper_ids)
    return tied | (helped > 0)


def reference_rank(
    requests: RequestBatch,
    offers: OfferBatch,
    trust: TrustGraph | None = None,
    exclusions: Exclusions | None = None,
    history: History | None = None,
    params: Params = DEFAULT_PARAMS,
) -> dict[int, list[int]]:
    """Top-k offer ids per request id, computed over all pairs."""
    excluded = ExclusionIndex(exclusions or Exclusions.none())
    trust = trust or TrustGraph.empty()
    history = history or History.none()
    result: dict[int, list[int]] = {}
    for i in range(len(requests)):
        r = np.full(len(offers), i)
        o = np.arange(len(offers))
        d = haversine_m(requests.lat[i], requests.lon[i], offers.lat, offers.lon)
        ok = passes_hard_filters(requests, offers, r, o, d, excluded)
        _, pool, _ = nearest_per_request(r[ok], o[ok], d[ok], params.candidate_pool)
        chosen = np.zeros(len(offers), dtype=bool)
        chosen[pool] = True
        social = ok & _tied(trust, history, int(requests.requester_ids[i]), offers) & ~chosen
        chosen |= social
        o = np.flatnonzero(chosen)
        if len(o) == 0:
            continue
        ranked = score_and_rank(requests, offers, r[o], o, d[o], social[o], trust, history, params)
        result[int(requests.ids[i])] = [int(offers.ids[j]) for j in ranked.offer_idx]
    return result
