"""A run saved beside its outputs, reloaded while nothing it depends on has changed.

``qpvgeo run`` writes, next to its tables, a copy of the :class:`~qpvgeo.pipeline.RunResult`
(:data:`RESULT`, ``tables/run.pkl``: a pickle, protocol 5) and the key that says what it was
computed from (:data:`KEY`, ``tables/run.json``):

- the parameters of the run: ``RunResult.parameters`` (département, QPV, walking speed, snap
  distance, grid spacing, equipment buffer, crow-fly fallback, offline, categories asked for)
  and the time thresholds;
- the data: for every dataset of the catalogue, the file the data directory holds for it and
  its SHA-256 (or that it holds none: a file that appears changes what a run reads), and the
  same for the files read outside the catalogue (each QPV's walk network
  ``osm/walk/<code_qp>.graphml``, the OSM barrier file). Paths are relative to the data
  directory, so the same data found from another folder (a notebook's) give the same key;
- the software: the qpvgeo version, a fingerprint of the modules that compute (``data``,
  ``network``, ``indicators``, ``pipeline``: a changed formula makes a saved result stale even
  at the same version number), and the versions of Python and of the libraries whose objects
  the pickle holds.

:func:`load_or_run` builds the key of the run asked for, with the data files *as they are
now*, and unpickles the saved result only when both keys are equal and the pickle has the
SHA-256 recorded beside them; otherwise it runs the pipeline. Either way it says which, and
why, in one line on the logger ``qpvgeo.progress`` (shown in a notebook).

A pickle can run code when it is loaded: qpvgeo never unpickles a file whose key does not
match, and you should only point ``out`` at output folders you trust (your own runs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import SimpleNamespace

from .. import __version__, settings
from .._validate import check_instance, check_path
from ..data import barriers, nomenclature, sources
from . import job
from .context import RunResult
from .networks import walk_network_file

log = logging.getLogger("qpvgeo.progress")

#: the saved result, in the output folder
RESULT = "tables/run.pkl"
#: its key, and the SHA-256 of the pickle, in the output folder
KEY = "tables/run.json"
#: the kind and version of the record in :data:`KEY`
FORMAT = "qpvgeo-run-result/1"
PICKLE_PROTOCOL = 5
#: libraries whose objects the pickle holds: another version may not read it the same way
LIBRARIES = ("numpy", "pandas", "geopandas", "shapely", "pyproj", "networkx", "scipy")
#: the sub-packages whose code makes the result (``outputs`` and ``cli`` only present it)
COMPUTING_PACKAGES = ("data", "network", "indicators", "pipeline")


def save_result(
    result: RunResult, folder: str | os.PathLike, *, data_dir: str | os.PathLike | None = None
) -> Path:
    """Write ``result`` to ``folder/tables/run.pkl`` and its key to ``folder/tables/run.json``.

    Call it right after :func:`qpvgeo.pipeline.run`, with the same ``data_dir``: the key
    records the data files as they are when it is called.

    Parameters
    ----------
    result : RunResult
        What :func:`qpvgeo.pipeline.run` returned.
    folder : path
        Output folder (``qpvgeo run --out``); ``tables/`` is created in it.
    data_dir : path, optional
        The data directory the run read (see :func:`qpvgeo.data.sources.data_dir`).

    Returns
    -------
    Path
        The key file, ``folder/tables/run.json``.
    """
    check_instance(result, "result", RunResult, "from `qpvgeo.pipeline.run`")
    folder = check_path(folder, "folder")
    payload = pickle.dumps(result, protocol=PICKLE_PROTOCOL)
    root = sources.data_dir(data_dir)
    params = result.parameters
    record = {
        "format": FORMAT,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_dir": str(root),
        "result": {
            "file": Path(RESULT).name,
            "bytes": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "n_qpv": len(result.indicators),
        },
        "key": {
            "software": software_key(),
            "parameters": parameters_key(params),
            "data": data_key(str(params["dep"]), list(result.qpv.index), root),
        },
    }
    _write_atomically(folder / RESULT, payload)  # the pickle first: a key never names a missing one
    text = json.dumps(record, indent=1, ensure_ascii=False, default=str)
    return _write_atomically(folder / KEY, text.encode("utf-8"))


def load_or_run(
    dep: str,
    codes: list[str] | None = None,
    *,
    out: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    offline: bool | None = None,
    categories: list[str] | None = None,
    crowfly_fallback: bool = False,
) -> RunResult:
    """The result saved in ``out`` by ``qpvgeo run`` when it matches this run, else a new run.

    The saved result is loaded (in a second or two) only when its key (see the module's
    description) equals the key of the run asked for, computed now: same parameters and
    settings, data files with the same SHA-256 as they have now, same qpvgeo code and library
    versions. Otherwise :func:`qpvgeo.pipeline.run` computes it (5 to 20 s for the 47 QPV of
    Essonne, depending on whether the compiled networks are cached); nothing is written. One line on the logger ``qpvgeo.progress`` says which, and
    why; when nothing is set up to show that logger (a notebook), it is shown on stderr.

    Parameters
    ----------
    dep, codes, data_dir, offline, categories, crowfly_fallback
        As for :func:`qpvgeo.pipeline.run`.
    out : path, optional
        The output folder of ``qpvgeo run`` (its ``--out``; default: the current folder).

    Returns
    -------
    RunResult
    """
    folder = Path("." if out is None else out)
    offline = settings.offline if offline is None else offline
    with _progress_shown():
        wanted = {
            "software": software_key(),
            "parameters": requested_parameters(
                dep, codes, offline=offline, categories=categories,
                crowfly_fallback=crowfly_fallback,
            ),
        }  # fmt: skip
        result, why = _load_matching(folder, wanted, sources.data_dir(data_dir))
        if result is not None:
            return result
        log.info("pas de résultat enregistré correspondant (%s) : calcul en cours", why)
        return job.run(
            dep, codes, data_dir=data_dir, offline=offline, categories=categories,
            crowfly_fallback=crowfly_fallback,
        )  # fmt: skip


# --------------------------------------------------------------------------- the key


def requested_parameters(
    dep: str,
    codes: list[str] | None = None,
    *,
    offline: bool,
    categories: list[str] | None = None,
    crowfly_fallback: bool = False,
) -> dict:
    """The parameters part of the key of the run these arguments ask for, with today's settings.

    Built by :func:`qpvgeo.pipeline.job.run_parameters` itself, so that a parameter it records
    is part of the key without being listed here.
    """
    wanted = list(categories or nomenclature.proximity_categories())
    ctx = SimpleNamespace(
        dep=str(dep), codes=list(codes) if codes else None, offline=bool(offline),
        crowfly_fallback=bool(crowfly_fallback), categories=wanted, categories_absent=[],
    )  # fmt: skip
    return parameters_key(job.run_parameters(ctx))


def parameters_key(parameters: dict) -> dict:
    """A run's parameters as compared: categories as the set asked for, time thresholds added.

    ``categories`` (present in the data), ``categories_absent`` and ``dep_name`` depend on the
    data, whose files are compared anyway: the key keeps the categories asked for, sorted.
    """
    from_data = ("categories", "categories_absent", "dep_name")
    key = {k: v for k, v in parameters.items() if k not in from_data}
    key["dep"] = str(key["dep"])
    key["categories"] = sorted({*parameters["categories"], *parameters["categories_absent"]})
    key["time_thresholds_min"] = list(settings.time_thresholds_min)
    key["crs"] = settings.crs
    return json.loads(json.dumps(key, default=str))  # as it reads back from run.json


def software_key() -> dict:
    """qpvgeo's version and code fingerprint, Python's and the pickled libraries' versions."""
    libraries = {}
    for lib in LIBRARIES:
        try:
            libraries[lib] = version(lib)
        except PackageNotFoundError:
            libraries[lib] = None
    return {
        "qpvgeo": __version__,
        "code_sha256": code_fingerprint(),
        "python": ".".join(platform.python_version_tuple()[:2]),
        "libraries": libraries,
    }


