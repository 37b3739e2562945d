"""Compare two output folders of ``qpvgeo run`` and prove they hold the same outputs.

Usage: ``python tools/compare_runs.py OLD NEW [--float-tol 1e-9]``.
Exit 0 when equal (short summary), 1 when they differ (one ``DIFF`` line per
difference), 2 on bad usage (one line).

What is compared, by file kind:

* ``*.csv``: cell by cell, same columns in the same order, same rows. Two cells are
  equal when their text is identical, or both parse as numbers (empty = NaN) and
  ``numpy.isclose(rtol=tol, atol=tol, equal_nan=True)``.
* ``*.gpkg``: same layer names; per layer same CRS, row count and columns, attributes
  by the cell rule above, geometries by ``shapely.equals_exact(tolerance=tol)``
  (a null geometry equals only a null geometry).
* the records of a run (``provenance.json``, ``run.json``, ``manifest.json``): only
  their presence; top-level keys whose values differ (timestamps, paths, the
  hashes of other records) are printed as ``info``, never as a difference.
* ``*.html``: text after two normalisations: every whitespace run becomes one
  space (then strip), and every folium random id (a 32 lowercase-hex token,
  regex ``[0-9a-f]{32}``) becomes ``<ID n>``, numbered by first appearance.
* ``*.png``: width x height from the PNG header (bytes 16-24); pixels are not compared.
* anything else (``maps/lib/*.js``, ``*.css``, ...): byte equality.
* a file present in one folder only is a difference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import struct
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

MAX_LINES_PER_FILE = 20
WHITESPACE = re.compile(r"\s+")
FOLIUM_ID = re.compile(r"[0-9a-f]{32}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def to_floats(values):
    """Parse values as floats; return ``(floats, parsed)`` arrays (null/empty -> NaN, parsed)."""
    out = np.full(len(values), np.nan)
    parsed = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v == ""):
            parsed[i] = True
            continue
        with contextlib.suppress(TypeError, ValueError):
            out[i], parsed[i] = float(v), True
    return out, parsed


def cells_equal(a, b, tol):
    """Elementwise equality of two value arrays: identical text, or numbers within ``tol``."""
    a, b = list(a), list(b)
    eq = np.array([str(x) == str(y) for x, y in zip(a, b, strict=False)], dtype=bool)
    if eq.all():
        return eq
    fa, pa = to_floats(a)
    fb, pb = to_floats(b)
    return eq | (pa & pb & np.isclose(fa, fb, rtol=tol, atol=tol, equal_nan=True))


def snippet(value, width=80):
    """Short repr of a value for a difference line."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def compare_frames(old, new, tol, counts, unit):
    """Compare two DataFrames (columns, row count, cells); return difference strings."""
    diffs = []
    if list(old.columns) != list(new.columns):
        only_old = [c for c in old.columns if c not in new.columns]
        only_new = [c for c in new.columns if c not in old.columns]
        diffs.append(f"columns differ: only in OLD {only_old}, only in NEW {only_new}"
                     + ("" if only_old or only_new else " (same set, different order)"))
    if len(old) != len(new):
        diffs.append(f"row count {len(old)} (OLD) != {len(new)} (NEW)")
    n = min(len(old), len(new))
    key = old.columns[0] if len(old.columns) else None
    for col in [c for c in old.columns if c in new.columns]:
        a, b = old[col].to_numpy(dtype=object)[:n], new[col].to_numpy(dtype=object)[:n]
        counts[unit] += n
        for i in np.flatnonzero(~cells_equal(a, b, tol)):
            label = f"row {i}" + (f" ({key}={old[key].iloc[i]})" if key is not None else "")
            diffs.append(f"column {col!r}, {label}: OLD {snippet(a[i])} != NEW {snippet(b[i])}")
    return diffs


def compare_csv(old, new, tol, counts):
    """Compare two CSV tables cell by cell (all cells read as text, no NA guessing)."""
    a, b = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in (old, new))
    return compare_frames(a, b, tol, counts, "csv cells")


def compare_geometries(old, new, tol):
    """Compare two geometry arrays of equal length; return difference strings."""
    ga, gb = np.asarray(old, dtype=object), np.asarray(new, dtype=object)
    ma, mb = shapely.is_missing(ga), shapely.is_missing(gb)
    eq = (ma & mb) | (~ma & ~mb & shapely.equals_exact(ga, gb, tolerance=tol))
    wkt = lambda g: None if g is None else shapely.to_wkt(g, rounding_precision=-1)  # noqa: E731
    return [f"geometry, feature {i}: OLD {snippet(wkt(ga[i]))} != NEW {snippet(wkt(gb[i]))}"
            for i in np.flatnonzero(~eq)]


def compare_gpkg(old, new, tol, counts):
    """Compare every layer of two GeoPackages: CRS, columns, attributes, geometries."""
    names_old = [str(r[0]) for r in pyogrio.list_layers(old)]
    names_new = [str(r[0]) for r in pyogrio.list_layers(new)]
    diffs = [f"layer {n!r} only in OLD" for n in names_old if n not in names_new]
    diffs += [f"layer {n!r} only in NEW" for n in names_new if n not in names_old]
    for name in [n for n in names_old if n in names_new]:
        a = pyogrio.read_dataframe(old, layer=name)
        b = pyogrio.read_dataframe(new, layer=name)
        counts["gpkg layers"] += 1
        counts["gpkg features"] += len(a)
        geo_a, geo_b = getattr(a, "geometry", None), getattr(b, "geometry", None)
        layer_diffs = []
        if geo_a is not None and geo_b is not None:
            if a.crs != b.crs:
                layer_diffs.append(f"CRS {a.crs} != {b.crs}")
            n = min(len(a), len(b))
            layer_diffs += compare_geometries(geo_a.to_numpy()[:n], geo_b.to_numpy()[:n], tol)
            a, b = a.drop(columns=a.geometry.name), b.drop(columns=b.geometry.name)
        elif (geo_a is None) != (geo_b is None):
            layer_diffs.append("geometry column in one layer only")
        layer_diffs += compare_frames(a, b, tol, counts, "gpkg cells")
        diffs += [f"layer {name!r}: {d}" for d in layer_diffs]
    return diffs


