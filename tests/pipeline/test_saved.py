"""A saved run is reloaded only while its parameters, data files and code are unchanged."""

from __future__ import annotations

import json
import logging
import pickle
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from qpvgeo import __version__, pipeline, settings
from qpvgeo.data import sources
from qpvgeo.network import engine
from qpvgeo.pipeline import saved

from ..conftest import SMALL_RUN_CODES


class PipelineCalledError(Exception):
    """Raised by the stand-in for the pipeline: load_or_run decided to compute."""


def no_run(*args, **kwargs):
    raise PipelineCalledError(args, kwargs)


@pytest.fixture
def no_pipeline(monkeypatch):
    """The pipeline cannot run: a call to it raises :class:`PipelineCalledError`."""
    monkeypatch.setattr(pipeline.job, "run", no_run)
    monkeypatch.setattr(pipeline, "run", no_run)


def refuse_to_unpickle(*args, **kwargs):
    raise AssertionError("a pickle was loaded")


@pytest.fixture
def never_unpickled(monkeypatch):
    """qpvgeo.pipeline.saved cannot unpickle: loading a pickle fails the test."""
    guarded = SimpleNamespace(dumps=pickle.dumps, loads=refuse_to_unpickle, load=refuse_to_unpickle)
    monkeypatch.setattr(saved, "pickle", guarded)


@pytest.fixture
def progress(caplog, monkeypatch):
    """The lines of the logger ``qpvgeo.progress`` (even after ``cli.main`` set up its own
    handler on ``qpvgeo`` and stopped propagation)."""
    monkeypatch.setattr(logging.getLogger("qpvgeo"), "propagate", True)
    caplog.set_level(logging.INFO, logger="qpvgeo.progress")
    return caplog


def load(out, data_dir, codes=SMALL_RUN_CODES, **kw):
    return pipeline.load_or_run("91", codes, out=out, data_dir=data_dir, offline=True, **kw)


def assert_same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal cell by cell (NaN where NaN), same index, columns and dtypes."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.mirror
def test_saved_result_reloads_without_running(small_run, tmp_path, data_dir, no_pipeline, progress):
    key = pipeline.save_result(small_run, tmp_path, data_dir=data_dir)
    assert key == tmp_path / "tables" / "run.json"
    assert (tmp_path / "tables" / "run.pkl").is_file()
    loaded = load(tmp_path, data_dir)  # the pipeline would raise: this is a load
    assert loaded is not small_run
    assert f"résultat rechargé depuis {tmp_path / 'tables' / 'run.pkl'}" in progress.text
    assert_same_frames(loaded.indicators, small_run.indicators)
    for name in ("qpv", "equipments", "origins", "isochrones", "streets", "crossings", "polarites"):
        assert_same_frames(getattr(loaded, name), getattr(small_run, name))
    assert loaded.parameters == small_run.parameters
    assert loaded.messages == small_run.messages
    assert loaded.barriers.assessed == small_run.barriers.assessed
    # the street networks come back whole: arrays, graph, and the kernels answer the same
    assert loaded.networks.networks.keys() == small_run.networks.networks.keys()
    assert_same_frames(loaded.networks.table, small_run.networks.table)
    for name, net in small_run.networks.networks.items():
        again = loaded.networks.networks[name]
        for arr in ("node_ids", "node_x", "node_y", "edge_u", "edge_v", "edge_length"):
            np.testing.assert_array_equal(getattr(again, arr), getattr(net, arr))
        assert again.graph.number_of_edges() == net.graph.number_of_edges()
        assert (again.csr != net.csr).nnz == 0
        edges = np.arange(0, net.n_edges, max(1, net.n_edges // 40))
        half = net.edge_length[edges] / 2
        assert_same_frames(
            engine.distances_within(again, edges, half, edges, half, cutoff_m=1500.0),
            engine.distances_within(net, edges, half, edges, half, cutoff_m=1500.0),
        )
        hits = again.tree.query(net.edge_geometry[:50], predicate="intersects")
        assert hits.shape[1] >= 50


@pytest.mark.mirror
def test_the_key_records_what_the_run_depends_on(small_run, tmp_path, data_dir):
    pipeline.save_result(small_run, tmp_path, data_dir=data_dir)
    record = json.loads((tmp_path / "tables" / "run.json").read_text(encoding="utf-8"))
    key = record["key"]
    assert key["parameters"]["dep"] == "91" and key["parameters"]["qpv"] == SMALL_RUN_CODES
    assert key["parameters"]["walk_speed_kmh"] == settings.walk_speed_kmh
    assert key["software"]["qpvgeo"] == __version__
    bpe = key["data"]["datasets"]["bpe"]
    assert bpe["file"] == "insee/bpe2024_essonne_equipements_selection.csv"
    assert bpe["sha256"] == sources.sha256(data_dir / bpe["file"])
    # every file the run read is in the key, with the SHA-256 the provenance gives it
    pipeline.run("91", SMALL_RUN_CODES[1:2], data_dir=data_dir, offline=True)
    for row in sources.used_files():
        assert key["data"]["datasets"][row["dataset"]]["sha256"] == row["sha256"]
    walk = {f"osm/walk/{code}.graphml": None for code in SMALL_RUN_CODES}
    assert walk.items() <= key["data"]["other_files"].items()
    assert record["result"]["sha256"] == sources.sha256(tmp_path / "tables" / "run.pkl")


@pytest.mark.mirror
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"codes": SMALL_RUN_CODES[:1]}, "paramètre qpv différent"),
        ({"codes": list(reversed(SMALL_RUN_CODES))}, "paramètre qpv différent"),
        ({"crowfly_fallback": True}, "paramètres différents : crowfly_fallback"),
        ({"categories": ["boulangerie"]}, "paramètre categories différent"),
        (
            {"walk_speed_kmh": 4.0},
            "paramètre walk_speed_kmh différent : 4.5 enregistré, 4.0 demandé",
        ),
        ({"max_snap_m": 100.0}, "paramètre max_snap_m différent"),
    ],
    ids=["fewer-qpv", "qpv-order", "crowfly", "categories", "walk-speed", "snap"],
)
def test_a_changed_parameter_recomputes(
    small_run,
    tmp_path,
    data_dir,
    no_pipeline,
    never_unpickled,
    progress,
    monkeypatch,
    change,
    reason,
):
    pipeline.save_result(small_run, tmp_path, data_dir=data_dir)
    kw = dict(change)
    for name in ("walk_speed_kmh", "max_snap_m"):
        if name in kw:
            monkeypatch.setattr(settings, name, kw.pop(name))
    with pytest.raises(PipelineCalledError):
        load(tmp_path, data_dir, **kw)
    line = next(r.getMessage() for r in progress.records if "calcul en cours" in r.getMessage())
    assert line.startswith("pas de résultat enregistré correspondant (") and reason in line


