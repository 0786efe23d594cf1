"""Worker pages: who is involved, newly active residents, network, follow-up, audit.

Views are thin: each calls one service with the signed-in worker's id; the services check the
neighbourhood scope and write the audit events.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ...errors import Invalid
from ...models.vocab import CONSENT_METHODS, FOLLOW_UP_KINDS
from ...services.audit_view import audit_for_worker
from ...services.dashboard import worker_overview
from ...services.followup import ACTIONS, follow_up_queue, record_follow_up
from ...services.involvement import involvement_cells, list_involved, parse_query
from ...services.network import help_network
from ...services.newly_active import list_newly_active, reach_out
from ...services.worker_scope import scoped_neighbourhood
from ..access import roles_required
from .blueprint import bp

STAFF = ("worker", "admin")
SEARCH_KEY = "involved_search"  # {neighbourhood code: name searched for}


def _int_arg(name: str, default: int = 1) -> int | str:
    """A query-string number as given (the service validates and names the field)."""
    return request.args.get(name) or default


@bp.get("/")
@roles_required(*STAFF)
def dashboard():
    """Landing page: the worker's neighbourhoods with counts, and links to each view."""
    return render_template("workers/dashboard.html", overview=worker_overview(current_user.id))


@bp.get("/buurt/<code>/betrokken")
@roles_required(*STAFF)
def involved(code: str):
    """Who is involved in one neighbourhood: filter, sort, search; cells instead of homes."""
    # The name searched for stays out of the URL (browser history, proxy and server logs):
    # it comes from the session, set by the search form below.
    args = request.args.to_dict()
    args["q"] = session.get(SEARCH_KEY, {}).get(code, "")
    query = parse_query(args)
    page = list_involved(current_user.id, code, query)
    cells = involvement_cells(current_user.id, code)
    return render_template("workers/involved.html", page=page, cells=cells, args=args)


@bp.post("/buurt/<code>/betrokken")
@roles_required(*STAFF)
def search_involved(code: str):
    """Search by name: the name goes in the session (never the URL), then back to the list."""
    scoped_neighbourhood(current_user.id, code)  # outside the worker's area: refused
    text = "" if request.form.get("clear") else request.form.get("q", "").strip()
    parse_query({"q": text})  # too long → 422 naming the field, like the list itself
    searches = dict(session.get(SEARCH_KEY, {}))
    if text:
        searches[code] = text
    else:
        searches.pop(code, None)
    session[SEARCH_KEY] = searches
    filters = {k: v for k, v in request.args.items() if k not in ("q", "page")}
    return redirect(url_for("workers.involved", code=code, **filters))


@bp.get("/nieuw-actief")
@roles_required(*STAFF)
def newly_active():
    """Newly active residents not yet known to services, and offerers never matched."""
    return _render_newly_active()


def _render_newly_active(errors: dict | None = None, failed_id: int | None = None, status=200):
    page = list_newly_active(
        current_user.id,
        code=request.args.get("buurt") or None,
        which=request.args.get("welke") or "all",
        page=_int_arg("page"),
        language=str(get_locale() or "nl")[:2],
    )
    return render_template(
        "workers/newly_active.html",
        page=page,
        methods=CONSENT_METHODS,
        errors=errors or {},
        failed_id=failed_id,
        form=request.form,
    ), status


@bp.post("/bewoners/<int:resident_id>/contact")
@roles_required(*STAFF)
def contact(resident_id: int):
    """Reach out: record a contact note and mark the resident known to services."""
    try:
        reach_out(
            current_user.id,
            resident_id,
            request.form.get("method", ""),
            request.form.get("note", ""),
        )
    except Invalid as exc:
        return _render_newly_active(exc.errors, resident_id, 422)
    flash(_("Your contact is saved. The resident is now known to services."))
    return redirect(url_for("workers.newly_active", **request.args))


@bp.get("/buurt/<code>/netwerk")
@roles_required(*STAFF)
def network(code: str):
    """The help ties of a neighbourhood as an SVG picture and as a table."""
    return render_template("workers/network.html", net=help_network(current_user.id, code))


@bp.get("/opvolging")
@roles_required(*STAFF)
def follow_up():
    """The follow-up queue with a form per item to record what was done."""
    return _render_follow_up()


def _render_follow_up(errors: dict | None = None, failed_key: str | None = None, status=200):
    page = follow_up_queue(
        current_user.id,
        kind=request.args.get("soort") or "",
        include_closed=request.args.get("afgehandeld") == "1",
        page=_int_arg("page"),
    )
    return render_template(
        "workers/follow_up.html",
        page=page,
        kinds=FOLLOW_UP_KINDS,
        actions=ACTIONS,
        errors=errors or {},
        failed_key=failed_key,
        form=request.form,
    ), status


@bp.post("/opvolging/<kind>/<int:target_id>")
@roles_required(*STAFF)
def follow_up_action(kind: str, target_id: int):
    """Record an action on a follow-up item (POST, then back to the queue)."""
    try:
        record_follow_up(
            current_user.id,
            kind,
            target_id,
            request.form.get("action", ""),
            request.form.get("note", ""),
        )
    except Invalid as exc:
        return _render_follow_up(exc.errors, f"{kind}:{target_id}", 422)
    flash(_("Your action is saved."))
    return redirect(url_for("workers.follow_up", **request.args))


@bp.get("/audit")
@roles_required(*STAFF)
def audit():
    """Who looked at or changed the data of the residents in the worker's neighbourhoods."""
    page = audit_for_worker(
        current_user.id,
        include_log_views=request.args.get("alles") == "1",
        page=_int_arg("page"),
    )
    return render_template("workers/audit.html", page=page)
