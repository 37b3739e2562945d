"""What residents say, read against the session's three-QPV run (real data), and kept across
runs of `qpvgeo run --besoins` (append-only GeoPackage layer)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from qpvgeo import cli, pipeline
from qpvgeo.data import besoins as data
from qpvgeo.indicators import besoins as ind
from qpvgeo.network.build import snap_points
from qpvgeo.pipeline import besoins as pb

HEADER = "code_qp;type;categorie;frein;commentaire;lon;lat;source;date;nombre\n"
ROWS = [
    "QN09106M;besoin;Boulangeries;;;;;atelier;2026-05-02;2\n",
    "QN09106M;besoin;boucherie;;;;;atelier;2026-05-02;3\n",  # in the nomenclature, not in the BPE extract
    "QN09106M;besoin;distributeur de billets;;;;;atelier;2026-05-02;\n",  # outside the nomenclature
    "QN09106M;besoin;dentistes;;;;;questionnaire;;\n",  # in the data, not a category the run times
    "QN09106M;besoin;bibliothèque;;;;;questionnaire;;\n",
    "QN09106M;besoin;machin truc;;;;;atelier;;\n",
    "QN09101M;besoin;boulangerie;;;;;atelier;;4\n",  # a QPV without a street network
    ";lieu_evite;;traversée difficile;le passage sous la route;2.1700;48.6830;atelier;;\n",
]


def answers_of(tmp_path, rows=ROWS, name="a.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.BesoinsWarning)
        return path, data.read_besoins(path)


@pytest.fixture
def reading(small_run, tmp_path):
    run = dataclasses.replace(small_run)  # the session's run stays as it is
    _, answers = answers_of(tmp_path)
    pb.add_besoins(run, answers)
    return run


@pytest.mark.mirror
def test_served_and_not_assessable(reading, small_run):
    assert small_run.besoins is None and "besoins_answers_n" not in small_run.indicators
    table = reading.besoins.per_category.set_index(["code_qp", "category"])
    status = table["status_fr"]
    assert status[("QN09106M", "boucherie")] == pb.STATUS_NOT_IN_DATA  # never « absent »
    assert status[("QN09106M", "distributeur_billets")] == pb.STATUS_OUTSIDE
    assert status[("QN09106M", "")] == pb.STATUS_UNMATCHED
    # the QPV without a network: « non évalué », never a value
    assert status[("QN09101M", "boulangerie")] == pb.STATUS_NO_NETWORK
    assert np.isnan(table.at[("QN09101M", "boulangerie"), "walk_min_median"])
    per_qpv = reading.indicators
    assert per_qpv.at["QN09101M", "besoins_absent_10min"] == pb.STATUS_NO_NETWORK
    assert per_qpv.at["QN09140N", "besoins_absent_10min"] == pb.NO_ANSWER
    assert per_qpv.at["QN09106M", "besoins_answers_n"] == 10
    assert "Boucherie, charcuterie" in per_qpv.at["QN09106M", "besoins_not_assessable"]
    # the boulangerie: the run's own median time, and served as it says
    run_median = small_run.indicators.at["QN09106M", "walk_min_median_boulangerie"]
    assert table.at[("QN09106M", "boulangerie"), "walk_min_median"] == pytest.approx(run_median)
    assert status[("QN09106M", "boulangerie")] == (
        pb.STATUS_SERVED if run_median <= 10 else pb.STATUS_ABSENT
    )
    # the headline lists exactly the measured categories not served within 10 min
    mine = reading.besoins.per_category.query("code_qp == 'QN09106M'")
    absent = mine.loc[mine["status_fr"] == pb.STATUS_ABSENT, "category_label_fr"].tolist()
    assert per_qpv.at["QN09106M", "besoins_absent_10min"] == (" ; ".join(absent) or "aucune")


@pytest.mark.mirror
def test_times_reused_equal_times_computed(reading, small_run):
    """The run's per-origin times (reused) and those computed for categories the run did not
    time follow the same definition: recomputed here for both, they agree."""
    code = "QN09106M"
    net = small_run.networks.network_of(code)
    o = small_run.origins[small_run.origins["code_qp"] == code]
    fresh = ind.category_access(net, o, small_run.equipments, ["boulangerie", "dentiste"])
    np.testing.assert_allclose(fresh["walk_min_boulangerie"], o["walk_min_boulangerie"])
    on = snap_points(net, o)["on_network"]
    again = ind.served_by_zone(fresh, o, ["boulangerie", "dentiste"], on_network=on)
    table = reading.besoins.per_category.set_index(["code_qp", "category"])
    for cat in ("boulangerie", "dentiste"):
        row = again.set_index("category").loc[cat]
        assert table.at[(code, cat), "walk_min_median"] == pytest.approx(row["walk_min_median"])
        assert table.at[(code, cat), "n_within_10min_median"] == row["n_within_10min_median"]


@pytest.mark.mirror
def test_felt_barrier_beside_measured(reading, small_run):
    felt = reading.besoins.felt
    assert len(felt) == 1 and felt.iloc[0]["code_qp"] == "QN09106M"  # the point lies near it
    pt = felt.geometry.iloc[0]
    lines = small_run.barriers.lines
    brute = min(pt.distance(g) for g in lines.geometry)
    assert felt.iloc[0]["barrier_m"] == pytest.approx(brute)
    cross = small_run.crossings[small_run.crossings["code_qp"] == "QN09106M"]
    assert felt.iloc[0]["crossing_m"] == pytest.approx(min(pt.distance(g) for g in cross.geometry))
    walked = small_run.detours.query("code_qp == 'QN09106M' and kind == 'itinéraire'")
    assert felt.iloc[0]["detour_index"] == pytest.approx(walked["detour_index"].iloc[0])
    assert felt.iloc[0]["detour_m"] == pytest.approx(shapely.distance(pt, walked.geometry.iloc[0]))


@pytest.mark.mirror
def test_run_keeps_answers_across_runs(small_run, data_dir, tmp_path, monkeypatch, capsys):
    """`qpvgeo run --besoins`: append-only across runs, in the output GeoPackage."""
    from qpvgeo.outputs import export, workshop

    calls = []

    def fake_run(*args, **kwargs):  # the session's run stands for the pipeline (speed)
        calls.append(1)
        return dataclasses.replace(small_run, indicators=small_run.indicators.copy())

    monkeypatch.setattr(pipeline, "run", fake_run)
    monkeypatch.setattr(workshop, "export_workshop", lambda r, out: workshop.write_fiches(r, out))
    monkeypatch.setattr(pipeline, "save_result", lambda *a, **k: None)
    write_gpkg = export.write_geopackage  # only the layers under test (the others take seconds)
    monkeypatch.setattr(export, "write_geopackage", lambda layers, path: write_gpkg(
        {k: v for k, v in layers.items() if k.startswith(("qpv", "besoins"))}, path))  # fmt: skip
    out = tmp_path / "out"
    base = ["run", "--dep", "91", "--offline", "--data-dir", str(data_dir), "--out", str(out)]
    first, _ = answers_of(tmp_path)
    more, _ = answers_of(tmp_path, [*ROWS, "QN09106M;besoin;pharmacie;;;;;atelier;;\n"], "b.csv")

    def layer():
        return pyogrio.read_dataframe(out / "tables/qpvgeo.gpkg", layer="besoins")

    assert cli.main([*base, "--besoins", str(first)]) == 0
    ids = layer()["answer_id"].tolist()
    assert len(ids) == len(ROWS)
    assert "8 answers kept" in capsys.readouterr().out
    table = pd.read_csv(out / "tables/indicators_qpv.csv", dtype={"code_qp": str})
    assert "besoins_absent_10min" in table
    assert (out / "tables/besoins_qpv.csv").is_file()
    labels = pd.read_csv(out / "tables/besoins_labels.csv", keep_default_na=False)
    assert labels.iloc[0]["categorie"] == "machin truc"  # the unmatched label, first
    fiche = (out / "maps/fiches/QN09106M.html").read_text(encoding="utf-8")
    assert "Ce que disent les habitants" in fiche and "Boucherie, charcuterie" in fiche
    # the same file again: nothing added
    assert cli.main([*base, "--overwrite", "--besoins", str(first)]) == 0
    assert layer()["answer_id"].tolist() == ids
    assert "(0 added by this run)" in capsys.readouterr().out
    # one more answer: exactly one added, the earlier ones kept
    assert cli.main([*base, "--overwrite", "--besoins", str(more), str(first)]) == 0
    assert layer()["answer_id"].tolist()[: len(ids)] == ids and len(layer()) == len(ids) + 1
    # a run without --besoins loses nothing
    assert cli.main([*base, "--overwrite"]) == 0
    assert len(layer()) == len(ids) + 1
    # a bad file stops the run before it starts, and the outputs stay as they were
    n_calls, before = len(calls), (out / "tables/qpvgeo.gpkg").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "QN9;besoin;pain;;;;;atelier;;\n", encoding="utf-8")
    assert cli.main([*base, "--overwrite", "--besoins", str(bad)]) == 2
    assert "'QN9'" in capsys.readouterr().err
    assert len(calls) == n_calls and (out / "tables/qpvgeo.gpkg").read_bytes() == before


@pytest.mark.mirror
def test_headline_never_claims_what_was_not_measured(small_run, tmp_path):
    rows = [
        "QN09106M;besoin;boucherie;;;;;atelier;;\n",  # only a category the data do not hold
        "QN09140N;frein;;prix;;;;atelier;;\n",  # only a brake
        "QN09101M;besoin;boucherie;;;;;atelier;;\n",  # no network
    ]
    _, answers = answers_of(tmp_path, rows)
    run = pb.add_besoins(dataclasses.replace(small_run), answers)
    headline = run.indicators["besoins_absent_10min"]
    assert headline["QN09106M"] == pb.NONE_MEASURED  # not « aucune »: nothing was measured
    assert headline["QN09140N"] == pb.NO_WISH
    assert headline["QN09101M"] == pb.STATUS_NO_NETWORK
    assert run.indicators.at["QN09140N", "besoins_freins"] == "Prix (1)"
