"""Health of the service's dependencies: database, Redis, queues, workers and the outbox."""

from __future__ import annotations

import time

from rq import Worker
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select, text

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
    db.session.execute(text("SELECT 1"))
    oldest = min(
        (
            t
            for t in (
                db.session.scalar(select(func.min(HelpRequest.matching_pending_since))),
                db.session.scalar(select(func.min(Offer.matching_pending_since))),
            )
            if t is not None
        ),
        default=None,
    )
    pending = (
        db.session.scalar(
            select(func.count(HelpRequest.id)).where(
                HelpRequest.matching_pending_since.is_not(None)
            )
        )
        or 0
    ) + (
        db.session.scalar(
            select(func.count(Offer.id)).where(Offer.matching_pending_since.is_not(None))
        )
        or 0
    )
    db.session.rollback()
    return {
        "dialect": db.engine.dialect.name,
        "outbox_pending": pending,
        "outbox_oldest_age_s": round((utcnow() - oldest).total_seconds(), 1) if oldest else None,
    }


def _redis() -> dict:
    connection = background.get_redis()
    connection.ping()
    queues = {}
    failed = 0
    for name in background.QUEUE_NAMES:
        queue = background.get_queue(name, connection)
        queues[name] = queue.count
        failed += FailedJobRegistry(queue=queue).count
    workers = Worker.all(connection=connection)
    return {
        "embedded": background.is_embedded(),
        "queues": queues,
        "failed_jobs": failed,
        "workers": len(workers),
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
