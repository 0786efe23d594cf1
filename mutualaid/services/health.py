"""Health of the service's dependencies: database, Redis, queues, workers and the outbox."""

from __future__ import annotations

import time
from datetime import UTC

from rq import worker_registration
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from .. import background
from ..extensions import db
from ..models import HelpRequest, Offer
from ..models.base import utcnow


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check() or {}
        return {
            "ok": True,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            **detail,
        }
    except Exception as exc:  # a health check reports every failure instead of raising it
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _database() -> dict:
    # One statement (health is polled often, and is the baseline of the load run).
    figures = []
    for model in (HelpRequest, Offer):
        waiting = model.matching_pending_since.is_not(None)
        figures.append(select(func.min(model.matching_pending_since)).scalar_subquery())
        figures.append(select(func.count(model.id)).where(waiting).scalar_subquery())
    row = db.session.execute(select(*figures)).one()
    db.session.rollback()
    oldest = min((t for t in (row[0], row[2]) if t is not None), default=None)
    return {
        "dialect": db.engine.dialect.name,
        "outbox_pending": (row[1] or 0) + (row[3] or 0),
        "outbox_oldest_age_s": round((utcnow() - _aware(oldest)).total_seconds(), 1)
        if oldest
        else None,
    }


def _aware(moment):
    """SQLite hands back naive datetimes from a bare aggregate (they are stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _redis() -> dict:
    """Two round trips: counts of every queue and failed registry with the worker keys, then
    which of those workers are still alive (rq's own counters take one trip per figure)."""
    connection = background.get_redis()
    queues = [background.get_queue(name, connection) for name in background.QUEUE_NAMES]
    now = time.time()
    with connection.pipeline(transaction=False) as pipe:
        pipe.ping()
        for queue in queues:
            pipe.llen(queue.key)
        for queue in queues:
            # Entries scored at or before now have expired (what rq's cleanup would drop).
            pipe.zcount(FailedJobRegistry(queue=queue).key, f"({now}", "+inf")
        pipe.smembers(worker_registration.REDIS_WORKER_KEYS)
        answers = pipe.execute()
    lengths = answers[1 : 1 + len(queues)]
    failed = answers[1 + len(queues) : 1 + 2 * len(queues)]
    worker_keys = sorted(answers[-1])
    alive = 0
    if worker_keys:
        with connection.pipeline(transaction=False) as pipe:
            for key in worker_keys:
                pipe.exists(key)
            alive = sum(1 for found in pipe.execute() if found)
    return {
        "embedded": background.is_embedded(),
        "queues": {queue.name: length for queue, length in zip(queues, lengths, strict=True)},
        "failed_jobs": sum(failed),
        "workers": alive,
    }


def check_health() -> dict:
    """Status `ok`, `degraded` (Redis down: requests are still stored) or `down` (no database)."""
    report = {"database": _timed(_database), "redis": _timed(_redis)}
    if not report["database"]["ok"]:
        report["status"] = "down"
    elif not report["redis"]["ok"]:
        report["status"] = "degraded"
    else:
        report["status"] = "ok"
    return report
