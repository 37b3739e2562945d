"""Tests of qpvgeo.centrality: localised betweenness and closeness."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import networkx as nx
import numba
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qpvgeo._errors import NetworkError, ValidationError
from qpvgeo.network import WalkNetwork, compile_network, grid_network, load_network
from qpvgeo.network.centrality import local_betweenness, local_centrality, local_closeness

ETAMPES = "osm/essonne_etampes_drive_from-sumo_2025-04.graphml"
X0, Y0 = 650_000.0, 6_850_000.0


# --------------------------------------------------------------------------- helpers


def _toy(coords: dict[int, tuple[float, float]], edges: list[tuple[int, int]]) -> WalkNetwork:
    """Straight-edge network through compile_network (lengths = Euclidean, metres)."""
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for node, (x, y) in coords.items():
        graph.add_node(node, x=X0 + x, y=Y0 + y)
    for u, v in edges:
        length = float(np.hypot(coords[u][0] - coords[v][0], coords[u][1] - coords[v][1]))
        graph.add_edge(u, v, length=length)
    return compile_network(graph, name="toy")


def _net_from_arrays(n: int, edges: list[tuple[int, int, float]]) -> WalkNetwork:
    """A WalkNetwork with exact (e.g. integer) lengths, parallel edges and loops allowed."""
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    x = np.arange(n, dtype=float)
    graph = nx.MultiGraph(crs="EPSG:2154")
    graph.add_nodes_from((i, {"x": x[i], "y": 0.0}) for i in range(n))
    for a, b, length in edges:
        graph.add_edge(a, b, length=length)
    geoms = np.array(
        [shapely.LineString([(x[a], 0.0), (x[b], 1.0)]) for a, b, _ in edges], dtype=object
    )
    return WalkNetwork(
        graph=graph, name="arrays", kind="walk", node_ids=np.arange(n), node_x=x,
        node_y=np.zeros(n), edge_u=u, edge_v=v, edge_length=w, edge_geometry=geoms,
    )


def _simple(net: WalkNetwork) -> nx.Graph:
    """Simple graph on compiled indices: the shortest of parallel edges, no self-loops."""
    graph = nx.Graph()
    graph.add_nodes_from(range(net.n_nodes))
    for a, b, w in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        a, b, w = int(a), int(b), float(w)
        if a != b and (not graph.has_edge(a, b) or graph[a][b]["length"] > w):
            graph.add_edge(a, b, length=w)
    return graph


def _brute_force(graph: nx.Graph, r: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Enumerate every shortest path of every pair within r (small graphs only)."""
    n = graph.number_of_nodes()
    bc = np.zeros(n)
    clos = {"closeness": np.zeros(n), "node_density": np.zeros(n), "farness": np.zeros(n)}
    for s in graph:
        dist = nx.single_source_dijkstra_path_length(graph, s, weight="length")
        for t, d in dist.items():
            if t == s or d > r:
                continue
            clos["closeness"][s] += 1.0 / d
            clos["node_density"][s] += 1.0
            clos["farness"][s] += d
            paths = list(nx.all_shortest_paths(graph, s, t, weight="length"))
            for path in paths:
                for v in path[1:-1]:
                    bc[v] += 1.0 / len(paths)
    return bc / 2.0, clos


def _brandes_reference(graph: nx.Graph, r: float) -> np.ndarray:
    """Brandes on networkx's predecessor lists, searches cut at r (inclusive)."""
    bc = np.zeros(graph.number_of_nodes())
    for s in graph:
        pred, dist = nx.dijkstra_predecessor_and_distance(graph, s, cutoff=r, weight="length")
        order = sorted(dist, key=dist.get)
        sigma = dict.fromkeys(order, 0.0)
        sigma[s] = 1.0
        for v in order:
            for p in pred[v]:
                sigma[v] += sigma[p]
        delta = dict.fromkeys(order, 0.0)
        for w in reversed(order):
            for p in pred[w]:
                delta[p] += sigma[p] / sigma[w] * (1.0 + delta[w])
            if w != s:
                bc[w] += delta[w]
    return bc / 2.0


def _mirror_dir() -> Path:
    value = os.environ.get("QPVGEO_DATA_DIR")
    if not value:
        pytest.fail(
            "QPVGEO_DATA_DIR is not set: mirror tests need the data mirror, "
            "e.g. QPVGEO_DATA_DIR=/work/shared/data pytest -m mirror"
        )
    return Path(value)


# --------------------------------------------------------------------------- exact toy values


