"""Worker actions through pages and the API: match review and what-if, intake and hand-over,
vouch and VOG; scope (another worker's residents are 404 and nothing changes); roles (resident
and municipality 403); activation public, refusing every bad code alike, rate limited."""

import re

import pytest
from sqlalchemy import func, select

from mutualaid.extensions import db, limiter
from mutualaid.models import (
    AuditEvent,
    ConsentRecord,
    HelpRequest,
    Match,
    RankerVersion,
    Resident,
    SecretToken,
    User,
    VogRecord,
    Vouch,
)
from mutualaid.models.base import utcnow
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.demo import ensure_categories
from mutualaid.services.matching import match_request
from mutualaid.services.vetting import record_vog, vouch_for
from tests import staff_login
from tests.casework import (
    CENTRE_CODE,
    FAR_CODE,
    PASSWORD,
    api_headers,
    matching_fingerprint,
    resident_in,
    staff,
)
from tests.conftest import make_test_app

TRUST_ONLY = {
    "proximity": 0,
    "availability": 0,
    "trust": 1,
    "continuity": 0,
    "language": 0,
    "fairness": 0,
}


@pytest.fixture
def scene(hengelo):
    ensure_categories()
    worker = staff()
    requester = resident_in(first_name="Annie")
    near = resident_in(north_m=150, first_name="Bram")
    far = resident_in(north_m=1400, first_name="Cor")
    post_offer(near.id, categories=["boodschappen"])
    post_offer(far.id, categories=["boodschappen"])
    vouch_for(worker.id, far.id)
    record_vog(worker.id, far.id, issued_on=utcnow().date())
    request = post_request(requester.id, category="boodschappen", description="Boodschappen")
    match_request(request.id, force=True)
    return {"worker": worker, "request": request, "near": near, "far": far, "requester": requester}


def sign_in(client, user):
    response = staff_login.sign_in(client, user.email, PASSWORD)
    assert response.status_code == 302
    return client


