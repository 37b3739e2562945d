"""The command line on bad input: one line on stderr, ``qpvgeo: error: ...``, exit status 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qpvgeo import settings
from qpvgeo.cli import main
from qpvgeo.data import sources


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("qpvgeo: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(autouse=True)
def _keep_settings(monkeypatch):
    """The CLI sets global settings; restore them after each test."""
    for name in ("walk_speed_kmh", "data_dir", "offline"):
        monkeypatch.setattr(settings, name, getattr(settings, name))


def test_unknown_departement(capsys, data_dir, tmp_path):
    code, out, err = run_cli(
        capsys,
        "run",
        "--dep",
        "99",
        "--data-dir",
        str(data_dir),
        "--offline",
        "--out",
        str(tmp_path),
    )
    line = assert_one_error_line(code, err)
    assert "département '99' has no QPV" in line and "91, 92, 93" in line
    assert out == ""
    assert not any(tmp_path.iterdir())  # no output, no staging folder left


def test_malformed_departement(capsys, tmp_path):
    code, _, err = run_cli(
        capsys,
        "run",
        "--dep",
        "9x",
        "--data-dir",
        str(tmp_path / "data"),
        "--offline",
        "--out",
        str(tmp_path / "out"),
    )
    line = assert_one_error_line(code, err)
    assert "'9x' is not a département code; give two digits ('91')" in line


def test_unknown_qpv_code(capsys, data_dir, tmp_path):
    code, _, err = run_cli(
        capsys,
        "run",
        "--dep",
        "91",
        "--qpv",
        "QN09999Z",
        "--data-dir",
        str(data_dir),
        "--offline",
        "--out",
        str(tmp_path),
    )
    line = assert_one_error_line(code, err)
    assert "unknown QPV code(s) ['QN09999Z'] in département 91" in line and "QN09106M" in line


def test_malformed_qpv_code(capsys, data_dir, tmp_path):
    code, _, err = run_cli(
        capsys,
        "run",
        "--dep",
        "91",
        "--qpv",
        "Grigny",
        "--data-dir",
        str(data_dir),
        "--offline",
        "--out",
        str(tmp_path),
    )
    line = assert_one_error_line(code, err)
    assert "['GRIGNY'] is not a QPV code" in line and "'QN09106M'" in line


def test_missing_file_offline(capsys, tmp_path):
    empty = tmp_path / "data"
    empty.mkdir()
    code, _, err = run_cli(
        capsys,
        "run",
        "--dep",
        "91",
        "--data-dir",
        str(empty),
        "--offline",
        "--out",
        str(tmp_path / "out"),
    )
    line = assert_one_error_line(code, err)
    assert "dataset 'qpv'" in line and f"missing from the data directory {str(empty)!r}" in line
    assert "expected 'qpv/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson'" in line
    assert sources.CATALOGUE["qpv"].download in line


@pytest.mark.parametrize("speed", ["0", "-4", "nan"])
def test_walk_speed_must_be_positive(capsys, tmp_path, speed):
    before = settings.walk_speed_kmh
    code, _, err = run_cli(
        capsys,
        "run",
        "--dep",
        "91",
        "--walk-speed",
        speed,
        "--data-dir",
        str(tmp_path),
        "--offline",
        "--out",
        str(tmp_path / "out"),
    )
    line = assert_one_error_line(code, err)
    assert "--walk-speed must be a positive number of km/h" in line
    assert settings.walk_speed_kmh == before


def test_existing_output_is_kept_without_overwrite(capsys, data_dir, tmp_path):
    out = tmp_path / "out"
    table = out / "tables" / "indicators_qpv.csv"
    table.parent.mkdir(parents=True)
    table.write_text("code_qp\nQN09106M\n")
    os.utime(table, (1_000_000_000, 1_000_000_000))
    sources.reset_used()
    code, _, err = run_cli(
        capsys, "run", "--dep", "91", "--data-dir", str(data_dir), "--offline", "--out", str(out)
    )
    line = assert_one_error_line(code, err)
    assert "already exist" in line and "tables/indicators_qpv.csv" in line and "--overwrite" in line
    assert table.read_text() == "code_qp\nQN09106M\n"
    assert table.stat().st_mtime == 1_000_000_000
    assert sources.used_files() == []  # refused before reading any data
    assert sorted(p.name for p in out.iterdir()) == ["tables"]  # no staging folder


def test_data_command_lists_datasets(capsys, data_dir):
    code, out, err = run_cli(capsys, "data", "--data-dir", str(data_dir))
    assert code == 0 and err == ""
    assert out.splitlines()[0] == f"data directory: {data_dir}"
    for key in sources.CATALOGUE:
        assert any(
            line.startswith("present") and f" {key} " in line for line in out.splitlines()
        ), key
    assert "qpv/qpv2024_idf.geojson" in out and "Licence Ouverte 2.0 (Etalab)" in out


def test_data_command_on_an_empty_directory(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "data", "--data-dir", str(tmp_path))
    assert code == 0
    marks = [line.split()[0] for line in out.splitlines()[1:] if line[:1] not in (" ", "")]
    assert marks == ["MISSING"] * len(sources.CATALOGUE) + ["optional"] * len(sources.SAVED_FILES)
    # the optional files a connected run saves are listed too, with their place
    assert "barriers/osm_barriers_{dep}.gpkg" in out and "osm/walk/{code_qp}.graphml" in out
    assert "https://geoservices.ign.fr/contoursiris" in out


def _console_script() -> list[str]:
    found = shutil.which("qpvgeo") or str(Path(sys.executable).with_name("qpvgeo"))
    assert Path(found).is_file(), "the qpvgeo console script is not installed (pip install -e .)"
    return [found]


def test_console_script_unknown_departement(data_dir, tmp_path):
    proc = subprocess.run(
        [
            *_console_script(),
            "run",
            "--dep",
            "99",
            "--data-dir",
            str(data_dir),
            "--offline",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qpvgeo: error: département '99' has no QPV")
