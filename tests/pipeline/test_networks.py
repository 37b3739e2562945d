"""The network stage: compiled networks cached between runs, keyed by the file's content."""

from __future__ import annotations

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from qpvgeo import QpvgeoWarning, settings
from qpvgeo.pipeline import networks

from ..conftest import tiny_graph


@pytest.fixture
def graphml(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", str(tmp_path / "cache"))
    path = tmp_path / "tiny_walk.graphml"
    ox.save_graphml(_graph(), path)
    return path


def _graph():
    """The tiny T network with integer node ids, as osmnx's GraphML reader expects."""
    return nx.convert_node_labels_to_integers(tiny_graph(), label_attribute="name")


def _same(a, b) -> None:
    assert a.name == b.name and a.kind == b.kind
    for attr in ("node_x", "node_y", "edge_u", "edge_v", "edge_length"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))


def test_cached_network_equals_the_compiled_one(graphml, monkeypatch):
    fresh = networks.load_network(graphml)
    first = networks.load_network_cached(graphml)
    _same(first, fresh)
    # the second time the file is not compiled again
    monkeypatch.setattr(networks, "load_network", lambda *a, **k: pytest.fail("compiled again"))
    _same(networks.load_network_cached(graphml), fresh)


def test_a_changed_file_is_compiled_again(graphml):
    before = networks.load_network_cached(graphml)
    G = _graph()
    c = next(n for n, name in G.nodes(data="name") if name == "C")
    G.add_node(99, x=G.nodes[c]["x"] + 100.0, y=G.nodes[c]["y"])
    G.add_edge(c, 99, length=100.0)
    G.add_edge(99, c, length=100.0)
    ox.save_graphml(G, graphml)
    after = networks.load_network_cached(graphml)
    assert after.n_nodes == before.n_nodes + 1


def test_an_unreadable_cache_is_reported_and_rebuilt(graphml, tmp_path):
    networks.load_network_cached(graphml)
    (cached,) = (tmp_path / "cache" / "networks").iterdir()
    cached.write_bytes(b"not a pickle")
    with pytest.warns(QpvgeoWarning, match="unreadable"):
        net = networks.load_network_cached(graphml)
    _same(net, networks.load_network(graphml))


def test_a_read_only_cache_still_gives_the_network(graphml, tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setattr(settings, "cache_dir", str(blocked))
    _same(networks.load_network_cached(graphml), networks.load_network(graphml))
