"""Loaders on the real mirror, and on damaged copies of its files (built in tmp_path)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from qpvgeo import settings
from qpvgeo._errors import (
    ChecksumError,
    CRSError,
    DataNotFoundError,
    EmptyLayerError,
    MissingColumnError,
    UnknownCodeError,
    ValidationError,
)
from qpvgeo._validate import read_csv, read_layer
from qpvgeo.data import loaders, nomenclature, sources

QPV_91 = "qpv/qpv2024_essonne_91.geojson"
BPE_91 = "insee/bpe2024_essonne_equipements_selection.csv"
BPE_RING = "insee/bpe2024_idf_hors91_tampon3km_equipements_selection.csv"
QPV_COLUMNS = ["lib_qp", "insee_com", "lib_com", "insee_dep", "geometry", "area_ha"]
BOWTIE = shapely.Polygon([(2.30, 48.60), (2.31, 48.61), (2.31, 48.60), (2.30, 48.61)])


# --------------------------------------------------------------------------- helpers


def mirror_dir(tmp: Path, data_dir: Path, keys: tuple[str, ...]) -> Path:
    """A data directory in ``tmp`` laid out like the mirror, holding (symlinks to) ``keys`` only."""
    for key in keys:
        found = sources.find(key, data_dir)
        assert found is not None, key
        target = tmp / found.relative_to(data_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(found)
    return tmp


def dataset_path(tmp: Path, key: str, index: int = 0) -> Path:
    """Where the loader looks first for ``key`` in a tmp data directory (folder created)."""
    path = tmp / sources.CATALOGUE[key].files[index]
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def qpv_sample(data_dir: Path, n: int = 4) -> gpd.GeoDataFrame:
    return gpd.read_file(data_dir / QPV_91).sort_values("code_qp").head(n).reset_index(drop=True)


def bpe_sample(data_dir: Path) -> pd.DataFrame:
    """300 rows of the Essonne BPE file: 60 each of B207, D265, B105, B201, D307."""
    df = pd.read_csv(data_dir / BPE_91, dtype=str)
    keep = df["typequ_derive"].isin(["B207", "D265", "B105", "B201", "D307"])
    return df[keep].groupby("typequ_derive").head(60).reset_index(drop=True)


def to_official_bpe(df: pd.DataFrame) -> pd.DataFrame:
    """The mirror's rows with BPE24.csv's column names, and decimal commas."""
    out = pd.DataFrame(
        {
            "DEPCOM": df["commune"],
            "TYPEQU": df["typequ_derive"],
            "LIBELLE": df["label"],  # accented capitals: tests the encoding
            "LAMBERT_X": df["lambert_x"].str.replace(".", ",", regex=False),
            "LAMBERT_Y": df["lambert_y"].str.replace(".", ",", regex=False),
        }
    )
    return out


# --------------------------------------------------------------------------- the mirror


@pytest.fixture(scope="module")
def qpv91(data_dir):
    return loaders.load_qpv("91", data_dir=data_dir, offline=True)


@pytest.fixture(scope="module")
def iris91(data_dir):
    with pytest.warns(UserWarning, match=r"185 of 507 IRIS of 91 have no income figure"):
        return loaders.load_iris("91", data_dir=data_dir, offline=True)


@pytest.fixture(scope="module")
def equipments91(data_dir):
    return loaders.load_equipments("91", data_dir=data_dir, offline=True)


@pytest.mark.mirror
def test_load_qpv_essonne(qpv91):
    assert len(qpv91) == 47
    assert qpv91.index.name == "code_qp" and qpv91.index.is_unique
    assert list(qpv91.columns) == QPV_COLUMNS
    assert qpv91.crs.to_epsg() == 2154
    assert qpv91.is_valid.all() and not qpv91.is_empty.any()
    assert set(qpv91.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (qpv91["insee_dep"] == "91").all()
    # README: area 3.3 to 89.0 ha, 1,115 ha in total
    assert qpv91["area_ha"].between(3.0, 90.0).all()
    assert qpv91["area_ha"].sum() == pytest.approx(1115, rel=0.01)
    # two QPV span two communes, comma-joined
    assert "," in qpv91.at["QN09130M", "insee_com"]
    # in metres: Essonne lies around x 600-700 km, y 6.78-6.87 Mm in Lambert-93
    xmin, ymin, xmax, ymax = qpv91.total_bounds
    assert 600_000 < xmin < xmax < 700_000 and 6_780_000 < ymin < ymax < 6_880_000


@pytest.mark.mirror
def test_load_qpv_codes(data_dir, qpv91):
    two = loaders.load_qpv(codes=["qn09106m", "QN09140N"], data_dir=data_dir, offline=True)
    assert list(two.index) == ["QN09106M", "QN09140N"]
    same = loaders.load_qpv("91", ["QN09106M"], data_dir=data_dir, offline=True)
    assert shapely.equals(same.geometry.iloc[0], qpv91.geometry.loc["QN09106M"])


@pytest.mark.mirror
def test_load_communes(data_dir):
    communes = loaders.load_communes("91", data_dir=data_dir, offline=True)
    assert len(communes) == 194
    assert communes.index.name == "insee_com" and communes.index.is_unique
    assert communes.crs.to_epsg() == 2154
    assert {"91228", "91390"} <= set(communes.index)  # Évry-Courcouronnes, Le Mérévillois
    assert (communes["insee_dep"] == "91").all()


@pytest.mark.mirror
def test_load_iris(iris91):
    assert len(iris91) == 507
    assert iris91.index.name == "code_iris" and (iris91.index.str.len() == 9).all()
    assert iris91.crs.to_epsg() == 2154
    assert iris91["population"].sum() == 1_313_759  # README: total population
    assert iris91["population"].notna().all()
    assert iris91["median_income_eur"].notna().sum() == 322
    assert iris91["median_income_eur"].dropna().between(5_000, 100_000).all()
    assert iris91["insee_com"].nunique() == 194


@pytest.mark.mirror
def test_load_equipments_counts(equipments91):
    eq = equipments91
    assert len(eq) == 9_089 + 4_105
    assert eq.index.name == "equipment_id" and eq.index.is_unique
    assert eq.crs.to_epsg() == 2154
    from_91 = eq["insee_com"].str.startswith("91")
    assert from_91.sum() == 9_089
    # README: 13 ring points fall just inside the generalised Etalab outline of 91
    assert eq["in_dep"].sum() == 9_089 + 13
    assert eq.loc[from_91, "in_dep"].all()
    assert (eq["source"] == "BPE").all()


@pytest.mark.mirror
def test_load_equipments_categories(equipments91):
    eq = equipments91
    first = eq.drop_duplicates("code").set_index("code")["category"]
    assert first["B207"] == "boulangerie"
    assert first["D265"] == "medecin_generaliste"
    assert first["B105"] == "supermarche"
    assert first["B201"] == "superette"
    # the 53 codes of the mirror are all classified
    assert (eq["category"] != nomenclature.UNCLASSIFIED).all()
    # README counts in 91
    in91 = eq[eq["insee_com"].str.startswith("91")]["category"].value_counts()
    assert in91["boulangerie"] == 691 and in91["pharmacie"] == 329
    assert in91["medecin_generaliste"] == 772 and in91["supermarche"] == 209
    assert eq.loc[eq["code"] == "B207", "typequ_2021"].eq("B203").all()
    assert eq.loc[eq["category"] == "boulangerie", "is_food_retail"].all()
    assert not eq.loc[eq["category"] == "pharmacie", "is_food_retail"].any()


@pytest.mark.mirror
def test_load_equipments_duplicates_kept(data_dir, equipments91):
    """Rows at the same point with the same code are kept and share a ``site_id``.

    README: 1,443 rows of the 91 file repeat another exactly (same type, same
    lon/lat), leaving 7,646 distinct pairs. qpvgeo compares Lambert-93 points to
    0.1 m, which also joins one B207 pair 1 cm apart in lon/lat: 1,444.
    """
    eq = equipments91[equipments91["insee_com"].str.startswith("91")]
    assert len(eq) == 9_089
    raw = pd.read_csv(data_dir / BPE_91, dtype=str)
    exact = raw.duplicated(["typequ_derive", "longitude", "latitude"])
    assert exact.sum() == 1_443
    assert len(eq) - eq["site_id"].nunique() == 1_444
    # every exact duplicate of the README shares its site with the row it repeats
    raw["site_id"] = eq["site_id"].to_numpy()  # same order: the loader keeps the file's rows
    assert (raw.groupby(["typequ_derive", "longitude", "latitude"])["site_id"].nunique() == 1).all()
    # n_at_site is the size of the site; one site per code and place
    sizes = eq.groupby("site_id").size()
    assert (eq["n_at_site"].to_numpy() == sizes.loc[eq["site_id"]].to_numpy()).all()
    assert (eq.groupby("site_id")["code"].nunique() == 1).all()
    assert eq.drop_duplicates("site_id").shape[0] == 7_645


@pytest.mark.mirror
def test_load_stations(data_dir):
    stations = loaders.load_stations("91", data_dir=data_dir, offline=True)
    assert stations.index.name == "station_id" and stations.index.is_unique
    assert stations.crs.to_epsg() == 2154
    assert list(stations.columns) == ["name", "modes", "lines", "geometry"]
    raw = gpd.read_file(data_dir / "osm/idf_emplacement-des-gares-idf_idfm_2025-07.geojson")
    # one row per IDFM stop area (id_ref_zdc), fewer than the per-line features
    assert set(stations.index) <= set(raw["id_ref_zdc"].astype(str))
    assert len(stations) < len(raw[raw["id_ref_zdc"].astype(str).isin(stations.index)])
    massy = stations[stations["name"].str.contains("Massy", na=False)]
    assert len(massy) >= 1 and massy["modes"].str.contains("RER").any()


@pytest.mark.mirror
def test_load_gammes(data_dir):
    gammes = loaders.load_gammes(data_dir=data_dir, offline=True)
    assert len(gammes) == 126
    assert {"typequ", "code_equipement", "libelle_equipement", "gamme"} <= set(gammes.columns)
    assert set(gammes["gamme"]) == {"proximité", "intermédiaire", "supérieure"}
    assert gammes.loc[gammes["typequ"] == "B203", "code_equipement"].item() == "B203"


# --------------------------------------------------------------------------- bad codes


def test_unknown_departement_lists_available(data_dir):
    with pytest.raises(
        UnknownCodeError, match=r"'99' has no QPV .*covers 75, 77, 78, 91, 92, 93, 94, 95"
    ):
        loaders.load_qpv("99", data_dir=data_dir, offline=True)
    with pytest.raises(UnknownCodeError, match=r"no commune in département '99'.* 75, 77, 78, 91"):
        loaders.load_communes("99", data_dir=data_dir, offline=True)
    with pytest.raises(UnknownCodeError, match=r"no IRIS in département '99'.* 91, 92"):
        loaders.load_iris("99", data_dir=data_dir, offline=True)


@pytest.mark.parametrize("dep", ["9x", "9", "911", "", "Essonne"])
def test_malformed_departement_checked_before_reading(tmp_path, dep):
    """A malformed département is reported as such, even when the data directory is empty."""
    for load in (
        loaders.load_qpv,
        loaders.load_communes,
        loaders.load_iris,
        loaders.load_equipments,
    ):
        with pytest.raises(
            UnknownCodeError, match=r"is not a département code; give two digits \('91'\)"
        ):
            load(dep, data_dir=tmp_path, offline=True)


def test_unknown_qpv_code(data_dir):
    with pytest.raises(
        UnknownCodeError,
        match=r"unknown QPV code\(s\) \['QN09999Z'\] in département 91; "
        r"the 47 QPV 2024 codes there are QN09101M, .*QN09106M",
    ):
        loaders.load_qpv("91", ["QN09106M", "QN09999Z"], data_dir=data_dir, offline=True)
    # a code of another département is unknown in 91
    with pytest.raises(UnknownCodeError, match=r"\['QN09301M'\] in département 91"):
        loaders.load_qpv("91", ["QN09301M"], data_dir=data_dir, offline=True)
    # a 2015 code gets a hint
    with pytest.raises(
        UnknownCodeError, match=r"'QP' codes are 2015 QPV; 2024 codes start with 'QN'"
    ):
        loaders.load_qpv("91", ["QP091001"], data_dir=data_dir, offline=True)


@pytest.mark.parametrize("code", ["XYZ", "QN-09106", "09106M"])
def test_malformed_qpv_code(tmp_path, code):
    with pytest.raises(
        UnknownCodeError, match=rf"\['{code}'\] is not a QPV code; .*e\.g\. 'QN09106M'"
    ):
        loaders.load_qpv("91", [code], data_dir=tmp_path, offline=True)


def test_no_departement_nor_codes(data_dir):
    with pytest.raises(ValidationError, match=r"give a département \(`dep`\) or QPV codes"):
        loaders.load_qpv(data_dir=data_dir)


def test_missing_file_offline(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"dataset 'qpv' .*expected 'qpv/QP2024_France"):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


# --------------------------------------------------------------------------- CRS


def test_layer_without_crs(tmp_path, data_dir, monkeypatch):
    """A GeoPackage (or shapefile without .prj) has no CRS: refused, with the fix."""
    gdf = qpv_sample(data_dir)
    gdf = gdf.set_crs(None, allow_override=True)
    gpkg = tmp_path / "qpv" / "qpv_nocrs.gpkg"
    gpkg.parent.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: "'crs' was not provided"
        gdf.to_file(gpkg, driver="GPKG")
        gdf[["code_qp", "lib_qp", "geometry"]].to_file(tmp_path / "qpv_nocrs.shp")
    assert gpd.read_file(gpkg).crs is None
    with pytest.raises(CRSError, match=r"qpv_nocrs.shp' has no CRS; set it .*set_crs\(4326\)"):
        read_layer(tmp_path / "qpv_nocrs.shp", source="QPV file")
    qpv = dataclasses.replace(sources.CATALOGUE["qpv"], files=("qpv/qpv_nocrs.gpkg",))
    monkeypatch.setitem(sources.CATALOGUE, "qpv", qpv)
    with pytest.raises(CRSError, match=r"QPV file 'qpv_nocrs.gpkg'.* has no CRS"):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


def test_layer_with_unexpected_crs(tmp_path, data_dir):
    gdf = qpv_sample(data_dir)
    gdf.to_crs(3857).to_file(dataset_path(tmp_path, "qpv"))
    with pytest.raises(
        CRSError,
        match=r"QPV file .*CRS 'EPSG:3857'.* not one this dataset is published "
        r"in \(EPSG:4326, EPSG:4171, EPSG:2154\).*reproject it",
    ):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


def test_communes_and_stations_with_unexpected_crs(tmp_path, data_dir):
    communes = gpd.read_file(data_dir / "admin/communes_essonne_91_2024_etalab100m.geojson")
    communes.to_crs(3035).to_file(dataset_path(tmp_path, "communes"))
    with pytest.raises(CRSError, match=r"communes file .*EPSG:3035"):
        loaders.load_communes("91", data_dir=tmp_path, offline=True)
    stations = gpd.read_file(data_dir / "osm/idf_emplacement-des-gares-idf_idfm_2025-07.geojson")
    stations.head(20).to_crs(3857).to_file(dataset_path(tmp_path, "stations"))
    with pytest.raises(CRSError, match=r"stations file .*EPSG:3857"):
        loaders.load_stations("91", data_dir=tmp_path, offline=True)


def test_lambert93_layer_reads_like_wgs84(tmp_path, data_dir):
    """The same QPV published in Lambert-93 (as ANCT also does) give the same result."""
    gdf = qpv_sample(data_dir)
    gdf.to_crs(2154).to_file(dataset_path(tmp_path, "qpv"))
    from_l93 = loaders.load_qpv("91", data_dir=tmp_path, offline=True)
    gdf.to_file(dataset_path(tmp_path / "w", "qpv"))
    from_wgs = loaders.load_qpv("91", data_dir=tmp_path / "w", offline=True)
    assert list(from_l93.index) == list(from_wgs.index)
    assert np.allclose(from_l93["area_ha"], from_wgs["area_ha"], rtol=1e-6)


# --------------------------------------------------------------------------- columns, empty layers


def test_qpv_without_code_qp(tmp_path, data_dir):
    gdf = qpv_sample(data_dir).drop(columns="code_qp")
    gdf.to_file(dataset_path(tmp_path, "qpv"))
    with pytest.raises(
        MissingColumnError,
        match=r"QPV file 'QP2024_France.*': missing column\(s\) "
        r"'CODE_QP' \(or 'code_quartier'\).*the file has \['lib_qp'",
    ):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


def test_bpe_without_lambert_x(tmp_path, data_dir):
    path = tmp_path / "BPE24.csv"
    to_official_bpe(bpe_sample(data_dir)).drop(columns="LAMBERT_X").to_csv(
        path, sep=";", index=False
    )
    with pytest.raises(
        MissingColumnError,
        match=r"BPE file 'BPE24.csv': missing column\(s\) 'LAMBERT_X' "
        r"\(or 'x'\); the file has \['DEPCOM', 'TYPEQU', 'LIBELLE', 'LAMBERT_Y'\]",
    ):
        loaders.read_bpe(path)


def test_iris_population_without_population_column(tmp_path, data_dir):
    root = mirror_dir(tmp_path, data_dir, ("iris", "iris_income"))
    pop = pd.read_csv(data_dir / "insee/iris_91_population_logement_rp2021.csv", dtype=str)
    # under the official name: the mirror's name has a published SHA-256 that a change breaks
    pop.drop(columns="pop").to_csv(dataset_path(root, "iris_population"), index=False)
    with pytest.raises(MissingColumnError, match=r"IRIS population file .*'P21_POP' \(or 'pop'"):
        loaders.load_iris("91", data_dir=root, offline=True)


def test_income_file_of_another_departement(tmp_path, data_dir):
    """A Filosofi file holding none of the département's IRIS is not 'statistical secrecy'."""
    root = mirror_dir(tmp_path, data_dir, ("iris", "iris_population"))
    inc = pd.read_csv(data_dir / "insee/filosofi2021_iris_91_revenus_declares.csv", dtype=str)
    inc["IRIS"] = "77" + inc["IRIS"].str[2:]  # the same rows, as if of Seine-et-Marne
    inc.to_csv(dataset_path(root, "iris_income"), index=False)  # the national name
    with pytest.raises(
        ValidationError,
        match=r"Filosofi file 'BASE_TD_FILO_IRIS_2021_DEC.csv': none of the 507 IRIS of "
        r"département 91 is in it \(it holds IRIS of 77\): it is another département's file, not "
        r"statistical secrecy",
    ):
        loaders.load_iris("91", data_dir=root, offline=True)


