"""Run the account mail jobs waiting in the notifications queue in this test process, for tests
that need a job's effect (a mail) without starting a worker process."""

from __future__ import annotations

from mutualaid.background import get_queue

ACCOUNT_MAIL_JOBS = (
    "mutualaid.jobs.send_password_reset",
    "mutualaid.jobs.send_registration_notice",
    "mutualaid.jobs.send_email_confirmation",
)


def run_account_mail_jobs() -> int:
    """Run (and take out of the queue) every queued account mail job, oldest first; how many.

    Other jobs in the queue (e.g. notification waves of other tests) are left alone."""
    queue = get_queue("notifications")
    ran = 0
    for job in queue.get_jobs():
        if job.func_name in ACCOUNT_MAIL_JOBS:
            queue.remove(job)
            job.perform()
            ran += 1
    return ran
