"""The street network: building it and putting points on it
(:mod:`~qpvgeo.network.build`), exact shortest-path kernels
(:mod:`~qpvgeo.network.engine`), localised centrality
(:mod:`~qpvgeo.network.centrality`) and isochrones
(:mod:`~qpvgeo.network.isochrones`).

The names of :mod:`~qpvgeo.network.build` are available here too
(``qpvgeo.network.load_network``), as before the package was split.
"""

from . import build, centrality, engine, isochrones
from .build import (
    WalkNetwork,
    compile_network,
    coverage_share,
    grid_network,
    load_network,
    metres_per_minute,
    resident_coverage,
    snap_points,
    walk_graph_from_polygon,
    walk_graph_from_xml,
)

__all__ = [
    "WalkNetwork",
    "build",
    "centrality",
    "compile_network",
    "coverage_share",
    "engine",
    "grid_network",
    "isochrones",
    "load_network",
    "resident_coverage",
    "metres_per_minute",
    "snap_points",
    "walk_graph_from_polygon",
    "walk_graph_from_xml",
]
