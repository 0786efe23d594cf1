"""Locust scenario for mutualaid (driven by run_load.py; tokens come from prepare.py).

User classes (picked per step by run_load.py with `--class-picker`-free class names):
- Resident: browses (overview, own requests' suggestions, open requests nearby, matches,
  notifications), asks, offers, invites a suggested helper, accepts an invitation, messages.
- Worker: the worker dashboards through the API (follow-up, newly active, involvement).
- Municipality: the monitoring aggregates.
- ApiReader: JSON API GETs only (resident reads), for the GET throughput target.
- SuggestionsReader: a resident's top-10 suggestions read on its own.
- HealthReader: GET /api/v1/health, the baseline in the same run.

A 409 on invite/accept (someone else was first) is an expected answer, not an error.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, between, constant, task

with open(os.environ["LOAD_TOKENS"]) as _handle:
    TOKENS = json.load(_handle)
_resident_tokens = itertools.cycle(TOKENS["residents"])
_asker_tokens = itertools.cycle(TOKENS["askers"] or TOKENS["residents"])
_worker_tokens = itertools.cycle(TOKENS["workers"] or [{"token": "", "codes": []}])
_municipality_tokens = itertools.cycle(TOKENS["municipality"] or [{"token": "", "codes": []}])
CATEGORIES = ("boodschappen", "vervoer", "gezelschap", "klusjes", "digitale_hulp")


def _items(response) -> list:
    try:
        data = response.json()
    except Exception:
        return []
    if isinstance(data, dict):
        return data.get("items") or []
    return data if isinstance(data, list) else []


class _Resident(FastHttpUser):
    abstract = True
    tokens = _resident_tokens

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {next(self.tokens)}"}
        mine = self.client.get("/api/v1/requests", headers=self.headers, name="GET requests")
        self.request_ids = [r["id"] for r in _items(mine) if r.get("status") == "open"]
        self.match_ids: list[int] = []

    def _get(self, path: str, name: str):
        return self.client.get(path, headers=self.headers, name=name)

    def _suggestions(self):
        if not self.request_ids:
            return self._get("/api/v1/overview", "GET overview")
        request_id = random.choice(self.request_ids)
        return self._get(f"/api/v1/requests/{request_id}/suggestions", "GET suggestions")


class Resident(_Resident):
    """Mixed flows: mostly browsing, sometimes asking, offering, inviting, accepting, messaging."""

    wait_time = between(0.5, 2.0)
    weight = 8

    @task(4)
    def overview(self) -> None:
        self._get("/api/v1/overview", "GET overview")

    @task(4)
    def suggestions(self) -> None:
        self._suggestions()

    @task(3)
    def open_requests(self) -> None:
        self._get("/api/v1/open-requests?per_page=20", "GET open-requests")

    @task(2)
    def matches(self) -> None:
        found = _items(self._get("/api/v1/matches", "GET matches"))
        self.match_ids = [m["match_id"] for m in found if m.get("status") in ("accepted", "done")]

    @task(1)
    def notifications(self) -> None:
        self._get("/api/v1/me/notifications", "GET notifications")

    @task(1)
    def ask(self) -> None:
        body = {"category": random.choice(CATEGORIES), "description": "Hulp gezocht (load test)"}
        with self.client.post(
            "/api/v1/requests", json=body, headers=self.headers, name="POST request",
            catch_response=True,
        ) as answer:  # fmt: skip
            if answer.status_code == 201:
                self.request_ids.append(answer.json()["id"])
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:160]}")

    @task(1)
    def offer(self) -> None:
        body = {"categories": [random.choice(CATEGORIES)], "description": "Ik help graag (load)"}
        with self.client.post(
            "/api/v1/offers",
            json=body,
            headers=self.headers,
            name="POST offer",
            catch_response=True,
        ) as answer:
            if answer.status_code in (201, 409):
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:160]}")

    @task(1)
    def invite(self) -> None:
        if not self.request_ids:
            return
        found = _items(self._suggestions())
        if found:
            self._expected(f"/api/v1/matches/{found[0]['match_id']}/invite", "POST invite")

    @task(1)
    def accept(self) -> None:
        found = _items(self._get("/api/v1/invitations", "GET invitations"))
        if found:
            self._expected(f"/api/v1/matches/{found[0]['match_id']}/accept", "POST accept")

    @task(1)
    def message(self) -> None:
        if not self.match_ids:
            return
        match_id = random.choice(self.match_ids)
        self._get(f"/api/v1/matches/{match_id}/messages", "GET messages")
        body = {"body": "Tot morgen! (load test)"}
        path = f"/api/v1/matches/{match_id}/messages"
        self.client.post(path, json=body, headers=self.headers, name="POST message")

    def _expected(self, path: str, name: str) -> None:
        with self.client.post(path, headers=self.headers, name=name, catch_response=True) as answer:
            if answer.status_code in (200, 201, 409):
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:160]}")


class Worker(FastHttpUser):
    wait_time = between(1.0, 3.0)
    weight = 1

    def on_start(self) -> None:
        account = next(_worker_tokens)
        self.headers = {"Authorization": f"Bearer {account['token']}"}
        self.codes = account["codes"] or ["BU01640101"]

    @task(2)
    def follow_up(self) -> None:
        self.client.get("/api/v1/follow-up", headers=self.headers, name="GET follow-up")

    @task(2)
    def newly_active(self) -> None:
        self.client.get("/api/v1/newly-active", headers=self.headers, name="GET newly-active")

    @task(2)
    def involvement(self) -> None:
        code = random.choice(self.codes)
        path = f"/api/v1/neighbourhoods/{code}/involvement"
        self.client.get(path, headers=self.headers, name="GET involvement")


class Municipality(FastHttpUser):
    wait_time = between(1.0, 3.0)
    weight = 1

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {next(_municipality_tokens)['token']}"}

    @task
    def monitoring(self) -> None:
        self.client.get("/api/v1/monitoring", headers=self.headers, name="GET monitoring")

    @task
    def monitoring_weeks(self) -> None:
        self.client.get(
            "/api/v1/monitoring?period=week", headers=self.headers, name="GET monitoring (weeks)"
        )


class ApiReader(_Resident):
    """JSON API GETs only, no think time: the GET throughput target."""

    wait_time = constant(0)

    @task(2)
    def overview(self) -> None:
        self._get("/api/v1/overview", "GET overview")

    @task(2)
    def suggestions(self) -> None:
        self._suggestions()

    @task(1)
    def open_requests(self) -> None:
        self._get("/api/v1/open-requests?per_page=20", "GET open-requests")

    @task(1)
    def matches(self) -> None:
        self._get("/api/v1/matches", "GET matches")


class SuggestionsReader(_Resident):
    """A resident's top-10 suggestions, read on its own, no think time."""

    wait_time = constant(0)
    tokens = _asker_tokens

    @task
    def suggestions(self) -> None:
        self._suggestions()


class HealthReader(FastHttpUser):
    """The baseline: GET /api/v1/health (a database round trip and Redis pings)."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/api/v1/health", name="GET health")