def test_empty_geojson(tmp_path):
    path = dataset_path(tmp_path, "qpv")
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(
        EmptyLayerError, match=r"QPV file 'QP2024.*' has no feature; download it again"
    ):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


def test_empty_csv(tmp_path):
    path = tmp_path / "BPE24.csv"
    path.write_bytes(b"")
    with pytest.raises(EmptyLayerError, match=r"BPE24.csv' is empty; download it again"):
        loaders.read_bpe(path)
    path.write_text("TYPEQU;DEPCOM;LAMBERT_X;LAMBERT_Y\n")
    with pytest.raises(EmptyLayerError, match=r"BPE file 'BPE24.csv': no row"):
        loaders.read_bpe(path)


def test_unreadable_layer(tmp_path):
    path = dataset_path(tmp_path, "qpv")
    path.write_text("this is not GeoJSON")
    with pytest.raises(ValidationError, match=r"QPV file .*cannot read .* as a vector layer \(GDAL: "):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"QPV file 'QP2024.*\.geojson': '.*' is empty \(0 bytes\); download it again$"),
        (b"\n  \n", r"is empty \(4 bytes\); download it again$"),
        (b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>",
         r"'.*QP2024.*\.geojson' is an HTML page \(an error or login page saved in place of the data\?\), "
         r"not a vector layer; download the file again \(see `qpvgeo data` for its address\)$"),
        (b"\xef\xbb\xbf\r\n<HTML>\n<body>Acc\xc3\xa8s refus\xc3\xa9</body></HTML>", r"is an HTML page"),
    ],
    ids=["0-byte", "blank", "html-404", "html-bom"],
)  # fmt: skip
def test_empty_or_html_file_saved_as_geojson(tmp_path, content, message):
    """One line saying what the file is, not the GDAL driver's message."""
    dataset_path(tmp_path, "qpv").write_bytes(content)
    with pytest.raises(ValidationError, match=message) as err:
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)
    assert "\n" not in str(err.value) and "GDAL" not in str(err.value)


