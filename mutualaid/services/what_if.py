"""What-if: how would the suggestions of the open requests change under other weights?

The worker sets the six weights (or switches a part off with weight 0) and sees, for the open
requests in their neighbourhoods, which get a different top helper and how ranks move. Both
rankings come from `matching.preview_rankings`, which stores nothing; the only row written is
the audit trail of the view. Only an admin can make such weights the default: a new, active
`RankerVersion` (the previous one is deactivated), which `matching.active_weights()` then reads.
"""

from __future__ import annotations

import hashlib
import json
import math

from sqlalchemy import select, update

from ..errors import Invalid, NotAllowed
from ..extensions import db
from ..matching import PART_NAMES
from ..models import HelpRequest, RankerVersion, Resident, User
from ..models.base import utcnow
from .audit import record_event, record_view
from .casework import scope_ids
from .matching import active_weights, preview_rankings
from .transactions import commit

# A what-if looks at this many open requests at most (the oldest first: they wait longest).
WHAT_IF_LIMIT = 500


def parse_weights(values: dict) -> dict[str, float]:
    """Six weights in [0, 1], at least one above 0; unknown or missing parts are refused."""
    unknown = sorted(set(values) - set(PART_NAMES))
    if unknown:
        raise Invalid(f"unknown score part {unknown[0]}", field=unknown[0], rule="unknown")
    weights = {}
    for part in PART_NAMES:
        if values.get(part) in (None, ""):
            raise Invalid(f"{part} is required", field=part, rule="required")
        try:
            weight = float(values[part])
        except (TypeError, ValueError):
            raise Invalid(f"{part} must be a number", field=part, rule="number") from None
        if not math.isfinite(weight) or not 0 <= weight <= 1:
            raise Invalid(f"{part} must be between 0 and 1", field=part, rule="range")
        weights[part] = weight
    if not any(weights.values()):
        raise Invalid(
            "at least one weight must be above 0", field=PART_NAMES[0], rule="not_all_zero"
        )
    return weights


def current_weights() -> tuple[dict[str, float], str]:
    """The weights in use now and the version they come from."""
    weights, version = active_weights()
    return weights.as_dict(), version


def _open_request_ids(scope: set[int] | None) -> list[int]:
    statement = (
        select(HelpRequest.id)
        .where(HelpRequest.status == "open")
        .order_by(HelpRequest.created_at, HelpRequest.id)
        .limit(WHAT_IF_LIMIT)
    )
    if scope is not None:
        statement = statement.where(HelpRequest.neighbourhood_id.in_(scope or [-1]))
    return list(db.session.scalars(statement))


def _rank_moves(now: list[dict], then: list[dict], names: dict[int, str]) -> list[dict]:
    """Per helper in either ranking: rank now, rank with the new weights (None: not in top)."""
    before = {c["offer_id"]: c for c in now}
    after = {c["offer_id"]: c for c in then}
    moves = []
    for offer_id in dict.fromkeys([*before, *after]):
        a, b = before.get(offer_id), after.get(offer_id)
        moves.append(
            {
                "offer_id": offer_id,
                "helper_id": (a or b)["helper_id"],
                "helper_first_name": names.get((a or b)["helper_id"]),
                "rank_now": a["rank"] if a else None,
                "rank_new": b["rank"] if b else None,
            }
        )
    return sorted(moves, key=lambda m: (m["rank_new"] or 10**6, m["rank_now"] or 10**6))


def what_if(actor_id: int, values: dict, top_k: int = 10) -> dict:
    """Compare the current top helpers of the open requests in scope with those under `values`."""
    weights = parse_weights(values)
    scope = scope_ids(actor_id)
    request_ids = _open_request_ids(scope)
    now = preview_rankings(request_ids)
    then = preview_rankings(request_ids, weights=weights)
    requests = {
        r.id: r
        for r in db.session.scalars(select(HelpRequest).where(HelpRequest.id.in_(request_ids)))
    }
    helper_ids = {c["helper_id"] for ranked in (*now.values(), *then.values()) for c in ranked}
    names = dict(
        db.session.execute(
            select(Resident.id, Resident.first_name).where(Resident.id.in_(helper_ids))
        ).all()
    )
    rows = []
    for request_id in request_ids:
        if request_id not in now:
            continue
        before, after = now[request_id], then.get(request_id, [])
        top_now = before[0] if before else None
        top_new = after[0] if after else None
        request = requests[request_id]
        rows.append(
            {
                "request_id": request_id,
                "category": request.category.code,
                "category_nl": request.category.name_nl,
                "category_en": request.category.name_en,
                "requester_first_name": request.requester.first_name,
                "top_now": _top(top_now, names),
                "top_new": _top(top_new, names),
                "changed": (top_now or {}).get("offer_id") != (top_new or {}).get("offer_id"),
                "moves": _rank_moves(before, after, names),
            }
        )
    current, version = current_weights()
    shown = [r_id for r_id in (requests[row["request_id"]].requester_id for row in rows)]
    record_view(
        actor_id,
        "what_if",
        [*shown, *helper_ids],
        reason="what-if",
        detail={"weights": weights, "requests": len(rows)},
    )
    return {
        "weights": weights,
        "current_weights": current,
        "current_version": version,
        "requests": rows,
        "changed": sum(1 for r in rows if r["changed"]),
    }


def _top(candidate: dict | None, names: dict[int, str]) -> dict | None:
    if candidate is None:
        return None
    return {
        "offer_id": candidate["offer_id"],
        "helper_id": candidate["helper_id"],
        "helper_first_name": names.get(candidate["helper_id"]),
        "score": candidate["score"],
        "distance_m": candidate["distance_m"],
    }


def make_default_weights(actor_id: int, values: dict, source_user_id: int | None = None) -> dict:
    """An admin makes these weights the default: a new active ranker version (audited)."""
    actor = db.session.get(User, actor_id)
    if actor is None or actor.role != "admin" or not actor.is_enabled:
        raise NotAllowed("only an admin can change the default weights", rule="admin")
    weights = parse_weights(values)
    source = source_user_id or actor_id
    digest = hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:8]
    version = f"whatif-{utcnow():%Y%m%d%H%M%S}-{digest}"
    db.session.execute(update(RankerVersion).values(is_active=False))
    row = RankerVersion(
        version=version,
        weights=weights,
        metrics={"source": f"what-if by user {source}", "set_by_user": actor_id},
        outcomes_used=0,
        is_active=True,
        created_by_user_id=actor_id,
    )
    db.session.add(row)
    record_event(
        actor_id,
        "ranker.weights_default",
        object_type="ranker_version",
        object_id=version,
        detail={"weights": weights, "source_user_id": source},
    )
    commit()
    return {"version": version, "weights": weights}
