"""Builders for test data: sensible defaults, override what the test is about."""

from __future__ import annotations

from itertools import count

from mutualaid.extensions import db
from mutualaid.models import Category, HelpRequest, Offer, Resident

_seq = count(1)

# A point in Binnenstad-Centrum, Hengelo (BU01640000).
CENTRE = (52.2640, 6.7935)


def category(code: str = "boodschappen", bit: int | None = None, **overrides) -> Category:
    existing = db.session.query(Category).filter_by(code=code).one_or_none()
    if existing:
        return existing
    values = {
        "code": code,
        "bit": bit if bit is not None else next(_seq) % 60,
        "name_nl": code.title(),
        "name_en": code.title(),
    }
    values.update(overrides)
    item = Category(**values)
    db.session.add(item)
    db.session.flush()
    return item


def resident(**overrides) -> Resident:
    n = next(_seq)
    values = {
        "first_name": f"Bewoner{n}",
        "email": f"bewoner{n}@example.org",
        "home_lat": CENTRE[0],
        "home_lon": CENTRE[1],
        "street": "Marskant",
    }
    values.update(overrides)
    item = Resident(**values)
    db.session.add(item)
    db.session.flush()
    return item


def help_request(requester: Resident | None = None, **overrides) -> HelpRequest:
    requester = requester or resident()
    values = {
        "requester_id": requester.id,
        "category_id": category().id,
        "lat": requester.home_lat,
        "lon": requester.home_lon,
        "description": "Boodschappen",
    }
    values.update(overrides)
    item = HelpRequest(**values)
    db.session.add(item)
    return item


def offer(
    helper: Resident | None = None, categories: list[Category] | None = None, **overrides
) -> Offer:
    helper = helper or resident()
    values = {
        "helper_id": helper.id,
        "lat": helper.home_lat,
        "lon": helper.home_lon,
        "categories": categories or [category()],
    }
    values.update(overrides)
    item = Offer(**values)
    db.session.add(item)
    return item
