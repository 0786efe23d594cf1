"""Assisted intake: a community worker registers a resident who is not online (phone, walk-in,
home visit), records their consent on their behalf, and asks or offers help for them.

Such a resident never needs to log in: they are reached through the worker or by phone
(`self_service=False`, `registered_by_user_id`). Every step is audited. The resident's page
for a worker (`resident_profile`) is an audited view of their data.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from sqlalchemy import or_, select

from ..errors import DomainError, Invalid
from ..extensions import db
from ..models import (
    ConsentRecord,
    HelpRequest,
    Match,
    Neighbourhood,
    Offer,
    Resident,
    SecretToken,
    VogRecord,
    Vouch,
)
from ..models.base import utcnow
from ..models.vocab import channel_codes, channel_mask, language_codes, language_mask
from .aid import post_request
from .audit import record_event, record_view
from .casework import in_scope, scope_ids, scoped_resident, undone_on_error
from .geocoding import geocode_address
from .neighbourhoods import assign_neighbourhood
from .offers import post_offer
from .transactions import commit, flush
from .validation import require_choice, require_text

# How a worker can have heard a resident's consent (online consent is given by the resident).
ASSISTED_CONSENT_METHODS = ("phone", "in_person", "home_visit", "paper")
POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,30}$")


def _postcode(value) -> str | None:
    text = require_text("postcode", value, max_length=8, required=False)
    if not text:
        return None
    found = POSTCODE.match(text)
    if not found:
        raise Invalid("postcode must look like 1234 AB", field="postcode", rule="format")
    return f"{found.group(1)}{found.group(2).upper()}"


def _phone(value) -> str | None:
    text = require_text("phone", value, max_length=32, required=False)
    if text and not PHONE.match(text):
        raise Invalid("phone must be a phone number", field="phone", rule="format")
    return text or None


def _codes(field: str, values, to_mask) -> int:
    if isinstance(values, str):
        values = [v for v in re.split(r"[,\s]+", values) if v]
    try:
        return to_mask(list(values or []))
    except (TypeError, ValueError) as exc:
        raise Invalid(str(exc), field=field, rule="known") from None


def _consent_date(value) -> datetime:
    """When consent was given: a date (not in the future), as a UTC moment; default now."""
    if value in (None, ""):
        return utcnow()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise Invalid(
                "consent_date must be a date (YYYY-MM-DD)", field="consent_date", rule="date"
            ) from None
    if isinstance(value, datetime):
        value = value.date()
    if value > utcnow().date():
        raise Invalid("consent_date lies in the future", field="consent_date", rule="not_future")
    if value == utcnow().date():
        return utcnow()
    return datetime.combine(value, time(12, 0), tzinfo=UTC)


def _geocode(street, house_number, postcode) -> tuple[tuple[float, float] | None, str | None]:
    """The point of the address from the geocoder, and how the lookup went (None: no address).

    A malformed address is refused (Invalid naming the field); an unreachable or unconfigured
    geocoder is not: the worker's choice of neighbourhood stands in."""
    if not (postcode and house_number):
        return None, None
    try:
        outcome = geocode_address(postcode, house_number, street)
    except Invalid:
        raise
    except Exception:  # an unreachable geocoder must not stop the intake
        return None, "unavailable"
    if outcome.found and outcome.lat is not None:
        return (float(outcome.lat), float(outcome.lon)), "found"
    return None, outcome.status


def _locate(
    scope: set[int] | None, lat, lon, neighbourhood_code, found: tuple[float, float] | None
) -> tuple[float, float, Neighbourhood, str]:
    """A home point in the worker's area: a point on the map, the geocoded address, else the
    neighbourhood the worker chose."""
    if lat not in (None, "") or lon not in (None, ""):
        neighbourhood = assign_neighbourhood(lat, lon)
        point, source = (float(lat), float(lon)), "map"
    elif found is not None:
        neighbourhood = assign_neighbourhood(*found)
        point, source = found, "geocoder"
    elif neighbourhood_code:
        neighbourhood = db.session.scalar(
            select(Neighbourhood).where(Neighbourhood.code == neighbourhood_code)
        )
        if neighbourhood is None:
            raise Invalid(
                "neighbourhood is not a known neighbourhood", field="neighbourhood", rule="exists"
            )
        # Without an exact address the neighbourhood's inner point stands in for home.
        point, source = (neighbourhood.centroid_lat, neighbourhood.centroid_lon), "worker"
    else:
        raise Invalid(
            "choose the neighbourhood or place the home on the map",
            field="neighbourhood",
            rule="required",
        )
    if not in_scope(scope, neighbourhood.id):
        raise Invalid(
            "this place lies outside your neighbourhoods",
            field="neighbourhood",
            rule="neighbourhood_scope",
        )
    return point[0], point[1], neighbourhood, source


def register_resident(
    actor_id: int,
    *,
    first_name,
    consent_method,
    last_name=None,
    phone=None,
    street=None,
    house_number=None,
    postcode=None,
    lat=None,
    lon=None,
    neighbourhood=None,
    languages=("nl",),
    channels=("phone",),
    consent_date=None,
    consent_note=None,
) -> Resident:
    """Register an offline resident with consent recorded on their behalf (audited)."""
    scope = scope_ids(actor_id)
    method = require_choice("consent_method", consent_method, ASSISTED_CONSENT_METHODS)
    given_at = _consent_date(consent_date)
    code = _postcode(postcode)
    has_point = lat not in (None, "") or lon not in (None, "")
    found, geocode_status = (None, None) if has_point else _geocode(street, house_number, code)
    home_lat, home_lon, area, source = _locate(scope, lat, lon, neighbourhood, found)
    with undone_on_error():
        resident = _new_resident(
            actor_id,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            street=street,
            house_number=house_number,
            postcode=code,
            point=(home_lat, home_lon),
            area=area,
            source=source,
            geocode_status=geocode_status,
            languages=languages,
            channels=channels,
        )
        db.session.add(
            ConsentRecord(
                resident_id=resident.id,
                purpose="matching",
                method=method,
                given_at=given_at,
                recorded_by_user_id=actor_id,
                note=require_text("consent_note", consent_note, max_length=1000, required=False)
                or None,
            )
        )
    record_event(
        actor_id,
        "resident.intake",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
        detail={"consent_method": method, "location_source": source},
    )
    commit()
    return resident


