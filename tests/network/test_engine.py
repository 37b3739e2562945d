"""Tests of qpvgeo.engine: exact network distances between points on edges."""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qpvgeo._errors import ValidationError
from qpvgeo.network import WalkNetwork, compile_network, engine, load_network

# --------------------------------------------------------------------------- tiny network
#
#   A(0,0) --100-- B(100,0) --200-- D(300,0)        E(1000,0) --100-- F(1100,0)
#     |              |
#     |              50
#     |              C(100,50)
#     +--- long detour A..D: (0,0)->(0,500)->(300,500)->(300,0), 1300 m ---+
X0, Y0 = 650_000.0, 6_850_000.0
NODES = {"A": (0, 0), "B": (100, 0), "C": (100, 50), "D": (300, 0), "E": (1000, 0), "F": (1100, 0)}
DETOUR = [(0, 0), (0, 500), (300, 500), (300, 0)]


@pytest.fixture(scope="module")
def tiny() -> WalkNetwork:
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for name, (x, y) in NODES.items():
        graph.add_node(name, x=X0 + x, y=Y0 + y)
    for u, v in [("A", "B"), ("B", "C"), ("B", "D"), ("E", "F")]:
        graph.add_edge(u, v)
    graph.add_edge("A", "D", geometry=shapely.LineString([(X0 + x, Y0 + y) for x, y in DETOUR]))
    return compile_network(graph, name="tiny")


def _on(net: WalkNetwork, a: str, b: str, from_a_m: float) -> tuple[int, float]:
    """(edge, offset from edge_u) of the point `from_a_m` metres from node a on edge a-b."""
    ids = list(net.node_ids)
    ia, ib = ids.index(a), ids.index(b)
    for e in range(net.n_edges):
        if {int(net.edge_u[e]), int(net.edge_v[e])} == {ia, ib}:
            off = from_a_m if net.edge_u[e] == ia else net.edge_length[e] - from_a_m
            return e, off
    raise AssertionError(f"no edge {a}-{b}")


def _points(net: WalkNetwork, spec: list[tuple[str, str, float]]) -> tuple[np.ndarray, np.ndarray]:
    pts = [_on(net, a, b, x) for a, b, x in spec]
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts], dtype=float)


def test_tiny_network_lengths(tiny: WalkNetwork) -> None:
    assert tiny.n_edges == 5
    assert tiny.edge_length[_on(tiny, "A", "D", 0)[0]] == pytest.approx(1300.0)


