"""Importing CBS neighbourhoods: three schemas, RD New coordinates, broken files, re-imports."""

import copy
import json

import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import mapping, shape
from sqlalchemy import func, select

from mutualaid.errors import Invalid
from mutualaid.extensions import db
from mutualaid.models import Neighbourhood
from mutualaid.services.neighbourhoods import import_neighbourhoods
from tests.conftest import BUNDLED_GEOJSON


def generalised() -> dict:
    return json.loads(BUNDLED_GEOJSON.read_text(encoding="utf-8"))


def as_official(data: dict) -> dict:
    """The same neighbourhoods in the official 2023+ schema."""
    data = copy.deepcopy(data)
    for feature in data["features"]:
        p = feature["properties"]
        code = p["statcode"]
        feature["properties"] = {
            "buurtcode": code,
            "buurtnaam": p["statnaam"],
            "wijkcode": "WK" + code[2:8],
            "wijknaam": "Wijk " + code[6:8],
            "gemeentecode": "GM" + code[2:6],
            "gemeentenaam": "Hengelo",
            "jaarcode": 2023,
            "water": "NEE",
        }
    return data


def as_legacy_rd(data: dict) -> dict:
    """The same neighbourhoods in the pre-2022 schema, in RD New metres as CBS published them."""
    data = copy.deepcopy(data)
    to_rd = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}
    for feature in data["features"]:
        p = feature["properties"]
        code = p["statcode"]
        feature["properties"] = {
            "BU_CODE": code,
            "BU_NAAM": p["statnaam"],
            "WK_CODE": "WK" + code[2:8],
            "GM_CODE": "GM" + code[2:6],
            "GM_NAAM": "Hengelo",
        }
        feature["geometry"] = mapping(
            shapely.transform(shape(feature["geometry"]), to_rd.transform, interleaved=False)
        )
    return data


def write(tmp_path, data, name="buurten.geojson"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def stored_count() -> int:
    return db.session.scalar(select(func.count(Neighbourhood.id)))


def test_generalised_schema_imports_all_62_with_derived_codes(app_ctx, tmp_path):
    summary = import_neighbourhoods(BUNDLED_GEOJSON)
    assert summary.schema == "generalised" and summary.crs == "EPSG:4326"
    assert len(summary.imported) == 62 and summary.skipped == []
    row = db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == "BU01640101"))
    assert row.name == "Tichelwerk"
    assert row.district_code == "WK016401" and row.municipality_code == "GM0164"
    assert row.source_year == 2023
    assert shape(json.loads(row.geometry_geojson)).contains(
        shape({"type": "Point", "coordinates": [row.centroid_lon, row.centroid_lat]})
    )


def test_official_schema_is_detected_and_keeps_names(app_ctx, tmp_path):
    summary = import_neighbourhoods(write(tmp_path, as_official(generalised())))
    assert summary.schema == "official" and len(summary.imported) == 62
    row = db.session.scalar(select(Neighbourhood).where(Neighbourhood.code == "BU01640000"))
    assert row.municipality_name == "Hengelo" and row.district_name == "Wijk 00"


def test_legacy_schema_in_rd_new_is_reprojected_to_wgs84(app_ctx, tmp_path):
    summary = import_neighbourhoods(write(tmp_path, as_legacy_rd(generalised())))
    assert summary.schema == "legacy" and summary.crs == "EPSG:28992"
    assert len(summary.imported) == 62
    original = {
        f["properties"]["statcode"]: shape(f["geometry"]) for f in generalised()["features"]
    }
    for row in db.session.scalars(select(Neighbourhood)):
        imported = shape(json.loads(row.geometry_geojson))
        # Round trip through RD New: same shape to within about a metre.
        assert (
            imported.symmetric_difference(original[row.code]).area < 0.02 * original[row.code].area
        )


def test_schema_can_be_forced_and_a_wrong_choice_is_explained(app_ctx, tmp_path):
    path = write(tmp_path, generalised())
    with pytest.raises(Invalid):
        import_neighbourhoods(path, schema="legacy")  # every feature lacks BU_CODE
    assert stored_count() == 0
    assert len(import_neighbourhoods(path, schema="generalised").imported) == 62