@pytest.mark.mirror
def test_offline_is_part_of_the_key(small_run, tmp_path, data_dir, no_pipeline, never_unpickled):
    pipeline.save_result(small_run, tmp_path, data_dir=data_dir)
    with pytest.raises(PipelineCalledError):
        pipeline.load_or_run("91", SMALL_RUN_CODES, out=tmp_path, data_dir=data_dir, offline=False)


@pytest.fixture
def data_copy(small_run, tmp_path, data_dir):
    """A data directory in tmp_path with the mirror's files the small run reads, and the run
    saved from it: the BPE copied (to be changed), the others linked (never written)."""
    pipeline.save_result(small_run, tmp_path / "mirror", data_dir=data_dir)
    record = json.loads((tmp_path / "mirror" / "tables" / "run.json").read_text("utf-8"))
    root = tmp_path / "data"
    for entry in record["key"]["data"]["datasets"].values():
        if entry is None:
            continue
        rel = entry["file"]
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.startswith("insee/bpe2024_essonne"):
            shutil.copyfile(data_dir / rel, root / rel)
        else:
            (root / rel).symlink_to(data_dir / rel)
    out = tmp_path / "out"
    pipeline.save_result(small_run, out, data_dir=root)
    return root, out


@pytest.mark.mirror
def test_same_data_elsewhere_reloads(data_copy, no_pipeline, progress):
    root, out = data_copy
    assert_same_frames(load(out, root).indicators, load(out, root).indicators)
    assert "résultat rechargé" in progress.text


@pytest.mark.mirror
def test_a_modified_data_file_recomputes(data_copy, no_pipeline, never_unpickled, progress):
    root, out = data_copy
    bpe = root / "insee/bpe2024_essonne_equipements_selection.csv"
    with bpe.open("a", encoding="utf-8") as fh:
        fh.write("\n")
    with pytest.raises(PipelineCalledError):
        load(out, root)
    assert f"(fichier de données modifié : {bpe.relative_to(root).as_posix()})" in progress.text