def normalise_html(text):
    """Collapse whitespace and number folium's random 32-hex ids by first appearance."""
    ids = {}
    text = WHITESPACE.sub(" ", text).strip()
    return FOLIUM_ID.sub(lambda m: ids.setdefault(m.group(0), f"<ID {len(ids)}>"), text)


def compare_html(old, new, tol, counts):
    """Compare two HTML pages after normalisation; report the first differing position."""
    a = normalise_html(Path(old).read_text(encoding="utf-8"))
    b = normalise_html(Path(new).read_text(encoding="utf-8"))
    counts["html pages"] += 1
    if a == b:
        return []
    i = len(os.path.commonprefix([a, b]))
    ctx = lambda s: s[max(0, i - 60): i + 60]  # noqa: E731
    return [f"normalised text differs at char {i} (lengths {len(a)} / {len(b)}):\n"
            f"    OLD ...{ctx(a)}...\n    NEW ...{ctx(b)}..."]


def png_size(path):
    """Return ``(width, height)`` read from the IHDR chunk of a PNG file."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", head[16:24])


def compare_png(old, new, tol, counts):
    """Compare two PNG files by pixel size only."""
    sa, sb = png_size(old), png_size(new)
    counts["png"] += 1
    return [] if sa == sb else [f"PNG size {sa[0]}x{sa[1]} (OLD) != {sb[0]}x{sb[1]} (NEW)"]


def compare_provenance(old, new, tol, counts):
    """Print (as info only) the top-level provenance keys whose values differ."""
    a, b = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (old, new))
    keys = sorted(k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>"))
    counts["provenance"] += 1
    if keys:
        print(f"info {Path(old).name}: keys differing (not a failure): {', '.join(keys)}")
    return []


def compare_bytes(old, new, tol, counts):
    """Compare two files byte for byte."""
    counts["byte-compared"] += 1
    return [] if Path(old).read_bytes() == Path(new).read_bytes() else ["bytes differ"]


#: files that record a run (when, where, with which code) rather than its results
RUN_RECORDS = ("provenance.json", "run.json", "manifest.json")


def comparer_for(rel):
    """Pick the comparison function for a relative file path."""
    name = rel.lower()
    if Path(name).name in RUN_RECORDS:
        return compare_provenance
    suffix = Path(name).suffix
    return {".csv": compare_csv, ".gpkg": compare_gpkg, ".html": compare_html,
            ".png": compare_png}.get(suffix, compare_bytes)


def list_files(root):
    """Return the sorted relative POSIX paths of every file under ``root``."""
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file())


def compare_folders(old, new, tol):
    """Compare two run folders; return ``(n_files, differences, counts)``."""
    files_old, files_new = set(list_files(old)), set(list_files(new))
    diffs = [f"{f}: only in OLD" for f in sorted(files_old - files_new)]
    diffs += [f"{f}: only in NEW" for f in sorted(files_new - files_old)]
    counts = Counter()
    for rel in sorted(files_old & files_new):
        try:
            found = comparer_for(rel)(Path(old, rel), Path(new, rel), tol, counts)
        except Exception as exc:  # unreadable file: a difference, not a crash
            found = [f"cannot compare: {type(exc).__name__}: {exc}"]
        if len(found) > MAX_LINES_PER_FILE:
            found = found[:MAX_LINES_PER_FILE] + [f"... and {len(found) - MAX_LINES_PER_FILE} more"]
        diffs += [f"{rel}: {d}" for d in found]
    return len(files_old | files_new), diffs, counts


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors are a single line on stderr, exit status 2."""

    def error(self, message):
        self.exit(2, f"compare_runs: error: {message}\n")


def main(argv=None):
    """Command-line entry point; return the exit status (0 equal, 1 differ, 2 bad usage)."""
    parser = _Parser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="first `qpvgeo run` output folder")
    parser.add_argument("new", type=Path, help="second `qpvgeo run` output folder")
    parser.add_argument("--float-tol", type=float, default=1e-9,
                        help="rtol and atol for numbers and geometry tolerance (default 1e-9)")
    args = parser.parse_args(argv)
    for folder in (args.old, args.new):
        if not folder.is_dir():
            parser.error(f"{folder}: not an existing folder")
        if not (folder / "tables").is_dir() and not (folder / "maps").is_dir():
            parser.error(f"{folder}: not a `qpvgeo run` output folder (no tables/ or maps/)")
    if not args.float_tol >= 0:
        parser.error(f"--float-tol must be >= 0, got {args.float_tol}")
    n_files, diffs, counts = compare_folders(args.old, args.new, args.float_tol)
    for d in diffs:
        print(f"DIFF {d}")
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    print(f"compare_runs: {n_files} files compared, {len(diffs)} differences ({detail})")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