def test_path_of_five_nodes_exact_values():
    net = _toy({i: (100.0 * i, 0.0) for i in range(5)}, [(i, i + 1) for i in range(4)])
    np.testing.assert_array_equal(net.edge_length, 100.0)
    order = np.argsort(net.node_ids)  # row of node 0, 1, ..., 4
    df = local_centrality(net, (1000, 200, 199.5))
    assert list(df.columns[:3]) == ["betweenness_1000m", "betweenness_200m", "betweenness_199.5m"]
    np.testing.assert_allclose(df["betweenness_1000m"].to_numpy()[order], [0, 3, 4, 3, 0])
    # radius inclusive: the pairs (0,2), (1,3), (2,4) at exactly 200 m count
    np.testing.assert_allclose(df["betweenness_200m"].to_numpy()[order], [0, 1, 1, 1, 0])
    np.testing.assert_allclose(df["betweenness_199.5m"].to_numpy()[order], 0.0)
    np.testing.assert_allclose(df["node_density_200m"].to_numpy()[order], [2, 3, 4, 3, 2])
    np.testing.assert_allclose(df["farness_200m"].to_numpy()[order], [300, 400, 600, 400, 300])
    np.testing.assert_allclose(
        df["closeness_200m"].to_numpy()[order],
        [0.015, 0.025, 0.03, 0.025, 0.015],
        rtol=1e-12,
    )
    assert df.index.name == "node" and df.dtypes.eq(np.float64).all()


def test_square_with_diagonal_splits_tied_paths():
    # 0 (0,0) - 1 (100,0) - 2 (100,100) - 3 (0,100) - 0, diagonal 1-3 of 141.4 m
    net = _toy(
        {0: (0, 0), 1: (100, 0), 2: (100, 100), 3: (0, 100)},
        [(0, 1), (1, 2), (2, 3), (3, 0), (1, 3)],
    )
    order = np.argsort(net.node_ids)
    df = local_betweenness(net, (200, 199.99, 141.5))
    # pair (0, 2): two shortest paths of 200 m, via 1 and via 3; pair (1, 3): the diagonal
    np.testing.assert_allclose(df["betweenness_200m"].to_numpy()[order], [0, 0.5, 0, 0.5])
    np.testing.assert_allclose(df["betweenness_199.99m"].to_numpy()[order], 0.0)
    np.testing.assert_allclose(df["betweenness_141.5m"].to_numpy()[order], 0.0)
    normalized = local_betweenness(net, (200,), normalized=True)["betweenness_200m"]
    # networkx's undirected normalisation: divide by (n-1)(n-2)/2 = 3 pairs
    np.testing.assert_allclose(normalized.to_numpy()[order], [0, 0.5 / 3, 0, 0.5 / 3])


def test_parallel_edges_and_loops_use_the_shortest_edge():
    # 0 -(3 or 1)- 1 -(1)- 2 and a loop on 1: 1 is on the only path 0-2 (2 m)
    net = _net_from_arrays(3, [(0, 1, 3.0), (1, 0, 1.0), (1, 1, 0.5), (1, 2, 1.0)])
    df = local_centrality(net, (2,), tie_tolerance_m=0.0)
    np.testing.assert_allclose(df["betweenness_2m"], [0, 1, 0])
    np.testing.assert_allclose(df["farness_2m"], [3, 2, 3])


# --------------------------------------------------------------------------- references


@st.composite
def _small_graphs(draw):
    n = draw(st.integers(2, 9))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(1, 3))
    edges = draw(st.lists(pairs, min_size=1, max_size=3 * n))
    radius = draw(st.integers(1, 8))
    return n, [(a, b, float(w)) for a, b, w in edges], radius


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_graphs())
def test_matches_brute_force_on_random_integer_graphs(case):
    n, edges, radius = case
    net = _net_from_arrays(n, edges)
    graph = _simple(net)
    expected_bc, expected_clos = _brute_force(graph, radius)
    df = local_centrality(net, (radius, 100))
    np.testing.assert_allclose(df[f"betweenness_{radius}m"], expected_bc, rtol=1e-12, atol=1e-12)
    for name, values in expected_clos.items():
        np.testing.assert_allclose(df[f"{name}_{radius}m"], values, rtol=1e-12, atol=1e-12)
    # radius beyond the diameter: networkx's global betweenness
    full = nx.betweenness_centrality(graph, weight="length", normalized=False)
    np.testing.assert_allclose(
        df["betweenness_100m"], [full[i] for i in range(n)], rtol=1e-12, atol=1e-12
    )


@settings(max_examples=25, deadline=None)
@given(
    side=st.integers(3, 7),
    keep=st.lists(st.booleans(), min_size=84, max_size=84),
    radius=st.sampled_from([100.0, 200.0, 300.0, 450.0]),
)
def test_matches_reference_on_random_grid_subgraphs(side, keep, radius):
    # lattice streets from compile_network: many ties, many pairs exactly at the radius
    coords = {i * side + j: (100.0 * j, 100.0 * i) for i in range(side) for j in range(side)}
    lattice = [(a, a + 1) for a in coords if a % side < side - 1]
    lattice += [(a, a + side) for a in coords if a + side < side * side]
    edges = [e for e, k in zip(lattice, itertools.cycle(keep), strict=False) if k]
    if not edges:
        return
    used = sorted({x for e in edges for x in e})
    net = _toy({a: coords[a] for a in used}, edges)
    graph = _simple(net)
    df = local_betweenness(net, (radius,))
    expected, _ = _brute_force(graph, radius)
    np.testing.assert_allclose(df.iloc[:, 0], expected, rtol=1e-12, atol=1e-12)


