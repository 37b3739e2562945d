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
from scipy import sparse
from scipy.sparse import csgraph

from .._errors import ValidationError, plain
from .._validate import assert_project_crs, check_frame, check_network, check_number, check_series
from ..network.build import WalkNetwork, snap_points


def _nearer_node(net: WalkNetwork, snapped: pd.DataFrame) -> np.ndarray:
    e = snapped["edge"].to_numpy()
    t = snapped["offset_m"].to_numpy()
    on = e >= 0
    node = np.full(len(e), -1, dtype=np.int64)
    node[on] = np.where(t[on] <= net.edge_length[e[on]] / 2, net.edge_u[e[on]], net.edge_v[e[on]])
    return node


@njit(cache=True)
def _accumulate(dist, pred, origin_node, origin_trips, order):  # pragma: no cover - compiled
    """Push trips from origins back along the predecessor tree to the destination."""
    n = dist.shape[0]
    load = np.zeros(n)
    for k in range(origin_node.shape[0]):
        load[origin_node[k]] += origin_trips[k]
    node_flow = np.zeros(n)  # flow on the tree edge from node to its predecessor
    for idx in range(order.shape[0] - 1, -1, -1):
        v = order[idx]
        if load[v] == 0.0:
            continue
        p = pred[v]
        if p < 0:
            continue
        node_flow[v] += load[v]
        load[p] += load[v]
    return node_flow


def _edge_lookup(net: WalkNetwork) -> sparse.csr_array:
    """Sparse (node, node) -> edge index + 1, keeping the shortest of parallel edges."""
    order = np.argsort(net.edge_length)[::-1]  # longest first, so the shortest wins below
    u, v = net.edge_u[order], net.edge_v[order]
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    vals = np.concatenate([order, order]) + 1
    # the last duplicate wins when converting through a dict of keys
    table = dict(zip(zip(rows.tolist(), cols.tolist(), strict=True), vals.tolist(), strict=True))
    r, c = np.array(list(table)).T if table else (np.array([], int), np.array([], int))
    return sparse.csr_array(
        (np.array(list(table.values())), (r, c)), shape=(net.n_nodes, net.n_nodes)
    )


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
    dist, pred = csgraph.dijkstra(
        network.csr, directed=False, indices=unique_dest, limit=cutoff_m, return_predecessors=True
    )
    # decay weights of each origin towards each destination point, normalised per origin
    w_dest = np.exp(-dist[inverse][:, o_node] / decay_m)  # (n_dest_points, n_origins); inf -> 0
    total = w_dest.sum(axis=0)
    share = np.divide(w_dest, total, out=np.zeros_like(w_dest), where=total > 0)
    trips = share * pop  # trips from each origin to each destination point
    trips_to[d_ok] = trips.sum(axis=1)
    lookup = _edge_lookup(network)
    for row in range(len(unique_dest)):
        per_origin = trips[inverse == row].sum(axis=0)
        d = dist[row]
        order = np.argsort(d, kind="stable")
        order = order[np.isfinite(d[order])].astype(np.int64)
        flow = _accumulate(d, pred[row].astype(np.int64), o_node, per_origin, order)
        v = np.flatnonzero(flow > 0)
        if len(v) == 0:
            continue
        edges = np.asarray(lookup[v, pred[row][v]]).ravel().astype(np.int64) - 1
        np.add.at(edge_flow, edges, flow[v])
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
