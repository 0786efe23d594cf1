"""Where one API request spends its time: cProfile over N in-process requests (Flask test
client, no network) on a fresh PostgreSQL database with the demo seeded.

    .venv/bin/python benchmarks/load/profile_request.py [--residents 300] [-n 200] [PATH ...]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, select, text

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("paths", nargs="*")
    options = parser.parse_args()
    base = os.environ.get("LOAD_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    name = f"mutualaid_profile_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(base).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    os.environ["DATABASE_URL"] = make_url(base).set(database=name).render_as_string(False)
    os.environ["MUTUALAID_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="mutualaid-profile-")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
    os.environ["RATELIMIT_ENABLED"] = "0"
    try:
        from mutualaid import create_app
        from mutualaid.extensions import db
        from mutualaid.models import HelpRequest
        from mutualaid.services.accounts import create_user
        from mutualaid.services.api_tokens import create_api_token
        from mutualaid.services.demo import seed_demo
        from mutualaid.services.matching import match_all
        from mutualaid.services.neighbourhoods import import_neighbourhoods

        app = create_app()
        with app.app_context():
            db.create_all()
            import_neighbourhoods(ROOT / "mutualaid" / "data" / "buurt_2023_hengelo.geojson")
            seed_demo(residents=options.residents)
            match_all(trigger="profile")
            request = db.session.scalars(
                select(HelpRequest).where(HelpRequest.status == "open")
            ).first()
            user = create_user("profile@example.invalid", "profile-password-2026", "resident",
                               "Profile", resident_id=request.requester_id)  # fmt: skip
            secret = create_api_token(user.id, "profile")[1]
            paths = options.paths or [
                f"/api/v1/requests/{request.id}/suggestions",
                "/api/v1/overview",
                "/api/v1/health",
            ]
            db.session.remove()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        for path in paths:
            assert client.get(path, headers=headers).status_code == 200, path
            # Unprofiled first: CPU time of this process per request (the app's own cost, apart
            # from the database server's) and wall time.
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(options.n):
                client.get(path, headers=headers)
            cpu = (time.process_time() - cpu) / options.n * 1000
            wall = (time.perf_counter() - wall) / options.n * 1000
            print(f"\n{path}: {cpu:.2f} ms CPU, {wall:.2f} ms wall per request (unprofiled)")
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            for _ in range(options.n):
                client.get(path, headers=headers)
            profile.disable()
            per = (time.perf_counter() - started) / options.n * 1000
            print(f"\n=== {path}: {per:.1f} ms per request (in-process, profiled) ===")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(28)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
