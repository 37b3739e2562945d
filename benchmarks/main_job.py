"""Benchmark row ``main_job``: wall time of the README's main command, serial and parallel.

``qpvgeo run --dep 91 --offline`` on the data mirror, warm (numba's cache and the
compiled-network cache filled by a first, untimed run), once with ``--workers 1``
and once with one worker per core. ``ratio`` = serial ÷ parallel (> 1: the
workers help). ``peak_rss_mb`` is the largest resident memory of any process of
the parallel run (``getrusage`` of the children, read in a fresh wrapper
process per run so that runs do not mix).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
print(json.dumps({"rc": rc, "s": wall, "rss_mb": rss}))
"""


def _timed(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *args], capture_output=True, text=True, check=True
    )
    row = json.loads(out.stdout)
    if row["rc"] != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {row['rc']}")
    return row


def run_main_job(dep: str = "91") -> dict:
    """One row: ``serial_s``, ``parallel_s``, ``ratio``, ``peak_rss_mb``, ``workers``."""
    exe = str(Path(sys.executable).with_name("qpvgeo"))
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        base = [exe, "--quiet", "run", "--dep", dep, "--offline", "--overwrite", "--out", tmp]
        _timed(base)  # warm: numba's cache, compiled networks
        serial = _timed([*base, "--workers", "1"])
        parallel = _timed([*base, "--workers", str(workers)])
    return {
        "workload": "main_job",
        "graph": f"qpvgeo run --dep {dep} --offline",
        "workers": workers,
        "serial_s": round(serial["s"], 2),
        "parallel_s": round(parallel["s"], 2),
        "ratio": round(serial["s"] / parallel["s"], 2),
        "peak_rss_mb": round(max(serial["rss_mb"], parallel["rss_mb"]), 1),
    }