def test_nearest_exact_values(tiny: WalkNetwork) -> None:
    oe, oo = _points(
        tiny,
        [
            ("A", "B", 30.0),  # o0
            ("B", "C", 50.0),  # o1: at node C
            ("A", "D", 100.0),  # o2: on the detour, 100 m from A
            ("E", "F", 10.0),  # o3: other component
        ],
    )
    te, to = _points(
        tiny,
        [
            ("B", "D", 50.0),  # t0, category 0
            ("A", "B", 80.0),  # t1, category 1 (same edge as o0)
            ("A", "D", 1200.0),  # t2, category 2: same edge as o2, 100 m from D
        ],
    )
    cat = np.array([0, 1, 2])
    got = engine.nearest_by_category(tiny, oe, oo, te, to, cat, n_categories=4)
    expected = np.array(
        [
            [70 + 50, 50, 70 + 200 + 100, np.nan],
            [50 + 50, 50 + 20, 50 + 200 + 100, np.nan],
            # same edge: direct 1100 m loses to going round A-B-D (100 + 300 + 100)
            [100 + 100 + 50, 100 + 80, 100 + 300 + 100, np.nan],
            [np.nan, np.nan, np.nan, np.nan],  # unreachable component, empty category
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # a max distance turns farther targets into NaN
    capped = engine.nearest_by_category(tiny, oe, oo, te, to, cat, max_dist_m=120.0)
    np.testing.assert_allclose(capped, np.where(expected[:, :3] <= 120, expected[:, :3], np.nan))


def test_same_edge_direct_distance(tiny: WalkNetwork) -> None:
    oe, oo = _points(tiny, [("A", "D", 600.0)])
    te, to = _points(tiny, [("A", "D", 650.0), ("A", "D", 640.0)])
    got = engine.nearest_by_category(tiny, oe, oo, te, to, np.array([0, 0]))
    assert got[0, 0] == pytest.approx(40.0, abs=1e-9)
    pairs = engine.distances_within(tiny, oe, oo, te, to, cutoff_m=45.0)
    # neither end node is within 45 m: the direct case must still be found
    assert pairs.to_dict("list") == {"origin": [0], "target": [1], "dist_m": [pytest.approx(40.0)]}


def test_legs_are_added_and_choose_the_nearest(tiny: WalkNetwork) -> None:
    # o0 on A-B 30 m from A, 12 m off the street; t0 on A-B 80 m from A (50 m along the
    # street) but 100 m off it; t1 on B-D 50 m from B (120 m along the streets) at the kerb
    oe, oo = _points(tiny, [("A", "B", 30.0), ("E", "F", 10.0)])
    te, to = _points(tiny, [("A", "B", 80.0), ("B", "D", 50.0)])
    cat = np.array([0, 0])
    bare = engine.nearest_by_category(tiny, oe, oo, te, to, cat)
    assert bare[0, 0] == pytest.approx(50.0)
    got = engine.nearest_by_category(
        tiny, oe, oo, te, to, cat, origin_leg_m=[12.0, 3.0], target_leg_m=[100.0, 0.0]
    )
    # by hand: via t0 12 + 50 + 100 = 162, via t1 12 + 120 + 0 = 132: t1 is the nearest
    assert got[0, 0] == pytest.approx(132.0)
    assert np.isnan(got[1, 0])  # other component: a leg does not make it reachable
    # the limit applies to the total, legs included
    capped = engine.nearest_by_category(
        tiny, oe, oo, te, to, cat, origin_leg_m=[12.0, 3.0], target_leg_m=[100.0, 0.0],
        max_dist_m=130.0,
    )  # fmt: skip
    assert np.isnan(capped[0, 0])
    # an off-network point's leg is ignored (its snap distance is NaN)
    got = engine.nearest_by_category(
        tiny, np.array([-1, oe[0]]), np.array([np.nan, oo[0]]), te, to, cat,
        origin_leg_m=[np.nan, 0.0],
    )  # fmt: skip
    assert np.isnan(got[0, 0]) and got[1, 0] == pytest.approx(50.0)


def test_bad_legs(tiny: WalkNetwork) -> None:
    oe, oo = _points(tiny, [("A", "B", 30.0)])
    cat = np.array([0])
    with pytest.raises(ValidationError, match="`origin_leg_m` has shape"):
        engine.nearest_by_category(tiny, oe, oo, oe, oo, cat, origin_leg_m=[1.0, 2.0])
    with pytest.raises(ValidationError, match="`target_leg_m` holds 1 values that are negative"):
        engine.nearest_by_category(tiny, oe, oo, oe, oo, cat, target_leg_m=[-1.0])
    with pytest.raises(ValidationError, match="`origin_leg_m`.*NaN"):
        engine.nearest_by_category(tiny, oe, oo, oe, oo, cat, origin_leg_m=[np.nan])


def test_distances_within_and_counts_exact(tiny: WalkNetwork) -> None:
    oe, oo = _points(tiny, [("A", "B", 30.0), ("E", "F", 10.0), ("B", "C", 50.0)])
    te, to = _points(tiny, [("B", "D", 50.0), ("A", "B", 80.0), ("E", "F", 90.0)])
    pairs = engine.distances_within(tiny, oe, oo, te, to, cutoff_m=100.0)
    assert list(pairs.columns) == ["origin", "target", "dist_m"]
    got = {(o, t): d for o, t, d in pairs.itertuples(index=False)}
    assert got.keys() == {(0, 1), (1, 2), (2, 0), (2, 1)}
    assert got[(0, 1)] == pytest.approx(50.0)
    assert got[(1, 2)] == pytest.approx(80.0)
    assert got[(2, 0)] == pytest.approx(100.0)  # exactly at the cutoff: kept
    assert got[(2, 1)] == pytest.approx(70.0)
    counts = engine.count_within(
        tiny, oe, oo, te, to, np.array([0, 1, 1]), radii_m=[100.0, 50.0, 120.0]
    )
    assert counts.shape == (3, 2, 3)
    np.testing.assert_array_equal(counts[0], [[0, 0, 1], [1, 1, 1]])
    np.testing.assert_array_equal(counts[1], [[0, 0, 0], [1, 0, 1]])
    np.testing.assert_array_equal(counts[2], [[1, 0, 1], [1, 0, 1]])


def test_off_network_points_are_nan_not_zero(tiny: WalkNetwork) -> None:
    te, to = _points(tiny, [("A", "B", 30.0)])
    oe = np.array([-1, te[0]])
    oo = np.array([np.nan, to[0]])
    got = engine.nearest_by_category(tiny, oe, oo, te, to, np.array([0]))
    assert np.isnan(got[0, 0])
    assert got[1, 0] == 0.0
    # an off-network target is counted nowhere, even for an origin "at" offset 0
    got = engine.nearest_by_category(
        tiny, np.array([te[0]]), np.array([0.0]), np.array([-1]), np.array([0.0]), np.array([0])
    )
    assert np.isnan(got[0, 0])
    pairs = engine.distances_within(tiny, oe, oo, te, to, cutoff_m=10.0)
    assert pairs["origin"].tolist() == [1]
    counts = engine.count_within(tiny, oe, oo, te, to, np.array([0]), radii_m=10.0)
    assert counts[:, 0, 0].tolist() == [0, 1]


def test_empty_targets(tiny: WalkNetwork) -> None:
    oe, oo = _points(tiny, [("A", "B", 30.0)])
    none_i, none_f = np.array([], dtype=np.int64), np.array([], dtype=float)
    got = engine.nearest_by_category(tiny, oe, oo, none_i, none_f, none_i, n_categories=2)
    assert got.shape == (1, 2) and np.isnan(got).all()
    with pytest.raises(ValidationError, match="`n_categories`"):
        engine.nearest_by_category(tiny, oe, oo, none_i, none_f, none_i)
    assert engine.distances_within(tiny, oe, oo, none_i, none_f, cutoff_m=100.0).empty
    counts = engine.count_within(
        tiny, oe, oo, none_i, none_f, none_i, radii_m=[100.0], n_categories=3
    )
    assert counts.shape == (1, 3, 1) and counts.sum() == 0


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), float("inf")])
def test_bad_cutoffs(tiny: WalkNetwork, bad: float) -> None:
    oe, oo = _points(tiny, [("A", "B", 30.0)])
    with pytest.raises(ValidationError, match="`cutoff_m`"):
        engine.distances_within(tiny, oe, oo, oe, oo, cutoff_m=bad)
    with pytest.raises(ValidationError, match="`radii_m`"):
        engine.count_within(tiny, oe, oo, oe, oo, np.array([0]), radii_m=[100.0, bad])
    if not np.isinf(bad):
        with pytest.raises(ValidationError, match="`max_dist_m`"):
            engine.nearest_by_category(tiny, oe, oo, oe, oo, np.array([0]), max_dist_m=bad)