def test_html_file_saved_as_csv(tmp_path):
    path = tmp_path / "BPE24.csv"
    path.write_bytes(b"<!doctype html><html><body>Service indisponible</body></html>")
    with pytest.raises(ValidationError, match=r"BPE24.csv' is an HTML page .*not a CSV file"):
        loaders.read_bpe(path)


# --------------------------------------------------------------------------- geometries, keys


def test_invalid_geometry_is_repaired_with_a_counted_warning(tmp_path, data_dir):
    gdf = qpv_sample(data_dir)
    gdf.loc[1, "geometry"] = BOWTIE
    code = gdf.loc[1, "code_qp"]
    gdf.to_file(dataset_path(tmp_path, "qpv"))
    with pytest.warns(UserWarning, match=rf"repaired 1 invalid geometrie\(s\) .*\['{code}'\]"):
        qpv = loaders.load_qpv("91", data_dir=tmp_path, offline=True)
    assert len(qpv) == 4  # nothing dropped
    assert qpv.is_valid.all()
    assert qpv.geom_type[code] in {"Polygon", "MultiPolygon"}
    assert qpv.at[code, "area_ha"] > 0


def test_empty_or_missing_geometry_is_an_error(tmp_path, data_dir):
    gdf = qpv_sample(data_dir)
    gdf.loc[2, "geometry"] = None
    gdf.loc[3, "geometry"] = shapely.Polygon()
    names = list(gdf.loc[2:3, "code_qp"])
    gdf.to_file(dataset_path(tmp_path, "qpv"))
    with pytest.raises(
        ValidationError,
        match=rf"2 feature\(s\) have an empty or missing geometry "
        rf"\(first: {names!r}\).*fix or remove them".replace("[", r"\["),
    ):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


