"""Detour index: how much longer the walk is than the straight line, to the nearest station
and supermarket, and the detour paths drawn on the maps.

Part of the enclavement reading (:mod:`qpvgeo.indicators.enclavement`, which re-exports
these names).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from .._validate import (
    assert_project_crs,
    check_frame,
    check_geometries,
    check_network,
    check_unique_index,
)

#: an origin closer than this (m) to its target as the crow flies has no meaningful detour
#: ratio (division by ~0): NaN, and left out of the zone's quantiles like an origin off the
#: network
MIN_CROW_M = 1.0


def detour_per_origin(
    network, origins: gpd.GeoDataFrame, targets: gpd.GeoDataFrame | gpd.GeoSeries
) -> pd.DataFrame:
    """Detour of each origin to the target nearest to it as the crow flies.

    .. math::

        r_i = \\frac{\\ell_i + d_{net}(p_i, p_{t_i^*}) + \\ell_{t_i^*}}
                   {\\lVert o_i - t_i^* \\rVert}

    where :math:`t_i^*` is the target (among those on the network) nearest to
    :math:`o_i` as the crow flies, :math:`p` a point's place on its nearest
    street edge, :math:`\\ell` the straight walk between the point and that
    place (``snap_m`` of :func:`qpvgeo.network.snap_points`) and
    :math:`d_{net}` the network distance between places. Numerator and
    denominator join the same two points, the numerator along a path of
    straight legs and street lines: :math:`r_i \\ge 1` by the triangle
    inequality (up to float rounding). Nothing is censored.

    Returns
    -------
    DataFrame
        Indexed like ``origins``: ``target`` (position in ``targets``, -1 when
        none), ``crow_m``, ``network_m`` and ``detour`` (NaN for origins off the
        network, closer than :data:`MIN_CROW_M` to their target, or with no
        network path to it) and ``disconnected`` (bool: on the network, no path).
    """
    check_network(network, "network")
    from scipy.spatial import cKDTree

    from ..network.build import snap_points
    from ..network.engine import nearest_by_category

    assert_project_crs(origins, "origins")
    assert_project_crs(targets, "targets")
    check_geometries(origins, "origins", kind="point")
    check_geometries(targets, "targets", kind="point")
    check_unique_index(origins, "origins")
    n = len(origins)
    out = pd.DataFrame(
        {
            "target": np.full(n, -1, dtype=np.int64),
            "crow_m": np.nan,
            "network_m": np.nan,
            "detour": np.nan,
            "disconnected": False,
        },
        index=origins.index,
    )
    o = snap_points(network, origins)
    t = snap_points(network, targets)
    on_t = np.flatnonzero(t["on_network"].to_numpy())
    if len(on_t) == 0 or n == 0:
        return out
    txy = np.column_stack([targets.geometry.x, targets.geometry.y])[on_t]
    oxy = np.column_stack([origins.geometry.x, origins.geometry.y])
    crow, nearest = cKDTree(txy).query(oxy)
    target_pos = on_t[nearest]
    # one category per target reached: the engine's nearest of a category is that target
    chosen, code = np.unique(target_pos, return_inverse=True)
    dist = nearest_by_category(
        network,
        o["edge"].to_numpy(),
        o["offset_m"].to_numpy(),
        t["edge"].to_numpy()[chosen],
        t["offset_m"].to_numpy()[chosen],
        np.arange(len(chosen), dtype=np.int64),
        n_categories=len(chosen),
        origin_leg_m=o["snap_m"].to_numpy(),
        target_leg_m=t["snap_m"].to_numpy()[chosen],
    )
    net_d = dist[np.arange(n), code.ravel()]
    computable = o["on_network"].to_numpy() & (crow >= MIN_CROW_M)
    out["target"] = target_pos
    out["crow_m"] = crow
    out["network_m"] = net_d
    out["detour"] = np.where(computable, net_d / np.maximum(crow, MIN_CROW_M), np.nan)
    out["disconnected"] = computable & np.isnan(net_d)
    return out


def detour_index(
    network,
    origins: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    zone: str = "code_qp",
    name: str = "detour_index",
) -> pd.DataFrame:
    """Detour index per zone: population-weighted median and 90th percentile.

    Per origin, :math:`r_i` of :func:`detour_per_origin`: walk on the network
    (legs included) to the target nearest as the crow flies, divided by the
    straight line between the same two points (:math:`\\ge 1`). Per zone,
    over the origins on the network weighted by their ``population`` (1 each
    without that column), an origin with no network path to its target
    counting as :math:`+\\infty`:

    .. math:: Q(q) = \\min \\{ r_k : \\textstyle\\sum_{r_j \\le r_k} w_j \\ge q \\sum_j w_j \\}

    for :math:`q = 0.5` (``<name>``) and :math:`q = 0.9` (``<name>_p90``); a
    quantile that falls on the disconnected is NaN. ``<name>_disconnected_pct``
    is their weighted share (%). No ratio is censored: the most roundabout
    walks are the point of the 90th percentile.

    Returns
    -------
    DataFrame
        Indexed by zone: ``<name>``, ``<name>_p90``, ``<name>_disconnected_pct``;
        NaN where no origin of the zone has a computable detour.
    """
    check_network(network, "network")
    check_frame(origins, "origins", columns=(zone,))
    from .access import weighted_quantile

    per = detour_per_origin(network, origins, targets)
    weights = (
        origins["population"].to_numpy(dtype=float)
        if "population" in origins
        else np.ones(len(origins))
    )
    weights = np.nan_to_num(weights, nan=0.0)
    disconnected = per["disconnected"].to_numpy()
    counted = per["detour"].notna().to_numpy() | disconnected
    value = np.where(disconnected, np.inf, per["detour"].to_numpy())
    rows = {}
    for key, idx in origins.groupby(zone).groups.items():
        pos = origins.index.get_indexer(idx)
        pos = pos[counted[pos]]
        v, w = value[pos], weights[pos]
        total = w[w > 0].sum()
        median = weighted_quantile(v, w, 0.5)
        p90 = weighted_quantile(v, w, 0.9)
        rows[key] = {
            name: median if np.isfinite(median) else np.nan,
            f"{name}_p90": p90 if np.isfinite(p90) else np.nan,
            f"{name}_disconnected_pct": 100.0 * w[disconnected[pos] & (w > 0)].sum() / total
            if total > 0
            else np.nan,
        }
    columns = [name, f"{name}_p90", f"{name}_disconnected_pct"]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype(float)
    return out.rename_axis(zone)


def _edge_piece(network, e: int, start_m: float, end_m: float) -> list[tuple[float, float]]:
    """Coordinates of edge ``e`` between two distances from its ``edge_u`` end (either order)."""
    line = network.edge_geometry[e]
    scale = line.length / network.edge_length[e]  # 1 but for edges shorter than 1 mm
    piece = shapely.ops.substring(line, start_m * scale, end_m * scale)
    coords = shapely.get_coordinates(piece)
    return [tuple(c) for c in coords]


def _path_to(pred: dict, source, node) -> list:
    """The path from ``source`` to ``node``, each node reached from its first predecessor
    (the path :func:`networkx.single_source_dijkstra` returns)."""
    path = [node]
    while path[-1] != source:
        path.append(pred[path[-1]][0])
    return path[::-1]


def _route(
    network, o_edge: int, o_off: float, t_edge: int, t_off: float, cutoff_m: float | None = None
) -> tuple[float, list[tuple[float, float]]] | None:
    """Shortest walk between two places on edges: (metres, coordinates), or None when none.

    ``cutoff_m``, when given, bounds the searches: it must be at least the walk's length
    (e.g. the network distance :func:`detour_per_origin` found), so that the search explores
    the nodes around the two places only, not the whole network; the path is the same.
    """
    import networkx as nx

    graph, ids = network.graph, network.node_ids
    length = network.edge_length
    best: tuple[float, list[tuple[float, float]]] | None = None
    if o_edge == t_edge:
        best = (abs(o_off - t_off), _edge_piece(network, o_edge, o_off, t_off))
    o_ends = ((network.edge_u[o_edge], 0.0), (network.edge_v[o_edge], length[o_edge]))
    t_ends = ((network.edge_u[t_edge], 0.0), (network.edge_v[t_edge], length[t_edge]))
    for a, a_at in o_ends:
        # predecessors only (memory in proportion to the network), not every node's path
        pred, dist = nx.dijkstra_predecessor_and_distance(
            graph, ids[a], weight="length", cutoff=cutoff_m
        )
        for b, b_at in t_ends:
            if ids[b] not in dist:
                continue
            total = abs(o_off - a_at) + dist[ids[b]] + abs(t_off - b_at)
            if best is not None and total >= best[0]:
                continue
            coords = _edge_piece(network, o_edge, o_off, a_at)
            path = _path_to(pred, ids[a], ids[b])
            for n1, n2 in zip(path[:-1], path[1:], strict=True):
                data = min(graph.get_edge_data(n1, n2).values(), key=lambda d: d["length"])
                line = list(data["geometry"].coords)
                if shapely.Point(line[0]).distance(shapely.Point(coords[-1])) > 1e-6:
                    line = line[::-1]
                coords.extend(line[1:])
            coords.extend(_edge_piece(network, t_edge, b_at, t_off)[1:])
            best = (total, coords)
    return best


def detour_paths(
    qpv: gpd.GeoDataFrame, network, targets: gpd.GeoDataFrame, *, label: str
) -> gpd.GeoDataFrame:
    """From each QPV's representative point to its nearest target (as the crow flies):
    the straight line and the shortest walk, for maps.

    The same targets and the same walk as :func:`detour_index`: from the point
    to its place on the nearest street, along the streets, then from the
    target's place on its street to the target; ``detour_index`` is that walk
    ÷ the straight line (≥ 1). QPV whose point is off the network or has no
    path to the target are left out.

    Returns
    -------
    GeoDataFrame
        Two rows per QPV (``kind`` = ``vol d'oiseau`` / ``itinéraire``), with
        ``code_qp``, ``target`` (``label``), ``length_m`` and ``detour_index``.
    """
    check_frame(qpv, "qpv")
    check_geometries(qpv, "qpv", kind="polygon")
    check_network(network, "network")
    check_frame(targets, "targets")
    from ..network.build import snap_points

    assert_project_crs(qpv, "qpv")
    starts = gpd.GeoDataFrame(geometry=qpv.representative_point(), crs=qpv.crs)
    per = detour_per_origin(network, starts, targets)
    s = snap_points(network, starts)
    t_snap = snap_points(network, targets)
    rows = []
    for i, code in enumerate(qpv.index):
        k = int(per["target"].iloc[i])
        if not s["on_network"].iloc[i] or k < 0 or per["crow_m"].iloc[i] < MIN_CROW_M:
            continue
        if not np.isfinite(per["network_m"].iloc[i]):  # no path on the network
            continue
        route = _route(
            network,
            int(s["edge"].iloc[i]),
            float(s["offset_m"].iloc[i]),
            int(t_snap["edge"].iloc[k]),
            float(t_snap["offset_m"].iloc[k]),
            # the walk found by detour_per_origin, legs included, bounds the one between places
            cutoff_m=float(per["network_m"].iloc[i]) * (1 + 1e-9) + 1e-6,
        )
        if route is None:
            continue
        p, target_pt = starts.geometry.iloc[i], targets.geometry.iloc[k]
        walk = shapely.LineString([(p.x, p.y), *route[1], (target_pt.x, target_pt.y)])
        straight = shapely.LineString([(p.x, p.y), (target_pt.x, target_pt.y)])
        walk_m = float(s["snap_m"].iloc[i] + route[0] + t_snap["snap_m"].iloc[k])
        for kind, geom, length_m in (
            ("vol d'oiseau", straight, straight.length),
            ("itinéraire", walk, walk_m),
        ):
            rows.append(
                {
                    "code_qp": code,
                    "kind": kind,
                    "target": label,
                    "length_m": length_m,
                    "detour_index": walk_m / straight.length,
                    "geometry": geom,
                }
            )
    if not rows:
        return gpd.GeoDataFrame({"code_qp": [], "kind": []}, geometry=[], crs=qpv.crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=qpv.crs)
