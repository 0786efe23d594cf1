"""Small-count suppression: properties over random tables (hypothesis), checked by linear
programming the way an attacker would: for every hidden cell, with all the other hidden cells as
unknowns >= 0, the lowest and highest value consistent with what is shown must differ."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mutualaid.services.monitoring.suppression import Equation, derivable_cells, suppress

THRESHOLD = 5


def two_way_table(cells: list[list[int]], groups: list[int] | None = None):
    """Cells, row/column totals and grand total; optional group subtotal rows (districts)."""
    rows, cols = len(cells), len(cells[0])
    values: dict = {}
    equations: list[Equation] = []
    for r in range(rows):
        for c in range(cols):
            values[(r, c)] = cells[r][c]
    row_keys = list(range(rows))
    if groups:
        for g in sorted(set(groups)):
            members = [r for r in range(rows) if groups[r] == g]
            for c in range(cols):
                values[(f"g{g}", c)] = sum(cells[r][c] for r in members)
                equations.append(Equation((f"g{g}", c), tuple((r, c) for r in members)))
        row_keys += [f"g{g}" for g in sorted(set(groups))]
    for c in range(cols):
        values[("T", c)] = sum(cells[r][c] for r in range(rows))
        tops = [f"g{g}" for g in sorted(set(groups))] if groups else list(range(rows))
        equations.append(Equation(("T", c), tuple((t, c) for t in tops)))
    for r in [*row_keys, "T"]:
        values[(r, "T")] = sum(values[(r, c)] for c in range(cols))
        equations.append(Equation((r, "T"), tuple((r, c) for c in range(cols))))
    # The column of row totals adds up as well (grand total = sum of the top-level rows).
    tops = [f"g{g}" for g in sorted(set(groups))] if groups else list(range(rows))
    equations.append(Equation(("T", "T"), tuple((t, "T") for t in tops)))
    if groups:
        for g in sorted(set(groups)):
            members = [r for r in range(rows) if groups[r] == g]
            equations.append(Equation((f"g{g}", "T"), tuple((r, "T") for r in members)))
    return values, equations


def attacker_interval(values, equations, hidden, key) -> tuple[float, float]:
    """Min and max of one hidden cell given the shown cells, the equations and unknowns >= 0."""
    unknowns = [k for k in values if k in hidden]
    index = {k: i for i, k in enumerate(unknowns)}
    a_eq, b_eq = [], []
    for equation in equations:
        row = np.zeros(len(unknowns))
        rhs = 0.0
        for k, sign in [(equation.total, 1.0), *((p, -1.0) for p in equation.parts)]:
            if k in index:
                row[index[k]] += sign
            else:
                rhs -= sign * values[k]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    objective = np.zeros(len(unknowns))
    objective[index[key]] = 1.0
    kwargs = {"bounds": [(0, None)] * len(unknowns), "method": "highs"}
    if a_eq:
        kwargs.update(A_eq=np.array(a_eq), b_eq=np.array(b_eq))
    low = linprog(objective, **kwargs)
    high = linprog(-objective, **kwargs)
    assert low.status == 0, low.message  # the true values are always a solution
    return low.fun, (-high.fun if high.status == 0 else float("inf"))


small_or_large = st.one_of(st.integers(0, 6), st.integers(0, 40))


@st.composite
def tables(draw):
    rows = draw(st.integers(1, 6))
    cols = draw(st.integers(1, 5))
    cells = [[draw(small_or_large) for _ in range(cols)] for _ in range(rows)]
    groups = None
    if rows >= 2 and draw(st.booleans()):
        groups = [draw(st.integers(0, 2)) for _ in range(rows)]
    return two_way_table(cells, groups)


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(tables())
def test_no_shown_cell_is_a_small_nonzero_count(table):
    values, equations = table
    hidden = suppress(values, equations, THRESHOLD)
    shown = [v for k, v in values.items() if k not in hidden]
    assert all(v == 0 or v >= THRESHOLD for v in shown)


@PROPERTY_SETTINGS
@given(tables())
def test_zeros_are_shown_and_every_hidden_cell_is_positive(table):
    values, equations = table
    hidden = suppress(values, equations, THRESHOLD)
    assert all(values[k] > 0 for k in hidden)


@PROPERTY_SETTINGS
@given(tables())
def test_no_hidden_cell_can_be_worked_out_from_the_shown_cells_and_sums(table):
    values, equations = table
    hidden = suppress(values, equations, THRESHOLD)
    for key in hidden:
        low, high = attacker_interval(values, equations, hidden, key)
        assert high - low > 1e-6, f"{key}={values[key]} is exposed: [{low}, {high}]"


@PROPERTY_SETTINGS
@given(tables(), st.data())
def test_the_quick_check_agrees_with_linear_programming(table, data):
    values, equations = table
    positive = [k for k, v in values.items() if v > 0]
    hidden = set(data.draw(st.lists(st.sampled_from(positive), unique=True))) if positive else set()
    exposed = set(derivable_cells(values, equations, hidden))
    for key in hidden:
        low, high = attacker_interval(values, equations, hidden, key)
        assert (key in exposed) == (high - low <= 1e-6)


def test_a_single_small_cell_in_a_row_takes_a_second_cell_and_a_total_with_it():
    values, equations = two_way_table([[3, 20, 30], [12, 25, 40]])
    hidden = suppress(values, equations, THRESHOLD)
    assert (0, 0) in hidden
    # Row 0 and column 0 each need a second hidden cell.
    assert len([k for k in hidden if k[0] == 0]) >= 2
    assert len([k for k in hidden if k[1] == 0]) >= 2
    assert (1, 1) not in hidden or values[(1, 1)] >= THRESHOLD


def test_a_table_without_small_counts_hides_nothing():
    values, equations = two_way_table([[0, 20, 30], [12, 0, 40]])
    assert suppress(values, equations, THRESHOLD) == set()


def test_threshold_is_configurable():
    values, equations = two_way_table([[7, 20], [12, 25]])
    assert suppress(values, equations, 5) == set()
    assert (0, 0) in suppress(values, equations, 10)


def test_unknown_cells_in_an_equation_are_refused():
    with pytest.raises(ValueError, match="unknown cells"):
        suppress({"a": 1}, [Equation("a", ("b",))], THRESHOLD)
