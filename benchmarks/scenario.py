"""Benchmark row ``scenario``: one scenario on one QPV, against a full recompute of that QPV.

The footbridge over the RER C at La Croix de Vernailles (Étampes, ``QN09137M``,
``docs/scenarios/etampes-passerelle-rer-c.geojson``), warm (numba's cache and the
compiled-network cache filled by a first, untimed baseline and scenario), in one process:

- ``reference_s``: ``qpvgeo.pipeline.run("91", ["QN09137M"])``, the full run of the QPV
  (data, networks, every stage) that a scenario would otherwise need;
- ``qpvgeo_s``: :func:`qpvgeo.pipeline.scenario.run_scenario` on the baseline: the changes
  applied and every stage after the networks run again;
- ``with_outputs_s``: the same and its outputs written (table, map, fiche).

Best of ``repeat`` runs each. ``ratio`` = reference ÷ scenario (> 1: the scenario is faster);
the workshop budget is 5 s (``within_budget``).
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parents[1] / "docs" / "scenarios" / "etampes-passerelle-rer-c.geojson"
BUDGET_S = 5.0


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def run_scenario_row(dep: str = "91", code: str = "QN09137M", repeat: int = 3) -> dict:
    from qpvgeo import pipeline
    from qpvgeo.outputs.scenario import write_scenario
    from qpvgeo.pipeline import scenario

    logging.getLogger("qpvgeo").setLevel(logging.WARNING)
    base = scenario.baseline(dep, [code], offline=True)
    scenario.run_scenario(base, SCENARIO)  # warm
    reference_s, _ = _best(lambda: pipeline.run(dep, [code], offline=True), repeat)
    qpvgeo_s, result = _best(lambda: scenario.run_scenario(base, SCENARIO), repeat)
    with tempfile.TemporaryDirectory() as tmp:
        with_outputs_s, _ = _best(
            lambda: write_scenario(scenario.run_scenario(base, SCENARIO), Path(tmp)), repeat
        )
    moved = result.diff[result.diff["change"].abs() > 1e-9]
    return {
        "workload": "scenario",
        "graph": f"{SCENARIO.name} on {code} ({result.after.networks.network_of(code).name})",
        "n_nodes": int(result.after.networks.network_of(code).n_nodes),
        "qpvgeo_s": round(qpvgeo_s, 3),
        "reference_s": round(reference_s, 3),
        "ratio": round(reference_s / qpvgeo_s, 2),
        "with_outputs_s": round(with_outputs_s, 3),
        "budget_s": BUDGET_S,
        "within_budget": bool(with_outputs_s <= BUDGET_S),
        "n_indicators_changed": int(len(moved)),
    }
