"""The OSM extracts of a run: read once, a walk network cut for each QPV, barrier lines.

The extracts are those given (``qpvgeo run --osm-extract FILE``, ``run(...,
osm_extracts=[...])``) and those of the data directory's ``osm/`` folder
(:func:`qpvgeo.data.osm_extract.find_extracts`). Each is read in one pass for
the area the run needs (:func:`qpvgeo.data.osm_extract.read_extract`). A QPV
inside an extract's extent gets the walk network cut from it around the QPV
(:data:`~qpvgeo.pipeline.networks.NETWORK_BUFFER_M`), as osmnx would download
it (:func:`qpvgeo.network.extract.walk_graph_from_extract`); compiled networks
are cached, keyed by the extract's SHA-256 and the polygon.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import warnings
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import geopandas as gpd
import shapely

from .. import __version__, settings
from .._errors import NetworkError, QpvgeoWarning
from ..data import osm_extract, sources
from ..data.osm_extract import ExtractData
from ..network.build import WalkNetwork, compile_network
from ..network.extract import OSMNX_QUERY_BUFFER_M, walk_graph_from_extract

log = logging.getLogger(__name__)

#: an extract serves a QPV when its extent holds at least this share of the QPV's area
#: (qpvgeo's choice: a QPV on the extract's border gets a network cut off at the border, and the
#: resident coverage then says « partiel »; below it the QPV is left to the other sources)
MIN_EXTRACT_SHARE = 0.5
#: barrier lines are read this far around the département (as :func:`qpvgeo.data.barriers.load_barriers`)
BARRIER_RING_M = 2000.0


@dataclass
class RunExtracts:
    """The extracts of a run, as read for its area."""

    data: list[ExtractData] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.data)

    def records(self) -> list[dict]:
        """Provenance of each extract: file, SHA-256, OSM date and where it comes from."""
        return [d.extract.record() for d in self.data]

    def label_fr(self) -> str:
        """« OSM au 08/01/2026 » (several dates joined), or "" without extract."""
        return ", ".join(dict.fromkeys(d.extract.label_fr for d in self.data))

    def covering(self, geom: shapely.Geometry) -> ExtractData | None:
        """The extract whose extent holds most of ``geom`` (EPSG:2154), if at least
        :data:`MIN_EXTRACT_SHARE` of it."""
        best, best_share = None, 0.0
        for data in self.data:
            share = geom.intersection(data.extent).area / geom.area if geom.area > 0 else 0.0
            if share > best_share:
                best, best_share = data, share
        return best if best_share >= MIN_EXTRACT_SHARE else None


def extract_paths(
    given: list[str | PathLike] | None, data_dir: str | PathLike | None
) -> list[Path]:
    """The extracts given, then those of the data directory's ``osm/`` folder, each once."""
    out: dict[Path, None] = {}
    for path in given or []:
        out[osm_extract.checked_path(path)] = None
    for path in osm_extract.find_extracts(data_dir):
        out.setdefault(path.resolve(), None)
    return list(out)


def read_run_extracts(
    paths: list[Path], zones: gpd.GeoDataFrame, dep_outline: shapely.Geometry, buffer_m: float
) -> RunExtracts:
    """Read each extract once: walkable ways around the ``zones`` (QPV or perimeters, EPSG:2154)
    within ``buffer_m`` and osmnx's query margin, barrier lines around the département."""
    walk_area = shapely.union_all(
        zones.geometry.buffer(buffer_m + OSMNX_QUERY_BUFFER_M + 50).values
    )
    barrier_area = dep_outline.buffer(BARRIER_RING_M)
    out = RunExtracts()
    for path in paths:
        extract = osm_extract.open_extract(path)
        out.data.append(osm_extract.read_extract(extract, walk_area, barrier_area=barrier_area))
    return out


def write_network_cache(net: WalkNetwork, cached: Path) -> None:
    """Save a compiled network in the cache, atomically; a cache that cannot be written
    (a read-only home) is skipped: the next run compiles again, with the same result."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(net, protocol=5))
        os.replace(tmp, cached)
    except OSError as exc:
        log.debug("network cache not written (%s)", exc)


def extract_network(data: ExtractData, code: str, area: shapely.Geometry) -> WalkNetwork:
    """The walk network of ``area`` (EPSG:2154) cut from an extract, through the cache.

    Named « <extract file> [<code>] ». Raises :class:`~qpvgeo.NetworkError` when the
    extract holds no walkable street there.
    """
    name = f"{data.extract.name} [{code}]"
    digest = hashlib.sha256(shapely.to_wkb(area, output_dimension=2)).hexdigest()[:16]
    key = f"extract-{data.extract.sha256[:32]}-{digest}-{__version__}.pickle"
    cached = sources.cache_dir() / "networks" / key
    if cached.is_file():
        try:
            net = pickle.loads(cached.read_bytes())
            if isinstance(net, WalkNetwork):
                net.name = name
                return net
        except Exception as exc:  # a truncated or foreign file: cut again
            log.debug("extract network cache %s unreadable (%s)", cached, exc)
    poly_wgs = gpd.GeoSeries([area], crs=settings.crs).to_crs(4326).iloc[0]
    G = walk_graph_from_extract(data, poly_wgs)
    net = compile_network(G, name=name, kind="walk")
    write_network_cache(net, cached)
    return net


def qpv_extract_network(
    extracts: RunExtracts, code: str, geom: shapely.Geometry, buffer_m: float
) -> tuple[ExtractData | None, WalkNetwork | None]:
    """The extract covering a QPV and the walk network cut from it (None when it holds no
    walkable street there: the QPV then has no network, said in a note, never another kind)."""
    data = extracts.covering(geom)
    if data is None:
        return None, None
    try:
        return data, extract_network(data, code, geom.buffer(buffer_m))
    except NetworkError as exc:
        warnings.warn(
            f"QPV {code}: {exc}; no street network (non évalué)",
            category=QpvgeoWarning, stacklevel=2,
        )  # fmt: skip
        return data, None