def test_duplicate_code_qp(tmp_path, data_dir):
    gdf = qpv_sample(data_dir)
    gdf.loc[3, "code_qp"] = gdf.loc[0, "code_qp"]
    gdf.to_file(dataset_path(tmp_path, "qpv"))
    with pytest.raises(
        ValidationError, match=rf"2 rows share a `code_qp` \(e.g. '{gdf.loc[0, 'code_qp']}'\)"
    ):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


def test_duplicate_code_iris(tmp_path, data_dir, monkeypatch):
    root = mirror_dir(tmp_path, data_dir, ("iris_population", "iris_income"))
    iris = gpd.read_file(data_dir / "admin/iris_essonne_91.geojson").head(5)
    iris.loc[4, "code_iris"] = iris.loc[0, "code_iris"]
    iris.to_file(dataset_path(root, "iris"))
    # the IRIS files all have a published SHA-256: a changed one is read only when accepted
    with pytest.raises(ChecksumError, match=r"iris_idf.geojson' \(dataset 'iris'\) has changed"):
        loaders.load_iris("91", data_dir=root, offline=True)
    monkeypatch.setattr(settings, "accept_changed_data", True)
    with (
        pytest.warns(UserWarning, match=r"used as it is \(--accept-changed-data\)"),
        pytest.raises(ValidationError, match=r"rows share a `code_iris`"),
    ):
        loaders.load_iris("91", data_dir=root, offline=True)


