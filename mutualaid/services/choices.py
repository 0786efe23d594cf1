"""Read-only choices for forms: help categories and neighbourhoods."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Category, Neighbourhood


def category_choices(language: str = "nl") -> list[dict]:
    """Active help categories in a stable order: code, name in the language, VOG needed."""
    rows = db.session.scalars(
        select(Category).where(Category.is_active.is_(True)).order_by(Category.bit)
    )
    return [
        {
            "code": c.code,
            "name": c.name_en if language == "en" else c.name_nl,
            "requires_vog": c.requires_vog,
        }
        for c in rows
    ]


def neighbourhood_choices(municipality_code: str) -> list[dict]:
    """The municipality's neighbourhoods (public CBS data) by name: id, code, name."""
    rows = db.session.execute(
        select(Neighbourhood.id, Neighbourhood.code, Neighbourhood.name)
        .where(Neighbourhood.municipality_code == municipality_code)
        .order_by(Neighbourhood.name)
    )
    return [{"id": r.id, "code": r.code, "name": r.name} for r in rows]
