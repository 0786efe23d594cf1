"""Erasing a resident (AVG/GDPR "right to be forgotten").

The person goes, the statistics stay: rows keep their neighbourhood, category, status and
dates, so the municipal figures do not change when someone leaves. Matches in progress are
cancelled and the other side is told, without a name.

What other people wrote stays theirs: a message the other side wrote in a shared thread is
kept as written (even when it quotes this resident); their notifications keep their text with
this resident's name taken out. Job payloads hold ids only, so nothing is left in Redis.
`tests/integration/test_erasure_completeness.py` dumps every table and Redis key to prove it.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime

from sqlalchemy import delete, or_, select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import (
    ConsentRecord,
    ContactNote,
    FollowUpAction,
    HelpRequest,
    Match,
    Message,
    Neighbourhood,
    Notification,
    Offer,
    ProblemReport,
    Resident,
    ResidentBlock,
    SecretToken,
    TrustTie,
    VogRecord,
    Vouch,
)
from ..models.base import utcnow
from ..models.vocab import ACTIVE_MATCH_STATUSES
from .accounts import verify_password
from .addresses import forget_cached_address
from .aid import mark_request_for_matching
from .audit import record_event
from .notifications import notify
from .transactions import commit

log = logging.getLogger(__name__)

ERASED_NAME = "Verwijderd"
ERASED_TEXT = "[verwijderd]"
MATCH_CANCELLED_KIND = "match_cancelled"


def _resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None:
        raise NotFound("this resident does not exist", field="resident_id")
    return resident


def _coarse_point(neighbourhood_id: int | None, lat: float, lon: float) -> tuple[float, float]:
    """The neighbourhood's centre (or a ~1 km grid point): statistics keep their place."""
    neighbourhood = db.session.get(Neighbourhood, neighbourhood_id) if neighbourhood_id else None
    if neighbourhood is not None:
        return neighbourhood.centroid_lat, neighbourhood.centroid_lon
    return round(lat, 2), round(lon, 2)