def test_bad_points(tiny: WalkNetwork) -> None:
    oe, oo = _points(tiny, [("A", "B", 30.0), ("B", "D", 10.0)])
    cat = np.array([0, 0])
    with pytest.raises(ValidationError, match="`origin_edge` and `origin_offset`.*lengths"):
        engine.nearest_by_category(tiny, oe, oo[:1], oe, oo, cat)
    with pytest.raises(ValidationError, match="`target_edge` and `target_offset`.*lengths"):
        engine.distances_within(tiny, oe, oo, oe[:1], oo, cutoff_m=10.0)
    with pytest.raises(ValidationError, match="`target_category`"):
        engine.nearest_by_category(tiny, oe, oo, oe, oo, cat[:1])
    with pytest.raises(ValidationError, match="`target_category`.*outside"):
        engine.nearest_by_category(tiny, oe, oo, oe, oo, np.array([0, -1]))
    with pytest.raises(ValidationError, match="`origin_edge`.*outside"):
        engine.nearest_by_category(tiny, np.array([0, 99]), oo, oe, oo, cat)
    with pytest.raises(ValidationError, match="`origin_offset`.*outside their edge"):
        engine.nearest_by_category(tiny, oe, np.array([30.0, 500.0]), oe, oo, cat)
    with pytest.raises(ValidationError, match="`target_offset`.*NaN"):
        engine.distances_within(tiny, oe, oo, oe, np.array([np.nan, 1.0]), cutoff_m=10.0)


def test_connected_components_report(tiny: WalkNetwork) -> None:
    oe, _ = _points(tiny, [("A", "B", 1.0), ("B", "C", 1.0), ("A", "D", 1.0), ("E", "F", 1.0)])
    assert engine.connected_components_report(tiny, np.append(oe, -1)) == pytest.approx(0.25)
    assert np.isnan(engine.connected_components_report(tiny, np.array([-1])))


# --------------------------------------------------------------------------- networkx reference


