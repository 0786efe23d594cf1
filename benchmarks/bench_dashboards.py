"""Benchmark of the professional dashboards on a big town: p50/p95 per page.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/bench_dashboards.py [--residents 100000] [--runs 30]

Creates a fresh database (DATABASE_URL names the server; a new database is created next to it
and dropped after; without it a temporary SQLite file), imports the 62 Hengelo neighbourhoods,
bulk-loads --residents residents with a year of activity (requests, offers, matches through
their lifecycle), then times every page in PAGES through the Flask test client, signed in as
the page's user. Target: p95 <= 300 ms per page. The last line printed is one JSON object.

To add a page: append (name, url, login email) to PAGES (the logins are created in
`create_staff`; add one there if needed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.persist_helper import _bulk, _fresh_database  # noqa: E402

TARGET_P95_MS = 300.0
PASSWORD = "benchmark-password-1"
MUNICIPALITY_LOGIN = "gemeente@bench.example.org"
WORKER_LOGIN = "wijkcoach@bench.example.org"
ADMIN_LOGIN = "beheer@bench.example.org"
TODAY = datetime.now(UTC)

# (name, url, login) — the pages timed. Workers' dashboards (H7) go here as well.
PAGES: list[tuple[str, str, str]] = [
    (
        "monitoring month, neighbourhoods, 12 months",
        "/gemeente/monitoring?level=neighbourhood&period=month",
        MUNICIPALITY_LOGIN,
    ),
    (
        "monitoring week, districts, 13 weeks",
        "/gemeente/monitoring?level=district&period=week",
        MUNICIPALITY_LOGIN,
    ),
    (
        "monitoring CSV, month, neighbourhoods, 12 months",
        "/gemeente/monitoring.csv?level=neighbourhood&period=month",
        MUNICIPALITY_LOGIN,
    ),
    (
        "API monitoring, week, neighbourhoods, 13 weeks",
        "/api/v1/monitoring?level=neighbourhood&period=week",
        MUNICIPALITY_LOGIN,
    ),
    ("worker overview (district WK016401)", "/wijkwerk/", WORKER_LOGIN),
    ("worker newly active", "/wijkwerk/nieuw-actief", WORKER_LOGIN),
    ("worker follow-up queue", "/wijkwerk/opvolging", WORKER_LOGIN),
    (
        "worker who is involved (one neighbourhood)",
        "/wijkwerk/buurt/BU01640101/betrokken",
        WORKER_LOGIN,
    ),
    ("worker help network (one neighbourhood)", "/wijkwerk/buurt/BU01640101/netwerk", WORKER_LOGIN),
    ("admin overview (all 62 neighbourhoods)", "/wijkwerk/", ADMIN_LOGIN),
    ("admin follow-up queue (all 62 neighbourhoods)", "/wijkwerk/opvolging", ADMIN_LOGIN),
    ("admin newly active (all 62 neighbourhoods)", "/wijkwerk/nieuw-actief", ADMIN_LOGIN),
]
# Staff sign in with a second factor where the code has one; the benchmark's accounts use
# this secret (never used outside benchmarks and tests).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _stamp(rng: random.Random, days_back: float) -> datetime:
    return TODAY - timedelta(days=days_back, seconds=rng.randint(0, 86399))


def generate_town(n_residents: int, seed: int = 11) -> dict:
    """Residents, offers, requests and matches over the past year, bulk-inserted."""
    from mutualaid.extensions import db
    from mutualaid.models import HelpRequest, Match, Neighbourhood, Offer, OfferCategory, Resident
    from mutualaid.services.demo import ensure_categories

    rng = random.Random(seed)
    categories = list(ensure_categories().values())
    hoods = db.session.execute(
        db.select(Neighbourhood.id, Neighbourhood.centroid_lat, Neighbourhood.centroid_lon)
    ).all()
    weights = [rng.uniform(0.3, 3.0) for _ in hoods]
    residents, home = [], {}
    first_seen = {}
    for rid in range(1, n_residents + 1):
        nid, lat, lon = rng.choices(hoods, weights=weights)[0]
        lat, lon = lat + rng.uniform(-0.002, 0.002), lon + rng.uniform(-0.003, 0.003)
        created = _stamp(rng, rng.uniform(0, 730))
        first_seen[rid] = created
        home[rid] = (nid, lat, lon)
        residents.append(
            {
                "id": rid,
                "first_name": f"Bewoner{rid}",
                "last_name": "Bench",
                "email": f"b{rid}@bench.example.org",
                "street": "Benchstraat",
                "home_lat": lat,
                "home_lon": lon,
                "neighbourhood_id": nid,
                "language_mask": 1,
                "channel_mask": 1,
                "self_service": rng.random() < 0.85,
                "known_to_services": rng.random() < 0.2,
                "first_active_at": None,
                "created_at": created,
                "updated_at": created,
            }
        )
    _bulk(Resident.__table__, residents)

    offers, offer_categories, helpers = [], [], []
    for rid in rng.sample(range(1, n_residents + 1), n_residents // 5):
        nid, lat, lon = home[rid]
        created = max(first_seen[rid], _stamp(rng, rng.uniform(0, 365)))
        oid = len(offers) + 1
        offers.append(
            {
                "id": oid,
                "helper_id": rid,
                "description": "",
                "lat": lat,
                "lon": lon,
                "neighbourhood_id": nid,
                "radius_m": 2000,
                "slots": (1 << 21) - 1,
                "capacity": rng.choice([1, 1, 2, 3]),
                "language_mask": 1,
                "is_active": rng.random() < 0.85,
                "created_at": created,
                "updated_at": created,
            }
        )
        for cat in rng.sample(categories, rng.randint(1, 3)):
            offer_categories.append({"offer_id": oid, "category_id": cat.id})
        helpers.append((oid, rid, created))
    _bulk(Offer.__table__, offers)
    _bulk(OfferCategory.__table__, offer_categories)

    requests, matches = [], []
    for rid in rng.sample(range(1, n_residents + 1), int(n_residents * 0.3)):
        nid, lat, lon = home[rid]
        for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 4)):
            created = _stamp(rng, rng.uniform(0, 365))
            qid = len(requests) + 1
            fate = rng.random()
            status = "open"
            closed = None
            if fate < 0.65:
                oid, helper, _ = rng.choice(helpers)
                if helper != rid:
                    accepted = created + timedelta(hours=rng.expovariate(1 / 30))
                    done = fate < 0.45 and accepted < TODAY
                    status = "done" if done else "matched"
                    closed = accepted + timedelta(days=rng.uniform(0.5, 5)) if done else None
                    changed = min(closed or accepted, TODAY)
                    matches.append(
                        {
                            "request_id": qid,
                            "offer_id": oid,
                            "helper_id": helper,
                            "status": "done" if done else "accepted",
                            "proposed_by": "engine",
                            "score": 0.5,
                            "invited_by": "requester",
                            "invited_at": created + (accepted - created) / 2,
                            "accepted_at": accepted,
                            "done_at": closed,
                            "status_changed_at": changed,
                            "explanation_nl": "",
                            "explanation_en": "",
                            "created_at": created,
                            "updated_at": changed,
                        }
                    )
            elif fate < 0.75:
                status = "cancelled"
            elif fate < 0.85 and created < TODAY - timedelta(days=30):
                status = "expired"
            requests.append(
                {
                    "id": qid,
                    "requester_id": rid,
                    "category_id": rng.choice(categories).id,
                    "description": "",
                    "lat": lat,
                    "lon": lon,
                    "neighbourhood_id": nid,
                    "urgency": rng.choice(["low", "normal", "normal", "high"]),
                    "slots": 0,
                    "recurring": False,
                    "max_distance_m": 3000,
                    "needs_vog": False,
                    "needs_shared_language": False,
                    "status": status,
                    "closed_at": closed,
                    "created_at": created,
                    "updated_at": closed or created,
                }
            )
    _bulk(HelpRequest.__table__, requests)
    _bulk(Match.__table__, matches)
    # Whoever asked or offered is active from their first request or offer, as the aid
    # services record it (the worker dashboards read first_active_at).
    first: dict[int, datetime] = {}
    for rid, at in [(o["helper_id"], o["created_at"]) for o in offers] + [
        (q["requester_id"], q["created_at"]) for q in requests
    ]:
        first[rid] = min(at, first.get(rid, at))
    db.session.execute(
        db.update(Resident), [{"id": rid, "first_active_at": at} for rid, at in first.items()]
    )
    db.session.commit()
    return {
        "residents": len(residents),
        "offers": len(offers),
        "requests": len(requests),
        "matches": len(matches),
    }


def create_staff() -> None:
    """The logins PAGES use: a municipality user, a community worker (district WK016401), admin."""
    from mutualaid.extensions import db
    from mutualaid.models import Neighbourhood
    from mutualaid.services.accounts import create_user

    codes = list(
        db.session.scalars(
            db.select(Neighbourhood.code).where(Neighbourhood.district_code == "WK016401")
        )
    )
    create_user(
        MUNICIPALITY_LOGIN,
        PASSWORD,
        "municipality",
        "Gemeente Hengelo",
        municipality_code="GM0164",
        commit_now=False,
    )
    create_user(
        WORKER_LOGIN, PASSWORD, "worker", "Wijkcoach", neighbourhood_codes=codes, commit_now=False
    )
    create_user(ADMIN_LOGIN, PASSWORD, "admin", "Beheer", commit_now=False)
    db.session.commit()


def sign_in(app, login: str):
    """A test client signed in as `login` (password, then the second factor if asked)."""
    client = app.test_client()
    response = client.post("/auth/login", data={"email": login, "password": PASSWORD})
    if response.status_code not in (200, 302, 303):
        raise SystemExit(f"login as {login} failed: {response.status_code}")
    location = response.headers.get("Location", "")
    if location.endswith(("/auth/code", "/auth/code/setup")):
        from mutualaid.extensions import db
        from mutualaid.models import User
        from mutualaid.services.second_factor import current_code, enrol_with_secret

        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.email == login))
            if not user.totp_secret_encrypted:
                enrol_with_secret(user, TOTP_SECRET)
            user.totp_last_step = None
            db.session.commit()
            code = current_code(user)
        response = client.post("/auth/code", data={"code": code})
        if response.status_code not in (200, 302, 303):
            raise SystemExit(f"second factor for {login} failed: {response.status_code}")
    return client


def time_page(app, url: str, login: str, runs: int) -> dict:
    """p50/p95/max in ms of GET url (two warm-up requests first, not counted; the very first,
    before anything is cached, is reported as first_ms)."""
    client = sign_in(app, login)
    timings, first = [], None
    for i in range(runs + 2):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            return {"error": f"GET {url} as {login}: {response.status_code}"}
        if i == 0:
            first = elapsed  # cold: nothing cached yet for this page
        if i >= 2:
            timings.append(elapsed)
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[min(len(timings) - 1, int(0.95 * len(timings)))], 1),
        "max_ms": round(timings[-1], 1),
        "first_ms": round(first, 1),
        "bytes": len(response.get_data()),
    }


def load(residents: int) -> dict:
    """Tables, the Hengelo neighbourhoods, the town and the staff logins; ANALYZE after."""
    from mutualaid.extensions import db
    from mutualaid.services.neighbourhoods import import_neighbourhoods

    db.create_all()
    import_neighbourhoods(ROOT / "mutualaid" / "data" / "buurt_2023_hengelo.geojson")
    started = time.perf_counter()
    town = generate_town(residents)
    create_staff()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return {"town": town, "load_s": round(time.perf_counter() - started, 1)}


def change_data(app) -> None:
    """What a few minutes of use writes: ten new requests and a first acceptance."""
    from mutualaid.extensions import db
    from mutualaid.models import HelpRequest, Match
    from mutualaid.models.base import utcnow

    with app.app_context():
        next_id = db.session.scalar(db.select(db.func.max(HelpRequest.id))) + 1
        templates = db.session.scalars(db.select(HelpRequest).limit(10)).all()
        for n, template in enumerate(templates):
            db.session.add(
                HelpRequest(
                    id=next_id + n,  # the bulk load set ids itself: the sequence is behind
                    requester_id=template.requester_id,
                    category_id=template.category_id,
                    description="",
                    lat=template.lat,
                    lon=template.lon,
                    neighbourhood_id=template.neighbourhood_id,
                )
            )
        match = db.session.scalar(db.select(Match).where(Match.status == "accepted").limit(1))
        match.status, match.done_at = "done", utcnow()
        db.session.commit()


def refresh_rollup(app, full: bool = False) -> dict | None:
    """Bring the monitoring rollup up to date, as its periodic job does (None: no rollup)."""
    try:
        from mutualaid.services.monitoring.rollup import refresh_rollup as refresh
    except ImportError:
        return None
    with app.app_context():
        started = time.perf_counter()
        result = refresh(full=full)
        result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def first_after_change(app, runs: int) -> dict:
    """The first request of each monitoring page after the counted data changed (and, where
    there is a rollup, after its periodic refresh took the change in)."""
    change_data(app)
    out: dict = {"refresh": refresh_rollup(app)}
    for name, page_url, login in PAGES:
        if login != MUNICIPALITY_LOGIN:
            continue
        client = sign_in(app, login)
        started = time.perf_counter()
        response = client.get(page_url)
        out[name] = round((time.perf_counter() - started) * 1000, 1)
        if response.status_code != 200:
            out[name] = f"status {response.status_code}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", help="time only pages whose name contains this text")
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    parser.add_argument("--reuse", help="URL of a database kept by --keep: skip loading")
    args = parser.parse_args()

    from mutualaid import create_app
    from mutualaid.extensions import db

    url, drop = (args.reuse, lambda: None) if args.reuse else _fresh_database()
    if args.keep:
        print(f"keeping the database: --reuse {url}", flush=True)
        drop = lambda: None  # noqa: E731
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": "redis://127.0.0.1:1/0",  # never contacted by these pages
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
            # As in production: pages read the rollup its periodic job keeps (not older than
            # five minutes); the benchmark refreshes it itself where the job would.
            "MONITORING_ROLLUP_MAX_AGE_SECONDS": 300,
        }
    )
    results: dict = {"database": url.split(":")[0], "target_p95_ms": TARGET_P95_MS}
    try:
        if not args.reuse:
            with app.app_context():
                results.update(load(args.residents))
            print(f"loaded {results['town']} in {results['load_s']} s", flush=True)
        else:
            with app.app_context():
                db.create_all()  # tables added since the database was kept (none dropped)
        results["rollup_build"] = refresh_rollup(app, full=True)
        print(f"rollup built: {results['rollup_build']}", flush=True)
        pages = {}
        for name, page_url, login in PAGES:
            if args.only and args.only not in name:
                continue
            with app.app_context():
                figures = time_page(app, page_url, login, args.runs)
            if "error" in figures:
                print(f"{name:55s} {figures['error']}", flush=True)
                pages[name] = figures
                continue
            ok = "ok" if figures["p95_ms"] <= TARGET_P95_MS else "OVER TARGET"
            print(
                f"{name:55s} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
                f"max {figures['max_ms']:7.1f} ms  first {figures['first_ms']:7.1f} ms  {ok}",
                flush=True,
            )
            pages[name] = figures
        results["pages"] = pages
        if not args.only or "onitoring" in args.only:
            results["first_after_change_ms"] = first_after_change(app, args.runs)
            print(f"first request after a change: {results['first_after_change_ms']}", flush=True)
        results["load_average"] = os.getloadavg()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
