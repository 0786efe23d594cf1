"""Failed jobs do not outlive retention: rq keeps a failed job (its arguments and exception
text) for a year unless told otherwise; ours go after FAILED_JOB_TTL_DAYS."""

from __future__ import annotations

from rq import SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry

from mutualaid.background import SERIALIZER, enqueue, get_queue, get_redis

DAY = 86400


def test_enqueued_jobs_carry_the_configured_failure_ttl(app_ctx):
    assert app_ctx.config["FAILED_JOB_TTL_DAYS"] == 7
    job = enqueue("mutualaid.jobs.ping", "probe", queue="default")
    try:
        assert job.failure_ttl == 7 * DAY
        # Stored with the job, so the worker that fails it later uses it too.
        assert Job.fetch(job.id, connection=get_redis(), serializer=SERIALIZER).failure_ttl == (
            7 * DAY
        )
    finally:
        get_queue("default").remove(job)


def test_a_failed_job_expires_after_the_configured_days(app_ctx):
    app_ctx.config["FAILED_JOB_TTL_DAYS"] = 2
    try:
        queue = get_queue("default")
        queue.empty()
        # A job whose function does not exist fails at once (no retries).
        job = enqueue("mutualaid.jobs.no_such_job", 42, queue="default", retries=0)
        SimpleWorker([queue], connection=get_redis(), serializer=SERIALIZER).work(burst=True)
        registry = FailedJobRegistry(queue=queue)
        assert job.id in registry.get_job_ids()
        ttl = get_redis().ttl(job.key)
        assert 2 * DAY - 120 < ttl <= 2 * DAY, ttl  # not rq's default of a year
        registry.remove(job, delete_job=True)
    finally:
        app_ctx.config["FAILED_JOB_TTL_DAYS"] = 7
