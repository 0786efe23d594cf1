"""The worker's landing page: their neighbourhoods with counts (no person, so not audited)."""

from __future__ import annotations

from dataclasses import dataclass

from .followup import queue_counts
from .involvement import involvement_counts
from .newly_active import newly_active_counts
from .worker_scope import scope_ids, scoped_neighbourhoods

# An admin covers every neighbourhood; the landing page then lists only the busiest ones.
MAX_LISTED = 100


@dataclass
class NeighbourhoodCounts:
    code: str
    name: str
    active: int
    newly_active: int
    follow_up: int


@dataclass
class WorkerOverview:
    neighbourhoods: list[NeighbourhoodCounts]
    newly_active: int
    follow_up: int
    follow_up_by_kind: dict[str, int]
    is_admin: bool


def worker_overview(actor_user_id: int) -> WorkerOverview:
    """Counts per neighbourhood of the actor's scope: active, newly active, follow-up items."""
    ids = scope_ids(actor_user_id)
    places = scoped_neighbourhoods(actor_user_id)
    place_ids = [p.id for p in places]
    active = involvement_counts(place_ids)
    new = newly_active_counts(place_ids)
    # Counts only: the queue is counted from a few columns per item, no person is read.
    by_kind, per_place = queue_counts(ids)
    rows = [
        NeighbourhoodCounts(
            p.code,
            p.name,
            active.get(p.id, {}).get("active", 0),
            new.get(p.id, 0),
            per_place.get(p.id, 0),
        )
        for p in places
    ]
    if ids is None:
        rows = sorted(rows, key=lambda r: (-r.follow_up, -r.newly_active, r.name))[:MAX_LISTED]
    return WorkerOverview(
        rows, sum(new.values()), sum(by_kind.values()), by_kind, is_admin=ids is None
    )
