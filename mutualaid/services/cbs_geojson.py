"""Reading CBS neighbourhood GeoJSON in its three schemas, with geometry checks and repair.

Pure parsing: no database. `services.neighbourhoods.import_neighbourhoods` stores the result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from ..errors import Invalid

BU_CODE = re.compile(r"^BU\d{8}$")


@dataclass(frozen=True)
class Schema:
    """Where one CBS schema keeps each property (None: derived from the neighbourhood code)."""

    name: str
    code: str
    name_key: str
    district_code: str | None = None
    district_name: str | None = None
    municipality_code: str | None = None
    municipality_name: str | None = None
    year: str | None = None
    water: str | None = None


SCHEMAS = {
    # Generalised edition (cartomap): statcode/statnaam, everything else derived from the code.
    "generalised": Schema("generalised", "statcode", "statnaam", year="jrstatcode"),
    # Official Wijk- en buurtkaart 2023 and later.
    "official": Schema(
        "official",
        "buurtcode",
        "buurtnaam",
        "wijkcode",
        "wijknaam",
        "gemeentecode",
        "gemeentenaam",
        "jaarcode",
        "water",
    ),
    # Official editions before 2022.
    "legacy": Schema(
        "legacy", "BU_CODE", "BU_NAAM", "WK_CODE", "WK_NAAM", "GM_CODE", "GM_NAAM", water="WATER"
    ),
}


@dataclass
class ParsedNeighbourhood:
    code: str
    name: str
    district_code: str
    district_name: str | None
    municipality_code: str
    municipality_name: str | None
    geometry: Polygon | MultiPolygon
    source_year: int | None
    repaired: bool = False


@dataclass
class ParseResult:
    schema: str
    crs: str
    neighbourhoods: list[ParsedNeighbourhood] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (feature, reason)


def detect_schema(properties: dict) -> str | None:
    """The schema whose code and name keys are both present, or None."""
    for name, schema in SCHEMAS.items():
        if schema.code in properties and schema.name_key in properties:
            return name
    return None


def _crs_of(collection: dict, sample: list[float] | None) -> str:
    """EPSG:4326 or EPSG:28992 (Dutch RD New), from the `crs` member or the coordinate range."""
    crs_name = str(((collection.get("crs") or {}).get("properties") or {}).get("name", ""))
    if "28992" in crs_name:
        return "EPSG:28992"
    if crs_name and not any(tag in crs_name for tag in ("4326", "CRS84")):
        raise Invalid(
            f"coordinate system {crs_name!r} is not supported; use WGS84 or RD New (EPSG:28992)",
            field="crs",
            rule="supported_crs",
        )
    if sample and (abs(sample[0]) > 180 or abs(sample[1]) > 90):
        return "EPSG:28992"  # metres, not degrees: RD New is what CBS publishes
    return "EPSG:4326"


def _first_coordinate(geometry: dict | None) -> list[float] | None:
    coords = (geometry or {}).get("coordinates")
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    return coords if isinstance(coords, list) and len(coords) >= 2 else None


def _rd_to_wgs84():
    from pyproj import Transformer  # only needed for RD files

    transformer = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    return lambda geom: shapely.transform(geom, transformer.transform, interleaved=False)


def _polygonal(geometry) -> Polygon | MultiPolygon | None:
    """The polygon parts of a (repaired) geometry, or None if nothing areal is left."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    if not polygons:
        return None
    merged = shapely.unary_union(polygons)
    return merged if isinstance(merged, Polygon | MultiPolygon) else None


