"""The monitoring report of one municipality: figures per area and period, small counts hidden.

Suppression runs per period over the whole area hierarchy (neighbourhoods, districts, the
municipality) at once, whatever level is asked for; so the neighbourhood, district and
municipality views of the same period hide the same cells and cannot be played off against
each other. Requests opened is published together with its split by category, so both are
suppressed as one table (rows: areas, columns: categories, with their sums). Range totals are
not published: they would let two ranges be subtracted. A month that is exactly four ISO weeks
(a February from Monday to Sunday) is the sum of its weeks: its table and its weeks' tables are
suppressed as one problem, whichever of them is asked for (`periods.linked_groups`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from ...errors import NotFound
from . import queries, rollup
from .periods import LEVELS, bounds, linked_groups, period_label, resolve_range
from .suppression import Equation, suppress

COUNT_MEASURES = (
    "requests_opened",
    "requests_matched",
    "requests_completed",
    "active_helpers",
    "new_helpers",
    "repeat_requesters",
)
DERIVED_MEASURES = ("share_matched", "median_hours_to_match")
MEASURES = COUNT_MEASURES + DERIVED_MEASURES


class Figure(NamedTuple):
    """One published number: `value` is None when suppressed (or not defined, e.g. 0 of 0)."""

    value: float | int | None
    suppressed: bool = False

    def text(self, threshold: int) -> str:
        """The figure as shown: '<5' when suppressed, '' when not defined."""
        if self.suppressed:
            return f"<{threshold}"
        if self.value is None:
            return ""
        if isinstance(self.value, float):
            return f"{self.value:.2f}".rstrip("0").rstrip(".")
        return str(self.value)


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str
    parent: str | None


@dataclass
class Report:
    """Everything the pages, the API and the CSV show; no person appears in it."""

    municipality: Area
    level: str
    period: str
    periods: list[date]
    threshold: int
    areas: list[Area]
    categories: list[tuple[str, str, str]]  # (code, Dutch name, English name)
    figures: dict[tuple[str, str, date], Figure] = field(default_factory=dict)
    category_mix: dict[tuple[str, str, date], Figure] = field(default_factory=dict)

    @property
    def start(self) -> date:
        return self.periods[0]

    def label(self, start: date) -> str:
        return period_label(start, self.period)

    def rows(self, level: str | None = None) -> list[Area]:
        """The areas of one level (default: the report's level)."""
        return [a for a in self.areas if a.level == (level or self.level)]

    def area(self, code: str) -> Area:
        for a in self.areas:
            if a.code == code:
                return a
        raise NotFound("no such area in this municipality", field="area", rule="exists")

    def figure(self, measure: str, area: str, start: date) -> Figure:
        return self.figures[(measure, area, start)]

    def mix(self, category: str, area: str, start: date) -> Figure:
        return self.category_mix[(category, area, start)]


def build_report(
    municipality_code: str,
    *,
    level: str,
    period: str,
    start: date | None,
    end: date | None,
    today: date,
    threshold: int,
    source: str = "rollup",
) -> Report:
    """Figures of one municipality (NotFound if none of its neighbourhoods are imported).

    `source`: "rollup" reads the daily rollup after bringing it up to date if it is older
    than its maximum age; "rollup_as_is" reads it as it is (the caller just did that);
    "direct" computes from the live tables (`queries`), the reference the rollup must equal.
    """
    from ...errors import Invalid

    if source == "rollup":
        rollup.ensure_fresh()
    reader = queries if source == "direct" else rollup

    if level not in LEVELS:
        raise Invalid(
            "level must be municipality, district or neighbourhood", field="level", rule="choice"
        )
    starts, lower, upper = resolve_range(period, start, end, today)
    hoods = queries.neighbourhoods_of(municipality_code)
    if not hoods:
        raise NotFound("no such municipality", field="municipality", rule="exists")
    top = Area(
        municipality_code, hoods[0].municipality_name or municipality_code, "municipality", None
    )
    districts: dict[str, Area] = {}
    for n in hoods:
        districts.setdefault(
            n.district_code,
            Area(n.district_code, n.district_name or n.district_code, "district", top.code),
        )
    areas = [top]
    for district in districts.values():
        areas.append(district)
        areas += [
            Area(n.code, n.name, "neighbourhood", n.district_code)
            for n in hoods
            if n.district_code == district.code
        ]
    code_of = {n.id: n.code for n in hoods}
    cats = [(c.code, c.name_nl, c.name_en) for c in queries.categories()]
    report = Report(top, level, period, starts, threshold, areas, cats)

    tree = _Tree(areas)
    data = {period: _fetch(reader, municipality_code, period, lower, upper)}
    wanted = {(period, p) for p in starts}
    for group in linked_groups(period, starts):
        if len(group) > 1:
            # An aligned month and its weeks: both granularities are needed in full.
            month = group[-1][1]
            for kind in ("week", "month"):
                extra = _fetch(reader, municipality_code, kind, *bounds(month, month, "month"))
                merged = data.setdefault(kind, {k: {} for k in extra})
                for key, values in extra.items():
                    merged[key].update(values)
        _solve_group(report, tree, code_of, data, group, wanted)
    return report


ADDITIVE = ("requests_matched", "requests_completed", "new_helpers")  # weeks add up to months
DISTINCT = ("active_helpers", "repeat_requesters")  # a person counts once per period


def _fetch(reader, code: str, period: str, lower, upper) -> dict:
    """Every measure's grid for one granularity and range, by period (`reader`: the rollup
    module or the direct queries; both answer the same)."""
    args = (code, period, lower, upper)
    matched, medians = reader.matched_and_medians(*args)
    return {
        "opened": _by_period(reader.requests_opened_by_category(*args)),
        "medians": medians,
        "requests_matched": _by_period(matched),
        "requests_completed": _by_period(reader.requests_completed(*args)),
        "active_helpers": _by_period(reader.active_helpers(*args)),
        "new_helpers": _by_period(reader.new_helpers(*args)),
        "repeat_requesters": _by_period(reader.repeat_requesters(*args)),
    }


def _solve_group(report: Report, tree: _Tree, code_of, data, group, wanted) -> None:
    """Suppress one group of linked periods and keep the figures of the wanted ones."""
    month = group[-1] if len(group) > 1 else None
    weeks = group[:-1] if month else []

    def link(columns) -> list[Equation]:
        """For an aligned month: month = sum of its weeks, per neighbourhood and column."""
        if month is None:
            return []
        return [
            Equation((month, col, leaf), tuple((week, col, leaf) for week in weeks))
            for col in columns
            for leaf in tree.leaves
        ]

    _solve_opened(report, tree, code_of, data, group, wanted, link)
    for measure in ADDITIVE:
        _solve_counts(report, tree, code_of, data, measure, group, wanted, link(["count"]))
    for measure in DISTINCT:
        for member in group:
            if member in wanted:
                _solve_counts(report, tree, code_of, data, measure, [member], wanted, [])
    for member in group:
        if member in wanted:
            _derived(report, tree, data[member[0]]["medians"], member[1])


def _solve_opened(report, tree, code_of, data, group, wanted, link) -> None:
    cats = [c for c, _, _ in report.categories]
    values, equations = {}, link(["all", *cats])
    for member in group:
        kind, p = member
        v, e = _opened_table(tree, code_of, data[kind]["opened"].get(p, {}), cats, member)
        values.update(v)
        equations += e
    hidden = _suppress(values, equations, report.threshold)
    for (member, col, a), value in values.items():
        if member in wanted:
            figure = _figure(value, (member, col, a) in hidden)
            if col == "all":
                report.figures[("requests_opened", a, member[1])] = figure
            else:
                report.category_mix[(col, a, member[1])] = figure


def _solve_counts(report, tree, code_of, data, measure, members, wanted, links) -> None:
    values, equations = {}, list(links)
    for member in members:
        kind, p = member
        grid = data[kind][measure].get(p, {})
        rolled = tree.roll_up({code_of[nid]: n for nid, n in grid.items()})
        values.update({(member, "count", a): rolled[a] for a in tree.order})
        equations += tree.equations(lambda a, m=member: (m, "count", a))
    _keep(report, measure, values, _suppress(values, equations, report.threshold), wanted)


class _SuppressionMemo:
    """Which cells a table hides depends only on the table (its cells, values, equations and
    the threshold), so a table seen before is not solved again: after the data changed, only
    the periods whose counts changed (usually the current week or month) cost a solve."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, values: dict, equations: list, threshold: int) -> frozenset:
        key = (tuple(values.items()), tuple(equations), threshold)
        with self._lock:
            hidden = self._items.get(key)
            if hidden is not None:
                self._items.move_to_end(key)
                return hidden
        hidden = frozenset(suppress(values, equations, threshold))
        with self._lock:
            self._items[key] = hidden
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return hidden

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_suppress = _SuppressionMemo()


def _keep(report: Report, measure: str, values: dict, hidden: set, wanted) -> None:
    for (member, _, a), value in values.items():
        if member in wanted:
            report.figures[(measure, a, member[1])] = _figure(value, (member, "count", a) in hidden)


def _by_period(grid: dict) -> dict[date, dict]:
    """{(nid, period, *rest): v} as {period: {nid or (nid, *rest): v}}."""
    out: dict[date, dict] = defaultdict(dict)
    for key, value in grid.items():
        nid, p, *rest = key
        out[p][(nid, *rest) if rest else nid] = value
    return out


class _Tree:
    """The area hierarchy: which neighbourhoods make a district, which districts the whole."""

    def __init__(self, areas: list[Area]) -> None:
        self.order = [a.code for a in areas]
        self.children: dict[str, list[str]] = defaultdict(list)
        for a in areas:
            if a.parent is not None:
                self.children[a.parent].append(a.code)

    def roll_up(self, leaves: dict[str, int]) -> dict[str, int]:
        """Neighbourhood counts summed into districts and the municipality."""
        values: dict[str, int] = {}
        for code in reversed(self.order):  # children come after their parent
            kids = self.children.get(code)
            values[code] = sum(values[k] for k in kids) if kids else leaves.get(code, 0)
        return values

    @property
    def leaves(self) -> list[str]:
        """The neighbourhoods (areas without parts)."""
        return [code for code in self.order if code not in self.children]

    def equations(self, key) -> list[Equation]:
        return [
            Equation(key(parent), tuple(key(k) for k in kids))
            for parent, kids in self.children.items()
        ]


HIDDEN = Figure(None, True)


_SHOWN: dict[int, Figure] = {}


def _figure(value: int, hidden: bool) -> Figure:
    if hidden:
        return HIDDEN
    figure = _SHOWN.get(value)
    if figure is None:
        figure = _SHOWN[value] = Figure(value)
    return figure


def _opened_table(tree: _Tree, code_of, opened, cats: list[str], member) -> tuple[dict, list]:
    """Requests opened and its split by category: one table (areas x categories, with sums)."""
    leaves: dict[str, dict[str, int]] = defaultdict(dict)
    for (nid, cat), n in opened.items():
        leaves[cat][code_of[nid]] = n
    per_category = {cat: tree.roll_up(leaves[cat]) for cat in cats}
    values: dict = {(member, "all", a): sum(per_category[c][a] for c in cats) for a in tree.order}
    for cat, by_area in per_category.items():
        values.update({(member, cat, a): by_area[a] for a in tree.order})
    equations = tree.equations(lambda a: (member, "all", a))
    for cat in cats:
        equations += tree.equations(lambda a, cat=cat: (member, cat, a))
    equations += [
        Equation((member, "all", a), tuple((member, cat, a) for cat in cats)) for a in tree.order
    ]
    return values, equations


def _derived(report: Report, tree: _Tree, medians: dict, p: date) -> None:
    """Share matched and median hours to match, only over counts that are shown."""
    for a in tree.order:
        opened = report.figures[("requests_opened", a, p)]
        matched = report.figures[("requests_matched", a, p)]
        if opened.suppressed or matched.suppressed:
            # A share or median over a hidden count could give the count away.
            share = median_hours = HIDDEN
        else:
            share = Figure(round(matched.value / opened.value, 3) if opened.value else None)
            seconds = medians.get((a, p))
            median_hours = Figure(round(seconds / 3600.0, 1) if seconds is not None else None)
        report.figures[("share_matched", a, p)] = share
        report.figures[("median_hours_to_match", a, p)] = median_hours
