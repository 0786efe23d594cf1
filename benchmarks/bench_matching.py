"""Benchmark of the matching engine on a synthetic city, with baselines in the same run.

    python benchmarks/bench_matching.py [--tier S|M|L] [--runs 3] [--persist]

Prints the figures as it goes; the last line is one JSON object. Timings are medians of
--runs runs. `--persist` also writes the suggestions to the configured database
(DATABASE_URL, default a temporary SQLite file) through the service layer's writer, then
stores the same suggestions again (an unchanged re-match).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mutualaid import matching as engine
from mutualaid.matching.filters import ExclusionIndex
from mutualaid.matching.ranking import _gather
from mutualaid.matching.reference import reference_rank
from mutualaid.matching.scoring import score_pairs
from mutualaid.matching.social import social_pairs
from mutualaid.matching.synthetic import make_city

TIERS = {
    "S": (10_000, 10_000, 100_000),
    "M": (100_000, 100_000, 1_000_000),
    "L": (100_000, 1_000_000, 1_000_000),
}


def median_time(func, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def candidates_only(city, k: int):
    """Both candidate sources: the k nearest per request, and the tied helpers' offers."""
    index = engine.OfferIndex(city.offers)
    excluded = ExclusionIndex(engine.Exclusions.none())
    return index.query(city.requests, k), social_pairs(
        index, city.requests, city.trust, city.history, excluded
    )


def balltree_baseline(city, k: int, sample: int) -> float:
    """sklearn BallTree(haversine), per category like the engine; timed on a request sample
    and scaled to all requests (the tree builds are timed in full)."""
    from sklearn.neighbors import BallTree

    offers, requests = city.offers, city.requests
    rng = np.random.default_rng(0)
    rows = rng.choice(len(requests), min(sample, len(requests)), replace=False)
    build, query = 0.0, 0.0
    for bit in np.unique(requests.category).tolist():
        positions = np.flatnonzero((offers.category_mask >> bit) & 1)
        if len(positions) == 0:
            continue
        start = time.perf_counter()
        tree = BallTree(
            np.radians(np.column_stack([offers.lat[positions], offers.lon[positions]])),
            metric="haversine",
        )
        build += time.perf_counter() - start
        mine = rows[requests.category[rows] == bit]
        if len(mine):
            start = time.perf_counter()
            tree.query(
                np.radians(np.column_stack([requests.lat[mine], requests.lon[mine]])),
                k=min(k, len(positions)),
            )
            query += time.perf_counter() - start
    return build + query * len(requests) / len(rows)


def naive_baseline(city, sample_requests: int = 3) -> tuple[float, float]:
    """A pure-Python pairwise loop with geopy distances on a sample; seconds per pair."""
    from geopy.distance import great_circle

    offers, requests = city.offers, city.requests
    n_offers = min(len(offers), 20_000)
    pairs = 0
    start = time.perf_counter()
    for i in range(sample_requests):
        best = []
        for j in range(n_offers):
            if not (int(offers.category_mask[j]) >> int(requests.category[i])) & 1:
                pairs += 1
                continue
            d = great_circle(
                (requests.lat[i], requests.lon[i]), (offers.lat[j], offers.lon[j])
            ).meters
            if d <= offers.radius_m[j] and d <= requests.max_distance_m[i]:
                best.append((math.exp(-d / 1500), j))
            pairs += 1
        best.sort(reverse=True)
    per_pair = (time.perf_counter() - start) / pairs
    return per_pair, per_pair * len(requests) * len(offers)


def single_request_latency(city, samples: int = 1000) -> tuple[float, float]:
    index = engine.OfferIndex(city.offers)
    rng = np.random.default_rng(1)
    rows = rng.choice(len(city.requests), samples, replace=False)
    times = []
    for row in rows.tolist():
        one = city.requests.subset(np.array([row]))
        start = time.perf_counter()
        engine.rank(one, index, city.trust, None, city.history)
        times.append(time.perf_counter() - start)
    times = np.array(times[10:]) * 1e6  # the first few warm caches up
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def agreement(city, sample: int = 1000) -> float:
    rows = np.arange(min(sample, len(city.requests)))
    requests = city.requests.subset(rows)
    fast_c = engine.rank(requests, city.offers, city.trust, history=city.history)
    fast: dict[int, list[int]] = {}
    for row in np.lexsort((fast_c.rank, fast_c.request_idx)).tolist():
        fast.setdefault(int(requests.ids[fast_c.request_idx[row]]), []).append(
            int(city.offers.ids[fast_c.offer_idx[row]])
        )
    slow = reference_rank(requests, city.offers, city.trust, history=city.history)
    same = sum(fast.get(r) == slow.get(r) for r in set(fast) | set(slow))
    return same / max(len(set(fast) | set(slow)), 1)


