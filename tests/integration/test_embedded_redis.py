"""The embedded Redis has one owner and one clean end, whichever command started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from mutualaid.embedded_redis import EmbeddedRedis
from tests.integration.worker_helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def redis_servers_on(socket_file: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "redis-server" in (process.info["name"] or "") and socket_file in " ".join(cmdline):
            found.append(process)
    return found


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_a_process_that_joins_never_stops_the_owners_server(tmp_path):
    owner = EmbeddedRedis(str(tmp_path / "redis.db")).start()
    try:
        assert owner.owner and owner.answers()
        joined = run_python(
            "from mutualaid.embedded_redis import EmbeddedRedis\n"
            f"r = EmbeddedRedis({str(tmp_path / 'redis.db')!r}).start()\n"
            "print('owner' if r.owner else 'joined')\n"
        )
        assert joined.stdout.strip() == "joined", joined.stderr
        assert owner.answers()  # still up after the joiner exited
    finally:
        owner.stop()
    assert not owner.answers()
    assert redis_servers_on(owner.socket_file) == []


def test_a_server_left_by_a_killed_owner_is_adopted_and_stopped(tmp_path):
    db_path = str(tmp_path / "redis.db")
    killed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom mutualaid.embedded_redis import EmbeddedRedis\n"
            f"EmbeddedRedis({db_path!r}).start()\nprint('up', flush=True)\ntime.sleep(60)\n",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert killed.stdout.readline().strip() == "up"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    heir = EmbeddedRedis(db_path)
    assert heir.answers()  # the orphan is still running
    heir.start()
    assert heir.owner
    heir.stop()
    assert redis_servers_on(heir.socket_file) == []


def test_the_owner_brings_a_killed_server_back(tmp_path):
    server = EmbeddedRedis(str(tmp_path / "redis.db")).start()
    try:
        os.kill(server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while server.answers() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.ensure_running() is True
        assert server.answers()
    finally:
        server.stop()


def test_plain_flask_run_on_the_embedded_default_leaves_no_redis_after_ctrl_c(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "MUTUALAID_REDIS_EMBEDDED")
    }
    env["MUTUALAID_INSTANCE_PATH"] = str(tmp_path / "instance")
    web = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket_file = str(tmp_path / "instance" / "redis.socket")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
                break
            except OSError:
                time.sleep(0.3)
        assert redis_servers_on(socket_file), "the health check should have started Redis"
    finally:
        web.send_signal(signal.SIGINT)
        web.wait(timeout=30)
    deadline = time.monotonic() + 10
    while redis_servers_on(socket_file) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert redis_servers_on(socket_file) == []
