"""Odd input through every web form (the API has its own tests in test_api_robustness.py).

For each role, every page it may open is read; each form on it (POST and GET) is sent again with
every field set in turn to an odd value: NaN, inf, huge numbers, negative and out-of-range
numbers, an unknown choice, overlong text, control characters, a duplicated field. Every route
that changes something is also sent such a body even when no page shows its form. None of this
may give a 500: a form is shown again with a 4xx, or the change is refused, or it is a redirect.
A form body that is not UTF-8 is a 400, not a 500.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from mutualaid.web.access import route_rules
from tests.e2e.test_authorization_matrix import (
    ENDS,
    _sign_in,
    allowed,
    build_world,
    url_for_rule,
)

ROLES = ("resident", "worker", "municipality", "admin")
ODD_VALUES = (
    "NaN",
    "inf",
    "-Infinity",
    "1e309",
    "-1",
    "0",
    "99999999999999999999999",
    "2147483648",
    "nonsense-choice",
    "x" * 20_000,
    "\x00\x01\x1b",
    "",
    "2026-02-30",
    "../../etc/passwd",
    "²",  # str.isdigit() says yes, int() refuses
    "١٢",
)
# Query arguments the pages read (request.args in mutualaid/web and the templates).
QUERY_NAMES = (
    "page",
    "buurt",
    "welke",
    "soort",
    "afgehandeld",
    "alles",
    "gemeente",
    "area",
    "focus",
    "lang",
    "level",
    "period",
    "from",
    "to",
    "category",
    "distance_band",
    "neighbourhood_id",
    "sort",
    "order",
    "role",
    "vog",
    "newly_active",
    "vouched",
    "preview",
    "next",
    "code",
)
CHECKED: dict[str, int] = {}


class FormParser(HTMLParser):
    """The forms of a page: method, action and the names of their fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self._current = {
                "method": (values.get("method") or "get").upper(),
                "action": values.get("action") or "",
                "fields": {},
            }
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea", "button") and self._current is not None:
            name = values.get("name")
            if name and name != "csrf_token":
                self._current["fields"].setdefault(name, values.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_of(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def _web_routes(app):
    return [
        r
        for r in route_rules(app)
        if not r[0].startswith(("/api/", "/static/")) and (r[0], r[1]) not in ENDS
    ]


def _send(client, method: str, url: str, fields: dict, problems: list, what: str) -> int:
    try:
        if method == "GET":
            response = client.get(url, query_string=fields)
        else:
            response = client.open(url, method=method, data=fields)
    except Exception as exc:  # TESTING propagates a 500's exception: record it
        problems.append(f"{what}: {method} {url} {sorted(fields)[:3]}: {type(exc).__name__} {exc}")
        return 500
    if response.status_code >= 500:
        problems.append(f"{what}: {method} {url} -> {response.status_code}")
    return response.status_code


def _variants(fields: dict):
    """The form as shown, then each field in turn with each odd value, then duplicated."""
    yield dict(fields)
    for name in fields:
        for odd in ODD_VALUES:
            yield {**fields, name: odd}
    if fields:
        yield {name: [value, "nonsense-choice"] for name, value in fields.items()}


def _forms_on_pages(client, role, pages, own, problems) -> int:
    """Each form on each page, sent again with odd values (each action once)."""
    checked, seen = 0, set()
    ends = {url_for_rule(rule, own) for rule, _method in ENDS}
    for rule, _method, _endpoint, _declared in pages:
        url = url_for_rule(rule, own)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        for form in forms_of(response.get_data(as_text=True)):
            action = (form["action"] or url).split("#")[0]
            path = action.split("?")[0]
            key = (form["method"], re.sub(r"\d+", "N", path))
            skip = not action.startswith("/") or path.startswith(("/auth/logout", "/static/"))
            if skip or path in ends or key in seen:
                continue
            seen.add(key)
            for fields in _variants(form["fields"]):
                _send(client, form["method"], action, fields, problems, f"{role} form {rule}")
                checked += 1
    return checked


def _odd_queries_and_paths(client, role, pages, own, problems) -> int:
    """Every page with odd query arguments (the names the pages read) and odd path words."""
    checked = 0
    for rule, _method, _endpoint, _declared in pages:
        for odd in ("NaN", "-1", "99999999999999999999999", "x" * 3000, "\x00", "2026-13-45", "²"):
            args = dict.fromkeys(QUERY_NAMES, odd)
            _send(client, "GET", url_for_rule(rule, own), args, problems, f"{role} query")
            checked += 1
        for name in {"code", "kind"} & set(re.findall(r"<(?:[^:>]+:)?(\w+)>", rule)):
            for odd in ("%00", "x" * 500, "..%2F..", "GM0000"):
                url = url_for_rule(rule, own | {name: odd})
                _send(client, "GET", url, {}, problems, f"{role} path")
                checked += 1
    return checked


def _probe_role(client, app, world, role: str, problems: list) -> int:
    _sign_in(client, role, world)
    staff_role = role in ("worker", "admin", "municipality")
    own = world.own | world.own_staff if staff_role else world.own_staff | world.own
    routes = [r for r in _web_routes(app) if allowed(role, r[3])]
    pages = [r for r in routes if r[1] == "GET" and "token" not in r[0]]
    checked = _forms_on_pages(client, role, pages, own, problems)
    checked += _odd_queries_and_paths(client, role, pages, own, problems)
    # Routes that change something, also those whose form no page showed here.
    generic = {"reason": "x" * 5000, "lat": "NaN", "lon": "inf", "page": "-1", "id": "1e400"}
    for rule, method, _endpoint, _declared in routes:
        if method == "GET":
            continue
        url = url_for_rule(rule, own)
        _send(client, method, url, generic, problems, f"{role} change")
        _send(client, method, url, {"x": ["a", "b"]}, problems, f"{role} change")
        checked += 2
    return checked


@pytest.mark.parametrize("role", ROLES)
def test_odd_values_in_every_web_form_never_give_a_500(app_ctx, client, hengelo, role):
    world = build_world()
    problems: list[str] = []
    checked = _probe_role(client, app_ctx, world, role, problems)
    CHECKED[role] = checked
    print(f"\nform robustness: {role}: {checked} form submissions")
    assert checked > 20
    assert problems == [], "\n".join(problems[:40])


def test_a_form_body_that_is_not_utf8_is_a_400(app_ctx, client, hengelo):
    world = build_world()
    _sign_in(client, "worker", world)
    url = f"/wijkwerk/bewoners/{world.own_staff['resident_id']}/hulpvraag"
    response = client.post(
        url,
        data=b"description=\xff\xfe\xfa&consent_method=phone",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (400, 422), response.status_code


def test_a_nul_character_anywhere_is_a_422_naming_the_field(app_ctx, client, hengelo):
    """PostgreSQL cannot store U+0000: refused before any view, in forms, query arguments,
    path words and JSON strings alike (it was a 500 on PostgreSQL)."""
    world = build_world()
    _sign_in(client, "worker", world)
    rid = world.own_staff["resident_id"]
    cases = {
        "email": client.post("/auth/password/forgot", data={"email": "a\x00@example.org"}),
        "note": client.post(f"/wijkwerk/bewoners/{rid}/contact", data={"note": "hoi\x00"}),
        "buurt": client.get("/wijkwerk/nieuw-actief", query_string={"buurt": "BU\x00"}),
        "code": client.get("/wijkwerk/buurt/BU%00/betrokken"),
        "note ": client.post(
            f"/api/v1/residents/{rid}/vouch", json={"note": "x\x00"}, headers=world.headers
        ),
        "q.deep[0]": client.post(
            "/api/v1/ties/confirm", json={"q": {"deep": ["\x00"]}}, headers=world.headers
        ),
    }
    for field, response in cases.items():
        assert response.status_code == 422, (field, response.status_code)
        if response.is_json:
            assert response.get_json()["field"] == field.strip()
    assert client.get("/wijkwerk/nieuw-actief", query_string={"buurt": "BU"}).status_code < 500
