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
from dataclasses import dataclass, field
from pathlib import Path

from .. import settings
from .._errors import ChecksumError, DataNotFoundError, DownloadError, QpvgeoWarning

log = logging.getLogger(__name__)

OSM_ATTRIBUTION = "© les contributeurs d'OpenStreetMap (ODbL)"


@dataclass(frozen=True)
class Dataset:
    """One official dataset.

    Attributes
    ----------
    key : str
        Short name used in code and on the command line.
    title, publisher, licence, vintage : str
    page : str
        Official page of the dataset.
    files : tuple of str
        Paths (relative to the data directory) the dataset may have; the first
        present is used. The first one is where a download is saved.
    download : str or None
        Direct download address of the first file, if the publisher has one;
        otherwise the user saves the file by hand from ``page``.
    unzip_member : str or None
        Member to extract when ``download`` is a zip archive.
    sha256 : dict
        Known SHA-256 of files of the reference layout.
    attribution : str
        Credit line to show on maps.
    note : str
        Caveats worth knowing.
    """

    key: str
    title: str
    publisher: str
    licence: str
    vintage: str
    page: str
    files: tuple[str, ...]
    download: str | None = None
    unzip_member: str | None = None
    sha256: dict[str, str] = field(default_factory=dict)
    attribution: str = ""
    note: str = ""


_LO = "Licence Ouverte 2.0 (Etalab)"

