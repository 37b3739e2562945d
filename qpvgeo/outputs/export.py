"""Exports: the per-QPV table (CSV), a GeoPackage for QGIS, and a provenance record.

A run writes its whole output set into a staging folder beside the output
folder, then swaps it in: each file is moved into place with :func:`os.replace`
(no half-written file where a complete one stood), and the files of the
previous run that this run did not write again are removed, so an
``--overwrite`` never leaves a mix of two runs. The previous run's files are
known from its manifest (:data:`MANIFEST`: every file with its size and
SHA-256); files qpvgeo did not write (a README in ``maps/``…) are never
touched. A run that fails leaves the previous output as it was, and creates
no output folder. Existing outputs are replaced only when the caller says so
(``overwrite=True``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import __version__, settings
from .._errors import QpvgeoError
from ..data import sources

TABLE = "tables/indicators_qpv.csv"
GEOPACKAGE = "tables/qpvgeo.gpkg"
PROVENANCE = "tables/provenance.json"
#: every file of the output set, with its size and SHA-256
MANIFEST = "tables/manifest.json"
#: files qpvgeo writes, by pattern: an earlier output set without a manifest is recognised by them
OWNED_PATTERNS = (
    "tables/indicators_qpv.csv", "tables/qpvgeo.gpkg", "tables/provenance.json",
    "tables/run.pkl", "tables/run.json", "maps/*.html", "maps/fiches/*.html", "maps/png/*.png", "maps/lib/*",
)  # fmt: skip


class OutputExistsError(QpvgeoError, FileExistsError):
    """An output file exists and overwriting was not asked for."""


@contextmanager
def staged_outputs(
    out_dir: str | os.PathLike, names: list[str], *, overwrite: bool = False
) -> Iterator[Path]:
    """Yield a staging folder; on success move its files to ``out_dir`` atomically.

    Parameters
    ----------
    out_dir : path
        Final output folder.
    names : list of str
        Relative paths that will be written (checked before any work is done).
    overwrite : bool
        Replace existing files. Without it, an existing output is an error
        raised *before* anything is computed or written.
    """
    out = Path(out_dir)
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{len(existing)} output(s) already exist in {str(out)!r} (e.g. {existing[0]!r}); "
            "pass --overwrite to replace them, or choose another --out folder"
        )
    # staged inside the output folder when it exists, else in its nearest existing parent, so
    # that a failed run creates no output folder (and the final moves stay on one file system)
    home = next(p for p in (out.resolve(), *out.resolve().parents) if p.is_dir())
    stage = Path(tempfile.mkdtemp(prefix=".qpvgeo-staging-", dir=home))
    try:
        yield stage
        _swap_in(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _swap_in(stage: Path, out: Path) -> None:
    """Write the manifest, move the staged files into ``out``, remove the previous run's leftovers."""
    new = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    previous = _previous_files(out)
    write_manifest(stage, [*new, MANIFEST])
    for rel in [*new, MANIFEST]:
        final = out / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, final)
    for rel in sorted(previous - {*new, MANIFEST}):
        (out / rel).unlink(missing_ok=True)
    for folder in sorted({(out / rel).parent for rel in previous}, reverse=True):
        if folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _previous_files(out: Path) -> set[str]:
    """The files of the output set already in ``out``: its manifest's, or those qpvgeo's names match."""
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            return {row["path"] for row in json.loads(manifest.read_text("utf-8"))["files"]}
        except (ValueError, KeyError, TypeError):
            raise QpvgeoError(
                f"{str(manifest)!r} is not a qpvgeo manifest; move it away (or delete it) and run again"
            ) from None
    return {p.relative_to(out).as_posix() for pat in OWNED_PATTERNS for p in out.glob(pat) if p.is_file()}


def write_manifest(root: Path, files: list[str]) -> Path:
    """``root/tables/manifest.json``: every file of the output set with its size and SHA-256."""
    rows = [
        {"path": rel, "bytes": (root / rel).stat().st_size, "sha256": sources.sha256(root / rel)}
        for rel in files
        if rel != MANIFEST
    ]
    path = root / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"qpvgeo": __version__, "files": [*rows, {"path": MANIFEST}]}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def write_table(indicators: pd.DataFrame, path: Path) -> Path:
    """The per-QPV table as UTF-8 CSV, ``code_qp`` first."""
    table = indicators.copy()
    if "code_qp" not in table.columns:
        table.insert(0, "code_qp", table.index)
    cols = ["code_qp"] + [c for c in table.columns if c != "code_qp"]
    path.parent.mkdir(parents=True, exist_ok=True)
    table[cols].to_csv(path, index=False, float_format="%.3f")
    return path


def write_geopackage(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """Write several layers into one GeoPackage (EPSG:2154)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        if len(gdf) == 0:
            continue  # an empty layer has no geometry type; the run's notes say why it is empty
        gdf = gdf.reset_index(drop=gdf.index.name in gdf.columns or gdf.index.name is None)
        for col in gdf.columns:
            if col != gdf.geometry.name and gdf[col].dtype == object:
                gdf[col] = gdf[col].astype("string")
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def provenance(parameters: dict, messages: list[str]) -> dict:
    """The provenance record: data files (with SHA-256), parameters, versions, messages."""
    libs = {}
    for lib in (
        "numpy",
        "pandas",
        "geopandas",
        "shapely",
        "pyogrio",
        "osmnx",
        "networkx",
        "scipy",
        "numba",
        "folium",
    ):
        try:
            libs[lib] = version(lib)
        except PackageNotFoundError:
            libs[lib] = None
    files = sources.used_files()
    # the integrity notes (a changed file accepted, a file without published checksum)
    notes = [f["checksum_note"] for f in files if f["checksum_note"] not in ("", *messages)]
    return {
        "qpvgeo_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": libs,
        "crs": settings.crs,
        "parameters": {**parameters, "accept_changed_data": settings.accept_changed_data},
        "data_files": files,
        "messages": [*messages, *notes],
    }


def write_provenance(record: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    return path
