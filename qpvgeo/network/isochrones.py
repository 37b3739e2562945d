"""Walking isochrones built from the street segments actually reached.

An isochrone of *t* minutes from a set of points is the union of the parts of
street edges reachable within *t* minutes, buffered by a short distance
(default 25 m, the depth of a street frontage). Unlike a convex hull, it does
not cross railways or blocks no street goes through.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy import sparse
from scipy.sparse import csgraph

from .. import settings
from .._errors import ValidationError, plain
from .._validate import check_frame, check_network, check_number
from .build import WalkNetwork


def node_distances(
    net: WalkNetwork, edge: np.ndarray, offset_m: np.ndarray, *, limit_m: float = np.inf
) -> np.ndarray:
    """Network distance (m) from the nearest of several points on edges to every node.

    A virtual source joined to both end nodes of each point's edge (with the
    costs ``offset`` and ``length - offset``) makes this one multi-source
    Dijkstra search (:func:`scipy.sparse.csgraph.dijkstra`). Unreached: inf.
    """
    check_network(net, "net")
    limit_m = check_number(limit_m, "limit_m", low=0, allow_inf=True, unit="metres")
    edge = np.asarray(edge, dtype=np.int64)
    offset_m = np.asarray(offset_m, dtype=float)
    on = edge >= 0
    n = net.n_nodes
    if not on.any():
        return np.full(n, np.inf)
    e, t = edge[on], offset_m[on]
    cols = np.concatenate([net.edge_u[e], net.edge_v[e]])
    costs = np.concatenate([t, net.edge_length[e] - t])
    costs = np.maximum(costs, 1e-9)  # csgraph drops explicit zeros
    extra = sparse.csr_array((costs, (np.full(len(cols), n), cols)), shape=(n + 1, n + 1))
    csr = net.csr
    base = sparse.csr_array(
        (csr.data, csr.indices, np.append(csr.indptr, csr.indptr[-1])), shape=(n + 1, n + 1)
    )
    graph = sparse.csr_array(base + extra)
    dist = csgraph.dijkstra(graph, directed=True, indices=n, limit=limit_m)
    return dist[:n]


def reached_segments(
    net: WalkNetwork, node_dist: np.ndarray, reach_m: float
) -> list[shapely.LineString]:
    """Parts of each edge within ``reach_m`` of the sources, given node distances."""
    check_network(net, "net")
    reach_m = check_number(reach_m, "reach_m", low=0, allow_inf=True, unit="metres")
    du = node_dist[net.edge_u]
    dv = node_dist[net.edge_v]
    length = net.edge_length
    from_u = np.clip(reach_m - du, 0.0, None)
    from_v = np.clip(reach_m - dv, 0.0, None)
    parts = []
    for i in np.flatnonzero((from_u > 0) | (from_v > 0)):
        geom = net.edge_geometry[i]
        scale = geom.length / length[i]
        if from_u[i] + from_v[i] >= length[i]:
            parts.append(geom)
            continue
        if from_u[i] > 0:
            parts.append(shapely.ops.substring(geom, 0.0, from_u[i] * scale))
        if from_v[i] > 0:
            parts.append(shapely.ops.substring(geom, geom.length - from_v[i] * scale, geom.length))
    return parts


def isochrones(
    net: WalkNetwork,
    points: pd.DataFrame,
    *,
    minutes: tuple[float, ...] | None = None,
    walk_speed_kmh: float | None = None,
    frontage_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """Isochrone polygons of several durations from a set of snapped points.

    Parameters
    ----------
    net : WalkNetwork
    points : DataFrame
        Output of :func:`qpvgeo.network.snap_points` (``edge``, ``offset_m``).
    minutes : tuple of float
        Durations (default :data:`qpvgeo.settings.time_thresholds_min`).
    frontage_m : float
        Buffer around reached segments.

    Returns
    -------
    GeoDataFrame
        One row per duration: ``minutes``, ``reach_m`` and the polygon (empty
        when no point is on the network).
    """
    check_network(net, "net")
    check_frame(points, "points", columns=("edge", "offset_m"), geo=False)
    frontage_m = check_number(frontage_m, "frontage_m", low=0, low_open=True, high=1000, unit="metres")
    from .build import metres_per_minute

    minutes = settings.time_thresholds_min if minutes is None else minutes
    minutes = tuple([minutes] if np.isscalar(minutes) else minutes)
    if not minutes:
        raise ValidationError(f"`minutes` must be positive durations, got {plain(minutes)!r}")
    for m in minutes:
        check_number(m, "minutes", low=0, low_open=True, unit="minutes")
    speed = metres_per_minute(walk_speed_kmh)
    reach = [m * speed for m in minutes]
    dist = node_distances(
        net, points["edge"].to_numpy(), points["offset_m"].to_numpy(), limit_m=max(reach)
    )
    on = points["edge"].to_numpy() >= 0
    own_edge = points["edge"].to_numpy()[on]
    own_off = points["offset_m"].to_numpy()[on]
    polys = []
    for r in reach:
        segs = reached_segments(net, dist, r)
        for e, t in zip(own_edge, own_off, strict=True):  # along the points' own edges
            geom = net.edge_geometry[e]
            scale = geom.length / net.edge_length[e]
            segs.append(
                shapely.ops.substring(
                    geom, max(0.0, t - r) * scale, min(net.edge_length[e], t + r) * scale
                )
            )
        polys.append(
            shapely.union_all(shapely.buffer(np.array(segs, dtype=object), frontage_m))
            if segs
            else shapely.Polygon()
        )
    return gpd.GeoDataFrame(
        {"minutes": list(minutes), "reach_m": reach}, geometry=polys, crs=settings.crs
    )