def reference_matrix(
    net: WalkNetwork, oe: np.ndarray, oo: np.ndarray, te: np.ndarray, to: np.ndarray
) -> np.ndarray:
    """Origin × target distances with networkx (two single-source searches per target)."""
    graph, ids, length = net.graph, net.node_ids, net.edge_length
    out = np.full((len(oe), len(te)), np.nan)
    for j, (f, s) in enumerate(zip(te, to, strict=True)):
        from_u = nx.single_source_dijkstra_path_length(graph, ids[net.edge_u[f]], weight="length")
        from_v = nx.single_source_dijkstra_path_length(graph, ids[net.edge_v[f]], weight="length")
        for i, (e, t) in enumerate(zip(oe, oo, strict=True)):
            best = abs(t - s) if e == f else np.inf
            for node, to_node in ((ids[net.edge_u[e]], t), (ids[net.edge_v[e]], length[e] - t)):
                best = min(best, to_node + from_u.get(node, np.inf) + s)
                best = min(best, to_node + from_v.get(node, np.inf) + length[f] - s)
            out[i, j] = best if np.isfinite(best) else np.nan
    return out


def reference_nearest(dist: np.ndarray, cat: np.ndarray, n_cat: int) -> np.ndarray:
    out = np.full((dist.shape[0], n_cat), np.nan)
    for c in range(n_cat):
        sub = np.where(np.isnan(dist[:, cat == c]), np.inf, dist[:, cat == c])
        if sub.shape[1]:
            best = sub.min(axis=1)
            out[:, c] = np.where(np.isfinite(best), best, np.nan)
    return out


def check_against_reference(
    net: WalkNetwork,
    oe: np.ndarray,
    oo: np.ndarray,
    te: np.ndarray,
    to: np.ndarray,
    cat: np.ndarray,
    n_cat: int,
    cutoff_m: float,
) -> None:
    ref = reference_matrix(net, oe, oo, te, to)
    got = engine.nearest_by_category(net, oe, oo, te, to, cat, n_categories=n_cat)
    want = reference_nearest(ref, cat, n_cat)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    if np.isfinite(want).any():
        assert np.nanmax(np.abs(got - want)) < 1.0
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    pairs = engine.distances_within(net, oe, oo, te, to, cutoff_m=cutoff_m)
    mat = np.full(ref.shape, np.nan)
    mat[pairs["origin"], pairs["target"]] = pairs["dist_m"]
    assert not pairs.duplicated(["origin", "target"]).any()
    # pairs within 1e-6 m of the cutoff may fall either side of it by rounding
    clear = ~(np.abs(ref - cutoff_m) < 1e-6)
    want_in = np.where(ref <= cutoff_m, ref, np.nan)
    np.testing.assert_array_equal(np.isnan(mat)[clear], np.isnan(want_in)[clear])
    both = ~np.isnan(mat) & ~np.isnan(want_in)
    np.testing.assert_allclose(mat[both], want_in[both], rtol=1e-9, atol=1e-6)
    counts = engine.count_within(net, oe, oo, te, to, cat, radii_m=cutoff_m, n_categories=n_cat)
    for c in range(n_cat):
        want_c = (np.nan_to_num(ref[:, cat == c], nan=np.inf) <= cutoff_m).sum(axis=1)
        np.testing.assert_array_equal(counts[:, c, 0][clear.all(axis=1)], want_c[clear.all(axis=1)])


@st.composite
def random_network_case(draw: st.DrawFn):
    n = draw(st.integers(2, 12))
    coords = draw(
        st.lists(
            st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=n, max_size=n, unique=True
        )
    )
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=2 * n, unique=True))
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for i, (x, y) in enumerate(coords):
        graph.add_node(i, x=X0 + 20.0 * x, y=Y0 + 20.0 * y)
    for i, j in chosen:
        graph.add_edge(i, j)
    net = compile_network(graph, name="random")
    m = net.n_edges
    point = st.tuples(st.integers(0, m - 1), st.floats(0.0, 1.0))
    origins = draw(st.lists(point, min_size=1, max_size=8))
    targets = draw(st.lists(st.tuples(point, st.integers(0, 2)), min_size=1, max_size=8))
    cutoff = draw(st.floats(1.0, 1500.0))
    oe = np.array([e for e, _ in origins])
    oo = np.array([f * net.edge_length[e] for e, f in origins])
    te = np.array([e for (e, _), _ in targets])
    to = np.array([f * net.edge_length[e] for (e, f), _ in targets])
    cat = np.array([c for _, c in targets])
    return net, oe, oo, te, to, cat, cutoff


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_network_case())
def test_random_graphs_agree_with_networkx(case) -> None:
    net, oe, oo, te, to, cat, cutoff = case
    check_against_reference(net, oe, oo, te, to, cat, 4, cutoff)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_network_case(), st.data())
