"""Resident pages: ask for help, see one's request, change it, cancel it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ...errors import Invalid
from ...services.aid import cancel_request, post_request, update_request
from ...services.aid_views import get_request
from ...services.choices import category_choices
from .blueprint import bp
from .common import (
    ascii_digits,
    errors_from,
    lang,
    me,
    resident_required,
    slot_numbers,
    slots_from_form,
)


def request_values(form: MultiDict) -> dict:
    """The service's fields from the ask-for-help form (the service validates them)."""
    values = {
        "category": form.get("category", ""),
        "description": form.get("description", ""),
        "slots": slots_from_form(form.getlist("slots")),
        "urgency": form.get("urgency", "normal"),
        "recurring": form.get("recurring") == "recurring",
        "needs_vog": "needs_vog" in form,
        "needs_shared_language": "needs_shared_language" in form,
        "contact_channel": form.get("contact_channel") or None,
    }
    start, end = form.get("window_start", "").strip(), form.get("window_end", "").strip()
    if start or end:
        values["window_start"], values["window_end"] = start or None, end or None
    if form.get("where") == "other":
        values["address_line"] = form.get("address_line", "")
        values["postcode"] = form.get("postcode", "")
    else:  # at home (also moves a changed request back home)
        values["address_line"] = values["postcode"] = None
    return values


def form_data(form: MultiDict) -> dict:
    """What the resident typed, to show the form again after an error."""
    data = {key: form.get(key, "") for key in form}
    data["slots"] = {int(v) for v in form.getlist("slots") if ascii_digits(v) and int(v) < 21}
    for flag in ("needs_vog", "needs_shared_language"):
        data[flag] = flag in form
    return data


def data_from_view(view: dict) -> dict:
    """The form's values for an existing request (its owner's own data)."""
    return {
        "category": view["category"],
        "description": view["description"],
        "where": "home" if view["address_line"] is None else "other",
        "address_line": view["address_line"] or "",
        "postcode": view["postcode"] or "",
        "slots": slot_numbers(view["slots"]),
        "window_start": view["window_start"].isoformat() if view["window_start"] else "",
        "window_end": view["window_end"].isoformat() if view["window_end"] else "",
        "recurring": "recurring" if view["recurring"] else "once",
        "urgency": view["urgency"],
        "needs_vog": view["needs_vog"],
        "needs_shared_language": view["needs_shared_language"],
        "contact_channel": view["contact_channel"] or "",
    }


def _render_form(data: dict, errors: dict, editing: dict | None = None):
    page = render_template(
        "residents/ask.html",
        data=data,
        errors=errors,
        categories=category_choices(lang()),
        editing=editing,
    )
    return page, 422 if errors else 200


@bp.route("/hulp-vragen", methods=["GET", "POST"])
@resident_required
def ask():
    """Ask for help: what, where, when, how urgent, who may help, how to be contacted."""
    if request.method == "GET":
        return _render_form({"where": "home", "urgency": "normal", "recurring": "once"}, {})
    try:
        created = post_request(me(), **request_values(request.form))
    except Invalid as exc:
        return _render_form(form_data(request.form), errors_from(exc))
    flash(_("Your request for help is saved. We are looking for neighbours who can help."))
    return redirect(url_for(".request_detail", request_id=created.id))


@bp.get("/hulpvragen/<int:request_id>")
@resident_required
def request_detail(request_id: int):
    """One of my requests: what I asked, its status and what I can do next."""
    view = get_request(request_id, me(), lang())
    return render_template("residents/request.html", item=view)


@bp.route("/hulpvragen/<int:request_id>/wijzigen", methods=["GET", "POST"])
@resident_required
def edit_request(request_id: int):
    """Change an open request (it is matched again)."""
    view = get_request(request_id, me(), lang())
    if request.method == "GET":
        return _render_form(data_from_view(view), {}, editing=view)
    try:
        update_request(request_id, me(), **request_values(request.form))
    except Invalid as exc:
        return _render_form(form_data(request.form), errors_from(exc), editing=view)
    flash(_("Your request for help is changed."))
    return redirect(url_for(".request_detail", request_id=request_id))


@bp.route("/hulpvragen/<int:request_id>/annuleren", methods=["GET", "POST"])
@resident_required
def cancel(request_id: int):
    """Cancel a request after a confirmation (helpers who were involved are told)."""
    view = get_request(request_id, me(), lang())
    if request.method == "GET":
        return render_template("residents/cancel_request.html", item=view)
    cancel_request(request_id, me())
    flash(_("Your request for help is cancelled."))
    return redirect(url_for(".overview"))
