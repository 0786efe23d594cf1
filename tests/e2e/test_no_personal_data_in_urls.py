"""No personal data or free text in URLs (issue 10, browser protection): a query string ends up
in browser history, proxy and server logs. The API's query parameters are codes, numbers, dates
or choices; a reason for looking at a resident is a code; a reason for revoking a vouch goes in
the body; the worker's resident page reads no reason from its URL; forms that take a name,
address, phone, email or free text are sent with POST."""

from __future__ import annotations

import re

from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import AuditEvent
from mutualaid.services.audit import VIEW_REASONS
from mutualaid.services.transactions import commit
from mutualaid.services.vetting import vouch_for
from tests import casework, staff_login
from tests.casework import CENTRE_CODE, PASSWORD, resident_in, staff

# Query parameters that are free strings in the schema but codes checked by the service.
# A help category code and a municipality (CBS) code: unknown ones are a 4xx naming them.
CODE_PARAMETERS = {"category", "gemeente"}
# Fields that carry personal data or free text: never in a GET form.
PERSONAL_FIELDS = {
    "first_name",
    "last_name",
    "name",
    "q",
    "email",
    "phone",
    "postcode",
    "street",
    "house_number",
    "address_line",
    "description",
    "note",
    "reason",
    "body",
    "password",
}


def test_api_query_parameters_are_codes_numbers_dates_or_choices(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    free = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):  # the path's own "parameters" list
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.get("schema", {})
                if schema.get("type") != "string" or schema.get("enum") or schema.get("format"):
                    continue
                if parameter["name"] not in CODE_PARAMETERS:
                    free.append(f"{method.upper()} {path} ?{parameter['name']}")
    assert free == []


def _worker_and_resident(client):
    worker = staff("worker", codes=(CENTRE_CODE,))
    resident = resident_in(CENTRE_CODE)
    commit()
    return worker, resident


def test_a_free_text_reason_in_the_url_is_refused_naming_it(client, hengelo):
    worker, resident = _worker_and_resident(client)
    headers = casework.api_headers(worker)
    url = f"/api/v1/residents/{resident.id}"
    refused = client.get(f"{url}?reason=gebeld+met+Gerda+over+haar+val", headers=headers)
    assert refused.status_code == 422 and refused.get_json()["field"] == "reason"
    assert not db.session.scalar(select(AuditEvent.id).where(AuditEvent.reason.like("%Gerda%")))
    for code in VIEW_REASONS:
        assert client.get(f"{url}?reason={code}", headers=headers).status_code == 200
    reasons = db.session.scalars(
        select(AuditEvent.reason).where(AuditEvent.action == "view:resident")
    ).all()
    assert sorted(reasons) == sorted(VIEW_REASONS)


def test_revoking_a_vouch_takes_its_reason_from_the_body(client, hengelo):
    worker, resident = _worker_and_resident(client)
    headers = casework.api_headers(worker)
    url = f"/api/v1/residents/{resident.id}/vouch"
    vouch_for(worker.id, resident.id)
    revoked = client.delete(url, json={"reason": "verhuisd naar Borne"}, headers=headers)
    assert revoked.status_code == 204
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action.like("%vouch%"), AuditEvent.reason.is_not(None))
    )
    assert event is not None and event.reason == "verhuisd naar Borne"
    vouch_for(worker.id, resident.id)
    assert client.delete(url, headers=headers).status_code == 204  # no body: no reason


def test_the_worker_resident_page_reads_no_reason_from_its_url(client, hengelo):
    worker, resident = _worker_and_resident(client)
    assert staff_login.sign_in(client, worker.email, PASSWORD).status_code == 302
    page = client.get(f"/wijkwerk/bewoners/{resident.id}?reden=gebeld+met+Gerda")
    assert page.status_code == 200
    reasons = db.session.scalars(
        select(AuditEvent.reason).where(AuditEvent.action == "view:resident")
    ).all()
    assert reasons == ["resident page"]


def test_no_get_form_on_any_template_asks_for_personal_data_or_free_text():
    from pathlib import Path

    import mutualaid

    templates = Path(mutualaid.__file__).parent / "templates"
    found = []
    for template in templates.rglob("*.html"):
        text = template.read_text()
        for form in re.findall(r"<form\b(.*?)</form>", text, flags=re.S):
            head = form.split(">", 1)[0]
            if 'method="post"' in head.lower():
                continue
            personal = set(re.findall(r'name="([^"]+)"', form)) & PERSONAL_FIELDS
            if personal:
                found.append(f"{template.relative_to(templates)}: {sorted(personal)}")
    assert found == []
