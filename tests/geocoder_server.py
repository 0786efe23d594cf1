"""A local geocoder for the tests: answers like the PDOK Locatieserver and like Nominatim.

It runs `http.server` in a thread on 127.0.0.1, counts and timestamps every request, and can be
told to answer slowly (to test timeouts) or with a server error. The tests never talk to the
internet.

The PDOK document below keeps the field names and shape of a real `free` answer
(`../shared/data/pdok_locatieserver_free_example.json`, after PDOK's published documentation);
the addresses are invented, placed in real Hengelo neighbourhoods.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

PDOK_PATH = "/bzk/locatieserver/search/v3_1/free"

PDOK_EXAMPLE_DOC = {
    "bron": "BAG",
    "woonplaatscode": "1063",
    "type": "adres",
    "woonplaatsnaam": "Hengelo",
    "wijkcode": "WK016400",
    "huis_nlt": "2",
    "openbareruimtetype": "Weg",
    "buurtnaam": "Binnenstad-Centrum",
    "gemeentecode": "0164",
    "weergavenaam": "Voorbeeldstraat 2, 7551AA Hengelo",
    "straatnaam_verkort": "Voorbeeldstr",
    "id": "adr-0000000000000000000000000000000a",
    "gemeentenaam": "Hengelo",
    "buurtcode": "BU01640000",
    "wijknaam": "Wijk 00 Binnenstad",
    "identificatie": "0164010000000001-0164200000000001",
    "openbareruimte_id": "0164300000000001",
    "provinciecode": "PV23",
    "postcode": "7551AA",
    "provincienaam": "Overijssel",
    "centroide_ll": "POINT(6.79360000 52.26560000)",
    "nummeraanduiding_id": "0164200000000001",
    "adresseerbaarobject_id": "0164010000000001",
    "huisnummer": 2,
    "provincieafkorting": "OV",
    "centroide_rd": "POINT(251890.000 477820.000)",
    "straatnaam": "Voorbeeldstraat",
    "score": 17.53,
}


@dataclass(frozen=True)
class FakeAddress:
    postcode: str
    huisnummer: int
    huisletter: str
    street: str
    lat: float
    lon: float
    buurtcode: str = "BU01640000"
    buurtnaam: str = "Binnenstad-Centrum"

    @property
    def huis_nlt(self) -> str:
        return f"{self.huisnummer}{self.huisletter}"


# In Binnenstad-Centrum (the builders' CENTRE); one far outside Hengelo (Amsterdam).
CENTRE_ADDRESS = FakeAddress("7551AB", 12, "", "Marktstraat", 52.2640, 6.7935)
LETTER_ADDRESS = FakeAddress("7551AB", 14, "A", "Marktstraat", 52.2641, 6.7936)
# PDOK's (authoritative) neighbourhood differs from what our generalised polygons say.
BORDER_ADDRESS = FakeAddress(
    "7551CD", 3, "", "Pastoriestraat", 52.2640, 6.7935, "BU01640001", "Binnenstad-West"
)
FAR_ADDRESS = FakeAddress("1012JS", 1, "", "Dam", 52.3731, 4.8926, "BU03630000", "Burgwallen")
ADDRESSES = (CENTRE_ADDRESS, LETTER_ADDRESS, BORDER_ADDRESS, FAR_ADDRESS)


def pdok_doc(address: FakeAddress, score: float = 17.5) -> dict:
    """A PDOK address document for an invented address, in the real shape."""
    doc = copy.deepcopy(PDOK_EXAMPLE_DOC)
    doc.update(
        postcode=address.postcode,
        huisnummer=address.huisnummer,
        huis_nlt=address.huis_nlt,
        straatnaam=address.street,
        weergavenaam=f"{address.street} {address.huis_nlt}, {address.postcode} Hengelo",
        centroide_ll=f"POINT({address.lon:.8f} {address.lat:.8f})",
        buurtcode=address.buurtcode,
        buurtnaam=address.buurtnaam,
        score=score,
    )
    if address.huisletter:
        doc["huisletter"] = address.huisletter
    return doc


def pdok_answer(docs: list[dict]) -> dict:
    return {
        "response": {
            "numFound": len(docs),
            "start": 0,
            "maxScore": max((d["score"] for d in docs), default=0.0),
            "numFoundExact": True,
            "docs": docs,
        }
    }


def nominatim_place(address: FakeAddress) -> dict:
    """A Nominatim `/search?format=json&addressdetails=1` result, in the real shape."""
    return {
        "place_id": 100000 + address.huisnummer,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
        "osm_type": "node",
        "osm_id": 4000000000 + address.huisnummer,
        "lat": f"{address.lat:.7f}",
        "lon": f"{address.lon:.7f}",
        "class": "place",
        "type": "house",
        "place_rank": 30,
        "importance": 0.00001,
        "addresstype": "place",
        "name": "",
        "display_name": (
            f"{address.huis_nlt}, {address.street}, {address.buurtnaam}, Hengelo, Overijssel, "
            f"Nederland, {address.postcode[:4]} {address.postcode[4:]}, Nederland"
        ),
        "address": {
            "house_number": address.huis_nlt,
            "road": address.street,
            "suburb": address.buurtnaam,
            "city": "Hengelo",
            "state": "Overijssel",
            "ISO3166-2-lvl4": "NL-OV",
            "postcode": f"{address.postcode[:4]} {address.postcode[4:]}",
            "country": "Nederland",
            "country_code": "nl",
        },
        "boundingbox": [
            f"{address.lat - 0.0001:.7f}",
            f"{address.lat + 0.0001:.7f}",
            f"{address.lon - 0.0001:.7f}",
            f"{address.lon + 0.0001:.7f}",
        ],
    }


@dataclass
class SeenRequest:
    path: str
    params: dict
    at: float  # time.monotonic() on arrival
    user_agent: str | None


@dataclass
class GeocoderServer:
    """The running server: its URL, what it was asked, and how it should behave."""

    url: str = ""
    requests: list[SeenRequest] = field(default_factory=list)
    delay_seconds: float = 0.0
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str | None = None) -> int:
        with self.lock:
            return sum(1 for r in self.requests if path is None or r.path == path)


def _pdok_docs(q: str) -> list[dict]:
    """Exact hits first, then near misses, as a free search ranks them."""
    text = q.upper().replace(" ", "")
    exact = [a for a in ADDRESSES if text == f"{a.postcode}{a.huis_nlt}".upper()]
    # A free search always finds *something* similar: the same postcode area, another number.
    near = [a for a in ADDRESSES if a not in exact and a.postcode[:4] == text[:4]]
    return [pdok_doc(a, 17.5) for a in exact] + [pdok_doc(a, 9.1) for a in near]


def _nominatim_places(params: dict) -> list[dict]:
    postcode = (params.get("postalcode") or "").replace(" ", "").upper()
    street = (params.get("street") or "").lower()
    found = [a for a in ADDRESSES if a.postcode == postcode]
    if street:
        found = [a for a in found if a.street.lower() in street and a.huis_nlt.lower() in street]
    return [nominatim_place(a) for a in found[:1]]


def _handler(server: GeocoderServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            with server.lock:
                server.requests.append(
                    SeenRequest(
                        parts.path, params, time.monotonic(), self.headers.get("User-Agent")
                    )
                )
                delay, status = server.delay_seconds, server.status
            if delay:
                time.sleep(delay)
            if status != 200:
                return self._send(status, {"error": "server error"})
            if parts.path == PDOK_PATH:
                if params.get("fq") != "type:adres":
                    return self._send(400, {"error": "expected fq=type:adres"})
                rows = int(params.get("rows", 10))
                return self._send(200, pdok_answer(_pdok_docs(params.get("q", ""))[:rows]))
            if parts.path == "/search":
                return self._send(200, _nominatim_places(params))
            return self._send(404, {"error": "not found"})

        def _send(self, status: int, body) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

    return Handler


@pytest.fixture
def geocoder_server():
    """A local PDOK/Nominatim look-alike on a free port, stopped after the test."""
    state = GeocoderServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def use_geocoder(
    monkeypatch, app, provider: str, url: str, *, timeout: float = 2.0, min_delay: float = 0.0
) -> None:
    """Point the app at a geocoder for one test."""
    monkeypatch.setitem(app.config, "GEOCODER", provider)
    monkeypatch.setitem(app.config, "GEOCODER_URL", url)
    monkeypatch.setitem(app.config, "GEOCODER_TIMEOUT_SECONDS", timeout)
    monkeypatch.setitem(app.config, "GEOCODER_MIN_DELAY_SECONDS", min_delay)
    monkeypatch.setitem(app.config, "NOMINATIM_USER_AGENT", "mutualaid-tests")