def scarce_assignment(city, candidates) -> dict:
    """Few helpers for many requests: one place per helper and a third of the offers."""
    keep = (city.offers.ids[candidates.offer_idx] % 3) == 0
    remaining = np.ones(len(city.offers), dtype=np.int64)
    r, o, s = candidates.request_idx[keep], candidates.offer_idx[keep], candidates.total[keep]
    start = time.perf_counter()
    optimal = engine.assign_optimal(r, o, s, remaining)
    seconds = time.perf_counter() - start
    compared = engine.compare_assignments(r, o, s, remaining)
    chosen_distance = candidates.distance_m[keep][optimal.rows].sum()
    greedy = engine.assign_greedy(r, o, s, remaining)
    greedy_distance = candidates.distance_m[keep][greedy.rows].sum()
    return {
        "assign_s": seconds,
        **compared,
        "mean_km_optimal": round(chosen_distance / max(optimal.matched, 1) / 1000, 3),
        "mean_km_greedy": round(greedy_distance / max(greedy.matched, 1) / 1000, 3),
    }


def balanced_assignment(city, candidates) -> dict:
    """As many places as requests: one place per helper, and (where offers outnumber
    requests, tier L) an evenly spread subset of the offers."""
    step = max(1, math.ceil(len(city.offers) / len(city.requests)))
    keep = (city.offers.ids[candidates.offer_idx] % step) == 0
    remaining = np.ones(len(city.offers), dtype=np.int64)
    r, o, s = candidates.request_idx[keep], candidates.offer_idx[keep], candidates.total[keep]
    start = time.perf_counter()
    compared = engine.compare_assignments(r, o, s, remaining)
    return {"assign_s": time.perf_counter() - start, **compared}


def learning_quality(candidates, seed: int = 5) -> dict:
    """Simulated outcomes on the ranked suggestions: residents here accept mostly for
    availability and trust. Learned weights vs the defaults, NDCG@5 on held-out requests."""
    rng = np.random.default_rng(seed)
    parts = candidates.parts.astype(np.float64)
    utility = 3.0 * parts[:, 1] + 2.0 * parts[:, 2] + 0.5 * parts[:, 0] - 3.0
    labels = (rng.random(len(parts)) < 1 / (1 + np.exp(-utility))).astype(np.int64)
    sample = candidates.request_idx < 20_000
    start = time.perf_counter()
    result = engine.fit_weights(parts[sample], labels[sample], candidates.request_idx[sample])
    return {
        "learn_s": time.perf_counter() - start,
        "learned": result.learned,
        "weights": result.weights.as_dict(),
        **result.metrics,
    }


