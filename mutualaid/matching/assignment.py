"""Batch assignment: give as many requests as possible a helper, under helper capacity.

Optimal: min-cost max-flow (OR-Tools) over the candidate graph, so the most requests get a
helper and, among such assignments, the total score is highest. Greedy (best pair first) is the
quality floor; independent top-1 shows what happens when everyone gets their favourite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COST_SCALE = 1000  # scores in [0, 1] become integer costs 0..1000


@dataclass
class Assignment:
    """Chosen candidate rows (positions into the Candidates) and how many requests got one."""

    rows: np.ndarray
    matched: int


def _capacity_of(offer_idx: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    return np.asarray(remaining, np.int64)[offer_idx]


def assign_optimal(
    request_idx: np.ndarray,
    offer_idx: np.ndarray,
    score: np.ndarray,
    remaining_capacity: np.ndarray,
) -> Assignment:
    """Maximum number of requests matched, then maximum total score (min-cost max-flow)."""
    from ortools.graph.python import min_cost_flow

    if len(request_idx) == 0:
        return Assignment(np.empty(0, np.int64), 0)
    requests, r_node = np.unique(request_idx, return_inverse=True)
    offers, o_node = np.unique(offer_idx, return_inverse=True)
    n_r, n_o = len(requests), len(offers)
    source, sink = n_r + n_o, n_r + n_o + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    # source -> request (1), request -> offer (1, cost = 1 - score), offer -> sink (capacity)
    tails = np.concatenate([np.full(n_r, source), r_node, n_r + np.arange(n_o)])
    heads = np.concatenate([np.arange(n_r), n_r + o_node, np.full(n_o, sink)])
    capacity = np.concatenate(
        [
            np.ones(n_r, np.int64),
            np.ones(len(r_node), np.int64),
            np.maximum(np.asarray(remaining_capacity, np.int64)[offers], 0),
        ]
    )
    cost = np.concatenate(
        [
            np.zeros(n_r, np.int64),
            np.round((1.0 - np.clip(score, 0, 1)) * COST_SCALE).astype(np.int64),
            np.zeros(n_o, np.int64),
        ]
    )
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacity, cost)
    # Max-flow with min cost: the source may send up to one unit per request.
    flow.set_node_supply(source, n_r)
    flow.set_node_supply(sink, -n_r)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    pair_arcs = arcs[n_r : n_r + len(r_node)]
    chosen = np.flatnonzero(flow.flows(pair_arcs) > 0)
    return Assignment(chosen, len(chosen))


def assign_greedy(
    request_idx: np.ndarray,
    offer_idx: np.ndarray,
    score: np.ndarray,
    remaining_capacity: np.ndarray,
) -> Assignment:
    """Best pair first, while the request is unserved and the helper has room."""
    left = np.asarray(remaining_capacity, np.int64).copy()
    served = set()
    chosen = []
    for row in np.lexsort((offer_idx, -np.asarray(score))).tolist():
        r, o = int(request_idx[row]), int(offer_idx[row])
        if r not in served and left[o] > 0:
            served.add(r)
            left[o] -= 1
            chosen.append(row)
    return Assignment(np.asarray(chosen, np.int64), len(chosen))


def assign_independent_top1(
    request_idx: np.ndarray,
    offer_idx: np.ndarray,
    score: np.ndarray,
    remaining_capacity: np.ndarray,
) -> Assignment:
    """Everyone asks their own best helper; a helper serves only as many as they have room for."""
    order = np.lexsort((offer_idx, -np.asarray(score), request_idx))
    first = order[np.r_[True, request_idx[order][1:] != request_idx[order][:-1]]]
    left = np.asarray(remaining_capacity, np.int64).copy()
    chosen = []
    for row in first[np.argsort(-np.asarray(score)[first], kind="stable")].tolist():
        o = int(offer_idx[row])
        if left[o] > 0:
            left[o] -= 1
            chosen.append(row)
    return Assignment(np.asarray(chosen, np.int64), len(chosen))


def compare_assignments(request_idx, offer_idx, score, remaining_capacity) -> dict[str, float]:
    """Matched counts of the three strategies and the optimum's gain over greedy (percent)."""
    optimal = assign_optimal(request_idx, offer_idx, score, remaining_capacity).matched
    greedy = assign_greedy(request_idx, offer_idx, score, remaining_capacity).matched
    top1 = assign_independent_top1(request_idx, offer_idx, score, remaining_capacity).matched
    return {
        "optimal": optimal,
        "greedy": greedy,
        "independent_top1": top1,
        "gain_vs_greedy_pct": round(100.0 * (optimal - greedy) / max(greedy, 1), 2),
        "gain_vs_top1_pct": round(100.0 * (optimal - top1) / max(top1, 1), 2),
    }
