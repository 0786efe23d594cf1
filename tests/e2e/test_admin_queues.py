"""The admin queue page: admins only; shows queues and failed jobs, which can be retried."""

from rq.job import Job

from mutualaid.background import SERIALIZER, enqueue, get_queue, get_redis
from mutualaid.services.accounts import create_user
from tests import staff_login

PASSWORD = "long-enough-password"


def sign_in(client, email: str) -> None:
    response = staff_login.sign_in(client, email, PASSWORD)
    assert response.status_code == 302


def test_anonymous_visitors_are_sent_to_sign_in_and_workers_are_refused(client):
    assert client.get("/admin/queues").status_code == 302
    create_user("coach@example.org", PASSWORD, "worker", "Coach")
    sign_in(client, "coach@example.org")
    assert client.get("/admin/queues").status_code == 403


def test_admin_sees_a_failed_job_and_can_put_it_back(client):
    create_user("admin@example.org", PASSWORD, "admin", "Admin")
    sign_in(client, "admin@example.org")
    queue = get_queue("default")
    queue.empty()
    job = enqueue("mutualaid.jobs.ping", "x", queue="default", retries=0)
    # Run it in-process through rq's own failure path with a function that does not exist.
    job = Job.fetch(job.id, connection=get_redis(), serializer=SERIALIZER)
    job.func_name = "mutualaid.jobs.does_not_exist"
    job.save()
    from rq import SimpleWorker

    SimpleWorker([queue], connection=get_redis(), serializer=SERIALIZER).work(burst=True)
    page = client.get("/admin/queues").get_data(as_text=True)
    assert job.id in page and "does_not_exist" in page
    response = client.post(f"/admin/queues/failed/{job.id}/requeue")
    assert response.status_code == 302
    assert job.id in queue.job_ids
    queue.empty()
