"""The demo logins' own story, so `make run` opens on something to do: the requester
(bewoner@) has an open request (the devserver's first matching run gives it suggestions), an
accepted match with a message thread and a finished match with thanks; the helper
(vrijwilliger@) also has an invitation from a neighbour waiting for a yes or no.

Deterministic: no randomness, times relative to `now`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..matching.explain import explain_one
from ..matching.geo import haversine_m
from ..models import Category, HelpRequest, Match, Message, Notification, Offer, Resident
from ..models.vocab import ALL_SLOTS
from .transactions import flush

STORY_CATEGORIES = ("boodschappen", "vervoer", "gezelschap", "klusjes")


def nearest(requester: Resident, candidates: list[Resident]) -> Resident:
    """The candidate living nearest to `requester` (ties: lowest id)."""
    return min(
        candidates,
        key=lambda p: (
            float(haversine_m(requester.home_lat, requester.home_lon, p.home_lat, p.home_lon)),
            p.id,
        ),
    )


def _request(person: Resident, category: Category, description: str, status: str, created):
    request = HelpRequest(
        requester_id=person.id,
        category_id=category.id,
        description=description,
        lat=person.home_lat,
        lon=person.home_lon,
        street=person.street,
        neighbourhood_id=person.neighbourhood_id,
        urgency="normal",
        slots=0,
        max_distance_m=5000,
        contact_channel="phone",
        status=status,
        created_at=created,
    )
    db.session.add(request)
    return request


def _match(request: HelpRequest, offer: Offer, requester: Resident, status: str, at) -> Match:
    distance = float(haversine_m(request.lat, request.lon, offer.lat, offer.lon))
    same = requester.neighbourhood_id == offer.neighbourhood_id
    match = Match(
        request_id=request.id,
        offer_id=offer.id,
        helper_id=offer.helper_id,
        status=status,
        proposed_by="resident",
        rank=1,
        score=0.8,
        distance_m=round(distance, 1),
        explanation_nl=explain_one(distance, False, same, 0, 0, False, "nl"),
        explanation_en=explain_one(distance, False, same, 0, 0, False, "en"),
        invited_by="requester",
        invited_at=at,
        status_changed_at=at,
    )
    db.session.add(match)
    return match


def _notification(resident_id: int, kind: str, match: Match, subject: str, body: str, at):
    db.session.add(
        Notification(
            idempotency_key=f"demo:{kind}:{match.id}:{resident_id}:in_app",
            resident_id=resident_id,
            request_id=match.request_id,
            match_id=match.id,
            kind=kind,
            channel="in_app",
            subject=subject,
            body=body,
            status="sent",
            created_at=at,
            sent_at=at,
        )
    )


def create_demo_story(
    requester: Resident, helper: Resident, neighbour: Resident, categories: dict, now
) -> dict[str, int]:
    """Add the story rows (not committed); returns how many requests and matches it added."""
    c = {code: categories[code] for code in STORY_CATEGORIES}
    # The helper's own offer grows to cover the story (a second offer would make the engine
    # suggest the same helper twice for one request).
    offer = db.session.scalar(
        select(Offer).where(Offer.helper_id == helper.id).order_by(Offer.id).limit(1)
    )
    offer.categories = list(dict.fromkeys([*offer.categories, *c.values()]))
    offer.radius_m, offer.slots, offer.capacity, offer.is_active = 5000, ALL_SLOTS, 3, True
    open_request = _request(
        requester,
        c["boodschappen"],
        "Wie wil elke week boodschappen voor mij doen bij de supermarkt?",
        "open",
        now - timedelta(hours=3),
    )
    ride = _request(
        requester,
        c["vervoer"],
        "Ik moet donderdag naar de huisarts. Wie kan mij brengen?",
        "matched",
        now - timedelta(days=2),
    )
    chat = _request(
        requester,
        c["gezelschap"],
        "Een kop koffie en een praatje zou ik fijn vinden.",
        "done",
        now - timedelta(days=20),
    )
    chat.closed_at = now - timedelta(days=14)
    odd_job = _request(
        neighbour,
        c["klusjes"],
        "Mijn tuinhek hangt scheef. Wie helpt het recht te zetten?",
        "open",
        now - timedelta(days=1),
    )
    flush()

    accepted = _match(ride, offer, requester, "accepted", now - timedelta(days=2, hours=-1))
    accepted.accepted_at = now - timedelta(days=1, hours=20)
    finished = _match(chat, offer, requester, "done", now - timedelta(days=19))
    finished.accepted_at = now - timedelta(days=18)
    finished.done_at = finished.status_changed_at = now - timedelta(days=14)
    finished.feedback_rating, finished.feedback_at = 5, now - timedelta(days=14)
    finished.thanks_note = "Wat een gezellige middag. Dank je wel!"
    invited = _match(odd_job, offer, neighbour, "invited", now - timedelta(hours=20))
    flush()

    thread = (
        (requester.id, "Fijn dat u mij wilt brengen! Om 10.15 uur moet ik er zijn.", 40),
        (helper.id, "Graag gedaan. Ik sta om 9.50 uur voor de deur.", 38),
        (requester.id, "Top, tot donderdag!", 37),
    )
    for sender, body, hours_ago in thread:
        db.session.add(
            Message(
                match_id=accepted.id,
                sender_resident_id=sender,
                body=body,
                created_at=now - timedelta(hours=hours_ago),
                read_at=None if sender == helper.id else now - timedelta(hours=36),
            )
        )
    db.session.add(
        Message(
            match_id=finished.id,
            sender_resident_id=requester.id,
            body="Nogmaals bedankt voor de koffie en het gezelschap.",
            created_at=now - timedelta(days=14),
            read_at=now - timedelta(days=13),
        )
    )
    _notification(
        helper.id,
        "match_invited",
        invited,
        "U bent uitgenodigd om te helpen",
        "Een buurtgenoot vraagt of u wilt helpen: klusjes. Kijk in mutualaid en zeg ja of nee.",
        now - timedelta(hours=20),
    )
    _notification(
        requester.id,
        "message",
        accepted,
        f"Nieuw bericht van {helper.first_name}",
        f"{helper.first_name} stuurde u een bericht over vervoer. Lees het in mutualaid.",
        now - timedelta(hours=38),
    )
    flush()
    return {"requests": 4, "matches": 3, "open_request_id": open_request.id}


def story_neighbour(helper: Resident, people: list[Resident], exclude: set[int]) -> Resident:
    """A neighbour of the helper (not a demo login) who invites the helper."""
    candidates = [p for p in people if p.id not in exclude and p.home_lat is not None]
    return nearest(helper, candidates)
