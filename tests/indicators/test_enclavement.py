from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from qpvgeo._errors import CRSError
from qpvgeo.data import barriers
from qpvgeo.indicators import enclavement

from ..conftest import X0, Y0


def _qpv(*geoms):
    return gpd.GeoDataFrame(
        {"code_qp": [f"Q{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=2154
    ).set_index("code_qp")


def _barriers(lines, assessed=None):
    gdf = gpd.GeoDataFrame(
        {"kind": [k for k, _, _ in lines], "name": [n for _, n, _ in lines], "source": "test"},
        geometry=[g for _, _, g in lines],
        crs=2154,
    )
    return barriers.Barriers(gdf, assessed or {"rail": "yes", "water": "yes", "road": "no"})


@pytest.fixture
def square():
    # 400 m square; a railway runs 20 m south of its southern side, the full width and beyond
    return _qpv(shapely.box(X0, Y0, X0 + 400, Y0 + 400))


def test_one_side_lined(square):
    rail = shapely.LineString([(X0 - 500, Y0 - 20), (X0 + 900, Y0 - 20)])
    b = _barriers([("rail", "RER D", rail)])
    s = enclavement.perimeter_share_lined(square, b, "rail")
    assert s.name == "share_perimeter_rail_pct"
    # the south side (400 m) plus 30 m of each of the two sides within 50 m of the line
    assert s["Q0"] == pytest.approx(100 * (400 + 2 * 30) / 1600)
    assert enclavement.perimeter_share_lined(square, b, "water")["Q0"] == 0.0
    assert enclavement.main_barrier(square, b)["Q0"] == "RER D (rail)"


def test_not_assessed_is_nan_not_zero(square):
    b = _barriers([])
    s = enclavement.perimeter_share_lined(square, b, "road")
    assert np.isnan(s["Q0"])
    ind = enclavement.barrier_indicators(square, b)
    assert ind.loc["Q0", "share_perimeter_rail_pct"] == 0.0
    assert np.isnan(ind.loc["Q0", "share_perimeter_road_pct"])
    assert "road: no" in ind.loc["Q0", "barriers_assessed"]


def test_holes_and_parts_count_in_the_boundary():
    outer = shapely.box(X0, Y0, X0 + 400, Y0 + 400)
    hole = shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)
    with_hole = outer.difference(hole)
    two_parts = shapely.MultiPolygon([outer, shapely.box(X0 + 1000, Y0, X0 + 1400, Y0 + 400)])
    q = _qpv(with_hole, two_parts)
    # a rail line across the hole only
    rail = shapely.LineString([(X0 + 100, Y0 + 200), (X0 + 300, Y0 + 200)])
    s = enclavement.perimeter_share_lined(q, _barriers([("rail", "x", rail)]), "rail")
    # the hole's east and west sides: 2 × 100 m within 50 m of the line's middle height
    assert s["Q0"] == pytest.approx(100 * 200 / 2400, rel=1e-6)
    assert s["Q1"] == 0.0


def test_ring_share(square):
    rail = shapely.LineString([(X0 - 500, Y0 - 220), (X0 + 900, Y0 - 220)])
    b = _barriers([("rail", "RER C", rail)])
    assert enclavement.perimeter_share_lined(square, b, "rail")["Q0"] == 0.0
    ring = enclavement.perimeter_share_lined(square, b, ring_m=200)
    assert ring.name == "share_ring200m_barrier_pct"
    assert ring["Q0"] > 10


def test_wrong_crs(square):
    with pytest.raises(CRSError, match="qpv"):
        enclavement.perimeter_share_lined(square.to_crs(4326), _barriers([]), "rail")


@pytest.mark.mirror
def test_mirror_barriers(data_dir):
    from qpvgeo.data import loaders

    qpv = loaders.load_qpv("91", data_dir=data_dir)
    b = barriers.load_barriers("91", data_dir=data_dir, offline=True)
    assert b.assessed == {"rail": "yes", "water": "partial", "road": "no"}
    assert set(b.lines["kind"]) == {"rail", "water"}
    assert not b.lines["name"].str.startswith("TRAM").any()
    ind = enclavement.barrier_indicators(qpv, b)
    assert len(ind) == 47
    # QN09105I (Corbeil) lies on the Seine (mirror README: 0 m from the Seine line)
    assert ind.loc["QN09105I", "share_perimeter_water_pct"] > 20
    assert ind.loc["QN09105I", "main_barrier"] == "Seine (water)"
    assert ind["share_perimeter_road_pct"].isna().all()


# ----------------------------------------------------------------- on a street network


def _grid_and_square():
    from qpvgeo.network import grid_network

    # 5 × 5 grid with 100 m blocks starting at (X0, Y0); the QPV is the central 200 m square
    net = grid_network(5, 100.0, origin=(X0, Y0))
    square = _qpv(shapely.box(X0 + 110, Y0 + 110, X0 + 290, Y0 + 290))
    return net, square


def test_boundary_crossings_on_grid():
    net, square = _grid_and_square()
    out = enclavement.boundary_crossings(square, net)
    # streets x = 200 and y = 200 each cross the square twice: one crossing per side
    assert out.loc["Q0", "n_crossings"] == 4
    perimeter_km = 4 * 180 / 1000
    assert out.loc["Q0", "crossings_per_km"] == pytest.approx(4 / perimeter_km)
    # crossings at the middle of each side: longest stretch between two is half a side × 2
    assert out.loc["Q0", "longest_without_crossing_m"] == pytest.approx(180.0)


def test_no_crossing_stays_finite():
    net, _ = _grid_and_square()
    inside_block = _qpv(shapely.box(X0 + 10, Y0 + 10, X0 + 90, Y0 + 90))
    out = enclavement.boundary_crossings(inside_block, net)
    assert out.loc["Q0", "n_crossings"] == 0
    assert out.loc["Q0", "crossings_per_km"] == 0.0
    assert out.loc["Q0", "longest_without_crossing_m"] == pytest.approx(320.0)


def _streets(*lines):
    """A network from polylines (coordinates relative to (X0, Y0)); their ends are its nodes."""
    import networkx as nx

    from qpvgeo.network import compile_network

    graph = nx.MultiDiGraph(crs="EPSG:2154")
    ids: dict[tuple[float, float], int] = {}
    for line in lines:
        ends = []
        for xy in (line[0], line[-1]):
            if xy not in ids:
                ids[xy] = len(ids)
                graph.add_node(ids[xy], x=X0 + xy[0], y=Y0 + xy[1])
            ends.append(ids[xy])
        geom = shapely.LineString([(X0 + x, Y0 + y) for x, y in line])
        graph.add_edge(ends[0], ends[1], geometry=geom)
    return compile_network(graph, name="streets")


# a 400 m square QPV whose southern side y = 0 follows a street
SQUARE = shapely.box(X0, Y0, X0 + 400, Y0 + 400)
#: the street along the southern side, its line drawn zig-zagging across the boundary,
#: both end nodes outside
ZIGZAG = [(-50.0, -4.0)] + [(x, 4.0 if k % 2 else -4.0) for k, x in enumerate(range(0, 401, 25))]
ZIGZAG += [(450.0, -4.0)]
#: the same street as a chain of junctions alternately 3 m inside and 3 m outside
ALONG = [[(x, -3.0 if k % 2 == 0 else 3.0), (x + 100, 3.0 if k % 2 == 0 else -3.0)]
         for k, x in enumerate(range(-100, 500, 100))]  # fmt: skip


def test_street_along_the_boundary_is_no_entry():
    q = _qpv(SQUARE)
    for net in (_streets(ZIGZAG), _streets(*ALONG)):
        out = enclavement.boundary_crossings(q, net)
        assert out.loc["Q0", "n_crossings"] == 0
        assert out.loc["Q0", "longest_without_crossing_m"] == pytest.approx(1600.0)
        assert len(enclavement.crossing_points(q, net)) == 0
    # the old definition (every intersection with the boundary) saw 16 crossings here
    assert len(_streets(ZIGZAG).edge_geometry[0].intersection(SQUARE.boundary).geoms) == 16


def test_street_entering_perpendicular_is_one_entry():
    q = _qpv(SQUARE)
    net = _streets(ZIGZAG, [(200.0, -100.0), (200.0, 200.0)])
    out = enclavement.boundary_crossings(q, net)
    assert out.loc["Q0", "n_crossings"] == 1
    assert out.loc["Q0", "crossings_per_km"] == pytest.approx(1 / 1.6)
    # one place: the longest stretch without is the whole perimeter
    assert out.loc["Q0", "longest_without_crossing_m"] == pytest.approx(1600.0)
    pts = enclavement.crossing_points(q, net)
    assert len(pts) == 1
    assert pts.geometry.iloc[0].distance(shapely.Point(X0 + 200, Y0)) < 1e-6


def test_side_street_from_a_junction_on_the_boundary_is_one_entry():
    # the boundary street has a junction 3 m inside at x = 200; a street leads from it inwards;
    # another street arrives at it from outside (the south): one entry, at the junction
    q = _qpv(SQUARE)
    net = _streets(*ALONG, [(200.0, 3.0), (200.0, 250.0)], [(200.0, 3.0), (200.0, -150.0)])
    out = enclavement.boundary_crossings(q, net)
    assert out.loc["Q0", "n_crossings"] == 1
    pts = enclavement.crossing_points(q, net)
    # the inward street never reaches the line: the boundary point nearest its outer end
    assert pts.geometry.iloc[0].distance(shapely.Point(X0 + 200, Y0)) < 1e-6


def test_close_entries_are_one_place_far_ones_two():
    q = _qpv(SQUARE)
    # two carriageways 10 m apart enter side by side: one place, at their middle
    pair = _streets([(195.0, -100.0), (195.0, 200.0)], [(205.0, -100.0), (205.0, 200.0)])
    out = enclavement.boundary_crossings(q, pair)
    assert out.loc["Q0", "n_crossings"] == 1
    pts = enclavement.crossing_points(q, pair)
    assert len(pts) == 1
    assert pts.geometry.iloc[0].distance(shapely.Point(X0 + 200, Y0)) < 1e-6
    # 60 m apart: two places; the longest stretch runs from one round the square to the other
    far = _streets([(170.0, -100.0), (170.0, 200.0)], [(230.0, -100.0), (230.0, 200.0)])
    out = enclavement.boundary_crossings(q, far)
    assert out.loc["Q0", "n_crossings"] == 2
    assert out.loc["Q0", "longest_without_crossing_m"] == pytest.approx(1600.0 - 60.0)
    assert len(enclavement.crossing_points(q, far)) == 2
    # a merge distance below 10 m keeps the two carriageways apart
    assert enclavement.boundary_crossings(q, pair, merge_m=5.0).loc["Q0", "n_crossings"] == 2


def test_entry_located_where_the_street_turns_in():
    # one street edge runs along the boundary, its line touching it at x = 87.5 and 112.5,
    # crosses it at x = 295 on its way to x = 320 where it turns north: followed from its
    # inside end, it first meets the boundary at x = 295, the place where it turns in
    q = _qpv(SQUARE)
    net = _streets(
        [(50.0, -60.0), (50.0, -3.0), (100.0, 1.0), (150.0, -3.0), (280.0, -3.0), (320.0, 5.0),
         (320.0, 200.0)]
    )  # fmt: skip
    assert enclavement.boundary_crossings(q, net).loc["Q0", "n_crossings"] == 1
    pt = enclavement.crossing_points(q, net).geometry.iloc[0]
    assert pt.distance(shapely.Point(X0 + 295, Y0)) < 1e-6


def test_street_structure_on_grid():
    net, square = _grid_and_square()
    out = enclavement.street_structure(square, net)
    # one node inside (200, 200), degree 4; blocks inside the square: none complete
    assert out.loc["Q0", "intersection_density_per_km2"] == pytest.approx(1 / (0.18 * 0.18))
    assert out.loc["Q0", "dead_end_share_pct"] == 0.0
    big = _qpv(shapely.box(X0 - 1, Y0 - 1, X0 + 401, Y0 + 401))
    out = enclavement.street_structure(big, net)
    assert out.loc["Q0", "mean_block_size_ha"] == pytest.approx(1.0)


def test_detour_index_on_grid():
    from ..conftest import points

    net, _ = _grid_and_square()
    # origin at a node, target diagonally opposite one block away: network 200 m, crow 141.4 m
    o = points([(100, 100)], code_qp=["Q0"], population=[1.0])
    t = points([(200, 200)])
    out = enclavement.detour_index(net, o, t)
    assert list(out.columns) == [
        "detour_index",
        "detour_index_p90",
        "detour_index_disconnected_pct",
    ]
    assert out.loc["Q0", "detour_index"] == pytest.approx(200 / np.hypot(100, 100))
    assert out.loc["Q0", "detour_index_p90"] == pytest.approx(200 / np.hypot(100, 100))
    assert out.loc["Q0", "detour_index_disconnected_pct"] == 0.0


def _detour_network():
    """Two components. Main: A(0,0) – B(100,0) – C(200,0); B – D(100,100); a long way
    A – E(0,300) – F(300,300) – C, so that C is 200 m from A. Apart: G(1000,0) – H(1100,0)."""
    import networkx as nx

    from qpvgeo.network import compile_network

    nodes = {"A": (0, 0), "B": (100, 0), "C": (200, 0), "D": (100, 100), "E": (0, 300),
             "F": (300, 300), "G": (1000, 0), "H": (1100, 0)}  # fmt: skip
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for name, (x, y) in nodes.items():
        graph.add_node(name, x=X0 + x, y=Y0 + y)
    for u, v in [("A", "B"), ("B", "C"), ("B", "D"), ("A", "E"), ("E", "F"), ("G", "H")]:
        graph.add_edge(u, v)
    graph.add_edge("F", "C", geometry=shapely.LineString([(X0 + 300, Y0 + 300), (X0 + 200, Y0)]))
    return compile_network(graph, name="detour"), nodes


def test_detour_index_against_networkx_with_legs_by_hand():
    import networkx as nx

    from ..conftest import points

    net, nodes = _detour_network()
    graph = nx.Graph()
    for e in range(net.n_edges):
        u, v = net.node_ids[net.edge_u[e]], net.node_ids[net.edge_v[e]]
        graph.add_edge(u, v, weight=float(net.edge_length[e]))

    def network(a: str, b: str) -> float:
        return nx.shortest_path_length(graph, a, b, weight="weight")

    # targets: T1 20 m east of D (place D, leg 20); T2 30 m south of B–C, 90 m from B
    # (place on B–C, leg 30)
    targets = points([(120, 100), (190, -30)])
    # o0: 20 m north of A–B, 50 m from A (leg 20). Crow: T1 at hypot(70, 80) = 106.3,
    #     T2 at hypot(140, 50) = 148.7 -> T1, via B: 20 + 50 + network(B, D) + 20
    # o1: 10 m west of A–E, 200 m from A (leg 10). Crow: T1 at hypot(130, 100) = 164.0,
    #     T2 at hypot(200, 230) -> T1, via A: 10 + 200 + network(A, D) + 20
    # o2: off the network (no street within 150 m): NaN, not disconnected
    # o3: 40 m south of B–C, 50 m from B (leg 40): crow to T2 hypot(40, 10) = 41.2 -> T2,
    #     on the same edge: 40 + |50 - 90| + 30
    # o4: 20 m north of G (leg 20), nearest target as the crow flies T2: no path, disconnected
    origins = points(
        [(50, 20), (-10, 200), (3000, 3000), (150, -40), (1000, 20)],
        code_qp=["Q"] * 5,
        population=[1.0] * 5,
    )
    per = enclavement.detour_per_origin(net, origins, targets)
    want_net = [
        20 + 50 + network("B", "D") + 20,
        10 + 200 + network("A", "D") + 20,
        np.nan,
        40 + 40 + 30,
        np.nan,
    ]
    crow = [np.hypot(70, 80), np.hypot(130, 100), np.hypot(2880, 2900), np.hypot(40, 10),
            np.hypot(810, 50)]  # fmt: skip
    assert want_net[:2] == [190.0, 430.0]
    assert per["target"].tolist() == [0, 0, 0, 1, 1]
    np.testing.assert_allclose(per["crow_m"], crow, rtol=1e-12)
    np.testing.assert_allclose(per["network_m"], want_net, rtol=1e-12)
    np.testing.assert_allclose(per["detour"], np.divide(want_net, crow), rtol=1e-12)
    assert per["disconnected"].tolist() == [False, False, False, False, True]
    assert (per["detour"].dropna() >= 1.0).all()
    out = enclavement.detour_index(net, origins, targets).loc["Q"]
    # four origins counted (o2 is off the network), one disconnected
    assert out["detour_index_disconnected_pct"] == pytest.approx(25.0)


def test_detour_quantiles_count_the_disconnected():
    from ..conftest import points

    net, _ = _detour_network()
    targets = points([(120, 100)])
    # ratios by hand (target T at (120, 100), place D, leg 20):
    # a at (100, 20) on B–D 20 m from B: walk 80 + 20 = 100, crow hypot(20, 80)
    # b at (0, 100) on A–E: walk 100 + 100 + 100 + 20 = 320, crow 120
    # c on G–H: disconnected
    origins = points(
        [(100, 20), (0, 100), (1050, 0)], code_qp=["Q", "Q", "Q"], population=[5.0, 3.0, 2.0]
    )
    r_a, r_b = 100 / np.hypot(20, 80), 320 / 120
    out = enclavement.detour_index(net, origins, targets, name="detour_gare").loc["Q"]
    # weights 5, 3, 2 on r_a < r_b < inf: the median is r_a; the 90th percentile falls on
    # the disconnected (cumulated 8 < 9): NaN, not the largest finite ratio
    assert out["detour_gare"] == pytest.approx(r_a)
    assert np.isnan(out["detour_gare_p90"])
    assert out["detour_gare_disconnected_pct"] == pytest.approx(20.0)
    # more than half disconnected: no median either
    heavy = origins.assign(population=[1.0, 1.0, 3.0])
    out = enclavement.detour_index(net, heavy, targets, name="detour_gare").loc["Q"]
    assert np.isnan(out["detour_gare"]) and out["detour_gare_disconnected_pct"] == 60.0
    # the median follows the weights: most residents at b
    light = origins.assign(population=[1.0, 9.0, 0.0])
    out = enclavement.detour_index(net, light, targets, name="detour_gare").loc["Q"]
    assert out["detour_gare"] == pytest.approx(r_b) and out["detour_gare_p90"] == pytest.approx(r_b)


def test_detour_ratio_is_at_least_one_on_the_mirror(data_dir):
    import geopandas as gpd

    from qpvgeo.network import load_network

    net = load_network(data_dir / "osm" / "essonne_etampes_drive_from-sumo_2025-04.graphml")
    rng = np.random.default_rng(91)

    def near_streets(n: int) -> gpd.GeoSeries:
        # random places on random edges, moved up to 100 m in x and y (some off the network)
        lines = net.edge_geometry[rng.integers(0, net.n_edges, n)]
        pts = shapely.line_interpolate_point(lines, rng.uniform(0, 1, n), normalized=True)
        xy = shapely.get_coordinates(pts) + rng.uniform(-100, 100, (n, 2))
        return gpd.GeoSeries(gpd.points_from_xy(*xy.T), crs=2154)

    origins = gpd.GeoDataFrame(
        {"code_qp": ["Q"] * 400, "population": np.ones(400)}, geometry=near_streets(400)
    )
    targets = gpd.GeoDataFrame(geometry=near_streets(15))
    per = enclavement.detour_per_origin(net, origins, targets)
    ok = per["detour"].dropna()
    assert len(ok) > 300
    assert ok.min() >= 1.0 - 1e-9
    # every origin on the network has a ratio or is counted as disconnected
    from qpvgeo.network import snap_points

    on = snap_points(net, origins)["on_network"]
    assert (per["detour"].notna() | per["disconnected"]).equals(on)


def test_enclavement_readings_are_transparent():
    import pandas as pd

    table = pd.DataFrame(
        {
            "share_perimeter_barrier_pct": [0.0, 50.0, 10.0],
            "share_perimeter_rail_pct": [0.0, 50.0, 10.0],
            "share_perimeter_road_pct": [0.0, 0.0, 0.0],
            "share_ring200m_barrier_pct": [0.0, 0.0, 0.0],
            "crossings_per_km": [15.0, 2.0, 8.5],
            "longest_without_crossing_m": [200.0, 1000.0, 600.0],
            "detour_gare": [1.2, 2.0, np.nan],
            "detour_supermarche": [1.2, 2.0, 1.6],
        },
        index=["open", "cut", "partial"],
    )
    out = enclavement.enclavement_index(table)
    # barrier index: the perimeter share on 0-50 %, for every QPV
    assert out["barrier_index"].tolist() == pytest.approx([0.0, 1.0, 0.2])
    # network index: the mean of the four network scores, only where all four are known
    assert out.loc["open", "enclavement_index"] == 0.0
    assert out.loc["cut", "enclavement_index"] == 1.0
    assert np.isnan(out.loc["partial", "enclavement_index"])
    assert out.loc["partial", "enclavement_missing"] == "detour_gare"
    assert out.loc["partial", "enclavement_crossings_per_km_score"] == pytest.approx(0.5)
    assert list(out["enclavement_type"]) == ["pas de coupure", "forte coupure", "coupure modérée"]
    # (3 × 0.5 + 0.5 + 0.5 + 0.5) / 6 once the detour is known
    table.loc["partial", "detour_gare"] = 1.6
    weighted = enclavement.enclavement_index(table, weights={"crossings_per_km": 3.0})
    assert weighted.loc["partial", "enclavement_index"] == pytest.approx(0.5)
    weighted = enclavement.enclavement_index(
        table.assign(crossings_per_km=[15.0, 2.0, 2.0]), weights={"crossings_per_km": 3.0}
    )
    assert weighted.loc["partial", "enclavement_index"] == pytest.approx((3 * 1 + 3 * 0.5) / 6)


def test_type_says_not_assessed_when_a_barrier_kind_is_missing():
    import pandas as pd

    table = pd.DataFrame(
        {
            "share_perimeter_barrier_pct": [0.0, 30.0, 6.0],
            "share_perimeter_rail_pct": [0.0, 30.0, 6.0],
            "share_perimeter_road_pct": [np.nan, np.nan, np.nan],
            "share_ring200m_barrier_pct": [0.0, 0.0, 0.0],
        },
        index=["a", "b", "c"],
    )
    kinds = enclavement.enclavement_index(table)["enclavement_type"].tolist()
    missing = "non évalué (autoroutes et routes principales absentes des données)"
    # never "pas de coupure" while motorways were not looked at; a strong cut stays one
    assert kinds == [
        missing,
        "forte coupure (autoroutes et routes principales non évaluées)",
        missing,
    ]


def test_crossing_points_and_detour_paths():
    from ..conftest import points

    net, square = _grid_and_square()
    pts = enclavement.crossing_points(square, net)
    assert len(pts) == 4 and set(pts["code_qp"]) == {"Q0"}
    target = points([(400, 400)])
    paths = enclavement.detour_paths(square, net, target, label="gare")
    assert set(paths["kind"]) == {"vol d'oiseau", "itinéraire"}
    straight = paths[paths["kind"] == "vol d'oiseau"].geometry.iloc[0]
    route = paths[paths["kind"] == "itinéraire"].geometry.iloc[0]
    # from the square's centre (200, 200) to (400, 400): 283 m straight, 400 m along the grid
    assert straight.length == pytest.approx(np.hypot(200, 200))
    assert route.length == pytest.approx(400.0)
    assert paths["detour_index"].iloc[0] == pytest.approx(400 / np.hypot(200, 200))


def test_detour_paths_draw_the_walk_detour_index_measures():
    from ..conftest import points

    net, _ = _grid_and_square()
    q = _qpv(shapely.box(X0 + 110, Y0 + 110, X0 + 180, Y0 + 190))
    start = q.representative_point().iloc[0]
    target = points([(400, 400), (-300, -300)])
    paths = enclavement.detour_paths(q, net, target, label="gare")
    walk = paths[paths["kind"] == "itinéraire"].iloc[0]
    # from the start 45 m east of the street x = 100 (leg 45), up to (100, 200), then 300 m
    # east and 200 m north to the target at a node (no leg)
    assert (start.x - X0, start.y - Y0) == pytest.approx((145.0, 150.0))
    assert walk["length_m"] == pytest.approx(45 + 50 + 300 + 200)
    assert walk.geometry.length == pytest.approx(walk["length_m"])
    crow = np.hypot(255, 250)
    assert walk["detour_index"] == pytest.approx(595 / crow)
    origin = points([(145, 150)], code_qp=["Q0"], population=[1.0])
    index = enclavement.detour_index(net, origin, target)
    assert index.loc["Q0", "detour_index"] == pytest.approx(walk["detour_index"])


def test_roads_assessed_inside_an_extract_extent_only():
    # two 400 m squares 3 km apart, a trunk road along the south side of each; an OSM extract
    # covers the first only: the second's road share is not assessed (NaN), never 0 or 25
    inside = shapely.box(X0, Y0, X0 + 400, Y0 + 400)
    outside = shapely.box(X0 + 3000, Y0, X0 + 3400, Y0 + 400)
    road = shapely.LineString([(X0 - 500, Y0 - 20), (X0 + 3900, Y0 - 20)])
    rail = shapely.LineString([(X0 - 500, Y0 + 420), (X0 + 3900, Y0 + 420)])
    b = _barriers([("road", "N 118", road), ("rail", "RER B", rail)], {k: "yes" for k in barriers.KINDS})
    b.extent = shapely.box(X0 - 1000, Y0 - 1000, X0 + 1500, Y0 + 1500)
    b.assessed_outside = {"rail": "yes", "water": "partial", "road": "no"}
    out = enclavement.barrier_indicators(_qpv(inside, outside), b)
    assert list(out.index) == ["Q0", "Q1"]
    # by hand: each line, 20 m off a side, lines that side (400 m) and 30 m of its two
    # neighbours: 460 m of the 1,600 m boundary
    lined = 100 * 460 / 1600
    assert out.at["Q0", "share_perimeter_road_pct"] == pytest.approx(lined)
    assert np.isnan(out.at["Q1", "share_perimeter_road_pct"])
    assert out["share_perimeter_rail_pct"].tolist() == pytest.approx([lined, lined])
    # every assessed kind together: roads count where they are assessed only
    assert out["share_perimeter_barrier_pct"].tolist() == pytest.approx([2 * lined, lined])
    assert out.at["Q0", "barriers_assessed"] == "rail: yes, water: yes, road: yes"
    assert out.at["Q1", "barriers_assessed"] == "rail: yes, water: partial, road: no"
