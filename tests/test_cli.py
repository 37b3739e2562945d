"""The main job, end to end on the data mirror, as the README runs it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest

from qpvgeo import cli, pipeline
from qpvgeo.data import sources
from qpvgeo.indicators import access

NETWORK_QPV = ["QN09106M", "QN09140N", "QN09115M", "QN09136M", "QN09137M"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("run")
    code = cli.main(
        ["run", "--dep", "91", "--offline", "--data-dir", str(data_dir), "--out", str(out)]
    )
    assert code == 0
    return out


@pytest.mark.mirror
def test_table(run_dir):
    table = pd.read_csv(run_dir / "tables/indicators_qpv.csv", dtype={"code_qp": str})
    assert len(table) == 47
    assert table.columns[0] == "code_qp"
    table = table.set_index("code_qp")
    has_net = table["network_status"] != "absent"
    assert sorted(table.index[has_net]) == sorted(NETWORK_QPV)
    assert table.loc["QN09115M", "network_status"] == "partiel"
    # network-based values exist where a network covers the QPV, and are empty elsewhere
    assert table.loc[NETWORK_QPV, "walk_min_median_boulangerie"].notna().all()
    assert table.loc[~has_net, "walk_min_median_boulangerie"].isna().all()
    assert table.loc[~has_net, "access_method"].isna().all()
    assert (table.loc[~has_net, "n_origins_off_network"] == table.loc[~has_net, "n_origins"]).all()
    # the method follows the kind of network the data hold, for each QPV
    method = {"walk": access.METHOD_NETWORK, "drive": access.METHOD_DRIVE_PROXY}
    expected = table.loc[NETWORK_QPV, "network_kind"].map(method)
    assert (table.loc[NETWORK_QPV, "access_method"] == expected).all()
    # barrier shares need no network: every QPV has them; roads are not assessed (NaN, not 0)
    assert table["share_perimeter_rail_pct"].notna().all()
    assert table["share_perimeter_road_pct"].isna().all()
    # shares are percentages, times positive
    shares = table.filter(like="share_within_").stack().dropna()
    assert len(shares) > 0 and shares.between(0, 100).all()
    assert (table["walk_min_median_boulangerie"].dropna() > 0).all()


@pytest.mark.mirror
def test_geopackage_layers(run_dir):
    layers = {name for name, _ in pyogrio.list_layers(run_dir / "tables/qpvgeo.gpkg")}
    assert {"qpv", "equipments", "origins", "isochrones", "street_flows", "barriers"} <= layers
    qpv = pyogrio.read_dataframe(run_dir / "tables/qpvgeo.gpkg", layer="qpv")
    assert len(qpv) == 47 and qpv.crs.to_epsg() == 2154
    iso = pyogrio.read_dataframe(run_dir / "tables/qpvgeo.gpkg", layer="isochrones")
    # isochrones grow with time for each QPV
    for _, group in iso.groupby("code_qp"):
        areas = group.sort_values("minutes").geometry.area.to_numpy()
        assert np.all(np.diff(areas) > 0)


@pytest.mark.mirror
def test_provenance(run_dir, data_dir):
    record = json.loads((run_dir / "tables/provenance.json").read_text(encoding="utf-8"))
    assert record["parameters"]["dep"] == "91"
    files = {row["dataset"]: row for row in record["data_files"]}
    assert {"qpv", "bpe", "iris", "communes", "stations"} <= set(files)
    assert files["bpe"]["sha256"] == sources.sha256(
        data_dir / "insee/bpe2024_essonne_equipements_selection.csv"
    )
    assert all(row["checksum_ok"] in (True, None) for row in files.values())
    assert any("no street network" in m for m in record["messages"])


@pytest.mark.mirror
def test_map_written(run_dir):
    page = (run_dir / "maps/qpv_overview.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>")
    assert "Boulangerie" in page and "ANCT" in page


@pytest.mark.mirror
def test_saved_result_reloads(run_dir, data_dir, monkeypatch):
    manifest = json.loads((run_dir / "tables/manifest.json").read_text(encoding="utf-8"))
    listed = {row["path"]: row for row in manifest["files"]}
    assert {"tables/run.pkl", "tables/run.json"} <= set(listed)
    for name in ("tables/run.pkl", "tables/run.json"):
        assert listed[name]["sha256"] == sources.sha256(run_dir / name)
    record = json.loads((run_dir / "tables/run.json").read_text(encoding="utf-8"))
    assert record["key"]["parameters"]["qpv"] == "all" and record["result"]["n_qpv"] == 47
    assert record["result"]["sha256"] == sources.sha256(run_dir / "tables/run.pkl")

    # the notebooks reload it instead of running the pipeline again
    def no_run(*args, **kwargs):
        raise AssertionError("the pipeline ran")

    monkeypatch.setattr(pipeline.job, "run", no_run)
    result = pipeline.load_or_run("91", out=run_dir, data_dir=data_dir, offline=True)
    table = pd.read_csv(run_dir / "tables/indicators_qpv.csv", dtype={"code_qp": str})
    assert list(result.indicators.index) == table["code_qp"].tolist()
    for col in ("walk_min_median_boulangerie", "viability_score", "population_qpv"):
        np.testing.assert_allclose(result.indicators[col], table[col], atol=5e-4, equal_nan=True)


@pytest.mark.mirror
def test_existing_outputs_kept_without_overwrite(run_dir, data_dir, capsys):
    table = run_dir / "tables/indicators_qpv.csv"
    before = table.read_bytes()
    args = [
        "run",
        "--dep",
        "91",
        "--qpv",
        "QN09140N",
        "--offline",
        "--data-dir",
        str(data_dir),
        "--out",
        str(run_dir),
    ]
    assert cli.main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert table.read_bytes() == before
    # a file the user put among the outputs is not qpvgeo's: it stays
    (run_dir / "maps" / "README.md").write_text("mes notes")
    assert (run_dir / "maps" / "fiches" / "QN09106M.html").is_file()
    assert cli.main([*args, "--overwrite"]) == 0
    after = pd.read_csv(table)
    assert after["code_qp"].tolist() == ["QN09140N"]
    assert not list(run_dir.glob(".qpvgeo-staging-*"))
    # the output set was replaced as a whole: no fiche or slide of the earlier run is left
    assert sorted(p.name for p in (run_dir / "maps" / "fiches").iterdir()) == ["QN09140N.html"]
    assert (run_dir / "maps" / "README.md").read_text() == "mes notes"
    # and the manifest lists exactly the files of this run, with their size and SHA-256
    manifest = json.loads((run_dir / "tables" / "manifest.json").read_text())
    listed = {row["path"] for row in manifest["files"]}
    present = {
        p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()
    } - {"maps/README.md"}
    assert listed == present
    for row in manifest["files"]:
        if row["path"] != "tables/manifest.json":
            assert row["bytes"] == (run_dir / row["path"]).stat().st_size
            assert row["sha256"] == sources.sha256(run_dir / row["path"])
