from __future__ import annotations

import numpy as np
import pytest

from qpvgeo._errors import ValidationError
from qpvgeo.indicators import flows

from ..conftest import points


def _edge(net, a, b):
    names = list(net.node_ids)
    ia, ib = names.index(a), names.index(b)
    for i, (u, v) in enumerate(zip(net.edge_u, net.edge_v, strict=True)):
        if {u, v} == {ia, ib}:
            return i
    raise AssertionError


def test_flows_on_tiny_network(tiny_network):
    # 10 residents at A, 30 at D; one shop at C
    origins = points([(0, 0), (100, 100)], population=[10.0, 30.0])
    shops = points([(200, 0)])
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops)
    assert trips_to.iloc[0] == pytest.approx(40.0)
    assert edge_flow[_edge(tiny_network, "A", "B")] == pytest.approx(10.0)
    assert edge_flow[_edge(tiny_network, "B", "D")] == pytest.approx(30.0)
    assert edge_flow[_edge(tiny_network, "B", "C")] == pytest.approx(40.0)


def test_trips_split_by_distance_decay(tiny_network):
    origins = points([(100, 0)], population=[100.0])  # at B
    shops = points([(0, 0), (200, 0), (100, 100)])  # A, C, D: all 100 m away
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops, decay_m=400.0)
    assert trips_to.tolist() == pytest.approx([100 / 3] * 3)
    # a nearer shop gets more: move one origin towards A
    origins = points([(0, 0)], population=[90.0])
    _, trips_to = flows.street_flows(tiny_network, origins, shops, decay_m=100.0)
    w = np.exp(-np.array([0.0, 200.0, 200.0]) / 100.0)
    assert trips_to.tolist() == pytest.approx(list(90 * w / w.sum()))


def test_beyond_cutoff_no_trip(tiny_network):
    origins = points([(0, 0)], population=[5.0])
    shops = points([(200, 0)])
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops, cutoff_m=150.0)
    assert trips_to.iloc[0] == 0.0 and edge_flow.sum() == 0.0


def test_footfall_and_candidates(tiny_network):
    origins = points([(0, 0), (100, 100)], population=[10.0, 30.0])
    shops = points([(200, 0)])
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops)
    foot = flows.footfall_potential(tiny_network, shops, edge_flow, trips_to)
    assert foot.iloc[0] == pytest.approx(40.0 + 40.0)
    cand = flows.candidate_segments(
        tiny_network, edge_flow, shops, quantile=0.5, no_shop_within_m=50
    )
    # B–C holds the shop; B–D (30 trips) is a candidate; A–B (10) is below the median
    assert len(cand) == 1 and cand["flow_trips"].iloc[0] == pytest.approx(30.0)


def test_bad_parameters(tiny_network):
    o = points([(0, 0)], population=[1.0])
    with pytest.raises(ValidationError, match="decay_m"):
        flows.street_flows(tiny_network, o, points([(200, 0)]), decay_m=0)
    with pytest.raises(ValidationError, match="population"):
        flows.street_flows(tiny_network, o.drop(columns="population"), points([(200, 0)]))


# --------------------------------------------------------------------------- larger networks


def _jittered_grid(n_side: int, spacing: float = 80.0, seed: int = 0):
    """A street grid with nodes moved at random (±25 % of a block): no two paths tie."""
    import networkx as nx

    from qpvgeo import settings
    from qpvgeo.network.build import compile_network

    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=settings.crs)
    for i in range(n_side):
        for j in range(n_side):
            dx, dy = rng.uniform(-0.25, 0.25, 2) * spacing
            G.add_node(i * n_side + j, x=650_000 + j * spacing + dx, y=6_850_000 + i * spacing + dy)
    for i in range(n_side):
        for j in range(n_side):
            a = i * n_side + j
            for b in ([a + 1] if j + 1 < n_side else []) + ([a + n_side] if i + 1 < n_side else []):
                G.add_edge(a, b, length=spacing)
    return compile_network(G, name=f"jittered {n_side}", kind="walk")


def _at_nodes(net, nodes, **columns):
    import geopandas as gpd

    return gpd.GeoDataFrame(
        columns, geometry=gpd.points_from_xy(net.node_x[nodes], net.node_y[nodes]), crs="EPSG:2154"
    )


def test_flows_match_networkx_paths():
    """Every trip follows networkx's shortest path; shares by distance decay within the cutoff."""
    import networkx as nx

    net = _jittered_grid(30)
    rng = np.random.default_rng(1)
    o_nodes = rng.choice(net.n_nodes, 120, replace=False)
    d_nodes = rng.choice(net.n_nodes, 25, replace=False)
    d_nodes = np.concatenate([d_nodes, d_nodes[:3]])  # two shops at the same place
    pop = rng.uniform(1, 40, len(o_nodes))
    cutoff, decay = 900.0, 300.0
    edge_flow, trips_to = flows.street_flows(
        net, _at_nodes(net, o_nodes, population=pop), _at_nodes(net, d_nodes),
        cutoff_m=cutoff, decay_m=decay,
    )  # fmt: skip
    # reference: networkx on the graph, one search per shop
    ids = list(net.node_ids)
    edge_of = {
        frozenset((int(u), int(v))): e
        for e, (u, v) in enumerate(zip(net.edge_u, net.edge_v, strict=True))
    }
    searches = [
        nx.single_source_dijkstra(net.graph, ids[d], cutoff=cutoff, weight="length")
        for d in d_nodes
    ]
    w = np.array([[np.exp(-dist[ids[o]] / decay) if ids[o] in dist else 0.0 for o in o_nodes]
                  for dist, _ in searches])  # fmt: skip
    total = w.sum(axis=0)
    trips = np.divide(w, total, out=np.zeros_like(w), where=total > 0) * pop
    expected = np.zeros(net.n_edges)
    index = {n: i for i, n in enumerate(ids)}
    for j, (_, paths) in enumerate(searches):
        for k, o in enumerate(o_nodes):
            path = paths.get(ids[o])
            for a, b in zip(path[:-1], path[1:], strict=True) if path else ():
                expected[edge_of[frozenset((index[a], index[b]))]] += trips[j, k]
    assert (expected > 0).sum() > 100  # the check covers many streets
    np.testing.assert_allclose(edge_flow.to_numpy(), expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(trips_to.to_numpy(), trips.sum(axis=1), rtol=1e-9, atol=1e-9)


def test_flows_memory_grows_with_the_network_not_destinations_times_nodes():
    """Peak memory (tracemalloc) of street_flows: about linear when the network and the points
    grow together (4x the nodes: a destinations x nodes array grows 16x), and well below one
    such float64 array (the dense formulation held two, plus three destinations x origins)."""
    import tracemalloc

    from qpvgeo.network import grid_network

    peaks = []
    for n_side in (50, 100):
        net = grid_network(n_side, 80.0)
        rng = np.random.default_rng(n_side)
        n_o, n_d = n_side * n_side // 4, n_side * n_side // 25  # the same densities
        origins = _at_nodes(net, rng.integers(0, net.n_nodes, n_o), population=np.ones(n_o))
        dest = _at_nodes(net, rng.choice(net.n_nodes, n_d, replace=False))
        flows.street_flows(net, origins.iloc[:5], dest.iloc[:5])  # compiled, caches filled
        tracemalloc.start()
        flows.street_flows(net, origins, dest)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peaks.append(peak)
    dense = n_d * net.n_nodes * 8  # one float64 destinations x nodes array, 10,000 nodes
    assert peaks[1] < dense / 3, (peaks, dense)
    assert peaks[1] / peaks[0] < 8, peaks
