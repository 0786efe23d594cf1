"""The second candidate source: helpers the requester already trusts.

Proximity alone misses them where a street is busy: the neighbour who helped twice last month
may live just beyond the nearest offers. Every offer of a helper with a direct tie to the
requester (any kind: knows, group, helped, vouched by the same worker) or who completed help
for them before is a candidate too, if it passes every hard filter. Two-hop trust is a score
part only, never a source. Built from the CSR arrays and the sorted history keys: no loop over
requests.
"""

from __future__ import annotations

import numpy as np

from .candidates import OfferIndex
from .filters import ExclusionIndex, passes_hard_filters
from .geo import chord_to_metres, unit_vectors
from .scoring import expand_ranges
from .types import History, RequestBatch, TrustGraph


def tied_helpers(
    requester_ids: np.ndarray, trust: TrustGraph, history: History
) -> tuple[np.ndarray, np.ndarray]:
    """(requester position, helper id) for every direct tie and every past helper."""
    requester_ids = np.asarray(requester_ids, np.int64)
    positions, helpers = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    row = trust.index_of(requester_ids)
    known = np.flatnonzero(row >= 0)
    if len(known):
        indptr = trust.matrix.indptr
        pair, flat = expand_ranges(indptr[row[known]], indptr[row[known] + 1])
        strong = trust.matrix.data[flat] > 0
        positions.append(known[pair[strong]])
        helpers.append(trust.resident_ids[trust.matrix.indices[flat[strong]]])
    if len(history.times):
        keys, times = history.sorted_keys()  # requester in the high 32 bits: grouped by them
        lo = np.searchsorted(keys, requester_ids << 32)
        hi = np.searchsorted(keys, (requester_ids + 1) << 32)
        pair, flat = expand_ranges(lo, hi)
        helped = times[flat] > 0
        positions.append(pair[helped])
        helpers.append(keys[flat[helped]] & 0xFFFFFFFF)
    return np.concatenate(positions), np.concatenate(helpers)


def social_pairs(
    index: OfferIndex,
    requests: RequestBatch,
    trust: TrustGraph,
    history: History,
    exclusions: ExclusionIndex,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(request row, offer position, distance) of tied helpers' offers that pass every hard
    filter, each pair once."""
    rows, helpers = tied_helpers(requests.requester_ids, trust, history)
    which, o = index.offers_of_helpers(helpers)
    r = rows[which]
    offers = index.offers
    # Category first: it drops most pairs before any distance is computed.
    same = ((offers.category_mask[o] >> requests.category[r]) & 1).astype(bool)
    r, o = r[same], o[same]
    if len(r) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0)
    keys = np.sort(r.astype(np.int64) * len(offers) + o)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]]  # each pair once (sorted: no hashing)
    r, o = keys // len(offers), keys % len(offers)
    chord = np.linalg.norm(
        unit_vectors(requests.lat[r], requests.lon[r]) - index.vectors[o], axis=1
    )
    d = chord_to_metres(chord)
    ok = passes_hard_filters(requests, offers, r, o, d, exclusions)
    return r[ok], o[ok], d[ok]


def union_pairs(
    spatial: tuple[np.ndarray, np.ndarray, np.ndarray],
    social: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_offers: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spatial pairs followed by the social pairs not among them; and which came only socially."""
    r, o, d = spatial
    sr, so, sd = social
    if len(sr) == 0:
        return r, o, d, np.zeros(len(r), dtype=bool)
    # Only the spatial pairs of requests that have social pairs can collide.
    involved = np.zeros(int(max(r.max(initial=0), sr.max())) + 1, dtype=bool)
    involved[sr] = True
    mine = np.flatnonzero(involved[r])
    spatial_keys = r[mine].astype(np.int64) * n_offers + o[mine]
    # The social keys are few and sorted (social_pairs emits them so): look the spatial keys
    # up in them, and mark the social pairs that were found.
    social_keys = sr.astype(np.int64) * n_offers + so
    order = np.argsort(social_keys, kind="stable")
    ordered = social_keys[order]
    pos = np.minimum(np.searchsorted(ordered, spatial_keys), len(ordered) - 1)
    fresh = np.ones(len(sr), dtype=bool)
    fresh[order[pos[ordered[pos] == spatial_keys]]] = False
    social_only = np.r_[np.zeros(len(r), dtype=bool), np.ones(int(fresh.sum()), dtype=bool)]
    return (
        np.concatenate([r, sr[fresh]]),
        np.concatenate([o, so[fresh]]),
        np.concatenate([d, sd[fresh]]),
        social_only,
    )
