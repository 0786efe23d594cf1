"""Demo data: a believable Hengelo with residents, requests, offers, ties and staff accounts.

Deterministic for a given seed: the same people, places and help every time (timestamps are
relative to today, so "newly active" stays newly active).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from shapely import prepare
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from tqdm import tqdm

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..matching.geo import haversine_m
from ..models import (
    Category,
    ConsentRecord,
    HelpRequest,
    Match,
    Neighbourhood,
    Offer,
    Resident,
    TrustTie,
    VogRecord,
    Vouch,
)
from ..models.base import utcnow
from ..models.vocab import DEFAULT_CATEGORIES, channel_mask, language_mask
from .accounts import create_user
from .demo_names import (
    EXTRA_LANGUAGES,
    FIRST_NAMES,
    LAST_NAMES,
    OFFER_TEXTS,
    REQUEST_TEXTS,
)
from .demo_story import create_demo_story, nearest, story_neighbour
from .second_factor import current_code, enrol_with_secret, is_enrolled, needs_second_factor
from .transactions import commit, flush

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MUNICIPALITY = "GM0164"
DEMO_PASSWORD = "hengelo-demo-2026"
DEMO_DOMAIN = "example.org"  # reserved for examples: demo mail never reaches anyone
# The demo staff accounts' second factor: this key in any authenticator app, or
# `flask --app wsgi demo-code EMAIL`, gives their codes. Public, so demo databases only.
DEMO_TOTP_SECRET = "BURENHULPDEMOHENGELOTWEEDESTAPXX"


@dataclass
class DemoResult:
    residents: int = 0
    requests: int = 0
    offers: int = 0
    ties: int = 0
    matches: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)


def database_has_residents() -> bool:
    """True when any resident exists (the demo then is not seeded again)."""
    return bool(db.session.scalar(select(func.count(Resident.id))))


def ensure_categories() -> dict[str, Category]:
    """The default help categories, created when missing."""
    existing = {c.code: c for c in db.session.scalars(select(Category))}
    used_bits = {c.bit for c in existing.values()}
    next_bit = 0
    for code, name_nl, name_en, requires_vog in DEFAULT_CATEGORIES:
        if code in existing:
            continue
        while next_bit in used_bits:
            next_bit += 1
        existing[code] = Category(
            code=code, bit=next_bit, name_nl=name_nl, name_en=name_en, requires_vog=requires_vog
        )
        used_bits.add(next_bit)
        db.session.add(existing[code])
    flush()
    return existing


def _neighbourhood_weight(name: str) -> float:
    """Where people live: business parks are almost empty, scattered houses sparse."""
    if name.startswith(("Bedrijventerrein", "Bedrijvenpark")):
        return 0.02
    if name.startswith("Verspreide huizen") or name.startswith("Stadspark"):
        return 0.15
    return 1.0


def _random_point_in(geometry, rng: random.Random) -> tuple[float, float]:
    minx, miny, maxx, maxy = geometry.bounds
    for _ in range(1000):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if geometry.contains(Point(lon, lat)):
            return round(lat, 6), round(lon, 6)
    point = geometry.representative_point()
    return point.y, point.x


def _slots(rng: random.Random, density: float) -> int:
    """A weekly availability pattern: each of the 21 slots free with the given chance."""
    mask = sum(1 << bit for bit in range(21) if rng.random() < density)
    return mask or 1 << rng.randrange(21)


class _Town:
    """The neighbourhoods of the demo municipality, with streets and prepared polygons."""

    def __init__(self, rng: random.Random) -> None:
        rows = db.session.scalars(
            select(Neighbourhood)
            .where(Neighbourhood.municipality_code == MUNICIPALITY)
            .order_by(Neighbourhood.code)
        ).all()
        if not rows:
            from .neighbourhoods import import_neighbourhoods

            import_neighbourhoods(DATA_DIR / "buurt_2023_hengelo.geojson")
            rows = db.session.scalars(
                select(Neighbourhood)
                .where(Neighbourhood.municipality_code == MUNICIPALITY)
                .order_by(Neighbourhood.code)
            ).all()
        self.neighbourhoods = rows
        self.geometries = [shape(json.loads(n.geometry_geojson)) for n in rows]
        for geometry in self.geometries:
            prepare(geometry)
        self.weights = [_neighbourhood_weight(n.name) for n in rows]
        streets = (DATA_DIR / "hengelo_streets.txt").read_text(encoding="utf-8").split("\n")
        streets = [s.strip() for s in streets if s.strip()]
        rng.shuffle(streets)
        # Each neighbourhood gets its own handful of streets, so "same street" means nearby.
        self.streets = {
            n.id: [streets[(i * 3 + k) % len(streets)] for k in range(3)]
            for i, n in enumerate(rows)
        }

    def place(self, rng: random.Random) -> tuple[Neighbourhood, float, float, str]:
        index = rng.choices(range(len(self.neighbourhoods)), weights=self.weights)[0]
        neighbourhood = self.neighbourhoods[index]
        lat, lon = _random_point_in(self.geometries[index], rng)
        return neighbourhood, lat, lon, rng.choice(self.streets[neighbourhood.id])


def seed_demo(seed: int = 20261122, residents: int = 400, progress: bool = False) -> DemoResult:
    """Create the demo town in one transaction; refuses when residents already exist."""
    if database_has_residents():
        raise Conflict(
            "the database already has residents; seed the demo into an empty one",
            field="database",
            rule="empty",
        )
    if not 20 <= residents <= 20000:
        raise Invalid("residents must be between 20 and 20000", field="residents", rule="range")
    rng = random.Random(seed)
    now = utcnow()
    town = _Town(rng)
    categories = ensure_categories()
    result = DemoResult()

    staff = _create_staff(town, result)
    people = _create_residents(town, rng, residents, staff, now, progress)
    result.residents = len(people)
    helpers = _create_offers(people, categories, rng, result)
    _create_vogs_and_vouches(helpers, staff, rng, now)
    _create_requests_and_matches(people, helpers, categories, staff, rng, now, result)
    requester, helper = _create_resident_logins(people, helpers, result)
    neighbour = story_neighbour(helper, people, {requester.id, helper.id})
    story = create_demo_story(requester, helper, neighbour, categories, now)
    result.requests += story["requests"]
    result.matches += story["matches"]
    _create_ties(people, rng, result)
    commit()
    return result


def _create_staff(town: _Town, result: DemoResult) -> dict:
    """Three community workers over the districts, a municipality user and an admin."""
    districts = sorted({n.district_code for n in town.neighbourhoods})
    teams = {"noord": districts[0::3], "oost": districts[1::3], "zuid": districts[2::3]}
    workers = []
    for area, team_districts in teams.items():
        codes = [n.code for n in town.neighbourhoods if n.district_code in team_districts]
        email = f"wijkcoach.{area}@{DEMO_DOMAIN}"
        worker = create_user(
            email,
            DEMO_PASSWORD,
            "worker",
            f"Wijkcoach {area.title()}",
            neighbourhood_codes=codes,
            commit_now=False,
        )
        enrol_with_secret(worker, DEMO_TOTP_SECRET)
        workers.append(worker)
        result.logins.append(("worker", email))
    for role, local, name, extra in (
        ("municipality", "gemeente", "Gemeente Hengelo", {"municipality_code": MUNICIPALITY}),
        ("admin", "beheer", "Beheerder", {}),
    ):
        user = create_user(
            f"{local}@{DEMO_DOMAIN}", DEMO_PASSWORD, role, name, commit_now=False, **extra
        )
        enrol_with_secret(user, DEMO_TOTP_SECRET)
        result.logins.append((role, f"{local}@{DEMO_DOMAIN}"))
    by_neighbourhood = {}
    for worker in workers:
        for neighbourhood in worker.neighbourhoods:
            by_neighbourhood[neighbourhood.id] = worker
    return {"workers": workers, "by_neighbourhood": by_neighbourhood}


def _create_residents(
    town: _Town, rng: random.Random, count: int, staff: dict, now, progress: bool
) -> list[Resident]:
    people = []
    for index in tqdm(range(count), desc="Residents", disable=not progress, unit="res"):
        neighbourhood, lat, lon, street = town.place(rng)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        languages = ["nl"] + [code for code, chance in EXTRA_LANGUAGES if rng.random() < chance]
        self_service = rng.random() < 0.8
        newly_active = rng.random() < 0.05
        days_active = rng.randint(1, 27) if newly_active else rng.randint(60, 900)
        worker = staff["by_neighbourhood"].get(neighbourhood.id)
        slug = f"{first}.{last}".lower().replace(" ", "").replace("ş", "s").replace("ë", "e")
        resident = Resident(
            first_name=first,
            last_name=last,
            email=f"{slug}.{index}@{DEMO_DOMAIN}" if self_service else None,
            phone=f"06{rng.randrange(10**7, 10**8)}"
            if (not self_service or rng.random() < 0.6)
            else None,
            street=street,
            house_number=str(rng.randint(1, 180)),
            postcode=f"75{rng.randint(50, 59)}{rng.choice('ABCDEGHJKLMNPRSTVWXZ')}"
            f"{rng.choice('ABCDEGHJKLMNPRSTVWXZ')}",
            home_lat=lat,
            home_lon=lon,
            neighbourhood_id=neighbourhood.id,
            language_mask=language_mask(languages),
            channel_mask=channel_mask(
                ["phone", "in_person"]
                if not self_service
                else rng.sample(["phone", "message", "video", "in_person"], k=2)
            ),
            self_service=self_service,
            known_to_services=rng.random() < 0.2,
            first_active_at=now - timedelta(days=days_active),
            registered_by_user_id=None if self_service or worker is None else worker.id,
        )
        if not self_service and worker is None:
            resident.phone = resident.phone or f"06{rng.randrange(10**7, 10**8)}"
        people.append(resident)
    db.session.add_all(people)
    flush()
    db.session.add_all(
        ConsentRecord(
            resident_id=p.id,
            purpose="matching",
            method="online" if p.self_service else rng.choice(["phone", "in_person"]),
            given_at=p.first_active_at,
            recorded_by_user_id=p.registered_by_user_id,
        )
        for p in people
    )
    flush()
    return people


def _create_offers(
    people: list[Resident], categories: dict[str, Category], rng: random.Random, result: DemoResult
) -> list[Offer]:
    codes = sorted(categories)
    offers = []
    for person in people:
        if rng.random() >= 0.45:
            continue
        chosen = rng.sample(codes, k=rng.randint(1, 3))
        offers.append(
            Offer(
                helper_id=person.id,
                description=rng.choice(OFFER_TEXTS),
                lat=person.home_lat,
                lon=person.home_lon,
                street=person.street,
                neighbourhood_id=person.neighbourhood_id,
                radius_m=rng.choice([1000, 1500, 2000, 3000, 5000]),
                slots=_slots(rng, rng.choice([0.2, 0.35, 0.6])),
                capacity=rng.choice([1, 1, 2, 3]),
                language_mask=person.language_mask,
                is_active=rng.random() < 0.9,
                categories=[categories[c] for c in chosen],
            )
        )
    db.session.add_all(offers)
    flush()
    result.offers = len(offers)
    return offers


def _create_vogs_and_vouches(offers: list[Offer], staff: dict, rng: random.Random, now) -> None:
    helper_ids = sorted({o.helper_id for o in offers})
    for helper_id in helper_ids:
        if rng.random() < 0.15:
            issued = (now - timedelta(days=rng.randint(30, 1400))).date()  # some expired
            db.session.add(
                VogRecord(
                    resident_id=helper_id,
                    issued_on=issued,
                    recorded_by_user_id=rng.choice(staff["workers"]).id,
                )
            )
        if rng.random() < 0.1:
            db.session.add(
                Vouch(
                    resident_id=helper_id,
                    worker_user_id=rng.choice(staff["workers"]).id,
                    note="Kent de buurt goed, betrouwbaar.",
                )
            )
    flush()


REQUEST_STATUS_WEIGHTS = (
    ("open", 0.65),
    ("matched", 0.12),
    ("done", 0.15),
    ("cancelled", 0.04),
    ("expired", 0.04),
)


def _create_requests_and_matches(people, offers, categories, staff, rng, now, result) -> None:
    codes = sorted(categories)
    statuses, weights = zip(*REQUEST_STATUS_WEIGHTS, strict=True)
    requests = []
    for person in people:
        if rng.random() >= 0.35:
            continue
        for _ in range(1 if rng.random() < 0.8 else 2):
            code = rng.choice(codes)
            worker = (
                None
                if person.self_service
                else staff["by_neighbourhood"].get(person.neighbourhood_id)
            )
            consent = None
            if worker is not None:
                consent = ConsentRecord(
                    resident_id=person.id,
                    purpose="matching",
                    method="phone",
                    recorded_by_user_id=worker.id,
                )
                db.session.add(consent)
                flush()
            window = rng.random() < 0.3
            start = (now + timedelta(days=rng.randint(1, 10))).date() if window else None
            requests.append(
                HelpRequest(
                    requester_id=person.id,
                    category_id=categories[code].id,
                    description=rng.choice(REQUEST_TEXTS[code]),
                    lat=person.home_lat,
                    lon=person.home_lon,
                    street=person.street,
                    neighbourhood_id=person.neighbourhood_id,
                    urgency=rng.choice(["low", "normal", "normal", "high"]),
                    slots=0 if rng.random() < 0.2 else _slots(rng, 0.15),
                    window_start=start,
                    window_end=start + timedelta(days=rng.randint(0, 7)) if start else None,
                    recurring=rng.random() < 0.3,
                    max_distance_m=rng.choice([2000, 3000, 5000]),
                    needs_vog=categories[code].requires_vog,
                    needs_shared_language=not (person.language_mask & 1),
                    status=rng.choices(statuses, weights=weights)[0],
                    registered_by_user_id=worker.id if worker else None,
                    consent_id=consent.id if consent else None,
                    created_at=now - timedelta(days=rng.randint(0, 60)),
                )
            )
    db.session.add_all(requests)
    flush()
    result.requests = len(requests)
    result.matches = _create_past_matches(requests, offers, categories, rng, now)


def _create_past_matches(requests, offers, categories, rng, now) -> int:
    """Give matched and done requests the nearest fitting helper (as a worker would have)."""
    lats = np.array([o.lat for o in offers])
    lons = np.array([o.lon for o in offers])
    category_bits = {c.id: c.code for c in categories.values()}
    matches = []
    for request in requests:
        if request.status not in ("matched", "done"):
            continue
        distances = haversine_m(request.lat, request.lon, lats, lons)
        code = category_bits[request.category_id]
        for index in np.argsort(distances, kind="stable"):
            offer = offers[int(index)]
            if (
                offer.helper_id != request.requester_id
                and offer.is_active
                and any(c.code == code for c in offer.categories)
                and distances[index] <= min(offer.radius_m, request.max_distance_m)
            ):
                break
        else:
            request.status = "open"  # nobody fits: it stays open, as it would in real life
            continue
        done = request.status == "done"
        changed = request.created_at + timedelta(days=rng.randint(1, 5))
        matches.append(
            Match(
                request_id=request.id,
                offer_id=offer.id,
                helper_id=offer.helper_id,
                status="done" if done else "accepted",
                proposed_by=rng.choice(["worker", "resident"]),
                distance_m=round(float(distances[index]), 1),
                status_changed_at=changed,
                feedback_rating=rng.choice([4, 5, 5]) if done else None,
                explanation_nl="Gekoppeld door de wijkcoach",
                explanation_en="Matched by a worker",
            )
        )
        if done:
            request.closed_at = changed
    db.session.add_all(matches)
    flush()
    return len(matches)


def _tie(ties: dict, a: int, b: int, kind: str, weight: float) -> None:
    if a == b:
        return
    key = (min(a, b), max(a, b), kind)
    ties[key] = max(weight, ties.get(key, 0.0))


def _create_ties(people: list[Resident], rng: random.Random, result: DemoResult) -> None:
    """Neighbours who know each other, members of local clubs, and who helped whom."""
    ties: dict[tuple[int, int, str], float] = {}
    by_street: dict[tuple, list[Resident]] = {}
    for person in people:
        by_street.setdefault((person.neighbourhood_id, person.street), []).append(person)
    for neighbours in by_street.values():
        for i, a in enumerate(neighbours):
            for b in neighbours[i + 1 :]:
                if rng.random() < 0.25:
                    _tie(ties, a.id, b.id, "knows", round(rng.uniform(0.5, 0.9), 2))
    for _club in range(8):  # sports clubs, church, the community centre's coffee morning
        members = rng.sample(people, k=rng.randint(6, 14))
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                _tie(ties, a.id, b.id, "group", 0.4)
    for match in db.session.scalars(select(Match).where(Match.status == "done")):
        requester_id = db.session.get(HelpRequest, match.request_id).requester_id
        _tie(ties, requester_id, match.helper_id, "helped", 0.8)
    db.session.add_all(
        TrustTie(resident_a_id=a, resident_b_id=b, kind=kind, weight=w, confirmed_at=utcnow())
        for (a, b, kind), w in sorted(ties.items())
    )
    flush()
    result.ties = len(ties)


def _create_resident_logins(
    people: list[Resident], offers: list[Offer], result: DemoResult
) -> tuple[Resident, Resident]:
    """Accounts for one resident who asks for help and one who offers it (returned)."""
    helper_ids = {o.helper_id for o in offers}
    online = [p for p in people if p.self_service and p.email]
    requester = next(p for p in online if p.id not in helper_ids)
    # The nearest online helper, so the demo's suggestions and invitations are close by.
    helper = nearest(requester, [p for p in online if p.id in helper_ids])
    for role_label, person, local in (
        ("resident", requester, "bewoner"),
        ("resident", helper, "vrijwilliger"),
    ):
        email = f"{local}@{DEMO_DOMAIN}"
        person.email = email
        create_user(
            email,
            DEMO_PASSWORD,
            "resident",
            person.first_name,
            resident_id=person.id,
            commit_now=False,
        )
        result.logins.append((f"{role_label} ({local})", email))
    return requester, helper


def demo_logins() -> list[tuple[str, str]]:
    """The demo accounts that exist in this database (role, email)."""
    from ..models import User

    wanted = [f"wijkcoach.{a}@{DEMO_DOMAIN}" for a in ("noord", "oost", "zuid")] + [
        f"gemeente@{DEMO_DOMAIN}",
        f"beheer@{DEMO_DOMAIN}",
        f"bewoner@{DEMO_DOMAIN}",
        f"vrijwilliger@{DEMO_DOMAIN}",
    ]
    found = dict(
        db.session.execute(select(User.email, User.role).where(User.email.in_(wanted))).all()
    )
    return [(found[email], email) for email in wanted if email in found]


def demo_code(email: str) -> str:
    """The current second-factor code of a staff account (the demo's `flask demo-code`).

    A demo staff account from a database seeded before the second factor existed gets the
    demo key first, so an old demo keeps working."""
    from ..models import User
    from .accounts import normalise_email

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not needs_second_factor(user):
        raise NotFound("no staff account with this email address", field="email")
    if not is_enrolled(user):
        if not user.email.endswith("@" + DEMO_DOMAIN):
            raise Conflict(
                "this account has no second factor yet: it sets one up at its next sign-in",
                field="email",
                rule="not_enrolled",
            )
        enrol_with_secret(user, DEMO_TOTP_SECRET)
        commit()
    return current_code(user)