def _erase_account(resident: Resident, now: datetime) -> None:
    user = resident.account
    if user is None:
        return
    # The email is freed (unique column) and the password can never match again.
    user.email = f"erased-{user.id}-{secrets.token_hex(4)}@erased.invalid"
    user.password_hash = "!erased"
    user.display_name = ERASED_NAME
    user.is_enabled = False
    user.session_version += 1
    user.last_login_at = None
    db.session.execute(
        SecretToken.__table__.update()
        .where(SecretToken.user_id == user.id, SecretToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _erase_person(resident: Resident, now: datetime) -> None:
    forget_cached_address(resident.postcode, resident.house_number)
    resident.first_name = ERASED_NAME
    for name in (
        "last_name",
        "email",
        "phone",
        "street",
        "house_number",
        "postcode",
        "home_lat",
        "home_lon",
        "location_source",
        "geocode_status",
    ):
        setattr(resident, name, None)
    resident.channel_mask = 0
    resident.erased_at = now
    db.session.execute(
        SecretToken.__table__.update()
        .where(SecretToken.resident_id == resident.id, SecretToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _erase_requests_and_offers(resident_id: int, now: datetime) -> None:
    for row in db.session.scalars(
        select(HelpRequest).where(HelpRequest.requester_id == resident_id)
    ):
        if row.status in ("open", "matched"):
            row.status, row.closed_at = "cancelled", now
        if row.postcode and row.address_line:
            forget_cached_address(row.postcode, address_line=row.address_line)
        row.lat, row.lon = _coarse_point(row.neighbourhood_id, row.lat, row.lon)
        row.description, row.street, row.address_line, row.postcode = "", None, None, None
        row.contact_channel, row.matching_pending_since = None, None
        row.anonymised_at = now
    for row in db.session.scalars(select(Offer).where(Offer.helper_id == resident_id)):
        row.is_active, row.description, row.street = False, "", None
        row.lat, row.lon = _coarse_point(row.neighbourhood_id, row.lat, row.lon)
        row.matching_pending_since = None


def _cancel_matches(resident_id: int, now: datetime) -> list[tuple[int, int, str]]:
    """Cancel the resident's open matches; (match id, other resident, their role) of those
    in progress."""
    matches = db.session.scalars(
        select(Match)
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(
            or_(HelpRequest.requester_id == resident_id, Match.helper_id == resident_id),
            Match.status.in_(("suggested", *ACTIVE_MATCH_STATUSES)),
        )
    ).all()
    in_progress = []
    for match in matches:
        if match.status in ACTIVE_MATCH_STATUSES:
            mine = match.helper_id == resident_id
            other = match.request.requester_id if mine else match.helper_id
            in_progress.append((match.id, other, "requester" if mine else "helper"))
            if mine and match.request.status == "matched":
                # The requester still needs help: back to open and into matching again.
                match.request.status = "open"
                mark_request_for_matching(match.request)
        match.status, match.status_changed_at = "cancelled", now
        match.status_reason = "account deleted"
    return in_progress


def _erase_words(resident_id: int, user_id: int | None) -> None:
    """Texts the resident wrote are replaced; the rows (and their dates) stay."""
    senders = [Message.sender_resident_id == resident_id]
    if user_id is not None:
        senders.append(Message.sender_user_id == user_id)
    db.session.execute(Message.__table__.update().where(or_(*senders)).values(body=ERASED_TEXT))
    db.session.execute(
        ProblemReport.__table__.update()
        .where(ProblemReport.reporter_id == resident_id)
        .values(body=ERASED_TEXT)
    )
    db.session.execute(
        Match.__table__.update()
        .where(
            Match.request_id.in_(
                select(HelpRequest.id).where(HelpRequest.requester_id == resident_id)
            ),
            Match.thanks_note.is_not(None),
        )
        .values(thanks_note=None)
    )
    db.session.execute(
        FollowUpAction.__table__.update()
        .where(FollowUpAction.resident_id == resident_id)
        .values(note=None)
    )


def _erase_name_in_notifications(resident: Resident) -> None:
    """Notifications other people got about this resident's matches named them (first name,
    "Anna invites you"): the name is replaced, the notification itself stays theirs."""
    names = [n for n in (resident.first_name, resident.last_name) if n and n != ERASED_NAME]
    if not names:
        return
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.I)
    my_requests = select(HelpRequest.id).where(HelpRequest.requester_id == resident.id)
    my_matches = select(Match.id).where(
        or_(Match.helper_id == resident.id, Match.request_id.in_(my_requests))
    )
    rows = db.session.scalars(
        select(Notification).where(
            Notification.resident_id != resident.id,
            or_(Notification.match_id.in_(my_matches), Notification.request_id.in_(my_requests)),
        )
    )
    for row in rows:
        row.subject = pattern.sub(ERASED_TEXT, row.subject or "")
        row.body = pattern.sub(ERASED_TEXT, row.body or "")


def _erase_links(resident_id: int, now: datetime) -> None:
    """Who knows, blocks or vouched for whom, notes and certificates: personal, so removed."""
    db.session.execute(
        delete(TrustTie).where(
            or_(TrustTie.resident_a_id == resident_id, TrustTie.resident_b_id == resident_id)
        )
    )
    db.session.execute(
        delete(ResidentBlock).where(
            or_(ResidentBlock.blocker_id == resident_id, ResidentBlock.blocked_id == resident_id)
        )
    )
    for model in (Vouch, VogRecord, ContactNote, Notification):
        db.session.execute(delete(model).where(model.resident_id == resident_id))
    db.session.execute(
        ConsentRecord.__table__.update()
        .where(ConsentRecord.resident_id == resident_id, ConsentRecord.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )


def _identifying(resident: Resident) -> list[str]:
    """Strings that identify the resident, read before they are erased (lower case)."""
    values = [resident.email, resident.phone, resident.last_name, resident.postcode]
    if resident.account is not None:
        values.append(resident.account.email)
    if resident.street and resident.house_number:
        values.append(f"{resident.street} {resident.house_number}")
    return [v.lower() for v in values if v and len(v) >= 4]


def _forget_failed_jobs(needles: list[str]) -> int:
    """Job arguments are ids, but a failed job keeps its error text (for a year by default);
    drop failed jobs whose error names the resident. Redis down: the erasure still stands."""
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    from ..background import QUEUE_NAMES, get_queue

    dropped = 0
    try:
        for name in QUEUE_NAMES:
            queue = get_queue(name)
            registry = FailedJobRegistry(queue=queue)
            for job in Job.fetch_many(
                registry.get_job_ids(), connection=queue.connection, serializer=queue.serializer
            ):
                if job is None:
                    continue
                text = " ".join(r.exc_string or "" for r in job.results()).lower()
                if any(n in text for n in needles):
                    registry.remove(job, delete_job=True)  # its results (the error text) too
                    dropped += 1
    except Exception:  # Redis down or a job it cannot read: reported, never undoes the erasure
        log.warning("erasure: failed jobs could not be checked", exc_info=True)
    return dropped


def erase_resident(resident_id: int, *, actor_user_id: int | None = None) -> int:
    """Erase the resident's personal data everywhere; tell the other side of matches in
    progress (without naming anyone). Returns how many of those were told."""
    resident = _resident(resident_id)
    now = utcnow()
    user_id = resident.account.id if resident.account else None
    needles = _identifying(resident)
    in_progress = _cancel_matches(resident_id, now)
    _erase_requests_and_offers(resident_id, now)
    _erase_words(resident_id, user_id)
    _erase_name_in_notifications(resident)
    _erase_links(resident_id, now)
    _erase_account(resident, now)
    _erase_person(resident, now)
    record_event(
        actor_user_id if actor_user_id is not None else user_id,
        "erase:resident",
        subject_resident_id=resident_id,
        detail={"matches_cancelled": len(in_progress)},
    )
    commit()
    _forget_failed_jobs(needles)
    _tell_the_other_side(in_progress)
    return len(in_progress)


def erase_own_account(user_id: int, password: str, *, confirmed: bool) -> int:
    """The resident deletes their own account, after ticking the box and giving the password."""
    if confirmed is not True:
        raise Invalid("tick the box to confirm", field="confirm", rule="required")
    user = verify_password(user_id, password)
    if user.resident_id is None:
        raise NotFound("this account has no resident profile", field="resident_id")
    return erase_resident(user.resident_id, actor_user_id=user.id)


def _tell_the_other_side(in_progress: list[tuple[int, int, str]]) -> None:
    # Names no one: the other side only learns that this match stopped.
    subject = "Een afspraak gaat niet door"
    texts = {
        "requester": "Uw buurtgenoot heeft het account verwijderd. Daarom gaat deze hulp niet "
        "door. Uw hulpvraag staat weer open: we zoeken iemand anders voor u.",
        "helper": "Uw buurtgenoot heeft het account verwijderd. Daarom gaat deze hulp niet "
        "door. U hoeft niets te doen. Dank u wel dat u wilde helpen.",
    }
    for match_id, other_id, role in in_progress:
        other = db.session.get(Resident, other_id)
        if other is None or other.erased_at is not None:
            continue
        notify(
            other_id,
            MATCH_CANCELLED_KIND,
            f"{MATCH_CANCELLED_KIND}:{match_id}:{other_id}",
            subject,
            texts[role],
            match_id=match_id,
        )
