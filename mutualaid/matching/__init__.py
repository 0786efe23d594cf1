"""The pure matching engine: plain arrays in, ranked and explained candidates out.

No Flask, SQLAlchemy, rq or Redis here (a test enforces it); the service layer feeds it.
"""

from .assignment import (
    Assignment,
    assign_greedy,
    assign_independent_top1,
    assign_optimal,
    compare_assignments,
)
from .availability import describe_slots, popcount, slot_bit, slots_for_window, slots_from_pairs
from .candidates import OfferIndex
from .errors import EngineInputError
from .explain import explain, explain_one, format_distance
from .learning import LearnedWeights, fit_weights, ndcg_at_k
from .params import DEFAULT_PARAMS, ENGINE_VERSION, PART_NAMES, POLICY_PARTS, Params, Weights
from .ranking import rank
from .types import Candidates, Exclusions, History, OfferBatch, RequestBatch, TrustGraph

__all__ = [
    "DEFAULT_PARAMS",
    "ENGINE_VERSION",
    "PART_NAMES",
    "POLICY_PARTS",
    "Assignment",
    "Candidates",
    "EngineInputError",
    "Exclusions",
    "History",
    "LearnedWeights",
    "OfferBatch",
    "OfferIndex",
    "Params",
    "RequestBatch",
    "TrustGraph",
    "Weights",
    "assign_greedy",
    "assign_independent_top1",
    "assign_optimal",
    "compare_assignments",
    "describe_slots",
    "explain",
    "explain_one",
    "fit_weights",
    "format_distance",
    "ndcg_at_k",
    "popcount",
    "rank",
    "slot_bit",
    "slots_for_window",
    "slots_from_pairs",
]
