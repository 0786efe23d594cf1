"""Who is involved, newly active residents and reaching out: the rules and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mutualaid.errors import Invalid, NotAllowed, NotFound
from mutualaid.extensions import db
from mutualaid.models import AuditEvent, ContactNote, Resident
from mutualaid.services.involvement import (
    involvement_cells,
    list_involved,
    parse_query,
    snap,
)
from mutualaid.services.newly_active import list_newly_active, reach_out
from tests.dashboard_builders import (
    MINE,
    OTHER,
    asks,
    helped,
    offers,
    person,
    staff,
    vog,
    vouch,
)


def views(user, what: str) -> dict[int, int]:
    rows = db.session.execute(
        select(AuditEvent.subject_resident_id, func.count())
        .where(AuditEvent.actor_user_id == user.id, AuditEvent.action == f"view:{what}")
        .group_by(AuditEvent.subject_resident_id)
    ).all()
    return dict(rows)


@pytest.fixture
def street(hengelo):
    """A worker for MINE, with a helper, a requester, an idle resident and someone next door."""
    worker = staff("coach@example.org")
    anna = person(first_name="Anna", last_name="Jansen", days_active=200)
    piet = person(first_name="Piet", last_name="Smit", days_active=20)
    idle = person(first_name="Idle", days_active=None)
    elsewhere = person(OTHER, first_name="Elders")
    offers(anna)
    helped(anna, piet, days_ago=3)
    helped(anna, piet, days_ago=40)
    asks(elsewhere)
    db.session.commit()
    return {"worker": worker, "anna": anna, "piet": piet, "idle": idle, "elsewhere": elsewhere}


def test_involved_lists_active_residents_of_the_neighbourhood_with_their_help(street):
    page = list_involved(street["worker"].id, MINE)
    by_name = {item.first_name: item for item in page.items}
    assert set(by_name) == {"Anna", "Piet"}
    assert page.total == 2
    assert by_name["Anna"].helps_given == 2 and by_name["Anna"].helps_received == 0
    assert by_name["Piet"].helps_received == 2 and by_name["Piet"].requests == 2
    assert by_name["Piet"].newly_active and not by_name["Anna"].newly_active
    assert by_name["Anna"].last_activity_at is not None


def test_every_resident_shown_gets_one_view_event(street):
    list_involved(street["worker"].id, MINE)
    assert views(street["worker"], "involvement") == {street["anna"].id: 1, street["piet"].id: 1}


def test_a_neighbourhood_outside_the_scope_gives_no_data_and_no_event(street):
    with pytest.raises(NotAllowed):
        list_involved(street["worker"].id, OTHER)
    with pytest.raises(NotFound):
        list_involved(street["worker"].id, "BU99999999")
    assert views(street["worker"], "involvement") == {}


def test_admin_sees_any_neighbourhood_and_residents_are_refused(street):
    admin = staff("admin@example.org", "admin")
    assert [i.first_name for i in list_involved(admin.id, OTHER).items] == ["Elders"]
    resident_user = staff("r@example.org", "resident")
    with pytest.raises(NotAllowed):
        list_involved(resident_user.id, MINE)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"role": "helper"}, {"Anna"}),
        ({"role": "requester"}, {"Piet"}),
        ({"role": "both"}, set()),
        ({"newly_active": "1"}, {"Piet"}),
        ({"q": "smi"}, {"Piet"}),
        ({"vouched": "1"}, {"Anna"}),
        ({"vog": "expiring"}, {"Anna"}),
        ({"vog": "none"}, {"Piet"}),
    ],
)
def test_filters(street, args, expected):
    vouch(street["anna"], street["worker"])
    vouch(street["piet"], street["worker"], revoked=True)
    vog(street["anna"], expires_in_days=10)
    db.session.commit()
    page = list_involved(street["worker"].id, MINE, parse_query(args))
    assert {i.first_name for i in page.items} == expected


def test_vog_status_follows_issue_date_plus_validity_when_no_expiry_is_recorded(street, app):
    vog(street["anna"], issued_days_ago=365 * 3 + 30)  # older than VOG_VALID_MONTHS (36)
    vog(street["piet"], issued_days_ago=30)
    db.session.commit()
    items = {i.first_name: i for i in list_involved(street["worker"].id, MINE).items}
    assert items["Anna"].vog_status == "expired"
    assert items["Piet"].vog_status == "valid"
    expired = list_involved(street["worker"].id, MINE, parse_query({"vog": "expired"}))
    assert [i.first_name for i in expired.items] == ["Anna"]


def test_sort_and_pagination(street):
    first = list_involved(street["worker"].id, MINE, parse_query({"sort": "name", "per_page": "1"}))
    second = list_involved(
        street["worker"].id, MINE, parse_query({"sort": "name", "per_page": "1", "page": "2"})
    )
    assert [i.first_name for i in first.items + second.items] == ["Anna", "Piet"]
    assert first.total == 2
    given = list_involved(street["worker"].id, MINE, parse_query({"sort": "helps_given"}))
    assert given.items[0].first_name == "Anna"


def test_bad_filter_values_name_the_field(street):
    with pytest.raises(Invalid) as error:
        parse_query({"sort": "password"})
    assert error.value.field == "sort"
    with pytest.raises(Invalid) as error:
        parse_query({"per_page": "0"})
    assert error.value.field == "per_page"


def test_map_cells_are_snapped_counts_never_a_home(street):
    cells = involvement_cells(street["worker"].id, MINE)
    assert sum(c["residents"] for c in cells) == 2
    anna = street["anna"]
    (south, west), (north, east) = cells[0]["bounds"]
    assert south <= anna.home_lat < north and west <= anna.home_lon < east
    assert [anna.home_lat, anna.home_lon] != cells[0]["centre"]
    assert north - south == pytest.approx(250 / 111_320, abs=1e-5)
    # Points in the same ~250 m cell share it.
    assert snap(52.26401, 6.79351) == snap(52.26402, 6.79352)


# Newly active -------------------------------------------------------------------------------


@pytest.fixture
def newcomers(hengelo):
    worker = staff("coach@example.org")
    new = person(first_name="Nieuw", days_active=10)
    old = person(first_name="Oud", days_active=200)
    known = person(first_name="Bekend", days_active=5, known_to_services=True)
    lonely = person(first_name="Wacht", days_active=300)  # offered, never matched
    outside = person(OTHER, first_name="Buiten", days_active=3)
    helper = person(first_name="Helper", days_active=400)
    offers(lonely)
    offers(helper)
    helped(helper, new, days_ago=2)
    offers(old)
    helped(old, helper, days_ago=100)  # old has been matched: not "never matched"
    db.session.commit()
    return {"worker": worker, "new": new, "lonely": lonely, "outside": outside, "known": known}


def test_newly_active_window_excludes_known_residents_and_includes_never_matched(newcomers):
    page = list_newly_active(newcomers["worker"].id)
    names = {i.first_name: i for i in page.items}
    assert set(names) == {"Nieuw", "Wacht"}
    assert names["Nieuw"].is_new and not names["Wacht"].is_new
    assert names["Wacht"].never_matched
    deed = next(d for d in names["Nieuw"].deeds if d.kind == "was_helped")
    assert deed.with_first_name == "Helper"


def test_newly_active_window_is_configurable(newcomers):
    page = list_newly_active(newcomers["worker"].id, which="new", days=500)
    assert {i.first_name for i in page.items} == {"Nieuw", "Oud", "Wacht", "Helper"}
    page = list_newly_active(newcomers["worker"].id, which="never_matched")
    assert {i.first_name for i in page.items} == {"Wacht"}


def test_newly_active_views_are_audited_per_resident(newcomers):
    list_newly_active(newcomers["worker"].id, code=MINE)
    assert set(views(newcomers["worker"], "newly_active")) == {
        newcomers["new"].id,
        newcomers["lonely"].id,
    }
    with pytest.raises(NotAllowed):
        list_newly_active(newcomers["worker"].id, code=OTHER)


def test_reach_out_records_a_note_marks_known_and_is_audited(newcomers):
    worker, new = newcomers["worker"], newcomers["new"]
    reach_out(worker.id, new.id, "phone", "Gebeld, wil graag vaker helpen")
    assert db.session.get(Resident, new.id).known_to_services
    note = db.session.scalar(select(ContactNote).where(ContactNote.resident_id == new.id))
    assert note.method == "phone" and note.worker_user_id == worker.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reach_out"))
    assert event.subject_resident_id == new.id
    assert "Nieuw" not in {i.first_name for i in list_newly_active(worker.id).items}


def test_reach_out_refuses_residents_outside_scope_and_bad_methods(newcomers):
    worker = newcomers["worker"]
    with pytest.raises(NotFound):
        reach_out(worker.id, newcomers["outside"].id, "phone", "")
    with pytest.raises(Invalid) as error:
        reach_out(worker.id, newcomers["new"].id, "pigeon", "")
    assert error.value.field == "method"
    assert not db.session.get(Resident, newcomers["outside"].id).known_to_services
    assert db.session.scalar(select(func.count(ContactNote.id))) == 0
