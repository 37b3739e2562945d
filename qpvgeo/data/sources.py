"""Catalogue of the official sources qpvgeo reads, and the data directory.

Every dataset has a publisher, a licence, a vintage, the official page and,
where the publisher offers one, a direct download address. Each dataset lists
the file names it may take in the data directory: the first that exists is
used as it is. A missing file is downloaded on a connected machine (with
:mod:`pooch`: cached in the data directory, checked against its SHA-256), and
offline the user gets one message naming the dataset, the file expected and
where to get it.

The data directory is, in order: the ``data_dir`` argument (``--data-dir`` on
the command line), :data:`qpvgeo.settings.data_dir`, ``$QPVGEO_DATA_DIR``,
else ``./data``.

Integrity: the files of the reference layout (the names below) have a known
SHA-256 (:attr:`Dataset.sha256`). A file downloaded from a publisher whose
releases change in place gets its SHA-256 recorded at first download, in
``<data dir>/checksums.json`` (a JSON object: path in the data directory →
SHA-256 in hex). Whenever a file is read (:func:`fetch`), its SHA-256 is
compared with the known one, published or recorded: a file that differs
**stops the run** (:class:`qpvgeo.ChecksumError`, naming the file and both
SHA-256), unless :data:`qpvgeo.settings.accept_changed_data` is set
(``qpvgeo run --accept-changed-data``): then the run goes on with a note, and
the provenance record says ``checksum_ok: false``. A file with no known SHA-256
(a national file saved by hand) is read as it is; its SHA-256 is kept in the
provenance record with a note saying that none was published.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from pathlib import Path

from .. import settings
from .._errors import ChecksumError, DataNotFoundError, DownloadError, QpvgeoWarning, plain
from .._validate import check_instance, check_path

log = logging.getLogger(__name__)

# the catalogue itself (records) is in qpvgeo.data.catalogue; its names stay importable from here
from .catalogue import CATALOGUE as CATALOGUE  # noqa: E402
from .catalogue import NETWORK_DATASETS as NETWORK_DATASETS  # noqa: E402
from .catalogue import OSM_ATTRIBUTION as OSM_ATTRIBUTION  # noqa: E402
from .catalogue import SAVED_FILES as SAVED_FILES  # noqa: E402
from .catalogue import Dataset as Dataset  # noqa: E402


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data directory, as an absolute path: ``path``, else settings, else ``$QPVGEO_DATA_DIR``,
    else ``./data``.

    A relative path is taken from the current folder; when no such folder exists there, from
    the nearest folder above it, up to the project folder (the first one holding
    ``pyproject.toml`` or ``.git``), where it exists. So a notebook, whose kernel runs in
    ``notebooks/``, finds the ``../shared/data`` that the shell which started JupyterLab from
    the project folder was given. When it exists nowhere, the path from the current folder is
    returned (and the error that follows names it in full).
    """
    chosen = Path(path or settings.data_dir or os.environ.get("QPVGEO_DATA_DIR") or "data")
    chosen = chosen.expanduser()
    if chosen.is_absolute():
        return chosen
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / chosen).is_dir():
            return (folder / chosen).resolve()
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            break
    return (here / chosen).resolve()


def find(key: str, data_dir_: str | os.PathLike | None = None) -> Path | None:
    """Path of the first file of dataset ``key`` present in the data directory, or None."""
    root = data_dir(data_dir_)
    for name in dataset(key).files:
        if (root / name).is_file():
            return root / name
    return None