def suggestion(request_id, helper_id) -> Match:
    return db.session.scalar(
        select(Match).where(Match.request_id == request_id, Match.helper_id == helper_id)
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_review_page_confirm_and_withdraw(client, scene):
    sign_in(client, scene["worker"])
    request_id = scene["request"].id
    page = client.get(f"/wijkwerk/hulpvragen/{request_id}/beoordelen")
    assert page.status_code == 200
    assert "Bram" in page.text and "Cor" in page.text and "Annie" in page.text
    match = suggestion(request_id, scene["near"].id)
    refused = client.post(
        f"/wijkwerk/hulpvragen/{request_id}/bevestigen", data={"match_id": match.id, "reason": ""}
    )
    assert refused.status_code == 422 and 'href="#reason"' in refused.text
    assert db.session.get(Match, match.id).status == "suggested"
    done = client.post(
        f"/wijkwerk/hulpvragen/{request_id}/bevestigen",
        data={"match_id": match.id, "reason": "Kent haar"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "invited"
    no_reason = client.post(
        f"/wijkwerk/hulpvragen/{request_id}/intrekken", data={"match_id": match.id, "reason": ""}
    )
    assert no_reason.status_code == 422 and 'href="#withdraw-reason"' in no_reason.text
    withdrawn = client.post(
        f"/wijkwerk/hulpvragen/{request_id}/intrekken",
        data={"match_id": match.id, "reason": "Toch niet"},
    )
    assert withdrawn.status_code == 302
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "cancelled"


def test_choose_page_refuses_an_ineligible_helper(client, scene):
    sign_in(client, scene["worker"])
    offer = post_offer(scene["near"].id, categories=["kinderoppas"])
    request = post_request(scene["requester"].id, category="kinderoppas", description="Oppas")
    page = client.get(f"/wijkwerk/hulpvragen/{request.id}/beoordelen")
    assert page.status_code == 200 and "disabled" in page.text
    before = matching_fingerprint()
    refused = client.post(
        f"/wijkwerk/hulpvragen/{request.id}/kiezen",
        data={"offer_id": offer.id, "reason": "Kent haar"},
    )
    assert refused.status_code == 422 and 'href="#offer_id"' in refused.text
    assert matching_fingerprint() == before


def test_what_if_page_changes_nothing_and_only_admins_make_it_default(client, scene):
    sign_in(client, scene["worker"])
    before = matching_fingerprint()
    form = {"preview": "1", **{k: str(v) for k, v in TRUST_ONLY.items()}}
    page = client.get("/wijkwerk/wat-als", query_string=form)
    assert page.status_code == 200
    assert "1 request gets another top helper" in page.text or "1 hulpvraag" in page.text
    assert matching_fingerprint() == before
    off = client.get("/wijkwerk/wat-als", query_string={**form, "trust": "2", "off_proximity": "1"})
    assert off.status_code == 422 and 'id="trust-error"' in off.text
    assert client.post("/wijkwerk/wat-als/standaard", data=TRUST_ONLY).status_code == 403
    assert matching_fingerprint() == before
    client.post("/auth/logout")
    sign_in(client, staff("admin"))
    assert client.post("/wijkwerk/wat-als/standaard", data=TRUST_ONLY).status_code == 302
    active = db.session.scalar(select(RankerVersion).where(RankerVersion.is_active.is_(True)))
    assert active.weights["trust"] == 1.0


def test_intake_hand_over_and_activation_through_the_pages(client, hengelo):
    ensure_categories()
    worker = staff()
    sign_in(client, worker)
    assert client.get("/wijkwerk/bewoners/nieuw").status_code == 200
    bad = client.post("/wijkwerk/bewoners/nieuw", data={"first_name": "Gerda"})
    assert bad.status_code == 422 and count(Resident) == 0
    made = client.post(
        "/wijkwerk/bewoners/nieuw",
        data={
            "first_name": "Gerda",
            "phone": "074 123 45 67",
            "neighbourhood": CENTRE_CODE,
            "languages": ["nl"],
            "consent_method": "home_visit",
        },
    )
    assert made.status_code == 302
    gerda = db.session.scalar(select(Resident).where(Resident.first_name == "Gerda"))
    consent = db.session.scalar(select(ConsentRecord).where(ConsentRecord.resident_id == gerda.id))
    assert (consent.method, consent.recorded_by_user_id) == ("home_visit", worker.id)
    page = client.get(made.headers["Location"])
    assert page.status_code == 200 and "074 123 45 67" in page.text
    asked = client.post(
        f"/wijkwerk/bewoners/{gerda.id}/hulpvraag",
        data={
            "category": "boodschappen",
            "description": "Boodschappen op vrijdag",
            "consent_method": "phone",
        },
    )
    assert asked.status_code == 302
    sheet = client.post(f"/wijkwerk/bewoners/{gerda.id}/code")
    assert sheet.status_code == 200 and "/activeren" in sheet.text
    code = re.search(r'class="sheet-code">([A-Z0-9-]+)<', sheet.text).group(1)
    client.post("/auth/logout")

    assert client.get("/activeren").status_code == 200
    mismatch = client.post(
        "/activeren",
        data={"code": code, "email": "gerda@example.org", "password": PASSWORD, "password2": "x"},
    )
    assert mismatch.status_code == 422
    form = {"code": code, "email": "gerda@example.org", "password": PASSWORD, "password2": PASSWORD}
    activated = client.post("/activeren", data=form)
    assert activated.status_code == 302 and activated.headers["Location"].endswith("/klaar")
    welcome = client.get("/activeren/klaar")
    assert welcome.status_code == 200 and "Boodschappen op vrijdag" in welcome.text
    client.post("/auth/logout")
    again = client.post("/activeren", data=form)
    assert again.status_code == 422
    assert count(User) == 2


def test_vog_vouch_and_expiring_pages(client, hengelo):
    ensure_categories()
    worker = staff()
    helper = resident_in(first_name="Dina")
    sign_in(client, worker)
    assert client.get(f"/wijkwerk/bewoners/{helper.id}/vog").status_code == 200
    bad = client.post(f"/wijkwerk/bewoners/{helper.id}/vog", data={"issued_on": "gisteren"})
    assert bad.status_code == 422 and count(VogRecord) == 0
    today = utcnow().date()
    saved = client.post(
        f"/wijkwerk/bewoners/{helper.id}/vog",
        data={
            "issued_on": today.replace(year=today.year - 3).isoformat(),
            "screening_profile": "84 Personen met kinderen",
            "expires_on": today.fromordinal(today.toordinal() + 12).isoformat(),
        },
    )
    assert saved.status_code == 302
    expiring = client.get("/wijkwerk/vog-verloopt")
    assert expiring.status_code == 200 and "Dina" in expiring.text
    assert client.post(f"/wijkwerk/bewoners/{helper.id}/vouch", data={}).status_code == 302
    assert db.session.scalar(select(Vouch)).revoked_at is None
    client.post(f"/wijkwerk/bewoners/{helper.id}/vouch", data={"revoke": "1"})
    db.session.expire_all()
    assert db.session.scalar(select(Vouch)).revoked_at is not None


def test_another_workers_residents_and_requests_are_not_found_and_nothing_changes(client, scene):
    stranger = staff(codes=(FAR_CODE,))
    sign_in(client, stranger)
    request_id, helper = scene["request"].id, scene["near"]
    match = suggestion(request_id, helper.id)
    headers = api_headers(stranger)
    before = (matching_fingerprint(), count(Vouch), count(VogRecord), count(SecretToken))
    audit_before = count(AuditEvent)
    pages = [
        ("get", f"/wijkwerk/hulpvragen/{request_id}/beoordelen", None),
        (
            "post",
            f"/wijkwerk/hulpvragen/{request_id}/bevestigen",
            {"match_id": match.id, "reason": "x"},
        ),
        (
            "post",
            f"/wijkwerk/hulpvragen/{request_id}/intrekken",
            {"match_id": match.id, "reason": "x"},
        ),
        (
            "post",
            f"/wijkwerk/hulpvragen/{request_id}/kiezen",
            {"offer_id": match.offer_id, "reason": "x"},
        ),
        ("get", f"/wijkwerk/bewoners/{helper.id}", None),
        ("get", f"/wijkwerk/bewoners/{helper.id}/vog", None),
        ("post", f"/wijkwerk/bewoners/{helper.id}/vog", {"issued_on": "2025-01-01"}),
        ("post", f"/wijkwerk/bewoners/{helper.id}/vouch", {}),
        ("post", f"/wijkwerk/bewoners/{helper.id}/code", {}),
        ("get", f"/wijkwerk/bewoners/{helper.id}/hulpvraag", None),
        ("post", f"/wijkwerk/bewoners/{helper.id}/aanbod", {"categories": ["tuin"]}),
    ]
    for method, url, data in pages:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 404, url
    api = [
        ("get", f"/api/v1/requests/{request_id}/review", None),
        (
            "post",
            f"/api/v1/requests/{request_id}/review/confirm",
            {"match_id": match.id, "reason": "x"},
        ),
        (
            "post",
            f"/api/v1/requests/{request_id}/review/withdraw",
            {"match_id": match.id, "reason": "x"},
        ),
        ("get", f"/api/v1/residents/{helper.id}", None),
        ("post", f"/api/v1/residents/{helper.id}/vouch", {}),
        ("post", f"/api/v1/residents/{helper.id}/vog", {"issued_on": "2025-01-01"}),
        ("post", f"/api/v1/residents/{helper.id}/handover-code", {}),
    ]
    for method, url, body in api:
        response = getattr(client, method)(url, json=body, headers=headers)
        assert response.status_code == 404, url
        assert response.json["error"] == "not_found"
    assert (matching_fingerprint(), count(Vouch), count(VogRecord), count(SecretToken)) == before
    assert count(AuditEvent) == audit_before
    assert client.get("/wijkwerk/vog-verloopt").status_code == 200


@pytest.mark.parametrize("role", ["resident", "municipality"])
def test_residents_and_municipality_users_are_forbidden(client, scene, role):
    user = staff(role)
    sign_in(client, user)
    request_id, helper_id = scene["request"].id, scene["near"].id
    for url in (
        f"/wijkwerk/hulpvragen/{request_id}/beoordelen",
        "/wijkwerk/wat-als",
        "/wijkwerk/bewoners/nieuw",
        f"/wijkwerk/bewoners/{helper_id}",
        "/wijkwerk/vog-verloopt",
    ):
        assert client.get(url).status_code == 403, url
    headers = api_headers(user)
    for method, url, body in (
        ("get", f"/api/v1/requests/{request_id}/review", None),
        ("post", "/api/v1/what-if", TRUST_ONLY),
        ("post", "/api/v1/residents", {"first_name": "X", "consent_method": "phone"}),
        ("get", f"/api/v1/residents/{helper_id}", None),
        ("get", "/api/v1/residents/vog-expiring", None),
    ):
        response = getattr(client, method)(url, json=body, headers=headers)
        assert response.status_code == 403, url
        assert response.json["error"] == "forbidden"


def test_api_review_what_if_and_default(client, scene):
    worker, admin = scene["worker"], staff("admin")
    headers = api_headers(worker)
    request_id = scene["request"].id
    review = client.get(f"/api/v1/requests/{request_id}/review", headers=headers)
    assert review.status_code == 200
    [first, second] = review.json["candidates"]
    assert set(first["parts"]) == set(TRUST_ONLY) and first["rank"] == 1
    helpers = client.get(f"/api/v1/requests/{request_id}/review/helpers", headers=headers).json
    assert helpers["total"] == 2
    before = matching_fingerprint()
    what_if = client.post("/api/v1/what-if", json=TRUST_ONLY, headers=headers)
    assert what_if.status_code == 200 and what_if.json["changed"] == 1
    assert what_if.json["requests"][0]["top_new"]["helper_id"] == scene["far"].id
    bad = client.post("/api/v1/what-if", json={**TRUST_ONLY, "trust": 5}, headers=headers)
    assert bad.status_code == 422 and bad.json["field"] == "trust"
    assert matching_fingerprint() == before
    missing = client.post(
        f"/api/v1/requests/{request_id}/review/confirm",
        json={"match_id": first["match_id"]},
        headers=headers,
    )
    assert missing.status_code == 422 and missing.json["field"] == "reason"
    confirmed = client.post(
        f"/api/v1/requests/{request_id}/review/confirm",
        json={"match_id": first["match_id"], "reason": "kent hem"},
        headers=headers,
    )
    assert confirmed.status_code == 200 and confirmed.json["status"] == "invited"
    wrong_request = client.post(
        f"/api/v1/requests/{request_id + 99}/review/withdraw",
        json={"match_id": first["match_id"], "reason": "x"},
        headers=headers,
    )
    assert wrong_request.status_code == 404
    denied = client.post("/api/v1/what-if/default", json=TRUST_ONLY, headers=headers)
    assert denied.status_code == 403 and count(RankerVersion) == 0
    made = client.post("/api/v1/what-if/default", json=TRUST_ONLY, headers=api_headers(admin))
    assert made.status_code == 201 and made.json["version"].startswith("whatif-")
    chosen = client.post(
        f"/api/v1/requests/{request_id}/review/choose",
        json={"offer_id": second["offer_id"], "reason": "heeft VOG"},
        headers=headers,
    )
    assert chosen.status_code == 201 and chosen.json["proposed_by"] == "worker"


def test_api_intake_vouch_vog_and_hand_over(client, hengelo):
    ensure_categories()
    worker = staff()
    headers = api_headers(worker)
    bad = client.post(
        "/api/v1/residents",
        json={"first_name": "Gerda", "consent_method": "online", "neighbourhood": CENTRE_CODE},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json["field"] == "consent_method"
    made = client.post(
        "/api/v1/residents",
        json={
            "first_name": "Gerda",
            "consent_method": "paper",
            "neighbourhood": CENTRE_CODE,
            "phone": "0612345678",
        },
        headers=headers,
    )
    assert made.status_code == 201 and made.json["self_service"] is False
    rid = made.json["id"]
    asked = client.post(
        f"/api/v1/residents/{rid}/requests",
        json={"consent_method": "phone", "category": "vervoer", "description": "Naar de dokter"},
        headers=headers,
    )
    assert asked.status_code == 201
    unknown = client.post(
        f"/api/v1/residents/{rid}/requests",
        json={"consent_method": "phone", "category": "vervoer", "colour": "blue"},
        headers=headers,
    )
    assert unknown.status_code == 422 and unknown.json["field"] == "colour"
    offered = client.post(
        f"/api/v1/residents/{rid}/offers", json={"categories": ["gezelschap"]}, headers=headers
    )
    assert offered.status_code == 201
    assert (
        client.post(f"/api/v1/residents/{rid}/vouch", json={}, headers=headers).status_code == 201
    )
    vog = client.post(
        f"/api/v1/residents/{rid}/vog",
        json={"issued_on": "2025-02-01", "screening_profile": "84 Personen met kinderen"},
        headers=headers,
    )
    assert vog.status_code == 201 and vog.json["expires_on"]
    profile = client.get(f"/api/v1/residents/{rid}?reason=phone", headers=headers)
    assert profile.status_code == 200 and len(profile.json["requests"]) == 1
    assert profile.json["vouches"] and profile.json["consents"]
    assert (
        db.session.scalar(select(AuditEvent.reason).where(AuditEvent.action == "view:resident"))
        == "phone"
    )
    expiring = client.get("/api/v1/residents/vog-expiring?days=365", headers=headers)
    assert expiring.status_code == 200 and expiring.json["total"] == 0
    assert client.delete(f"/api/v1/residents/{rid}/vouch", headers=headers).status_code == 204
    code = client.post(f"/api/v1/residents/{rid}/handover-code", json={}, headers=headers)
    assert code.status_code == 201
    wrong = client.post(
        "/api/v1/activation",
        json={"code": "ZZZZZ-ZZZZZ", "email": "gerda@example.org", "password": PASSWORD},
    )
    assert wrong.status_code == 422 and wrong.json["field"] == "code"
    done = client.post(
        "/api/v1/activation",
        json={"code": code.json["code"], "email": "gerda@example.org", "password": PASSWORD},
    )
    assert done.status_code == 201 and done.json["resident_id"] == rid
    used = client.post(
        "/api/v1/activation",
        json={"code": code.json["code"], "email": "other@example.org", "password": PASSWORD},
    )
    assert used.status_code == 422 and used.json == wrong.json
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {done.json['token']}"})
    assert me.status_code == 200
    assert db.session.get(HelpRequest, asked.json["id"]).requester_id == rid


@pytest.fixture
def rate_limited_client(app_ctx, instance_path):
    """A client of an app with rate limits on; the shared limiter is switched off after."""
    limited = make_test_app(
        app_ctx.config["SQLALCHEMY_DATABASE_URI"],
        app_ctx.config["REDIS_URL"],
        instance_path,
        RATELIMIT_ENABLED=True,
    )
    limiter.reset()
    try:
        yield limited.test_client()
    finally:
        limiter.reset()
        limiter.enabled = False


def test_activation_is_rate_limited(rate_limited_client):
    body = {"code": "ABCDE-FGHJK", "email": "x@example.org", "password": PASSWORD}
    codes = [
        rate_limited_client.post("/api/v1/activation", json=body).status_code for _ in range(11)
    ]
    assert codes[:10] == [422] * 10 and codes[-1] == 429
    pages = [
        rate_limited_client.post("/activeren", data={**body, "password2": PASSWORD}).status_code
        for _ in range(11)
    ]
    assert pages[-1] == 429
