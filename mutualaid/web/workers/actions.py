"""Worker pages: match review and what-if. (Intake, hand-over, vouch and VOG: `casework.py`.)

Views are thin: parse the form, call one service with the signed-in worker's id (the services
check the neighbourhood scope and write the audit events), flash, redirect or render.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...errors import DomainError
from ...matching import PART_NAMES
from ...services.match_review import (
    choose_helper,
    confirm_match,
    nearby_offers,
    review_request,
    withdraw_match,
)
from ...services.what_if import current_weights, make_default_weights, what_if
from ..access import roles_required
from ..residents.common import LANGUAGE_LABELS, STATUS_LABELS, URGENCY_LABELS
from .blueprint import bp

STAFF = ("worker", "admin")

# Friendly texts for the rules the services enforce, by field.
FIELD_MESSAGES = {
    "reason": _l("Write down why (at most 1000 characters). The reason is kept in the log."),
    "helper_agreed": _l(
        "Only for a helper who is not online can you pass on their yes. "
        "Other helpers answer themselves."
    ),
    "offer_id": _l("This helper cannot be chosen for this request."),
    "match_id": _l("This match cannot be changed."),
    "status": _l("This can no longer be done: the request or match has changed."),
}
PROBLEM_LABELS = {
    "vog": _l("no valid VOG"),
    "blocked": _l("blocked"),
    "capacity": _l("no time left"),
    "declined": _l("declined before"),
    "category": _l("other kind of help"),
    "inactive": _l("paused"),
    "self": _l("the requester"),
}
PART_LABELS = {
    "proximity": _l("Distance"),
    "availability": _l("Time"),
    "trust": _l("Trust"),
    "continuity": _l("Helped before"),
    "language": _l("Language"),
    "fairness": _l("Fair share"),
}


@bp.context_processor
def casework_labels() -> dict:
    """Readable statuses, urgencies and languages for the worker action pages."""
    return {
        "status_labels": STATUS_LABELS,
        "urgency_labels": URGENCY_LABELS,
        "language_labels": LANGUAGE_LABELS,
    }


def field_errors(exc: DomainError) -> dict[str, str]:
    """The error of a domain exception by field, in friendly words where we have them."""
    field = exc.field or "form"
    if field == "offer_id" and exc.rule in PROBLEM_LABELS:
        return {field: f"{FIELD_MESSAGES[field]} ({PROBLEM_LABELS[exc.rule]})"}
    return {field: str(FIELD_MESSAGES.get(field, exc.message))}


def _prefixed(form: str, errors: dict[str, str]) -> dict[str, str]:
    """Errors of the second and third form on the review page point at that form's reason."""
    return {f"{form}-reason" if key == "reason" else key: text for key, text in errors.items()}


def _render_review(request_id: int, errors: dict | None = None, form=None):
    review = review_request(current_user.id, request_id)
    helpers = nearby_offers(current_user.id, request_id)
    page = render_template(
        "workers/review_request.html",
        review=review,
        helpers=helpers,
        errors=errors or {},
        form=form or {},
        part_labels=PART_LABELS,
        problem_labels=PROBLEM_LABELS,
    )
    return page, 422 if errors else 200


@bp.get("/hulpvragen/<int:request_id>/beoordelen")
@roles_required(*STAFF)
def review(request_id: int):
    """A request's ranked candidates with their score parts; confirm, choose or withdraw."""
    return _render_review(request_id)


def _checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


@bp.post("/hulpvragen/<int:request_id>/bevestigen")
@roles_required(*STAFF)
def review_confirm(request_id: int):
    """Confirm a suggested helper (invite, or accept for a helper who said yes by phone)."""
    try:
        confirm_match(
            current_user.id,
            request.form.get("match_id", type=int) or 0,
            request.form.get("reason", ""),
            helper_agreed=_checked("helper_agreed"),
            request_id=request_id,
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _render_review(request_id, field_errors(exc), request.form)
    flash(_("The helper has been asked. Both residents got a message."))
    return redirect(url_for("workers.review", request_id=request_id))


@bp.post("/hulpvragen/<int:request_id>/kiezen")
@roles_required(*STAFF)
def review_choose(request_id: int):
    """Ask another helper of the worker's choice."""
    try:
        choose_helper(
            current_user.id,
            request_id,
            request.form.get("offer_id", ""),
            request.form.get("reason", ""),
            helper_agreed=_checked("helper_agreed"),
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _render_review(request_id, _prefixed("choose", field_errors(exc)), request.form)
    flash(_("The helper you chose has been asked. Both residents got a message."))
    return redirect(url_for("workers.review", request_id=request_id))


@bp.post("/hulpvragen/<int:request_id>/intrekken")
@roles_required(*STAFF)
def review_withdraw(request_id: int):
    """Withdraw a match, with a reason."""
    try:
        withdraw_match(
            current_user.id,
            request.form.get("match_id", type=int) or 0,
            request.form.get("reason", ""),
            request_id=request_id,
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _render_review(request_id, _prefixed("withdraw", field_errors(exc)), request.form)
    flash(_("The match has been withdrawn."))
    return redirect(url_for("workers.review", request_id=request_id))


def _weights_from(args) -> dict[str, str]:
    """The six weights from a form; a part switched off counts 0."""
    return {
        part: "0" if args.get(f"off_{part}") else (args.get(part) or "").strip().replace(",", ".")
        for part in PART_NAMES
    }


@bp.get("/wat-als")
@roles_required(*STAFF)
def what_if_page():
    """Preview other weights: which open requests get another top helper. Stores nothing."""
    current, version = current_weights()
    result, errors = None, {}
    values = {part: str(round(current[part], 4)) for part in PART_NAMES}
    if "preview" in request.args:
        values = _weights_from(request.args)
        try:
            result = what_if(current_user.id, values)
        except DomainError as exc:
            errors = field_errors(exc)
    page = render_template(
        "workers/review_whatif.html",
        values=values,
        off={part for part in PART_NAMES if request.args.get(f"off_{part}")},
        current=current,
        version=version,
        result=result,
        errors=errors,
        part_labels=PART_LABELS,
    )
    return page, 422 if errors else 200


@bp.post("/wat-als/standaard")
@roles_required("admin")
def what_if_default():
    """An admin makes the previewed weights the default (a new ranker version)."""
    values = _weights_from(request.form)
    try:
        made = make_default_weights(current_user.id, values)
    except DomainError as exc:
        flash(field_errors(exc).popitem()[1])
        return redirect(url_for("workers.what_if_page"))
    flash(_("These weights are now the default (version %(version)s).", version=made["version"]))
    return redirect(url_for("workers.what_if_page"))


from . import casework  # noqa: E402,F401  (the resident pages register on the same blueprint)
