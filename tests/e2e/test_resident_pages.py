"""Resident pages through the test client: every page renders in Dutch and English, forms
show field errors, and the core flows work with plain POSTs (no JavaScript)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import g
from flask_babel import refresh

from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Match, Offer, ProblemReport, ResidentBlock, TrustTie
from mutualaid.services.accounts import create_user
from mutualaid.services.aid import post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.offers import post_offer
from tests import builders

PASSWORD = "een-lang-wachtwoord"


def signed_in(client, first_name: str = "Anna", **overrides):
    """A resident with an account, signed in on this client; returns the Resident."""
    ensure_categories()
    person = builders.resident(first_name=first_name, **overrides)
    create_user(person.email, PASSWORD, "resident", first_name, resident_id=person.id)
    db.session.commit()
    response = client.post("/auth/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 302
    return person


def text_of(response) -> str:
    return response.get_data(as_text=True)


def fresh_client(app):
    """A test client that starts every request afresh: the language and the signed-in user.

    The test's app context outlives the requests, and Flask-Babel and Flask-Login keep the
    chosen locale and the user on `g`; a real server has one app context per request."""
    test_client = app.test_client()
    plain_open = test_client.open

    def open_with_fresh_locale(*args, **kwargs):
        refresh()
        g.pop("_login_user", None)
        return plain_open(*args, **kwargs)

    test_client.open = open_with_fresh_locale
    return test_client


@pytest.fixture
def client(app_ctx):
    return fresh_client(app_ctx)


@pytest.fixture
def anna(client, hengelo):
    return signed_in(client)


ASK_FORM = {
    "category": "boodschappen",
    "description": "Boodschappen doen bij de supermarkt",
    "where": "home",
    "slots": ["3", "4"],
    "recurring": "once",
    "urgency": "normal",
    "contact_channel": "phone",
}


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("nl", "Mijn burenhulp"), ("en", "My neighbourhood help")],
)
def test_overview_renders_in_both_languages(client, anna, lang, heading):
    response = client.get(f"/mijn/?lang={lang}")
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in text_of(response)


@pytest.mark.parametrize(
    ("path", "nl", "en"),
    [
        ("/mijn/hulp-vragen", "Hulp vragen", "Ask for help"),
        ("/mijn/hulp-aanbieden/nieuw", "Hulp aanbieden", "Offer help"),
        ("/mijn/berichten", "Berichten", "Messages"),
    ],
)
def test_resident_pages_render_in_dutch_and_english(client, anna, path, nl, en):
    assert f"<h1>{nl}</h1>" in text_of(client.get(f"{path}?lang=nl"))
    assert f"<h1>{en}</h1>" in text_of(client.get(f"{path}?lang=en"))


def test_pages_need_a_signed_in_resident(client, hengelo):
    response = client.get("/mijn/hulp-vragen")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_ask_for_help_without_javascript_stores_the_request(client, anna):
    response = client.post("/mijn/hulp-vragen", data=ASK_FORM)
    assert response.status_code == 302
    stored = db.session.query(HelpRequest).one()
    assert stored.requester_id == anna.id
    assert stored.slots == (1 << 3) | (1 << 4)
    assert stored.contact_channel == "phone"
    page = client.get(response.headers["Location"] + "?lang=nl")
    assert "Boodschappen doen bij de supermarkt" in text_of(page)


def test_ask_form_names_the_missing_field_in_a_summary_and_keeps_the_answers(client, anna):
    response = client.post("/mijn/hulp-vragen?lang=nl", data={**ASK_FORM, "description": " "})
    assert response.status_code == 422
    html = text_of(response)
    assert 'href="#description"' in html
    assert 'id="description-error"' in html
    assert 'aria-invalid="true"' in html
    # The answers stay filled in.
    assert re.search(r'value="3"\s+checked', html)
    assert db.session.query(HelpRequest).count() == 0


def test_ask_form_refuses_an_empty_week_grid_without_dates(client, anna):
    response = client.post("/mijn/hulp-vragen", data={**ASK_FORM, "slots": []})
    assert response.status_code == 422
    assert 'href="#slots"' in text_of(response)


def test_offer_help_then_pause_and_resume(client, anna):
    form = {
        "categories": ["boodschappen", "vervoer"],
        "radius_m": "2000",
        "capacity": "2",
        "languages": ["nl", "en"],
        "slots": ["0", "1"],
    }
    assert client.post("/mijn/hulp-aanbieden/nieuw", data=form).status_code == 302
    stored = db.session.query(Offer).one()
    assert stored.capacity == 2 and stored.radius_m == 2000
    assert client.post(f"/mijn/hulp-aanbieden/{stored.id}/pauzeren").status_code == 302
    db.session.refresh(stored)
    assert stored.is_active is False
    assert "Gepauzeerd" in text_of(client.get("/mijn/hulp-aanbieden?lang=nl"))
    client.post(f"/mijn/hulp-aanbieden/{stored.id}/hervatten")
    db.session.refresh(stored)
    assert stored.is_active is True


def test_offer_form_requires_a_category(client, anna):
    response = client.post("/mijn/hulp-aanbieden/nieuw", data={"radius_m": "2000", "capacity": "1"})
    assert response.status_code == 422
    assert 'href="#categories"' in text_of(response)


# --- choosing, answering and following up -----------------------------------------------------


@pytest.fixture
def world(client, app_ctx, hengelo):
    """Anna (signed in on `client`) asked for groceries; Bram (signed in on `world.bram`)
    offers groceries and was suggested by the engine."""
    anna = signed_in(client, "Anna", phone="06 1111 2222", house_number="12", postcode="7551AB")
    bram_client = fresh_client(app_ctx)
    bram = signed_in(bram_client, "Bram", phone="06 3333 4444")
    offer = post_offer(bram.id, categories=["boodschappen"], slots=(1 << 21) - 1, capacity=2)
    request = post_request(anna.id, category="boodschappen", description="Een volle tas", slots=8)
    match = Match(
        request_id=request.id,
        offer_id=offer.id,
        helper_id=bram.id,
        status="suggested",
        proposed_by="engine",
        rank=1,
        score=0.8,
        distance_m=340.0,
        explanation_nl="340 m · zelfde straat · vrij di ochtend",
        explanation_en="340 m · same street · free Tue morning",
    )
    db.session.add(match)
    db.session.commit()
    return SimpleNamespace(
        anna=anna, bram=bram, bram_client=bram_client, request=request, match_id=match.id
    )


def _pages(world) -> list[str]:
    return [
        "/mijn/",
        "/mijn/hulp-vragen",
        f"/mijn/hulpvragen/{world.request.id}",
        f"/mijn/hulpvragen/{world.request.id}/wijzigen",
        f"/mijn/hulpvragen/{world.request.id}/annuleren",
        f"/mijn/hulpvragen/{world.request.id}/helpers",
        f"/mijn/hulp/{world.match_id}",
        "/mijn/berichten",
        "/mijn/uitnodigingen",
        "/mijn/in-de-buurt",
        "/mijn/hulp-aanbieden/nieuw",
        "/mijn/kennen",
        "/mijn/kennen/bevestigen",
    ]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_resident_page_renders_in_both_languages(client, world, lang):
    for path in _pages(world):
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 200, path
        html = text_of(response)
        assert f'<html lang="{lang}">' in html, path
        assert "<h1>" in html, path


def test_suggestions_show_first_name_distance_and_explanation_but_no_contact(client, world):
    html = text_of(client.get(f"/mijn/hulpvragen/{world.request.id}/helpers?lang=nl"))
    assert "Bram" in html
    assert "zelfde straat" in html
    assert world.bram.email not in html and "3333" not in html


def test_invite_accept_message_done_thanks_with_plain_posts(client, world):
    bram = world.bram_client
    # Before anyone said yes, Bram sees neither Anna's address nor her phone or email.
    invited = client.post(f"/mijn/hulpvragen/{world.request.id}/helpers/{world.match_id}/vragen")
    assert invited.status_code == 302
    for path in ("/mijn/uitnodigingen", f"/mijn/hulp/{world.match_id}", "/mijn/in-de-buurt"):
        html = text_of(bram.get(path))
        assert "2222" not in html and world.anna.email not in html and "7551AB" not in html
    assert "Een volle tas" in text_of(bram.get("/mijn/uitnodigingen?lang=nl"))

    assert bram.post(f"/mijn/hulp/{world.match_id}/ja").status_code == 302
    assert db.session.get(Match, world.match_id).status == "accepted"
    html = text_of(bram.get(f"/mijn/hulp/{world.match_id}?lang=nl"))
    assert "Marskant 12" in html and "7551AB" in html  # the accepted helper sees the address

    empty = client.post(f"/mijn/hulp/{world.match_id}/berichten?lang=nl", data={"body": " "})
    assert empty.status_code == 422
    assert 'href="#body"' in text_of(empty)
    sent = client.post(f"/mijn/hulp/{world.match_id}/berichten", data={"body": "Tot dinsdag!"})
    assert sent.status_code == 302
    assert "Tot dinsdag!" in text_of(bram.get(f"/mijn/hulp/{world.match_id}"))

    assert bram.post(f"/mijn/hulp/{world.match_id}/klaar").status_code == 302
    no_rating = client.post(f"/mijn/hulp/{world.match_id}/bedanken", data={"note": "Dank!"})
    assert no_rating.status_code == 422
    assert 'href="#rating"' in text_of(no_rating)
    thanked = client.post(f"/mijn/hulp/{world.match_id}/bedanken", data={"rating": "5"})
    assert thanked.status_code == 302
    stored = db.session.get(Match, world.match_id)
    db.session.refresh(stored)
    assert (stored.status, stored.feedback_rating) == ("done", 5)


def test_a_second_answer_after_the_match_ended_is_told_plainly(client, world):
    client.post(f"/mijn/hulpvragen/{world.request.id}/helpers/{world.match_id}/vragen")
    world.bram_client.post(f"/mijn/hulp/{world.match_id}/nee")
    again = world.bram_client.post(f"/mijn/hulp/{world.match_id}/ja?lang=nl")
    assert again.status_code == 302
    page = world.bram_client.get(again.headers["Location"] + "?lang=nl")
    assert "Dit kan niet meer" in text_of(page)


def test_helper_offers_to_help_from_the_open_requests_page(client, world):
    bram = world.bram_client
    html = text_of(bram.get("/mijn/in-de-buurt?lang=nl"))
    assert "Binnenstad-Centrum" in html and "Anna" not in html
    offered = bram.post(f"/mijn/in-de-buurt/{world.request.id}/helpen")
    assert offered.status_code == 302
    assert db.session.get(Match, world.match_id).status == "invited"


def test_someone_elses_request_and_match_are_not_found(client, world, app_ctx, hengelo):
    other = fresh_client(app_ctx)
    signed_in(other, "Carla")
    assert other.get(f"/mijn/hulpvragen/{world.request.id}").status_code == 404
    assert other.get(f"/mijn/hulpvragen/{world.request.id}/helpers").status_code == 404
    assert other.get(f"/mijn/hulp/{world.match_id}").status_code == 404
    assert other.post(f"/mijn/hulp/{world.match_id}/ja").status_code == 404


def test_report_a_problem_needs_a_text_and_reaches_the_workers(client, world):
    client.post(f"/mijn/hulpvragen/{world.request.id}/helpers/{world.match_id}/vragen")
    empty = client.post(f"/mijn/hulp/{world.match_id}/probleem", data={"body": ""})
    assert empty.status_code == 422
    sent = client.post(f"/mijn/hulp/{world.match_id}/probleem", data={"body": "Hij kwam niet."})
    assert sent.status_code == 302
    assert db.session.query(ProblemReport).one().body == "Hij kwam niet."


def test_change_and_cancel_a_request(client, world):
    changed = client.post(
        f"/mijn/hulpvragen/{world.request.id}/wijzigen",
        data={**ASK_FORM, "description": "Twee volle tassen"},
    )
    assert changed.status_code == 302
    db.session.refresh(world.request)
    assert world.request.description == "Twee volle tassen"
    assert client.post(f"/mijn/hulpvragen/{world.request.id}/annuleren").status_code == 302
    db.session.refresh(world.request)
    assert world.request.status == "cancelled"


def test_knowing_each_other_by_code_then_undo_and_block(client, world):
    made = client.post("/mijn/kennen/code")
    assert made.status_code == 302
    html = text_of(client.get("/mijn/kennen?lang=nl"))
    code = re.search(r"code=([\w-]+)", html).group(1)
    assert code not in text_of(client.get("/mijn/kennen"))  # shown once
    bram = world.bram_client
    wrong = bram.post("/mijn/kennen/bevestigen", data={"code": "nope"})
    assert wrong.status_code == 422 and 'href="#code"' in text_of(wrong)
    assert 'value="' + code in text_of(bram.get(f"/mijn/kennen/bevestigen?code={code}"))
    assert bram.post("/mijn/kennen/bevestigen", data={"code": code}).status_code == 302
    assert "Anna" in text_of(bram.get("/mijn/kennen"))
    assert bram.post(f"/mijn/kennen/{world.anna.id}/ongedaan").status_code == 302
    assert db.session.query(TrustTie).filter_by(kind="knows").count() == 0
    assert client.post(f"/mijn/kennen/{world.bram.id}/blokkeren").status_code == 302
    assert db.session.query(ResidentBlock).count() == 1


def test_let_the_service_ask_helpers_in_waves(client, world):
    response = client.post(f"/mijn/hulpvragen/{world.request.id}/in-rondes?lang=nl")
    assert response.status_code == 302
    page = client.get(response.headers["Location"] + "?lang=nl")
    assert "Wij hebben een paar buren gevraagd" in text_of(page)
    # Bram now finds the request among the requests sent to him, and can say yes.
    html = text_of(world.bram_client.get("/mijn/uitnodigingen?lang=nl"))
    assert "Een volle tas" in html and "Ja, ik help" in html