@pytest.mark.mirror
def test_a_new_data_file_recomputes(data_copy, no_pipeline, never_unpickled, progress):
    root, out = data_copy
    walk = root / "osm/walk" / f"{SMALL_RUN_CODES[0]}.graphml"  # a QPV's own walk network
    walk.parent.mkdir(parents=True)
    walk.write_text("<graphml/>")
    with pytest.raises(PipelineCalledError):
        load(out, root)
    assert f"nouveau fichier de données : osm/walk/{SMALL_RUN_CODES[0]}.graphml" in progress.text
    walk.unlink()
    # a file the catalogue prefers to the one the run read (the national BPE)
    (root / "insee/BPE24.csv").write_text("TYPEQU;DEPCOM;LAMBERT_X;LAMBERT_Y\n")
    with pytest.raises(PipelineCalledError):
        load(out, root)
    assert "insee/BPE24.csv lu au lieu de insee/bpe2024_essonne" in progress.text


@pytest.mark.mirror
def test_a_missing_data_file_recomputes(data_copy, no_pipeline, never_unpickled, progress):
    root, out = data_copy
    (
        root / "barriers/idf-waterway_seine_osm-navigable-network_2026-03_essonne-2km.geojson"
    ).unlink()
    with pytest.raises(PipelineCalledError):
        load(out, root)
    assert "fichier de données disparu : barriers/idf-waterway_seine" in progress.text


@pytest.mark.mirror
@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        (("code_fingerprint", lambda: "0" * 64), "code de qpvgeo modifié depuis le calcul"),
        (
            ("__version__", "9.9.9"),
            f"version de qpvgeo différente : {__version__} enregistrée, 9.9.9",
        ),
        (("version", lambda lib: "0.0"), "bibliothèques mises à jour (numpy "),
    ],
    ids=["code", "version", "libraries"],
)
def test_changed_software_recomputes(
    small_run,
    tmp_path,
    data_dir,
    no_pipeline,
    never_unpickled,
    progress,
    monkeypatch,
    patch,
    reason,
):
    pipeline.save_result(small_run, tmp_path, data_dir=data_dir)
    monkeypatch.setattr(saved, *patch)
    with pytest.raises(PipelineCalledError):
        load(tmp_path, data_dir)
    assert reason in progress.text


@pytest.mark.mirror
@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2, 3]",
        '{"format": "someone-else/2", "files": []}',
        '{"format": "qpvgeo-run-result/1", "result": {"sha256": "x"}, "key": {"software": "x", "parameters": {}, "data": {}}}',
        "",
    ],
    ids=["not-json", "a-list", "foreign", "mangled-key", "empty"],
)
def test_a_foreign_or_corrupt_key_recomputes_and_never_unpickles(
    tmp_path, data_dir, no_pipeline, never_unpickled, progress, content
):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "run.json").write_text(content, encoding="utf-8")
    (tables / "run.pkl").write_bytes(pickle.dumps({"not": "a result"}))
    with pytest.raises(PipelineCalledError):
        load(tmp_path, data_dir)
    assert "n'est pas un enregistrement de résultat qpvgeo lisible" in progress.text


@pytest.mark.mirror
def test_a_replaced_pickle_is_never_unpickled(
    small_run, tmp_path, data_dir, no_pipeline, never_unpickled, progress
):
    pipeline.save_result(small_run, tmp_path, data_dir=data_dir)
    (tmp_path / "tables" / "run.pkl").write_bytes(pickle.dumps({"not": "the saved result"}))
    with pytest.raises(PipelineCalledError):
        load(tmp_path, data_dir)
    assert "n'est pas le fichier que run.json décrit" in progress.text
    (tmp_path / "tables" / "run.pkl").unlink()
    with pytest.raises(PipelineCalledError):
        load(tmp_path, data_dir)
    assert "run.pkl manque" in progress.text


def test_nothing_saved_runs_the_pipeline(tmp_path, no_pipeline, progress):
    with pytest.raises(PipelineCalledError) as called:
        pipeline.load_or_run("91", ["QN09140N"], out=tmp_path, data_dir=tmp_path, offline=True)
    args, kwargs = called.value.args
    assert args == ("91", ["QN09140N"])
    assert kwargs == {
        "data_dir": tmp_path, "offline": True, "categories": None, "crowfly_fallback": False
    }  # fmt: skip
    assert f"(aucun tables/run.json dans {str(tmp_path)!r}) : calcul en cours" in progress.text
