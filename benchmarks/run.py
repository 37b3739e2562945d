"""qpvgeo benchmarks: speed as a ratio against a reference run in the same process.

Usage::

    python benchmarks/run.py                 # readable table, with peak memory
    python benchmarks/run.py --json          # one JSON object {"results": [...]}
    python benchmarks/run.py --workload access_suite --graph grid_10k
    python benchmarks/run.py --workload main_job   # the README's main command, serial vs parallel
    python benchmarks/run.py --workload scenario   # one scenario on one QPV vs its full recompute

Each workload module exposes ``run(net, graph_name) -> dict`` returning one
row: ``workload, graph, n_nodes, qpvgeo_s, reference_s, ratio,
max_abs_diff_m`` and ``peers`` ({name: seconds} for the peer libraries that
installed). The ratio is ``reference_s / qpvgeo_s`` (> 1: qpvgeo is faster).

Each row runs in a fresh child process (forked), so that rows do not share
caches or heap, and timings are taken with no memory tracer running (a tracer
would slow the pure-Python reference more than the compiled kernels).
``peak_rss_mb`` is the child's peak resident memory for the whole row
(qpvgeo, reference and in-process peers), read from ``getrusage``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from graphs import ALIASES, GRAPHS  # noqa: E402

WORKLOADS = {
    "access_suite": "access_suite",
    "local_betweenness_800m": "local_betweenness",
    "main_job": "main_job",
    "scenario": "scenario",
    "pipeline_walk": "pipeline_walk",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--graph", action="append", choices=sorted([*GRAPHS, *ALIASES]))
    args = parser.parse_args(argv)
    rows, summaries = [], {}
    for workload in args.workload or list(WORKLOADS):
        module = importlib.import_module(WORKLOADS[workload])
        if workload in ("main_job", "scenario"):  # whole runs on the mirror, not a graph kernel
            rows.append(module.run_main_job() if workload == "main_job" else module.run_scenario_row())
            if not args.json:
                print(json.dumps(rows[-1]), flush=True)
            continue
        for graph in args.graph or list(getattr(module, "GRAPHS", GRAPHS)):
            row = _run_in_child(WORKLOADS[workload], graph)
            rows.append(row)
            if not args.json:
                print(getattr(module, "fmt", _fmt)(row), flush=True)
        if hasattr(module, "summary"):  # e.g. how a workload scales with the network size
            summaries[workload] = module.summary([r for r in rows if r["workload"] == workload])
            if not args.json:
                print(json.dumps(summaries[workload]), flush=True)
    if args.json:
        print(
            json.dumps({"results": rows, **({"summary": summaries} if summaries else {})}, indent=1)
        )
    return 0


def _child(module_name: str, graph: str, queue: multiprocessing.Queue) -> None:
    module = importlib.import_module(module_name)
    net = GRAPHS[ALIASES.get(graph, graph)]()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    row = module.run(net, graph)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # a workload that resets the kernel's peak between its parts reports its own peak
    row.setdefault("peak_rss_mb", round(peak / 1024, 1))  # Linux reports KiB
    row.setdefault("rss_growth_mb", round((peak - base) / 1024, 1))
    queue.put(row)


def _run_in_child(module_name: str, graph: str) -> dict:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(module_name, graph, queue))
    proc.start()
    row = queue.get()
    proc.join()
    return row


def _fmt(row: dict) -> str:
    peers = ", ".join(
        f"{k} {v:.3f}s" if v is not None else f"{k} failed"
        for k, v in row.get("peers", {}).items()
    )
    return (
        f"{row['workload']:<24} {row['graph']:<26} n={row['n_nodes']:>7} "
        f"qpvgeo {row['qpvgeo_s']:.3f}s  reference {row['reference_s']:.3f}s  "
        f"ratio {row['ratio']:.1f}x  max|diff| {row['max_abs_diff_m']:.2e} m  "
        f"peak RSS {row.get('peak_rss_mb', float('nan'))} MB  [{peers}]"
    )


if __name__ == "__main__":
    raise SystemExit(main())
