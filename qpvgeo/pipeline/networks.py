"""Stage 2: the street network of each QPV, and how well it covers it."""

from __future__ import annotations

import logging
import pickle
import warnings
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd
from tqdm import tqdm

from .. import __version__, settings
from .._errors import QpvgeoWarning
from .._validate import check_frame
from ..data import sources
from ..network.build import WalkNetwork, load_network, resident_coverage, walk_graph_from_polygon
from ..network.overpass import call_overpass
from .extracts import RunExtracts, qpv_extract_network, write_network_cache

log = logging.getLogger(__name__)

COVERED = "couvert"
PARTIAL = "partiel"
NONE = "absent"

#: a QPV is "covered" when at least this share of its residents reach a street of the network
#: within the snap distance (qpvgeo's choice). Below it the QPV is "partiel": access, flows and
#: coupling are computed for the residents the network reaches only (``network_scope`` says so),
#: enclavement (crossings, street structure) is not computed, and the viability reading leaves
#: the network components out, as for a QPV without a network.
COVERED_SHARE = 0.95
#: walk networks are fetched this far around each QPV (15 min at 4.5 km/h, plus a margin)
NETWORK_BUFFER_M = 1500.0


#: what the network indicators of a QPV describe, per network status (French, shown to users)
SCOPE = {
    COVERED: "tous les habitants",
    PARTIAL: "habitants desservis seulement ({pct:.0f} %)",
    NONE: "non évalué (pas de réseau de rues)",
}
#: the scope of a QPV whose data directory holds street networks, none reaching its residents
UNREACHED_SCOPE = "non évalué (le fichier de réseau de rues du quartier n'atteint pas ses habitants)"


def walk_network_file(code_qp: str) -> str:
    """Where the walk network of a QPV is saved in the data directory."""
    return sources.SAVED_FILES["osm_walk_networks"][0].format(code_qp=code_qp)


@dataclass
class QpvNetworks:
    """The network chosen for each QPV and how well it covers it."""

    networks: dict[str, WalkNetwork] = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: QPV without a network although network files were there: the files that reach none of
    #: its residents (a file of another place, or a QPV's own file saved for the wrong QPV)
    unreached: dict[str, list[str]] = field(default_factory=dict)

    def groups(self, codes) -> dict[str, list[str]]:
        """The QPV among ``codes`` that have a network (covered or partly), grouped by network name."""
        out: dict[str, list[str]] = {}
        for code in codes:
            name = self.table.at[code, "network_source"]
            if isinstance(name, str):
                out.setdefault(name, []).append(code)
        return out

    def network_of(self, code_qp: str) -> WalkNetwork | None:
        """The network of the QPV (covering it fully or partly), or None."""
        name = self.table.at[code_qp, "network_source"]
        return self.networks.get(name) if isinstance(name, str) else None