# --------------------------------------------------------------------------- BPE formats


def test_bpe_official_format_reads_like_the_mirror(tmp_path, data_dir):
    """';'-separated cp1252 BPE24.csv with decimal commas == the UTF-8 ',' version."""
    sample = bpe_sample(data_dir)
    utf8 = tmp_path / "utf8.csv"
    sample.to_csv(utf8, index=False, encoding="utf-8")
    official = tmp_path / "BPE24.csv"
    to_official_bpe(sample).to_csv(official, sep=";", index=False, encoding="cp1252")
    raw = official.read_bytes()
    assert "Â".encode("cp1252") in raw and b";" in raw.splitlines()[0]  # really Latin-1, ';'
    assert read_csv(official)["LIBELLE"].str.contains("PÂTISSERIE").any()
    a, b = loaders.read_bpe(utf8), loaders.read_bpe(official)
    assert len(a) == len(b) == len(sample)
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    )
    assert a.geometry.geom_equals(b.geometry).all()
    assert b.crs.to_epsg() == 2154
    # decimals survive the comma: the mirror's coordinates have a tenth of a metre
    assert (b.geometry.x * 10 % 10).round().ne(0).any()


def official_bpe(data_dir: Path, *files: str) -> pd.DataFrame:
    """The mirror's BPE files, whole, with BPE24.csv's column names."""
    return pd.concat(
        [to_official_bpe(pd.read_csv(data_dir / f, dtype=str)) for f in files], ignore_index=True
    )


