"""The command line on bad input: one line on stderr, ``qpvgeo: error: ...``, exit status 2."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qpvgeo import cli, pipeline, settings
from qpvgeo._errors import QpvgeoError
from qpvgeo.cli import main
from qpvgeo.data import sources
from qpvgeo.outputs import export


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


@pytest.mark.parametrize("speed", ["0", "-4", "nan", "1000", "0.1", "inf"])
def test_walk_speed_must_be_a_walking_speed(capsys, tmp_path, speed):
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
    assert "--walk-speed must be a pedestrian's walking speed between 2 and 7 km/h" in line
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
    # the optional files a connected run saves are listed too, with their place, then the
    # optional OSM extract (osm/*.osm.pbf) and where to get one
    assert marks == ["MISSING"] * len(sources.CATALOGUE) + ["optional"] * (len(sources.SAVED_FILES) + 1)
    assert "barriers/osm_barriers_{dep}.gpkg" in out and "osm/walk/{code_qp}.graphml" in out
    assert "osm_extract      osm/*.osm.pbf" in out
    assert "https://download.geofabrik.de/europe/france/ile-de-france-latest.osm.pbf" in out
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


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _previous_output(out: Path) -> dict[str, bytes]:
    for rel, text in (("tables/indicators_qpv.csv", "code_qp\nQN09106M\n"), ("maps/index.html", "<p>avant</p>")):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return _tree(out)


def test_sigterm_stops_a_run_and_keeps_the_previous_output(data_dir, tmp_path):
    out = tmp_path / "out"
    before = _previous_output(out)
    proc = subprocess.Popen(
        [*_console_script(), "run", "--dep", "91", "--data-dir", str(data_dir), "--offline",
         "--overwrite", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob(".qpvgeo-staging-*")) and proc.poll() is None:
            assert time.monotonic() < deadline, "the run did not start staging within 120 s"
            time.sleep(0.1)
        time.sleep(1.5)  # well inside the run (it takes ~20 s)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "qpvgeo: stopped (SIGTERM); no output was changed"
    assert "Traceback" not in err
    assert not list(out.glob(".qpvgeo-staging-*"))
    assert _tree(out) == before


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_staging_folders_of_dead_runs_are_removed(capsys, data_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    host = __import__("socket").gethostname()
    dead, alive, old, young, elsewhere = (out / f".qpvgeo-staging-{n}" for n in ("dead", "alive", "old", "young", "else"))
    for folder, pid in ((dead, f"{_dead_pid()} {host}"), (alive, f"{os.getpid()} {host}"), (old, None),
                        (young, None), (elsewhere, f"{_dead_pid()} another-machine")):
        (folder / "tables").mkdir(parents=True)
        (folder / "tables" / "run.pkl").write_bytes(b"partial")
        if pid:
            (folder / export.STAGING_PID).write_text(pid)
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old, (two_hours_ago, two_hours_ago))

    def stop(*args, **kwargs):
        raise QpvgeoError("stopped here by the test")

    monkeypatch.setattr(pipeline, "run", stop)
    code, _, err = run_cli(capsys, "run", "--dep", "91", "--data-dir", str(data_dir), "--offline",
                           "--out", str(out))  # fmt: skip
    assert code == 2 and err.strip().splitlines()[-1] == "qpvgeo: error: stopped here by the test"
    assert "qpvgeo: note: removed 2 staging folder(s) left by stopped runs" in err
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in (alive, young, elsewhere))


def test_broken_pipe_exits_quietly(data_dir):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line (as `| head -1` after its line)
    try:
        proc = subprocess.run(
            [*_console_script(), "data", "--data-dir", str(data_dir)],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


def test_out_is_a_file(capsys, data_dir, tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("x\n")
    code, _, err = run_cli(capsys, "run", "--dep", "91", "--data-dir", str(data_dir), "--offline",
                           "--out", str(target))  # fmt: skip
    line = assert_one_error_line(code, err)
    assert f"the output folder {str(target)!r} is a file" in line and "give --out a folder" in line
    assert _tree(tmp_path) == {"results.csv": b"x\n"}


def test_out_under_a_file_cannot_be_created(capsys, data_dir, tmp_path):
    # fails as root too (unlike a folder without write permission): no folder can be made there
    blocker = tmp_path / "somefile"
    blocker.write_text("x\n")
    code, _, err = run_cli(capsys, "run", "--dep", "91", "--data-dir", str(data_dir), "--offline",
                           "--out", str(blocker / "sub"))  # fmt: skip
    line = assert_one_error_line(code, err)
    assert f"{str(blocker / 'sub')!r} cannot be created: {str(blocker)!r} is a file" in line
    assert _tree(tmp_path) == {"somefile": b"x\n"}


def test_out_without_write_permission(capsys, data_dir, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.geteuid() == 0:  # root writes anywhere: the refusal the system would give is simulated
        import tempfile

        real = tempfile.mkdtemp

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve().is_relative_to(locked.resolve()):
                raise PermissionError(13, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    try:
        code, _, err = run_cli(capsys, "run", "--dep", "91", "--data-dir", str(data_dir), "--offline",
                               "--out", str(locked / "out"))  # fmt: skip
    finally:
        locked.chmod(0o755)
    line = assert_one_error_line(code, err)
    # checked up front (os.access) for a user, or when the system refuses (root, simulated)
    assert "cannot write" in line and str(locked) in line and "choose another --out" in line
    assert "permission" in line.lower()
    assert not any(locked.iterdir())


def test_full_disk(capsys, data_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    before = _previous_output(out)

    def fill_the_disk(result, stage, **kwargs):
        path = stage / "tables" / "run.pkl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a pickle")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pipeline, "run", lambda *args, **kwargs: object())
    monkeypatch.setattr(pipeline, "save_result", fill_the_disk)
    code, out_text, err = run_cli(capsys, "run", "--dep", "91", "--data-dir", str(data_dir), "--offline",
                                  "--overwrite", "--out", str(out))  # fmt: skip
    line = assert_one_error_line(code, err)
    assert "no space left on the disk to write" in line and "run.pkl" in line
    assert "free space on it, or choose another --out folder" in line
    assert out_text == ""
    assert _tree(out) == before  # previous output intact, no staging folder left


@pytest.mark.parametrize("kind", ["missing", "file"])
@pytest.mark.parametrize("command", ["run", "data"])
def test_data_directory_missing_or_a_file(capsys, tmp_path, kind, command):
    given = tmp_path / "données"
    if kind == "file":
        given.write_text("x\n")
    extra = ["--dep", "91", "--offline", "--out", str(tmp_path / "out")] if command == "run" else []
    code, out, err = run_cli(capsys, command, *extra, "--data-dir", str(given))
    line = assert_one_error_line(code, err)
    state = "does not exist" if kind == "missing" else "is a file, not a folder"
    assert f"the data directory {str(given)!r} (--data-dir {given}) {state}" in line
    assert "--data-dir DIR or QPVGEO_DATA_DIR=DIR" in line and "qpvgeo data" in line
    assert "download" not in line and out == ""
    assert not (tmp_path / "out").exists()


def test_data_directory_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("QPVGEO_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(settings, "data_dir", None)
    code, _, err = run_cli(capsys, "data")
    line = assert_one_error_line(code, err)
    assert f"{str(tmp_path / 'nowhere')!r} (QPVGEO_DATA_DIR={tmp_path / 'nowhere'}) does not exist" in line


def test_sigterm_during_the_swap_waits_for_it(tmp_path, monkeypatch):
    # the output folder never holds half of each run: a SIGTERM while the staged files are moved
    # into place is ignored (the run ends milliseconds later), one before or after still stops it
    out = tmp_path / "out"
    _previous_output(out)
    real_manifest = export.write_manifest

    def signal_mid_swap(root, files):
        os.kill(os.getpid(), signal.SIGTERM)
        return real_manifest(root, files)

    monkeypatch.setattr(export, "write_manifest", signal_mid_swap)
    handler = signal.getsignal(signal.SIGTERM)
    with cli._sigterm_raises():
        with export.staged_outputs(out, ["tables/indicators_qpv.csv"], overwrite=True) as stage:
            (stage / "tables").mkdir()
            (stage / "tables" / "indicators_qpv.csv").write_text("code_qp\nQN09140N\n")
        assert (out / "tables" / "indicators_qpv.csv").read_text() == "code_qp\nQN09140N\n"
        assert not (out / "maps" / "index.html").exists()  # the previous set was replaced whole
        assert not list(out.glob(".qpvgeo-staging-*"))
        with pytest.raises(cli.Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    assert signal.getsignal(signal.SIGTERM) == handler  # the command's handler is gone
