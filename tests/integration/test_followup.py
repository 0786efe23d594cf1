"""The follow-up queue: thresholds, problem reports, VOG expiry, actions and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.errors import Invalid, NotFound
from mutualaid.extensions import db
from mutualaid.models import AuditEvent, FollowUpAction, ProblemReport
from mutualaid.services.audit_view import audit_for_worker
from mutualaid.services.followup import follow_up_count, follow_up_queue, record_follow_up
from tests.dashboard_builders import OTHER, asks, decline, neighbourhood, person, staff, vog


def kinds(page) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for item in page.items:
        result.setdefault(item.kind, set()).add(item.first_name)
    return result


@pytest.fixture
def worker(hengelo):
    return staff("coach@example.org")


def test_requests_unmatched_past_the_threshold_appear(worker, app):
    assert app.config["FOLLOW_UP_UNMATCHED_DAYS"] == 3
    asks(person(first_name="Oud"), days_ago=4)
    asks(person(first_name="Vers"), days_ago=1)
    asks(person(first_name="Klaar"), days_ago=10, status="matched")
    db.session.commit()
    assert kinds(follow_up_queue(worker.id)) == {"unmatched": {"Oud"}}


def test_urgent_open_requests_appear_at_once_and_come_first(worker):
    asks(person(first_name="Oud"), days_ago=5)
    asks(person(first_name="Nood"), days_ago=0, urgency="high")
    db.session.commit()
    page = follow_up_queue(worker.id)
    assert [(i.kind, i.first_name) for i in page.items] == [
        ("urgent", "Nood"),
        ("unmatched", "Oud"),
    ]
    assert page.items[0].suggested


def test_residents_with_three_requests_in_sixty_days_keep_needing_help(worker):
    often = person(first_name="Vaak")
    twice = person(first_name="Twee")
    for days in (1, 20, 50):
        asks(often, days_ago=days, status="done")
    for days in (1, 70, 80):  # only one inside the 60-day window
        asks(twice, days_ago=days, status="done")
    db.session.commit()
    page = follow_up_queue(worker.id)
    assert kinds(page) == {"repeat_requester": {"Vaak"}}
    assert page.items[0].detail["requests"] == 3


def test_requests_declined_three_times_appear(worker):
    often, twice = asks(person(first_name="Nee"), days_ago=1), asks(person(first_name="Bijna"))
    for _ in range(3):
        decline(often, person())
    for _ in range(2):
        decline(twice, person())
    db.session.commit()
    assert kinds(follow_up_queue(worker.id)) == {"declined": {"Nee"}}


def test_problem_reports_are_routed_by_neighbourhood(worker):
    mine = person(first_name="Melder")
    other = person(OTHER, first_name="Ander")
    db.session.add_all(
        [
            ProblemReport(reporter_id=mine.id, neighbourhood_id=mine.neighbourhood_id, body="x"),
            ProblemReport(reporter_id=other.id, neighbourhood_id=other.neighbourhood_id, body="y"),
        ]
    )
    db.session.commit()
    assert kinds(follow_up_queue(worker.id)) == {"problem": {"Melder"}}


def test_vogs_expiring_within_thirty_days_appear(worker):
    vog(person(first_name="Bijna"), expires_in_days=20)
    vog(person(first_name="Later"), expires_in_days=45)
    vog(person(first_name="Verlopen"), expires_in_days=-2)
    renewed = person(first_name="Vernieuwd")
    vog(renewed, expires_in_days=10)
    vog(renewed, issued_days_ago=1)  # a new VOG: valid for 36 months
    db.session.commit()
    page = follow_up_queue(worker.id)
    assert kinds(page) == {"vog_expiry": {"Bijna"}}


def test_the_queue_never_shows_other_neighbourhoods(worker):
    asks(person(OTHER, first_name="Buiten"), days_ago=10, urgency="high")
    db.session.commit()
    assert follow_up_queue(worker.id).items == []
    admin = staff("admin@example.org", "admin")
    assert kinds(follow_up_queue(admin.id)) == {"urgent": {"Buiten"}}


def test_a_note_marks_the_item_and_handled_removes_it(worker):
    request = asks(person(first_name="Oud"), days_ago=5)
    db.session.commit()
    record_follow_up(worker.id, "unmatched", request.id, "called", "Geen gehoor")
    item = follow_up_queue(worker.id).items[0]
    assert [(a.action, a.note, a.by) for a in item.actions] == [("called", "Geen gehoor", "Coach")]
    record_follow_up(worker.id, "unmatched", request.id, "handled")
    assert follow_up_queue(worker.id).items == []
    assert follow_up_count([neighbourhood("BU01640000").id]) == 0
    closed = follow_up_queue(worker.id, include_closed=True).items
    assert closed[0].closed and closed[0].actions[0].action == "handled"


def test_handling_a_problem_report_marks_it_handled(worker):
    reporter = person(first_name="Melder")
    report = ProblemReport(
        reporter_id=reporter.id, neighbourhood_id=reporter.neighbourhood_id, body="Niemand kwam"
    )
    db.session.add(report)
    db.session.commit()
    record_follow_up(worker.id, "problem", report.id, "referred", "Naar wijkteam")
    stored = db.session.get(ProblemReport, report.id)
    assert stored.handled_at is not None and stored.handled_by_user_id == worker.id


def test_actions_outside_scope_or_with_bad_values_are_refused(worker):
    outside = asks(person(OTHER), days_ago=5)
    mine = asks(person(), days_ago=5)
    db.session.commit()
    with pytest.raises(NotFound):
        record_follow_up(worker.id, "unmatched", outside.id, "handled")
    with pytest.raises(Invalid) as error:
        record_follow_up(worker.id, "unmatched", mine.id, "shrug")
    assert error.value.field == "action"
    with pytest.raises(Invalid) as error:
        record_follow_up(worker.id, "gossip", mine.id, "handled")
    assert error.value.field == "kind"
    assert db.session.scalars(select(FollowUpAction)).all() == []


def test_queue_views_and_actions_are_audited(worker):
    resident = person(first_name="Oud")
    request = asks(resident, days_ago=5)
    db.session.commit()
    follow_up_queue(worker.id)
    record_follow_up(worker.id, "unmatched", request.id, "called")
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_resident_id == resident.id)
        )
    ]
    assert actions == ["view:follow_up", "follow_up"]


def test_audit_view_shows_events_about_own_residents_newest_first(worker):
    mine, other = person(first_name="Mijn"), person(OTHER, first_name="Ander")
    asks(mine, days_ago=5)
    asks(other, days_ago=5)
    db.session.commit()
    admin = staff("admin@example.org", "admin")
    follow_up_queue(admin.id)  # the admin sees both: two view events
    page = audit_for_worker(worker.id)
    assert [(i.resident_first_name, i.action, i.actor) for i in page.items] == [
        ("Mijn", "view:follow_up", "Admin")
    ]
    # Looking at the log is itself audited, and hidden from the list unless asked for.
    again = audit_for_worker(worker.id, include_log_views=True)
    assert [i.action for i in again.items] == ["view:audit", "view:follow_up"]