def code_fingerprint() -> str:
    """SHA-256 of the modules and tables that compute a result (:data:`COMPUTING_PACKAGES`,
    ``settings`` and the other top-level modules except ``cli``)."""
    package = Path(__file__).resolve().parent.parent
    files = [p for p in package.glob("*.py") if p.name != "cli.py"]
    for sub in COMPUTING_PACKAGES:
        files += [*(package / sub).rglob("*.py"), *(package / sub).rglob("*.csv")]
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def data_key(dep: str, codes: list[str], data_dir: str | os.PathLike | None = None) -> dict:
    """What a run of ``codes`` in ``dep`` reads from the data directory, as it is now.

    ``datasets``: for each dataset of the catalogue, the file used (relative to the data
    directory) and its SHA-256, or None when the directory holds none; ``other_files``: the
    walk network of each QPV and the OSM barrier file, SHA-256 or None when absent.
    """
    root = sources.data_dir(data_dir)
    datasets = {}
    for key in sources.CATALOGUE:
        path = sources.find(key, root)
        datasets[key] = (
            None
            if path is None
            else {"file": path.relative_to(root).as_posix(), "sha256": sources.sha256(path)}
        )
    others = [walk_network_file(code) for code in codes]
    others.append(barriers.OSM_BARRIERS_FILE.format(dep=dep))
    return {
        "datasets": datasets,
        "other_files": {
            rel: sources.sha256(root / rel) if (root / rel).is_file() else None for rel in others
        },
    }


# --------------------------------------------------------------------------- loading


