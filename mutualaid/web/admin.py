"""Admin pages: the job queues (depths, workers, failed jobs) and the staff second factor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..services.queues import failed_jobs, queue_overview, requeue_failed_job
from ..services.second_factor import reset_second_factor, staff_accounts
from .access import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/queues")
@roles_required("admin")
def queues():
    states, workers = queue_overview()
    return render_template(
        "admin/queues.html", states=states, workers=workers, failed=failed_jobs()
    )


@bp.post("/queues/failed/<job_id>/requeue")
@roles_required("admin")
def requeue(job_id: str):
    requeue_failed_job(job_id)
    flash(_("The job is back in its queue."))
    return redirect(url_for("admin.queues"))


@bp.get("/second-factor")
@roles_required("admin")
def second_factor():
    """Staff accounts and whether their second factor is set up; reset one (a lost phone)."""
    return render_template("admin/second_factor.html", accounts=staff_accounts())


@bp.post("/second-factor/<int:user_id>/reset")
@roles_required("admin")
def reset_second_factor_of(user_id: int):
    user = reset_second_factor(
        current_user.id, user_id, reason=request.form.get("reason", "").strip()[:200]
    )
    flash(
        _(
            "The second step of %(email)s is reset. They set it up again at their next sign-in.",
            email=user.email,
        )
    )
    return redirect(url_for("admin.second_factor"))
