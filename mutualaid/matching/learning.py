"""Learning ranking weights from outcomes (accepted/done = 1, declined/ignored = 0).

A logistic regression on the six score parts, validated on held-out requests with NDCG@5
against the default weights. Only the predictive parts take learned weights; the policy parts
(`POLICY_PARTS`: fairness, continuity, language) keep their configured weights, and the
predictive ones share the rest in the learned proportions. The learned weights are used only
when there is enough data and they rank the held-out outcomes better; otherwise the defaults
stay, with the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .errors import EngineInputError
from .params import PART_NAMES, POLICY_PARTS, Weights


@dataclass
class LearnedWeights:
    weights: Weights
    learned: bool
    reason: str
    version: str
    metrics: dict[str, float] = field(default_factory=dict)


def ndcg_at_k(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray, k: int = 5) -> float:
    """Mean NDCG@k over groups (requests) that have at least one positive outcome."""
    values = []
    for group in np.unique(groups):
        idx = np.flatnonzero(groups == group)
        rel = labels[idx]
        if rel.sum() == 0:
            continue
        order = idx[np.lexsort((idx, -scores[idx]))][:k]
        gains = labels[order] / np.log2(np.arange(2, len(order) + 2))
        ideal = np.sort(rel)[::-1][:k] / np.log2(np.arange(2, min(k, len(rel)) + 2))
        values.append(gains.sum() / ideal.sum())
    return float(np.mean(values)) if values else 0.0


def _version(weights: np.ndarray, n: int) -> str:
    digest = hashlib.sha1(np.round(weights, 4).tobytes() + str(n).encode()).hexdigest()[:8]
    return f"learned-{digest}"


def fit_weights(
    parts: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    *,
    defaults: Weights | None = None,
    min_outcomes: int = 200,
    min_per_class: int = 20,
    holdout: float = 0.25,
    seed: int = 0,
) -> LearnedWeights:
    """Fit weights on the parts, or return the defaults with the reason why."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupShuffleSplit

    defaults = defaults or Weights()
    parts = np.asarray(parts, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    groups = np.asarray(groups)
    if parts.ndim != 2 or parts.shape[1] != len(PART_NAMES):
        raise EngineInputError("parts", f"must be an (n, {len(PART_NAMES)}) array")
    if not (len(parts) == len(labels) == len(groups)):
        raise EngineInputError("labels", "parts, labels and groups differ in length")
    if not np.isfinite(parts).all():
        raise EngineInputError("parts", "contains NaN or infinite values")
    positives = int(labels.sum())
    if len(labels) < min_outcomes or min(positives, len(labels) - positives) < min_per_class:
        return LearnedWeights(
            defaults,
            False,
            f"too few outcomes ({len(labels)} with "
            f"{positives} positive; need {min_outcomes} and {min_per_class} "
            "of each kind)",
            "default",
        )
    split = GroupShuffleSplit(n_splits=1, test_size=holdout, random_state=seed)
    train, test = next(split.split(parts, labels, groups))
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    # All six parts go into the fit (so policy parts do not bias the others), but only the
    # predictive coefficients become weights.
    model.fit(parts[train], labels[train])
    default_array = defaults.as_array()
    policy = np.array([name in POLICY_PARTS for name in PART_NAMES])
    learned = np.where(policy, 0.0, np.clip(model.coef_.ravel(), 0.0, None))
    if learned.sum() <= 0:
        return LearnedWeights(defaults, False, "no predictive part predicts acceptance", "default")
    learned = learned / learned.sum() * (1.0 - default_array[policy].sum())
    learned[policy] = default_array[policy]
    ndcg_learned = ndcg_at_k(parts[test] @ learned, labels[test], groups[test])
    ndcg_default = ndcg_at_k(parts[test] @ default_array, labels[test], groups[test])
    metrics = {
        "ndcg5_learned": round(ndcg_learned, 4),
        "ndcg5_default": round(ndcg_default, 4),
        "train": len(train),
        "test": len(test),
    }
    if ndcg_learned <= ndcg_default:
        return LearnedWeights(
            defaults,
            False,
            "learned weights do not rank held-out outcomes better than the defaults",
            "default",
            metrics,
        )
    weights = Weights(**dict(zip(PART_NAMES, np.round(learned, 4).tolist(), strict=True)))
    return LearnedWeights(
        weights, True, "learned from outcomes", _version(learned, len(labels)), metrics
    )
