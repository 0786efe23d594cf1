"""Ranking: hard filters, exact orderings, explanations, bad input."""

import numpy as np
import pytest

from mutualaid.matching import (
    EngineInputError,
    Exclusions,
    History,
    OfferIndex,
    TrustGraph,
    explain,
    format_distance,
    rank,
    slots_from_pairs,
)
from mutualaid.matching.reference import reference_rank
from mutualaid.matching.synthetic import make_city
from tests.unit.matching.engine_builders import offers, ranked_offer_ids, requests


def test_closer_helpers_rank_higher_with_exact_order():
    batch, pool = requests(), offers([900, 100, 400, 2500])
    result = rank(batch, pool)
    assert ranked_offer_ids(result, batch, pool) == [2, 3, 1, 4]
    assert result.rank.tolist() == [1, 2, 3, 4]
    assert np.all(np.diff(result.total) <= 0)


def test_same_street_outweighs_a_little_distance():
    batch = requests(street_id=[7])
    pool = offers([200, 300], street_id=[1, 7])
    assert ranked_offer_ids(rank(batch, pool), batch, pool) == [2, 1]


@pytest.mark.parametrize(
    ("request_cols", "offer_cols", "distances"),
    [
        ({}, {"category_mask": [0b10]}, [100]),  # other category
        ({}, {"radius_m": [500.0]}, [800]),  # beyond the helper's radius
        ({"max_distance_m": [500.0]}, {}, [800]),  # beyond the request's maximum
        ({"needs_vog": [True]}, {"vog_valid": [False]}, [100]),
        ({"needs_shared_language": [True], "languages": [0b100]}, {"languages": [0b1]}, [100]),
        ({}, {"capacity": [2], "active_matches": [2]}, [100]),  # no room left
        ({"requester_ids": [2001]}, {}, [100]),  # the requester themself
    ],
)
def test_hard_filters_exclude_the_candidate(request_cols, offer_cols, distances):
    assert len(rank(requests(**request_cols), offers(distances, **offer_cols))) == 0


def test_vog_and_language_pass_when_satisfied():
    batch = requests(needs_vog=[True], needs_shared_language=[True], languages=[0b110])
    pool = offers([100], vog_valid=[True], languages=[0b100])
    assert len(rank(batch, pool)) == 1


def test_declined_and_blocked_pairs_are_never_suggested():
    batch, pool = requests(), offers([100, 200, 300])
    exclusions = Exclusions(declined=np.array([[1, 1]]), blocked=np.array([[2002, 1001]]))
    assert ranked_offer_ids(rank(batch, pool, exclusions=exclusions), batch, pool) == [3]


def test_availability_prefers_the_helper_who_is_free_then():
    tuesday_morning = slots_from_pairs([(1, 0)])
    batch = requests(slots=[tuesday_morning])
    pool = offers([100, 100], slots=[slots_from_pairs([(4, 2)]), tuesday_morning])
    result = rank(batch, pool)
    assert ranked_offer_ids(result, batch, pool) == [2, 1]
    assert result.parts[0, 1] == 1.0 and result.parts[1, 1] == 0.0


def test_trust_two_hop_path_lifts_a_helper():
    batch, pool = requests(), offers([300, 300])
    graph = TrustGraph.from_edges([1001, 5000], [5000, 2002], [1.0, 0.9])
    result = rank(batch, pool, trust=graph)
    assert ranked_offer_ids(result, batch, pool) == [2, 1]
    assert result.parts[0, 2] == pytest.approx(0.7 * 0.8 * 0.9)


def test_continuity_and_fair_first_chance():
    batch = requests()
    pool = offers(
        [500, 500, 500],
        newly_active=[False, False, True],
        active_matches=[0, 0, 1],
        capacity=[2, 2, 2],
    )
    history = History(np.array([1001]), np.array([2001]), np.array([2]))
    result = rank(batch, pool, history=history)
    assert result.parts[result.offer_idx.tolist().index(0), 3] == 0.75
    assert result.parts[result.offer_idx.tolist().index(2), 5] == 0.9