CATALOGUE: dict[str, Dataset] = {
    d.key: d
    for d in [
        Dataset(
            key="qpv",
            title="Quartiers prioritaires de la politique de la ville (QPV) 2024, périmètres",
            publisher="ANCT",
            licence=_LO,
            vintage="QPV 2024 (décret 2023-1314)",
            page="https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/",
            files=(
                "qpv/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson",
                "qpv/qpv2024_idf.geojson",
                "qpv/qpv2024_essonne_91.geojson",
            ),
            download="https://static.data.gouv.fr/resources/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/20260115-204323/qpv-2024-geojson.zip",
            unzip_member="QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson",
            sha256={
                "qpv/qpv2024_idf.geojson": "df3beff071e1b848fe76f6bd0a566076babbcc32045cbed598e3c61f5ffdca02",
                "qpv/qpv2024_essonne_91.geojson": "fefe020df58311025dd83c6ecbdea5229a624a8bb8d1c6c13d8e3444b16e3738",
            },
            attribution="Source : ANCT",
            note="Regional or départemental extracts of the national file are read the same way.",
        ),
        Dataset(
            key="communes",
            title="Contours administratifs des communes (2024, simplifiés 100 m)",
            publisher="Etalab, d'après IGN ADMIN EXPRESS",
            licence=_LO,
            vintage="2024",
            page="https://etalab-datasets.geo.data.gouv.fr/contours-administratifs/2024/geojson/",
            files=(
                "admin/communes-100m.geojson",
                "admin/communes_idf_2024_etalab100m.geojson",
                "admin/communes_essonne_91_2024_etalab100m.geojson",
            ),
            download="https://etalab-datasets.geo.data.gouv.fr/contours-administratifs/2024/geojson/communes-100m.geojson.gz",
            sha256={
                "admin/communes_idf_2024_etalab100m.geojson": "4c95ccc5a223ed60330bd6dfd56e5429b8f56e99b1420fe6b05d607cfb655b6f",
                "admin/communes_essonne_91_2024_etalab100m.geojson": "0bcd556051634d9789376ee7f697dc8104574dfe286b9d8cdfaa13e0ff40b0d8",
            },
            attribution="Etalab / IGN",
        ),
        Dataset(
            key="iris",
            title="Contours IRIS",
            publisher="IGN / INSEE",
            licence=_LO,
            vintage="IRIS geography after the 2019 mergers",
            page="https://geoservices.ign.fr/contoursiris",
            files=("admin/iris_idf.geojson", "admin/iris_essonne_91.geojson"),
            sha256={
                "admin/iris_idf.geojson": "4077f3668a8b3329206b624e5917925f6b2c89ded4ad2a10ad7dc9309abbdf29",
                "admin/iris_essonne_91.geojson": "85265a1740b5342d1de93d8158c5ed67f6ea161eeb92ef20305f76d60fd25e4e",
            },
            attribution="IGN / INSEE",
            note="IGN publishes 7z archives of shapefiles: convert the layer to GeoJSON or GeoPackage "
            "(columns CODE_IRIS, NOM_IRIS, INSEE_COM, TYP_IRIS are understood).",
        ),
        Dataset(
            key="iris_population",
            title="Recensement de la population 2021, base infracommunale (IRIS), population",
            publisher="INSEE",
            licence=_LO,
            vintage="RP 2021",
            page="https://www.insee.fr/fr/statistiques/8268806",
            files=("insee/base-ic-evol-struct-pop-2021.csv", "insee/iris_91_population_logement_rp2021.csv"),
            sha256={
                "insee/iris_91_population_logement_rp2021.csv": "f9faca76f69ad5b106bfcc68d4f4b72ebe08dbf653af17651cd8583ed4aaa039",
            },
            attribution="INSEE, RP 2021",
            note="The official file (';'-separated, columns IRIS and P21_POP) is read as well.",
        ),
        Dataset(
            key="qpv_figures",
            title="Chiffres clés des QPV 2024 (population, ménages, pauvreté, emploi, CAF)",
            publisher="ANCT (SIG Ville), d'après INSEE (RP, Filosofi) et CNAF",
            licence=_LO,
            vintage="QPV 2024: population municipale 2020, taux de pauvreté Filosofi 2021",
            page="https://sig.ville.gouv.fr/",
            files=(
                "insee/qpv2024_chiffres_cles_sigville_france.csv",
                "insee/qpv2024_chiffres_cles.csv",
            ),
            sha256={
                "insee/qpv2024_chiffres_cles_sigville_france.csv": "b15d170da9df61e4bd3fed9c0df14e94b0f12436c2411285e837effc2386d731",
            },
            attribution="ANCT, SIG Ville",
            note=(
                "Manual download: export the key figures of the QPV 2024 from SIG Ville "
                "(one row per QPV: code_qp, popMuniQPV, nombre_menages, partMen1p…partMen6pp, "
                "taux_d_emploi, taux_pauvrete_60%) and save it under the first file name. "
                "Figures under statistical secrecy are empty."
            ),
        ),
        Dataset(
            key="iris_income",
            title="Filosofi 2021, revenus déclarés par IRIS",
            publisher="INSEE",
            licence=_LO,
            vintage="Filosofi 2021",
            page="https://www.insee.fr/fr/statistiques/8229323",
            files=("insee/BASE_TD_FILO_IRIS_2021_DEC.csv", "insee/filosofi2021_iris_91_revenus_declares.csv"),
            sha256={
                "insee/filosofi2021_iris_91_revenus_declares.csv": "f530239dd40635103fdd5454b0c536521b77f192a9627e1f71dfe97a141eabb8",
            },
            attribution="INSEE, Filosofi 2021",
            note="Only IRIS of communes split into IRIS and outside statistical secrecy.",
        ),
        Dataset(
            key="bpe",
            title="Base permanente des équipements (BPE) 2024",
            publisher="INSEE",
            licence=_LO,
            vintage="BPE 2024 (codes 2024; 2021 codes also read)",
            page="https://www.insee.fr/fr/statistiques/8217537",
            files=(
                "insee/BPE24.csv",
                "insee/bpe2024_essonne_equipements_selection.csv",
            ),
            sha256={
                "insee/bpe2024_essonne_equipements_selection.csv": "a6f21473680fe597804ad5a57f2fa2865070d64645bbcf0029dd3b0ce568bcf2",
            },
            attribution="INSEE, BPE 2024",
            note="The official BPE24.csv is ';'-separated with TYPEQU, DEPCOM, LAMBERT_X, LAMBERT_Y.",
        ),
        Dataset(
            key="bpe_ring",
            title="BPE 2024, equipments of neighbouring départements near the border",
            publisher="INSEE",
            licence=_LO,
            vintage="BPE 2024",
            page="https://www.insee.fr/fr/statistiques/8217537",
            files=("insee/bpe2024_idf_hors91_tampon3km_equipements_selection.csv",),
            sha256={
                "insee/bpe2024_idf_hors91_tampon3km_equipements_selection.csv": "0f53023d41bdfec88c30f7f651b8eb8f3afaec007a46af2b9a439b783d942059",
            },
            attribution="INSEE, BPE 2024",
            note="Not needed with the national BPE24.csv, which holds every département.",
        ),
        Dataset(
            key="bpe_gammes",
            title="Gammes d'équipements de la BPE (2021): proximité, intermédiaire, supérieure",
            publisher="INSEE",
            licence=_LO,
            vintage="BPE 2021",
            page="https://www.insee.fr/fr/metadonnees/source/serie/s1161",
            files=("insee/bpe_gammes_2021_par_typequ.csv",),
            sha256={
                "insee/bpe_gammes_2021_par_typequ.csv": "03ffc7ef043a46232c42bf753a76a07573feb682e7b7a9e5a64a2f309840723c",
            },
            attribution="INSEE",
        ),
        Dataset(
            key="stations",
            title="Emplacement des gares IDF",
            publisher="Île-de-France Mobilités",
            licence=_LO,
            vintage="2025",
            page="https://data.iledefrance-mobilites.fr/explore/dataset/emplacement-des-gares-idf/",
            files=(
                "osm/emplacement-des-gares-idf.geojson",
                "osm/idf_emplacement-des-gares-idf_idfm_2025-07.geojson",
            ),
            download="https://data.iledefrance-mobilites.fr/api/explore/v2.1/catalog/datasets/emplacement-des-gares-idf/exports/geojson",
            sha256={
                "osm/idf_emplacement-des-gares-idf_idfm_2025-07.geojson": "91c8ec5a0c2768c79c68d18ab24e192bcf091d27d27cba591141fc6a41bb12ef",
            },
            attribution="Île-de-France Mobilités",
        ),
        Dataset(
            key="network_saclay",
            title="OSM street network, Saclay – Les Ulis – western Massy (drive)",
            publisher="OpenStreetMap contributors, via osmnx",
            licence="ODbL 1.0",
            vintage="about 2025-12",
            page="https://www.openstreetmap.org/copyright",
            files=("osm/essonne_saclay-lesulis-massyW_drive_osmnx_2025-12.graphml",),
            sha256={
                "osm/essonne_saclay-lesulis-massyW_drive_osmnx_2025-12.graphml": "19bc63275bb811536c2ceb94701b3fff6d888b9b65ddf964c2e1571b1f481837",
            },
            attribution=OSM_ATTRIBUTION,
            note="A drive network: no footways. On a connected machine qpvgeo downloads walk networks instead.",
        ),
        Dataset(
            key="network_etampes",
            title="OSM street network, Étampes (drive, via SUMO)",
            publisher="OpenStreetMap contributors",
            licence="ODbL 1.0",
            vintage="about 2025-04",
            page="https://www.openstreetmap.org/copyright",
            files=("osm/essonne_etampes_drive_from-sumo_2025-04.graphml",),
            sha256={
                "osm/essonne_etampes_drive_from-sumo_2025-04.graphml": "d468589c67fd64722991ba9f525e62c1d5f5e26081894cbc1733c2bd08ca26ce",
            },
            attribution=OSM_ATTRIBUTION,
            note="A drive network: no footways.",
        ),
        Dataset(
            key="osm_palaiseau",
            title="Raw OSM extract, Palaiseau – Orsay – Saclay plateau",
            publisher="OpenStreetMap contributors",
            licence="ODbL 1.0",
            vintage="2026-01-08",
            page="https://www.openstreetmap.org/copyright",
            files=("osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2",),
            sha256={
                "osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2": "3a23b4b2e2cf2367c6289536baaf0c3b05d5a65d7452bf884bd863e18e75d8c7",
            },
            attribution=OSM_ATTRIBUTION,
            note="Holds footways (a real walk network) but no QPV.",
        ),
        Dataset(
            key="rail_lines",
            title="Traces du réseau ferré IDF (RER, Transilien, TER, tram)",
            publisher="Île-de-France Mobilités",
            licence=_LO,
            vintage="2024",
            page="https://data.iledefrance-mobilites.fr/explore/dataset/traces-du-reseau-ferre-idf/",
            files=(
                "barriers/traces-du-reseau-ferre-idf.geojson",
                "barriers/idf-rail_traces-reseau-ferre_idfm_2024_essonne-2km.geojson",
            ),
            download="https://data.iledefrance-mobilites.fr/api/explore/v2.1/catalog/datasets/traces-du-reseau-ferre-idf/exports/geojson",
            sha256={
                "barriers/idf-rail_traces-reseau-ferre_idfm_2024_essonne-2km.geojson": "50abb8980f7bb02eaaf2be4c4f2da603cf88352e53d885118e8eee8e2c98cabe",
            },
            attribution="Île-de-France Mobilités",
            note="Passenger lines only: no freight-only lines, no high-speed lines.",
        ),
        Dataset(
            key="seine",
            title="The Seine (OSM navigable waterway), centre line",
            publisher="OpenStreetMap contributors",
            licence="ODbL 1.0",
            vintage="about 2026-03",
            page="https://www.openstreetmap.org/copyright",
            files=("barriers/idf-waterway_seine_osm-navigable-network_2026-03_essonne-2km.geojson",),
            sha256={
                "barriers/idf-waterway_seine_osm-navigable-network_2026-03_essonne-2km.geojson": "c796158f2e22a1e546fa606275b2f28902c5e7a6935d0e98b765cc7293659114",
            },
            attribution=OSM_ATTRIBUTION,
            note="Only the Seine; generalised (vertices ~130 m apart).",
        ),
    ]
}

