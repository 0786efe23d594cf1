"""Trust ties derived from completed help: stronger with more help and good feedback, fading
with time. `knows` and `group` ties are declared; `helped` ties are rebuilt here."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import HelpRequest, Match, TrustTie
from ..models.base import utcnow
from .transactions import commit

HALF_LIFE_DAYS = 365


def helped_weight(times: int, mean_rating: float | None, days_since_last: float) -> float:
    """Weight in [0, 1]: 0.5 for one help, up to 0.9 for repeated help, feedback +/- 0.1,
    halving every HALF_LIFE_DAYS since the last help."""
    base = min(0.9, 0.5 + 0.1 * (times - 1))
    if mean_rating is not None:
        base += 0.1 * (mean_rating - 3) / 2  # ratings 1..5: 3 is neutral
    decay = 0.5 ** (max(days_since_last, 0.0) / HALF_LIFE_DAYS)
    return round(min(1.0, max(0.0, base * decay)), 4)


def rebuild_helped_ties() -> dict[str, int]:
    """Recompute every `helped` tie from done matches in one transaction."""
    now = utcnow()
    rows = db.session.execute(
        select(
            HelpRequest.requester_id,
            Match.helper_id,
            func.count(),
            func.avg(Match.feedback_rating),
            func.max(Match.status_changed_at),
        )
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(Match.status == "done", HelpRequest.requester_id != Match.helper_id)
        .group_by(HelpRequest.requester_id, Match.helper_id)
    ).all()
    weights: dict[tuple[int, int], float] = {}
    for requester, helper, times, rating, last in rows:
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        key = (min(requester, helper), max(requester, helper))
        weight = helped_weight(
            times,
            float(rating) if rating is not None else None,
            (now - last).total_seconds() / 86400,
        )
        weights[key] = max(weight, weights.get(key, 0.0))
    existing = {
        (t.resident_a_id, t.resident_b_id): t
        for t in db.session.scalars(select(TrustTie).where(TrustTie.kind == "helped"))
    }
    for key, weight in weights.items():
        tie = existing.pop(key, None)
        if tie is None:
            db.session.add(
                TrustTie(
                    resident_a_id=key[0],
                    resident_b_id=key[1],
                    kind="helped",
                    weight=weight,
                    confirmed_at=now,
                )
            )
        else:
            tie.weight = weight
    if existing:
        db.session.execute(
            delete(TrustTie).where(TrustTie.id.in_([t.id for t in existing.values()]))
        )
    commit()
    return {"helped_ties": len(weights), "removed": len(existing)}
