"""Benchmark of the whole pipeline: commit of a new request -> stored suggestions.

    python benchmarks/bench_pipeline.py [--offers 100000] [--requests 200] [--interval 0.1]

Loads a synthetic Hengelo with --offers active offers into a fresh database (DATABASE_URL, or a
temporary SQLite file), starts one real worker process (REDIS_URL, or an embedded Redis),
submits --requests requests through the service layer and reports p50/p95/max of the time from
the request row being written to its matching run having stored the suggestions. The first
request warms the worker up and is not counted. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.persist_helper import _bulk, _fresh_database  # noqa: E402


def load_offers(n_offers: int, seed: int = 7) -> int:
    """Residents and active offers of a synthetic Hengelo; returns the number of residents."""
    from mutualaid.extensions import db
    from mutualaid.matching.synthetic import make_city
    from mutualaid.models import Offer, OfferCategory, Resident
    from mutualaid.models.base import utcnow
    from mutualaid.services.demo import ensure_categories

    categories = ensure_categories()
    bit_to_id = {c.bit: c.id for c in categories.values()}
    city = make_city(10, n_offers, 10, seed=seed)
    offers, now = city.offers, utcnow()
    helpers = np.unique(offers.helper_ids)
    _bulk(
        Resident.__table__,
        [
            {
                "id": int(i) + 1,
                "first_name": "Helper",
                "email": f"h{i}@example.org",
                "language_mask": 1,
                "channel_mask": 0,
                "self_service": True,
                "known_to_services": False,
                "created_at": now,
                "updated_at": now,
                "first_active_at": now,
            }
            for i in helpers.tolist()
        ],
    )
    _bulk(
        Offer.__table__,
        [
            {
                "id": int(i),
                "helper_id": int(h) + 1,
                "description": "",
                "lat": float(a),
                "lon": float(o),
                "radius_m": int(r),
                "slots": int(s),
                "capacity": int(c),
                "language_mask": 1,
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i, h, a, o, r, s, c in zip(
                offers.ids.tolist(),
                offers.helper_ids.tolist(),
                offers.lat.tolist(),
                offers.lon.tolist(),
                offers.radius_m.tolist(),
                offers.slots.tolist(),
                offers.capacity.tolist(),
                strict=True,
            )
        ],
    )
    links = [
        {"offer_id": int(i), "category_id": bit_to_id[bit]}
        for i, mask in zip(offers.ids.tolist(), offers.category_mask.tolist(), strict=True)
        for bit in range(10)
        if mask >> bit & 1
    ]
    _bulk(OfferCategory.__table__, links)
    db.session.commit()
    return int(helpers.max()) + 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between requests")
    args = parser.parse_args()

    from sqlalchemy import select

    from mutualaid import create_app
    from mutualaid.extensions import db
    from mutualaid.models import HelpRequest, Match, MatchingRun, Resident
    from mutualaid.services.aid import post_request
    from mutualaid.services.neighbourhoods import import_neighbourhoods

    url, drop = _fresh_database()
    instance = tempfile.mkdtemp()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
            "EMBEDDED_REDIS_PATH": os.path.join(instance, "redis.db"),
        }
    )
    worker = None
    try:
        with app.app_context():
            from mutualaid.background import redis_url

            db.create_all()
            import_neighbourhoods(ROOT / "mutualaid" / "data" / "buurt_2023_hengelo.geojson")
            start = time.perf_counter()
            next_id = load_offers(args.offers)
            print(
                f"loaded {args.offers:,} active offers in {time.perf_counter() - start:.1f} s "
                f"({db.engine.dialect.name})"
            )
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "REDIS_URL": redis_url(),
                "MUTUALAID_INSTANCE_PATH": instance,
            }
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-periodic"],
                cwd=ROOT,
                env=env,
                stdout=open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            rng = np.random.default_rng(11)
            # Requesters live at centroids of residential neighbourhoods, a little apart.
            from mutualaid.models import Neighbourhood

            centres = db.session.execute(
                select(Neighbourhood.centroid_lat, Neighbourhood.centroid_lon)
            ).all()
            submitted = []
            for n in range(args.requests + 1):
                lat, lon = centres[n % len(centres)]
                person = Resident(
                    id=next_id + n,
                    first_name="Vraag",
                    email=f"r{n}@example.org",
                    home_lat=lat,
                    home_lon=lon,
                )
                db.session.add(person)
                db.session.commit()
                request = post_request(
                    person.id,
                    category=["boodschappen", "vervoer", "gezelschap"][n % 3],
                    description="Benchmark",
                )
                submitted.append(request.id)
                if n == 0:  # warm-up: the worker loads its index on the first job
                    deadline = time.monotonic() + 300
                    while time.monotonic() < deadline:
                        db.session.rollback()
                        if db.session.scalar(
                            select(MatchingRun.status).where(MatchingRun.status == "succeeded")
                        ):
                            break
                        time.sleep(0.2)
                    print("worker warm")
                else:
                    time.sleep(args.interval * rng.uniform(0.5, 1.5))
            measured = submitted[1:]
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                db.session.rollback()
                pending = db.session.scalar(
                    select(db.func.count(HelpRequest.id)).where(
                        HelpRequest.id.in_(measured),
                        HelpRequest.matching_pending_since.is_not(None),
                    )
                )
                if pending == 0:
                    break
                time.sleep(0.5)
            # Each request's run is the one that wrote its suggestions.
            rows = db.session.execute(
                select(
                    HelpRequest.id,
                    HelpRequest.created_at,
                    MatchingRun.id.label("run_id"),
                    MatchingRun.finished_at,
                )
                .join(Match, Match.request_id == HelpRequest.id)
                .join(MatchingRun, MatchingRun.id == Match.matching_run_id)
                .where(HelpRequest.id.in_(measured))
                .distinct()
            ).all()
            run_timings = dict(
                db.session.execute(
                    select(MatchingRun.id, MatchingRun.timings).where(
                        MatchingRun.trigger == "request"
                    )
                ).all()
            )
            latencies = [(r.finished_at - r.created_at).total_seconds() for r in rows]
            if os.environ.get("BENCH_DEBUG"):
                for r in db.session.execute(
                    select(
                        MatchingRun.queued_at,
                        MatchingRun.started_at,
                        MatchingRun.finished_at,
                        MatchingRun.timings,
                    ).order_by(MatchingRun.started_at)
                ).all()[-5:]:
                    print(r.started_at.time(), r.finished_at.time(), r.timings)
            runs = rows
            warm = sum(1 for r in runs if (run_timings.get(r.run_id) or {}).get("warm"))
            p50 = statistics.median(latencies) * 1000
            p95 = float(np.percentile(latencies, 95)) * 1000
            print(
                f"{len(latencies)} requests: commit -> stored suggestions p50 {p50:.0f} ms, "
                f"p95 {p95:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
                f"{warm} of them ranked on the warm index"
            )
            print(
                json.dumps(
                    {
                        "offers": args.offers,
                        "requests": len(latencies),
                        "database": db.engine.dialect.name,
                        "p50_ms": round(p50, 1),
                        "p95_ms": round(p95, 1),
                        "max_ms": round(max(latencies) * 1000, 1),
                        "warm_runs": warm,
                    }
                )
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        with app.app_context():
            from mutualaid.background import stop_embedded_redis

            stop_embedded_redis()
        drop()


if __name__ == "__main__":
    main()