def build_networks(
    qpv: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    *,
    data_dir: str | PathLike | None = None,
    offline: bool | None = None,
    extracts: RunExtracts | None = None,
) -> QpvNetworks:
    """Find a street network for each QPV.

    In order: the walk network cut from an OSM extract whose extent holds the
    QPV (``extracts``, :mod:`qpvgeo.pipeline.extracts`; no other source is then
    tried for that QPV); a walk network saved for the QPV in the data directory
    (``osm/walk/<code_qp>.graphml``); on a connected machine, the OSM walk
    network downloaded with osmnx around the QPV (and saved there, with the
    OSM date of the answer, for next time); offline, the network files of
    the data directory (see :data:`qpvgeo.sources.NETWORK_DATASETS`),
    choosing the one that reaches most of the QPV's residents (``origins``,
    :func:`qpvgeo.network.build.resident_coverage`).

    A failed download stops the run with one :class:`~qpvgeo.DownloadError`
    naming the QPV and what to do (:mod:`qpvgeo.network.overpass`): it never
    falls back to another kind of network. The networks already downloaded
    are saved, so running again resumes where it stopped.

    Returns
    -------
    QpvNetworks
        ``table`` indexed by ``code_qp``: ``network_source`` (file name or
        NaN), ``network_kind`` (walk/drive), ``network_osm_date`` (date of the
        OSM data of a downloaded walk network, ``AAAA-MM-JJ``, else None),
        ``network_coverage_pct`` (share of
        the QPV's residents within the snap distance of a street of the
        network) and ``network_status``: ``couvert`` (≥ 95 %), ``partiel``
        (network indicators left empty) or ``absent``.
    """
    check_frame(qpv, "qpv")
    check_frame(origins, "origins", columns=("code_qp", "population"))
    offline = settings.offline if offline is None else offline
    root = sources.data_dir(data_dir)
    result = QpvNetworks()
    shared: dict[str, WalkNetwork] = {}
    for key in sources.NETWORK_DATASETS if offline else ():  # online: a walk network per QPV
        path = sources.find(key, data_dir)
        if path is not None:
            sources.fetch(key, data_dir)  # recorded in the provenance
            shared[path.name] = load_network_cached(path)
    rows, outside = {}, []
    for code, geom in tqdm(
        list(zip(qpv.index, qpv.geometry, strict=True)), desc="réseaux", leave=False, disable=None
    ):
        source, cut = qpv_extract_network(extracts, code, geom, NETWORK_BUFFER_M) if extracts else (None, None)
        own, fresh = root / walk_network_file(code), False
        if source is not None:  # the extract's walk network, or none: never another kind
            candidates, osm_date = ({cut.name: cut} if cut is not None else {}), source.extract.date_iso
        else:
            outside += [code] if extracts else []
            if not own.is_file() and not offline:
                _download_walk_network(code, geom, own)
                fresh = own.is_file()  # fetched around this QPV now: OSM has no street near them
            candidates, osm_date = dict(shared), None
        if source is None and own.is_file():
            candidates = {own.name: load_network_cached(own, kind="walk")}
            osm_date = _record_osm_date(code, own, candidates[own.name])
        best, best_share = None, 0.0
        mine = origins[origins["code_qp"] == code]
        for name, net in candidates.items():
            share = float(resident_coverage(net, mine).get(code, 0.0))
            if share > best_share:
                best, best_share = name, share
        if best is not None:
            result.networks[best] = candidates[best]
        elif candidates and not fresh:  # files of the data directory made for other places
            result.unreached[code] = sorted(candidates)
        status = NONE if best is None else COVERED if best_share >= COVERED_SHARE else PARTIAL
        # its own file made for another place; outside the shared files it simply has none
        scope = UNREACHED_SCOPE if result.unreached.get(code) == [own.name] else SCOPE[status]
        rows[code] = {
            "network_source": best,
            "network_kind": candidates[best].kind if best else None,
            "network_osm_date": osm_date if best else None,
            "network_coverage_pct": round(100 * best_share, 1),
            "network_status": status,
            "network_scope": scope.format(pct=100 * best_share),
        }
    if outside:
        names = ", ".join(d.extract.name for d in extracts.data)
        warnings.warn(
            f"{len(outside)} QPV lie outside the OSM extract(s) {names}: {', '.join(outside)}; "
            "their street network comes from the other sources (network_source, network_kind)",
            category=QpvgeoWarning, stacklevel=2,
        )  # fmt: skip
    result.table = pd.DataFrame.from_dict(rows, orient="index")
    result.table.index.name = "code_qp"
    return result


def load_network_cached(path: Path, *, kind: str | None = None) -> WalkNetwork:
    """:func:`~qpvgeo.network.build.load_network`, through a cache of compiled networks.

    The cache (:func:`qpvgeo.data.sources.cache_dir`) is keyed by the file's
    SHA-256, the network kind and qpvgeo's version, so a changed file or a new
    qpvgeo compiles again. A cache that cannot be read or written is skipped
    (with a note when unreadable): the network is then compiled from the file.
    """
    key = f"{sources.sha256(path)[:40]}-{kind or 'auto'}-{__version__}.pickle"
    cached = sources.cache_dir() / "networks" / key
    if cached.is_file():
        try:
            net = pickle.loads(cached.read_bytes())
            if isinstance(net, WalkNetwork):
                return net
        except Exception as exc:  # a truncated or foreign file: compile again
            warnings.warn(
                f"compiled-network cache {str(cached)!r} unreadable ({type(exc).__name__}); "
                "compiling the network again", category=QpvgeoWarning, stacklevel=2,
            )  # fmt: skip
    net = load_network(path, kind=kind)
    write_network_cache(net, cached)
    return net


#: what to do when the walk network of a QPV cannot be downloaded (completed with its code)
DOWNLOAD_FIX = (
    "read the streets from a dated OpenStreetMap extract instead (qpvgeo run --osm-extract FILE, "
    "e.g. the Geofabrik Île-de-France .osm.pbf), or save a walk network of the QPV as "
    "{file!r} in the data directory, or run with --offline (the QPV without a network are "
    "then reported « non évalué »)"
)


def _download_walk_network(code: str, geom, target: Path) -> None:
    """Download the OSM walk network around a QPV and save it (GraphML, with its OSM date)."""
    import osmnx as ox

    area = geom.buffer(NETWORK_BUFFER_M)
    G, osm_base = call_overpass(
        lambda: walk_graph_from_polygon(area),
        f"the OpenStreetMap walk network of QPV {code}",
        fix=DOWNLOAD_FIX.format(file=walk_network_file(code)),
    )
    G.graph["osm_base"] = osm_base or ""
    G.graph["osm_source"] = f"Overpass API {ox.settings.overpass_url}"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.graphml")
    ox.save_graphml(G, tmp)
    tmp.replace(target)


def _record_osm_date(code: str, path: Path, net: WalkNetwork) -> str | None:
    """Record the OSM date of a saved walk network in the provenance; the date (AAAA-MM-JJ)."""
    stamp = str(net.graph.graph.get("osm_base") or "") or None
    source = str(net.graph.graph.get("osm_source") or "") or "saved file"
    sources.record_osm(f"walk network {code}", source, stamp, str(path))
    return stamp[:10] if stamp else None