def persist(city, candidates) -> dict:
    from benchmarks.persist_helper import time_persist

    return time_persist(city, candidates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=TIERS, default="M")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--persist", action="store_true")
    args = parser.parse_args()
    n_req, n_off, n_ties = TIERS[args.tier]
    print(f"tier {args.tier}: {n_req:,} requests x {n_off:,} offers, {n_ties:,} ties")
    start = time.perf_counter()
    city = make_city(n_req, n_off, n_ties, seed=42)
    print(f"synthetic city built in {time.perf_counter() - start:.1f} s")
    params = engine.DEFAULT_PARAMS

    candidates_s, (_, social) = median_time(
        lambda: candidates_only(city, params.initial_k), args.runs
    )
    print(
        f"candidates (index build + k={params.initial_k} query + {len(social[0]):,} tied "
        f"helpers' offers through the hard filters): {candidates_s:.3f} s"
    )
    rank_s, ranked = median_time(
        lambda: engine.rank(city.requests, city.offers, city.trust, None, city.history), args.runs
    )
    social_share = float(ranked.social_only.mean()) if len(ranked) else 0.0
    print(
        f"full ranking (two candidate sources, filters, six parts incl. two-hop trust, "
        f"top-{params.top_k}): {rank_s:.3f} s -> {len(ranked):,} suggestions, "
        f"{social_share:.2%} of them found only through a tie or past help"
    )

    index = engine.OfferIndex(city.offers)
    r, o, d = _gather(index, city.requests, ExclusionIndex(engine.Exclusions.none()), params)
    score_s, _ = median_time(
        lambda: score_pairs(city.requests, city.offers, r, o, d, city.trust, city.history, params),
        args.runs,
    )
    pairs_per_s = len(r) / score_s
    print(f"scoring: {len(r):,} pairs in {score_s:.3f} s = {pairs_per_s / 1e6:.1f}M pairs/s")

    assignment = scarce_assignment(city, ranked)
    print(
        f"assignment (scarce: 1/3 of offers, one place each): optimal {assignment['optimal']:,}"
        f" vs greedy {assignment['greedy']:,} (+{assignment['gain_vs_greedy_pct']}%) vs "
        f"independent top-1 {assignment['independent_top1']:,}; "
        f"{assignment['assign_s']:.2f} s; mean distance {assignment['mean_km_optimal']} km vs "
        f"{assignment['mean_km_greedy']} km"
    )

    balanced = balanced_assignment(city, ranked)
    print(
        f"assignment (balanced: as many places as requests, one place each): optimal "
        f"{balanced['optimal']:,} vs greedy {balanced['greedy']:,} "
        f"(+{balanced['gain_vs_greedy_pct']}%) vs independent top-1 "
        f"{balanced['independent_top1']:,}; {balanced['assign_s']:.2f} s"
    )

    learning = learning_quality(ranked)
    print(
        f"learned weights on simulated outcomes ({learning['train']:,} train / "
        f"{learning['test']:,} held-out suggestions): NDCG@5 {learning['ndcg5_learned']} vs "
        f"defaults {learning['ndcg5_default']}; used: {learning['learned']}; "
        f"{learning['weights']} (policy parts {', '.join(engine.POLICY_PARTS)} keep "
        f"their configured weights)"
    )

    p50, p99 = single_request_latency(city)
    print(f"one new request against a warm index: p50 {p50:.0f} us, p99 {p99:.0f} us")

    balltree_s = balltree_baseline(city, params.initial_k, sample=5000)
    print(
        f"BallTree(haversine) same k-nearest (sampled queries, scaled): {balltree_s:.2f} s "
        f"-> {balltree_s / candidates_s:.0f}x slower than the engine's candidates"
    )
    per_pair, naive_s = naive_baseline(city)
    print(
        f"naive Python loop with geopy: {per_pair * 1e6:.1f} us per pair on a sample, "
        f"scaled to all {n_req * n_off:,} pairs: {naive_s / 3600:.1f} h"
    )

    agree = agreement(city) if args.tier != "L" else agreement(city, sample=200)
    print(f"agreement with brute force on a sample: {agree:.4f}")
    stored = persist(city, ranked) if args.persist else None
    persist_s = stored["first_s"] if stored else None
    on_postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    if stored:
        print(
            f"persisting {len(ranked):,} suggestions: {persist_s:.2f} s; the same again "
            f"(unchanged): {stored['unchanged_s']:.2f} s, {stored['unchanged_written']} rows "
            f"written; PostgreSQL split (build COPY data, COPY, one statement): "
            f"{stored.get('first_parts')} and {stored.get('unchanged_parts')}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "tier": args.tier,
                "candidates_s": round(candidates_s, 4),
                "rank_s": round(rank_s, 4),
                "assign_s": round(assignment["assign_s"], 4),
                "assign_gain_vs_greedy_pct": assignment["gain_vs_greedy_pct"],
                "assign_gain_vs_top1_pct": assignment["gain_vs_top1_pct"],
                "assign_gain_vs_greedy_balanced_pct": balanced["gain_vs_greedy_pct"],
                "assign_balanced_s": round(balanced["assign_s"], 4),
                "persist_s": round(persist_s, 3) if persist_s is not None else None,
                "persist_1m_pg_s": (
                    round(persist_s * 1e6 / len(ranked), 3)
                    if persist_s is not None and on_postgres and len(ranked)
                    else None
                ),
                "persist_unchanged_s": round(stored["unchanged_s"], 3) if stored else None,
                "persist_unchanged_rows": stored["unchanged_written"] if stored else None,
                "social_candidates_share": round(social_share, 4),
                "single_p50_us": round(p50, 1),
                "single_p99_us": round(p99, 1),
                "pairs_per_s": round(pairs_per_s),
                "peak_rss_mb": round(peak, 1),
                "learn_ndcg5_learned": learning["ndcg5_learned"],
                "learn_ndcg5_default": learning["ndcg5_default"],
                "learned_weights": learning["weights"],
                "speedup_vs_naive": round(naive_s / rank_s),
                "speedup_vs_balltree": round(balltree_s / candidates_s, 1),
                "agreement": agree,
            }
        )
    )


if __name__ == "__main__":
    main()
