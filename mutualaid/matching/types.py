"""The engine's inputs and outputs: plain dataclasses of numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy import sparse

from .errors import EngineInputError


def _check_lengths(batch, name: str) -> int:
    lengths = {f.name: len(getattr(batch, f.name)) for f in fields(batch)}
    n = lengths["ids"]
    wrong = [k for k, v in lengths.items() if v != n]
    if wrong:
        raise EngineInputError(
            f"{name}.{wrong[0]}", f"has {lengths[wrong[0]]} values, expected {n} (one per id)"
        )
    return n


def _check_coordinates(lat: np.ndarray, lon: np.ndarray, name: str) -> None:
    for field, values, limit in (("lat", lat, 90), ("lon", lon, 180)):
        bad = ~np.isfinite(values) | (np.abs(values) > limit)
        if bad.any():
            raise EngineInputError(
                f"{name}.{field}",
                f"{int(bad.sum())} value(s) missing or "
                f"outside -{limit}..{limit} (first at row {int(np.argmax(bad))})",
            )


def _as(values, dtype) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=dtype))


@dataclass
class RequestBatch:
    """Open help requests. `category` is a bit position 0..62; slots 0 means any time."""

    ids: np.ndarray
    requester_ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    category: np.ndarray
    max_distance_m: np.ndarray
    slots: np.ndarray
    needs_vog: np.ndarray
    languages: np.ndarray
    needs_shared_language: np.ndarray
    street_id: np.ndarray
    neighbourhood_id: np.ndarray

    def __post_init__(self) -> None:
        for name, dtype in (
            ("ids", np.int64),
            ("requester_ids", np.int64),
            ("lat", np.float64),
            ("lon", np.float64),
            ("category", np.int64),
            ("max_distance_m", np.float64),
            ("slots", np.int64),
            ("needs_vog", bool),
            ("languages", np.int64),
            ("needs_shared_language", bool),
            ("street_id", np.int64),
            ("neighbourhood_id", np.int64),
        ):
            try:
                setattr(self, name, _as(getattr(self, name), dtype))
            except (TypeError, ValueError) as exc:
                raise EngineInputError(f"requests.{name}", f"not {dtype.__name__}: {exc}") from None
        _check_lengths(self, "requests")
        _check_coordinates(self.lat, self.lon, "requests")
        bad = (self.category < 0) | (self.category > 62)
        if bad.any():
            raise EngineInputError("requests.category", "must be a category bit 0..62")
        if (~np.isfinite(self.max_distance_m) | (self.max_distance_m <= 0)).any():
            raise EngineInputError("requests.max_distance_m", "must be positive")

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: np.ndarray) -> RequestBatch:
        """The requests at these positions."""
        return RequestBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class OfferBatch:
    """Active offers. `category_mask` has bit c set for every category c offered."""

    ids: np.ndarray
    helper_ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    category_mask: np.ndarray
    radius_m: np.ndarray
    slots: np.ndarray
    capacity: np.ndarray
    active_matches: np.ndarray
    recent_notifications: np.ndarray
    languages: np.ndarray
    vog_valid: np.ndarray
    vouched: np.ndarray
    completed_helps: np.ndarray
    mean_feedback: np.ndarray
    newly_active: np.ndarray
    street_id: np.ndarray
    neighbourhood_id: np.ndarray

    def __post_init__(self) -> None:
        dtypes = {
            "lat": np.float64,
            "lon": np.float64,
            "radius_m": np.float64,
            "mean_feedback": np.float64,
            "vog_valid": bool,
            "vouched": bool,
            "newly_active": bool,
        }
        for f in fields(self):
            dtype = dtypes.get(f.name, np.int64)
            try:
                setattr(self, f.name, _as(getattr(self, f.name), dtype))
            except (TypeError, ValueError) as exc:
                raise EngineInputError(f"offers.{f.name}", f"not {dtype.__name__}: {exc}") from None
        _check_lengths(self, "offers")
        _check_coordinates(self.lat, self.lon, "offers")
        if (~np.isfinite(self.radius_m) | (self.radius_m <= 0)).any():
            raise EngineInputError("offers.radius_m", "must be positive")
        if (self.capacity < 0).any() or (self.active_matches < 0).any():
            raise EngineInputError("offers.capacity", "capacity and active_matches must be >= 0")

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: np.ndarray) -> OfferBatch:
        """The offers at these positions."""
        return OfferBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def concat(cls, batches: list[OfferBatch]) -> OfferBatch:
        return cls(
            **{f.name: np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(cls)}
        )


# Kinds of direct tie, as bits (a pair can have several): declared or derived from help
# (`knows`, `group`, `helped`), and both vouched for by the same community worker.
TIE_DECLARED = 1
TIE_VOUCH = 2


class TrustGraph:
    """Symmetric trust weights in [0, 1] between residents, as a sparse CSR matrix, with the
    kind bits of each tie in `kinds` (same sparsity structure)."""

    def __init__(
        self,
        resident_ids: np.ndarray,
        matrix: sparse.csr_matrix,
        kinds: sparse.csr_matrix | None = None,
    ) -> None:
        self.resident_ids = np.asarray(resident_ids, dtype=np.int64)  # sorted
        self.matrix = matrix.tocsr()
        if kinds is None:
            kinds = self.matrix.copy()
            kinds.data = np.full(len(kinds.data), TIE_DECLARED, np.int64)
        self.kinds = kinds

    @classmethod
    def from_edges(cls, a, b, weight, kind=None) -> TrustGraph:
        """Build from edge lists; the strongest weight per pair counts, in both directions,
        and the kinds of all its edges are kept (default: declared)."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        weight = np.asarray(weight, np.float64)
        kind = (
            np.full(len(a), TIE_DECLARED, np.int64) if kind is None else np.asarray(kind, np.int64)
        )
        if not (len(a) == len(b) == len(weight) == len(kind)):
            raise EngineInputError("trust", "edge lists a, b, weight and kind differ in length")
        if len(weight) and (~np.isfinite(weight) | (weight < 0) | (weight > 1)).any():
            raise EngineInputError("trust.weight", "weights must lie in [0, 1]")
        keep = (a != b) & (weight > 0)
        a, b, weight, kind = a[keep], b[keep], weight[keep], kind[keep]
        ids = np.unique(np.concatenate([a, b]))
        ia, ib = np.searchsorted(ids, a), np.searchsorted(ids, b)
        rows, cols = np.concatenate([ia, ib]), np.concatenate([ib, ia])
        data = np.concatenate([weight, weight])
        kinds = np.concatenate([kind, kind])
        n = len(ids)
        keys = rows.astype(np.int64) * n + cols
        order = np.lexsort((data, keys))  # by pair, strongest weight last
        keys, data, kinds = keys[order], data[order], kinds[order]
        if len(keys):
            first = np.r_[True, keys[1:] != keys[:-1]]
            kinds = np.bitwise_or.reduceat(kinds, np.flatnonzero(first))
            last = np.r_[keys[1:] != keys[:-1], True]
            keys, data = keys[last], data[last]
        # Keys are unique and sorted row-major: the CSR arrays follow directly (canonical,
        # sorted indices), and the kinds share the structure entry for entry.
        width = max(n, 1)
        indptr = np.r_[0, np.cumsum(np.bincount(keys // width, minlength=n))].astype(np.int64)
        indices = (keys % width).astype(np.int32)
        matrix = sparse.csr_matrix((data, indices, indptr), shape=(n, n))
        kind_matrix = sparse.csr_matrix((kinds.astype(np.int64), indices, indptr), shape=(n, n))
        return cls(ids, matrix, kind_matrix)

    @classmethod
    def empty(cls) -> TrustGraph:
        return cls(np.empty(0, np.int64), sparse.csr_matrix((0, 0)))

    def index_of(self, resident_ids: np.ndarray) -> np.ndarray:
        """Row index per resident, -1 for residents without ties."""
        ids = np.asarray(resident_ids, np.int64)
        if len(self.resident_ids) == 0:
            return np.full(len(ids), -1, np.int64)
        top = int(self.resident_ids[-1])
        if top < 50_000_000 and self.resident_ids[0] >= 0:
            # A dense id -> row table: O(1) per lookup instead of a binary search.
            if getattr(self, "_lookup", None) is None:
                self._lookup = np.full(top + 1, -1, np.int64)
                self._lookup[self.resident_ids] = np.arange(len(self.resident_ids))
            inside = (ids >= 0) & (ids <= top)
            return np.where(inside, self._lookup[np.clip(ids, 0, top)], -1)
        pos = np.searchsorted(self.resident_ids, ids)
        pos_clipped = np.minimum(pos, len(self.resident_ids) - 1)
        return np.where(self.resident_ids[pos_clipped] == ids, pos_clipped, -1)


@dataclass
class Exclusions:
    """Pairs never to suggest: declined (request id, offer id) and blocked (resident, resident)."""

    declined: np.ndarray  # (n, 2)
    blocked: np.ndarray  # (n, 2), either direction blocks

    @classmethod
    def none(cls) -> Exclusions:
        return cls(np.empty((0, 2), np.int64), np.empty((0, 2), np.int64))


@dataclass
class History:
    """How often each helper completed help for each requester (for continuity)."""

    requester_ids: np.ndarray
    helper_ids: np.ndarray
    times: np.ndarray

    def sorted_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(pair keys, times) sorted by key; computed once, reused for every ranking."""
        if getattr(self, "_sorted", None) is None:
            keys = (np.asarray(self.requester_ids, np.int64) << 32) ^ np.asarray(
                self.helper_ids, np.int64
            )
            order = np.argsort(keys)
            self._sorted = (keys[order], np.asarray(self.times, np.int64)[order])
        return self._sorted

    @classmethod
    def none(cls) -> History:
        empty = np.empty(0, np.int64)
        return cls(empty, empty, empty)


@dataclass
class Candidates:
    """Ranked candidates: rows grouped by request (request order), best first within each."""

    request_idx: np.ndarray  # position in the RequestBatch
    offer_idx: np.ndarray  # position in the OfferBatch
    rank: np.ndarray  # 1 = best
    total: np.ndarray
    parts: np.ndarray  # (n, 6) float32, PART_NAMES order
    distance_m: np.ndarray
    same_street: np.ndarray
    same_neighbourhood: np.ndarray
    overlap_slots: np.ndarray  # the request's slots the helper covers (mask)
    times_helped: np.ndarray
    tie: np.ndarray  # TIE_* code of the strongest tie kind (see scoring.tie_codes)
    vouched: np.ndarray  # the helper is vouched for by a community worker
    social_only: np.ndarray  # found only through a tie or past help, not by proximity

    def __len__(self) -> int:
        return len(self.request_idx)

    def take(self, index: np.ndarray) -> Candidates:
        return Candidates(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def empty(cls) -> Candidates:
        i = np.empty(0, np.int64)
        f = np.empty(0, np.float64)
        b = np.empty(0, bool)
        return cls(i, i, i, f, np.empty((0, 6), np.float32), f, b, b, i, i, i, b, b)
