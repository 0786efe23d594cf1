"""Erasure completeness: after a resident is erased, a dump of every table and a scan of every
Redis key contain none of their identifying strings.

The world is rich on purpose: registered by a worker with phone and address, handed over and
activated with an email, a request at another address, offers, matches in every state,
messages both ways, thanks, a problem report, ties, blocks, notifications (in-app and email),
audit events, geocoder cache rows, API tokens and jobs queued and run by a real worker.

Decision (documented in erasure.py): what OTHER people wrote stays theirs. A message Bert
wrote that quotes Zoë's address is Bert's text in Bert's thread and is kept; the scan skips
exactly that row and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import zlib

import pytest
from rq.registry import FailedJobRegistry
from rq.results import Result
from sqlalchemy import select

from mutualaid.background import enqueue, get_queue, get_redis
from mutualaid.extensions import db
from mutualaid.models import Match, Message, Notification, Resident, TrustTie
from mutualaid.models.base import utcnow
from mutualaid.services import geocoding
from mutualaid.services.aid import post_request
from mutualaid.services.api_tokens import create_api_token
from mutualaid.services.audit import record_view
from mutualaid.services.demo import ensure_categories
from mutualaid.services.erasure import erase_resident
from mutualaid.services.handover import activate_account, issue_handover_code
from mutualaid.services.helping import accept_match, give_thanks
from mutualaid.services.intake import register_resident as intake_register
from mutualaid.services.inviting import invite_helper
from mutualaid.services.messages import post_message
from mutualaid.services.notifications import notify
from mutualaid.services.offers import post_offer
from mutualaid.services.problems import report_problem
from mutualaid.services.ties import block_resident
from mutualaid.services.transactions import commit
from tests import builders
from tests.casework import CENTRE_CODE, resident_in, staff
from tests.geocoder_server import (
    BORDER_ADDRESS,
    CENTRE_ADDRESS,
    geocoder_server,  # noqa: F401 (fixture)
    use_geocoder,
)
from tests.integration.worker_helpers import running_worker, wait_for

EMAIL = "zoe.quokkaberg@example.org"
PHONE = "06 4711 0815"
LAST_NAME = "Quokkaberg"
FIRST_NAME = "Zoëlientje"
HOUSE = f"{CENTRE_ADDRESS.street} {CENTRE_ADDRESS.huisnummer}"
OTHER_ADDRESS = f"{BORDER_ADDRESS.street} {BORDER_ADDRESS.huisnummer}"
REQUEST_TEXT = "Wie tilt mijn rode bank naar boven, vraagt Zoë"
OFFER_TEXT = "Ik doe graag boodschappen met de bakfiets-pelikaan"
MESSAGE_TEXT = "De deurcode is 4711-walrus"
THANKS_TEXT = "Dank voor de tuinkabouter-hulp"
PROBLEM_TEXT = "De helper kwam niet, zegt de zebra-melding"
CONTACT_NOTE = "Belde over de tuinkabouter"


def identifying_strings() -> list[str]:
    """What must be gone: contact details, address, names and the texts Zoë wrote."""
    return [
        EMAIL,
        EMAIL.split("@")[0],
        PHONE,
        PHONE.replace(" ", ""),
        LAST_NAME,
        FIRST_NAME,
        HOUSE,
        CENTRE_ADDRESS.postcode,
        f"{CENTRE_ADDRESS.postcode[:4]} {CENTRE_ADDRESS.postcode[4:]}",
        OTHER_ADDRESS,
        BORDER_ADDRESS.postcode,
        f"{BORDER_ADDRESS.postcode[:4]} {BORDER_ADDRESS.postcode[4:]}",
        REQUEST_TEXT,
        OFFER_TEXT,
        MESSAGE_TEXT,
        THANKS_TEXT,
        PROBLEM_TEXT,
    ]


@pytest.fixture
def town(hengelo, geocoder_server, monkeypatch):  # noqa: F811
    ensure_categories()
    for name in ("default", "matching", "notifications"):
        get_queue(name).empty()
    use_geocoder(monkeypatch, hengelo, "pdok", geocoder_server.url)
    hengelo.config.update(SMTP_HOST="", SMS_CHANNEL="", WAVE_SIZE=3)
    return hengelo


def _match(request_id: int, offer_id: int, helper_id: int, status: str, **extra) -> Match:
    match = Match(
        request_id=request_id,
        offer_id=offer_id,
        helper_id=helper_id,
        status=status,
        score=0.7,
        rank=1,
        **extra,
    )
    db.session.add(match)
    db.session.flush()
    return match


def _request(owner: Resident, text: str) -> int:
    request = builders.help_request(owner, description=text)
    db.session.flush()
    return request.id


def build_world(worker) -> tuple[int, int]:
    """Zoë and her neighbours, with something of every kind; (Zoë's id, Bert's id)."""
    zoe = intake_register(
        worker.id,
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        consent_method="phone",
        phone=PHONE,
        street=CENTRE_ADDRESS.street,
        house_number=str(CENTRE_ADDRESS.huisnummer),
        postcode=CENTRE_ADDRESS.postcode,
        consent_note="toestemming telefonisch",
    )
    zoe_id = zoe.id
    handover = issue_handover_code(worker.id, zoe_id)
    user = activate_account(handover["code"], EMAIL, "een-lang-wachtwoord")
    create_api_token(user.id, "telefoon")
    geocoding.request_home_geocoding(zoe_id)  # a geocode job waits in Redis
    record_view(worker.id, "resident", [zoe_id], reason="intake")

    bert = resident_in(CENTRE_CODE, 80, first_name="Bert", email="bert@example.org")
    carl = resident_in(CENTRE_CODE, 160, first_name="Carl", email="carl@example.org")
    db.session.commit()
    bert_id, carl_id = bert.id, carl.id

    own = post_request(
        zoe_id,
        category="boodschappen",
        description=REQUEST_TEXT,
        address_line=OTHER_ADDRESS,
        postcode=BORDER_ADDRESS.postcode,
    )
    home = post_request(zoe_id, category="klusjes", description=REQUEST_TEXT + " (2)")
    zoe_offer = post_offer(zoe_id, categories=["boodschappen"], description=OFFER_TEXT)
    bert_offer = builders.offer(bert)
    bert_request = builders.help_request(bert, description="Bert zoekt hulp")
    carl_request = builders.help_request(carl, description="Carl zoekt hulp")
    db.session.flush()
    # Matches in every state, on both sides.
    accepted = _match(own.id, bert_offer.id, bert_id, "suggested")
    _match(home.id, bert_offer.id, bert_id, "declined", declined_by="helper")
    _match(bert_request.id, zoe_offer.id, zoe_id, "suggested")
    _match(carl_request.id, zoe_offer.id, zoe_id, "invited", invited_at=utcnow())
    done = _match(
        _request(bert, "eerder"),
        zoe_offer.id,
        zoe_id,
        "done",
        invited_at=utcnow(),
        accepted_at=utcnow(),
        done_at=utcnow(),
        thanks_note="Bert bedankt de helper",
    )
    for status in ("cancelled", "expired"):
        _match(_request(carl, "later"), zoe_offer.id, zoe_id, status)
    commit()
    invite_helper(accepted.id, zoe_id)
    accept_match(accepted.id, bert_id)
    post_message(accepted.id, zoe_id, MESSAGE_TEXT)
    post_message(accepted.id, bert_id, f"Ik kom naar {HOUSE}, tot zo!")
    give_thanks(accepted.id, zoe_id, 5, THANKS_TEXT)
    report_problem(zoe_id, body=PROBLEM_TEXT, match_id=done.id)
    db.session.add(
        TrustTie(
            resident_a_id=min(zoe_id, bert_id),
            resident_b_id=max(zoe_id, bert_id),
            kind="knows",
            weight=0.5,
        )
    )
    commit()
    block_resident(zoe_id, carl_id)
    notify(zoe_id, "custom", "custom:zoe", "Voor Zoë", f"Hallo {FIRST_NAME}, {HOUSE}")
    db.session.add(
        Notification(
            resident_id=zoe_id,
            kind="custom",
            channel="email",
            idempotency_key="email:zoe",
            subject=f"Aan {EMAIL}",
            body=f"{FIRST_NAME} {LAST_NAME}, {PHONE}",
            status="sent",
        )
    )
    commit()
    enqueue("mutualaid.jobs.match_request", own.id, queue="matching")
    return zoe_id, bert_id


def fail_job(request_id: int, error: str):
    """A notification job that failed with this error text, stored as rq's worker does."""
    queue = get_queue("notifications")
    job = enqueue("mutualaid.jobs.notify_next_wave", request_id, queue="notifications")
    queue.remove(job)
    FailedJobRegistry(queue=queue).add(job, ttl=3600, exc_string=error)
    Result.create_failure(job, ttl=3600, exc_string=error)
    return job


