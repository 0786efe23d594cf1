"""Every tuning parameter of the engine, with its default, in one place."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

ENGINE_VERSION = "1.0"
PART_NAMES = ("proximity", "availability", "trust", "continuity", "language", "fairness")
# Parts that are policy, not predictors of acceptance: learning keeps their configured weights.
# Fairness spreads work and gives new helpers a first chance; continuity keeps the ties the
# service exists to grow (outcome data rarely holds a previous helper, so a fit would drop it);
# language fit protects the few who need their own language (the majority's outcomes would
# learn it away). Learning fits only proximity, availability and trust.
POLICY_PARTS = ("continuity", "language", "fairness")


@dataclass(frozen=True)
class Weights:
    """How much each score part counts; they sum to 1 so the total stays in [0, 1]."""

    proximity: float = 0.35
    availability: float = 0.20
    trust: float = 0.20
    continuity: float = 0.10
    language: float = 0.05
    fairness: float = 0.10

    def as_array(self):
        import numpy as np

        values = np.array([getattr(self, n) for n in PART_NAMES], dtype=np.float64)
        total = values.sum()
        return values / total if total > 0 else np.full(len(PART_NAMES), 1 / len(PART_NAMES))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> Weights:
        return cls(**{n: float(values.get(n, 0.0)) for n in PART_NAMES})


@dataclass(frozen=True)
class Params:
    """Candidate generation, scoring shape and ranking size."""

    top_k: int = 10
    # The candidates of a request are its `candidate_pool` nearest offers that pass every hard
    # filter; only they are scored. The k-d tree is asked for `initial_k` nearest first, and k
    # grows for requests with too few eligible ones until the pool is full or nothing nearer
    # than the allowed distance is left.
    candidate_pool: int = 16
    initial_k: int = 24
    k_growth: int = 4
    max_k: int = 4096
    # Proximity: exp(-distance / scale), plus bonuses for same street / same neighbourhood.
    proximity_scale_m: float = 1500.0
    same_street_bonus: float = 0.15
    same_neighbourhood_bonus: float = 0.05
    # Trust: a direct tie counts fully, a two-hop path (through someone both trust) discounted.
    two_hop_discount: float = 0.8
    tie_share: float = 0.7  # the rest is the helper's standing
    standing_vouched: float = 0.3
    standing_vog: float = 0.2
    standing_helps: float = 0.3
    standing_feedback: float = 0.2
    helps_saturation: float = 3.0
    # Fairness: fewer active matches and recent notifications rank higher.
    notification_penalty: float = 0.5
    newcomer_floor: float = 0.9
    weights: Weights = field(default_factory=Weights)


DEFAULT_PARAMS = Params()
