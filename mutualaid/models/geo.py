"""Neighbourhoods (CBS buurten) with their boundaries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class Neighbourhood(db.Model):
    """A CBS neighbourhood: code like BU01640101, its district and municipality, and polygon."""

    __tablename__ = "neighbourhoods"
    __table_args__ = (
        CheckConstraint("code LIKE 'BU%'", name="code_format"),
        CheckConstraint("district_code LIKE 'WK%'", name="district_code_format"),
        CheckConstraint("municipality_code LIKE 'GM%'", name="municipality_code_format"),
        CheckConstraint("centroid_lat BETWEEN -90 AND 90", name="centroid_lat_range"),
        CheckConstraint("centroid_lon BETWEEN -180 AND 180", name="centroid_lon_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    district_code: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    district_name: Mapped[str | None] = mapped_column(String(120))
    municipality_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    municipality_name: Mapped[str | None] = mapped_column(String(120))
    # GeoJSON geometry (Polygon or MultiPolygon, WGS84). Loaded with shapely when needed; no
    # database-specific spatial extension is required.
    geometry_geojson: Mapped[str] = mapped_column(Text, nullable=False)
    centroid_lat: Mapped[float] = mapped_column(Float, nullable=False)
    centroid_lon: Mapped[float] = mapped_column(Float, nullable=False)
    source_year: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<Neighbourhood {self.code} {self.name}>"


class GeocodeResult(db.Model):
    """A cached geocoder answer for a normalised address query (found or not)."""

    __tablename__ = "geocode_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "provider|normalised query", e.g. "pdok|7551AB 12"; the cache key.
    query_key: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    found: Mapped[bool] = mapped_column(Boolean, nullable=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    display_name: Mapped[str | None] = mapped_column(String(255))
    street: Mapped[str | None] = mapped_column(String(120))
    postcode: Mapped[str | None] = mapped_column(String(7))
    neighbourhood_code: Mapped[str | None] = mapped_column(String(10))
    municipality_code: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