def test_bpe24_national_file_in_load_equipments(tmp_path, data_dir, equipments91):
    """The national BPE24.csv holds every département: the ring file is not added again."""
    root = mirror_dir(tmp_path, data_dir, ("communes", "bpe_ring"))
    national = official_bpe(data_dir, BPE_91, BPE_RING)  # the Essonne and its neighbours
    national.to_csv(dataset_path(root, "bpe"), sep=";", index=False, encoding="cp1252")
    eq = loaders.load_equipments("91", data_dir=root, offline=True)
    assert len(eq) == len(equipments91)  # the ring's equipments once, not twice
    got = eq.drop_duplicates("code").set_index("code")["category"]
    assert got["B207"] == "boulangerie" and got["D265"] == "medecin_generaliste"
    assert got["B105"] == "supermarche"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)),
            r"is a zip archive, not a CSV file",
        ),
        (b"\x1f\x8b\x08\x00" + bytes(range(256)), r"is a gzip archive"),
        (bytes(range(256)) * 4, r"is a binary file, not CSV text"),
        (
            b"TYPEQU DEPCOM LAMBERT_X LAMBERT_Y\nB207 91001 1 2\n",
            r"cannot tell the column separator .*"
            r"'TYPEQU DEPCOM LAMBERT_X LAMBERT_Y'; expected ',' or ';'",
        ),
        (b"\x81\x8d\x8f\x90\x9d,x\n", r"neither UTF-8 nor Windows-1252/Latin-1 text"),
    ],
)
def test_bpe_file_neither_csv(tmp_path, content, message):
    path = tmp_path / "BPE24.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        loaders.read_bpe(path)


def test_bpe_rows_without_coordinates_are_counted(tmp_path, data_dir):
    df = to_official_bpe(bpe_sample(data_dir).head(10))
    df.loc[[2, 5], "LAMBERT_X"] = ""
    df.loc[7, "LAMBERT_Y"] = "nd"
    path = tmp_path / "BPE24.csv"
    df.to_csv(path, sep=";", index=False)
    with pytest.warns(
        UserWarning, match=r"3 equipments have no coordinates and are left out \(codes: \{"
    ):
        bpe = loaders.read_bpe(path)
    assert len(bpe) == 7


