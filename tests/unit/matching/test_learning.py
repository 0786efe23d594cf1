"""Learning weights from outcomes, with a fallback to the defaults when data is thin."""

import numpy as np
import pytest

from mutualaid.matching import (
    PART_NAMES,
    POLICY_PARTS,
    EngineInputError,
    Weights,
    fit_weights,
    ndcg_at_k,
)


def outcomes(n_requests: int, seed: int = 0):
    """Residents here accept helpers mostly for availability, hardly for proximity."""
    rng = np.random.default_rng(seed)
    parts = rng.random((n_requests * 8, 6))
    groups = np.repeat(np.arange(n_requests), 8)
    utility = 4.0 * parts[:, 1] + 0.3 * parts[:, 0] - 2.2
    labels = (rng.random(len(parts)) < 1 / (1 + np.exp(-utility))).astype(int)
    return parts, labels, groups


def test_learned_weights_find_what_matters_and_beat_the_defaults_on_held_out_requests():
    parts, labels, groups = outcomes(300)
    result = fit_weights(parts, labels, groups, seed=0)
    assert result.learned, result.reason
    weights = result.weights.as_dict()
    assert max(weights, key=weights.get) == "availability"
    assert result.metrics["ndcg5_learned"] > result.metrics["ndcg5_default"]
    assert result.version.startswith("learned-")
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-3)


def test_fitting_is_deterministic():
    parts, labels, groups = outcomes(300)
    assert fit_weights(parts, labels, groups).weights == fit_weights(parts, labels, groups).weights


def test_thin_data_keeps_the_defaults_and_says_why():
    parts, labels, groups = outcomes(10)
    result = fit_weights(parts, labels, groups)
    assert not result.learned and result.weights == Weights()
    assert "too few outcomes" in result.reason


def test_bad_training_input_is_named():
    with pytest.raises(EngineInputError, match="parts"):
        fit_weights(np.zeros((10, 3)), np.zeros(10), np.zeros(10))
    with pytest.raises(EngineInputError, match="parts"):
        fit_weights(np.full((10, 6), np.nan), np.zeros(10), np.zeros(10))


def test_ndcg_is_one_for_a_perfect_ranking():
    scores = np.array([0.9, 0.1, 0.8, 0.2])
    labels = np.array([1, 0, 1, 0])
    groups = np.array([0, 0, 1, 1])
    assert ndcg_at_k(scores, labels, groups) == 1.0
    assert ndcg_at_k(-scores, labels, groups) < 1.0


def test_learning_keeps_the_policy_parts_at_their_configured_weights():
    # Simulated outcomes where only availability and trust predict acceptance: a plain fit
    # would set fairness, continuity and language to zero.
    parts, labels, groups = outcomes(400, seed=3)
    configured = Weights(fairness=0.15, continuity=0.12, language=0.03)
    result = fit_weights(parts, labels, groups, defaults=configured)
    assert result.learned, result.reason
    learned, wanted = result.weights.as_dict(), configured.as_array()
    for name in POLICY_PARTS:
        assert learned[name] == pytest.approx(wanted[PART_NAMES.index(name)], abs=1e-4)
    assert max(learned, key=learned.get) == "availability"
    assert sum(learned.values()) == pytest.approx(1.0, abs=1e-3)


def test_thin_data_still_falls_back_with_policy_parts():
    parts, labels, groups = outcomes(10, seed=3)
    configured = Weights(fairness=0.3)
    result = fit_weights(parts, labels, groups, defaults=configured)
    assert not result.learned and result.weights == configured
