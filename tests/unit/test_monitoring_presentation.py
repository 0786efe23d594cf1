"""Pure parts of the monitoring: whole-period ranges and the SVG charts and map."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest

from mutualaid.errors import Invalid
from mutualaid.services.monitoring.periods import period_label, resolve_range
from mutualaid.services.monitoring.report import Figure
from mutualaid.services.monitoring.svg import MapArea, bar_chart, choropleth, class_bounds

TODAY = date(2026, 11, 22)


def test_ranges_are_snapped_to_whole_weeks_and_months():
    weeks, lower, upper = resolve_range("week", date(2026, 11, 4), date(2026, 11, 18), TODAY)
    assert weeks == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert lower == datetime(2026, 11, 2, tzinfo=UTC) and upper == datetime(
        2026, 11, 23, tzinfo=UTC
    )
    months, lower, upper = resolve_range("month", date(2025, 12, 31), date(2026, 2, 1), TODAY)
    assert months == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert upper == datetime(2026, 3, 1, tzinfo=UTC)


def test_default_ranges_end_with_the_current_period():
    weeks, _, _ = resolve_range("week", None, None, TODAY)
    months, _, _ = resolve_range("month", None, None, TODAY)
    assert len(weeks) == 13 and weeks[-1] == date(2026, 11, 16)
    assert len(months) == 12 and months[0] == date(2025, 12, 1)
    assert period_label(date(2026, 11, 16), "week") == "2026-W47"
    assert period_label(date(2026, 1, 1), "month") == "2026-01"


def test_bad_ranges_name_the_field():
    with pytest.raises(Invalid) as error:
        resolve_range("year", None, None, TODAY)
    assert error.value.field == "period"
    with pytest.raises(Invalid) as error:
        resolve_range("month", date(2020, 1, 1), TODAY, TODAY)
    assert error.value.rule == "max_range"


def test_bar_chart_is_an_image_with_a_text_alternative_and_numbers_on_the_bars():
    svg = bar_chart(
        "c",
        "Requests per month",
        ["2026-10", "2026-11"],
        [Figure(12), Figure(None, True)],
        5,
        "hidden",
    )
    assert 'role="img"' in svg and 'aria-labelledby="c-t c-d"' in svg
    assert '<title id="c-t">Requests per month</title>' in svg
    assert "2026-10: 12, 2026-11: &lt;5" in svg  # the description lists every figure
    assert 'fill="url(#c-hatch)"' in svg  # the hidden one is hatched, not just coloured
    assert ">12</text>" in svg and ">&lt;5</text>" in svg
    assert "style=" not in svg  # the Content-Security-Policy forbids inline styles


def square(x: float, y: float) -> str:
    ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_choropleth_labels_every_area_and_hatches_hidden_ones():
    areas = [
        MapArea("BU1", "Noord", square(6.0, 52.0), 52.005, 6.005),
        MapArea("BU2", "Zuid", square(6.0, 51.99), 51.995, 6.005),
        MapArea("BU3", "Oost", square(6.01, 52.0), 52.005, 6.015),
    ]
    svg = choropleth(
        "m",
        "Requests",
        "A map",
        areas,
        {"BU1": Figure(40), "BU2": Figure(None, True), "BU3": Figure(0)},
        5,
        {"zero": "0", "suppressed": "hidden", "or_more": "or more"},
    )
    assert svg.count("<path ") == 3
    assert "<title>Noord: 40</title>" in svg and "<title>Zuid: &lt;5</title>" in svg
    found = re.findall(r'<path d="[^"]*" fill="([^"]*)"[^>]*><title>(\w+):', svg)
    fills = {name: fill for fill, name in found}
    assert fills["Zuid"] == "url(#m-hatch)" and fills["Oost"] == "#ffffff"
    assert ">hidden</text>" in svg and ">40 or more</text>" in svg  # the legend, in words


def test_map_classes_are_increasing_lower_bounds():
    assert class_bounds([0, 5, 6, 7, 20, 30, 100]) == [5, 6, 7, 20, 30]
    assert class_bounds([0, 0]) == []
    assert class_bounds([8, 8, 8]) == [8]


def test_names_in_the_csv_never_start_a_spreadsheet_formula():
    from mutualaid.services.monitoring import _spreadsheet_safe

    assert _spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert _spreadsheet_safe("Hengelose Es-Noord") == "Hengelose Es-Noord"