def test_bpe_coordinates_in_lonlat(tmp_path, data_dir):
    sample = bpe_sample(data_dir).head(10)
    df = to_official_bpe(sample)
    df["LAMBERT_X"], df["LAMBERT_Y"] = sample["longitude"], sample["latitude"]
    path = tmp_path / "BPE24.csv"
    df.to_csv(path, sep=";", index=False)
    with pytest.raises(
        ValidationError,
        match=r"10 equipments have coordinates outside Lambert-93 France .*"
        r"look like longitude/latitude \(EPSG:4326\).*LAMBERT_X/LAMBERT_Y in Lambert-93",
    ):
        loaders.read_bpe(path)


def test_bpe_no_numeric_coordinate(tmp_path, data_dir):
    df = to_official_bpe(bpe_sample(data_dir).head(5))
    df["LAMBERT_X"] = "n/a"
    path = tmp_path / "BPE24.csv"
    df.to_csv(path, sep=";", index=False)
    with pytest.raises(ValidationError, match=r"no row has numeric `LAMBERT_X`/`LAMBERT_Y`"):
        loaders.read_bpe(path)


def test_unknown_bpe_codes_are_kept_and_counted(tmp_path, data_dir):
    root = mirror_dir(tmp_path, data_dir, ("communes",))
    df = official_bpe(data_dir, BPE_91, BPE_RING)
    df.loc[[0, 1], "TYPEQU"] = "ZZ99"
    df.loc[2, "TYPEQU"] = "ZZ98"
    df.to_csv(dataset_path(root, "bpe"), sep=";", index=False)
    with pytest.warns(
        UserWarning,
        match=r"3 equipments have a TYPEQU outside qpvgeo's nomenclature: "
        r"ZZ99 \(2\), ZZ98 \(1\); they are kept with category 'non_classe'",
    ):
        eq = loaders.load_equipments("91", data_dir=root, offline=True)
    odd = eq[eq["code"].isin(["ZZ99", "ZZ98"])]
    assert len(odd) == 3 and (odd["category"] == "non_classe").all()
    assert (odd["label_fr"] == "non_classe").all() and not odd["is_commerce"].any()


# --------------------------------------------------------------------------- plausibility at load


@pytest.mark.mirror
def test_bpe_of_another_departement_is_refused(data_dir):
    """The Essonne file and its ring cover only the border of Val-de-Marne."""
    with pytest.raises(
        ValidationError,
        match=r"BPE file\(s\) 'bpe2024_essonne_equipements_selection.csv', "
        r"'bpe2024_idf_hors91_tampon3km_equipements_selection.csv' cover 21 of the 47 communes "
        r"of 94 \(45%; qpvgeo expects at least 70%\): they look like files for another "
        r"département \(equipments of 77, 91, 92, 94\); get the national BPE \('insee/BPE24.csv'",
    ):
        loaders.load_equipments("94", data_dir=data_dir, offline=True)


def test_national_named_file_with_one_departement_keeps_the_ring(tmp_path, data_dir, equipments91):
    root = mirror_dir(tmp_path, data_dir, ("communes", "bpe_ring"))
    official_bpe(data_dir, BPE_91).to_csv(dataset_path(root, "bpe"), sep=";", index=False)
    with pytest.warns(
        UserWarning,
        match=r"BPE file 'BPE24.csv' has the national file's name but holds only département 91: "
        r"it is read as a départemental extract, with the border-ring file",
    ):
        eq = loaders.load_equipments("91", data_dir=root, offline=True)
    assert len(eq) == len(equipments91)
    assert (~eq["in_dep"]).sum() == (~equipments91["in_dep"]).sum() > 0  # the ring is there


def test_header_line_in_the_middle_is_dropped_with_a_warning(tmp_path, data_dir):
    lines = (data_dir / BPE_91).read_bytes().splitlines(keepends=True)
    path = tmp_path / "bpe.csv"
    path.write_bytes(b"".join([*lines[:4001], lines[0], *lines[4001:]]))  # header at line 4002
    with pytest.warns(
        UserWarning, match=r"bpe.csv': 1 rows repeat the header line \(line\(s\) \[4002\]\)"
    ):
        bpe = loaders.read_bpe(path)
    assert len(bpe) == len(lines) - 1


@pytest.mark.parametrize("with_header", [True, False], ids=["cat-file-file", "rows-appended"])
def test_bpe_file_appended_to_itself_is_refused(tmp_path, data_dir, with_header):
    raw = (data_dir / BPE_91).read_bytes()
    path = tmp_path / "BPE24.csv"
    path.write_bytes(raw + (raw if with_header else raw.split(b"\n", 1)[1]))
    message = (
        r"BPE file 'BPE24.csv': 10532 of its 18178 rows \(58%\) repeat another row exactly; its "
        r"second half repeats the first: the file was appended to itself; every count would be "
        r"inflated"
    )
    header = pytest.warns(UserWarning, match=r"1 rows repeat the header line")
    with header if with_header else contextlib.nullcontext(), pytest.raises(
        ValidationError, match=message
    ):
        loaders.read_bpe(path)


