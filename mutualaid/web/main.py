"""Public pages: the neighbourhood overview of the municipality."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from ..services.overview import municipality_totals, neighbourhood_figures

bp = Blueprint("main", __name__)

# Roles that may see exact small counts; everyone else sees them suppressed ("<5").
EXACT_COUNT_ROLES = {"worker", "admin"}


@bp.get("/")
def home():
    """Neighbourhoods of the municipality with open requests, active offers and matches."""
    code = current_app.config["DEFAULT_MUNICIPALITY_CODE"]
    exact = current_user.is_authenticated and current_user.role in EXACT_COUNT_ROLES
    figures = neighbourhood_figures(
        code, threshold=current_app.config["SMALL_COUNT_THRESHOLD"], exact=exact
    )
    return render_template(
        "home.html",
        figures=figures,
        totals=municipality_totals(code),
        municipality_code=code,
        exact=exact,
        threshold=current_app.config["SMALL_COUNT_THRESHOLD"],
    )
