"""Resident pages through the test client: every page renders in Dutch and English, forms
show field errors, and the core flows work with plain POSTs (no JavaScript)."""

from __future__ import annotations

import re

import pytest
from flask_babel import refresh

from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Offer
from mutualaid.services.accounts import create_user
from mutualaid.services.demo import ensure_categories
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


@pytest.fixture
def client(app_ctx):
    """The test client, choosing the language afresh for every request.

    The test's app context outlives the requests, and Flask-Babel keeps the chosen locale on
    `g`; a real server has one app context per request."""
    test_client = app_ctx.test_client()
    plain_open = test_client.open

    def open_with_fresh_locale(*args, **kwargs):
        refresh()
        return plain_open(*args, **kwargs)

    test_client.open = open_with_fresh_locale
    return test_client


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
