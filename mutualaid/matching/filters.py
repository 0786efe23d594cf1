"""Hard filters: a candidate that fails any of these is never suggested."""

from __future__ import annotations

import numpy as np

from .types import Exclusions, OfferBatch, RequestBatch


def _pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.asarray(a, np.int64) << 32) ^ (np.asarray(b, np.int64) & 0xFFFFFFFF)


def _in_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


class ExclusionIndex:
    """Sorted pair keys for fast membership tests on millions of candidate pairs."""

    def __init__(self, exclusions: Exclusions) -> None:
        declined = np.asarray(exclusions.declined, np.int64).reshape(-1, 2)
        blocked = np.asarray(exclusions.blocked, np.int64).reshape(-1, 2)
        self.declined = np.sort(_pair_keys(declined[:, 0], declined[:, 1]))
        both = np.concatenate(
            [_pair_keys(blocked[:, 0], blocked[:, 1]), _pair_keys(blocked[:, 1], blocked[:, 0])]
        )
        self.blocked = np.sort(both)

    def allowed(self, request_ids, offer_ids, requester_ids, helper_ids) -> np.ndarray:
        return ~(
            _in_sorted(_pair_keys(request_ids, offer_ids), self.declined)
            | _in_sorted(_pair_keys(requester_ids, helper_ids), self.blocked)
        )


def passes_hard_filters(
    requests: RequestBatch,
    offers: OfferBatch,
    r: np.ndarray,
    o: np.ndarray,
    distance_m: np.ndarray,
    exclusions: ExclusionIndex,
) -> np.ndarray:
    """Boolean mask over candidate pairs (r, o): True where every hard filter passes."""
    category_ok = ((offers.category_mask[o] >> requests.category[r]) & 1).astype(bool)
    distance_ok = (distance_m <= offers.radius_m[o]) & (distance_m <= requests.max_distance_m[r])
    vog_ok = ~requests.needs_vog[r] | offers.vog_valid[o]
    language_ok = ~requests.needs_shared_language[r] | (
        (requests.languages[r] & offers.languages[o]) != 0
    )
    capacity_ok = offers.capacity[o] > offers.active_matches[o]
    not_self = requests.requester_ids[r] != offers.helper_ids[o]
    ok = category_ok & distance_ok & vog_ok & language_ok & capacity_ok & not_self
    if ok.any():
        idx = np.flatnonzero(ok)
        ok[idx] = exclusions.allowed(
            requests.ids[r[idx]],
            offers.ids[o[idx]],
            requests.requester_ids[r[idx]],
            offers.helper_ids[o[idx]],
        )
    return ok
