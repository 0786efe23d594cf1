"""Batch assignment: optimal (min-cost flow) versus greedy and independent top-1."""

import numpy as np

from mutualaid.matching import (
    assign_greedy,
    assign_independent_top1,
    assign_optimal,
    compare_assignments,
)


def scenario():
    """Two requests, two helpers with one place each. Request 0 likes helper 0 best, but
    helper 0 is request 1's only option: greedy gives helper 0 to request 0 and strands 1."""
    request_idx = np.array([0, 0, 1])
    offer_idx = np.array([0, 1, 0])
    score = np.array([0.9, 0.8, 0.7])
    capacity = np.array([1, 1])
    return request_idx, offer_idx, score, capacity


def test_optimal_assignment_serves_everyone_where_greedy_cannot():
    r, o, s, cap = scenario()
    optimal = assign_optimal(r, o, s, cap)
    assert optimal.matched == 2
    assert sorted(zip(r[optimal.rows].tolist(), o[optimal.rows].tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
    ]
    assert assign_greedy(r, o, s, cap).matched == 1


def test_optimal_prefers_higher_scores_when_the_count_is_equal():
    r = np.array([0, 0])
    o = np.array([0, 1])
    s = np.array([0.2, 0.9])
    optimal = assign_optimal(r, o, s, np.array([1, 1]))
    assert o[optimal.rows].tolist() == [1]


def test_capacity_is_respected_and_independent_top1_overbooks_nobody():
    r = np.array([0, 1, 2])
    o = np.array([0, 0, 0])
    s = np.array([0.9, 0.8, 0.7])
    assert assign_optimal(r, o, s, np.array([2])).matched == 2
    assert assign_independent_top1(r, o, s, np.array([2])).matched == 2


def test_comparison_reports_the_gain():
    figures = compare_assignments(*scenario())
    assert figures == {
        "optimal": 2,
        "greedy": 1,
        "independent_top1": 1,
        "gain_vs_greedy_pct": 100.0,
        "gain_vs_top1_pct": 100.0,
    }


def test_empty_graph_assigns_nothing():
    empty = np.empty(0, np.int64)
    assert assign_optimal(empty, empty, np.empty(0), np.array([1])).matched == 0
