"""Candidates from two sources: the nearest eligible offers, and the offers of helpers the
requester already trusts (a direct tie, or help completed before), always through every hard
filter."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualaid.matching import (
    Exclusions,
    History,
    OfferIndex,
    TrustGraph,
    explain,
    rank,
)
from mutualaid.matching.filters import ExclusionIndex, passes_hard_filters
from mutualaid.matching.geo import haversine_m
from mutualaid.matching.reference import reference_rank
from mutualaid.matching.social import social_pairs
from mutualaid.matching.types import TIE_VOUCH
from tests.unit.matching.engine_builders import CENTRE, offers, ranked_offer_ids, requests

REQUESTER = 1001
CROWD = 45  # eligible helpers nearer than the two the requester trusts
PREVIOUS, KNOWN = CROWD + 1, CROWD + 2  # offer ids of the helper who helped twice, and a friend


def crowded_street(**overrides):
    """45 helpers within 90 m, then the helper who helped twice (600 m; their `helped` tie as
    the trust service derives it) and a friend (500 m)."""
    distances = [2.0 * i for i in range(CROWD)] + [600.0, 500.0]
    columns = {"slots": np.full(CROWD + 2, 0)}
    columns.update(overrides)
    off = offers(distances, **columns)
    previous_helper, known_helper = off.helper_ids[PREVIOUS - 1], off.helper_ids[KNOWN - 1]
    trust = TrustGraph.from_edges([REQUESTER] * 2, [known_helper, previous_helper], [1.0, 0.6])
    history = History(np.array([REQUESTER]), np.array([previous_helper]), np.array([2]))
    return requests(1), off, trust, history


def test_a_crowded_street_still_ranks_the_previous_and_the_known_helper_high():
    req, off, trust, history = crowded_street()
    result = rank(req, off, trust, history=history)
    ranked = ranked_offer_ids(result, req, off)
    assert PREVIOUS in ranked[:3] and KNOWN in ranked[:3]
    nl, en = explain(result, "nl"), explain(result, "en")
    by_offer = {int(off.ids[o]): i for i, o in enumerate(result.offer_idx.tolist())}
    assert "hielp u al twee keer" in nl[by_offer[PREVIOUS]]
    assert "helped you twice" in en[by_offer[PREVIOUS]]
    assert "kent u" in nl[by_offer[KNOWN]] and "knows you" in en[by_offer[KNOWN]]
    assert "via iemand" not in nl[by_offer[KNOWN]]
    assert result.social_only[[by_offer[PREVIOUS], by_offer[KNOWN]]].all()
    assert reference_rank(req, off, trust, history=history) == {1: ranked}


def test_without_the_ties_proximity_alone_never_reaches_them():
    req, off, _, _ = crowded_street()
    ranked = ranked_offer_ids(rank(req, off), req, off)
    assert PREVIOUS not in ranked and KNOWN not in ranked


@pytest.mark.parametrize(
    "failing",
    [
        {"radius_m": 400.0},  # too far for their own radius
        {"active_matches": 1},  # full
        {"vog_valid": False},  # no VOG while the request needs one
        {"category_mask": 0b10},  # another category
        "blocked",
        "declined",
    ],
    ids=["radius", "full", "no-vog", "category", "blocked", "declined"],
)
def test_a_tied_helper_failing_a_hard_filter_is_never_suggested(failing):
    req, off, trust, history = crowded_street(vog_valid=np.ones(CROWD + 2, bool))
    req = requests(1, needs_vog=[True])
    exclusions = Exclusions.none()
    tied = [PREVIOUS - 1, KNOWN - 1]
    if failing == "blocked":
        helpers = off.helper_ids[tied]
        exclusions = Exclusions(np.empty((0, 2), np.int64), np.c_[[REQUESTER] * 2, helpers])
    elif failing == "declined":
        exclusions = Exclusions(np.c_[[1, 1], [PREVIOUS, KNOWN]], np.empty((0, 2), np.int64))
    else:
        ((column, value),) = failing.items()
        getattr(off, column)[tied] = value
    result = rank(req, off, trust, exclusions, history)
    ranked = ranked_offer_ids(result, req, off)
    assert ranked and PREVIOUS not in ranked and KNOWN not in ranked
    assert reference_rank(req, off, trust, exclusions, history) == {1: ranked}


def test_vouched_helpers_and_two_hop_paths_are_named_for_what_they_are():
    req = requests(1)
    off = offers([100.0, 200.0, 300.0], vouched=[False, True, False])
    helpers = off.helper_ids.tolist()
    # Helper 1 is known through a friend (two hop); helper 3 is vouched for by the same
    # community worker as the requester (a vouch tie).
    trust = TrustGraph.from_edges(
        [REQUESTER, 555, REQUESTER],
        [555, helpers[0], helpers[2]],
        [0.9, 0.9, 0.5],
        [1, 1, TIE_VOUCH],
    )
    result = rank(req, off, trust)
    text = dict(zip(off.ids[result.offer_idx].tolist(), explain(result, "en"), strict=True))
    assert text[1].endswith("through someone you know")
    assert text[2].endswith("recommended by the community worker")
    assert text[3].endswith("recommended by the community worker")
    nl = dict(zip(off.ids[result.offer_idx].tolist(), explain(result, "nl"), strict=True))
    assert nl[1].endswith("via iemand die u kent")
    assert nl[3].endswith("aanbevolen door de wijkcoach")


def test_a_warm_index_with_changed_offers_finds_the_same_social_candidates():
    req, off, trust, history = crowded_street()
    cold = rank(req, off, trust, history=history)
    index = OfferIndex(off.subset(np.arange(10)))
    index.upsert(off.subset(np.arange(10, len(off))))  # the tied helpers arrive as a delta
    warm = rank(req, index, trust, history=history)
    assert ranked_offer_ids(warm, req, index.offers) == ranked_offer_ids(cold, req, off)


# Hypothesis: random towns with ties and history.


@st.composite
def tied_towns(draw):
    n_off = draw(st.integers(1, 10))
    coords = st.floats(-0.03, 0.03)
    req = requests(
        2,
        lat=[CENTRE[0] + draw(coords) for _ in range(2)],
        lon=[CENTRE[1] + draw(coords) for _ in range(2)],
        category=[draw(st.integers(0, 1)) for _ in range(2)],
        needs_vog=[draw(st.booleans()) for _ in range(2)],
        requester_ids=[1, 2],
    )
    off = offers(
        [0.0] * n_off,
        lat=[CENTRE[0] + draw(coords) for _ in range(n_off)],
        lon=[CENTRE[1] + draw(coords) for _ in range(n_off)],
        category_mask=[draw(st.integers(1, 3)) for _ in range(n_off)],
        radius_m=[draw(st.sampled_from([300.0, 1000.0, 3000.0])) for _ in range(n_off)],
        capacity=[draw(st.integers(0, 2)) for _ in range(n_off)],
        vog_valid=[draw(st.booleans()) for _ in range(n_off)],
        helper_ids=[draw(st.integers(1, 9)) for _ in range(n_off)],
    )
    people = st.integers(1, 9)
    edges = draw(st.lists(st.tuples(people, people, st.floats(0.1, 1.0)), max_size=8))
    trust = TrustGraph.from_edges(*zip(*edges, strict=True)) if edges else TrustGraph.empty()
    helped = draw(st.lists(st.tuples(st.integers(1, 2), people), max_size=4))
    history = (
        History(*map(np.array, zip(*helped, strict=True)), np.ones(len(helped), np.int64))
        if helped
        else History.none()
    )
    return req, off, trust, history


def _social_offer_ids(req, off, trust, history) -> set[tuple[int, int]]:
    r, o, _ = social_pairs(OfferIndex(off), req, trust, history, ExclusionIndex(Exclusions.none()))
    return set(zip(req.ids[r].tolist(), off.ids[o].tolist(), strict=True))


@settings(max_examples=150, deadline=None)
@given(tied_towns(), st.integers(1, 30))
def test_nearer_unrelated_offers_never_push_out_a_tied_helper(town, crowd):
    req, off, trust, history = town
    before = _social_offer_ids(req, off, trust, history)
    # Unrelated helpers (ids 100+) right on top of each requester, in every category.
    lat = np.repeat(req.lat, crowd)
    extra = offers(
        [0.0] * len(lat),
        ids=np.arange(1000, 1000 + len(lat)),
        helper_ids=np.arange(100, 100 + len(lat)),
        lat=lat,
        lon=np.repeat(req.lon, crowd),
        category_mask=np.full(len(lat), 0b11),
        vog_valid=np.ones(len(lat), bool),
    )
    crowded = type(off).concat([off, extra])
    assert before <= _social_offer_ids(req, crowded, trust, history)
    everything = rank(req, crowded, trust, history=history, params=_wide())
    scored = set(
        zip(
            req.ids[everything.request_idx].tolist(),
            crowded.ids[everything.offer_idx].tolist(),
            strict=True,
        )
    )
    assert before <= scored  # every tied helper is still scored, whatever the crowd


def _wide():
    from mutualaid.matching import Params

    return Params(top_k=1000)


@settings(max_examples=150, deadline=None)
@given(tied_towns())
def test_the_union_never_holds_an_offer_that_fails_a_hard_filter(town):
    req, off, trust, history = town
    result = rank(req, off, trust, history=history, params=_wide())
    r, o = result.request_idx, result.offer_idx
    d = haversine_m(req.lat[r], req.lon[r], off.lat[o], off.lon[o])
    assert passes_hard_filters(req, off, r, o, d - 1e-6, ExclusionIndex(Exclusions.none())).all()
    expected = reference_rank(req, off, trust, history=history, params=_wide())
    got: dict[int, list[int]] = {}
    for row in np.lexsort((result.rank, r)).tolist():
        got.setdefault(int(req.ids[r[row]]), []).append(int(off.ids[o[row]]))
    assert got == expected