def load_collection(path: Path) -> dict:
    """Read a GeoJSON FeatureCollection, or fail with a message that says what is wrong."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise Invalid(f"file not found: {path}", field="path", rule="exists") from None
    except UnicodeDecodeError:
        raise Invalid(
            f"{path} is not UTF-8 text (is it a zipped or binary file?)",
            field="path",
            rule="geojson",
        ) from None
    except json.JSONDecodeError as exc:
        raise Invalid(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}",
            field="path",
            rule="geojson",
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise Invalid(f"{path} is not a GeoJSON FeatureCollection", field="path", rule="geojson")
    if not isinstance(data.get("features"), list) or not data["features"]:
        raise Invalid(f"{path} has no features", field="path", rule="geojson")
    return data


def parse_collection(
    data: dict, schema: str = "auto", municipality: str | None = None
) -> ParseResult:
    """Parse CBS features into neighbourhoods; bad features are skipped with a reason."""
    features = data["features"]
    if schema == "auto":
        first_props = next((f.get("properties") or {} for f in features if f.get("properties")), {})
        detected = detect_schema(first_props)
        if detected is None:
            expected = "; ".join(f"{s.name}: {s.code}/{s.name_key}" for s in SCHEMAS.values())
            raise Invalid(
                "no known CBS schema: properties are "
                + ", ".join(sorted(first_props)[:12])
                + f". Expected one of ({expected})",
                field="schema",
                rule="known_schema",
            )
        schema = detected
    elif schema not in SCHEMAS:
        raise Invalid(
            f"unknown schema {schema!r}; choose auto, " + ", ".join(SCHEMAS),
            field="schema",
            rule="known_schema",
        )
    spec = SCHEMAS[schema]
    crs = _crs_of(data, _first_coordinate(features[0].get("geometry")))
    reproject = _rd_to_wgs84() if crs == "EPSG:28992" else None

    result = ParseResult(schema=schema, crs=crs)
    seen: set[str] = set()
    for index, feature in enumerate(features):
        label = f"feature {index + 1}"
        try:
            parsed = _parse_feature(feature, spec, reproject)
        except ValueError as exc:
            code = (feature.get("properties") or {}).get(spec.code)
            result.skipped.append((f"{label} ({code})" if code else label, str(exc)))
            continue
        if municipality and parsed.municipality_code != municipality:
            continue
        if parsed.code in seen:
            result.skipped.append((parsed.code, "appears more than once in the file"))
            continue
        seen.add(parsed.code)
        result.neighbourhoods.append(parsed)
    return result


def _text(props: dict, key: str | None) -> str | None:
    if key is None:
        return None
    value = props.get(key)
    return str(value).strip() if value not in (None, "") else None


def _parse_feature(feature: dict, spec: Schema, reproject) -> ParsedNeighbourhood:
    props = feature.get("properties") or {}
    code = _text(props, spec.code)
    if not code or not BU_CODE.match(code):
        raise ValueError(f"{spec.code} {code!r} is not a CBS neighbourhood code (BU + 8 digits)")
    name = _text(props, spec.name_key)
    if not name:
        raise ValueError(f"{spec.name_key} (the name) is empty")
    if (_text(props, spec.water) or "").upper() == "JA":
        raise ValueError("water only: nobody lives there")
    geometry_json = feature.get("geometry")
    if not geometry_json:
        raise ValueError("has no geometry")
    try:
        geometry = shape(geometry_json)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"geometry cannot be read: {exc}") from None
    if reproject is not None:
        geometry = reproject(geometry)
    repaired = False
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
        repaired = True
    geometry = _polygonal(geometry)
    if geometry is None or geometry.is_empty or geometry.area == 0:
        raise ValueError("geometry is not an area (Polygon/MultiPolygon), even after repair")
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError("coordinates are outside the range of longitude/latitude")

    year_text = _text(props, spec.year) or ""
    year = int(year_text[:4]) if year_text[:4].isdigit() else None
    return ParsedNeighbourhood(
        code=code,
        name=name,
        district_code=_text(props, spec.district_code) or "WK" + code[2:8],
        district_name=_text(props, spec.district_name),
        municipality_code=_text(props, spec.municipality_code) or "GM" + code[2:6],
        municipality_name=_text(props, spec.municipality_name),
        geometry=geometry,
        source_year=year,
        repaired=repaired,
    )


def geometry_to_geojson(geometry: Polygon | MultiPolygon) -> str:
    """Compact GeoJSON text of a geometry, rounded to about 10 cm."""
    return json.dumps(mapping(shapely.set_precision(geometry, 1e-6)), separators=(",", ":"))
