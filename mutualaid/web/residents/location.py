"""Resident pages: where I live. An address form (geocoded in the background), the status while
it is looked up, and the fallback when no geocoder answers: a point on the map (JavaScript) or
a neighbourhood chosen from a list (no JavaScript needed)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...errors import Invalid
from ...services.geocoding import (
    location_page,
    neighbourhood_features,
    set_home_address,
    set_home_neighbourhood,
    set_home_point,
)
from .blueprint import bp
from .common import me, resident_required

MESSAGES = {
    ("postcode", "address_exists"): _l(
        "We could not find this address. Check the postcode and the house number."
    ),
    "postcode": _l("Give a postcode like 7551 AB: four numbers and two letters."),
    "house_number": _l("Give your house number, for example 12 or 12a."),
    "location": _l(
        "This place is outside the neighbourhoods of this service. Choose a place inside the "
        "lines on the map."
    ),
    "lat": _l("Choose a place on the map."),
    "lon": _l("Choose a place on the map."),
    "neighbourhood_code": _l("Choose your neighbourhood from the list."),
}


def _errors(exc: Invalid) -> dict[str, str]:
    """Friendly texts for every field the service named."""
    names = list(exc.errors) or [exc.field or "postcode"]
    return {
        name: str(MESSAGES.get((name, exc.rule)) or MESSAGES.get(name) or exc.message)
        for name in names
    }


def _page(errors: dict | None = None, data: dict | None = None):
    errors = errors or {}
    page = render_template(
        "residents/location.html", errors=errors, data=data or {}, **location_page(me())
    )
    return page, 422 if errors else 200


@bp.route("/adres", methods=["GET", "POST"])
@resident_required
def location():
    """The address form and what we know of the resident's place."""
    if request.method == "GET":
        return _page()
    data = {key: request.form.get(key, "") for key in ("postcode", "house_number")}
    try:
        resident = set_home_address(me(), data["postcode"], data["house_number"])
    except Invalid as exc:
        return _page(_errors(exc), data)
    if resident.geocode_status == "pending":
        flash(_("Thank you. We are looking up your address."))
    else:
        flash(_("Thank you. We saved your address."))
    return redirect(url_for(".location"))


@bp.post("/adres/kaart")
@resident_required
def location_point():
    """The resident clicked their home on the map (the map fills in lat and lon)."""
    try:
        set_home_point(me(), request.form.get("lat", ""), request.form.get("lon", ""))
    except Invalid as exc:
        return _page(_errors(exc))
    flash(_("Thank you. We saved the place you chose on the map."))
    return redirect(url_for(".location"))


@bp.post("/adres/buurt")
@resident_required
def location_neighbourhood():
    """No map: the resident chose their neighbourhood from the list."""
    try:
        set_home_neighbourhood(me(), request.form.get("neighbourhood_code", ""))
    except Invalid as exc:
        return _page(_errors(exc), {"neighbourhood_code": request.form.get("neighbourhood_code")})
    flash(_("Thank you. We saved your neighbourhood."))
    return redirect(url_for(".location"))


@bp.get("/adres/buurten.geojson")
@resident_required
def location_neighbourhoods():
    """The neighbourhood boundaries for the map (public CBS data, no personal data)."""
    response = jsonify(neighbourhood_features())
    response.cache_control.max_age = 3600
    response.cache_control.private = True
    return response
