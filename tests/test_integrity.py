"""The command stops, with one line, on data that cannot be trusted (issue 13).

Each test builds a data directory in tmp_path: the mirror's files linked, the one altered copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest

from qpvgeo import cli, settings
from qpvgeo.data import sources

BPE_91 = "insee/bpe2024_essonne_equipements_selection.csv"
QPV_IDF = "qpv/qpv2024_idf.geojson"


def altered_mirror(tmp: Path, data_dir: Path, rel: str, content: bytes) -> Path:
    """A data directory in ``tmp``: every file of the mirror linked, ``rel`` written with
    ``content`` (``rel`` may be a new name: the mirror's file of that name is then left out)."""
    root = tmp / "data"
    for path in data_dir.rglob("*"):
        if path.is_file() and path.relative_to(data_dir).as_posix() != rel:
            target = root / path.relative_to(data_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(content)
    return root


def run(capsys, root: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    code = cli.main(
        ["run", "--dep", "91", "--offline", "--quiet", "--data-dir", str(root), "--out", str(out),
         *extra]
    )  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.mirror
def test_a_truncated_bpe_file_stops_the_run(capsys, tmp_path, data_dir):
    raw = (data_dir / BPE_91).read_bytes()
    root = altered_mirror(tmp_path, data_dir, BPE_91, raw[: len(raw) // 2])
    code, out, err = run(capsys, root, tmp_path / "out")
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    actual = sources.sha256(root / BPE_91)
    expected = sources.CATALOGUE["bpe"].sha256[BPE_91]
    assert line.startswith(f"qpvgeo: error: data file {str(root / BPE_91)!r} (dataset 'bpe') ")
    assert f"SHA-256 {actual}, expected {expected}" in line
    assert "rerun with --accept-changed-data" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.mirror
def test_accept_changed_data_runs_and_records_it(capsys, tmp_path, data_dir):
    """An edited BPE file (one equipment more) used on purpose: noted on screen and in the
    provenance."""
    raw = (data_dir / BPE_91).read_bytes()
    root = altered_mirror(tmp_path, data_dir, BPE_91, raw + raw.splitlines(True)[1])
    out = tmp_path / "out"
    code, stdout, err = run(capsys, root, out, "--qpv", "QN09101M", "--accept-changed-data")
    assert code == 0, err
    assert settings.accept_changed_data is False  # restored after the run
    assert f"note: data file {BPE_91!r} (dataset 'bpe') differs from the SHA-256" in stdout
    record = json.loads((out / "tables" / "provenance.json").read_text("utf-8"))
    assert record["parameters"]["accept_changed_data"] is True
    files = {f["dataset"]: f for f in record["data_files"]}
    assert files["bpe"]["checksum_ok"] is False
    assert files["bpe"]["checksum_note"].endswith("used as it is (--accept-changed-data)")
    assert files["bpe"]["checksum_note"] in record["messages"]
    assert files["qpv"]["checksum_ok"] is True and files["qpv"]["checksum_note"] == ""


@pytest.mark.mirror
def test_a_malformed_checksum_record_stops_the_run(capsys, tmp_path, data_dir):
    root = altered_mirror(tmp_path, data_dir, "checksums.json", b'["not", "an object"]')
    code, _, err = run(capsys, root, tmp_path / "out")
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith(f"qpvgeo: error: {str(root / 'checksums.json')!r} is not a valid")
    assert line.endswith("delete it (the checksums are recorded again at the next download)")


@pytest.mark.mirror
def test_lambert93_geojson_without_crs_stops_before_any_computation(capsys, tmp_path, data_dir):
    """GDAL reads a GeoJSON without `crs` as degrees: metres stop the run at once, not after
    the networks with an `arange` error."""
    qpv = gpd.read_file(data_dir / QPV_IDF).to_crs(2154)
    collection = json.loads(qpv.to_json())
    collection.pop("crs", None)
    national = sources.CATALOGUE["qpv"].files[0]  # read before the mirror's file
    root = altered_mirror(tmp_path, data_dir, national, json.dumps(collection).encode())
    code, _, err = run(capsys, root, tmp_path / "out")
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("qpvgeo: error: QPV file 'QP2024_France_Hexagonale_Outre_Mer_WGS84")
    assert "they look like metres (Lambert-93?): set the CRS" in line


@pytest.mark.mirror
@pytest.mark.parametrize("content", [b"", b"<!DOCTYPE html><html><body>Erreur 502</body></html>"], ids=["0-byte", "html"])
def test_an_empty_or_html_geojson_stops_with_one_line(capsys, tmp_path, data_dir, content):
    national = sources.CATALOGUE["qpv"].files[0]  # read before the mirror's file; no published hash
    root = altered_mirror(tmp_path, data_dir, national, content)
    code, out, err = run(capsys, root, tmp_path / "out")
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"qpvgeo: error: QPV file 'QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson': {str(root / national)!r} is ")
    assert line.endswith("download it again" if not content else "download the file again (see `qpvgeo data` for its address)")
    assert "GDAL" not in line and "driver" not in line


@pytest.mark.mirror
def test_a_file_without_a_known_checksum_is_reported_on_screen_and_in_the_provenance(
    capsys, tmp_path, data_dir
):
    """The national BPE saved by hand (no published SHA-256): read, its SHA-256 recorded and said."""
    raw = (data_dir / BPE_91).read_bytes()
    national = sources.CATALOGUE["bpe"].files[0]
    root = altered_mirror(tmp_path, data_dir, national, raw)  # the mirror's BPE stays beside it
    out = tmp_path / "out"
    code, stdout, err = run(capsys, root, out, "--qpv", "QN09101M")
    assert code == 0, err
    note = (
        f"no published checksum for {national!r} (dataset 'bpe'); its SHA-256 "
        f"{sources.sha256(root / national)} is recorded in the provenance"
    )
    assert f"  note: {note}\n" in stdout
    record = json.loads((out / "tables" / "provenance.json").read_text("utf-8"))
    (bpe,) = [f for f in record["data_files"] if f["dataset"] == "bpe"]
    assert bpe["file"].endswith(national) and bpe["checksum_ok"] is None
    assert bpe["sha256"] == sources.sha256(root / national) and note in record["messages"]
    # and the plausibility check at load (one département under the national name) is a note too
    extract = (
        "BPE file 'BPE24.csv' has the national file's name but holds only département 91: it is "
        "read as a départemental extract, with the border-ring file"
    )
    assert f"  note: {extract}" in stdout
    assert any(m.startswith(extract) for m in record["messages"])
