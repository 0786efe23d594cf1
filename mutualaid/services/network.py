"""The help network of a neighbourhood: who helped whom, and who knows whom.

Ties between residents of the neighbourhood only (a worker does not see people elsewhere; ties
leaving the neighbourhood are counted, not named). `helped` edges come from done matches
(helper -> requester), `knows` edges from confirmed declarations. A tie is new when it first
appeared within NEW_TIE_DAYS. The layout is a small force-directed one with a fixed seed, so
the same data always gives the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from ..extensions import db
from ..models import HelpRequest, Match, Resident, TrustTie
from ..models.base import utcnow
from .audit import record_view
from .worker_scope import scoped_neighbourhood

NEW_TIE_DAYS = 30
MAX_NODES = 120
WIDTH, HEIGHT, MARGIN = 640, 480, 56


@dataclass
class Node:
    id: int
    first_name: str
    x: float = 0.0
    y: float = 0.0
    degree: int = 0


@dataclass
class Edge:
    source: int  # helper (for `helped`), else the lower id
    target: int
    kind: str  # helped / knows
    times: int
    first_at: datetime
    is_new: bool
    source_name: str = ""
    target_name: str = ""
    x1: float = 0.0
    y1: float = 0.0
    x2: float = 0.0
    y2: float = 0.0


@dataclass
class Network:
    neighbourhood_code: str
    neighbourhood_name: str
    nodes: list[Node]
    edges: list[Edge]
    outside_ties: int
    truncated: bool
    new_since: datetime
    width: int = WIDTH
    height: int = HEIGHT
    legend: list[str] = field(default_factory=list)


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def _helped_edges(members) -> tuple[list[tuple], int]:
    """`helped` ties with both people in the neighbourhood, and how many ties leave it.

    `members` is a select of the neighbourhood's resident ids (hashed once by the database).
    """
    done_at = func.coalesce(Match.done_at, Match.status_changed_at)
    pairs = (
        select(Match.helper_id, HelpRequest.requester_id)
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(Match.status == "done", Match.helper_id != HelpRequest.requester_id)
    )
    rows = db.session.execute(
        pairs.with_only_columns(
            Match.helper_id, HelpRequest.requester_id, func.count(), func.min(done_at)
        )
        .where(Match.helper_id.in_(members), HelpRequest.requester_id.in_(members))
        .group_by(Match.helper_id, HelpRequest.requester_id)
    ).all()
    inside = [("helped", h, r, int(n), _aware(first)) for h, r, n, first in rows]
    leaving = pairs.where(
        Match.helper_id.in_(members) != HelpRequest.requester_id.in_(members)
    ).distinct()
    outside = db.session.scalar(select(func.count()).select_from(leaving.subquery())) or 0
    return inside, int(outside)


def _knows_edges(members) -> tuple[list[tuple], int]:
    ties = select(TrustTie.resident_a_id, TrustTie.resident_b_id, TrustTie.confirmed_at).where(
        TrustTie.kind == "knows", TrustTie.confirmed_at.is_not(None)
    )
    rows = db.session.execute(
        ties.where(TrustTie.resident_a_id.in_(members), TrustTie.resident_b_id.in_(members))
    ).all()
    inside = [("knows", a, b, 1, _aware(at)) for a, b, at in rows]
    leaving = ties.where(TrustTie.resident_a_id.in_(members) != TrustTie.resident_b_id.in_(members))
    outside = db.session.scalar(select(func.count()).select_from(leaving.subquery())) or 0
    return inside, int(outside)


def layout(n: int, pairs: list[tuple[int, int]], *, seed: int = 7, steps: int = 150) -> np.ndarray:
    """Fruchterman-Reingold positions in [0, 1]^2 for n nodes (deterministic for a seed)."""
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.array([[0.5, 0.5]])
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    k = 1.0 / np.sqrt(n)
    src = np.array([a for a, _ in pairs], dtype=int)
    dst = np.array([b for _, b in pairs], dtype=int)
    temperature = 0.1
    for _ in range(steps):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=-1), 1e-3)
        force = (delta / dist[..., None] * (k * k / dist)[..., None]).sum(axis=1)
        if len(src):
            d = pos[src] - pos[dst]
            dl = np.maximum(np.linalg.norm(d, axis=-1), 1e-3)
            pull = d / dl[:, None] * (dl * dl / k)[:, None]
            np.add.at(force, src, -pull)
            np.add.at(force, dst, pull)
        length = np.maximum(np.linalg.norm(force, axis=-1), 1e-9)
        pos += force / length[:, None] * np.minimum(length, temperature)[:, None]
        temperature *= 0.97
    pos -= pos.min(axis=0)
    span = pos.max(axis=0)
    span[span == 0] = 1
    return pos / span


def _place(nodes: list[Node], edges: list[Edge]) -> None:
    index = {node.id: i for i, node in enumerate(nodes)}
    pos = layout(len(nodes), [(index[e.source], index[e.target]) for e in edges])
    for node, (x, y) in zip(nodes, pos, strict=True):
        node.x = round(MARGIN + x * (WIDTH - 2 * MARGIN), 1)
        node.y = round(MARGIN + y * (HEIGHT - 2 * MARGIN), 1)
    by_id = {node.id: node for node in nodes}
    for e in edges:
        a, b = by_id[e.source], by_id[e.target]
        # Stop lines at the circle's edge (radius 14) so arrow heads stay visible.
        dx, dy = b.x - a.x, b.y - a.y
        length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
        ux, uy = dx / length, dy / length
        e.x1, e.y1 = round(a.x + ux * 14, 1), round(a.y + uy * 14, 1)
        e.x2, e.y2 = round(b.x - ux * 18, 1), round(b.y - uy * 18, 1)


def help_network(actor_user_id: int, code: str, *, now: datetime | None = None) -> Network:
    """The help ties of a neighbourhood with a deterministic layout; audits each person shown."""
    neighbourhood = scoped_neighbourhood(actor_user_id, code)
    now = now or utcnow()
    new_since = now - timedelta(days=NEW_TIE_DAYS)
    members = select(Resident.id).where(
        Resident.neighbourhood_id == neighbourhood.id, Resident.erased_at.is_(None)
    )
    helped, out_helped = _helped_edges(members)
    knows, out_knows = _knows_edges(members)
    raw = helped + knows
    degree: dict[int, int] = {}
    for _, a, b, _, _ in raw:
        degree[a] = degree.get(a, 0) + 1
        degree[b] = degree.get(b, 0) + 1
    # Most connected first; a huge neighbourhood shows its MAX_NODES best-connected people.
    keep = sorted(degree, key=lambda rid: (-degree[rid], rid))[:MAX_NODES]
    kept = set(keep)
    names = dict(
        db.session.execute(
            select(Resident.id, Resident.first_name).where(Resident.id.in_(keep or [-1]))
        ).all()
    )
    nodes = [Node(rid, names[rid], degree=degree[rid]) for rid in sorted(keep)]
    edges = [
        Edge(a, b, kind, times, first, first >= new_since, names[a], names[b])
        for kind, a, b, times, first in sorted(raw, key=lambda t: (t[1], t[2], t[0]))
        if a in kept and b in kept
    ]
    _place(nodes, edges)
    record_view(
        actor_user_id,
        "network",
        [node.id for node in nodes],
        reason="help network",
        detail={"neighbourhood": neighbourhood.code},
    )
    return Network(
        neighbourhood.code,
        neighbourhood.name,
        nodes,
        edges,
        out_helped + out_knows,
        len(degree) > MAX_NODES,
        new_since,
    )
