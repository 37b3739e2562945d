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


def test_network_files_that_do_not_reach_a_qpv_are_named(tmp_path, monkeypatch):
    """A QPV outside every network file of the data directory, or whose own saved network is of
    another place, is said so (naming the files), not "no street network"."""
    import dataclasses
    from types import SimpleNamespace

    import geopandas as gpd
    import shapely

    from qpvgeo.data import population, sources
    from qpvgeo.pipeline import notes

    from ..conftest import X0, Y0

    monkeypatch.setattr(settings, "cache_dir", str(tmp_path / "cache"))
    root = tmp_path / "data"
    (root / "osm" / "walk").mkdir(parents=True)
    ox.save_graphml(_graph(), root / "osm" / "tiny_walk.graphml")
    ox.save_graphml(_graph(), root / networks.walk_network_file("QN09997C"))  # saved for elsewhere
    shared = dataclasses.replace(sources.CATALOGUE["network_etampes"], files=("osm/tiny_walk.graphml",), sha256={})
    monkeypatch.setitem(sources.CATALOGUE, "network_etampes", shared)
    qpv = gpd.GeoDataFrame(
        {"code_qp": ["QN09999A", "QN09998B", "QN09997C"]},
        geometry=[shapely.box(X0, Y0, X0 + 200, Y0 + 100),  # on the T network
                  shapely.box(X0 + 10_000, Y0, X0 + 10_200, Y0 + 100),  # 10 km east: outside it
                  shapely.box(X0 - 10_000, Y0, X0 - 9_800, Y0 + 100)],  # its own file is the T's
        crs=2154,
    ).set_index("code_qp")  # fmt: skip
    origins = population.grid_origins(qpv, spacing_m=20)
    result = networks.build_networks(qpv, origins, data_dir=root, offline=True)
    table = result.table
    assert table.at["QN09999A", "network_source"] == "tiny_walk.graphml"
    assert table.at["QN09999A", "network_status"] == networks.COVERED
    assert result.unreached == {"QN09998B": ["tiny_walk.graphml"], "QN09997C": ["QN09997C.graphml"]}
    for code in ("QN09998B", "QN09997C"):
        assert table.at[code, "network_status"] == networks.NONE
    # outside the shared files: no network, as any QPV without one; its own file: named
    assert table.at["QN09998B", "network_scope"] == networks.SCOPE[networks.NONE]
    assert table.at["QN09997C", "network_scope"] == networks.UNREACHED_SCOPE
    got = notes._network_notes(SimpleNamespace(networks=result, crowfly_fallback=False))
    assert got == [
        "QPV QN09997C: its own street network file 'osm/walk/QN09997C.graphml' reaches none of its "
        "residents (no street within 150 m): it was saved for another place; delete it to fetch "
        "the QPV's network again; its access values are left empty",
        "1 QPV have no street network: they lie outside the street network file(s) of the data "
        "directory ('tiny_walk.graphml': "
        "none of their residents is within 150 m of their streets): QN09998B; their access values "
        "are left empty",
    ]
