"""A synthetic town for benchmarks and tests: clustered like real towns, fixed seeds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import History, OfferBatch, RequestBatch, TrustGraph

CENTRE = (52.2650, 6.7930)  # Hengelo


@dataclass
class City:
    requests: RequestBatch
    offers: OfferBatch
    trust: TrustGraph
    history: History


def _clustered_points(rng, n: int, clusters: int, spread_deg: float = 0.02):
    centres = np.column_stack(
        [CENTRE[0] + rng.normal(0, 0.06, clusters), CENTRE[1] + rng.normal(0, 0.1, clusters)]
    )
    weights = rng.pareto(1.5, clusters) + 1
    which = rng.choice(clusters, size=n, p=weights / weights.sum())
    lat = centres[which, 0] + rng.normal(0, spread_deg * 0.6, n)
    lon = centres[which, 1] + rng.normal(0, spread_deg, n)
    return lat, lon, which


def _slots(rng, n: int, density: float) -> np.ndarray:
    bits = rng.random((n, 21)) < density
    return (bits * (1 << np.arange(21))).sum(axis=1).astype(np.int64)


def make_city(
    n_requests: int,
    n_offers: int,
    n_ties: int,
    *,
    seed: int = 0,
    categories: int = 10,
    residents: int | None = None,
) -> City:
    """Requests and offers by residents of one clustered town, with a trust graph."""
    rng = np.random.default_rng(seed)
    residents = residents or (n_requests + n_offers)
    clusters = max(8, residents // 2000)
    home_lat, home_lon, cluster = _clustered_points(rng, residents, clusters)
    streets = cluster * 1000 + rng.integers(0, 40, residents)
    requester = rng.choice(residents, n_requests)
    helper = rng.choice(residents, n_offers)
    popularity = rng.dirichlet(np.ones(categories) * 2)
    cat_bits = rng.random((n_offers, categories)) < (popularity * 2.5)[None, :]
    cat_bits[np.arange(n_offers), rng.choice(categories, n_offers, p=popularity)] = True
    languages = np.where(rng.random(residents) < 0.15, 0b11, 0b1) | np.where(
        rng.random(residents) < 0.05, 0b1000, 0
    )
    requests = RequestBatch(
        ids=np.arange(1, n_requests + 1),
        requester_ids=requester,
        lat=home_lat[requester],
        lon=home_lon[requester],
        category=rng.choice(categories, n_requests, p=popularity),
        max_distance_m=rng.choice([2000, 3000, 5000], n_requests),
        slots=np.where(rng.random(n_requests) < 0.2, 0, _slots(rng, n_requests, 0.15)),
        needs_vog=rng.random(n_requests) < 0.03,
        languages=languages[requester],
        needs_shared_language=rng.random(n_requests) < 0.05,
        street_id=streets[requester],
        neighbourhood_id=cluster[requester],
    )
    offers = OfferBatch(
        ids=np.arange(1, n_offers + 1),
        helper_ids=helper,
        lat=home_lat[helper],
        lon=home_lon[helper],
        category_mask=(cat_bits * (1 << np.arange(categories))).sum(axis=1),
        radius_m=rng.choice([1000, 1500, 2000, 3000, 5000], n_offers),
        slots=_slots(rng, n_offers, 0.35),
        capacity=rng.choice([1, 1, 2, 3], n_offers),
        active_matches=rng.choice([0, 0, 0, 1], n_offers),
        recent_notifications=rng.poisson(0.5, n_offers),
        languages=languages[helper],
        vog_valid=rng.random(n_offers) < 0.15,
        vouched=rng.random(n_offers) < 0.1,
        completed_helps=rng.poisson(1.0, n_offers),
        mean_feedback=np.where(rng.random(n_offers) < 0.5, rng.uniform(0.5, 1, n_offers), np.nan),
        newly_active=rng.random(n_offers) < 0.05,
        street_id=streets[helper],
        neighbourhood_id=cluster[helper],
    )
    # Ties mostly within a cluster (neighbours know neighbours).
    a = rng.choice(residents, n_ties)
    same_cluster = np.flatnonzero(rng.random(n_ties) < 0.8)
    b = rng.choice(residents, n_ties)
    by_cluster = np.argsort(cluster, kind="stable")
    starts = np.searchsorted(cluster[by_cluster], np.arange(clusters))
    ends = np.searchsorted(cluster[by_cluster], np.arange(clusters), side="right")
    ca = cluster[a[same_cluster]]
    span = np.maximum(ends[ca] - starts[ca], 1)
    b[same_cluster] = by_cluster[starts[ca] + (rng.random(len(ca)) * span).astype(np.int64)]
    trust = TrustGraph.from_edges(a, b, rng.uniform(0.3, 1.0, n_ties))
    n_hist = max(1, n_ties // 20)
    history = History(
        requester_ids=rng.choice(residents, n_hist),
        helper_ids=rng.choice(residents, n_hist),
        times=rng.integers(1, 4, n_hist),
    )
    return City(requests, offers, trust, history)
