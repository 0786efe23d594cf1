"""What the job queues are doing: depths, workers, failed jobs (for the admin queue page)."""

from __future__ import annotations

from dataclasses import dataclass

from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from .. import background
from ..errors import NotFound


@dataclass(frozen=True)
class QueueState:
    name: str
    queued: int
    started: int
    failed: int


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    func: str
    args: str
    ended_at: str
    error: str


def queue_overview() -> tuple[list[QueueState], list[dict]]:
    """Per queue: queued, running and failed counts; and the live workers."""
    connection = background.get_redis()
    states = []
    for name in background.QUEUE_NAMES:
        queue = background.get_queue(name, connection)
        states.append(
            QueueState(
                name,
                queue.count,
                StartedJobRegistry(queue=queue).count,
                FailedJobRegistry(queue=queue).count,
            )
        )
    workers = [
        {
            "name": w.name,
            "state": w.get_state(),
            "queues": ", ".join(w.queue_names()),
            "successful": w.successful_job_count,
            "failed": w.failed_job_count,
        }
        for w in Worker.all(connection=connection)
    ]
    return states, workers


def failed_jobs(limit: int = 50) -> list[FailedJob]:
    """The most recent failed jobs across queues, with the last line of their error."""
    connection = background.get_redis()
    result = []
    for name in background.QUEUE_NAMES:
        registry = FailedJobRegistry(queue=background.get_queue(name, connection))
        for job_id in registry.get_job_ids(0, limit - 1):
            try:
                job = Job.fetch(job_id, connection=connection, serializer=background.SERIALIZER)
            except NoSuchJobError:
                continue
            outcome = job.latest_result()
            error = ((outcome.exc_string if outcome else "") or "").strip().splitlines()
            result.append(
                FailedJob(
                    job.id,
                    name,
                    job.func_name,
                    repr(job.args)[:120],
                    str(job.ended_at or ""),
                    error[-1] if error else "",
                )
            )
    return sorted(result, key=lambda j: j.ended_at, reverse=True)[:limit]


def requeue_failed_job(job_id: str) -> None:
    """Put a failed job back on its queue."""
    connection = background.get_redis()
    for name in background.QUEUE_NAMES:
        registry = FailedJobRegistry(queue=background.get_queue(name, connection))
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            return
    raise NotFound(f"no failed job {job_id}", field="job_id")
