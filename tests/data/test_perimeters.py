"""Custom study areas (`--perimeters`): read into the QPV schema, or one clear error."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from qpvgeo import QpvgeoWarning, cli
from qpvgeo._errors import CRSError, MissingColumnError, ValidationError
from qpvgeo.data import loaders
from qpvgeo.data.perimeters import load_perimeters, read_perimeters

pytestmark = pytest.mark.mirror

#: two blocks of Palaiseau and one of Orsay (lon/lat)
BLOCKS = {
    "palaiseau-1": shapely.box(2.2050, 48.7110, 2.2150, 48.7160),
    "palaiseau-2": shapely.box(2.2200, 48.7110, 2.2250, 48.7150),
    "orsay-1": shapely.box(2.1800, 48.6950, 2.1900, 48.7000),
}


def _layer(**columns) -> gpd.GeoDataFrame:
    base = {"code": list(BLOCKS), "nom": ["Bloc A", "Bloc B", "Bloc C"]}
    base.update(columns)
    return gpd.GeoDataFrame(base, geometry=list(BLOCKS.values()), crs=4326)


@pytest.fixture(scope="module")
def communes(data_dir):
    return loaders.load_communes("91", data_dir=data_dir, offline=True)


def test_perimeters_in_the_qpv_schema(communes, tmp_path):
    path = tmp_path / "zones.geojson"
    _layer().to_file(path)
    zones = load_perimeters(path, "91", communes)
    assert zones.index.name == "code_qp" and sorted(zones.index) == sorted(BLOCKS)
    assert zones.crs == "EPSG:2154"
    assert list(zones.columns) == [
        "lib_qp",
        "insee_com",
        "lib_com",
        "insee_dep",
        "area_ha",
        "geometry",
    ]
    # communes found by overlay with the commune outlines: Palaiseau 91477, Orsay 91471
    assert zones.at["palaiseau-1", "insee_com"].split(",")[0] == "91477"
    assert zones.at["orsay-1", "insee_com"].split(",")[0] == "91471"
    assert zones.at["orsay-1", "lib_com"].startswith("Orsay")
    # area in hectares, from the Lambert-93 geometry
    expected = gpd.GeoSeries([BLOCKS["orsay-1"]], crs=4326).to_crs(2154).area.iloc[0] / 1e4
    assert zones.at["orsay-1", "area_ha"] == pytest.approx(expected)


def test_columns_named_or_found(tmp_path):
    both = _layer(nom_court=["a", "b", "c"])
    with pytest.raises(
        MissingColumnError, match=r"several columns could be \(\['nom', 'nom_court'\]\).*--name-col"
    ):
        read_perimeters(both)
    assert list(read_perimeters(both, name_col="nom_court")["lib_qp"]) == ["a", "b", "c"]
    none = _layer().rename(columns={"code": "zone"})
    with pytest.raises(
        MissingColumnError,
        match=r"no column looks like the perimeter id; its columns are \['zone', 'nom'\]",
    ):
        read_perimeters(none)
    with pytest.raises(MissingColumnError, match=r"no column 'numero' \(--id-col\)"):
        read_perimeters(_layer(), id_col="numero")


@pytest.mark.parametrize(
    ("layer", "error", "match"),
    [
        (_layer().set_crs(None, allow_override=True), CRSError, "no CRS"),
        (_layer(code=["a", "b", "a"]), ValidationError, r"duplicate ids in column 'code': \['a'\]"),
        (_layer(code=["a", "b/c", "d"]), ValidationError, "not usable as file names"),
        (
            gpd.GeoDataFrame(
                {"code": ["p"], "nom": ["point"]}, geometry=[shapely.Point(2.2, 48.7)], crs=4326
            ),
            ValidationError,
            r"must be polygons; 1 are not: p \(Point\)",
        ),
    ],
)
def test_refused_layers(layer, error, match):
    with pytest.raises(error, match=match):
        read_perimeters(layer)


def test_perimeter_outside_the_departement(communes):
    paris = _layer()
    paris.loc[2, "geometry"] = shapely.box(2.34, 48.85, 2.35, 48.86)  # Paris, not 91
    with pytest.raises(
        ValidationError, match=r"1 perimeter\(s\) lie outside département 91: orsay-1"
    ):
        load_perimeters(paris, "91", communes)


def test_overlapping_perimeters_said(communes):
    layer = _layer()
    layer.loc[1, "geometry"] = shapely.box(2.2100, 48.7120, 2.2200, 48.7150)  # overlaps block A
    with pytest.warns(QpvgeoWarning, match="palaiseau-1 & palaiseau-2"):
        load_perimeters(layer, "91", communes)


def test_cli_bad_perimeters_one_error_line(capsys, data_dir, tmp_path):
    path = tmp_path / "zones.gpkg"
    _layer(code=["a", "b", "a"]).to_file(path)
    argv = ["run", "--dep", "91", "--perimeters", str(path), "--offline", "--data-dir", str(data_dir),
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qpvgeo: error: ") and "duplicate ids" in err[0]
    assert (
        cli.main(["run", "--dep", "91", "--id-col", "code", "--offline", "--out", str(tmp_path)])
        == 2
    )
    assert "--perimeters" in capsys.readouterr().err


def test_a_table_without_geometries_is_refused(capsys, data_dir, tmp_path):
    """A CSV of QPV codes and names given as perimeters: one error line, not a traceback."""
    path = tmp_path / "zones.csv"
    path.write_text("code,nom\nZ1,Centre\nZ2,Gare\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="table without geometries"):
        read_perimeters(path)
    argv = ["run", "--dep", "91", "--perimeters", str(path), "--offline", "--data-dir", str(data_dir),
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "zones.csv" in err[0] and "GeoPackage, GeoJSON or shapefile" in err[0]
