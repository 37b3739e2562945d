"""The README's promises: its library example runs as written; the main job's set-up needs no apt."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from qpvgeo import QpvgeoWarning

ROOT = Path(__file__).resolve().parent.parent


def _library_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Library") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.mirror
def test_readme_library_example_runs(data_dir, capsys):
    code = _library_example()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "README.md", "exec"), {})
    # only qpvgeo's own data warnings (e.g. IRIS without income) are allowed
    assert all(issubclass(w.category, QpvgeoWarning) for w in caught), [str(w.message) for w in caught]
    minutes = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 < minutes < 60


def test_main_setup_never_calls_apt(tmp_path):
    # a PATH with the few tools setup.sh uses, stand-ins for apt-get and sudo that record any
    # call and fail, and no chromium
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    for name in ("apt-get", "apt", "sudo", "dpkg"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\nexit 100\n')
        stub.chmod(0o755)
    for tool in ("bash", "dirname", "id", "tail", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": str(bin_dir)}
    setup = ["bash", str(ROOT / "tools" / "setup.sh")]
    proc = subprocess.run(setup, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not calls.exists(), calls.read_text()
    # the test command's set-up (--browser) may try apt; when it fails, one line, and it goes on
    proc = subprocess.run(
        [*setup, "--browser"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "chromium" in line]
    assert len(lines) >= 1 and "apt-get install chromium" in lines[-1], proc.stderr
