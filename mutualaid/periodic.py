"""Periodic work: enqueue each task once per interval across all machines.

Every worker may run this loop; a Redis key set with NX and an expiry equal to the interval
decides which one enqueues a task this period, so the fleet enqueues it exactly once. (rq 3's
own CronScheduler enqueues with the pickle serializer, which our JSON workers cannot read.)
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

from redis import Redis

from .background import enqueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    func: str
    queue: str
    every_seconds: int


def periodic_tasks(config: dict) -> tuple[PeriodicTask, ...]:
    """The periodic tasks, with intervals from the configuration."""
    return (
        PeriodicTask(
            "sweep_outbox", "mutualaid.jobs.sweep_outbox", "default", config["OUTBOX_SWEEP_SECONDS"]
        ),
        PeriodicTask("expire_suggestions", "mutualaid.jobs.expire_suggestions", "default", 3600),
        PeriodicTask(
            "rematch_open_requests",
            "mutualaid.jobs.rematch_open_requests",
            "matching",
            config["REMATCH_SECONDS"],
        ),
        PeriodicTask(
            "rebuild_trust_weights", "mutualaid.jobs.rebuild_trust_weights", "default", 24 * 3600
        ),
        PeriodicTask("retrain_ranker", "mutualaid.jobs.retrain_ranker", "default", 24 * 3600),
        PeriodicTask(
            "anonymise_closed_requests",
            "mutualaid.jobs.anonymise_closed_requests",
            "default",
            24 * 3600,
        ),
        # The daily rollup the municipal monitoring reads: changes every minute, all once a day.
        PeriodicTask(
            "monitoring_rollup",
            "mutualaid.services.monitoring.rollup.refresh_job",
            "default",
            int(config["MONITORING_ROLLUP_SECONDS"]),
        ),
        PeriodicTask(
            "monitoring_rollup_rebuild",
            "mutualaid.services.monitoring.rollup.rebuild_job",
            "default",
            24 * 3600,
        ),
        PeriodicTask(
            "notification_waves",
            "mutualaid.jobs.advance_notification_waves",
            "notifications",
            config["WAVE_CHECK_SECONDS"],
        ),
    )


def enqueue_due(connection: Redis, tasks: tuple[PeriodicTask, ...]) -> list[str]:
    """Enqueue the tasks whose period has no enqueue yet; return their names."""
    enqueued = []
    for task in tasks:
        key = f"mutualaid:periodic:{task.name}"
        if connection.set(key, str(time.time()), nx=True, ex=task.every_seconds):
            try:
                enqueue(
                    task.func, queue=task.queue, job_id=f"periodic-{task.name}-{int(time.time())}"
                )
            except Exception:
                connection.delete(key)  # let the next loop (or another machine) try again
                raise
            enqueued.append(task.name)
    return enqueued


def run_forever(
    connection: Redis,
    tasks: tuple[PeriodicTask, ...],
    tick_seconds: float = 5.0,
    parent_pid: int | None = None,
) -> None:
    """Loop until the parent process is gone (so a killed worker leaves no orphan)."""
    log.info("periodic tasks: %s", ", ".join(f"{t.name}/{t.every_seconds}s" for t in tasks))
    try:
        while parent_pid is None or os.getppid() == parent_pid:
            try:
                for name in enqueue_due(connection, tasks):
                    log.info("enqueued periodic task %s", name)
            except Exception:
                log.warning("periodic loop: Redis unavailable, retrying", exc_info=True)
            time.sleep(tick_seconds)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: stop quietly
        return
