"""Score parts, each in [0, 1], computed for many candidate pairs at once."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .availability import ALL_SLOTS, popcount
from .params import Params
from .types import TIE_DECLARED, History, OfferBatch, RequestBatch, TrustGraph

# What the explanation says about the tie (the strongest kind wins).
TIE_NONE, TIE_TWO_HOP, TIE_RECOMMENDED, TIE_KNOWS = 0, 1, 2, 3


def proximity(distance_m, same_street, same_neighbourhood, params: Params) -> np.ndarray:
    """Decays with distance; living on the same street or in the same neighbourhood counts."""
    score = (
        np.exp(-np.asarray(distance_m) / params.proximity_scale_m)
        + params.same_street_bonus * same_street
        + params.same_neighbourhood_bonus * same_neighbourhood
    )
    return np.clip(score, 0.0, 1.0)


def availability(request_slots, offer_slots) -> tuple[np.ndarray, np.ndarray]:
    """Share of the request's slots the helper covers (an empty mask means any time).

    Returns the score and the covered slots (for the explanation)."""
    wanted = np.where(request_slots == 0, ALL_SLOTS, request_slots)
    offered = np.where(offer_slots == 0, ALL_SLOTS, offer_slots)
    covered = wanted & offered
    score = popcount(covered) / np.maximum(popcount(wanted), 1)
    return score, np.where(request_slots == 0, 0, covered)


def standing(offers: OfferBatch, o: np.ndarray, params: Params) -> np.ndarray:
    """The helper's standing: vouched, a valid VOG, completed helps, good feedback."""
    helps = 1.0 - np.exp(-offers.completed_helps[o] / params.helps_saturation)
    feedback = np.nan_to_num(offers.mean_feedback[o], nan=0.0)
    return (
        params.standing_vouched * offers.vouched[o]
        + params.standing_vog * offers.vog_valid[o]
        + params.standing_helps * helps
        + params.standing_feedback * feedback
    )


def tie_strength(
    graph: TrustGraph, a_ids: np.ndarray, b_ids: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray]:
    """Direct tie weight, else the best two-hop path (max over k of w(a,k)*w(k,b)), discounted;
    and the TIE_* code per pair for the explanation.

    Done for all pairs at once with sparse row products, not a loop over pairs."""
    result = np.zeros(len(a_ids))
    codes = np.zeros(len(a_ids), np.int64)
    ia, ib = graph.index_of(a_ids), graph.index_of(b_ids)
    known = np.flatnonzero((ia >= 0) & (ib >= 0))
    if len(known) == 0:
        return result, codes
    if len(known) <= SMALL_BATCH_PAIRS:
        direct, kinds, best_two_hop = _ties_small(graph, ia[known], ib[known])
    else:
        matrix = graph.matrix
        rows_a, rows_b = matrix[ia[known]], matrix[ib[known]]
        direct = np.asarray(matrix[ia[known], ib[known]]).ravel()
        kinds = np.zeros(len(known), np.int64)
        tied = np.flatnonzero(direct > 0)  # kinds matter only where there is a direct tie
        if len(tied):
            kinds[tied] = np.asarray(graph.kinds[ia[known[tied]], ib[known[tied]]]).ravel()
        two_hop = rows_a.multiply(rows_b)  # (pairs x residents): w(a,k) * w(k,b)
        best_two_hop = (
            sparse.csr_matrix(two_hop).max(axis=1).toarray().ravel()
            if two_hop.nnz
            else np.zeros(len(known))
        )
    result[known] = np.maximum(direct, params.two_hop_discount * best_two_hop)
    codes[known] = np.select(
        [direct <= 0, (kinds & TIE_DECLARED) != 0],
        [np.where(best_two_hop > 0, TIE_TWO_HOP, TIE_NONE), TIE_KNOWS],
        TIE_RECOMMENDED,
    )
    return result, codes


# Below this many pairs the CSR arrays are read directly: scipy's sparse indexing costs more
# in object set-up than in arithmetic for a single new request.
SMALL_BATCH_PAIRS = 2048


def expand_ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group number, position) for every position in the half-open ranges [start, end)."""
    lengths = np.maximum(ends - starts, 0)
    group = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return group, np.repeat(starts, lengths) + offsets


def _rows(matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pair number, neighbour, weight, flat position) for every stored entry of the rows."""
    pair, flat = expand_ranges(matrix.indptr[rows], matrix.indptr[rows + 1])
    return pair, matrix.indices[flat], matrix.data[flat], flat


