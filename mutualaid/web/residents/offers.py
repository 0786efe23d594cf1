"""Resident pages: offer help, change or pause an offer."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ...errors import Conflict, Invalid
from ...services.aid_views import DISTANCE_BANDS, get_offer, my_offers
from ...services.browse import open_requests_near
from ...services.choices import category_choices, neighbourhood_choices
from ...services.inviting import offer_to_help
from ...services.offers import pause_offer, post_offer, resume_offer, update_offer
from .blueprint import bp
from .common import (
    LANGUAGE_LABELS,
    ascii_digits,
    errors_from,
    form_int,
    lang,
    me,
    resident_required,
    slot_numbers,
    slots_from_form,
)

RADIUS_CHOICES = (500, 1000, 2000, 5000, 10000)
CAPACITY_CHOICES = (1, 2, 3, 4, 5)


def offer_values(form: MultiDict) -> dict:
    """The service's fields from the offer form (the service validates them)."""
    return {
        "categories": form.getlist("categories"),
        "description": form.get("description", ""),
        "radius_m": form_int(form.get("radius_m")) or 0,
        "slots": slots_from_form(form.getlist("slots")),
        "capacity": form_int(form.get("capacity")) or 0,
        "languages": [code for code in form.getlist("languages") if code in LANGUAGE_LABELS],
    }


def _form_data(form: MultiDict) -> dict:
    return {
        "categories": form.getlist("categories"),
        "description": form.get("description", ""),
        "radius_m": form.get("radius_m", ""),
        "slots": {int(v) for v in form.getlist("slots") if ascii_digits(v) and int(v) < 21},
        "capacity": form.get("capacity", ""),
        "languages": form.getlist("languages"),
    }


def _data_from_view(view: dict) -> dict:
    return {
        "categories": view["categories"],
        "description": view["description"],
        "radius_m": view["radius_m"],
        "slots": slot_numbers(view["slots"]),
        "capacity": view["capacity"],
        "languages": view["languages"],
    }


def _render_form(data: dict, errors: dict, editing: dict | None = None):
    page = render_template(
        "residents/offer_form.html",
        data=data,
        errors=errors,
        editing=editing,
        categories=category_choices(lang()),
        radius_choices=RADIUS_CHOICES,
        capacity_choices=CAPACITY_CHOICES,
    )
    return page, 422 if errors else 200


@bp.get("/hulp-aanbieden")
@resident_required
def offer():
    """Offer help: my offers (change, pause) and the ways to help; a form when there is none."""
    offers = my_offers(me(), per_page=50, language=lang())["items"]
    if not offers:
        return redirect(url_for(".new_offer"))
    return render_template("residents/offers.html", offers=offers)


@bp.route("/hulp-aanbieden/nieuw", methods=["GET", "POST"])
@resident_required
def new_offer():
    """A new offer: kinds of help, how far, when, how many at once, languages."""
    if request.method == "GET":
        return _render_form({"radius_m": 2000, "capacity": 1, "languages": ["nl"]}, {})
    try:
        post_offer(me(), **offer_values(request.form))
    except Invalid as exc:
        return _render_form(_form_data(request.form), errors_from(exc))
    flash(_("Thank you! Your offer is saved. We let you know when a neighbour needs you."))
    return redirect(url_for(".offer"))


@bp.route("/hulp-aanbieden/<int:offer_id>", methods=["GET", "POST"])
@resident_required
def edit_offer(offer_id: int):
    """Change an offer."""
    view = get_offer(offer_id, me(), lang())
    if request.method == "GET":
        return _render_form(_data_from_view(view), {}, editing=view)
    try:
        update_offer(offer_id, me(), **offer_values(request.form))
    except Invalid as exc:
        return _render_form(_form_data(request.form), errors_from(exc), editing=view)
    flash(_("Your offer is changed."))
    return redirect(url_for(".offer"))


@bp.post("/hulp-aanbieden/<int:offer_id>/pauzeren")
@resident_required
def pause(offer_id: int):
    """Pause an offer: no new requests until it is resumed."""
    pause_offer(offer_id, me())
    flash(_("Your offer is paused. You will not get new requests."))
    return redirect(url_for(".offer"))


@bp.post("/hulp-aanbieden/<int:offer_id>/hervatten")
@resident_required
def resume(offer_id: int):
    """Resume a paused offer."""
    resume_offer(offer_id, me())
    flash(_("Your offer is active again."))
    return redirect(url_for(".offer"))


def _filters(args: MultiDict) -> dict:
    """The browse filters from the query string; unknown values are left to the service."""
    return {
        "category": args.get("category") or None,
        "distance_band": form_int(args.get("distance_band")),
        "neighbourhood_id": form_int(args.get("neighbourhood_id")),
        "page": form_int(args.get("page")) or 1,
    }


@bp.get("/in-de-buurt")
@resident_required
def open_requests():
    """Open requests near me (no names or addresses), with filters; offer to help with one."""
    filters = _filters(request.args)
    errors, found = {}, None
    try:
        found = open_requests_near(me(), per_page=20, language=lang(), **filters)
    except Invalid as exc:
        errors = errors_from(exc)
    page = render_template(
        "residents/open_requests.html",
        found=found,
        errors=errors,
        filters=filters,
        categories=category_choices(lang()),
        bands=DISTANCE_BANDS,
        neighbourhoods=neighbourhood_choices(current_app.config["DEFAULT_MUNICIPALITY_CODE"]),
    )
    return page, 422 if errors and "offer" not in errors else 200


@bp.post("/in-de-buurt/<int:request_id>/helpen")
@resident_required
def help_with(request_id: int):
    """Offer to help with an open request; the requester then says yes or no."""
    try:
        view = offer_to_help(request_id, me())
    except (Conflict, Invalid) as exc:
        flash(errors_from(exc).get(exc.field) or _("This is not possible any more."))
        return redirect(url_for(".open_requests"))
    flash(
        _(
            "Thank you! We asked %(name)s whether your help is welcome.",
            name=view["other_first_name"],
        )
    )
    return redirect(url_for(".match", match_id=view["match_id"]))