def test_bpe_with_many_repeated_rows_is_refused_a_few_are_kept(tmp_path, data_dir):
    df = pd.read_csv(data_dir / BPE_91, dtype=str)  # 16 % of its rows repeat another: kept
    assert 0.15 < df.duplicated().mean() < loaders.MAX_BPE_DUPLICATE_SHARE
    few = tmp_path / "few.csv"
    pd.concat([df, df.head(300)]).to_csv(few, index=False)
    assert len(loaders.read_bpe(few)) == len(df) + 300
    many = tmp_path / "many.csv"
    pd.concat([df, df.head(4000)]).to_csv(many, index=False)
    with pytest.raises(
        ValidationError,
        match=r"'many.csv': 5443 of its 13089 rows \(42%\) repeat another row exactly, more than "
        r"qpvgeo accepts \(30%",
    ):
        loaders.read_bpe(many)


def test_bpe_points_far_outside_the_departement(tmp_path, data_dir, equipments91):
    root = mirror_dir(tmp_path, data_dir, ("communes",))
    df = official_bpe(data_dir, BPE_91, BPE_RING)
    x = df["LAMBERT_X"].str.replace(",", ".").astype(float)
    few = df.assign(LAMBERT_X=x.where(df.index >= 5, x + 200_000).map(lambda v: f"{v:.1f}"))
    few.to_csv(dataset_path(root, "bpe"), sep=";", index=False)
    with pytest.warns(
        UserWarning,
        match=r"5 equipments of département 91 lie more than 3000 m outside it \(e.g. x=.*\) "
        r"and are left out",
    ):
        eq = loaders.load_equipments("91", data_dir=root, offline=True)
    assert len(eq) == len(equipments91) - 5
    # Essonne's equipments shifted as a whole (x and y taken from another projection)
    y = df["LAMBERT_Y"].str.replace(",", ".").astype(float)
    of91 = df["DEPCOM"].str.startswith("91")
    most = df.assign(LAMBERT_Y=y.where(~of91, y - 300_000).map(lambda v: f"{v:.1f}"))
    most.to_csv(dataset_path(root, "bpe"), sep=";", index=False)
    with pytest.raises(
        ValidationError,
        match=rf"{int(of91.sum())} of the {int(of91.sum())} equipments of département 91 lie more "
        r"than 3000 m outside it .*look swapped or in another projection",
    ):
        loaders.load_equipments("91", data_dir=root, offline=True)


def test_geojson_with_lambert93_numbers_and_no_crs(tmp_path, data_dir):
    """GDAL reads a GeoJSON without a `crs` member as degrees: metres must not pass."""
    collection = json.loads(qpv_sample(data_dir).to_crs(2154).to_json())
    collection.pop("crs", None)
    path = dataset_path(tmp_path, "qpv")
    path.write_text(json.dumps(collection))
    with pytest.raises(
        CRSError,
        match=r"QPV file .* is read as 'EPSG:4326' \(longitude/latitude in degrees; .*\), but its "
        r"coordinates run from x=6\d+ to .*: they look like metres \(Lambert-93\?\): set the CRS",
    ):
        loaders.load_qpv("91", data_dir=tmp_path, offline=True)


def test_qpv_outside_their_departement(tmp_path, data_dir):
    root = mirror_dir(tmp_path, data_dir, ("communes",))
    gdf = gpd.read_file(data_dir / QPV_91)
    swapped = gdf["code_qp"].isin(["QN09106M", "QN09140N"])
    gdf.loc[swapped, "geometry"] = shapely.transform(
        gdf.loc[swapped, "geometry"].values, lambda xy: xy[:, ::-1]
    )  # latitude and longitude swapped
    gdf.to_file(dataset_path(root, "qpv"))
    with pytest.raises(
        ValidationError,
        match=r"2 QPV lie outside their département \(less than half their area within 250 m of "
        r"its communes\): QN09106M \(.*, 91\), QN09140N \(.*, 91\); their coordinates are "
        r"misplaced \(longitude and latitude swapped\?",
    ):
        loaders.load_qpv("91", data_dir=root, offline=True)
    # the same file without the two: accepted
    gdf[~swapped].to_file(dataset_path(root, "qpv"))
    assert len(loaders.load_qpv("91", data_dir=root, offline=True)) == (~swapped).sum()