def dump_database() -> list[tuple[str, str, str]]:
    """(table, row key, text) for every text-ish value of every row of every table."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            key = json.dumps({c.name: row[c.name] for c in table.primary_key.columns}, default=str)
            for column in table.columns:
                value = row[column.name]
                if value is None or isinstance(value, int | float | bool):
                    continue
                text = value if isinstance(value, str) else json.dumps(value, default=str)
                found.append((table.name, f"{column.name}@{key}", text))
    return found


def dump_redis() -> list[tuple[str, str]]:
    """(key, text) for every value of every key in the test Redis database."""
    redis = get_redis()
    found = []
    for raw_key in redis.scan_iter(count=500):
        key = raw_key.decode(errors="replace")
        kind = redis.type(raw_key).decode()
        if kind == "string":
            values = [redis.get(raw_key)]
        elif kind == "hash":
            values = [f"{_text(k)}={_text(v)}" for k, v in redis.hgetall(raw_key).items()]
        elif kind == "list":
            values = redis.lrange(raw_key, 0, -1)
        elif kind == "set":
            values = list(redis.smembers(raw_key))
        elif kind == "zset":
            values = [m for m, _ in redis.zrange(raw_key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [
                f"{_text(k)}={_text(v)}"
                for _, fields in redis.xrange(raw_key)
                for k, v in fields.items()
            ]
        else:
            values = []
        found.extend((key, v if isinstance(v, str) else _text(v)) for v in values if v is not None)
        found.append((f"{key} (name)", key))
    return found


def _text(value: bytes) -> str:
    """Redis bytes as text; rq compresses job data with zlib and results with zlib + base64."""
    with contextlib.suppress(zlib.error):
        return zlib.decompress(value).decode("utf-8", errors="replace")
    with contextlib.suppress(binascii.Error, ValueError, zlib.error):
        return zlib.decompress(base64.b64decode(value, validate=True)).decode(errors="replace")
    return value.decode("utf-8", errors="replace")


def leaks(texts, allowed=()) -> list[str]:
    lowered = [s.lower() for s in identifying_strings()]
    out = []
    for *where, text in texts:
        if tuple(where) in allowed:
            continue
        hay = text.lower()
        out.extend(f"{where}: {s!r}" for s in lowered if s in hay)
    return out


def test_erased_resident_leaves_nothing_in_the_database_or_redis(town, instance_path, tmp_path):
    worker = staff("worker")
    zoe_id, bert_id = build_world(worker)
    # A real worker runs the queued jobs: their payloads, results and rate keys are in Redis.
    with running_worker(town, instance_path, tmp_path / "worker.log"):
        wait_for(lambda: db.session.get(Resident, zoe_id).geocode_status != "pending")
        wait_for(lambda: get_queue("matching").count == 0 and get_queue("default").count == 0)
    # Proof the world holds what the scan looks for (else the test could not fail).
    assert leaks(dump_database())
    # The Redis scan reads job payloads (decompressed), results and whatever else is there.
    before = dump_redis()
    assert any("mutualaid.jobs.geocode_resident" in text for _, text in before)
    assert leaks(before) == []  # job payloads hold ids only, even while she exists

    # An erasure that finds work still queued for her: the job payload holds only her id.
    enqueue("mutualaid.jobs.geocode_resident", zoe_id, queue="default")
    # A failed job whose error text named her (say, a mail server refusing her address): rq
    # keeps that text for a year unless the erasure drops the job.
    fail_job(1, f"SMTPRecipientsRefused: {{'{EMAIL}': (550, b'unknown')}}")
    kept = fail_job(2, "TimeoutError")
    assert leaks(dump_redis())
    erase_resident(zoe_id)
    db.session.expire_all()

    bert_quote = db.session.scalar(select(Message.id).where(Message.sender_resident_id == bert_id))
    allowed = {("messages", f"body@{json.dumps({'id': bert_quote})}")}
    assert "\n".join(leaks(dump_database(), allowed)) == ""
    assert "\n".join(leaks(dump_redis())) == ""
    # The other side's own words stay theirs (the decision above), and are still there.
    assert HOUSE in db.session.get(Message, bert_quote).body
    # Only the failed job that named her is gone; another failed job stays for the workers.
    assert FailedJobRegistry(queue=get_queue("notifications")).get_job_ids() == [kept.id]
    assert db.session.get(Resident, zoe_id).erased_at is not None
