"""Public pages: the neighbourhood overview of the municipality."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from ..services.monitoring import municipality_choices
from ..services.overview import home_figures
from .access import public

bp = Blueprint("main", __name__)

# Roles that may see exact small counts; everyone else sees them suppressed ("<5").
EXACT_COUNT_ROLES = {"worker", "admin"}


@bp.get("/")
@public
def home():
    """Neighbourhoods of the municipality with open requests, active offers and matches."""
    choices = municipality_choices()
    code = current_app.config["DEFAULT_MUNICIPALITY_CODE"]
    wanted = request.args.get("gemeente")
    own = current_user.is_authenticated and current_user.municipality_code
    if not wanted and own:
        wanted = own  # a municipality user starts at their own municipality
    if wanted and wanted in {c for c, _ in choices}:
        code = wanted  # a visitor may pick any imported municipality; unknown codes: default
    elif choices and code not in {c for c, _ in choices}:
        code = choices[0][0]
    exact = current_user.is_authenticated and current_user.role in EXACT_COUNT_ROLES
    figures, totals = home_figures(
        code, threshold=current_app.config["SMALL_COUNT_THRESHOLD"], exact=exact
    )
    return render_template(
        "home.html",
        figures=figures,
        totals=totals,
        municipality_code=code,
        municipalities=choices,
        exact=exact,
        threshold=current_app.config["SMALL_COUNT_THRESHOLD"],
    )
