"""Health of the service's dependencies: the database and Redis."""

from __future__ import annotations

import time

from sqlalchemy import text

from .. import background
from ..extensions import db


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


def check_health() -> dict:
    """Status `ok`, `degraded` (Redis down: requests are still stored) or `down` (no database)."""

    def database() -> dict:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return {"dialect": db.engine.dialect.name}

    def redis() -> dict:
        client = background.get_redis()
        client.ping()
        return {"embedded": background.is_embedded()}

    report = {"database": _timed(database), "redis": _timed(redis)}
    if not report["database"]["ok"]:
        report["status"] = "down"
    elif not report["redis"]["ok"]:
        report["status"] = "degraded"
    else:
        report["status"] = "ok"
    return report
