"""Server-side SVG for the monitoring: bar charts of a trend and a choropleth of neighbourhoods.

No JavaScript and no tile server. Every picture has a <title> and <desc>, every bar and area
carries its number as text, and the map classes differ in lightness and pattern, so nothing
depends on seeing colour. Suppressed figures are hatched and labelled "<5". Only presentation
attributes are used (no style attributes), which the Content-Security-Policy allows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from html import escape

from shapely.geometry import shape

from .report import Figure

HATCH = (
    '<pattern id="{id}" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#505050" stroke-width="2"/></pattern>'
)
# Map classes from light to dark; the darker ones also get dots, so print in grey still works.
CLASS_FILLS = ("#eef3fa", "#bcd0ea", "#7fa3d2", "#3f6fb0", "#173f7a")
DOTS = (
    '<pattern id="{id}" width="8" height="8" patternUnits="userSpaceOnUse">'
    '<rect width="8" height="8" fill="{fill}"/><circle cx="4" cy="4" r="1.4" fill="#ffffff"/>'
    "</pattern>"
)


def _svg_open(uid: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{uid}-t {uid}-d" class="chart">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]


def bar_chart(
    uid: str,
    title: str,
    labels: list[str],
    figures: list[Figure],
    threshold: int,
    suppressed_text: str,
) -> str:
    """A bar per period with its number above it; suppressed periods as a hatched stub."""
    width, height, left, bottom, top = 640, 260, 44, 40, 24
    values = [f.value for f in figures if not f.suppressed and f.value is not None]
    peak = max([*values, threshold, 1])
    scale = (height - bottom - top) / peak
    step = (width - left - 8) / max(len(figures), 1)
    bar = max(step * 0.7, 2)
    shown = ", ".join(
        f"{label}: {f.text(threshold) or '-'}" for label, f in zip(labels, figures, strict=True)
    )
    out = _svg_open(uid, width, height, title, shown)
    out.append(f"<defs>{HATCH.format(id=uid + '-hatch')}</defs>")
    base = height - bottom
    out.append(
        f'<line x1="{left}" y1="{base}" x2="{width - 4}" y2="{base}" stroke="#333" '
        'stroke-width="1"/>'
    )
    every = max(1, math.ceil(len(figures) / 13))  # keep period labels readable
    for i, (label, figure) in enumerate(zip(labels, figures, strict=True)):
        x = left + i * step + (step - bar) / 2
        if figure.suppressed:
            h = max((threshold - 1) * scale, 6)
            out.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="url(#{uid}-hatch)" stroke="#505050"><title>{escape(label)}: '
                f"{escape(suppressed_text)}</title></rect>"
            )
        elif figure.value:
            h = figure.value * scale
            out.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="#3f6fb0"><title>{escape(label)}: {escape(figure.text(threshold))}'
                "</title></rect>"
            )
        else:
            h = 0
        text = figure.text(threshold)
        if text and len(figures) <= 26:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{base - h - 5:.1f}" text-anchor="middle" '
                f'font-size="12" fill="#1a1a1a">{escape(text)}</text>'
            )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{base + 16}" text-anchor="middle" '
                f'font-size="11" fill="#1a1a1a">{escape(label)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    geometry_geojson: str
    label_lat: float
    label_lon: float


def class_bounds(values: list[int]) -> list[int]:
    """Lower bounds of up to five classes of the shown non-zero values (rounded, increasing)."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    bounds = []
    for q in (0.0, 0.2, 0.4, 0.6, 0.8):
        v = positive[min(len(positive) - 1, int(q * len(positive)))]
        if not bounds or v > bounds[-1]:
            bounds.append(v)
    return bounds


def choropleth(
    uid: str,
    title: str,
    desc: str,
    areas: list[MapArea],
    figures: dict[str, Figure],
    threshold: int,
    legend: dict[str, str],
) -> str:
    """The neighbourhoods as polygons, shaded by class, each labelled with its number."""
    width = 640
    shapes = [(a, shape(json.loads(a.geometry_geojson))) for a in areas]
    if not shapes:
        return ""
    minx = min(s.bounds[0] for _, s in shapes)
    miny = min(s.bounds[1] for _, s in shapes)
    maxx = max(s.bounds[2] for _, s in shapes)
    maxy = max(s.bounds[3] for _, s in shapes)
    kx = math.cos(math.radians((miny + maxy) / 2))  # degrees of longitude are shorter
    scale = (width - 20) / max((maxx - minx) * kx, 1e-9)
    map_height = (maxy - miny) * scale + 20

    def xy(lon: float, lat: float) -> str:
        return f"{10 + (lon - minx) * kx * scale:.1f},{10 + (maxy - lat) * scale:.1f}"

    shown = [f.value for f in figures.values() if not f.suppressed and f.value]
    bounds = class_bounds(shown)
    legend_rows = 2 + len(bounds)
    height = int(map_height + 24 * legend_rows + 20)
    out = _svg_open(uid, width, height, title, desc)
    defs = [HATCH.format(id=f"{uid}-hatch")]
    for i, fill in enumerate(CLASS_FILLS):
        if i >= 2:
            defs.append(DOTS.format(id=f"{uid}-c{i}", fill=fill))
    out.append("<defs>" + "".join(defs) + "</defs>")

    def fill_for(figure: Figure | None) -> str:
        if figure is None or (not figure.suppressed and not figure.value):
            return "#ffffff"
        if figure.suppressed:
            return f"url(#{uid}-hatch)"
        index = max(i for i, b in enumerate(bounds) if figure.value >= b)
        return f"url(#{uid}-c{index})" if index >= 2 else CLASS_FILLS[index]

    labels = []
    for area, geometry in shapes:
        figure = figures.get(area.code)
        polygons = getattr(geometry, "geoms", [geometry])
        d = " ".join(
            "M" + " L".join(xy(x, y) for x, y in poly.exterior.coords) + " Z" for poly in polygons
        )
        text = figure.text(threshold) if figure else ""
        out.append(
            f'<path d="{d}" fill="{fill_for(figure)}" stroke="#333" stroke-width="0.8">'
            f"<title>{escape(area.name)}: {escape(text or '0')}</title></path>"
        )
        x, y = xy(area.label_lon, area.label_lat).split(",")
        labels.append(
            f'<text x="{x}" y="{y}" text-anchor="middle" dominant-baseline="middle" '
            'font-size="10" font-weight="bold" fill="#000" stroke="#fff" stroke-width="2.5" '
            f'paint-order="stroke">{escape(text or "0")}</text>'
        )
    out += labels
    # Legend: one swatch per class, plus zero and suppressed.
    y = map_height + 10
    entries = [("#ffffff", legend["zero"]), (f"url(#{uid}-hatch)", legend["suppressed"])]
    for i, low in enumerate(bounds):
        high = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
        fill = f"url(#{uid}-c{i})" if i >= 2 else CLASS_FILLS[i]
        text = (
            f"{low}–{high}"
            if high is not None and high > low
            else (f"{low}" if high is not None else f"{low} {legend['or_more']}")
        )
        entries.append((fill, text))
    for fill, text in entries:
        out.append(
            f'<rect x="10" y="{y:.0f}" width="28" height="18" fill="{fill}" stroke="#333"/>'
            f'<text x="46" y="{y + 14:.0f}" font-size="13" fill="#1a1a1a">{escape(text)}</text>'
        )
        y += 24
    out.append("</svg>")
    return "".join(out)