def dataset(key: str) -> Dataset:
    """The catalogue entry ``key``; a clear error for an unknown key."""
    try:
        return CATALOGUE[key]
    except (KeyError, TypeError):
        raise DataNotFoundError(
            f"unknown dataset {plain(key)!r}; known datasets: {', '.join(sorted(CATALOGUE))}"
        ) from None


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in chunks."""
    path = check_path(path, exists=True)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(
    key: str,
    data_dir_: str | os.PathLike | None = None,
    *,
    offline: bool | None = None,
    accept_changed_data: bool | None = None,
) -> Path:
    """Path of dataset ``key`` in the data directory, downloading it if missing.

    Parameters
    ----------
    key : str
        Catalogue key (see :data:`CATALOGUE`, or ``qpvgeo data``).
    data_dir_ : path, optional
        Data directory (see :func:`data_dir`).
    offline : bool, optional
        Never download (default :data:`qpvgeo.settings.offline`).
    accept_changed_data : bool, optional
        Use a file whose SHA-256 differs from the known one, with a warning
        (default :data:`qpvgeo.settings.accept_changed_data`).

    Raises
    ------
    DataNotFoundError
        The file is missing and cannot be downloaded (offline, or no direct
        download address): the message names the file and where to get it.
    DownloadError
        The download failed or its checksum does not match, or ``checksums.json``
        is malformed.
    ChecksumError
        The file present has not the SHA-256 published or recorded for it.
    """
    ds = dataset(key)
    found = find(key, data_dir_)
    root = data_dir(data_dir_)
    if found is not None:
        _check_integrity(ds, root, found.relative_to(root).as_posix(), accept_changed_data)
        _USED[key] = found
        return found
    offline = settings.offline if offline is None else offline
    if offline or ds.download is None:
        if ds.download and offline:
            how = f"download {ds.download}"
            if ds.unzip_member:
                how += f", extract {ds.unzip_member!r} from the zip"
            elif ds.download.endswith(".gz"):
                how += ", decompress it (gunzip)"
            how += f" (dataset page: {ds.page})"
        else:
            how = f"get it from {ds.page}"
        # a manual download: the same message offline and online
        reason = "offline" if ds.download else "no direct download address, manual download"
        raise DataNotFoundError(
            f"dataset {key!r} ({ds.title}, {ds.publisher}, {ds.vintage}) is missing from the data "
            f"directory {str(root)!r} ({reason}): expected {ds.files[0]!r}"
            + (f" (or {', '.join(repr(f) for f in ds.files[1:])})" if len(ds.files) > 1 else "")
            + f"; {how} and save it there, or point --data-dir / QPVGEO_DATA_DIR at a directory "
            "that holds it" + (f" ({ds.note})" if ds.download is None and ds.note else "")
        )
    path = _download(ds, root)
    _check_integrity(ds, root, ds.files[0], accept_changed_data)
    _USED[key] = path
    return path


def _download(ds: Dataset, root: Path) -> Path:
    import pooch

    target = root / ds.files[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    registry_path = root / REGISTRY
    registry = _read_registry(root)
    rel = ds.files[0]
    known = ds.sha256.get(rel) or registry.get(rel)
    processor = None
    if ds.unzip_member:
        processor = pooch.Unzip(members=[ds.unzip_member], extract_dir=str(target.parent))
    elif ds.download and ds.download.endswith(".gz"):
        processor = pooch.Decompress(method="gzip", name=target.name)
    log.info("downloading %s from %s", ds.key, ds.download)
    try:
        # the SHA-256 is checked below, with a message that says what to do
        result = pooch.retrieve(
            ds.download,
            known_hash=None,
            fname=target.name + (".download" if processor else ""),
            path=target.parent,
            processor=processor,
            progressbar=False,
        )
    except Exception as exc:  # network, HTTP and hash errors from pooch/requests
        raise DownloadError(f"download of dataset {ds.key!r} from {ds.download} failed: {exc}") from exc
    got = Path(result[0] if isinstance(result, list) else result)
    if got != target:
        got.replace(target)
    digest = sha256(target)
    if known and digest != known:
        target.unlink()
        if processor:  # the downloaded archive is of no use either
            Path(target.parent / (target.name + ".download")).unlink(missing_ok=True)
        if rel in ds.sha256:
            fix = (
                f"qpvgeo expects the release {ds.vintage!r}: save that release by hand from "
                f"{ds.page} as {str(target)!r}"
            )
        else:
            fix = (
                f"the publisher may have released a new version: check {ds.page}, then delete the "
                f"entry {rel!r} from {str(registry_path)!r} to accept it"
            )
        raise DownloadError(
            f"dataset {ds.key!r}: the file downloaded from {ds.download} has SHA-256 {digest}, "
            f"expected {known}; it was not kept. {fix}"
        )
    if not known:
        registry[rel] = digest
        tmp = registry_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(registry, indent=1, sort_keys=True))
        tmp.replace(registry_path)
        warnings.warn(
            f"no published checksum for {rel!r} (dataset {ds.key!r}); recorded its SHA-256 "
            f"{digest} in {str(registry_path)!r}: later runs check the file against it",
            category=QpvgeoWarning, stacklevel=3,
        )
    return target


#: file of the data directory recording the SHA-256 of files downloaded without a known one
REGISTRY = "checksums.json"


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _read_registry(root: Path) -> dict[str, str]:
    """``checksums.json`` of the data directory; a clear error when it is not path → hex."""
    path = root / REGISTRY
    if not path.is_file():
        return {}
    fix = "delete it (the checksums are recorded again at the next download)"
    try:
        registry = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DownloadError(
            f"{str(path)!r} is not a valid JSON checksum record ({exc}); {fix}"
        ) from None
    if not isinstance(registry, dict):
        raise DownloadError(
            f"{str(path)!r} is not a valid JSON checksum record: expected an object of "
            f"path → SHA-256, got a JSON {type(registry).__name__}; {fix}"
        )
    bad = [(k, v) for k, v in registry.items() if not (isinstance(v, str) and _HEX64.match(v))]
    if bad:
        raise DownloadError(
            f"{str(path)!r} is not a valid JSON checksum record: {len(bad)} entrie(s) are not a "
            f"64-digit lower-case hex SHA-256 (first: {bad[0][0]!r}: {bad[0][1]!r}); {fix}"
        )
    return registry


_USED: dict[str, Path] = {}
#: integrity of each file read: path → (known SHA-256 or None, actual SHA-256, note or "")
_CHECKED: dict[Path, tuple[str | None, str, str]] = {}
#: SHA-256 of files already hashed, by (path, size, modification time)
_DIGESTS: dict[tuple[str, int, int], str] = {}


def _digest(path: Path) -> str:
    """:func:`sha256`, computed once per version of the file (size and modification time)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256(path)
    return _DIGESTS[key]