#: datasets holding a street network, tried in this order for a QPV
NETWORK_DATASETS = ("network_saclay", "network_etampes", "osm_palaiseau")


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
    except KeyError:
        raise DataNotFoundError(
            f"unknown dataset {key!r}; known datasets: {', '.join(sorted(CATALOGUE))}"
        ) from None


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in chunks."""
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
        reason = "offline" if offline else "no direct download address"
        raise DataNotFoundError(
            f"dataset {key!r} ({ds.title}, {ds.publisher}, {ds.vintage}) is missing from the data "
            f"directory {str(root)!r} ({reason}): expected {ds.files[0]!r}"
            + (f" (or {', '.join(repr(f) for f in ds.files[1:])})" if len(ds.files) > 1 else "")
            + f"; {how} and save it there, or point --data-dir / QPVGEO_DATA_DIR at a directory "
            "that holds it"
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


def reset_used() -> None:
    """Forget the datasets read so far, and their checks (start of a run)."""
    _USED.clear()
    _CHECKED.clear()


#: files qpvgeo saves in the data directory after a download; optional: without them, what they
#: hold is downloaded on a connected machine, or reported as not assessed offline
SAVED_FILES: dict[str, tuple[str, str]] = {
    "osm_barriers": (
        "barriers/osm_barriers_{dep}.gpkg",
        "OpenStreetMap motorways, trunk roads, rivers and canals around the département (barriers)",
    ),
    "osm_walk_networks": (
        "osm/walk/{code_qp}.graphml",
        "OpenStreetMap walk network around each QPV (downloaded with osmnx)",
    ),
}


def status(data_dir_: str | os.PathLike | None = None) -> list[dict]:
    """One row per dataset: present or missing, file, source, licence, vintage.

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
                "source": ds.download or ds.page,
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