def test_explanations_in_dutch_and_english():
    tuesday_morning = slots_from_pairs([(1, 0)])
    batch = requests(slots=[tuesday_morning], street_id=[3])
    pool = offers([350], slots=[tuesday_morning], street_id=[3])
    history = History(np.array([1001]), np.array([2001]), np.array([2]))
    result = rank(batch, pool, history=history)
    assert explain(result, "nl") == [
        "350 m · zelfde straat · dinsdagochtend vrij · hielp u al twee keer"
    ]
    assert explain(result, "en") == [
        "350 m · same street · free Tuesday morning · helped you twice"
    ]


@pytest.mark.parametrize(
    ("metres", "nl", "en"),
    [(4, "10 m", "10 m"), (347, "350 m", "350 m"), (1230, "1,2 km", "1.2 km")],
)
def test_distance_is_rounded_as_people_say_it(metres, nl, en):
    assert (format_distance(metres, "nl"), format_distance(metres, "en")) == (nl, en)


def test_engine_matches_brute_force_reference_exactly():
    city = make_city(300, 2000, 3000, seed=3)
    result = rank(city.requests, city.offers, city.trust, history=city.history)
    fast = {}
    for row in np.argsort(result.rank, kind="stable"):
        fast.setdefault(int(city.requests.ids[result.request_idx[row]]), []).append(
            int(city.offers.ids[result.offer_idx[row]])
        )
    assert fast == reference_rank(city.requests, city.offers, city.trust, history=city.history)


def test_warm_index_updates_agree_with_a_rebuilt_index():
    city = make_city(200, 1500, 1000, seed=4)
    index = OfferIndex(city.offers.subset(np.arange(1000)))
    index.upsert(city.offers.subset(np.arange(1000, 1500)))
    index.remove(city.offers.ids[:50])
    live = city.offers.subset(np.arange(50, 1500))
    warm = rank(city.requests.subset(np.arange(100)), index, city.trust)
    cold = rank(city.requests.subset(np.arange(100)), live, city.trust)
    assert sorted(
        zip(warm.request_idx.tolist(), index.offers.ids[warm.offer_idx].tolist(), strict=True)
    ) == sorted(zip(cold.request_idx.tolist(), live.ids[cold.offer_idx].tolist(), strict=True))


def test_empty_inputs_give_an_empty_result():
    assert len(rank(requests(0), offers([100]))) == 0
    assert len(rank(requests(), offers([]))) == 0


def test_unknown_category_gives_no_candidates():
    assert len(rank(requests(category=[40]), offers([100]))) == 0


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({"lat": [float("nan")]}, "requests.lat"),
        ({"lon": [200.0]}, "requests.lon"),
        ({"category": [99]}, "requests.category"),
        ({"max_distance_m": [0.0]}, "requests.max_distance_m"),
        ({"slots": [1, 2]}, "requests.slots"),
        ({"lat": ["noord"]}, "requests.lat"),
    ],
)
def test_bad_request_input_names_the_field(columns, field):
    with pytest.raises(EngineInputError) as caught:
        requests(**columns)
    assert caught.value.field == field


def test_bad_offer_and_trust_input_names_the_field():
    with pytest.raises(EngineInputError, match=r"offers\.lat"):
        offers([100], lat=[np.inf])
    with pytest.raises(EngineInputError, match=r"trust\.weight"):
        TrustGraph.from_edges([1], [2], [1.5])


def test_small_and_large_trust_paths_agree(monkeypatch):
    from mutualaid.matching import scoring
    from mutualaid.matching.params import DEFAULT_PARAMS

    city = make_city(500, 500, 8000, seed=9)
    coo = city.trust.matrix.tocoo()
    ids = city.trust.resident_ids
    rng = np.random.default_rng(2)
    a = np.concatenate([ids[coo.row[:300]], rng.choice(ids, 700)])
    b = np.concatenate([ids[coo.col[:300]], rng.choice(ids, 700)])
    small = scoring.tie_strength(city.trust, a, b, DEFAULT_PARAMS)
    monkeypatch.setattr(scoring, "SMALL_BATCH_PAIRS", 0)
    large = scoring.tie_strength(city.trust, a, b, DEFAULT_PARAMS)
    assert np.array_equal(small[0], large[0]) and (small[0] > 0).sum() >= 300
    assert np.array_equal(small[1], large[1]) and (small[1] == scoring.TIE_KNOWS).sum() >= 300