def _load_matching(folder: Path, wanted: dict, root: Path) -> tuple[RunResult | None, str]:
    """The saved result if its key matches ``wanted`` (and the data now), else why not."""
    key_path, result_path = folder / KEY, folder / RESULT
    if not key_path.is_file():
        return None, f"aucun {KEY} dans {str(folder.resolve())!r}"
    try:
        record = json.loads(key_path.read_text(encoding="utf-8"))
        saved = record["key"]
        expected = record["result"]["sha256"]
        if record["format"] != FORMAT:
            return None, f"{key_path} est au format {record['format']!r}, attendu {FORMAT!r}"
        for part in ("software", "parameters", "data"):
            if not isinstance(saved[part], dict):
                raise TypeError(part)
    except (OSError, ValueError, KeyError, TypeError):
        return None, f"{key_path} n'est pas un enregistrement de résultat qpvgeo lisible"
    why = _software_differs(saved["software"], wanted["software"]) or _parameters_differ(
        saved["parameters"], wanted["parameters"]
    )
    if why:
        return None, why
    try:
        dep, codes = saved["parameters"]["dep"], _walk_codes(saved["data"])
        why = _data_differs(saved["data"], data_key(dep, codes, root))
    except (KeyError, TypeError, AttributeError):
        return None, f"{key_path} n'est pas un enregistrement de résultat qpvgeo lisible"
    if why:
        return None, why
    if not result_path.is_file():
        return None, f"{result_path} manque à côté de {key_path.name}"
    payload = result_path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != expected:
        return (
            None,
            f"{result_path} n'est pas le fichier que {key_path.name} décrit (SHA-256 différent)",
        )
    try:
        result = pickle.loads(payload)
    except Exception as exc:  # a matching key and checksum: only a broken environment gets here
        return None, f"{result_path} illisible ({type(exc).__name__}: {exc})"
    if not isinstance(result, RunResult):
        return None, f"{result_path} ne contient pas un résultat qpvgeo"
    log.info("résultat rechargé depuis %s (calculé le %s)", result_path.resolve(), _when(record))
    return result, ""


def _walk_codes(data: dict) -> list[str]:
    """The QPV codes whose walk network the saved key records."""
    prefix, suffix = walk_network_file("\0").split("\0")
    return [
        rel[len(prefix) : -len(suffix)]
        for rel in data["other_files"]
        if rel.startswith(prefix) and rel.endswith(suffix)
    ]


def _software_differs(saved: dict, now: dict) -> str:
    if saved.get("qpvgeo") != now["qpvgeo"]:
        return f"version de qpvgeo différente : {saved.get('qpvgeo')} enregistrée, {now['qpvgeo']} utilisée"
    if saved.get("code_sha256") != now["code_sha256"]:
        return "code de qpvgeo modifié depuis le calcul"
    if saved.get("python") != now["python"]:
        return f"Python {saved.get('python')} au calcul, {now['python']} maintenant"
    before = saved.get("libraries") or {}
    changed = [
        f"{lib} {before.get(lib)} → {v}"
        for lib, v in now["libraries"].items()
        if before.get(lib) != v
    ]
    return f"bibliothèques mises à jour ({', '.join(changed)})" if changed else ""


def _parameters_differ(saved: dict, now: dict) -> str:
    names = [k for k in sorted({*saved, *now}) if saved.get(k) != now.get(k)]
    if not names:
        return ""
    values = [f"{_short(saved.get(k))} enregistré, {_short(now.get(k))} demandé" for k in names]
    if len(names) == 1:
        return f"paramètre {names[0]} différent : {values[0]}"
    return "paramètres différents : " + " ; ".join(
        f"{k} {v}" for k, v in zip(names, values, strict=True)
    )


def _data_differs(saved: dict, now: dict) -> str:
    reasons = []
    for key, before in saved["datasets"].items():
        after = now["datasets"].get(key)
        if before != after:
            was, is_ = (before or {}).get("file"), (after or {}).get("file")
            if was and is_ and was != is_:
                reasons.append(f"{is_} lu au lieu de {was}")
            else:
                reasons.append(_file_change(was or is_, before, after))
    for rel, before in saved["other_files"].items():
        after = now["other_files"].get(rel)
        if before != after:
            reasons.append(_file_change(rel, before, after))
    if not reasons:
        return ""
    more = f" et {len(reasons) - 3} autres" if len(reasons) > 3 else ""
    return " ; ".join(reasons[:3]) + more


def _file_change(rel: str, before, after) -> str:
    if before is None:
        return f"nouveau fichier de données : {rel}"
    if after is None:
        return f"fichier de données disparu : {rel}"
    return f"fichier de données modifié : {rel}"


def _short(value, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(record: dict) -> str:
    """The local date and time of the saved run, « 12/03/2026 à 14:05 »."""
    try:
        created = datetime.fromisoformat(record["created_utc"]).astimezone()
    except (KeyError, TypeError, ValueError):
        return "à une date inconnue"
    return created.strftime("%d/%m/%Y à %H:%M")


def _write_atomically(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
    return path


@contextmanager
def _progress_shown() -> Iterator[None]:
    """Show the lines of the logger ``qpvgeo.progress`` on stderr when nothing is set up to
    show them (a notebook); leave the set-up alone otherwise (the command, a test)."""
    if log.hasHandlers():
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("qpvgeo: %(message)s"))
    level = log.level
    log.addHandler(handler)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
