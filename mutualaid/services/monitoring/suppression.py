"""Small-count suppression with complementary suppression, for tables with additive totals.

Pure code (numpy only): no database, no Flask. A table is a mapping of cell keys to counts plus
a list of equations `total = sum(parts)` (row sums, column sums, district = sum of its
neighbourhoods, municipality = sum of its districts). The result is the set of cells to hide.

Rules (the tests in tests/unit/test_suppression.py prove them on random tables):
- Primary: every count with 0 < value < threshold is hidden.
- Zeros are shown. In statistical disclosure control an empty cell is usually published (it
  says that nothing happened, not who did it), and hiding zeros would hide most of a weekly
  table. Zeros are therefore never hidden and never chosen as complementary cells.
- Complementary: an equation with exactly one hidden cell would give it away (total minus the
  shown parts), so the smallest shown non-zero cell of that equation is hidden as well.
- Then the whole system is checked at once: a hidden cell is exactly derivable from the shown
  cells and all the equations together iff its column of the equation matrix (restricted to the
  hidden cells) is linearly independent of the other hidden columns, i.e. every vector of the
  null space is zero at that cell. Because every hidden cell is strictly positive (zeros are
  never hidden), a non-zero null-space entry means the cell can move both up and down while
  every other unknown stays >= 0: the attacker's interval has positive width. While some cell
  is still derivable, the smallest shown non-zero cell of one of its equations is hidden too.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

Key = Hashable

# Singular values below this (relative) count as zero when finding the null space.
_RANK_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Equation:
    """`total` equals the sum of `parts` (all are cell keys of the same table)."""

    total: Key
    parts: tuple[Key, ...]

    @property
    def members(self) -> tuple[Key, ...]:
        return (self.total, *self.parts)


def suppress(values: Mapping[Key, int], equations: Sequence[Equation], threshold: int) -> set[Key]:
    """The cells to hide: primary small counts and enough complementary cells to protect them."""
    _check(values, equations)
    hidden = {key for key, value in values.items() if 0 < value < threshold}
    if not hidden or threshold <= 1:
        return hidden
    order = {key: i for i, key in enumerate(values)}
    by_cell: dict[Key, list[int]] = {}
    for index, equation in enumerate(equations):
        for key in equation.members:
            by_cell.setdefault(key, []).append(index)
    _pairwise(values, equations, hidden, order)
    # Each round hides at least one more cell, so this ends (at worst with every non-zero
    # cell of the linked equations hidden). One complement per exposed cell per round keeps
    # the number of (costly) whole-system checks small.
    while True:
        exposed = derivable_cells(values, equations, hidden)
        if not exposed:
            return hidden
        added = False
        for key in exposed:
            candidate = _complement_for([key], values, equations, by_cell, hidden, order)
            if candidate is not None:
                hidden.add(candidate)
                added = True
        if not added:
            return hidden  # nothing left to hide; cannot happen for positive hidden cells
        _pairwise(values, equations, hidden, order)


def derivable_cells(
    values: Mapping[Key, int], equations: Sequence[Equation], hidden: set[Key]
) -> list[Key]:
    """Hidden cells whose value follows exactly from the shown cells and the equations."""
    involved = [
        e for e in equations if any(k in hidden for k in e.members)
    ]  # equations without hidden cells constrain nothing unknown
    columns = [key for key in values if key in hidden]
    if not involved:
        return []  # hidden cells in no equation: nothing to derive them from
    if _is_forest(involved, hidden) and all(
        sum(1 for k in e.members if k in hidden) >= 2 for e in involved
    ):
        # Without cycles, a change of any hidden cell can be passed down the tree to other
        # hidden cells (every equation has a second one), so none is derivable; skip the SVD.
        return []
    col_index = {key: i for i, key in enumerate(columns)}
    matrix = np.zeros((len(involved), len(columns)))
    for row, equation in enumerate(involved):
        if equation.total in col_index:
            matrix[row, col_index[equation.total]] += 1.0
        for part in equation.parts:
            if part in col_index:
                matrix[row, col_index[part]] -= 1.0
    # Squared length of each hidden cell's unit vector outside the row space of the matrix:
    # zero exactly when the cell is a linear combination of the equations (derivable).
    # One BLAS thread: these matrices are small, and on a busy machine threads only contend.
    with _blas().limit(limits=1, user_api="blas"):
        _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((singular > _RANK_TOLERANCE * max(singular[0], 1.0)).sum()) if singular.size else 0
    outside = 1.0 - (vt[:rank] ** 2).sum(axis=0)
    return [key for key, w in zip(columns, outside, strict=True) if w <= 1e-9]


def _is_forest(equations: Sequence[Equation], hidden: set[Key]) -> bool:
    """Whether the graph of equations and their hidden cells has no cycle (union-find)."""
    parent: dict = {}

    def root(node):
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for index, equation in enumerate(equations):
        for key in equation.members:
            if key in hidden:
                a, b = root(("eq", index)), root(("cell", key))
                if a == b:
                    return False
                parent[a] = b
    return True


@cache
def _blas() -> ThreadpoolController:
    """Found once: looking up the loaded BLAS libraries costs milliseconds."""
    return ThreadpoolController()


def _pairwise(
    values: Mapping[Key, int],
    equations: Sequence[Equation],
    hidden: set[Key],
    order: dict[Key, int],
) -> None:
    """Until no equation has exactly one hidden cell, hide its smallest shown non-zero cell."""
    changed = True
    while changed:
        changed = False
        for equation in equations:
            members = equation.members
            if sum(1 for k in members if k in hidden) != 1:
                continue
            choice = _smallest_shown(members, values, hidden, order)
            if choice is not None:
                hidden.add(choice)
                changed = True


def _smallest_shown(
    keys, values: Mapping[Key, int], hidden: set[Key], order: dict[Key, int]
) -> Key | None:
    shown = [k for k in keys if k not in hidden and values[k] > 0]
    if not shown:
        return None
    return min(shown, key=lambda k: (values[k], order[k]))


def _complement_for(exposed, values, equations, by_cell, hidden, order) -> Key | None:
    """The smallest shown non-zero cell in an equation of an exposed cell (wider if needed)."""
    for key in exposed:
        members = {m for index in by_cell.get(key, ()) for m in equations[index].members}
        choice = _smallest_shown(members, values, hidden, order)
        if choice is not None:
            return choice
    # Every equation of the exposed cells is fully hidden or zero: widen to any equation
    # that touches a hidden cell.
    members = {
        m for equation in equations if set(equation.members) & hidden for m in equation.members
    }
    return _smallest_shown(members, values, hidden, order)


def _check(values: Mapping[Key, int], equations: Sequence[Equation]) -> None:
    for equation in equations:
        missing = [k for k in equation.members if k not in values]
        if missing:
            raise ValueError(f"equation refers to unknown cells: {missing!r}")
    negative = [k for k, v in values.items() if v < 0]
    if negative:
        raise ValueError(f"counts cannot be negative: {negative!r}")
