from __future__ import annotations

import numpy as np
import pytest

from qpvgeo import network
from qpvgeo._errors import NetworkError, ValidationError

from ..conftest import points


def test_compile_tiny(tiny_network):
    net = tiny_network
    assert net.n_nodes == 4
    assert net.n_edges == 3  # reciprocal edges merged
    np.testing.assert_allclose(np.sort(net.edge_length), [100.0, 100.0, 100.0])
    csr = net.csr
    assert csr.shape == (4, 4)
    assert (csr != csr.T).nnz == 0
    assert csr.sum() == pytest.approx(600.0)
    # geometry oriented from u to v
    for u, geom in zip(net.edge_u, net.edge_geometry, strict=True):
        assert geom.coords[0] == pytest.approx((net.node_x[u], net.node_y[u]))


def test_snap_points_offset_and_max_distance(tiny_network):
    net = tiny_network
    pts = points([(50, 10), (150, -5), (100, 80), (1000, 1000)])
    snapped = network.snap_points(net, pts, max_snap_m=150)
    assert list(snapped["on_network"]) == [True, True, True, False]
    np.testing.assert_allclose(snapped["snap_m"].iloc[:3], [10.0, 5.0, 0.0])
    # offsets measured from edge_u, whatever the edge's orientation
    for i, (x, y) in enumerate([(50, 0), (150, 0), (100, 80)]):
        e = snapped["edge"].iloc[i]
        geom = net.edge_geometry[e]
        expected = geom.project(points([(x, y)]).geometry.iloc[0])
        assert snapped["offset_m"].iloc[i] == pytest.approx(expected)
    assert snapped["edge"].iloc[3] == -1
    assert np.isnan(snapped["offset_m"].iloc[3])


def test_snap_refuses_wrong_crs(tiny_network):
    pts = points([(0, 0)]).to_crs(4326)
    with pytest.raises(ValidationError, match=r"to_crs\('EPSG:2154'\)"):
        network.snap_points(tiny_network, pts)


def test_snap_refuses_non_positive_distance(tiny_network):
    with pytest.raises(ValidationError, match="max_snap_m"):
        network.snap_points(tiny_network, points([(0, 0)]), max_snap_m=0)


def test_grid_network():
    net = network.grid_network(10, 50.0)
    assert net.n_nodes == 100
    assert net.n_edges == 2 * 10 * 9
    assert net.edge_length.sum() == pytest.approx(180 * 50.0)


def test_coverage_share(tiny_network):
    import geopandas as gpd
    import shapely

    from ..conftest import X0, Y0

    inside = shapely.box(X0 + 90, Y0 + 1, X0 + 110, Y0 + 20)
    half = shapely.box(X0 + 190, Y0 + 1, X0 + 210, Y0 + 2)
    outside = shapely.box(X0 + 500, Y0 + 500, X0 + 510, Y0 + 510)
    share = network.coverage_share(tiny_network, gpd.GeoSeries([inside, half, outside], crs=2154))
    assert share.iloc[0] == pytest.approx(1.0)
    assert 0.0 < share.iloc[1] < 1.0
    assert share.iloc[2] == 0.0


def test_empty_graph_refused():
    import networkx as nx

    with pytest.raises(NetworkError, match="empty"):
        network.compile_network(nx.MultiDiGraph(crs="EPSG:2154"), name="nothing")


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        network.load_network(tmp_path / "nope.graphml")
    bad = tmp_path / "streets.shp"
    bad.write_text("x")
    with pytest.raises(ValidationError, match="unknown format"):
        network.load_network(bad)


@pytest.mark.mirror
def test_palaiseau_walk_filter(data_dir):
    """The raw extract (buildings, land use...) gives osmnx's walk network: ~12k / ~3.7k nodes."""
    path = data_dir / "osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2"
    full = network.walk_graph_from_xml(path, simplify=False)
    highways = {h for _, _, h in full.edges(data="highway")}
    assert "footway" in highways and "cycleway" not in highways
    assert not any(str(h).startswith("motorway") for h in highways)
    assert 11_000 < len(full) < 13_000
    simple = network.compile_network(network.walk_graph_from_xml(path), name="palaiseau")
    assert 3_400 < simple.n_nodes < 4_000
    assert simple.kind == "walk"


@pytest.mark.mirror
def test_drive_graphml_is_labelled(data_dir):
    net = network.load_network(data_dir / "osm/essonne_etampes_drive_from-sumo_2025-04.graphml")
    assert net.kind == "drive"
    assert net.n_nodes == 2189
    # lengths in the file (read independently, before compile_network replaces them with the
    # projected geometry lengths) match ours edge by edge within 1 %
    import networkx as nx

    raw = nx.read_graphml(data_dir / "osm/essonne_etampes_drive_from-sumo_2025-04.graphml")
    file_len = {tuple(sorted((str(u), str(v)))): float(d["length"]) for u, v, d in raw.edges(data=True)}
    ours = {
        tuple(sorted((str(net.node_ids[u]), str(net.node_ids[v])))): length
        for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True)
    }
    common = [k for k in ours if k in file_len]
    assert len(common) > 0.95 * len(ours)
    ratio = np.array([ours[k] / file_len[k] for k in common])
    assert np.median(np.abs(ratio - 1)) < 0.01


def test_speed_must_be_positive():
    with pytest.raises(ValidationError, match="walk_speed_kmh"):
        network.metres_per_minute(0)


@pytest.mark.parametrize("speed", [0.1, 1000, np.float64(1.5), float("inf")])
def test_speed_must_be_a_walking_speed(speed):
    with pytest.raises(ValidationError, match="between 2 and 7 km/h") as info:
        network.metres_per_minute(speed)
    assert "np." not in str(info.value)


def test_speed_at_the_limits_of_the_range():
    assert network.metres_per_minute(2) == pytest.approx(2000 / 60)
    assert network.metres_per_minute(np.float64(7.0)) == pytest.approx(7000 / 60)


def test_resident_coverage_counts_residents_not_area(tiny_network):
    # zone Q: 30 residents 10 m from the street, 10 residents 400 m away (beyond 150 m)
    # zone R: residents without a population figure only
    o = points(
        [(50, 10), (150, -10), (50, 400), (150, 400)],
        code_qp=["Q", "Q", "Q", "R"],
        population=[20.0, 10.0, 10.0, np.nan],
    )
    share = network.resident_coverage(tiny_network, o)
    assert share["Q"] == pytest.approx(30 / 40)
    assert np.isnan(share["R"])
    with pytest.raises(ValidationError, match="population"):
        network.resident_coverage(tiny_network, o.drop(columns="population"))
