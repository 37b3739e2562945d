"""The whole job on study areas drawn on the Palaiseau plateau, with a local OSM extract:
`qpvgeo run --dep 91 --perimeters P.gpkg --osm-extract X.osm.pbf --offline`."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pytest
import shapely

from qpvgeo import cli
from qpvgeo.data import sources
from qpvgeo.data.population import SOURCE_IRIS
from qpvgeo.indicators import access

pytestmark = pytest.mark.mirror

#: two study areas (lon/lat): south of the N118 at Le Guichet, its north side drawn along the
#: trunk road's carriageway (OSM nodes of the N118, rounded to 1e-5°); a block of the plateau
#: (École polytechnique), more than 1 km from any motorway or trunk road
GUICHET = [(2.18028, 48.71284), (2.18408, 48.71191), (2.18623, 48.71107), (2.18722, 48.71038),
           (2.1870, 48.7080), (2.1810, 48.7085)]  # fmt: skip
PLATEAU = [(2.2050, 48.7110), (2.2150, 48.7110), (2.2150, 48.7160), (2.2050, 48.7160)]
FOOTWAYS = ("footway", "path", "pedestrian", "steps", "cycleway")


def _osm_lines(pbf, keep) -> gpd.GeoSeries:
    """Ways of the extract whose tags pass ``keep``, read here with pyosmium (EPSG:2154)."""
    lines = []
    for way in (
        osmium.FileProcessor(str(pbf))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
    ):
        tags = dict(way.tags)
        if keep(tags):
            coords = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
            if len(coords) > 1:
                lines.append(shapely.LineString(coords))
    return gpd.GeoSeries(lines, crs=4326).to_crs(2154)


@pytest.fixture(scope="module")
def extract_run(palaiseau_pbf, data_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("extract_run")
    perimeters = gpd.GeoDataFrame(
        {
            "id_zone": ["guichet", "plateau"],
            "nom_zone": ["Le Guichet, le long de la N118", "Plateau"],
        },
        geometry=[shapely.Polygon(GUICHET), shapely.Polygon(PLATEAU)],
        crs=4326,
    )
    perimeters.to_file(folder / "P.gpkg")
    out = folder / "out"
    argv = ["run", "--dep", "91", "--perimeters", str(folder / "P.gpkg"), "--osm-extract",
            str(palaiseau_pbf), "--offline", "--data-dir", str(data_dir), "--out", str(out), "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    table = pd.read_csv(
        out / "tables/indicators_qpv.csv", dtype={"code_qp": str, "insee_com": str}
    ).set_index("code_qp")
    return out, table, perimeters.to_crs(2154).set_index("id_zone")


def test_walk_networks_cut_from_the_extract(extract_run):
    _, table, _ = extract_run
    assert sorted(table.index) == ["guichet", "plateau"]
    assert (table["network_kind"] == "walk").all()
    assert (table["network_osm_date"] == "08/01/2026").all()
    assert table["network_source"].str.startswith("palaiseau-cut.osm.pbf [").all()
    assert table.loc["plateau", "network_status"] == "couvert"
    assert (table["access_method"] == access.METHOD_NETWORK).all()
    times = table.filter(like="walk_min_median_").drop(
        columns=table.filter(like="_rest_commune").columns
    )
    assert times.notna().sum(axis=1).min() >= 5 and (times.stack() > 0).all()


def test_population_from_iris(extract_run):
    _, table, _ = extract_run
    assert (table["population_source"] == SOURCE_IRIS).all()
    assert (table["population_qpv"] > 0).all()
    assert (
        table[["poverty_rate_qpv_pct", "households_qpv", "employment_rate_qpv_pct"]]
        .isna()
        .all()
        .all()
    )
    assert table["lib_qp"].tolist() == ["Le Guichet, le long de la N118", "Plateau"]
    assert (table["insee_com"].str.startswith("91")).all()
    assert (table["perimeter_kind"] == "périmètre d'étude").all()


def test_fiche_says_study_area_and_iris_estimate(extract_run):
    out, _, _ = extract_run
    page = (out / "maps/fiches/plateau.html").read_text(encoding="utf-8")
    assert "Périmètre d'étude plateau" in page and "Quartier prioritaire" not in page
    assert "Population (estimation par les IRIS" in page
    assert "pas de chiffre officiel pour un périmètre d'étude" in page
    assert "secret statistique" not in page
    assert "OSM au 08/01/2026" in page


def test_road_barrier_share_where_the_n118_lines_the_perimeter(extract_run, palaiseau_pbf):
    _, table, zones = extract_run
    road = table["share_perimeter_road_pct"]
    assert road.notna().all()  # assessed, from the extract
    assert road["plateau"] == 0.0
    # independent reading: the trunk road's lines read here, buffered 50 m, along the boundary
    trunk = _osm_lines(
        palaiseau_pbf,
        lambda t: (
            t.get("highway") in ("motorway", "motorway_link", "trunk", "trunk_link")
            and t.get("tunnel") != "yes"
        ),
    )
    boundary = zones.loc["guichet"].geometry.boundary
    expected = (
        100
        * boundary.intersection(shapely.union_all(trunk.buffer(50.0).values)).length
        / boundary.length
    )
    assert expected > 30
    assert road["guichet"] == pytest.approx(expected, abs=0.01)
    assert "N 118" in str(table.loc["guichet", "main_barrier"])


def test_crossings_on_footways(extract_run, palaiseau_pbf):
    out, table, _ = extract_run
    crossings = pyogrio.read_dataframe(out / "tables/qpvgeo.gpkg", layer="boundary_crossings")
    mine = crossings[crossings["code_qp"] == "plateau"]
    assert len(mine) > 0
    footways = _osm_lines(palaiseau_pbf, lambda t: t.get("highway") in FOOTWAYS)
    tree = shapely.STRtree(footways.values)
    near = tree.query(mine.geometry.values, predicate="dwithin", distance=1.0)
    assert len(np.unique(near[0])) >= 1  # the way in is a footway or a path, not only streets


def test_provenance_holds_the_extract(extract_run, palaiseau_pbf):
    out, _, _ = extract_run
    record = json.loads((out / "tables/provenance.json").read_text(encoding="utf-8"))
    (extract,) = record["parameters"]["osm_extracts"]
    assert extract["sha256"] == sources.sha256(palaiseau_pbf)
    assert extract["osm_timestamp"] == "2026-01-08T06:25:44+00:00"
    assert extract["osm_timestamp_source"] == "osmosis_replication_timestamp"
    assert record["parameters"]["perimeters"]["sha256"] == sources.sha256(out.parent / "P.gpkg")
    assert any("OSM au 08/01/2026" in m for m in record["messages"])
    page = (out / "maps/qpv_enclavement.html").read_text(encoding="utf-8")
    assert "OSM au 08/01/2026" in page


def test_qpv_outside_the_extract_said(palaiseau_pbf, data_dir):
    """QN09140N (Les Ulis) lies 1.4 km from the Palaiseau extract: its network comes from the
    data directory's files (a drive network, labelled so) and a note names it; its road share
    stays not assessed (NaN), the extract's extent not reaching it."""
    from qpvgeo import pipeline

    result = pipeline.run(
        "91", ["QN09140N"], data_dir=data_dir, offline=True, osm_extracts=[palaiseau_pbf]
    )
    row = result.indicators.loc["QN09140N"]
    assert row["network_kind"] == "drive" and not isinstance(row["network_osm_date"], str)
    assert any(
        "1 QPV lie outside the OSM extract(s) palaiseau-cut.osm.pbf: QN09140N" in m
        for m in result.messages
    )
    assert np.isnan(row["share_perimeter_road_pct"]) and row["barriers_assessed"].endswith(
        "road: no"
    )
    assert result.parameters["osm_extracts"][0]["osm_timestamp"] == "2026-01-08T06:25:44+00:00"
