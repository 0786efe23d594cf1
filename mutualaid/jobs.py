"""Background jobs: thin top-level functions that take ids, call one service, and log.

They run in an rq work horse forked from `flask --app wsgi worker`, inside the app context.
The services (and numpy, scipy, scikit-learn behind them) are imported here at module level, so
the worker loads them once before it forks instead of once per job. Every job is idempotent.
"""

from __future__ import annotations

import logging
import os

from flask import current_app
from rq import get_current_job

from .services import (
    account_mail,
    email_confirmation,
    geocoding,
    matching,
    notifications,
    outbox,
    ranker,
    retention,
    trust,
)

log = logging.getLogger(__name__)


def _job_id() -> str | None:
    job = get_current_job()
    return job.id if job else None


def ping(token: str) -> dict:
    """Answer a probe: proves a worker is alive and runs jobs from this codebase."""
    log.info("ping %s", token)
    return {"pong": token, "pid": os.getpid()}


def _fault_pause() -> float:
    """Seconds the first attempt of this job pauses (fault-injection tests only)."""
    pause = current_app.config.get("FAULT_PAUSE_SECONDS") or 0.0
    job = get_current_job()
    if not pause or job is None or job.meta.get("paused_once"):
        return 0.0
    job.meta["paused_once"] = True
    job.save_meta()
    return pause


def match_request(request_id: int) -> dict:
    """Rank helpers for one request and store the suggestions."""
    return matching.match_request(request_id, run_id=_job_id(), pause_s=_fault_pause())


def match_offer(offer_id: int) -> dict:
    """Suggest a new or changed offer to the open requests it now serves well."""
    return matching.match_offer(offer_id, run_id=_job_id())


def rematch_open_requests() -> dict:
    """Periodic: match every open request again (offers and ties change)."""
    return matching.match_all(run_id=_job_id(), trigger="periodic")


def expire_suggestions() -> dict:
    """Periodic: suggestions nobody acted on expire."""
    return matching.expire_stale_suggestions()


def rebuild_trust_weights() -> dict:
    """Periodic: recompute `helped` ties from completed matches (decaying with time)."""
    return trust.rebuild_helped_ties()


def retrain_ranker() -> dict:
    """Periodic: learn ranking weights from outcomes, or keep the defaults."""
    return ranker.retrain()


def sweep_outbox() -> dict:
    """Periodic: enqueue matching for whatever is still marked pending."""
    return outbox.sweep_outbox()


def notify_next_wave(request_id: int) -> int | None:
    """Ask the next wave of suggested helpers about a request."""
    return notifications.send_next_wave(request_id)


def advance_notification_waves() -> int:
    """Periodic: requests nobody answered get their next wave when it is due."""
    return sum(
        1
        for request_id in notifications.requests_awaiting_a_wave()
        if notifications.send_next_wave(request_id)
    )


def send_password_reset(user_id: int | None, link_template: str) -> bool:
    """Mail a reset link to this account; None (an unknown address) does nothing."""
    return account_mail.send_password_reset(user_id, link_template)


def send_registration_notice(user_id: int | None, link_template: str) -> bool:
    """Tell an account's owner that someone tried to register with their address."""
    return account_mail.send_registration_notice(user_id, link_template)


def send_email_confirmation(user_id: int | None, link_template: str) -> bool:
    """Mail a link that confirms a new account's email address; None does nothing."""
    return email_confirmation.send_email_confirmation(user_id, link_template)


def geocode_resident(resident_id: int) -> dict:
    """Turn a resident's pending home address into a point and a neighbourhood."""
    return geocoding.geocode_resident(resident_id)


def anonymise_closed_requests() -> dict:
    """Periodic: anonymise requests closed longer ago than RETENTION_DAYS, and remove accounts
    never confirmed within UNCONFIRMED_ACCOUNT_DAYS."""
    result = retention.anonymise_closed_requests()
    result["unconfirmed_accounts"] = retention.remove_unconfirmed_accounts()
    log.info("retention: %s", result)
    return result
