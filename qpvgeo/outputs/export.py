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

The staging folder (``.qpvgeo-staging-*``) holds the PID and host of its run
(:data:`STAGING_PID`). A run killed outright (SIGKILL, power cut) cannot remove
it, so each run first removes the staging folders beside its own whose process
is no longer running on this host, and those without a PID file older than
:data:`STALE_AFTER_S` (one hour, a qpvgeo choice: a run takes well under that,
and a PID file is written within microseconds of its folder). Folders of
running processes, or of another host, are kept.

Writing problems (no space left, a read-only disk, an ``--out`` that is a file or
lies under one) raise :class:`OutputError`, naming the path and the fix.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import platform
import shutil
import signal
import socket
import tempfile
import threading
import time
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


#: name of the staging folders, beside (or inside) the output folder
STAGING_PREFIX = ".qpvgeo-staging-"
#: file of a staging folder holding "PID HOST" of the run that owns it (never moved into the outputs)
STAGING_PID = ".qpvgeo-pid"
#: a staging folder without a PID file is a leftover after this many seconds (a qpvgeo choice)
STALE_AFTER_S = 3600.0
#: errors that mean "the disk cannot take the outputs", whatever is being written
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
#: errors that mean "not allowed to write there" when they are about an output path
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}

log = logging.getLogger(__name__)


class OutputExistsError(QpvgeoError, FileExistsError):
    """An output file exists and overwriting was not asked for."""


class OutputError(QpvgeoError, OSError):
    """The output folder cannot be created or written (a file in the way, no space, no permission)."""


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
    home = staging_home(out)
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{len(existing)} output(s) already exist in {str(out)!r} (e.g. {existing[0]!r}); "
            "pass --overwrite to replace them, or choose another --out folder"
        )
    removed = remove_stale_stages(home)
    if removed:
        log.warning(
            "note: removed %d staging folder(s) left by stopped runs (e.g. %s)", len(removed), removed[0]
        )
    try:
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=home))
        (stage / STAGING_PID).write_text(f"{os.getpid()} {socket.gethostname()}", encoding="utf-8")
    except OSError as exc:
        raise _output_error(exc, out) from exc
    try:
        yield stage
        with _signals_held():
            _swap_in(stage, out)
    except OSError as exc:
        if isinstance(exc, QpvgeoError) or not _about_outputs(exc, out, stage):
            raise
        raise _output_error(exc, out) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl+C and SIGTERM are ignored while the staged files are moved into place (milliseconds):
    the output folder never holds half of each run. Only the main thread can do this."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


def staging_home(out: Path) -> Path:
    """Where the staging folder of ``out`` goes: ``out`` when it exists, else its nearest existing
    parent, so that a failed run creates no output folder (and the final moves stay on one file
    system). Raises :class:`OutputError` when ``out`` is a file or lies under one."""
    resolved = out.resolve()
    home = next(p for p in (resolved, *resolved.parents) if p.exists())
    if not home.is_dir():
        where = "is a file" if home == resolved else f"cannot be created: {str(home)!r} is a file"
        raise OutputError(
            f"the output folder {str(resolved)!r} {where}; give --out a folder (created if "
            "missing), or move the file away"
        )
    if not os.access(home, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write in {str(home)!r} (no permission); choose another --out folder, one you "
            "can write in"
        )
    return home


def remove_stale_stages(folder: Path) -> list[Path]:
    """Remove the staging folders in ``folder`` left by runs that are no longer running.

    Removed: those whose PID file names a process of this host that no longer exists, and
    those without a PID file whose last change is older than :data:`STALE_AFTER_S`. Returns
    the folders removed.
    """
    removed = []
    for stage in sorted(Path(folder).glob(STAGING_PREFIX + "*")):
        if stage.is_dir() and not stage.is_symlink() and _is_stale(stage):
            shutil.rmtree(stage, ignore_errors=True)
            if not stage.exists():
                removed.append(stage)
    return removed


def _is_stale(stage: Path) -> bool:
    try:
        pid_text, _, host = (stage / STAGING_PID).read_text(encoding="utf-8").strip().partition(" ")
        pid = int(pid_text)
    except FileNotFoundError:
        try:
            return time.time() - stage.stat().st_mtime > STALE_AFTER_S
        except OSError:
            return False
    except (OSError, ValueError):  # unreadable or being written: leave it
        return False
    if host and host != socket.gethostname():
        return False  # another machine's run, on a shared folder: its PID means nothing here
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: alive, another user's
        return False
    return False


def _about_outputs(exc: OSError, out: Path, stage: Path) -> bool:
    """Whether ``exc`` is a writing problem of the output set: no space left (wherever), or no
    permission on a path of the staging or the output folder."""
    if exc.errno in _NO_SPACE:
        return True
    if exc.errno not in _NOT_WRITABLE or not exc.filename:
        return False
    path = Path(os.fsdecode(exc.filename)).resolve()
    return path.is_relative_to(stage.resolve()) or path.is_relative_to(out.resolve())


def _output_error(exc: OSError, out: Path) -> OutputError:
    where = str(Path(os.fsdecode(exc.filename)).resolve()) if exc.filename else str(out.resolve())
    if exc.errno in _NO_SPACE:
        return OutputError(
            f"no space left on the disk to write {where!r}; free space on it, or choose another "
            "--out folder on a disk with room"
        )
    reason = exc.strerror or type(exc).__name__
    return OutputError(
        f"cannot write {where!r} ({reason}); choose another --out folder, one you can write in"
    )


def _swap_in(stage: Path, out: Path) -> None:
    """Write the manifest, move the staged files into ``out``, remove the previous run's leftovers."""
    new = sorted(
        p.relative_to(stage).as_posix()
        for p in stage.rglob("*")
        if p.is_file() and p.relative_to(stage).as_posix() != STAGING_PID
    )
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
        "osm_data": sources.osm_used(),
        "messages": [*messages, *notes],
    }


def write_provenance(record: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    return path
