"""The demo seed: a believable, deterministic Hengelo."""

import json

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from mutualaid.errors import Conflict
from mutualaid.extensions import db
from mutualaid.models import (
    ConsentRecord,
    HelpRequest,
    Match,
    Neighbourhood,
    Offer,
    Resident,
    TrustTie,
    User,
)
from mutualaid.models.base import utcnow
from mutualaid.services.accounts import authenticate
from mutualaid.services.demo import DEMO_PASSWORD, seed_demo


def snapshot() -> list[tuple]:
    rows = db.session.execute(
        select(
            Resident.first_name,
            Resident.last_name,
            Resident.street,
            Resident.home_lat,
            Resident.home_lon,
            Resident.language_mask,
        ).order_by(Resident.id)
    ).all()
    requests = db.session.execute(
        select(HelpRequest.category_id, HelpRequest.status, HelpRequest.slots).order_by(
            HelpRequest.id
        )
    ).all()
    return [tuple(r) for r in rows] + [tuple(r) for r in requests]


@pytest.fixture
def seeded(app_ctx):
    return seed_demo(seed=42, residents=150)


def test_demo_imports_hengelo_and_places_everyone_inside_their_neighbourhood(seeded):
    assert seeded.residents == 150
    polygons = {
        n.id: shape(json.loads(n.geometry_geojson))
        for n in db.session.scalars(select(Neighbourhood))
    }
    assert len(polygons) == 62
    for person in db.session.scalars(select(Resident)):
        assert polygons[person.neighbourhood_id].covers(Point(person.home_lon, person.home_lat))
        assert person.street


def test_demo_has_requests_offers_ties_matches_and_consent(seeded):
    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    assert count(HelpRequest) == seeded.requests > 20
    assert count(Offer) == seeded.offers > 30
    assert count(TrustTie) == seeded.ties > 30
    assert count(Match) == seeded.matches > 0
    assert count(ConsentRecord) >= seeded.residents
    statuses = set(db.session.scalars(select(HelpRequest.status)))
    assert {"open", "done"} <= statuses
    kinds = set(db.session.scalars(select(TrustTie.kind)))
    assert kinds == {"knows", "group", "helped"}


def test_demo_has_newly_active_and_assisted_residents(seeded):
    from datetime import timedelta

    recent = utcnow() - timedelta(days=28)
    newly = db.session.scalar(
        select(func.count(Resident.id)).where(Resident.first_active_at >= recent)
    )
    assisted = db.session.scalar(
        select(func.count(Resident.id)).where(Resident.self_service.is_(False))
    )
    assert newly >= 1 and assisted >= 1


def test_demo_logins_work_and_staff_have_their_scope(seeded):
    roles = {role.split(" ")[0] for role, _ in seeded.logins}
    assert roles == {"worker", "municipality", "admin", "resident"}
    for _, email in seeded.logins:
        assert authenticate(email, DEMO_PASSWORD).email == email
    workers = db.session.scalars(select(User).where(User.role == "worker")).all()
    covered = [n.id for w in workers for n in w.neighbourhoods]
    assert len(covered) == len(set(covered)) == 62  # every neighbourhood has exactly one worker
    municipality = db.session.scalar(select(User).where(User.role == "municipality"))
    assert municipality.municipality_code == "GM0164"


def test_demo_is_deterministic_for_a_seed(app_ctx):
    from tests.conftest import _empty_all_tables

    seed_demo(seed=7, residents=60)
    first = snapshot()
    _empty_all_tables()
    seed_demo(seed=7, residents=60)
    assert snapshot() == first
    _empty_all_tables()
    seed_demo(seed=8, residents=60)
    assert snapshot() != first


def test_demo_refuses_a_database_with_residents(seeded):
    with pytest.raises(Conflict) as caught:
        seed_demo(seed=1, residents=50)
    assert caught.value.field == "database"


def test_seed_demo_command_prints_logins_and_is_skipped_when_not_empty(app_ctx):
    from click.testing import CliRunner

    runner = CliRunner()
    first = runner.invoke(app_ctx.cli, ["seed-demo", "--residents", "40"])
    assert first.exit_code == 0, first.output
    assert "Demo logins" in first.output and "wijkcoach.noord@example.org" in first.output
    second = runner.invoke(app_ctx.cli, ["seed-demo", "--if-empty"])
    assert second.exit_code == 0 and "already present" in second.output
    third = runner.invoke(app_ctx.cli, ["seed-demo", "--residents", "40"])
    assert third.exit_code != 0 and "already has residents" in third.output


def test_demo_logins_open_on_suggestions_an_invitation_a_thread_and_thanks(seeded):
    from mutualaid.services import helping, messages
    from mutualaid.services.matching import match_all

    match_all(trigger="demo")  # as the devserver does after seeding
    bewoner = db.session.scalar(select(User).where(User.email == "bewoner@example.org"))
    helper = db.session.scalar(select(User).where(User.email == "vrijwilliger@example.org"))
    overview = helping.my_overview(bewoner.resident_id)
    open_requests = [r for r in overview["requests"] if r["status"] == "open"]
    assert open_requests
    suggestions = helping.suggestions_for_request(open_requests[0]["id"], bewoner.resident_id)
    assert suggestions and suggestions[0]["explanation"]
    by_status = {m["status"]: m for m in overview["matches"]}
    accepted, done = by_status["accepted"], by_status["done"]
    assert accepted["other_first_name"] == helper.resident.first_name
    assert accepted["contact"] is not None
    assert len(messages.thread(accepted["match_id"], helper.resident_id)["messages"]) >= 2
    assert done["feedback_rating"] == 5 and done["thanks_note"]
    invitations = helping.invitations_for_helper(helper.resident_id)
    assert len(invitations) == 1 and invitations[0]["status"] == "invited"
    helper_view = helping.match_detail(accepted["match_id"], helper.resident_id)
    assert helper_view["address"]["postcode"] == bewoner.resident.postcode
