"""Every response names its request id; jobs enqueued by a request carry it."""

from mutualaid.background import enqueue, get_queue
from mutualaid.logs import REQUEST_ID_HEADER


def test_each_response_has_a_fresh_request_id(client):
    first = client.get("/api/v1/health").headers[REQUEST_ID_HEADER]
    second = client.get("/api/v1/health").headers[REQUEST_ID_HEADER]
    assert first and second and first != second


def test_a_sane_incoming_request_id_is_kept_and_a_strange_one_replaced(client):
    kept = client.get("/", headers={REQUEST_ID_HEADER: "abc-123"})
    assert kept.headers[REQUEST_ID_HEADER] == "abc-123"
    replaced = client.get("/", headers={REQUEST_ID_HEADER: "<script>x</script>"})
    assert replaced.headers[REQUEST_ID_HEADER] != "<script>x</script>"


def test_a_job_enqueued_during_a_request_carries_its_id(app_ctx):
    get_queue("default").empty()
    with app_ctx.test_request_context("/", headers={REQUEST_ID_HEADER: "req-77"}):
        app_ctx.preprocess_request()
        job = enqueue("mutualaid.jobs.ping", "x", queue="default")
    assert job.meta["request_id"] == "req-77"
    get_queue("default").empty()