def test_random_graphs_with_legs_agree_with_networkx(case, data) -> None:
    """Nearest on the total origin leg + network + target leg, against networkx plus the legs."""
    net, oe, oo, te, to, cat, _ = case
    leg = st.floats(0.0, 300.0)
    o_leg = np.array(data.draw(st.lists(leg, min_size=len(oe), max_size=len(oe))))
    t_leg = np.array(data.draw(st.lists(leg, min_size=len(te), max_size=len(te))))
    ref = reference_matrix(net, oe, oo, te, to) + o_leg[:, None] + t_leg[None, :]
    want = reference_nearest(ref, cat, 4)
    got = engine.nearest_by_category(
        net, oe, oo, te, to, cat, n_categories=4, origin_leg_m=o_leg, target_leg_m=t_leg
    )
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def _data_dir() -> Path:
    path = os.environ.get("QPVGEO_DATA_DIR")
    if not path:
        pytest.fail("QPVGEO_DATA_DIR is not set: point it at the data mirror to run mirror tests")
    return Path(path)


@pytest.mark.mirror
def test_mirror_network_agrees_with_networkx() -> None:
    path = _data_dir() / "osm" / "essonne_etampes_drive_from-sumo_2025-04.graphml"
    net = load_network(path)
    rng = np.random.default_rng(2025)
    oe = rng.choice(net.n_edges, 50, replace=False)
    te = rng.choice(net.n_edges, 50, replace=False)
    oo = net.edge_length[oe] / 2  # mid-edge
    to = net.edge_length[te] * rng.uniform(0, 1, 50)
    te[:3], to[:3] = oe[:3], net.edge_length[oe[:3]] * 0.9  # a few same-edge pairs
    cat = rng.integers(0, 5, 50)
    check_against_reference(net, oe, oo, te, to, cat, 6, 1500.0)


def test_parallel_edges_and_self_loops_agree_with_csr() -> None:
    """The engine's own adjacency keeps parallel edges and drops loops: same distances as csr."""
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for name, (x, y) in NODES.items():
        graph.add_node(name, x=X0 + x, y=Y0 + y)
    for u, v in [("A", "B"), ("B", "C"), ("B", "D"), ("E", "F"), ("D", "B")]:
        graph.add_edge(u, v)
    # a longer parallel edge B-D, a self-loop at C and the detour A..D
    graph.add_edge(
        "B", "D", geometry=shapely.LineString([(X0 + 100, Y0), (X0 + 200, Y0 + 90), (X0 + 300, Y0)])
    )
    loop = [(100, 50), (120, 70), (80, 70), (100, 50)]
    graph.add_edge("C", "C", geometry=shapely.LineString([(X0 + x, Y0 + y) for x, y in loop]))
    graph.add_edge("A", "D", geometry=shapely.LineString([(X0 + x, Y0 + y) for x, y in DETOUR]))
    net = compile_network(graph, name="multi")
    rng = np.random.default_rng(3)
    oe = np.arange(net.n_edges)
    oo = net.edge_length[oe] * rng.uniform(0, 1, len(oe))
    te = rng.integers(0, net.n_edges, 12)
    to = net.edge_length[te] * rng.uniform(0, 1, len(te))
    cat = np.arange(len(te)) % 3
    from scipy.sparse import csgraph

    node_d = csgraph.dijkstra(net.csr, directed=False)
    ref = np.full((len(oe), len(te)), np.inf)
    for j, (f, s) in enumerate(zip(te, to, strict=True)):
        for i, (e, t) in enumerate(zip(oe, oo, strict=True)):
            best = abs(t - s) if e == f else np.inf
            for a, ta in ((net.edge_u[e], t), (net.edge_v[e], net.edge_length[e] - t)):
                for b, sb in ((net.edge_u[f], s), (net.edge_v[f], net.edge_length[f] - s)):
                    best = min(best, ta + node_d[a, b] + sb)
            ref[i, j] = best
    got = engine.nearest_by_category(net, oe, oo, te, to, cat)
    want = np.stack([ref[:, cat == c].min(axis=1) for c in range(3)], axis=1)
    np.testing.assert_allclose(got, np.where(np.isfinite(want), want, np.nan), rtol=1e-12)
    pairs = engine.distances_within(net, oe, oo, te, to, cutoff_m=400.0)
    mat = np.full(ref.shape, np.inf)
    mat[pairs["origin"], pairs["target"]] = pairs["dist_m"]
    np.testing.assert_allclose(mat, np.where(ref <= 400.0, ref, np.inf), rtol=1e-12)
