"""Worker pages about one resident: assisted intake, the resident page (audited), help asked
and offered on their behalf, the hand-over code (print-friendly), vouch, VOG, expiring VOGs."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...errors import DomainError
from ...services.casework import scope_neighbourhoods, scoped_resident
from ...services.choices import category_choices
from ...services.handover import issue_handover_code, sms_available
from ...services.intake import (
    offer_help_for,
    register_resident,
    request_help_for,
    resident_profile,
)
from ...services.vetting import expiring_vogs, record_vog, revoke_vouch, vouch_for
from ..access import roles_required
from .blueprint import bp

STAFF = ("worker", "admin")
MESSAGES = {
    "first_name": _l("Give the first name."),
    "last_name": _l("The last name is too long."),
    "phone": _l("Give a phone number, for example 074 123 45 67."),
    "postcode": _l("Give a postcode like 7551 AB."),
    "house_number": _l("The house number is too long."),
    "street": _l("The street name is too long."),
    "neighbourhood": _l("Choose one of your neighbourhoods."),
    "lat": _l("This point is not in a known neighbourhood."),
    "languages": _l("Choose the languages from the list."),
    "consent_method": _l("Choose how the resident gave consent."),
    "consent_date": _l("Give the date of the consent (not in the future)."),
    "consent_note": _l("The note is too long."),
    "category": _l("Choose what kind of help."),
    "categories": _l("Choose at least one kind of help."),
    "description": _l("Describe in a few words what is needed (at most 2000 characters)."),
    "urgency": _l("Choose how urgent it is."),
    "radius_m": _l("Choose how far the resident wants to travel."),
    "capacity": _l("Choose how many people the resident can help at the same time."),
    "location": _l("The resident has no home location. Register it first."),
    "issued_on": _l("Give the date on the VOG (not in the future)."),
    "expires_on": _l("The end date must be after the date of issue."),
    "screening_profile": _l("The screening profile is too long (at most 80 characters)."),
    "send_sms": _l("Sending a text message is not possible here. Print the code instead."),
    "resident_id": _l("This resident already has an account."),
}
CONSENT_LABELS = {
    "phone": _l("By phone"),
    "in_person": _l("In person (walk-in)"),
    "home_visit": _l("During a home visit"),
    "paper": _l("On a paper form"),
}
METHOD_LABELS = {**CONSENT_LABELS, "online": _l("Online, by the resident")}
PURPOSE_LABELS = {
    "matching": _l("Finding help"),
    "contact_by_worker": _l("Contact by a community worker"),
    "share_street_with_helper": _l("Street shown to the helper"),
}
VOG_PROFILES = ("84 Personen met kinderen", "45 Zorg", "11 Geld")


def errors_of(exc: DomainError) -> dict[str, str]:
    field = exc.field or "form"
    return {field: str(MESSAGES.get(field, exc.message))}


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "nl"


@bp.route("/bewoners/nieuw", methods=["GET", "POST"])
@roles_required(*STAFF)
def intake():
    """Register a resident who is not online, with consent recorded on their behalf."""
    form, errors = request.form, {}
    if request.method == "POST":
        values = {
            name: form.get(name) or None
            for name in (
                "first_name",
                "last_name",
                "phone",
                "street",
                "house_number",
                "postcode",
                "neighbourhood",
                "consent_method",
                "consent_date",
                "consent_note",
            )
        }
        values["languages"] = form.getlist("languages") or ["nl"]
        values["channels"] = ["phone"] if values["phone"] else []
        try:
            resident = register_resident(current_user.id, **values)
        except DomainError as exc:
            errors = errors_of(exc)
        else:
            flash(_("%(name)s is registered. Consent is recorded.", name=resident.first_name))
            return redirect(url_for("workers.resident", resident_id=resident.id))
    page = render_template(
        "workers/intake_resident.html",
        form=form,
        errors=errors,
        neighbourhoods=scope_neighbourhoods(current_user.id),
        consent_labels=CONSENT_LABELS,
    )
    return page, 422 if errors else 200


@bp.get("/bewoners/<int:resident_id>")
@roles_required(*STAFF)
def resident(resident_id: int):
    """A resident's data, requests, offers, VOG and vouches (an audited view)."""
    # No reason from the query string: free text in a URL ends up in browser history and logs.
    profile = resident_profile(current_user.id, resident_id)
    return render_template(
        "workers/intake_resident_page.html",
        p=profile,
        sms=sms_available(),
        lang=_lang(),
        method_labels=METHOD_LABELS,
        purpose_labels=PURPOSE_LABELS,
    )


