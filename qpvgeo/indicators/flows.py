"""Pedestrian flows: trips from residents' origins to shops and services, on the streets.

Each origin *i* (population :math:`P_i`) sends trips to the destinations *j*
within ``cutoff_m`` of it, shared among them by a distance decay (a
doubly-constrained model is not needed for a relative reading):

.. math:: T_{ij} = P_i \\frac{e^{-d_{ij}/\\lambda}}{\\sum_k e^{-d_{ik}/\\lambda}}

and every trip follows its shortest path, adding :math:`T_{ij}` to each street
edge on it. The result is an *expected pedestrian flow per street segment*
(in resident-trips, a relative unit: one trip per resident to one of the
destinations), the *footfall potential* of each shop (trips passing its
street segment plus those ending there), and *candidate locations*: street
segments with high footfall potential and no shop within a short walk.

Approximations (documented): an origin or a destination is attached to the
nearer end node of its street edge; the part of the trip along that first or
last edge is not counted. Trips are assigned all-or-nothing to one shortest
path (ties broken by the search order).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from numba import njit

from .._errors import ValidationError, plain
from .._validate import assert_project_crs, check_frame, check_network, check_number, check_series
from ..network._dijkstra import _grow, _tree
from ..network.build import WalkNetwork, snap_points
from ..network.engine import _arrays


def _nearer_node(net: WalkNetwork, snapped: pd.DataFrame) -> np.ndarray:
    e = snapped["edge"].to_numpy()
    t = snapped["offset_m"].to_numpy()
    on = e >= 0
    node = np.full(len(e), -1, dtype=np.int64)
    node[on] = np.where(t[on] <= net.edge_length[e[on]] / 2, net.edge_u[e[on]], net.edge_v[e[on]])
    return node


@njit(cache=True)
def _tree_scratch(n):  # pragma: no cover - compiled
    """The scratch arrays of :func:`~qpvgeo.network._dijkstra._tree` for ``n`` nodes (``dist``
    all +inf), allocated once per kernel call and reused by every search."""
    return (
        np.full(n, np.inf), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64), np.empty(n), np.empty(n, dtype=np.int32),
        np.empty(n, dtype=np.int32),
    )  # fmt: skip


@njit(cache=True)
def _reach_pairs(indptr, indices, weights, sources, limit, node_ptr, node_origin):  # pragma: no cover - compiled  # fmt: skip
    """(source row, origin, distance) for every origin within ``limit`` of each source node.

    Origins are grouped by node: ``node_origin[node_ptr[v]:node_ptr[v + 1]]``
    are those attached to node ``v``. One bounded search per source, scratch
    arrays reused: memory in proportion to the network and to the pairs found.
    """
    n = indptr.shape[0] - 1
    dist, pred, pred_arc, touched, heap_d, heap_n, pos = _tree_scratch(n)
    out_r = np.empty(1024, dtype=np.int64)
    out_k = np.empty(1024, dtype=np.int64)
    out_d = np.empty(1024)
    size = 0
    for r in range(sources.shape[0]):
        n_touched = _tree(
            indptr, indices, weights, sources[r], limit, dist, pred, pred_arc, touched,
            heap_d, heap_n, pos,
        )  # fmt: skip
        for t in range(n_touched):
            v = touched[t]
            for q in range(node_ptr[v], node_ptr[v + 1]):
                if size == out_r.shape[0]:
                    out_r, out_k, out_d = _grow(out_r, out_k, out_d)
                out_r[size] = r
                out_k[size] = node_origin[q]
                out_d[size] = dist[v]
                size += 1
        for t in range(n_touched):
            dist[touched[t]] = np.inf
    return out_r[:size].copy(), out_k[:size].copy(), out_d[:size].copy()


@njit(cache=True)
def _assign(indptr, indices, weights, arc_edge, sources, limit, pair_ptr, pair_node, pair_trips, edge_flow):  # pragma: no cover - compiled  # fmt: skip
    """Push the trips of each source's pairs back along its shortest-path tree onto the edges.

    ``pair_node[pair_ptr[r]:pair_ptr[r + 1]]`` and ``pair_trips[...]``: the
    nodes of the origins reached from source ``r`` (in origin order) and their
    trips to it. The reached nodes are taken farthest first (by distance, then
    node index), each handing its load to its predecessor; then each tree arc
    with a load adds it to its street edge (``arc_edge``), nodes in index order.
    """
    n = indptr.shape[0] - 1
    dist, pred, pred_arc, touched, heap_d, heap_n, pos = _tree_scratch(n)
    load = np.zeros(n)
    node_flow = np.zeros(n)
    for r in range(sources.shape[0]):
        if pair_ptr[r + 1] == pair_ptr[r]:
            continue
        n_touched = _tree(
            indptr, indices, weights, sources[r], limit, dist, pred, pred_arc, touched,
            heap_d, heap_n, pos,
        )  # fmt: skip
        for q in range(pair_ptr[r], pair_ptr[r + 1]):
            load[pair_node[q]] += pair_trips[q]
        by_node = np.sort(touched[:n_touched])
        order = by_node[np.argsort(dist[by_node], kind="mergesort")]
        for t in range(n_touched - 1, -1, -1):
            v = order[t]
            if load[v] == 0.0:
                continue
            p = pred[v]
            if p < 0:
                continue
            node_flow[v] += load[v]
            load[p] += load[v]
        for t in range(n_touched):
            v = by_node[t]
            if node_flow[v] > 0:
                edge_flow[arc_edge[pred_arc[v]]] += node_flow[v]
            dist[v] = np.inf
            load[v] = 0.0
            node_flow[v] = 0.0


def _arc_edges(net: WalkNetwork, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Street edge of each adjacency entry ``p -> v``: the edge joining ``v`` to ``p``.

    Among parallel edges, the one the flows have always been put on: the shortest
    (edges taken longest first, the last one listed for the pair ``(v, p)``
    winning, in the order of the ``(u, v)`` then ``(v, u)`` listing).
    """
    order = np.argsort(net.edge_length)[::-1]
    u, v = net.edge_u[order].astype(np.int64), net.edge_v[order].astype(np.int64)
    n = np.int64(net.n_nodes)
    keys = np.concatenate([u * n + v, v * n + u])
    vals = np.concatenate([order, order])
    # last occurrence of each key wins
    uniq, first_rev = np.unique(keys[::-1], return_index=True)
    winner = vals[::-1][first_rev]
    tail = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    wanted = indices.astype(np.int64) * n + tail  # (v, p): the entry p -> v
    return winner[np.searchsorted(uniq, wanted)].astype(np.int64)


