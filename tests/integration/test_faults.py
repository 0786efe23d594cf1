"""Faults with real processes: PostgreSQL restarted under a web server and a worker, a work
horse killed halfway through writing suggestions, the embedded Redis killed under the devserver.

Each test is bounded in time (every wait has a timeout) and stops what it started."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import requests
from sqlalchemy import func, select

from mutualaid.background import enqueue, get_queue
from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Match, MatchingRun
from mutualaid.services.accounts import create_user
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_request
from tests import builders
from tests.conftest import BUNDLED_GEOJSON, create_postgres_database, make_test_app
from tests.integration.worker_helpers import (
    ROOT,
    free_port,
    running_worker,
    wait_for,
    work_horses,
)

pytestmark = pytest.mark.slow
HOME = (52.2640, 6.7935)
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))


def neighbour(north_m: float):
    return builders.resident(home_lat=HOME[0] + north_m / 111_195.0, home_lon=HOME[1])


def empty_queues() -> None:
    for queue in ("matching", "notifications", "default"):
        get_queue(queue).empty()


def suggested(request_id: int) -> frozenset[int]:
    """The offers currently suggested for a request (what a resident would see)."""
    return frozenset(
        db.session.scalars(
            select(Match.offer_id).where(
                Match.request_id == request_id, Match.status == "suggested"
            )
        )
    )


# --- a private PostgreSQL cluster we may stop and start ------------------------------------


class PrivatePostgres:
    """initdb + pg_ctl on a free port in a temp dir (never the machine's shared server)."""

    def __init__(self) -> None:
        self.bin = Path(PG_BIN[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mutualaid-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.prefix = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        os.chmod(self.dir, 0o755)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self.prefix, *args], check=True, timeout=timeout, capture_output=True, cwd=self.dir
        )

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    if not PG_BIN:
        pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
    try:
        server = PrivatePostgres()
    except LookupError:  # root, but no `postgres` user to run the server as
        pytest.skip("running as root without a postgres user: cannot start a private PostgreSQL")
    try:
        server.init()
        server.start()
    except (subprocess.CalledProcessError, KeyError, LookupError) as exc:
        server.destroy()
        pytest.skip(f"cannot start a private PostgreSQL cluster: {exc}")
    yield server
    server.destroy()


@contextlib.contextmanager
def gunicorn(database_url: str, redis_url: str, instance_path: Path, log_path: Path):
    """gunicorn (1 process, 4 threads) on a free loopback port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MUTUALAID_INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": "0",
        "RATELIMIT_ENABLED": "0",
        "PYTHONUNBUFFERED": "1",
    }
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "--timeout", "60",
             "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/api/v1/health"), timeout=60)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _count(request_id: int) -> int:
    try:
        return len(suggested(request_id))
    except Exception:  # our own connection died with the server; the next try reconnects
        db.session.rollback()
        return -1


def test_postgres_restart_gives_503_meanwhile_and_loses_nothing(
    private_postgres, redis_url, instance_path, tmp_path
):
    from mutualaid.services.neighbourhoods import import_neighbourhoods

    url = create_postgres_database(private_postgres.url)
    app = make_test_app(url, redis_url, instance_path)
    with app.app_context():
        db.create_all()
        import_neighbourhoods(BUNDLED_GEOJSON)
        ensure_categories()
        empty_queues()
        for north in (150, 400):
            post_offer(neighbour(north).id, categories=["boodschappen"])
        requester = neighbour(0)
        user = create_user("anna@example.org", "long-enough-password", "resident", "Anna",
                           resident_id=requester.id)  # fmt: skip
        _, secret = create_api_token(user.id, "fault test")
        auth = {"Authorization": f"Bearer {secret}"}
        empty_queues()
        db.session.execute(HelpRequest.__table__.update().values(matching_pending_since=None))
        db.session.commit()
        body = {"category": "boodschappen", "description": "Boodschappen"}

        with (
            gunicorn(url, redis_url, instance_path, tmp_path / "web.log") as base,
            running_worker(app, instance_path, tmp_path / "worker.log"),
        ):
            posted = requests.post(f"{base}/api/v1/requests", json=body, headers=auth, timeout=10)
            assert posted.status_code == 201, posted.text
            before = posted.json()["id"]
            private_postgres.stop()  # right after the post: its job may not have run yet

            health = requests.get(f"{base}/api/v1/health", timeout=10)
            assert health.status_code == 503 and health.json()["status"] == "down"
            listed = requests.get(f"{base}/api/v1/requests", headers=auth, timeout=10)
            assert listed.status_code == 503
            assert listed.json()["error"] == "service_unavailable"
            assert listed.json()["rule"] == "database_unavailable"
            refused = requests.post(f"{base}/api/v1/requests", json=body, headers=auth, timeout=10)
            assert refused.status_code == 503  # not stored, and the client is told to retry
            assert refused.headers["Retry-After"]
            page = requests.post(
                f"{base}/auth/login",
                data={"email": "anna@example.org", "password": "long-enough-password"},
                headers={"Accept": "text/html"},
                timeout=10,
            )
            assert page.status_code == 503
            assert page.headers["Content-Type"].startswith("text/html")
            assert "<h1>" in page.text and "Traceback" not in page.text

            private_postgres.start()
            assert wait_for(lambda: _answers(f"{base}/api/v1/health"), timeout=60)
            # The request posted just before the outage is matched (retried job), and work
            # resumes for a new one without anyone restarting the web server or the worker.
            assert wait_for(lambda: _count(before) == 2, timeout=120)
            after = requests.post(f"{base}/api/v1/requests", json=body, headers=auth, timeout=10)
            assert after.status_code == 201, after.text
            assert wait_for(lambda: _count(after.json()["id"]) == 2, timeout=90)
            listed = requests.get(f"{base}/api/v1/requests", headers=auth, timeout=10)
            assert listed.status_code == 200 and listed.json()["total"] == 2  # nothing lost
        db.session.remove()
        db.engine.dispose()
    web_log = (tmp_path / "web.log").read_text()
    assert "Traceback" not in web_log  # 503s, not crashes


# --- a work horse killed halfway through the write ----------------------------------------


@pytest.fixture
def town(hengelo):
    ensure_categories()
    empty_queues()
    return hengelo


def test_horse_killed_inside_the_suggestions_write_leaves_old_or_new_set_never_half(
    town, instance_path, tmp_path
):
    helpers = [neighbour(150), neighbour(400)]
    offers = [post_offer(h.id, categories=["boodschappen"]).id for h in helpers]
    request_id = post_request(neighbour(0).id, category="boodschappen", description="Graag").id
    empty_queues()
    match_request(request_id, force=True)  # the old, complete set: the two helpers
    old = suggested(request_id)
    assert old == frozenset(offers)
    offers.append(post_offer(neighbour(250).id, categories=["boodschappen"]).id)
    new = frozenset(offers)
    empty_queues()
    db.session.execute(
        HelpRequest.__table__.update().values(matching_pending_since=None)
        .where(HelpRequest.id != request_id)
    )  # fmt: skip
    db.session.get(HelpRequest, request_id).matching_pending_since = old_time()
    db.session.commit()
    log_path = tmp_path / "worker.log"
    seen: set[frozenset[int]] = set()

    def visible() -> frozenset[int]:
        db.session.rollback()
        current = suggested(request_id)
        seen.add(current)
        return current

    with running_worker(
        town, instance_path, log_path, MUTUALAID_FAULT_WRITE_PAUSE_SECONDS="4"
    ) as worker:
        wait_for(lambda: len(work_horses(worker, set())) >= 1, timeout=30)  # scheduler up
        before = {p.pid for p in work_horses(worker, set())}
        enqueue("mutualaid.jobs.match_request", request_id, queue="matching")
        wait_for(lambda: "inside the suggestions write" in log_path.read_text(), timeout=60)
        assert visible() == old  # staged or half-applied rows are not visible
        horses = wait_for(lambda: work_horses(worker, before), timeout=10)
        for horse in horses:
            os.kill(horse.pid, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while visible() != new and time.monotonic() < deadline:
            time.sleep(0.1)
        assert wait_for(
            lambda: (
                db.session.scalar(
                    select(MatchingRun.status).where(MatchingRun.trigger == "request")
                )
                == "succeeded"
            ),
            timeout=30,
        )
    assert visible() == new  # the retried job completed
    assert seen <= {old, new}, f"a half-written set was visible: {seen}"
    assert (
        db.session.scalar(select(func.count(Match.id)).where(Match.request_id == request_id)) == 3
    )


def old_time():
    from datetime import timedelta

    from mutualaid.models.base import utcnow

    return utcnow() - timedelta(minutes=1)


# --- the embedded Redis killed under the devserver -----------------------------------------


def poll(predicate, timeout: float, interval: float = 0.2):
    """Poll until predicate() is truthy (no database session: the devserver owns its own)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


def _health(base: str) -> dict | None:
    try:
        return requests.get(f"{base}/api/v1/health", timeout=10).json()
    except (requests.RequestException, ValueError):
        return None


def _embedded_redis_pids(instance: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline", "cwd"]):
        with contextlib.suppress(psutil.Error):
            line = " ".join(process.info["cmdline"] or [])
            if "redis-server" in line and (
                str(instance) in line or str(instance) in (process.info["cwd"] or "")
            ):
                found.append(process)
    return found


def test_embedded_redis_killed_under_the_devserver_is_reported_and_recovered(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DATABASE_URL", "MUTUALAID_REDIS_EMBEDDED")
    }
    env.update(MUTUALAID_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1", RATELIMIT_ENABLED="0")
    # The console (stdout: the demo logins it prints for a person) apart from the logs
    # (stderr), which the log-hygiene check scans for personal data.
    console_path = tmp_path / "devserver.out"
    with open(console_path, "ab") as console, open(tmp_path / "devserver.log", "ab") as log:
        devserver = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "devserver", "--port", str(port)],
            cwd=ROOT, env=env, stdout=console, stderr=log, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        # The first start migrates and seeds the demo: allow it time.
        assert poll(lambda: (_health(base) or {}).get("status") == "ok", timeout=240)
        servers = poll(lambda: _embedded_redis_pids(instance), timeout=10)
        for server in servers:
            server.kill()
        down = poll(lambda: (_health(base) or {}).get("status") == "degraded", timeout=5)
        assert down
        report = _health(base)
        assert report["status"] in ("degraded", "ok")  # it may already be back
        # Brought back within seconds; generous for a loaded CI machine.
        assert poll(lambda: (_health(base) or {}).get("status") == "ok", timeout=90), (
            "devserver alive" if devserver.poll() is None else "devserver exited"
        )
        _post_and_see_matched(base, console_path)  # the worker reconnected and works
        # ... and is listed again (a restarted Redis starts empty: the worker registers again)
        assert poll(lambda: (_health(base) or {})["redis"].get("workers", 0) >= 1, timeout=30)
    finally:
        if devserver.poll() is None:
            os.killpg(devserver.pid, signal.SIGINT)
            try:
                devserver.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(devserver.pid, signal.SIGKILL)
                devserver.wait()
        for left in _embedded_redis_pids(instance):
            left.kill()


def _post_and_see_matched(base: str, console_path: Path) -> None:
    """A request posted through the API after the restart is matched by the worker."""
    from mutualaid.services.demo import DEMO_PASSWORD

    email = re.search(r"resident\s+(bewoner@\S+)", console_path.read_text()).group(1)
    issued = requests.post(
        f"{base}/api/v1/auth/tokens", json={"email": email, "password": DEMO_PASSWORD}, timeout=30
    )
    assert issued.status_code == 201, issued.text
    auth = {"Authorization": f"Bearer {issued.json()['token']}"}
    body = {"category": "boodschappen", "description": "Boodschappen na de storing"}
    posted = requests.post(f"{base}/api/v1/requests", json=body, headers=auth, timeout=30)
    assert posted.status_code == 201, posted.text
    url = f"{base}/api/v1/requests/{posted.json()['id']}/suggestions"

    def matched() -> bool:
        answer = requests.get(url, headers=auth, timeout=30)
        return answer.status_code == 200 and len(answer.json()) > 0

    assert poll(matched, timeout=90)
