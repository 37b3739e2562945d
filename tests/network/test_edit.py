"""Tests of qpvgeo.network.edit: links added, streets closed, checked against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from qpvgeo._errors import NetworkError
from qpvgeo.network import compile_network, engine, snap_points
from qpvgeo.network.edit import add_link, edges_along, remove_edges, split_edge
from tests.conftest import X0, Y0, points

# A(0,0) -100- B(100,0) -100- C(200,0); B -100- D(100,100); and a dead end E(300,300)-F(300,400)
# reached only from C by a long way round: C(200,0) -> (400,0) -> (400,300) -> E(300,300): 500 m


@pytest.fixture
def net():
    G = nx.MultiDiGraph(crs="EPSG:2154")
    for name, (x, y) in {"A": (0, 0), "B": (100, 0), "C": (200, 0), "D": (100, 100),
                         "E": (300, 300), "F": (300, 400)}.items():  # fmt: skip
        G.add_node(name, x=X0 + x, y=Y0 + y)
    for u, v in [("A", "B"), ("B", "C"), ("B", "D"), ("E", "F")]:
        G.add_edge(u, v)
    G.add_edge("C", "E", geometry=shapely.LineString(
        [(X0 + 200, Y0), (X0 + 400, Y0), (X0 + 400, Y0 + 300), (X0 + 300, Y0 + 300)]))  # fmt: skip
    return compile_network(G, name="tiny", kind="walk")


def _pt(x: float, y: float) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


def _line(*coords: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in coords])


def _engine_distances(net, pts) -> np.ndarray:
    """All-pairs walk (m) between points on the streets, by qpvgeo's engine."""
    s = snap_points(net, pts)
    e, o = s["edge"].to_numpy(), s["offset_m"].to_numpy()
    d = engine.nearest_by_category(net, e, o, e, o, np.arange(len(pts)), n_categories=len(pts))
    return d


def _nx_distances(edges: list[tuple[str, str, float]], nodes: dict[str, tuple], pts) -> np.ndarray:
    """The same with networkx on a graph written by hand, each point a node."""
    G = nx.Graph()
    for u, v, w in edges:
        G.add_edge(u, v, weight=w)
    n = len(pts)
    out = np.full((n, n), np.nan)
    names = [nodes[i] for i in range(n)]
    for i in range(n):
        dist = nx.single_source_dijkstra_path_length(G, names[i], weight="weight")
        for j in range(n):
            if names[j] in dist:
                out[i, j] = dist[names[j]]
    return out


def test_split_edge_keeps_every_distance(net):
    pts = points([(30, 0), (150, 0), (100, 60), (300, 350)])
    e = int(snap_points(net, points([(150, 0)]))["edge"].iloc[0])
    offset = 37.5 if net.edge_u[e] == list(net.node_ids).index("B") else 100 - 37.5
    split, node = split_edge(net, e, offset)
    assert split.n_edges == net.n_edges + 1 and split.n_nodes == net.n_nodes + 1
    assert (split.node_x[node], split.node_y[node]) == pytest.approx((X0 + 137.5, Y0))
    assert split.edge_length.sum() == pytest.approx(net.edge_length.sum(), abs=1e-9)
    np.testing.assert_allclose(_engine_distances(split, pts), _engine_distances(net, pts), atol=1e-9)
    assert split.graph.number_of_edges() == net.graph.number_of_edges() + 1
    assert net.n_edges == 5  # the network given is left as it was


def test_link_shortens_exactly_as_networkx_says(net):
    # a footbridge from the middle of B-C (150, 0) to E-F 20 m above E (300, 320), drawn in
    # two pieces (150,0) -> (250,200) -> (300,320)
    line = _line((150, 0), (250, 200), (300, 320))
    linked, info = add_link(net, line, label="passerelle")
    own = np.hypot(100, 200) + np.hypot(50, 120)
    assert info["length_m"] == pytest.approx(own)
    assert info["start_snap_m"] == pytest.approx(0.0) and info["end_snap_m"] == pytest.approx(0.0)
    pts = points([(30, 0), (300, 390), (100, 80), (190, 0)])
    got = _engine_distances(linked, pts)
    # by hand: P0 on A-B 30 m from A, P1 on E-F 90 m from E, P2 on B-D 80 m from B, P3 on B-C
    edges = [("P0", "A", 30), ("P0", "B", 70), ("B", "m", 50), ("m", "P3", 40), ("P3", "C", 10),
             ("B", "P2", 80), ("P2", "D", 20), ("C", "E", 500), ("E", "f", 20), ("f", "P1", 70),
             ("P1", "F", 10), ("m", "f", own)]  # fmt: skip
    expected = _nx_distances(edges, {0: "P0", 1: "P1", 2: "P2", 3: "P3"}, pts)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    before = _engine_distances(net, pts)
    assert got[0, 1] < before[0, 1]  # P0 -> P1: 70 + 50 + own + 70, not 170 + 500 + 90
    assert got[0, 2] == before[0, 2]  # a walk that does not take the link is unchanged
    # nobody's origin is placed on the link: a point beside it snaps to a street
    beside = snap_points(linked, points([(250, 195)]))
    assert not linked.no_snap[beside["edge"].iloc[0]]
    assert linked.no_snap.sum() == 1 and linked.graph.number_of_edges() == net.graph.number_of_edges() + 3


def test_link_end_near_a_node_uses_the_node(net):
    linked, _ = add_link(net, _line((100.5, 0.3), (300, 300)))
    assert linked.n_nodes == net.n_nodes  # B and E are used: nothing split
    assert linked.n_edges == net.n_edges + 1


def test_link_too_far_from_the_streets(net):
    with pytest.raises(NetworkError, match=r"the end of the link is 71 m from the nearest street"):
        add_link(net, _line((150, 0), (250, 250)))
    with pytest.raises(NetworkError, match="same place"):
        add_link(net, _line((100.2, 0), (100, 0.5)))


def test_closing_a_street_lengthens(net):
    pts = points([(30, 0), (190, 0), (100, 80)])
    along = edges_along(net, _line((95, 0), (205, 0)), 10.0)  # drawn along B-C
    assert [sorted(net.node_ids[[net.edge_u[e], net.edge_v[e]]]) for e in along] == [["B", "C"]]
    across = edges_along(net, _line((150, -8), (150, 8)), 10.0)  # a stroke across B-C
    assert list(across) == list(along)
    assert len(edges_along(net, _pt(150, 30), 10.0)) == 0  # nothing within 10 m
    closed = remove_edges(net, along)
    got, before = _engine_distances(closed, pts), _engine_distances(net, pts)
    # P1 (on B-C, 10 m from C) now snaps to C, which B-C no longer joins to B: no path from P0
    assert np.isnan(got[0, 1]) and np.isfinite(before[0, 1])
    assert got[0, 2] == before[0, 2]
    assert closed.n_edges == net.n_edges - 1 and closed.graph.number_of_edges() == net.graph.number_of_edges() - 1
