"""Account timing: do sign-in, registration and password reset take as long for a known account
as for an unknown one? Prints the median time of each pair (known vs unknown) in milliseconds.

The two cases of each pair are timed alternately through the Flask test client, so drift of a
shared machine falls on both. Runs on a throw-away SQLite database and the embedded Redis
(or REDIS_URL when set: the script empties nothing there, it only adds queued jobs).

    .venv/bin/python benchmarks/bench_account_timing.py --runs 30
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "een-lang-wachtwoord"
KNOWN = "anna@example.org"


def timed(call, run: int) -> float:
    started = time.perf_counter()
    response = call(run)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code < 500, response.status_code
    return elapsed


def pairs(client, runs: int) -> dict[str, tuple]:
    """name -> (known call, unknown call), each a function of the run number."""
    register = {"first_name": "Bea", "password": PASSWORD, "consent": "yes"}
    return {
        "login (wrong password vs unknown email)": (
            lambda i: client.post("/auth/login", data={"email": KNOWN, "password": "wrong-pass-1"}),
            lambda i: client.post(
                "/auth/login", data={"email": f"nobody{i}@example.org", "password": "wrong-pass-1"}
            ),
        ),
        "api token (wrong password vs unknown email)": (
            lambda i: client.post(
                "/api/v1/auth/tokens", json={"email": KNOWN, "password": "wrong-pass-1"}
            ),
            lambda i: client.post(
                "/api/v1/auth/tokens",
                json={"email": f"nobody{i}@example.org", "password": "wrong-pass-1"},
            ),
        ),
        "password reset (known vs unknown email)": (
            lambda i: client.post("/auth/password/forgot", data={"email": KNOWN}),
            lambda i: client.post(
                "/auth/password/forgot", data={"email": f"nobody{i}@example.org"}
            ),
        ),
        "register (taken vs new email)": (
            lambda i: client.post("/auth/register", data={**register, "email": KNOWN}),
            lambda i: client.post(
                "/auth/register", data={**register, "email": f"new{i}@example.org"}
            ),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from mutualaid import create_app
    from mutualaid.background import stop_embedded_redis
    from mutualaid.extensions import db
    from mutualaid.services.accounts import register_resident

    folder = Path(tempfile.mkdtemp(prefix="bench-accounts-"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-anything",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "REDIS_URL": os.environ.get("REDIS_URL") or None,
            "INSTANCE_PATH": str(folder),
            "EMBEDDED_REDIS_PATH": str(folder / "redis.db"),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        register_resident(
            first_name="Anna", email=KNOWN, password=PASSWORD, consent=True, email_confirmed=True
        )
    client = app.test_client()
    results = {}
    try:
        for name, (known, unknown) in pairs(client, args.runs).items():
            known(-1), unknown(-1)  # warm up: imports, templates, first connections
            known_ms, unknown_ms = [], []
            for i in range(args.runs):
                known_ms.append(timed(known, i))
                unknown_ms.append(timed(unknown, i))
                client.post("/auth/logout")  # start each round signed out
            k, u = statistics.median(known_ms), statistics.median(unknown_ms)
            results[name] = {"known_ms": round(k, 1), "unknown_ms": round(u, 1)}
            print(f"{name:45s} known {k:7.1f} ms  unknown {u:7.1f} ms  diff {k - u:+6.1f} ms")
    finally:
        stop_embedded_redis()
    print(json.dumps({"runs": args.runs, "medians": results}))


if __name__ == "__main__":
    main()
