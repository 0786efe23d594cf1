"""The rq worker class used by `flask --app wsgi worker`."""

from __future__ import annotations

from rq import Worker

from .extensions import db


class AppWorker(Worker):
    """An rq Worker that forks a work horse per job inside the Flask app context.

    The worker command runs under the app context, and fork() copies it into the horse. A
    connection pool must not cross a fork, so the horse drops the inherited connections (without
    closing the parent's sockets) and opens its own.
    """

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)