def test_several_radii_equal_separate_runs_and_keep_their_order():
    net = grid_network(9, 70.0)
    together = local_centrality(net, (600, 150, 310))
    expected_columns = ["betweenness_600m", "betweenness_150m", "betweenness_310m"]
    assert list(together.columns[:3]) == expected_columns
    for r in (600, 150, 310):
        alone = local_centrality(net, (r,))
        for name in ("betweenness", "closeness", "node_density", "farness"):
            np.testing.assert_allclose(together[f"{name}_{r}m"], alone[f"{name}_{r}m"], rtol=1e-12)


def test_sources_partition_adds_up_and_threads_agree():
    net = grid_network(12, 50.0)
    full = local_betweenness(net, (400,))["betweenness_400m"].to_numpy()
    rng = np.random.default_rng(3)
    perm = rng.permutation(net.n_nodes)
    parts = [local_betweenness(net, (400,), sources=p) for p in np.array_split(perm, 3)]
    np.testing.assert_allclose(sum(p["betweenness_400m"].to_numpy() for p in parts), full)
    clos = local_closeness(net, (400,), sources=perm[:5])
    assert clos["closeness_400m"].notna().sum() == 5
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = local_betweenness(net, (400,))["betweenness_400m"].to_numpy()
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_allclose(single, full, rtol=1e-12)


def test_tie_tolerance_merges_near_equal_paths():
    # two routes 0-1-3 and 0-2-3 of 2.0 and 2.0 + 1e-7 m
    edges = [(0, 1, 1.0), (1, 3, 1.0), (0, 2, 1.0), (2, 3, 1.0 + 1e-7)]
    net = _net_from_arrays(4, edges)
    exact = local_betweenness(net, (5,), tie_tolerance_m=0.0)["betweenness_5m"]
    loose = local_betweenness(net, (5,), tie_tolerance_m=1e-6)["betweenness_5m"]
    # exact: pair (0,3) only via 1, pair (1,2) only via 0; loose: each pair splits in two
    np.testing.assert_allclose(exact, [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(loose, [0.5, 0.5, 0.5, 0.5])


@pytest.mark.mirror
def test_matches_networkx_on_real_etampes_subgraph():
    full_net = load_network(_mirror_dir() / ETAMPES)
    full_graph = full_net.graph
    start = full_net.node_ids[0]
    dist = nx.single_source_dijkstra_path_length(full_graph, start, weight="length")
    nearest = sorted(dist, key=dist.get)[:300]
    net = compile_network(full_graph.subgraph(nearest).copy(), name="etampes-300", kind="drive")
    assert net.n_nodes == 300
    graph = _simple(net)
    df = local_betweenness(net, (400, 800, 1e7), tie_tolerance_m=0.0)
    default = local_betweenness(net, (800,))
    for r in (400, 800):
        expected = _brandes_reference(graph, r)
        assert expected.max() > 0
        np.testing.assert_allclose(df[f"betweenness_{r}m"], expected, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(default["betweenness_800m"], df["betweenness_800m"], rtol=1e-10)
    full = nx.betweenness_centrality(graph, weight="length", normalized=False)
    np.testing.assert_allclose(
        df["betweenness_10000000m"], [full[i] for i in range(net.n_nodes)], rtol=1e-10, atol=1e-9
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "radii", [0, -5, (400, float("nan")), (float("inf"),), (), ("far",), (400, 400.0)]
)
def test_bad_radii_raise(radii):
    net = grid_network(3)
    with pytest.raises(ValidationError, match="`radii_m`"):
        local_betweenness(net, radii)


def test_bad_options_raise():
    net = grid_network(3)
    with pytest.raises(ValidationError, match="`measures`"):
        local_centrality(net, (400,), measures=("pagerank",))
    with pytest.raises(ValidationError, match="`tie_tolerance_m`"):
        local_betweenness(net, (400,), tie_tolerance_m=-1.0)
    with pytest.raises(ValidationError, match="`tie_tolerance_m`"):
        local_betweenness(net, (400,), tie_tolerance_m=500.0)
    with pytest.raises(ValidationError, match="`sources`"):
        local_betweenness(net, (400,), sources=[0, 9])
    with pytest.raises(ValidationError, match="`sources`"):
        local_betweenness(net, (400,), sources=[1, 1])


def test_empty_network_raises():
    empty = _net_from_arrays(0, [])
    with pytest.raises(NetworkError, match="no node"):
        local_centrality(empty, (400,))


def test_network_without_edges_gives_zeros():
    net = _net_from_arrays(3, [])
    df = local_centrality(net, (400,))
    np.testing.assert_array_equal(df.to_numpy(), 0.0)
