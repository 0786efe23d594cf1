"""The rq worker class used by `flask --app wsgi worker`."""

from __future__ import annotations

import logging
import time

from rq import Worker

from .extensions import db

log = logging.getLogger(__name__)


class AppWorker(Worker):
    """An rq Worker that forks a work horse per job inside the Flask app context.

    Before forking a matching job it refreshes the warm matcher (changed offers only), so the
    horse inherits an up-to-date index instead of loading every offer again. A connection pool
    must not cross a fork: the horse drops the inherited connections (without closing the
    parent's sockets) and opens its own.
    """

    warm = None

    def execute_job(self, job, queue):
        if self.warm is not None and queue.name == "matching":
            try:
                started = time.perf_counter()
                changed = self.warm.refresh()
                log.info(
                    "warm matcher refreshed in %.1f ms: %s",
                    (time.perf_counter() - started) * 1000,
                    changed,
                )
            except Exception:  # a stale index is better than no matching: the job still runs
                log.warning("warm matcher refresh failed", exc_info=True)
                db.session.rollback()
        return super().execute_job(job, queue)

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)
