"""A resident's rights over their own data (AVG/GDPR): see it all (export) and see who
looked at it (audit trail). Erasure is in `erasure.py`.

Exports expire: nothing is stored, and a download is a one-time link (a hashed `export` token,
valid for EXPORT_LINK_MINUTES) that only its owner can open, once; the answer carries
`Cache-Control: no-store`, so neither a URL nor a cache hands the data out again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import (
    AuditEvent,
    ConsentRecord,
    ContactNote,
    HelpRequest,
    Match,
    Message,
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
from ..models.vocab import channel_codes, language_codes
from .audit import record_event
from .tokens import find_live_token, issue_token, spend_token
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


def _blocked(resident_id: int) -> list[dict]:
    """The residents I blocked (first name and when); who blocked me is not mine to see."""
    rows = db.session.execute(
        select(Resident.first_name, ResidentBlock.created_at)
        .join(ResidentBlock, ResidentBlock.blocked_id == Resident.id)
        .where(ResidentBlock.blocker_id == resident_id)
    ).all()
    return [{"first_name": name, "since": _iso(at)} for name, at in rows]


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
        "blocked": _blocked(resident_id),
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


def prepare_export(resident_id: int, user_id: int) -> tuple[str, datetime]:
    """A one-time download link's secret for the resident's data and when it expires.

    An earlier link that was not used yet stops working: one live link at a time."""
    _resident(resident_id)
    now = utcnow()
    db.session.execute(
        SecretToken.__table__.update()
        .where(
            SecretToken.purpose == "export",
            SecretToken.resident_id == resident_id,
            SecretToken.used_at.is_(None),
            SecretToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    minutes = current_app.config["EXPORT_LINK_MINUTES"]
    token, secret = issue_token(
        "export",
        user_id=user_id,
        resident_id=resident_id,
        valid_for=timedelta(minutes=minutes),
        created_by_user_id=user_id,
    )
    expires_at = token.expires_at
    commit()
    return secret, expires_at


def download_export(resident_id: int, user_id: int, secret: str) -> dict:
    """The resident's data behind a live link of theirs; the link is spent (404 otherwise)."""
    try:
        token = find_live_token("export", secret)
    except Invalid:
        token = None
    if token is None or token.resident_id != resident_id or token.user_id != user_id:
        # Expired, used, revoked, unknown or someone else's: the same answer for each.
        raise NotFound("this download link is not valid (any more)", field="code", rule="valid")
    spend_token(token)
    return export_my_data(resident_id, actor_user_id=user_id)


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
