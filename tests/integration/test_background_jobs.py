"""Background matching with real worker processes on a real Redis, under faults."""

import os
import signal

import pytest
from sqlalchemy import func, select

from mutualaid.background import get_queue
from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Match, MatchingRun, Notification
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from tests import builders
from tests.conftest import make_test_app
from tests.integration.worker_helpers import (
    StoppableRedis,
    running_worker,
    wait_for,
    work_horses,
)

pytestmark = pytest.mark.slow
HOME = (52.2640, 6.7935)


def neighbour(north_m: float):
    return builders.resident(home_lat=HOME[0] + north_m / 111_195.0, home_lon=HOME[1])


@pytest.fixture
def town(hengelo):
    ensure_categories()
    for queue in ("matching", "notifications", "default"):
        get_queue(queue).empty()
    helpers = [neighbour(150), neighbour(400)]
    for helper in helpers:
        post_offer(helper.id, categories=["boodschappen"])
    get_queue("matching").empty()  # the offers' own jobs are not what these tests are about
    db.session.execute(HelpRequest.__table__.update().values(matching_pending_since=None))
    db.session.commit()
    return hengelo


def suggestion_count(request_id: int) -> int:
    return db.session.scalar(select(func.count(Match.id)).where(Match.request_id == request_id))


def submit() -> int:
    return post_request(neighbour(0).id, category="boodschappen", description="Boodschappen").id


def test_submitted_request_is_matched_by_a_worker_and_helpers_are_asked(
    town, instance_path, tmp_path
):
    with running_worker(town, instance_path, tmp_path / "worker.log"):
        request_id = submit()
        assert wait_for(lambda: suggestion_count(request_id) == 2, timeout=60)
        assert wait_for(
            lambda: (
                db.session.scalar(
                    select(func.count(Notification.id)).where(Notification.request_id == request_id)
                )
                == 2
            ),
            timeout=30,
        )
    run = db.session.scalar(select(MatchingRun).where(MatchingRun.trigger == "request"))
    assert run.status == "succeeded" and run.suggestions_written == 2
    assert db.session.get(HelpRequest, request_id).matching_pending_since is None


def test_killed_work_horse_is_retried_and_leaves_one_set_of_suggestions(
    town, instance_path, tmp_path
):
    with running_worker(
        town, instance_path, tmp_path / "worker.log", MUTUALAID_FAULT_PAUSE_SECONDS="6"
    ) as worker:
        wait_for(lambda: len(work_horses(worker, set())) >= 1, timeout=30)  # scheduler up
        before = {p.pid for p in work_horses(worker, set())}
        request_id = submit()
        wait_for(
            lambda: (
                db.session.scalar(
                    select(MatchingRun.status).where(MatchingRun.trigger == "request")
                )
                == "running"
            ),
            timeout=30,
        )
        horses = wait_for(lambda: work_horses(worker, before), timeout=10)
        for horse in horses:
            os.kill(horse.pid, signal.SIGKILL)
        assert wait_for(lambda: suggestion_count(request_id) == 2, timeout=90)
        assert wait_for(
            lambda: (
                db.session.scalar(
                    select(MatchingRun.status).where(MatchingRun.trigger == "request")
                )
                == "succeeded"
            ),
            timeout=30,
        )
    assert suggestion_count(request_id) == 2
    assert db.session.scalar(select(func.count(MatchingRun.id))) == 1  # same job, same run
    log = (tmp_path / "worker.log").read_text()
    assert "terminated unexpectedly" in log or "SIGKILL" in log or "signal 9" in log


def test_job_over_its_timeout_is_retried_without_duplicates(town, instance_path, tmp_path):
    short = make_test_app(
        town.config["SQLALCHEMY_DATABASE_URI"],
        town.config["REDIS_URL"],
        instance_path,
        JOB_TIMEOUT_SECONDS=2,
    )
    with (
        running_worker(
            town, instance_path, tmp_path / "worker.log", MUTUALAID_FAULT_PAUSE_SECONDS="5"
        ),
        short.app_context(),
    ):
        request_id = submit()
        assert wait_for(lambda: suggestion_count(request_id) == 2, timeout=90)
        assert wait_for(
            lambda: db.session.scalar(select(MatchingRun.status)) == "succeeded", timeout=30
        )
        db.session.remove()
    log = (tmp_path / "worker.log").read_text()
    assert "JobTimeoutException" in log or "timeout" in log.lower()
    assert suggestion_count(request_id) == 2


def test_warm_shutdown_lets_the_running_job_finish(town, instance_path, tmp_path):
    with running_worker(
        town, instance_path, tmp_path / "worker.log", MUTUALAID_FAULT_PAUSE_SECONDS="3"
    ) as worker:
        request_id = submit()
        wait_for(lambda: db.session.scalar(select(MatchingRun.status)) == "running", timeout=30)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    db.session.rollback()
    assert suggestion_count(request_id) == 2
    assert db.session.scalar(select(MatchingRun.status)) == "succeeded"


def test_request_submitted_while_redis_is_down_is_matched_after_it_returns(
    town, instance_path, tmp_path
):
    from mutualaid.services.health import check_health
    from mutualaid.services.outbox import sweep_outbox

    redis = StoppableRedis(tmp_path)
    redis.start()
    app = make_test_app(town.config["SQLALCHEMY_DATABASE_URI"], redis.url, instance_path)
    with app.app_context():
        redis.stop()
        request_id = submit()  # answered with success although Redis is down
        assert db.session.get(HelpRequest, request_id).matching_pending_since is not None
        assert check_health()["status"] == "degraded"
        redis.start()
        with running_worker(app, instance_path, tmp_path / "worker.log", redis_url=redis.url):
            assert sweep_outbox(min_age_seconds=0)["requests"] == 1
            assert wait_for(lambda: suggestion_count(request_id) == 2, timeout=60)
        assert check_health()["status"] == "ok"
        db.session.remove()
    redis.stop()


def test_sigterm_during_the_warm_refresh_stops_the_worker_after_the_job(
    town, instance_path, tmp_path
):
    """A SIGTERM while the worker refreshes its index used to be swallowed (the worker kept
    dequeuing until a second signal). Now it finishes the dequeued job and stops."""
    log_path = tmp_path / "worker.log"
    with running_worker(
        town, instance_path, log_path, MUTUALAID_FAULT_REFRESH_PAUSE_SECONDS="4"
    ) as worker:
        request_id = submit()
        wait_for(lambda: "pausing" in log_path.read_text(), timeout=60)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    db.session.rollback()
    assert suggestion_count(request_id) == 2  # the dequeued job was not lost
    assert db.session.scalar(select(MatchingRun.status)) == "succeeded"
