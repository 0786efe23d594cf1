"""A resident's rights over their own data (AVG/GDPR): see it all (export), see who looked
at it (audit trail), and have it erased.

Erasure removes the person, not the statistics: rows stay with their neighbourhood, category,
status and dates, so the municipal figures do not change when someone leaves.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, or_, select

from ..errors import NotFound
from ..extensions import db
from ..models import (
    AuditEvent,
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
    User,
    VogRecord,
    Vouch,
)
from ..models.base import utcnow
from ..models.vocab import ACTIVE_MATCH_STATUSES, channel_codes, language_codes
from .aid import mark_request_for_matching
from .audit import record_event
from .notifications import notify
from .transactions import commit

ERASED_NAME = "Verwijderd"
ERASED_TEXT = "[verwijderd]"
MATCH_CANCELLED_KIND = "match_cancelled"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.erased_at is not None:
        raise NotFound("this resident does not exist", field="resident_id")
    return resident


# --- Export ---------------------------------------------------------------------------------


def _profile(resident: Resident) -> dict:
    user = resident.account
    neighbourhood = resident.neighbourhood
    return {
        "id": resident.id,
        "first_name": resident.first_name,
        "last_name": resident.last_name,
        "email": resident.email,
        "phone": resident.phone,
        "street": resident.street,
        "house_number": resident.house_number,
        "postcode": resident.postcode,
        "home_lat": resident.home_lat,
        "home_lon": resident.home_lon,
        "location_source": resident.location_source,
        "neighbourhood": (
            {"code": neighbourhood.code, "name": neighbourhood.name} if neighbourhood else None
        ),
        "languages": language_codes(resident.language_mask),
        "channels": channel_codes(resident.channel_mask),
        "self_service": resident.self_service,
        "first_active_at": _iso(resident.first_active_at),
        "created_at": _iso(resident.created_at),
        "account": (
            {
                "email": user.email,
                "role": user.role,
                "display_name": user.display_name,
                "created_at": _iso(user.created_at),
                "last_login_at": _iso(user.last_login_at),
            }
            if user
            else None
        ),
    }


def _request_dict(row: HelpRequest) -> dict:
    return {
        "id": row.id,
        "category": row.category.code,
        "description": row.description,
        "status": row.status,
        "urgency": row.urgency,
        "lat": row.lat,
        "lon": row.lon,
        "street": row.street,
        "address_line": row.address_line,
        "postcode": row.postcode,
        "contact_channel": row.contact_channel,
        "slots": row.slots,
        "window_start": row.window_start.isoformat() if row.window_start else None,
        "window_end": row.window_end.isoformat() if row.window_end else None,
        "recurring": row.recurring,
        "needs_vog": row.needs_vog,
        "created_at": _iso(row.created_at),
        "closed_at": _iso(row.closed_at),
    }


def _offer_dict(row: Offer) -> dict:
    return {
        "id": row.id,
        "categories": sorted(c.code for c in row.categories),
        "description": row.description,
        "lat": row.lat,
        "lon": row.lon,
        "radius_m": row.radius_m,
        "slots": row.slots,
        "capacity": row.capacity,
        "languages": language_codes(row.language_mask),
        "is_active": row.is_active,
        "created_at": _iso(row.created_at),
    }


def _my_matches(resident_id: int) -> list[tuple[Match, str]]:
    """(match, my role) for every match the resident is part of and may know about.

    A helper does not know about suggestions nobody acted on, so those are left out for them.
    """
    as_requester = db.session.scalars(
        select(Match)
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(HelpRequest.requester_id == resident_id)
        .order_by(Match.id)
    ).all()
    as_helper = db.session.scalars(
        select(Match)
        .where(Match.helper_id == resident_id, Match.invited_at.is_not(None))
        .order_by(Match.id)
    ).all()
    return [(m, "requester") for m in as_requester] + [(m, "helper") for m in as_helper]


def _match_dict(match: Match, role: str) -> dict:
    other = match.helper if role == "requester" else match.request.requester
    return {
        "id": match.id,
        "my_role": role,
        "request_id": match.request_id,
        "offer_id": match.offer_id,
        "status": match.status,
        # Only the other person's first name: never their address, phone or email.
        "other_first_name": other.first_name if other is not None else None,
        "distance_m": match.distance_m,
        "explanation_nl": match.explanation_nl,
        "explanation_en": match.explanation_en,
        "invited_by": match.invited_by,
        "invited_at": _iso(match.invited_at),
        "accepted_at": _iso(match.accepted_at),
        "done_at": _iso(match.done_at),
        "thanks_note": match.thanks_note,
        "feedback_rating": match.feedback_rating,
        "created_at": _iso(match.created_at),
    }


def _messages(resident_id: int, match_ids: list[int]) -> list[dict]:
    if not match_ids:
        return []
    rows = db.session.scalars(
        select(Message)
        .where(Message.match_id.in_(match_ids))
        .order_by(Message.created_at, Message.id)
    )
    return [
        {
            "id": m.id,
            "match_id": m.match_id,
            "from": "me" if m.sender_resident_id == resident_id else "other",
            "body": m.body,
            "created_at": _iso(m.created_at),
            "read_at": _iso(m.read_at),
        }
        for m in rows
    ]


def _ties(resident_id: int) -> list[dict]:
    rows = db.session.scalars(
        select(TrustTie).where(
            or_(TrustTie.resident_a_id == resident_id, TrustTie.resident_b_id == resident_id)
        )
    )
    ties = []
    for tie in rows:
        other_id = tie.resident_b_id if tie.resident_a_id == resident_id else tie.resident_a_id
        other = db.session.get(Resident, other_id)
        ties.append(
            {
                "kind": tie.kind,
                "weight": tie.weight,
                "other_first_name": other.first_name if other else None,
                "confirmed_at": _iso(tie.confirmed_at),
                "created_at": _iso(tie.created_at),
            }
        )
    return ties


def _simple(rows, *fields: str) -> list[dict]:
    out = []
    for row in rows:
        item = {}
        for name in fields:
            value = getattr(row, name)
            item[name] = _iso(value) if isinstance(value, datetime) else value
        out.append(item)
    return out


def export_my_data(resident_id: int, *, actor_user_id: int | None = None) -> dict:
    """Everything stored about the resident, as plain JSON-ready values."""
    resident = _resident(resident_id)
    where_me = {"resident_id": resident_id}
    requests = db.session.scalars(
        select(HelpRequest).where(HelpRequest.requester_id == resident_id).order_by(HelpRequest.id)
    ).all()
    offers = db.session.scalars(
        select(Offer).where(Offer.helper_id == resident_id).order_by(Offer.id)
    ).all()
    matches = _my_matches(resident_id)
    data = {
        "exported_at": utcnow().isoformat(),
        "profile": _profile(resident),
        "consents": _simple(
            db.session.scalars(select(ConsentRecord).filter_by(**where_me)),
            "purpose",
            "method",
            "given_at",
            "withdrawn_at",
            "note",
        ),
        "requests": [_request_dict(r) for r in requests],
        "offers": [_offer_dict(o) for o in offers],
        "matches": [_match_dict(m, role) for m, role in matches],
        "messages": _messages(resident_id, [m.id for m, _ in matches]),
        "ties": _ties(resident_id),
        "notifications": _simple(
            db.session.scalars(
                select(Notification).filter_by(**where_me).order_by(Notification.id)
            ),
            "kind",
            "channel",
            "subject",
            "body",
            "status",
            "created_at",
            "read_at",
        ),
        "vog_records": _simple(
            db.session.scalars(select(VogRecord).filter_by(**where_me)),
            "issued_on",
            "expires_on",
            "screening_profile",
            "recorded_at",
        ),
        "vouches": _simple(
            db.session.scalars(select(Vouch).filter_by(**where_me)), "created_at", "revoked_at"
        ),
        "problem_reports": _simple(
            db.session.scalars(select(ProblemReport).filter_by(reporter_id=resident_id)),
            "body",
            "match_id",
            "request_id",
            "created_at",
            "handled_at",
        ),
        "contact_notes": _simple(
            db.session.scalars(select(ContactNote).filter_by(**where_me)),
            "method",
            "note",
            "created_at",
        ),
        "api_tokens": _simple(
            db.session.scalars(
                select(SecretToken).where(
                    SecretToken.purpose == "api", SecretToken.resident_id == resident_id
                )
            ),
            "label",
            "created_at",
            "last_used_at",
            "revoked_at",
        ),
        "audit_events": my_audit_trail(resident_id, per_page=10_000)[0],
    }
    for value in data["vog_records"]:
        for key in ("issued_on", "expires_on"):
            value[key] = value[key].isoformat() if value[key] else None
    record_event(actor_user_id, "export:resident", subject_resident_id=resident_id)
    commit()
    return data


# --- Who looked at my data ------------------------------------------------------------------


def my_audit_trail(resident_id: int, *, page: int = 1, per_page: int = 50) -> tuple[list, int]:
    """Which professionals did what with the resident's data and why, newest first; total."""
    query = (
        select(AuditEvent, User.display_name, User.role)
        .join(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.subject_resident_id == resident_id, User.role != "resident")
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    items = [
        {
            "at": _iso(event.at),
            "actor": name,
            "actor_role": role,
            "action": event.action,
            "reason": event.reason,
        }
        for event, name, role in rows
    ]
    return items, total


# --- Erasure --------------------------------------------------------------------------------


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


def erase_resident(resident_id: int, *, actor_user_id: int | None = None) -> int:
    """Erase the resident's personal data everywhere; tell the other side of matches in
    progress (without naming anyone). Returns how many of those were told."""
    resident = _resident(resident_id)
    now = utcnow()
    user_id = resident.account.id if resident.account else None
    in_progress = _cancel_matches(resident_id, now)
    _erase_requests_and_offers(resident_id, now)
    _erase_words(resident_id, user_id)
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
    _tell_the_other_side(in_progress)
    return len(in_progress)


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
