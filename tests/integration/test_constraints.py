"""A violated constraint becomes a clear domain error naming the field, and nothing is stored."""

import pytest
from sqlalchemy import func, select

from mutualaid.errors import Conflict, Invalid
from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Match, Resident, TrustTie
from mutualaid.services.transactions import commit
from tests import builders


def test_slots_outside_the_weekly_grid_names_the_field(app_ctx):
    builders.help_request(slots=1 << 21)
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "slots"
    assert caught.value.rule == "range"
    assert db.session.scalar(select(func.count(HelpRequest.id))) == 0


def test_unknown_request_status_is_rejected(app_ctx):
    builders.help_request(status="maybe")
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "status"


def test_latitude_out_of_range_is_rejected(app_ctx):
    builders.help_request(lat=123.0)
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "lat"


def test_window_end_before_start_is_rejected(app_ctx):
    from datetime import date

    builders.help_request(window_start=date(2026, 12, 5), window_end=date(2026, 12, 1))
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "window_end"


def test_missing_required_value_names_the_column(app_ctx):
    db.session.add(Resident(first_name=None, email="x@example.org"))
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "first_name"
    assert caught.value.rule == "required"


def test_resident_without_any_way_to_reach_them_is_rejected(app_ctx):
    db.session.add(Resident(first_name="Anna"))
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "contact"


def test_request_on_behalf_needs_recorded_consent(app_ctx):
    from mutualaid.services.accounts import create_user

    worker = create_user("w@example.org", "long-enough-password", "worker", "W")
    builders.help_request(registered_by_user_id=worker.id, consent_id=None)
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "consent"


def _stored_match_pair():
    request = builders.help_request()
    offer = builders.offer()
    db.session.flush()
    return request, offer


def test_second_match_for_the_same_request_and_offer_is_a_conflict(app_ctx):
    request, offer = _stored_match_pair()
    db.session.add(Match(request_id=request.id, offer_id=offer.id, helper_id=offer.helper_id))
    commit()
    db.session.add(Match(request_id=request.id, offer_id=offer.id, helper_id=offer.helper_id))
    with pytest.raises(Conflict) as caught:
        commit()
    assert caught.value.field == "request_id, offer_id"
    assert db.session.scalar(select(func.count(Match.id))) == 1


def test_score_part_above_one_is_rejected(app_ctx):
    request, offer = _stored_match_pair()
    db.session.add(
        Match(
            request_id=request.id,
            offer_id=offer.id,
            helper_id=offer.helper_id,
            score=0.5,
            score_trust=1.5,
        )
    )
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "score_trust"


def test_trust_tie_must_be_stored_as_an_ordered_pair(app_ctx):
    a, b = builders.resident(), builders.resident()
    db.session.add(TrustTie(resident_a_id=b.id, resident_b_id=a.id, kind="knows", weight=0.5))
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.field == "resident_b_id"


def test_reference_to_a_missing_row_is_rejected(app_ctx):
    builders.help_request(requester=builders.resident(), requester_id=999_999)
    with pytest.raises(Invalid) as caught:
        commit()
    assert caught.value.rule == "exists"
    if db.engine.dialect.name == "postgresql":  # SQLite does not say which key failed
        assert caught.value.field == "requester_id"


def test_constraint_errors_reach_the_api_as_json_not_a_500(app_ctx, instance_path):
    from tests.conftest import make_test_app

    fresh = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"], app_ctx.config["REDIS_URL"], instance_path
    )

    @fresh.get("/api/v1/_test_violation")
    def violation():
        builders.help_request(slots=-1)
        commit()

    response = fresh.test_client().get("/api/v1/_test_violation")
    assert response.status_code == 422
    assert response.json["field"] == "slots"
    assert response.json["error"] == "invalid"
    with fresh.app_context():
        assert db.session.scalar(select(func.count(HelpRequest.id))) == 0
        db.session.remove()