def _ties_small(graph: TrustGraph, ia: np.ndarray, ib: np.ndarray) -> tuple:
    """Direct tie (weight, kinds) and best two-hop strength for a few pairs, straight from
    the CSR arrays."""
    matrix = graph.matrix
    n = matrix.shape[1]
    pa, ka, wa, flat_a = _rows(matrix, ia)
    pb, kb, wb, _ = _rows(matrix, ib)
    key_a = pa.astype(np.int64) * n + ka
    direct = np.zeros(len(ia))
    kinds = np.zeros(len(ia), np.int64)
    hit = np.flatnonzero(np.isin(key_a, np.arange(len(ia), dtype=np.int64) * n + ib))
    direct[pa[hit]] = wa[hit]
    kinds[pa[hit]] = graph.kinds.data[flat_a[hit]]
    _, in_a, in_b = np.intersect1d(
        key_a, pb.astype(np.int64) * n + kb, assume_unique=True, return_indices=True
    )
    best = np.zeros(len(ia))
    np.maximum.at(best, pa[in_a], wa[in_a] * wb[in_b])
    return direct, kinds, best


def trust(
    graph: TrustGraph, requester_ids, helper_ids, offers: OfferBatch, o, params: Params
) -> tuple[np.ndarray, np.ndarray]:
    """Trust part (ties and standing) and the TIE_* code per pair (for the explanation)."""
    ties, codes = tie_strength(graph, requester_ids, helper_ids, params)
    score = params.tie_share * ties + (1 - params.tie_share) * standing(offers, o, params)
    return np.clip(score, 0.0, 1.0), codes


def times_helped(history: History, requester_ids, helper_ids) -> np.ndarray:
    """How often this helper completed help for this requester before."""
    if len(history.times) == 0:
        return np.zeros(len(requester_ids), dtype=np.int64)
    keys, times = history.sorted_keys()
    wanted = (np.asarray(requester_ids, np.int64) << 32) ^ np.asarray(helper_ids, np.int64)
    pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[pos] == wanted, times[pos], 0)


def continuity(times: np.ndarray) -> np.ndarray:
    """Helped before: 0, once 0.5, twice 0.75, ... (saturating)."""
    return 1.0 - 0.5 ** np.asarray(times, dtype=np.float64)


def language_fit(request_languages, offer_languages) -> np.ndarray:
    """1 when they share a language, else 0."""
    return ((np.asarray(request_languages) & np.asarray(offer_languages)) != 0).astype(float)


def fairness(offers: OfferBatch, o: np.ndarray, params: Params) -> np.ndarray:
    """Spreads the work: fewer active matches and recent notifications score higher; a newly
    active helper who has not helped yet gets a fair first chance."""
    load = 1.0 / (1.0 + offers.active_matches[o])
    asked = 1.0 / (1.0 + params.notification_penalty * offers.recent_notifications[o])
    score = load * asked
    newcomer = offers.newly_active[o] & (offers.completed_helps[o] == 0)
    return np.where(newcomer, np.maximum(score, params.newcomer_floor), score)


def score_pairs(
    requests: RequestBatch,
    offers: OfferBatch,
    r,
    o,
    distance_m,
    graph: TrustGraph,
    history: History,
    params: Params,
) -> dict[str, np.ndarray]:
    """All parts for candidate pairs (r, o), plus the facts the explanation needs."""
    same_street = (requests.street_id[r] >= 0) & (requests.street_id[r] == offers.street_id[o])
    same_nb = (requests.neighbourhood_id[r] >= 0) & (
        requests.neighbourhood_id[r] == offers.neighbourhood_id[o]
    )
    requester, helper = requests.requester_ids[r], offers.helper_ids[o]
    avail, covered = availability(requests.slots[r], offers.slots[o])
    trust_part, tie_codes = trust(graph, requester, helper, offers, o, params)
    helped = times_helped(history, requester, helper)
    parts = np.column_stack(
        [
            proximity(distance_m, same_street, same_nb, params),
            avail,
            trust_part,
            continuity(helped),
            language_fit(requests.languages[r], offers.languages[o]),
            fairness(offers, o, params),
        ]
    )
    return {
        "parts": parts,
        "same_street": same_street,
        "same_neighbourhood": same_nb,
        "overlap_slots": covered,
        "times_helped": helped,
        "tie": tie_codes,
    }
