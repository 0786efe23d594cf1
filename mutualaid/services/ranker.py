"""Learning the ranking weights from outcomes and keeping them versioned."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select, update

from .. import matching as engine
from ..extensions import db
from ..models import SCORE_PARTS, Match, RankerVersion
from .transactions import commit

POSITIVE = ("accepted", "done")
NEGATIVE = ("declined", "expired")


def load_outcomes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score parts, outcome (1 accepted/done, 0 declined/ignored) and request of engine matches."""
    columns = [getattr(Match, f"score_{p}") for p in SCORE_PARTS]
    rows = db.session.execute(
        select(*columns, Match.status, Match.request_id).where(
            Match.proposed_by == "engine", Match.status.in_(POSITIVE + NEGATIVE)
        )
    ).all()
    parts = np.array([r[:6] for r in rows], dtype=np.float64).reshape(-1, 6)
    labels = np.array([r[6] in POSITIVE for r in rows], dtype=np.int64)
    groups = np.array([r[7] for r in rows], dtype=np.int64)
    return parts, labels, groups


def retrain(min_outcomes: int = 200) -> dict:
    """Fit weights; store and activate them only if they beat the defaults on held-out data."""
    parts, labels, groups = load_outcomes()
    result = engine.fit_weights(parts, labels, groups, min_outcomes=min_outcomes)
    known = db.session.scalar(select(RankerVersion).where(RankerVersion.version == result.version))
    if result.learned and known is None:
        db.session.execute(update(RankerVersion).values(is_active=False))
        db.session.add(
            RankerVersion(
                version=result.version,
                weights=result.weights.as_dict(),
                metrics=result.metrics,
                outcomes_used=len(labels),
                is_active=True,
            )
        )
        commit()
    return {
        "learned": result.learned,
        "reason": result.reason,
        "version": result.version,
        "outcomes": len(labels),
        **result.metrics,
    }
