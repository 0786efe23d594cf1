"""Notifications: sent once per idempotency key, through every channel that reaches the person,
and asked of helpers in fair waves with a daily budget per helper."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..channels import configured_channels
from ..control_flow import CONTROL_FLOW
from ..errors import Conflict
from ..extensions import db
from ..models import Category, HelpRequest, Match, Neighbourhood, Notification, Resident
from ..models.base import utcnow
from ..models.vocab import ACTIVE_MATCH_STATUSES
from .transactions import commit

log = logging.getLogger(__name__)
HELP_WANTED = "help_wanted"


def notify(
    resident_id: int,
    kind: str,
    key: str,
    subject: str,
    body: str,
    *,
    request_id: int | None = None,
    match_id: int | None = None,
    wave: int | None = None,
) -> list[Notification]:
    """Send a notification through each channel once; repeated calls with the key send nothing."""
    resident = db.session.get(Resident, resident_id)
    sent = []
    for channel in configured_channels(current_app.config):
        if not channel.can_reach(resident):
            continue
        channel_key = f"{key}:{channel.name}"
        row = db.session.scalar(
            select(Notification).where(Notification.idempotency_key == channel_key)
        )
        if row is not None and row.status == "sent":
            continue
        if row is None:
            row = Notification(
                idempotency_key=channel_key,
                resident_id=resident_id,
                kind=kind,
                channel=channel.name,
                subject=subject,
                body=body,
                request_id=request_id,
                match_id=match_id,
                wave=wave,
            )
            db.session.add(row)
            try:
                commit()  # claim the key before sending: a parallel retry now conflicts
            except Conflict:
                continue
        try:
            channel.send(resident, subject, body)
        except CONTROL_FLOW:
            raise  # a job timeout or SIGTERM mid-send: the row stays claimed, a retry sends it
        except Exception as exc:  # reported on the row; the job's retry sends it again
            row.status, row.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
            commit()
            # No traceback: a mail or SMS error's text can name the recipient's address.
            log.warning("notification %s via %s failed: %s", key, channel.name, type(exc).__name__)
            continue
        row.status, row.sent_at, row.error = "sent", utcnow(), None
        commit()
        sent.append(row)
    return sent


def _help_wanted_text(request: HelpRequest) -> tuple[str, str]:
    """Subject and body asking a helper; no name, address or contact of the requester."""
    category = db.session.get(Category, request.category_id)
    neighbourhood = (
        db.session.get(Neighbourhood, request.neighbourhood_id)
        if request.neighbourhood_id is not None
        else None
    )
    where = f" in {neighbourhood.name}" if neighbourhood else ""
    subject = f"Kunt u helpen? {category.name_nl}{where}"
    body = (
        f"Een buurtgenoot{where} vraagt hulp: {category.name_nl.lower()}. "
        "Kijk in mutualaid of u kunt helpen. U ziet het adres pas als u allebei ja zegt."
    )
    return subject, body


def helpers_over_budget(helper_ids: list[int], budget: int) -> set[int]:
    """Helpers already asked `budget` times in the last 24 hours."""
    if not helper_ids:
        return set()
    since = utcnow() - timedelta(days=1)
    rows = db.session.execute(
        select(Notification.resident_id, func.count(func.distinct(Notification.request_id)))
        .where(
            Notification.kind == HELP_WANTED,
            Notification.created_at >= since,
            Notification.resident_id.in_(helper_ids),
        )
        .group_by(Notification.resident_id)
    ).all()
    return {resident_id for resident_id, asked in rows if asked >= budget}


def send_next_wave(request_id: int, *, force: bool = False) -> int | None:
    """Ask the next few suggested helpers; None when it is not yet time or nothing is left."""
    config = current_app.config
    request = db.session.get(HelpRequest, request_id)
    if request is None or request.status != "open":
        return None
    if db.session.scalar(
        select(func.count(Match.id)).where(
            Match.request_id == request_id, Match.status.in_((*ACTIVE_MATCH_STATUSES, "done"))
        )
    ):
        return None  # someone already said yes
    last_wave, last_at = db.session.execute(
        select(func.max(Notification.wave), func.max(Notification.created_at)).where(
            Notification.request_id == request_id, Notification.kind == HELP_WANTED
        )
    ).one()
    wait = timedelta(minutes=config["WAVE_TIMEOUT_MINUTES"])
    if last_wave and not force and utcnow() - last_at < wait:
        return None
    asked = set(
        db.session.scalars(
            select(Notification.resident_id).where(
                Notification.request_id == request_id, Notification.kind == HELP_WANTED
            )
        )
    )
    suggestions = db.session.execute(
        select(Match.id, Match.helper_id)
        .where(Match.request_id == request_id, Match.status == "suggested")
        .order_by(Match.score.desc(), Match.id)
    ).all()
    fresh = [(m, h) for m, h in suggestions if h not in asked]
    busy = helpers_over_budget([h for _, h in fresh], config["HELPER_DAILY_NOTIFICATION_BUDGET"])
    chosen = [(m, h) for m, h in fresh if h not in busy][: config["WAVE_SIZE"]]
    if not chosen:
        return None
    wave = (last_wave or 0) + 1
    subject, body = _help_wanted_text(request)
    for match_id, helper_id in chosen:
        notify(
            helper_id,
            HELP_WANTED,
            f"{HELP_WANTED}:{request_id}:{helper_id}",
            subject,
            body,
            request_id=request_id,
            match_id=match_id,
            wave=wave,
        )
    return wave


def requests_awaiting_a_wave() -> list[int]:
    """Open requests with suggestions but nobody who said yes: candidates for a next wave."""
    active = select(Match.request_id).where(Match.status.in_((*ACTIVE_MATCH_STATUSES, "done")))
    return list(
        db.session.scalars(
            select(HelpRequest.id)
            .where(
                HelpRequest.status == "open",
                HelpRequest.id.not_in(active),
                HelpRequest.id.in_(select(Match.request_id).where(Match.status == "suggested")),
            )
            .order_by(HelpRequest.id)
        )
    )
