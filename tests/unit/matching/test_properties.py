"""Property tests (hypothesis): invariants that must hold for any town."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualaid.matching import TrustGraph, rank
from mutualaid.matching.geo import haversine_m
from mutualaid.matching.params import DEFAULT_PARAMS
from mutualaid.matching.scoring import availability, tie_strength
from tests.unit.matching.engine_builders import CENTRE, offers, requests

SLOTS = st.integers(min_value=0, max_value=(1 << 21) - 1)


@st.composite
def towns(draw):
    n_req = draw(st.integers(1, 6))
    n_off = draw(st.integers(1, 12))
    coords = st.floats(-0.03, 0.03)
    req = requests(
        n_req,
        lat=[CENTRE[0] + draw(coords) for _ in range(n_req)],
        lon=[CENTRE[1] + draw(coords) for _ in range(n_req)],
        category=[draw(st.integers(0, 2)) for _ in range(n_req)],
        max_distance_m=[draw(st.sampled_from([500.0, 2000.0, 5000.0])) for _ in range(n_req)],
        slots=[draw(SLOTS) for _ in range(n_req)],
        needs_vog=[draw(st.booleans()) for _ in range(n_req)],
        languages=[draw(st.integers(1, 7)) for _ in range(n_req)],
        needs_shared_language=[draw(st.booleans()) for _ in range(n_req)],
        requester_ids=[draw(st.integers(1, 8)) for _ in range(n_req)],
    )
    off = offers(
        [0.0] * n_off,
        lat=[CENTRE[0] + draw(coords) for _ in range(n_off)],
        lon=[CENTRE[1] + draw(coords) for _ in range(n_off)],
        category_mask=[draw(st.integers(1, 7)) for _ in range(n_off)],
        radius_m=[draw(st.sampled_from([300.0, 1000.0, 3000.0])) for _ in range(n_off)],
        capacity=[draw(st.integers(0, 2)) for _ in range(n_off)],
        active_matches=[draw(st.integers(0, 1)) for _ in range(n_off)],
        vog_valid=[draw(st.booleans()) for _ in range(n_off)],
        languages=[draw(st.integers(1, 7)) for _ in range(n_off)],
        helper_ids=[draw(st.integers(1, 8)) for _ in range(n_off)],
    )
    return req, off


@settings(max_examples=150, deadline=None)
@given(towns())
def test_no_returned_candidate_violates_a_hard_filter(town):
    req, off = town
    result = rank(req, off)
    for r, o in zip(result.request_idx.tolist(), result.offer_idx.tolist(), strict=True):
        d = haversine_m(req.lat[r], req.lon[r], off.lat[o], off.lon[o])
        assert (off.category_mask[o] >> req.category[r]) & 1
        assert d <= off.radius_m[o] + 1e-6 and d <= req.max_distance_m[r] + 1e-6
        assert not req.needs_vog[r] or off.vog_valid[o]
        assert not req.needs_shared_language[r] or req.languages[r] & off.languages[o]
        assert off.capacity[o] > off.active_matches[o]
        assert req.requester_ids[r] != off.helper_ids[o]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(10, 4000), min_size=2, max_size=8, unique=True))
def test_all_else_equal_a_closer_helper_never_ranks_below_a_farther_one(distances):
    # Whole metres: totals are ordered at 2**-20 resolution, so helpers millimetres apart
    # (found by hypothesis: 52.2656 m vs 52.2637 m) count as equally near, ties by offer.
    req, off = requests(), offers([float(d) for d in distances])
    result = rank(req, off)
    ranked_distances = result.distance_m[np.argsort(result.rank)]
    assert np.all(np.diff(ranked_distances) >= -1e-6)


@settings(max_examples=200, deadline=None)
@given(SLOTS, SLOTS, SLOTS)
def test_more_availability_overlap_never_lowers_the_availability_part(wanted, offered, extra):
    before, _ = availability(np.array([wanted]), np.array([offered]))
    after, _ = availability(np.array([wanted]), np.array([offered | extra]))
    if offered != 0:  # an empty offer mask means "any time" already
        assert after[0] >= before[0]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.floats(0, 1)), max_size=12),
    st.integers(1, 6),
    st.integers(1, 6),
    st.floats(0, 1),
)
def test_adding_a_trust_tie_never_lowers_the_trust_part(edges, a, b, weight):
    pairs_a, pairs_b = np.arange(1, 7).repeat(6), np.tile(np.arange(1, 7), 6)

    def strengths(edge_list):
        if not edge_list:
            return tie_strength(TrustGraph.empty(), pairs_a, pairs_b, DEFAULT_PARAMS)[0]
        ea, eb, ew = zip(*edge_list, strict=True)
        return tie_strength(TrustGraph.from_edges(ea, eb, ew), pairs_a, pairs_b, DEFAULT_PARAMS)[0]

    before = strengths(edges)
    after = strengths([*edges, (a, b, weight)])
    assert np.all(after >= before - 1e-12)
