"""A real `flask --app wsgi worker` process runs jobs enqueued by the app."""

import os
import subprocess
import sys
from pathlib import Path

from rq.job import Job

from mutualaid.background import SERIALIZER, enqueue, get_redis

ROOT = Path(__file__).resolve().parents[2]


def worker_env(app, instance_path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "MUTUALAID_INSTANCE_PATH": str(instance_path),
    }


def test_worker_process_runs_an_enqueued_job(app_ctx, instance_path):
    job = enqueue("mutualaid.jobs.ping", "hallo", queue="default")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "default"],
        cwd=ROOT,
        env=worker_env(app_ctx, instance_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    job = Job.fetch(job.id, connection=get_redis(), serializer=SERIALIZER)
    assert job.is_finished
    assert job.return_value()["pong"] == "hallo"
    assert job.return_value()["pid"] != os.getpid()


def test_worker_rejects_an_unknown_queue(app_ctx, instance_path):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "nonsense"],
        cwd=ROOT,
        env=worker_env(app_ctx, instance_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "unknown queue(s) nonsense" in result.stderr
