"""Every notebook runs end to end on the data mirror (they are committed without outputs),
as an analyst opens them: the kernel in ``notebooks/``, the data directory given relative to
the project folder, the run reloaded from the output folder of ``qpvgeo run`` when it matches."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from qpvgeo import cli

PROJECT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = PROJECT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebook found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_thin_and_starts_from_a_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code:
        assert not cell.outputs and cell.execution_count is None, f"{path.name}: commit it stripped"
        assert "def " not in cell.source and "class " not in cell.source, "notebooks stay thin"
    assert "parameters" in code[0].metadata.get("tags", []), "the parameters cell comes first"
    assert "OUT = " in code[0].source
    assert "pipeline.load_or_run(" in code[1].source and "pipeline.run(" not in code[1].source
    assert (
        nb.cells[0].cell_type == "markdown" and "D'où viennent les résultats" in nb.cells[0].source
    )


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, data_dir):
    """The output folder of the README's main command (``qpvgeo run --dep 91 --offline``)."""
    out = tmp_path_factory.mktemp("run")
    args = ["run", "--dep", "91", "--offline", "--quiet", "--data-dir", str(data_dir)]
    assert cli.main([*args, "--out", str(out)]) == 0
    assert (out / "tables" / "run.pkl").is_file()
    return out


@pytest.fixture
def readme_data_dir(monkeypatch, data_dir):
    """``QPVGEO_DATA_DIR`` relative to the project folder, as the README gives it
    (``../shared/data``): the kernel, in ``notebooks/``, finds it in the parent folders."""
    relative = os.path.relpath(data_dir, PROJECT)
    assert not Path(relative).is_absolute()
    monkeypatch.setenv("QPVGEO_DATA_DIR", relative)
    return relative


def execute(path: Path, **parameters) -> tuple[str, float]:
    """Run the notebook from ``notebooks/`` with ``parameters`` injected after its parameters
    cell (as papermill does); return the text it printed and the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    nb.cells.insert(first + 1, new_code_cell(injected, metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream"), seconds


@pytest.mark.mirror
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_from_the_saved_run(path, saved_run, readme_data_dir):
    text, seconds = execute(path, OUT=str(saved_run))
    assert f"résultat rechargé depuis {saved_run / 'tables' / 'run.pkl'}" in text
    assert "calcul en cours" not in text
    print(f"{path.name}: {seconds:.1f} s from the saved run")


@pytest.mark.mirror
def test_notebook_computes_when_the_saved_run_does_not_match(saved_run, data_dir, monkeypatch):
    # the data directory relative to notebooks/ this time: found where the kernel runs
    monkeypatch.setenv("QPVGEO_DATA_DIR", os.path.relpath(data_dir, NOTEBOOK_DIR))
    text, seconds = execute(NOTEBOOKS[0], OUT=str(saved_run), QPV=["QN09140N", "QN09101M"])
    assert "pas de résultat enregistré correspondant (paramètre qpv différent" in text
    assert ": calcul en cours" in text
    assert "résultat rechargé" not in text
    # the run's progress is shown, one line per stage
    for stage in ("data", "networks", "access", "viability"):
        assert f"qpvgeo: {stage}" in text
    print(f"{NOTEBOOKS[0].name}: {seconds:.1f} s computing two QPV")
