"""Tests of qpvgeo.data.scenarios: reading and checking scenario files."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from qpvgeo._errors import CRSError, EmptyLayerError, MissingColumnError, ValidationError
from qpvgeo.data.scenarios import read_scenario

# Étampes, longitude/latitude
LINE = [[2.1664, 48.4442], [2.1702, 48.4435]]
POINT = [2.1680, 48.4440]


def feature(props: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write(tmp_path, features: list[dict], **extra) -> str:
    path = tmp_path / "scenario.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, **extra}))
    return str(path)


def line(coords=LINE) -> dict:
    return {"type": "LineString", "coordinates": coords}


def point(coords=POINT) -> dict:
    return {"type": "Point", "coordinates": coords}


def test_every_action_is_read(tmp_path):
    path = write(tmp_path, [
        feature({"action": "add_link", "name": "Passerelle"}, line()),
        feature({"action": "remove_link"}, line()),
        feature({"action": "add_equipment", "category": "boulangerie", "label": "Fournil"}, point()),
        feature({"action": "remove_equipment", "id": "BPE000123"}, None),
        feature({"action": "remove_equipment", "category": "pharmacie", "tolerance_m": 40}, point()),
    ])  # fmt: skip
    s = read_scenario(path)
    assert s.crs.to_epsg() == 2154
    assert list(s["action"]) == ["add_link", "remove_link", "add_equipment", "remove_equipment",
                                 "remove_equipment"]  # fmt: skip
    assert list(s["feature"]) == [1, 2, 3, 4, 5]
    assert s.at[0, "name"] == "Passerelle" and s.at[2, "label"] == "Fournil"
    assert s.at[3, "equipment_id"] == "BPE000123" and s.geometry.iloc[3] is None
    np.testing.assert_array_equal(s["tolerance_m"].to_numpy(), [np.nan, 15.0, np.nan, 25.0, 40.0])
    # Lambert-93 metres, in Essonne
    x, y = s.geometry.iloc[2].x, s.geometry.iloc[2].y
    assert 600_000 < x < 680_000 and 6_790_000 < y < 6_880_000


def test_a_geodataframe_is_accepted():
    gdf = gpd.GeoDataFrame({"action": ["add_link"]}, geometry=[shapely.LineString(LINE)], crs=4326)
    assert read_scenario(gdf).at[0, "action"] == "add_link"
    with pytest.raises(CRSError, match="no CRS"):
        read_scenario(gdf.set_crs(None, allow_override=True))


def test_every_problem_is_listed_with_its_feature(tmp_path):
    path = write(tmp_path, [
        feature({"action": "add_lnk", "name": "Passerelle"}, line()),
        feature({"action": "add_equipment"}, point()),
        feature({"action": "add_equipment", "category": "boulangeri"}, point()),
        feature({"action": "add_link"}, point()),
        feature({"action": "remove_equipment"}, None),
        feature({"action": "remove_link", "tolerance_m": -3}, line()),
        feature({"action": "add_equipment", "category": "gare"}, point()),
    ])  # fmt: skip
    with pytest.raises(ValidationError) as info:
        read_scenario(path)
    msg = str(info.value)
    assert "scenario file" in msg and "scenario.geojson" in msg
    assert "feature 1 'Passerelle': unknown action 'add_lnk' (did you mean 'add_link'?)" in msg
    assert "feature 2 (add_equipment): no `category`" in msg
    assert "feature 3: unknown category 'boulangeri' (did you mean boulangerie" in msg
    assert "feature 4 (add_link): the geometry is Point; give a LineString" in msg
    assert "feature 5 (remove_equipment): give a Point or the property `id`" in msg
    assert "feature 6 (remove_link): `tolerance_m` must be a distance in metres" in msg
    assert "feature 7: category 'gare' cannot be added" in msg


def test_lambert_coordinates_without_a_crs_member(tmp_path):
    path = write(tmp_path, [feature({"action": "add_link"},
                                    line([[638357, 6816318], [638634, 6816235]]))])  # fmt: skip
    with pytest.raises(CRSError, match=r"look like metres \(Lambert-93\?\)"):
        read_scenario(path)


def test_a_declared_crs_is_used(tmp_path):
    path = write(
        tmp_path, [feature({"action": "add_link"}, line([[638357, 6816318], [638634, 6816235]]))],
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
    )  # fmt: skip
    s = read_scenario(path)
    assert s.geometry.iloc[0].coords[0] == pytest.approx((638357, 6816318))


def test_file_level_errors(tmp_path):
    with pytest.raises(ValidationError, match="does not exist; give a GeoJSON file"):
        read_scenario(tmp_path / "nope.geojson")
    with pytest.raises(EmptyLayerError, match="has no feature: add one feature per change"):
        read_scenario(write(tmp_path, []))
    with pytest.raises(MissingColumnError, match="no property `action`"):
        read_scenario(write(tmp_path, [feature({"name": "x"}, line())]))
    bad = tmp_path / "bad.geojson"
    bad.write_text("{ not json")
    with pytest.raises(ValidationError, match="cannot read it as a vector layer"):
        read_scenario(bad)