def _check_integrity(ds: Dataset, root: Path, rel: str, accept: bool | None) -> None:
    """Compare the file ``root / rel`` of dataset ``ds`` with its published or recorded SHA-256.

    A mismatch raises :class:`ChecksumError` unless ``accept`` (default
    :data:`qpvgeo.settings.accept_changed_data`): then one warning per run says so.
    The result is kept for :func:`used_files`.
    """
    path = root / rel
    accept = settings.accept_changed_data if accept is None else accept
    digest = _digest(path)
    published = ds.sha256.get(rel)
    registry = _read_registry(root)  # a malformed record is an error even when not needed here
    recorded = None if published else registry.get(rel)
    known = published or recorded
    if known is None:
        note = (
            f"no published checksum for {rel!r} (dataset {ds.key!r}); its SHA-256 {digest} "
            "is recorded in the provenance"
        )
        _CHECKED[path] = (None, digest, note)
        log.info(note)
        return
    if digest == known:
        _CHECKED[path] = (known, digest, "")
        return
    where = (
        f"the SHA-256 qpvgeo's catalogue publishes for {ds.vintage!r}"
        if published
        else f"the SHA-256 recorded at its download in {str(root / REGISTRY)!r}"
    )
    if not accept:
        restore = (
            f"restore the file of that release ({ds.download or ds.page})"
            if published
            else f"if the publisher released a new version ({ds.page}), delete the entry {rel!r} "
            f"from {str(root / REGISTRY)!r} to record it again"
        )
        raise ChecksumError(
            f"data file {str(path)!r} (dataset {ds.key!r}) has changed: SHA-256 {digest}, "
            f"expected {known} ({where}); {restore}, or rerun with --accept-changed-data "
            "(library: `qpvgeo.settings.accept_changed_data = True`) to use it as it is, "
            "which the provenance records"
        )
    note = (
        f"data file {rel!r} (dataset {ds.key!r}) differs from {where} (SHA-256 {digest}, "
        f"expected {known}); used as it is (--accept-changed-data)"
    )
    if _CHECKED.get(path, (None, None, ""))[1] != digest:  # once per run and per version
        warnings.warn(note, category=QpvgeoWarning, stacklevel=4)
    _CHECKED[path] = (known, digest, note)


