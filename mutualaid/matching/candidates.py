"""Exact k-nearest candidate generation over active offers, one k-d tree per category.

A request only ever looks at offers of its own category, so each category gets a cKDTree over
the 3-D unit vectors of the offers that offer it. Changed offers go to a small "delta" set that
is searched by brute force and merged, until it is big enough to rebuild the trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .geo import chord_to_metres, unit_vectors
from .types import OfferBatch, RequestBatch

REBUILD_FRACTION = 0.05
REBUILD_MINIMUM = 2000


@dataclass
class Pairs:
    """Candidate pairs (in no particular order); `reach_m` per queried request is the distance
    up to which its list is complete (inf when its category was exhausted)."""

    request_idx: np.ndarray
    offer_idx: np.ndarray
    distance_m: np.ndarray
    reach_m: np.ndarray


class OfferIndex:
    """Per-category k-d trees over offers, with incremental updates."""

    def __init__(self, offers: OfferBatch) -> None:
        self._build(offers)

    def _build(self, offers: OfferBatch) -> None:
        self.offers = offers
        self.vectors = unit_vectors(offers.lat, offers.lon)
        self.alive = np.ones(len(offers), dtype=bool)
        self.live_count = len(offers)
        self.max_radius_m = float(offers.radius_m.max()) if len(offers) else 0.0
        self.position_of = {int(i): p for p, i in enumerate(offers.ids.tolist())}
        self.delta: list[int] = []  # positions added since the trees were built
        self._by_helper: tuple[np.ndarray, np.ndarray] | None = None
        self._helper_table = None
        self.trees: dict[int, tuple[cKDTree, np.ndarray]] = {}
        masks = offers.category_mask
        present = np.bitwise_or.reduce(masks) if len(masks) else 0
        for bit in range(63):
            if present >> bit & 1:
                positions = np.flatnonzero((masks >> bit) & 1)
                self.trees[bit] = (cKDTree(self.vectors[positions]), positions)

    def __len__(self) -> int:
        return self.live_count

    def upsert(self, changed: OfferBatch) -> None:
        """Add new offers and replace changed ones (by id) without rebuilding the trees."""
        if len(changed) == 0:
            return
        self.remove(changed.ids)
        start = len(self.offers)
        self.offers = OfferBatch.concat([self.offers, changed])
        self.vectors = np.vstack([self.vectors, unit_vectors(changed.lat, changed.lon)])
        self.alive = np.concatenate([self.alive, np.ones(len(changed), dtype=bool)])
        self.live_count += len(changed)
        self.max_radius_m = max(self.max_radius_m, float(changed.radius_m.max()))
        for offset, offer_id in enumerate(changed.ids.tolist()):
            self.position_of[int(offer_id)] = start + offset
        self.delta.extend(range(start, start + len(changed)))
        self._by_helper = self._helper_table = None
        if len(self.delta) > max(REBUILD_MINIMUM, REBUILD_FRACTION * len(self.offers)):
            self.compact()

    def remove(self, offer_ids) -> None:
        """Drop offers (paused, deleted, or about to be replaced)."""
        for offer_id in np.asarray(offer_ids, np.int64).tolist():
            position = self.position_of.pop(int(offer_id), None)
            if position is not None:
                self.alive[position] = False
                self.live_count -= 1

    def offers_of_helpers(self, helper_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which helper, offer position) for every live offer of the given helpers."""
        if self._by_helper is None:
            order = np.argsort(self.offers.helper_ids, kind="stable")
            self._by_helper = (self.offers.helper_ids[order], order)
        sorted_helpers, positions = self._by_helper
        helper_ids = np.asarray(helper_ids, np.int64)
        if len(sorted_helpers) == 0 or len(helper_ids) == 0:
            empty = np.empty(0, np.int64)
            return empty, empty
        top = int(sorted_helpers[-1])
        if sorted_helpers[0] >= 0 and top < 10_000_000:
            # Dense tables (first sorted position and count per helper id): O(1) lookups.
            if getattr(self, "_helper_table", None) is None or self._helper_table[2] != top:
                counts = np.bincount(sorted_helpers, minlength=top + 1)
                self._helper_table = (np.cumsum(counts) - counts, counts, top)
            first, counts, _ = self._helper_table
            inside = (helper_ids >= 0) & (helper_ids <= top)
            clipped = np.where(inside, helper_ids, 0)
            lo = first[clipped]
            lengths = np.where(inside, counts[clipped], 0)
        else:
            lo = np.searchsorted(sorted_helpers, helper_ids, side="left")
            lengths = np.searchsorted(sorted_helpers, helper_ids, side="right") - lo
        which = np.repeat(np.arange(len(helper_ids)), lengths)
        flat = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        found = positions[np.repeat(lo, lengths) + flat]
        alive = self.alive[found]
        return which[alive], found[alive]

    def compact(self) -> None:
        """Rebuild the trees over the live offers only."""
        self._build(self.offers.subset(np.flatnonzero(self.alive)))

    def query(self, requests: RequestBatch, k: int, rows: np.ndarray | None = None) -> Pairs:
        """The k nearest live offers of each request's category (for `rows`, default all)."""
        rows = np.arange(len(requests)) if rows is None else np.asarray(rows, np.int64)
        request_vectors = unit_vectors(requests.lat[rows], requests.lon[rows])
        delta = np.asarray(self.delta, dtype=np.int64)
        out_r, out_o, out_d = [], [], []
        reach = np.full(len(requests), np.inf)
        categories = requests.category[rows]
        for bit in np.unique(categories).tolist():
            in_cat = np.flatnonzero(categories == bit)
            found = self._query_category(bit, request_vectors[in_cat], k, delta)
            if found is None:
                continue
            local_r, offer_pos, chord, limit = found
            out_r.append(rows[in_cat][local_r])
            out_o.append(offer_pos)
            out_d.append(chord_to_metres(chord))
            reach[rows[in_cat]] = chord_to_metres(limit)
        if not out_r:
            empty = np.empty(0, np.int64)
            return Pairs(empty, empty, np.empty(0), reach)
        return Pairs(np.concatenate(out_r), np.concatenate(out_o), np.concatenate(out_d), reach)

    def _query_category(self, bit: int, vectors: np.ndarray, k: int, delta: np.ndarray):
        n = len(vectors)
        parts_r, parts_o, parts_c = [], [], []
        limit = np.full(n, np.inf)
        if bit in self.trees:
            tree, positions = self.trees[bit]
            kk = min(k, len(positions))
            # Large batches use both cores; one request stays on this thread (no pool start-up).
            chord, idx = tree.query(vectors, k=kk, workers=-1 if n > 512 else 1)
            chord, idx = chord.reshape(n, kk), idx.reshape(n, kk)
            if kk < len(positions):
                limit = chord[:, -1].copy()  # beyond the k-th nearest we have not looked
            offer_pos = positions[idx]
            # Canonical order per request: by distance, equal distances (same building) by
            # offer position, so downstream can trim without sorting again.
            if kk > 1:
                tied = np.flatnonzero((chord[:, 1:] == chord[:, :-1]).any(axis=1))
                if len(tied):
                    order = np.lexsort((offer_pos[tied], chord[tied]), axis=-1)
                    offer_pos[tied] = np.take_along_axis(offer_pos[tied], order, axis=-1)
                    chord[tied] = np.take_along_axis(chord[tied], order, axis=-1)
            keep = self.alive[offer_pos]
            parts_r.append(np.repeat(np.arange(n), kk)[keep.ravel()])
            parts_o.append(offer_pos[keep])
            parts_c.append(chord[keep])
        if len(delta):
            in_cat = delta[
                ((self.offers.category_mask[delta] >> bit) & 1).astype(bool) & self.alive[delta]
            ]
            if len(in_cat):
                chord = np.linalg.norm(vectors[:, None, :] - self.vectors[in_cat][None], axis=2)
                within = chord <= limit[:, None]
                rr, cc = np.nonzero(within)
                parts_r.append(rr)
                parts_o.append(in_cat[cc])
                parts_c.append(chord[rr, cc])
        if not parts_r:
            return None
        return (np.concatenate(parts_r), np.concatenate(parts_o), np.concatenate(parts_c), limit)
