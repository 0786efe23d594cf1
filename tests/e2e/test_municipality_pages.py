"""Municipality pages, CSV and API through the test client: scope (own municipality only),
roles, no person in any answer, CSV content, and the home page's municipality choice."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from flask_babel import refresh

from mutualaid.extensions import db
from mutualaid.models import Match, Neighbourhood, Resident
from mutualaid.models.base import utcnow
from mutualaid.services.accounts import create_user
from mutualaid.services.neighbourhoods import import_neighbourhoods
from tests import builders, staff_login

BORNE_GEOJSON = Path(__file__).resolve().parent.parent / "data" / "buurt_borne_test.geojson"
PASSWORD = "a-long-test-password"
# Distinctive personal details that must never reach a municipality user.
SECRETS = ("Zwanette", "Oosterhuis", "zwanette.geheim@example.org", "Geheimstraat", "7622ZZ")

MONITORING_URLS = (
    "/gemeente/monitoring",
    "/gemeente/monitoring?level=district&period=week",
    "/gemeente/monitoring.csv",
    "/api/v1/monitoring",
    "/api/v1/monitoring?level=municipality&period=week",
    "/api/v1/monitoring.csv",
)


@pytest.fixture
def towns(hengelo):
    """Hengelo and Borne, activity in both, and one user per role."""
    import_neighbourhoods(BORNE_GEOJSON)
    borne = db.session.query(Neighbourhood).filter_by(code="BU01470001").one()
    now = utcnow()
    # Everything happens in the current ISO week (the tests read "this week"), also on a
    # Monday: two days back, or this Monday 00:00 when that is later.
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time.min, tzinfo=UTC)
    asked = max(now - timedelta(days=2), monday)
    people = []
    for i in range(12):
        people.append(
            builders.resident(
                first_name=SECRETS[0] if i == 0 else f"Buur{i}",
                last_name=SECRETS[1] if i == 0 else None,
                email=SECRETS[2] if i == 0 else f"buur{i}@example.org",
                street=SECRETS[3],
                postcode=SECRETS[4],
                neighbourhood_id=borne.id,
            )
        )
    helper = people[-1]
    offer = builders.offer(helper, created_at=asked - timedelta(days=1))
    db.session.flush()
    for i, person in enumerate(people[:-1]):
        request = builders.help_request(
            person,
            neighbourhood_id=borne.id,
            created_at=asked,
            description=f"Hulp nodig bij {SECRETS[3]}",
            address_line=f"{SECRETS[3]} 1",
        )
        db.session.flush()
        if i < 6:
            db.session.add(
                Match(
                    request_id=request.id,
                    offer_id=offer.id,
                    helper_id=helper.id,
                    status="accepted",
                    accepted_at=asked + (now - asked) / 2,
                )
            )
    resident_user = create_user(
        "bewoner.login@example.org",
        PASSWORD,
        "resident",
        "Bewoner",
        commit_now=False,
        resident_id=people[1].id,
    )
    create_user(
        "borne@example.org",
        PASSWORD,
        "municipality",
        "Gemeente Borne",
        municipality_code="GM0147",
        commit_now=False,
    )
    create_user(
        "hengelo@example.org",
        PASSWORD,
        "municipality",
        "Gemeente Hengelo",
        municipality_code="GM0164",
        commit_now=False,
    )
    create_user(
        "wijk@example.org",
        PASSWORD,
        "worker",
        "Wijkcoach",
        neighbourhood_codes=["BU01470001"],
        commit_now=False,
    )
    create_user("admin@example.org", PASSWORD, "admin", "Beheer", commit_now=False)
    db.session.commit()
    assert resident_user.resident_id
    return hengelo


def sign_in(client, email: str) -> None:
    response = staff_login.sign_in(client, email, PASSWORD)
    assert response.status_code in (302, 303), response.status_code


def test_municipality_user_sees_charts_map_and_tables_of_their_own_municipality(towns, client):
    sign_in(client, "borne@example.org")
    response = client.get("/gemeente/monitoring?period=week")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Monitor burenhulp" in html and "Borne" in html  # Dutch by default
    assert html.count("<svg") >= 7  # six trend charts and the map
    assert '<title id="chart-requests_opened-t">' in html and "<desc" in html
    assert html.count("<path ") == 3  # Borne's three neighbourhoods on the map, not Hengelo's
    assert "Borne-Centrum" in html and "Binnenstad-Centrum" not in html
    assert "11" in html  # eleven requests this week, shown in the tables
    refresh()  # the test's long-lived app context would keep the first request's locale
    english = client.get("/gemeente/monitoring?lang=en").get_data(as_text=True)
    assert "Monitoring informal help" in english


def test_another_municipalitys_figures_are_never_shown(towns, client):
    sign_in(client, "borne@example.org")
    for url in (
        "/gemeente/monitoring",
        "/gemeente/monitoring.csv",
        "/api/v1/monitoring",
        "/api/v1/monitoring.csv",
    ):
        response = client.get(f"{url}?gemeente=GM0164")
        assert response.status_code == 404, url
        assert "Binnenstad" not in response.get_data(as_text=True)
    client.post("/auth/logout")
    sign_in(client, "hengelo@example.org")
    html = client.get("/gemeente/monitoring").get_data(as_text=True)
    assert "Borne" not in html and "Binnenstad-Centrum" in html


def test_workers_residents_and_visitors_are_refused(towns, client):
    for url in MONITORING_URLS:
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302 and "/auth/login" in response.location, url
    for email in ("wijk@example.org", "bewoner.login@example.org"):
        sign_in(client, email)
        for url in MONITORING_URLS:
            assert client.get(url).status_code == 403, (email, url)
        client.post("/auth/logout")


def test_no_person_appears_in_any_monitoring_answer(towns, client):
    for email in ("borne@example.org", "admin@example.org"):
        sign_in(client, email)
        for url in MONITORING_URLS:
            for lang in ("nl", "en"):
                joiner = "&" if "?" in url else "?"
                full = f"{url}{joiner}lang={lang}"
                if email.startswith("admin"):
                    full += "&gemeente=GM0147"
                response = client.get(full)
                body = response.get_data(as_text=True)
                assert response.status_code == 200, full
                for secret in SECRETS:
                    assert secret not in body, (full, secret)
        client.post("/auth/logout")


def test_csv_has_the_figures_with_small_counts_as_text(towns, client):
    sign_in(client, "borne@example.org")
    response = client.get("/gemeente/monitoring.csv?level=neighbourhood&period=week")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["municipality_code"] for r in rows} == {"GM0147"}
    this_week = rows[-1]["period"]
    opened = {
        r["area_code"]: r["value"]
        for r in rows
        if r["measure"] == "requests_opened" and r["period"] == this_week
    }
    assert opened["BU01470001"] == "11" and opened["BU01470002"] == "0"
    matched = {
        r["area_code"]: r["value"]
        for r in rows
        if r["measure"] == "requests_matched" and r["period"] == this_week
    }
    assert matched["BU01470001"] == "6"
    helpers = [
        r["value"] for r in rows if r["measure"] == "active_helpers" and r["period"] == this_week
    ]
    assert "<5" in helpers  # one active helper: hidden
    assert all(
        v in ("", "<5") or float(v) == 0 or float(v) >= 5 or "." in v
        for v in (r["value"] for r in rows if not r["measure"].startswith(("share", "median")))
    )
    api = client.get("/api/v1/monitoring.csv?level=neighbourhood&period=week")
    assert api.status_code == 200 and api.get_data() == response.get_data()


def test_api_marks_suppressed_figures_and_paginates(towns, client):
    sign_in(client, "borne@example.org")
    body = client.get("/api/v1/monitoring?period=week&per_page=5").get_json()
    assert body["municipality"]["code"] == "GM0147" and body["threshold"] == 5
    assert body["total"] == 4 * 13 and len(body["items"]) == 5 and body["page"] == 1
    last = client.get("/api/v1/monitoring?period=week&per_page=13").get_json()["items"][-1]
    assert last["area"]["level"] == "municipality"
    helpers = last["figures"]["active_helpers"]
    assert helpers == {"value": None, "suppressed": True, "display": "<5"}
    assert last["figures"]["requests_opened"]["value"] == 11
    bad = client.get("/api/v1/monitoring?period=year")
    assert bad.status_code == 422 and bad.get_json()["field"] == "period"


def test_admin_can_choose_the_municipality(towns, client):
    sign_in(client, "admin@example.org")
    html = client.get("/gemeente/monitoring?gemeente=GM0147").get_data(as_text=True)
    assert "Borne-Centrum" in html and 'name="gemeente"' in html
    assert client.get("/gemeente/monitoring?gemeente=GM9999").status_code == 404


def test_home_page_lets_a_visitor_choose_the_municipality(towns, client):
    html = client.get("/").get_data(as_text=True)
    assert 'name="gemeente"' in html and "Borne" in html
    assert "Binnenstad-Centrum" in html  # the default municipality (Hengelo)
    borne = client.get("/?gemeente=GM0147").get_data(as_text=True)
    assert "Borne-Centrum" in borne and "Binnenstad-Centrum" not in borne
    unknown = client.get("/?gemeente=GM9999").get_data(as_text=True)
    assert "Binnenstad-Centrum" in unknown


def test_a_municipality_user_gets_no_person_from_any_page_or_endpoint(towns, client):
    """Scope matrix: every GET route of the app, with the ids of the residents, requests and
    matches filled in, answered to a municipality user without one personal detail."""
    app = towns
    ids = sorted(
        {1, 2}
        | {r.id for r in db.session.query(Match.request_id.label("id"))}
        | {m.id for m in db.session.query(Match.id)}
        | {p.id for p in db.session.query(Neighbourhood.id).limit(2)}
        | {r.id for r in db.session.query(Resident.id).filter_by(first_name=SECRETS[0])}
    )
    sign_in(client, "borne@example.org")
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.logout"):
            continue
        if any(c.__class__.__name__ != "IntegerConverter" for c in rule._converters.values()):
            continue  # string arguments (tokens, file names) name no person by number
        for value in ids if rule.arguments else [None]:
            url = rule.rule
            for name in rule.arguments:
                url = url.replace(f"<int:{name}>", str(value))
            response = client.get(url)
            body = response.get_data(as_text=True)
            assert response.status_code < 500, url
            for secret in SECRETS:
                assert secret not in body, (url, secret)
            checked += 1
    assert checked > 20


def test_home_page_hides_a_second_count_so_a_small_one_cannot_be_subtracted(hengelo, client):
    import_neighbourhoods(BORNE_GEOJSON)
    hoods = {
        n.code: n for n in db.session.query(Neighbourhood).filter_by(municipality_code="GM0147")
    }
    for code, count in (("BU01470001", 3), ("BU01470002", 12)):
        for _ in range(count):
            person = builders.resident(neighbourhood_id=hoods[code].id)
            builders.help_request(person, neighbourhood_id=hoods[code].id)
    db.session.commit()
    html = client.get("/?gemeente=GM0147").get_data(as_text=True)
    rows = {
        code: re.findall(r'<td class="num">(.*?)</td>', row)
        for code, row in re.findall(r'<span class="code">(BU\d+)</span></th>(.*?)</tr>', html, re.S)
    }
    assert rows["BU01470001"][0] == "&lt;5"
    assert rows["BU01470002"][0] == "&lt;5"  # 12, hidden too: the total (15) is shown
    assert rows["BU01470101"][0] == "0"
    assert "<dd>15</dd>" in html


def test_the_openapi_document_describes_monitoring_and_suppression(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/monitoring" in spec["paths"] and "/api/v1/monitoring.csv" in spec["paths"]
    parameters = {p["name"] for p in spec["paths"]["/api/v1/monitoring"]["get"]["parameters"]}
    assert {"level", "period", "from", "to", "page", "per_page"} <= parameters
    figure = spec["components"]["schemas"]["Figure"]["properties"]
    assert figure["value"]["nullable"] is True
    assert "<5" in figure["display"]["description"]
    assert "suppressed" in figure