def used_files() -> list[dict]:
    """Datasets read since the last :func:`reset_used`: key, file, SHA-256, vintage, licence.

    ``checksum_ok`` tells whether the file has the SHA-256 that the catalogue
    publishes, else the one recorded at download in ``checksums.json`` (None when
    neither is known); ``checksum_note`` says why when it is not True.
    """
    rows = []
    for key, path in sorted(_USED.items()):
        ds = CATALOGUE[key]
        known, digest, note = _CHECKED.get(path) or (None, sha256(path), "")
        rows.append(
            {
                "dataset": key,
                "file": str(path),
                "sha256": digest,
                "checksum_ok": None if known is None else digest == known,
                "checksum_note": note,
                "publisher": ds.publisher,
                "vintage": ds.vintage,
                "licence": ds.licence,
                "source": ds.download or ds.page,
            }
        )
    return rows


#: OpenStreetMap data read since the last :func:`reset_used` (downloads and the files they saved)
_OSM: dict[str, dict] = {}


def record_osm(what: str, source: str, osm_base: str | None, file: str | None = None) -> None:
    """Record OpenStreetMap data used by the run: what, where from, its OSM base date.

    ``osm_base`` is the ``osm3s.timestamp_osm_base`` of the Overpass answer (the state
    of the OSM database it reflects), kept with the file saved from it.
    """
    check_instance(what, "what", str, "a label such as 'barriers 91'")
    check_instance(source, "source", str, "the server or file the data came from")
    if osm_base is not None:
        check_instance(osm_base, "osm_base", str, "an ISO 8601 date, or None")
    _OSM[what] = {"what": what, "source": source, "osm_base": osm_base, "file": file}


def osm_used() -> list[dict]:
    """The OpenStreetMap data recorded by :func:`record_osm` since the last :func:`reset_used`."""
    return [dict(row) for _, row in sorted(_OSM.items())]


def reset_used() -> None:
    """Forget the datasets read so far, and their checks (start of a run)."""
    _USED.clear()
    _CHECKED.clear()
    _OSM.clear()


#: how ``qpvgeo data`` announces a dataset without a direct download address
MANUAL_DOWNLOAD = "téléchargement manuel"


def status(data_dir_: str | os.PathLike | None = None) -> list[dict]:
    """One row per dataset: present or missing, file, source, licence, vintage.

    ``source`` is the direct download address, or « téléchargement manuel : <page> »
    for a dataset the user saves by hand (see the dataset's ``note``).

    The files qpvgeo saves after a download (:data:`SAVED_FILES`) follow, with
    ``optional`` set and ``present`` telling how many are there.
    """
    rows = []
    for ds in CATALOGUE.values():
        found = find(ds.key, data_dir_)
        rows.append(
            {
                "dataset": ds.key,
                "present": found is not None,
                "file": str(found.relative_to(data_dir(data_dir_))) if found else ds.files[0],
                "publisher": ds.publisher,
                "licence": ds.licence,
                "vintage": ds.vintage,
                "source": ds.download or f"{MANUAL_DOWNLOAD} : {ds.page}",
                "optional": False,
            }
        )
    root = data_dir(data_dir_)
    for key, (pattern, title) in SAVED_FILES.items():
        found = sorted(root.glob(pattern.replace("{dep}", "*").replace("{code_qp}", "*")))
        rows.append(
            {
                "dataset": key,
                "present": len(found),
                "file": pattern,
                "publisher": "OpenStreetMap contributors",
                "licence": "ODbL 1.0",
                "vintage": "the day of the download",
                "source": f"{title}; saved by `qpvgeo run` on a connected machine",
                "optional": True,
            }
        )
    return rows


def cache_dir() -> Path:
    """Where qpvgeo keeps what it can rebuild (compiled networks): see :data:`qpvgeo.settings.cache_dir`."""
    chosen = settings.cache_dir or os.environ.get("QPVGEO_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "qpvgeo"


def osmnx_cache_dir(data_dir_: str | os.PathLike | None = None) -> Path:
    """osmnx's HTTP cache, kept inside the data directory."""
    return data_dir(data_dir_) / "osmnx_cache"
