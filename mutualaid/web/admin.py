"""Admin pages: the job queues (depths, workers, failed jobs)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..services.queues import failed_jobs, queue_overview, requeue_failed_job
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
