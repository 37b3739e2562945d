"""Exports: the per-QPV table (CSV), a GeoPackage for QGIS, and a provenance record.

Everything is written into a staging folder first, then moved into place
file by file with :func:`os.replace`, so that an interrupted run never leaves
a half-written file where a complete one stood. Existing outputs are replaced
only when the caller says so (``overwrite=True``).
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
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".qpvgeo-staging-", dir=out))
    try:
        yield stage
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            final = out / path.relative_to(stage)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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
    return {
        "qpvgeo_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": libs,
        "crs": settings.crs,
        "parameters": parameters,
        "data_files": sources.used_files(),
        "messages": messages,
    }


def write_provenance(record: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    return path
