"""Placing a point in its neighbourhood (shapely STRtree point-in-polygon)."""

import json

import numpy as np
import pytest
from shapely.geometry import shape
from sqlalchemy import select

from mutualaid.errors import Invalid
from mutualaid.extensions import db
from mutualaid.models import Neighbourhood
from mutualaid.services.neighbourhoods import assign_neighbourhood, get_locator


def test_every_neighbourhoods_inner_point_is_placed_in_that_neighbourhood(hengelo):
    rows = db.session.scalars(select(Neighbourhood)).all()
    for row in rows:
        assert assign_neighbourhood(row.centroid_lat, row.centroid_lon).code == row.code


def test_a_point_in_the_city_centre_is_in_binnenstad_centrum(hengelo):
    assert assign_neighbourhood(52.2640, 6.7935).name == "Binnenstad-Centrum"


def test_a_point_outside_every_neighbourhood_is_a_clear_error(hengelo):
    with pytest.raises(Invalid) as caught:
        assign_neighbourhood(52.3702, 4.8952)  # Amsterdam
    assert caught.value.field == "location"
    assert "outside every known neighbourhood" in caught.value.message


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        ("abc", 6.79, "lat"),
        (52.26, None, "lon"),
        (91, 6.79, "lat"),
        (52.26, 181, "lon"),
        (float("nan"), 6.79, "lat"),
    ],
)
def test_bad_coordinates_name_the_field(hengelo, lat, lon, field):
    with pytest.raises(Invalid) as caught:
        assign_neighbourhood(lat, lon)
    assert caught.value.field == field


def test_locating_many_points_agrees_with_one_at_a_time(hengelo):
    rng = np.random.default_rng(7)
    lats = rng.uniform(52.22, 52.30, 2000)
    lons = rng.uniform(6.70, 6.86, 2000)
    locator = get_locator()
    bulk = locator.locate_many(lats, lons)
    single = [locator.locate(a, o) or -1 for a, o in zip(lats, lons, strict=True)]
    assert bulk.tolist() == single
    assert (bulk == -1).any() and (bulk != -1).any()


def test_shared_border_point_goes_to_the_lowest_code(hengelo):
    rows = {
        r.code: shape(json.loads(r.geometry_geojson))
        for r in db.session.scalars(select(Neighbourhood))
    }
    border = rows["BU01640000"].boundary.intersection(rows["BU01640001"].boundary)
    point = border.representative_point() if not border.is_empty else None
    assert point is not None
    assert assign_neighbourhood(point.y, point.x).code == "BU01640000"


def test_locator_sees_newly_imported_neighbourhoods(app_ctx, tmp_path):
    from mutualaid.services.neighbourhoods import import_neighbourhoods
    from tests.conftest import BUNDLED_GEOJSON

    data = json.loads(BUNDLED_GEOJSON.read_text())
    data["features"] = data["features"][:1]
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(data))
    import_neighbourhoods(path)
    with pytest.raises(Invalid):
        assign_neighbourhood(52.2786, 6.7929)  # Tichelwerk: not imported yet
    import_neighbourhoods(BUNDLED_GEOJSON)
    assert assign_neighbourhood(52.2786, 6.7929).code.startswith("BU0164")