def _expand(pair_ptr: np.ndarray, inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For destination points on nodes ``inverse``: (point, pair) of every pair of their node."""
    counts = (pair_ptr[1:] - pair_ptr[:-1])[inverse]
    j_exp = np.repeat(np.arange(len(inverse)), counts)
    starts = np.repeat(pair_ptr[:-1][inverse] - np.cumsum(counts) + counts, counts)
    return j_exp, starts + np.arange(counts.sum())


def street_flows(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    cutoff_m: float = 1125.0,
    decay_m: float = 400.0,
) -> tuple[pd.Series, pd.Series]:
    """Expected pedestrian flow per street edge and trips ending at each destination.

    Parameters
    ----------
    network : WalkNetwork
    origins : GeoDataFrame
        Points with a ``population`` column (EPSG:2154).
    destinations : GeoDataFrame
        Shops and services (EPSG:2154).
    cutoff_m : float
        Largest trip length (default 15 min at 4.5 km/h).
    decay_m : float
        :math:`\\lambda`, the distance decay (m).

    Returns
    -------
    (edge_flow, destination_trips)
        ``edge_flow``: Series over compiled edges (``flow_trips``);
        ``destination_trips``: Series indexed like ``destinations``
        (``trips_to``). Off-network origins and destinations take no part.

    Notes
    -----
    One Dijkstra search per destination node, bounded by ``cutoff_m``, done
    twice (the origin-destination pairs in reach, then the trips pushed back
    along its shortest-path tree), with scratch arrays reused: memory grows
    with the network and the pairs in reach, never as destinations × nodes or
    destinations × origins.
    """
    check_network(network, "network")
    assert_project_crs(origins, "origins")
    assert_project_crs(destinations, "destinations")
    for name, value in (("cutoff_m", cutoff_m), ("decay_m", decay_m)):
        try:
            ok = np.isfinite(float(value)) and float(value) > 0 and not isinstance(value, bool | str)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValidationError(f"`{name}` must be a positive distance in metres, got {plain(value)!r}")
    if "population" not in origins.columns:
        raise ValidationError(
            "`origins` needs a `population` column (see qpvgeo.data.population.grid_origins)"
        )
    unknown = origins["population"].isna()
    if unknown.any():
        raise ValidationError(
            f"{int(unknown.sum())} of the {len(origins)} `origins` have no population figure; drop "
            "them (and report them) or give them a population: a trip count cannot be guessed"
        )
    o_node = _nearer_node(network, snap_points(network, origins))
    d_node = _nearer_node(network, snap_points(network, destinations))
    pop = origins["population"].to_numpy(dtype=float)
    o_ok = (o_node >= 0) & (pop > 0)
    o_node, pop = o_node[o_ok], pop[o_ok]
    d_ok = np.flatnonzero(d_node >= 0)
    edge_flow = np.zeros(network.n_edges)
    trips_to = np.zeros(len(destinations))
    if len(d_ok) == 0 or len(o_node) == 0:
        return (
            pd.Series(edge_flow, name="flow_trips"),
            pd.Series(trips_to, index=destinations.index, name="trips_to"),
        )
    unique_dest, inverse = np.unique(d_node[d_ok], return_inverse=True)
    arr = _arrays(network)
    # origins grouped by node, in origin order
    by_node = np.argsort(o_node, kind="stable")
    node_ptr = np.searchsorted(o_node[by_node], np.arange(network.n_nodes + 1))
    rows, k, d = _reach_pairs(
        arr.indptr, arr.indices, arr.weights, unique_dest, float(cutoff_m), node_ptr, by_node
    )
    sort = np.lexsort((k, rows))  # pairs by destination node, then origin
    rows, k, d = rows[sort], k[sort], d[sort]
    pair_ptr = np.searchsorted(rows, np.arange(len(unique_dest) + 1))
    # every destination point takes the pairs of its node (points sharing a node repeat them);
    # sums run over the destination points in order, as the dense (points x origins) sums did
    j_exp, pair_exp = _expand(pair_ptr, inverse)
    k_exp = k[pair_exp]
    w = np.exp(-d[pair_exp] / decay_m)
    total = np.bincount(k_exp, weights=w, minlength=len(o_node))[k_exp]
    share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    trips = share * pop[k_exp]  # trips from each origin to each destination point
    trips_to[d_ok] = np.bincount(j_exp, weights=trips, minlength=len(d_ok))
    per_pair = np.bincount(pair_exp, weights=trips, minlength=len(k))
    _assign(
        arr.indptr, arr.indices, arr.weights, _arc_edges(network, arr.indptr, arr.indices),
        unique_dest, float(cutoff_m), pair_ptr, o_node[k], per_pair, edge_flow,
    )  # fmt: skip
    return (
        pd.Series(edge_flow, name="flow_trips"),
        pd.Series(trips_to, index=destinations.index, name="trips_to"),
    )


def footfall_potential(
    network: WalkNetwork, shops: gpd.GeoDataFrame, edge_flow: pd.Series, trips_to: pd.Series
) -> pd.Series:
    """Footfall potential of each shop: trips passing its street segment plus trips ending there."""
    check_network(network, "network")
    check_frame(shops, "shops")
    check_series(edge_flow, "edge_flow")
    check_series(trips_to, "trips_to")
    snapped = snap_points(network, shops)
    passing = np.where(
        snapped["on_network"], edge_flow.reindex(snapped["edge"].clip(lower=0)).to_numpy(), np.nan
    )
    return pd.Series(
        passing + trips_to.reindex(shops.index).fillna(0.0).to_numpy(),
        index=shops.index,
        name="footfall_potential_trips",
    )


def candidate_segments(
    network: WalkNetwork,
    edge_flow: pd.Series,
    shops: gpd.GeoDataFrame,
    *,
    quantile: float = 0.9,
    no_shop_within_m: float = 150.0,
    area=None,
) -> gpd.GeoDataFrame:
    """Street segments with high footfall potential and no shop within ``no_shop_within_m``.

    High means a flow at or above the ``quantile`` of the flows of the segments
    considered (those intersecting ``area`` when given, e.g. a QPV and its
    surroundings). Returns the segments with ``flow_trips`` and their geometry.
    """
    check_network(network, "network")
    check_series(edge_flow, "edge_flow")
    check_frame(shops, "shops")
    quantile = check_number(quantile, "quantile")
    if not 0 < quantile < 1:
        raise ValidationError(f"`quantile` must be between 0 and 1, got {plain(quantile)!r}")
    no_shop_within_m = check_number(no_shop_within_m, "no_shop_within_m", low=0, unit="metres")
    if len(edge_flow) != network.n_edges:
        raise ValidationError(
            f"`edge_flow` has {len(edge_flow)} values for the {network.n_edges} edges of the network; "
            "give the `edge_flow` of `street_flows` on this network"
        )
    edges = network.edges_gdf()
    edges["flow_trips"] = edge_flow.to_numpy()
    if area is not None:
        edges = edges[edges.intersects(area)]
    edges = edges[edges["flow_trips"] > 0]
    if len(edges) == 0:
        return edges
    threshold = edges["flow_trips"].quantile(quantile)
    high = edges[edges["flow_trips"] >= threshold]
    if len(shops):
        high = high[high.distance(shops.geometry.union_all()) > no_shop_within_m]
    return high
