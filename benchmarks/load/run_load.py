"""The load run: gunicorn + PostgreSQL + Redis + one worker on loopback, driven by locust.

    .venv/bin/python benchmarks/load/run_load.py [--residents 2000] [--run-time 60]

Creates a fresh PostgreSQL database next to LOAD_DATABASE_URL (default the local test server),
migrates it, imports Hengelo and seeds the demo, gives residents, workers and the municipality
API tokens (prepare.py), starts gunicorn (4 workers) and `flask worker` on Redis db 11, runs
the locust steps (locustfile.py) one after another, each bounded by --run-time, prints
throughput and p50/p95/p99 per step, then stops everything and drops the database.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
GEOJSON = ROOT / "mutualaid" / "data" / "buurt_2023_hengelo.geojson"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(args: list[str], env: dict, log, timeout: float = 900) -> None:
    started = time.monotonic()
    subprocess.run(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True,
                   timeout=timeout)  # fmt: skip
    print(f"  {' '.join(args[3:6])}: {time.monotonic() - started:.1f} s", flush=True)


def start(args: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_healthy(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=5) as answer:
                report = json.load(answer)
                if report["status"] == "ok" and report["redis"].get("workers", 0) >= 1:
                    return
        except Exception:
            pass
        time.sleep(0.5)
    raise RuntimeError("the service did not become healthy")


def read_stats(prefix: str) -> list[dict]:
    with open(f"{prefix}_stats.csv") as handle:
        return list(csv.DictReader(handle))


def row_summary(row: dict, seconds: float) -> dict:
    count = int(row["Request Count"])
    return {
        "name": row["Name"],
        "requests": count,
        "failures": int(row["Failure Count"]),
        "rps": round(count / seconds, 1),
        "p50": row["50%"],
        "p95": row["95%"],
        "p99": row["99%"],
    }


def run_step(label, classes, users, seconds, base, workdir, env) -> dict:
    prefix = str(workdir / label.replace(" ", "_"))
    load_before = os.getloadavg()
    args = [
        PYTHON, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
        "-u", str(users), "-r", str(min(users, 100)), "-t", f"{seconds}s", "--host", base,
        "--csv", prefix, "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING",
        *classes,
    ]  # fmt: skip
    with open(workdir / "locust.log", "ab") as log:
        subprocess.run(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                       timeout=seconds + 120)  # fmt: skip
    rows = read_stats(prefix)
    total = next(r for r in rows if r["Name"] == "Aggregated")
    result = {
        "step": label,
        "users": users,
        "seconds": seconds,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "total": row_summary(total, seconds),
        "endpoints": [row_summary(r, seconds) for r in rows if r["Name"] != "Aggregated"],
    }
    t = result["total"]
    print(
        f"{label:<34} {users:>4} users  {t['rps']:>7} req/s  p50 {t['p50']:>5} ms  "
        f"p95 {t['p95']:>5} ms  p99 {t['p99']:>5} ms  errors {t['failures']}/{t['requests']}  "
        f"load {result['load_before'][0]}→{result['load_after'][0]}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--run-time", type=int, default=60, help="seconds per mixed step")
    parser.add_argument("--short-run-time", type=int, default=30, help="seconds per read step")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--json", help="write the figures here")
    options = parser.parse_args()

    base_url = os.environ.get("LOAD_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    name = f"mutualaid_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(base_url).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="mutualaid-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": options.redis,
        "MUTUALAID_INSTANCE_PATH": str(workdir / "instance"),
        # A few loopback clients stand for hundreds of residents: per-address limits off.
        "RATELIMIT_ENABLED": "0",
        "LOAD_TOKENS": str(workdir / "tokens.json"),
        "PYTHONUNBUFFERED": "1",
    }
    from redis import Redis

    Redis.from_url(options.redis).flushdb()
    flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
    web = worker = None
    results = []
    print(f"load run: database {name}, Redis {options.redis}, logs in {workdir}", flush=True)
    try:
        with open(workdir / "setup.log", "ab") as log:
            sh([*flask, "db", "upgrade"], env, log)
            sh([*flask, "import-neighbourhoods", str(GEOJSON)], env, log)
            sh([*flask, "seed-demo", "--residents", str(options.residents)], env, log)
            sh([*flask, "match", "--all"], env, log)
            sh([PYTHON, str(HERE / "prepare.py"), env["LOAD_TOKENS"], "150"], env, log)
        with open(workdir / "gunicorn.log", "ab") as log:
            web = start(
                [PYTHON, "-m", "gunicorn", "-w", str(options.gunicorn_workers), "-b",
                 f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
                env, log,
            )  # fmt: skip
        with open(workdir / "worker.log", "ab") as log:
            worker = start([*flask, "worker"], env, log)
        wait_healthy(base)
        print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}", flush=True)
        mixed = ["Resident", "Worker", "Municipality"]
        long, short = options.run_time, options.short_run_time
        for label, classes, users, seconds in (
            ("mixed flows", mixed, 50, long),
            ("mixed flows", mixed, 200, long),
            ("JSON API GETs", ["ApiReader"], 50, short),
            ("top-10 suggestions alone", ["SuggestionsReader"], 50, short),
            ("health (baseline)", ["HealthReader"], 50, short),
        ):
            results.append(
                run_step(f"{label} {users}", classes, users, seconds, base, workdir, env)
            )
    finally:
        stop(worker)
        stop(web)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        Redis.from_url(options.redis).flushdb()
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2))
    for result in results:
        print(f"\n## {result['step']} ({result['users']} users, {result['seconds']} s)")
        for row in result["endpoints"]:
            print(
                f"  {row['name']:<28} {row['requests']:>7} req {row['rps']:>7}/s  "
                f"p50 {row['p50']:>5}  p95 {row['p95']:>5}  p99 {row['p99']:>5}  "
                f"failures {row['failures']}"
            )


if __name__ == "__main__":
    main()
