"""`make run`'s command: migrates, seeds, serves, runs a worker; Ctrl-C leaves nothing behind."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_devserver_serves_the_demo_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(MUTUALAID_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    log = tmp_path / "devserver.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "devserver", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        body = None
        for _ in range(240):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                ) as r:
                    body = r.read().decode()
                    break
            except OSError:
                assert process.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)
        assert body and '"status":"ok"' in body.replace(" ", ""), log.read_text()[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert "Binnenstad-Centrum" in r.read().decode()
        output = log.read_text()
        assert "wijkcoach.noord@example.org" in output and f"127.0.0.1:{port}" in output
        assert re.search(r"Matched \d+ open requests: [1-9]\d* suggestions", output)
        socket_path = re.search(r"Redis: unix://(\S+)", output).group(1)
        family = [process.pid] + [c.pid for c in psutil.Process(process.pid).children(True)]
        assert len(family) >= 3  # supervisor, web server, worker
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        process.wait(timeout=60)
    time.sleep(1)
    alive = [
        pid
        for pid in family
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert alive == [], log.read_text()[-2000:]
    redis_left = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if socket_path in " ".join(p.info["cmdline"] or [])
    ]
    assert redis_left == []
    assert "Stopped." in log.read_text()