def _new_resident(actor_id: int, *, point, area, source, geocode_status, **values) -> Resident:
    """The offline resident's row, flushed (validated field by field)."""
    first_name, last_name, phone = values["first_name"], values["last_name"], values["phone"]
    street, house_number = values["street"], values["house_number"]
    languages, channels = values["languages"], values["channels"]
    home_lat, home_lon = point
    resident = Resident(
        first_name=require_text("first_name", first_name, max_length=80),
        last_name=require_text("last_name", last_name, max_length=120, required=False) or None,
        phone=_phone(phone),
        street=require_text("street", street, max_length=120, required=False) or None,
        house_number=require_text("house_number", house_number, max_length=16, required=False)
        or None,
        postcode=values["postcode"],
        home_lat=home_lat,
        home_lon=home_lon,
        neighbourhood_id=area.id,
        location_source=source,
        geocode_status=geocode_status,
        language_mask=_codes("languages", languages, language_mask) or 1,
        channel_mask=_codes("channels", channels, channel_mask),
        self_service=False,
        known_to_services=True,  # they came in through a community worker
        registered_by_user_id=actor_id,
    )
    db.session.add(resident)
    flush()
    return resident


def request_help_for(actor_id: int, resident_id: int, consent_method, **values) -> HelpRequest:
    """Ask help on the resident's behalf (consent for it recorded by the worker; audited)."""
    resident = scoped_resident(actor_id, resident_id)
    require_choice("consent_method", consent_method, ASSISTED_CONSENT_METHODS)
    record_event(
        actor_id,
        "request.on_behalf",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
        detail={"category": values.get("category")},
    )
    try:  # post_request commits the event together with the request
        return post_request(
            resident.id, registered_by_user_id=actor_id, consent_method=consent_method, **values
        )
    except DomainError:
        db.session.rollback()
        raise


def offer_help_for(actor_id: int, resident_id: int, **values) -> Offer:
    """Offer help on the resident's behalf (audited)."""
    resident = scoped_resident(actor_id, resident_id)
    record_event(
        actor_id,
        "offer.on_behalf",
        subject_resident_id=resident.id,
        object_type="resident",
        object_id=resident.id,
        detail={"categories": list(values.get("categories") or [])},
    )
    try:
        return post_offer(resident.id, **values)
    except DomainError:
        db.session.rollback()
        raise


def _matches_of(resident_id: int) -> list[dict]:
    rows = db.session.execute(
        select(Match, HelpRequest.requester_id)
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(
            or_(HelpRequest.requester_id == resident_id, Match.helper_id == resident_id),
            Match.status != "suggested",
        )
        .order_by(Match.status_changed_at.desc())
    ).all()
    return [
        {
            "id": m.id,
            "request_id": m.request_id,
            "role": "requester" if requester_id == resident_id else "helper",
            "status": m.status,
            "status_changed_at": m.status_changed_at,
        }
        for m, requester_id in rows
    ]


def resident_profile(actor_id: int, resident_id: int, reason: str | None = None) -> dict:
    """Everything a worker needs about one resident in their area (an audited view)."""
    resident = scoped_resident(actor_id, resident_id)
    requests = list(
        db.session.scalars(
            select(HelpRequest)
            .where(HelpRequest.requester_id == resident.id)
            .order_by(HelpRequest.created_at.desc())
        )
    )
    offers = list(
        db.session.scalars(
            select(Offer).where(Offer.helper_id == resident.id).order_by(Offer.created_at.desc())
        )
    )
    vogs = list(
        db.session.scalars(
            select(VogRecord)
            .where(VogRecord.resident_id == resident.id)
            .order_by(VogRecord.issued_on.desc())
        )
    )
    vouches = list(db.session.scalars(select(Vouch).where(Vouch.resident_id == resident.id)))
    consents = list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.resident_id == resident.id)
            .order_by(ConsentRecord.given_at.desc())
        )
    )
    live_code = db.session.scalar(
        select(SecretToken.expires_at).where(
            SecretToken.resident_id == resident.id,
            SecretToken.purpose == "activation",
            SecretToken.used_at.is_(None),
            SecretToken.revoked_at.is_(None),
            SecretToken.expires_at > utcnow(),
        )
    )
    record_view(actor_id, "resident", [resident.id], reason=reason or "resident page")
    return {
        "resident": resident,
        "neighbourhood": resident.neighbourhood.name if resident.neighbourhood else None,
        "languages": language_codes(resident.language_mask),
        "channels": channel_codes(resident.channel_mask),
        "has_account": resident.account is not None,
        "handover_code_expires_at": live_code,
        "requests": requests,
        "offers": offers,
        "matches": _matches_of(resident.id),
        "vogs": vogs,
        "vouches": vouches,
        "active_vouch_by_actor": any(
            v.worker_user_id == actor_id and v.revoked_at is None for v in vouches
        ),
        "consents": consents,
    }
