"""The load run: gunicorn + PostgreSQL + Redis + one worker on loopback, driven by locust
(mixed flows, JSON GETs) and wrk (the pure reads: suggestions against health, same run).

    .venv/bin/python benchmarks/load/run_load.py [--residents 2000] [--run-time 60]

Creates a fresh PostgreSQL database next to LOAD_DATABASE_URL (default the local test server),
migrates it, imports Hengelo and seeds the demo, gives residents, workers and the municipality
API tokens (prepare.py), starts gunicorn (gthread: --gunicorn-workers processes with --threads
threads each, HTTP keep-alive) and `flask worker` on --redis, runs the steps one after
another, each bounded in time, prints throughput and p50/p95/p99 per step, then stops
everything and drops the database (`--keep` leaves it, `--reuse URL` starts from it).
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

from sqlalchemy import NullPool, create_engine, make_url, text

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


WRK_SCRIPT = """
local targets = {%s}
local n = 0
request = function()
  n = n + 1
  local t = targets[(n %% #targets) + 1]
  if t[2] == "" then return wrk.format("GET", t[1]) end
  return wrk.format("GET", t[1], {["Authorization"] = "Bearer " .. t[2]})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK {\\"requests\\": %%d, \\"seconds\\": %%.3f, \\"socket_errors\\": %%d, \\"non_2xx\\": %%d, "
    .. "\\"p50\\": %%.1f, \\"p95\\": %%.1f, \\"p99\\": %%.1f, \\"max\\": %%.1f}\\n",
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds of each process (those that have ended are left out)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group (gunicorn's master and workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


class CpuMeter:
    """CPU time spent by the web server and by the database's backends for our database:
    per request, that is what a quiet machine would divide its cores by."""

    def __init__(self, web_pgid: int | None, database_url: str | None):
        self.web_pgid, self.database_url = web_pgid, database_url

    def _pids(self) -> tuple[list[int], list[int]]:
        web = group_pids(self.web_pgid) if self.web_pgid else []
        backends: list[int] = []
        if self.database_url:
            engine = create_engine(
                make_url(self.database_url).set(drivername="postgresql+psycopg"),
                poolclass=NullPool,
            )
            with engine.connect() as conn:
                backends = list(
                    conn.scalars(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid()"
                        )
                    )
                )
            engine.dispose()
        return web, backends

    def start(self) -> None:
        web, backends = self._pids()
        self.before = (cpu_seconds(web), cpu_seconds(backends))

    def stop(self) -> tuple[float, float]:
        web, backends = self._pids()
        after = (cpu_seconds(web), cpu_seconds(backends))
        return tuple(
            sum(a - b.get(pid, 0.0) for pid, a in now.items())
            for now, b in zip(after, self.before, strict=True)
        )


def run_wrk(label, targets, connections, seconds, base, workdir, meter=None) -> dict:
    """wrk (C, far cheaper than locust) over `targets` ([path, token] pairs, round robin)."""
    lua = ", ".join(f'{{"{path}", "{token}"}}' for path, token in targets)
    script = workdir / f"{label.replace(' ', '_')}.lua"
    script.write_text(WRK_SCRIPT % lua)
    load_before = os.getloadavg()
    if meter:
        meter.start()
    wrk_cpu = os.times()
    answer = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
         "--timeout", "5s", "-s", str(script), base],
        capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    wrk_after = os.times()
    web_cpu, db_cpu = meter.stop() if meter else (0.0, 0.0)
    line = next(x for x in answer.stdout.splitlines() if x.startswith("WRK "))
    figures = json.loads(line[4:])
    errors = figures["socket_errors"] + figures["non_2xx"]
    rps = round(figures["requests"] / figures["seconds"], 1)
    count = max(figures["requests"], 1)
    load_cpu = (wrk_after.children_user - wrk_cpu.children_user) + (
        wrk_after.children_system - wrk_cpu.children_system
    )
    cpu = {  # CPU milliseconds per request
        "web_ms": round(web_cpu * 1000 / count, 3),
        "database_ms": round(db_cpu * 1000 / count, 3),
        "wrk_ms": round(load_cpu * 1000 / count, 3),
    }
    # What the cores could serve if nothing else ran on them (the server and the database
    # only; the load generator would be on another machine).
    per_request = (web_cpu + db_cpu) / count
    cpu["ceiling_rps"] = round((os.cpu_count() or 1) / per_request) if per_request else None
    result = {
        "step": label,
        "users": connections,
        "seconds": seconds,
        "tool": "wrk",
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "total": {
            "name": "Aggregated",
            "requests": figures["requests"],
            "failures": errors,
            "rps": rps,
            "p50": round(figures["p50"], 1),
            "p95": round(figures["p95"], 1),
            "p99": round(figures["p99"], 1),
        },
        "endpoints": [],
        "errors": {  # socket errors include wrk's own 5 s timeout (a queue, not a failure)
            "socket": figures["socket_errors"],
            "non_2xx": figures["non_2xx"],
        },
        "cpu_per_request": cpu,
    }
    print(
        f"{label:<34} {connections:>4} conns  {rps:>7} req/s  p50 {figures['p50']:>6.1f} ms  "
        f"p95 {figures['p95']:>6.1f} ms  p99 {figures['p99']:>6.1f} ms  "
        f"errors {errors}/{figures['requests']} (non-2xx {figures['non_2xx']})  "
        f"load {result['load_before'][0]}→{result['load_after'][0]}\n"
        f"{'':<40}CPU per request: web {cpu['web_ms']} ms, PostgreSQL {cpu['database_ms']} ms, "
        f"wrk {cpu['wrk_ms']} ms → {cpu['ceiling_rps']} req/s if the {os.cpu_count()} cores "
        "served only this",
        flush=True,
    )
    return result


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
    # An exception inside a task (a scenario bug) is no request failure to locust: count it.
    with open(f"{prefix}_exceptions.csv") as handle:
        exceptions = sum(int(row["Count"]) for row in csv.DictReader(handle))
    result = {
        "step": label,
        "users": users,
        "seconds": seconds,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "total": row_summary(total, seconds),
        "endpoints": [row_summary(r, seconds) for r in rows if r["Name"] != "Aggregated"],
        "task_exceptions": exceptions,
    }
    t = result["total"]
    print(
        f"{label:<34} {users:>4} users  {t['rps']:>7} req/s  p50 {t['p50']:>5} ms  "
        f"p95 {t['p95']:>5} ms  p99 {t['p99']:>5} ms  errors {t['failures']}/{t['requests']}  "
        f"task exceptions {exceptions}  "
        f"load {result['load_before'][0]}→{result['load_after'][0]}",
        flush=True,
    )
    return result


def gunicorn_command(options, port: int) -> list[str]:
    """The server for the run: gthread workers keep connections alive (HTTP/1.1 keep-alive)
    and overlap database waits; a sync worker closes the connection after every answer."""
    command = [
        PYTHON, "-m", "gunicorn", "-w", str(options.gunicorn_workers),
        "-k", options.worker_class, "-b", f"127.0.0.1:{port}", "--timeout", "60",
        "--keep-alive", str(options.keep_alive), "--backlog", "2048",
    ]  # fmt: skip
    if options.worker_class == "gthread":
        command += ["--threads", str(options.threads)]
    return [*command, "wsgi:app"]


def run_plan(
    options, base: str, workdir: Path, env: dict, tokens_path: Path, meter=None
) -> list[dict]:
    """The chosen steps, one after another, each bounded in time."""
    steps = set(options.steps.split(","))
    results = []
    mixed = ["Resident", "Worker", "Municipality"]
    long, short = options.run_time, options.short_run_time
    plan = []
    if "mixed" in steps:
        plan += [("mixed flows", mixed, 50, long), ("mixed flows", mixed, 200, long)]
    if "gets" in steps:
        plan += [("JSON API GETs", ["ApiReader"], 50, short)]
    if "locust-reads" in steps:
        plan += [
            ("top-10 suggestions alone", ["SuggestionsReader"], 50, short),
            ("health (baseline)", ["HealthReader"], 50, short),
        ]
    for label, classes, users, seconds in plan:
        results.append(run_step(f"{label} {users}", classes, users, seconds, base, workdir, env))
    if "wrk" in steps:
        tokens = json.loads(tokens_path.read_text())
        for connections in map(int, options.wrk_connections.split(",")):
            for label, targets in (
                ("wrk health (baseline)", [["/api/v1/health", ""]]),
                ("wrk top-10 suggestions alone", tokens["suggestions"]),
                ("wrk health (baseline, again)", [["/api/v1/health", ""]]),
            ):
                step = f"{label} {connections}"
                results.append(run_wrk(step, targets, connections, short, base, workdir, meter))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--run-time", type=int, default=60, help="seconds per mixed step")
    parser.add_argument("--short-run-time", type=int, default=30, help="seconds per read step")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", help="gunicorn: gthread or sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--keep-alive", type=int, default=5, help="gunicorn keep-alive (s)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--steps", default="mixed,gets,wrk",
                        help="comma list of: mixed, gets, wrk, locust-reads")  # fmt: skip
    parser.add_argument("--wrk-connections", default="50",
                        help="comma list of wrk connection counts")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", help="a database URL kept by --keep (skips the setup)")
    options = parser.parse_args()

    base_url = os.environ.get("LOAD_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    if options.reuse:
        name = make_url(options.reuse).database
    else:
        name = f"mutualaid_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(base_url).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    if not options.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="mutualaid-load-"))
    tokens_path = Path(tempfile.gettempdir()) / f"{name}_tokens.json"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": options.redis,
        "MUTUALAID_INSTANCE_PATH": str(workdir / "instance"),
        # A few loopback clients stand for hundreds of residents: per-address limits off.
        "RATELIMIT_ENABLED": "0",
        "LOAD_TOKENS": str(tokens_path),
        "PYTHONUNBUFFERED": "1",
    }
    from redis import Redis

    Redis.from_url(options.redis).flushdb()
    flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
    web = worker = None
    results: list[dict] = []
    print(f"load run: database {name}, Redis {options.redis}, logs in {workdir}", flush=True)
    try:
        if not options.reuse:
            with open(workdir / "setup.log", "ab") as log:
                sh([*flask, "db", "upgrade"], env, log)
                sh([*flask, "import-neighbourhoods", str(GEOJSON)], env, log)
                sh([*flask, "seed-demo", "--residents", str(options.residents)], env, log)
                sh([*flask, "match", "--all"], env, log)
                sh([PYTHON, str(HERE / "prepare.py"), env["LOAD_TOKENS"], "150"], env, log)
        with open(workdir / "gunicorn.log", "ab") as log:
            web = start(gunicorn_command(options, port), env, log)
        with open(workdir / "worker.log", "ab") as log:
            worker = start([*flask, "worker"], env, log)
        wait_healthy(base)
        print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}", flush=True)
        print("server: " + " ".join(gunicorn_command(options, port)[1:]), flush=True)
        meter = CpuMeter(web.pid, database_url)
        results = run_plan(options, base, workdir, env, tokens_path, meter)
    finally:
        stop(worker)
        stop(web)
        if options.keep or options.reuse:
            print(f"database kept: --reuse {database_url}", flush=True)
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            tokens_path.unlink(missing_ok=True)
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
