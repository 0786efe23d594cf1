"""A brute-force reference ranking: every request against every offer. Slow and obviously
correct; tests and the benchmark check the fast engine against it."""

from __future__ import annotations

import numpy as np

from .filters import ExclusionIndex, passes_hard_filters
from .geo import haversine_m
from .params import DEFAULT_PARAMS, Params
from .ranking import nearest_per_request, top_k_order
from .scoring import score_pairs
from .types import Exclusions, History, OfferBatch, RequestBatch, TrustGraph


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
    result: dict[int, list[int]] = {}
    for i in range(len(requests)):
        r = np.full(len(offers), i)
        o = np.arange(len(offers))
        d = haversine_m(requests.lat[i], requests.lon[i], offers.lat, offers.lon)
        ok = passes_hard_filters(requests, offers, r, o, d, excluded)
        r, o, d = nearest_per_request(r[ok], o[ok], d[ok], params.candidate_pool)
        if len(r) == 0:
            continue
        facts = score_pairs(
            requests,
            offers,
            r,
            o,
            d,
            trust or TrustGraph.empty(),
            history or History.none(),
            params,
        )
        total = facts["parts"] @ params.weights.as_array()
        keep, _ = top_k_order(r, total, o, params.top_k)
        result[int(requests.ids[i])] = [int(offers.ids[j]) for j in o[keep]]
    return result
