"""Small hand-made towns for engine tests: defaults for every column, override what matters."""

from __future__ import annotations

import numpy as np

from mutualaid.matching import OfferBatch, RequestBatch

CENTRE = (52.2650, 6.7930)
METRE_LAT = 1 / 111_195.0  # degrees of latitude per metre


def north_of_centre(metres: float) -> tuple[float, float]:
    return CENTRE[0] + metres * METRE_LAT, CENTRE[1]


def requests(n: int = 1, **columns) -> RequestBatch:
    base = {
        "ids": np.arange(1, n + 1),
        "requester_ids": np.arange(1001, 1001 + n),
        "lat": np.full(n, CENTRE[0]),
        "lon": np.full(n, CENTRE[1]),
        "category": np.zeros(n, int),
        "max_distance_m": np.full(n, 5000.0),
        "slots": np.zeros(n, int),
        "needs_vog": np.zeros(n, bool),
        "languages": np.ones(n, int),
        "needs_shared_language": np.zeros(n, bool),
        "street_id": np.full(n, -1),
        "neighbourhood_id": np.full(n, -1),
    }
    base.update({k: np.asarray(v) for k, v in columns.items()})
    return RequestBatch(**base)


def offers(distances_m, **columns) -> OfferBatch:
    """Offers due north of the centre at the given distances (ids 1..n, helpers 2001..)."""
    n = len(distances_m)
    lat = np.array([north_of_centre(d)[0] for d in distances_m])
    base = {
        "ids": np.arange(1, n + 1),
        "helper_ids": np.arange(2001, 2001 + n),
        "lat": lat,
        "lon": np.full(n, CENTRE[1]),
        "category_mask": np.ones(n, int),
        "radius_m": np.full(n, 5000.0),
        "slots": np.zeros(n, int),
        "capacity": np.ones(n, int),
        "active_matches": np.zeros(n, int),
        "recent_notifications": np.zeros(n, int),
        "languages": np.ones(n, int),
        "vog_valid": np.zeros(n, bool),
        "vouched": np.zeros(n, bool),
        "completed_helps": np.zeros(n, int),
        "mean_feedback": np.full(n, np.nan),
        "newly_active": np.zeros(n, bool),
        "street_id": np.full(n, -1),
        "neighbourhood_id": np.full(n, -1),
    }
    base.update({k: np.asarray(v) for k, v in columns.items()})
    return OfferBatch(**base)


def ranked_offer_ids(candidates, request_batch, offer_batch, request_pos: int = 0) -> list[int]:
    rows = np.flatnonzero(candidates.request_idx == request_pos)
    rows = rows[np.argsort(candidates.rank[rows])]
    return offer_batch.ids[candidates.offer_idx[rows]].tolist()