def _on_behalf_page(resident_id: int, template: str, errors: dict, status: int = 200):
    page = render_template(
        template,
        resident=scoped_resident(current_user.id, resident_id),
        form=request.form,
        errors=errors,
        categories=category_choices(_lang()),
        consent_labels=CONSENT_LABELS,
    )
    return page, 422 if errors else status


@bp.route("/bewoners/<int:resident_id>/hulpvraag", methods=["GET", "POST"])
@roles_required(*STAFF)
def request_for(resident_id: int):
    """Ask help on the resident's behalf (with how they agreed)."""
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            request_help_for(
                current_user.id,
                resident_id,
                form.get("consent_method"),
                category=form.get("category") or None,
                description=form.get("description", ""),
                urgency=form.get("urgency") or "normal",
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            errors = errors_of(exc)
        else:
            flash(_("The request is saved. We look for a helper."))
            return redirect(url_for("workers.resident", resident_id=resident_id))
    return _on_behalf_page(resident_id, "workers/intake_request.html", errors)


@bp.route("/bewoners/<int:resident_id>/aanbod", methods=["GET", "POST"])
@roles_required(*STAFF)
def offer_for(resident_id: int):
    """Offer help on the resident's behalf."""
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            offer_help_for(
                current_user.id,
                resident_id,
                categories=form.getlist("categories"),
                description=form.get("description", ""),
                radius_m=form.get("radius_m", type=int) or 2000,
                capacity=form.get("capacity", type=int) or 1,
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            errors = errors_of(exc)
        else:
            flash(_("The offer is saved."))
            return redirect(url_for("workers.resident", resident_id=resident_id))
    return _on_behalf_page(resident_id, "workers/intake_offer.html", errors)


@bp.post("/bewoners/<int:resident_id>/code")
@roles_required(*STAFF)
def handover_code(resident_id: int):
    """A single-use activation code, shown once on a page made for printing (or sent by SMS)."""
    try:
        issued = issue_handover_code(
            current_user.id,
            resident_id,
            send_sms=request.form.get("send_sms") == "1",
            activation_url=url_for("activation.activate", _external=True),
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(errors_of(exc).popitem()[1])
        return redirect(url_for("workers.resident", resident_id=resident_id))
    page = make_response(
        render_template(
            "workers/intake_code.html",
            issued=issued,
            url=url_for("activation.activate", _external=True),
        )
    )
    page.headers["Cache-Control"] = "no-store"  # the code is shown once; keep it out of caches
    return page


@bp.post("/bewoners/<int:resident_id>/vouch")
@roles_required(*STAFF)
def vouch(resident_id: int):
    """Vouch for the resident (or revoke the vouch)."""
    if request.form.get("revoke") == "1":
        revoke_vouch(current_user.id, resident_id, reason=request.form.get("reason"))
        flash(_("You no longer vouch for this resident."))
    else:
        vouch_for(current_user.id, resident_id, note=request.form.get("note"))
        flash(_("You vouch for this resident. This counts when we look for helpers."))
    return redirect(url_for("workers.resident", resident_id=resident_id))


@bp.route("/bewoners/<int:resident_id>/vog", methods=["GET", "POST"])
@roles_required(*STAFF)
def vog(resident_id: int):
    """Record a VOG the worker saw: date of issue, screening profile, end date (optional)."""
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            record_vog(
                current_user.id,
                resident_id,
                issued_on=form.get("issued_on") or None,
                screening_profile=form.get("screening_profile") or None,
                expires_on=form.get("expires_on") or None,
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            errors = errors_of(exc)
        else:
            flash(_("The VOG is recorded."))
            return redirect(url_for("workers.resident", resident_id=resident_id))
    page = render_template(
        "workers/vetting_vog.html",
        resident=scoped_resident(current_user.id, resident_id),
        form=request.form,
        errors=errors,
        profiles=VOG_PROFILES,
    )
    return page, 422 if errors else 200


@bp.get("/vog-verloopt")
@roles_required(*STAFF)
def vog_expiring():
    """VOGs in the worker's neighbourhoods that expire within 30 days (an audited view)."""
    return render_template("workers/vetting_expiring.html", rows=expiring_vogs(current_user.id))
