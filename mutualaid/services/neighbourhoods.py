"""Neighbourhoods: importing CBS boundaries and placing a point in its neighbourhood."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from ..errors import Invalid
from ..extensions import db
from ..models import Neighbourhood
from .cbs_geojson import geometry_to_geojson, load_collection, parse_collection
from .transactions import commit


@dataclass
class ImportSummary:
    schema: str
    crs: str
    imported: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def import_neighbourhoods(
    path: str | Path, schema: str = "auto", municipality: str | None = None
) -> ImportSummary:
    """Import (or update) neighbourhoods from a CBS GeoJSON file, all in one transaction."""
    parsed = parse_collection(load_collection(Path(path)), schema=schema, municipality=municipality)
    if not parsed.neighbourhoods:
        reasons = "; ".join(f"{what}: {why}" for what, why in parsed.skipped[:5])
        raise Invalid(
            "no usable neighbourhoods in the file"
            + (f" ({reasons})" if reasons else "")
            + (f" for municipality {municipality}" if municipality else ""),
            field="path",
            rule="has_neighbourhoods",
        )
    summary = ImportSummary(schema=parsed.schema, crs=parsed.crs, skipped=list(parsed.skipped))
    existing = {
        n.code: n
        for n in db.session.scalars(
            select(Neighbourhood).where(
                Neighbourhood.code.in_([p.code for p in parsed.neighbourhoods])
            )
        )
    }
    for item in parsed.neighbourhoods:
        centroid = item.geometry.representative_point()  # always inside, unlike the centroid
        values = {
            "name": item.name,
            "district_code": item.district_code,
            "district_name": item.district_name,
            "municipality_code": item.municipality_code,
            "municipality_name": item.municipality_name,
            "geometry_geojson": geometry_to_geojson(item.geometry),
            "centroid_lat": round(centroid.y, 6),
            "centroid_lon": round(centroid.x, 6),
            "source_year": item.source_year,
        }
        row = existing.get(item.code)
        if item.repaired:
            summary.repaired.append(item.code)
        if row is None:
            db.session.add(Neighbourhood(code=item.code, **values))
            summary.imported.append(item.code)
        elif any(
            getattr(row, key) != value
            for key, value in values.items()
            if value is not None or key == "source_year"
        ):
            for key, value in values.items():
                if value is not None:  # a sparser schema must not erase known names
                    setattr(row, key, value)
            summary.updated.append(item.code)
        else:
            summary.unchanged.append(item.code)
    commit()
    _locator_cache.clear()
    return summary


class NeighbourhoodLocator:
    """Point-in-polygon over neighbourhoods with a shapely STRtree index."""

    def __init__(self, ids: list[int], codes: list[str], geometries: list) -> None:
        self.ids = ids
        self.codes = codes
        self.geometries = geometries
        self.tree = shapely.STRtree(geometries)
        for geom in geometries:
            shapely.prepare(geom)

    @classmethod
    def from_database(cls) -> NeighbourhoodLocator:
        rows = db.session.execute(
            select(Neighbourhood.id, Neighbourhood.code, Neighbourhood.geometry_geojson).order_by(
                Neighbourhood.code
            )
        ).all()
        return cls(
            [r.id for r in rows],
            [r.code for r in rows],
            [shape(json.loads(r.geometry_geojson)) for r in rows],
        )

    def locate(self, lat: float, lon: float) -> int | None:
        """Id of the neighbourhood containing the point (lowest code on a shared border)."""
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self.ids[int(min(hits))] if len(hits) else None

    def locate_many(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        """Neighbourhood id per point, -1 where a point lies outside every neighbourhood."""
        points = shapely.points(np.asarray(lons, float), np.asarray(lats, float))
        point_idx, geom_idx = self.tree.query(points, predicate="intersects")
        result = np.full(len(points), -1, dtype=np.int64)
        ids = np.asarray(self.ids, dtype=np.int64)
        # Reverse order so that for a point on a border the lowest geometry index wins.
        order = np.lexsort((-geom_idx, point_idx))
        result[point_idx[order]] = ids[geom_idx[order]]
        return result


_locator_cache: dict[tuple, NeighbourhoodLocator] = {}
_locator_lock = threading.Lock()


def get_locator() -> NeighbourhoodLocator:
    """A locator for the neighbourhoods as stored now (rebuilt when they change)."""
    version = tuple(
        db.session.execute(
            select(
                func.count(Neighbourhood.id),
                func.max(Neighbourhood.imported_at),
                func.max(Neighbourhood.id),
            )
        ).one()
    )
    with _locator_lock:
        locator = _locator_cache.get(version)
        if locator is None:
            _locator_cache.clear()
            locator = _locator_cache[version] = NeighbourhoodLocator.from_database()
        return locator


def validate_location(lat: object, lon: object) -> tuple[float, float]:
    """Check a latitude/longitude pair; raise Invalid naming the bad field."""
    values = []
    for name, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise Invalid(f"{name} must be a number", field=name, rule="number") from None
        if not np.isfinite(number) or abs(number) > limit:
            raise Invalid(f"{name} must lie between -{limit} and {limit}", field=name, rule="range")
        values.append(number)
    return values[0], values[1]


def assign_neighbourhood(lat: object, lon: object) -> Neighbourhood:
    """The neighbourhood a point lies in; Invalid when it lies outside every known one."""
    lat, lon = validate_location(lat, lon)
    neighbourhood_id = get_locator().locate(lat, lon)
    if neighbourhood_id is None:
        raise Invalid(
            f"the location ({lat:.5f}, {lon:.5f}) lies outside every known neighbourhood",
            field="location",
            rule="inside_neighbourhood",
        )
    return db.session.get(Neighbourhood, neighbourhood_id)