def test_reimport_is_idempotent_and_updates_changed_names(app_ctx, tmp_path):
    import_neighbourhoods(BUNDLED_GEOJSON)
    again = import_neighbourhoods(BUNDLED_GEOJSON)
    assert (len(again.imported), len(again.updated), len(again.unchanged)) == (0, 0, 62)
    data = generalised()
    data["features"][0]["properties"]["statnaam"] = "Centrum (nieuw)"
    changed = import_neighbourhoods(write(tmp_path, data))
    assert changed.updated == ["BU01640000"] and stored_count() == 62


def test_municipality_filter_imports_only_that_municipality(app_ctx, tmp_path):
    data = generalised()
    other = copy.deepcopy(data["features"][0])
    other["properties"]["statcode"] = "BU01530000"  # Enschede
    data["features"].append(other)
    summary = import_neighbourhoods(write(tmp_path, data), municipality="GM0164")
    assert len(summary.imported) == 62


def test_bad_features_are_skipped_with_reasons_and_invalid_geometry_is_repaired(app_ctx, tmp_path):
    data = generalised()
    features = data["features"]
    features[1]["properties"]["statcode"] = "XX123"
    features[2]["geometry"] = {"type": "LineString", "coordinates": [[6.79, 52.26], [6.8, 52.27]]}
    features[3]["properties"]["statnaam"] = ""
    features[4]["geometry"] = None
    # A bow-tie: self-intersecting, which shapely.make_valid turns into two triangles.
    features[5]["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[6.80, 52.25], [6.81, 52.26], [6.81, 52.25], [6.80, 52.26], [6.80, 52.25]]
        ],
    }
    features.append(copy.deepcopy(features[0]))
    summary = import_neighbourhoods(write(tmp_path, data))
    reasons = dict(summary.skipped)
    assert len(summary.imported) == 58  # 62 less four broken ones; the duplicate is not new
    assert "BU + 8 digits" in reasons["feature 2 (XX123)"]
    assert "not an area" in reasons["feature 3 (BU01640002)"]
    assert "name" in reasons["feature 4 (BU01640100)"]
    assert "no geometry" in reasons["feature 5 (BU01640101)"]
    assert reasons["BU01640000"] == "appears more than once in the file"
    assert summary.repaired == [features[5]["properties"]["statcode"]]


def test_water_only_features_are_skipped(app_ctx, tmp_path):
    data = as_official(generalised())
    data["features"][0]["properties"]["water"] = "JA"
    summary = import_neighbourhoods(write(tmp_path, data))
    assert len(summary.imported) == 61
    assert "water" in summary.skipped[0][1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not valid JSON"),
        ("[1, 2, 3]", "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "has no features"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, '
            '"properties": {"naam": "x", "id": 1}}]}',
            "no known CBS schema: properties are id, naam",
        ),
    ],
)
def test_unusable_files_fail_with_a_clear_message_and_store_nothing(
    app_ctx, tmp_path, content, message
):
    with pytest.raises(Invalid, match=message):
        import_neighbourhoods(write(tmp_path, content))
    assert stored_count() == 0


def test_missing_file_is_reported(app_ctx, tmp_path):
    with pytest.raises(Invalid, match="file not found"):
        import_neighbourhoods(tmp_path / "nope.geojson")


def test_unsupported_coordinate_system_is_named(app_ctx, tmp_path):
    data = generalised()
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    with pytest.raises(Invalid, match="3857") as caught:
        import_neighbourhoods(write(tmp_path, data))
    assert caught.value.field == "crs"


def test_cli_prints_a_summary_and_fails_clearly(app_ctx, tmp_path):
    runner = CliRunner()
    cli = app_ctx.cli
    ok = runner.invoke(cli, ["import-neighbourhoods", str(BUNDLED_GEOJSON)])
    assert ok.exit_code == 0, ok.output
    assert "Imported: 62, updated: 0, unchanged: 0, skipped: 0" in ok.output
    again = runner.invoke(cli, ["import-neighbourhoods", str(BUNDLED_GEOJSON)])
    assert "Imported: 0, updated: 0, unchanged: 62" in again.output
    bad = runner.invoke(cli, ["import-neighbourhoods", str(write(tmp_path, "nonsense"))])
    assert bad.exit_code != 0
    assert "not valid JSON" in bad.output
