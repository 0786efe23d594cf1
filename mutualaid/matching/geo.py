"""Distances on the sphere, and the unit-vector trick behind the exact k-nearest search.

Chord length between unit vectors is 2R sin(θ/2), a monotone function of the great-circle
angle θ, so Euclidean k-nearest neighbours over 3-D unit vectors are exactly the great-circle
k-nearest neighbours. A k-d tree over them is much faster than a haversine BallTree.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors for latitude/longitude in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_to_metres(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres for a chord length on the unit sphere."""
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def metres_to_chord(metres: float) -> float:
    """Chord length on the unit sphere for a great-circle distance in metres."""
    return float(2.0 * np.sin(min(metres / EARTH_RADIUS_M, np.pi) / 2.0))


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres (vectorised haversine)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
