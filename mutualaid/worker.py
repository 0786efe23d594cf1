"""The rq worker class used by `flask --app wsgi worker`."""

from __future__ import annotations

import logging
import time

from flask import current_app
from rq import Worker
from rq.worker import WorkerStatus

from .control_flow import CONTROL_FLOW
from .extensions import db
from .logs import set_request_id

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
            # The job is already dequeued: from here on it is the current job. Marked busy, a
            # SIGTERM now asks for a warm shutdown after this job (rq's own rule) instead of
            # raising StopRequested in the middle of the refresh, where it would be lost.
            self.set_state(WorkerStatus.BUSY)
            self._refresh_warm_matcher()
        return super().execute_job(job, queue)

    def _refresh_warm_matcher(self) -> None:
        started = time.perf_counter()
        try:
            pause = current_app.config.get("FAULT_REFRESH_PAUSE_SECONDS") or 0.0
            if pause:
                log.warning("fault injection: pausing %.1f s in the warm refresh", pause)
                time.sleep(pause)
            changed = self.warm.refresh()
        except CONTROL_FLOW:
            raise  # StopRequested, a job timeout: control flow, not a failure
        except Exception:  # a stale index is better than no matching: the job still runs
            log.warning("warm matcher refresh failed", exc_info=True)
            db.session.rollback()
            return
        log.info(
            "warm matcher refreshed in %.1f ms: %s", (time.perf_counter() - started) * 1000, changed
        )

    def heartbeat(self, timeout=None, pipeline=None):
        # A Redis that restarted empty (the embedded one brought back by the devserver, or a
        # real one without persistence) has forgotten this worker: rq's heartbeat only extends
        # a key that no longer exists, so the worker would run unlisted (health: 0 workers)
        # and without a scheduler (retries never due). Register again and restart it.
        if pipeline is None and not self.connection.exists(self.key):
            log.warning("Redis lost this worker's registration (restarted?): registering again")
            self.register_birth()
            if self.scheduler and not (
                self.scheduler._process and self.scheduler._process.is_alive()
            ):
                self.scheduler.acquire_locks(auto_start=True)
        return super().heartbeat(timeout, pipeline)

    def perform_job(self, job, queue, *args, **kwargs):
        # Log lines of the job carry the id of the request that enqueued it (else the job id).
        set_request_id((job.meta or {}).get("request_id") or job.id)
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            set_request_id(None)

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)
