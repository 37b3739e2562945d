"""Property-based tests of the public functions (hypothesis).

Two kinds of properties:

- *robustness*: every public function, its other arguments right, given any value for one of
  its parameters (numbers of any sign and size, NaN, infinities, strings, lists, None), either
  answers or raises a qpvgeo error, never a foreign exception or warning;
- *results*: on a street grid where the answer is known independently (networkx, shapely,
  numpy), random inputs give that answer: walking times, counts within a time, snapping,
  coverage, weighted quantiles, origins of a grid, Huff probabilities, 2SFCA conservation.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qpvgeo import network
from qpvgeo._errors import (
    CRSError,
    DataNotFoundError,
    QpvgeoError,
    UnknownCodeError,
    ValidationError,
)
from qpvgeo.data import barriers as barriers_mod
from qpvgeo.data import loaders, population
from qpvgeo.indicators import access, coupling, enclavement, fca, flows, huff
from qpvgeo.network import centrality, engine, isochrones

from .conftest import X0, Y0

SIDE, STEP = 6, 100.0  # a 6 × 6 grid, 100 m streets: 500 m × 500 m
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: anything a caller might pass for a number
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.sampled_from([np.float64("nan"), np.float64(-1.0), np.int64(0), np.float64(1e-9)]),
    st.text(max_size=4),
    st.lists(st.floats(-1e3, 1e3), max_size=3),
    st.just(np.array([[1.0, 2.0]])),
)

GRID = network.grid_network(SIDE, STEP, origin=(X0, Y0))


def pts(xy, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        columns, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs="EPSG:2154"
    )


ORIGINS = pts([(10, 0), (250, 200), (480, 330), (40, 460)], code_qp=["A", "A", "B", "B"],
              population=[10.0, 20.0, 5.0, 7.0])  # fmt: skip
SHOPS = pts([(100, 40), (300, 200), (420, 500), (0, 150)],
            category=["pharmacie", "boulangerie", "pharmacie", "boulangerie"], label_fr=["ph", "bo", "ph", "bo"],
            is_commerce=[True, True, True, True], is_public_service=[False, False, True, False])  # fmt: skip
SNAPPED_O = network.snap_points(GRID, ORIGINS)
SNAPPED_S = network.snap_points(GRID, SHOPS)
ZONES = gpd.GeoDataFrame({"code_qp": ["A", "B"]}, geometry=[shapely.box(X0, Y0, X0 + 250, Y0 + 250),
                         shapely.box(X0 + 250, Y0 + 250, X0 + 500, Y0 + 500)], crs=2154).set_index("code_qp")  # fmt: skip
TIMES = access.network_time_to_nearest(GRID, ORIGINS, SHOPS, ["pharmacie", "boulangerie"])
COST = pd.DataFrame({"origin": [0, 0, 1, 2], "target": ["a", "b", "a", "b"], "dist_m": [100.0, 400.0, 300.0, 50.0]})
BARRIERS = barriers_mod.Barriers(
    lines=gpd.GeoDataFrame({"kind": ["rail"], "name": ["x"], "source": ["test"]},
                           geometry=[shapely.LineString([(X0 - 10, Y0 + 120), (X0 + 510, Y0 + 120)])], crs=2154),
    assessed={"rail": "yes", "water": "no", "road": "no"},
)  # fmt: skip
PAIRS = coupling.network_distances(GRID, SHOPS, cutoff_m=1000)
EDGE_FLOW = pd.Series(np.linspace(0, 1, GRID.n_edges), name="flow_trips")
CATS = ["pharmacie", "boulangerie"]

#: each public function with right arguments, and the parameters the robustness test varies
CALLS = {
    "snap_points": (lambda **k: network.snap_points(GRID, ORIGINS, **k), ["max_snap_m"]),
    "metres_per_minute": (lambda **k: network.metres_per_minute(**k), ["walk_speed_kmh"]),
    "grid_network": (lambda **k: network.grid_network(**{"n_side": 3, **k}), ["spacing_m"]),
    "network_time_to_nearest": (lambda **k: access.network_time_to_nearest(GRID, ORIGINS, SHOPS, CATS, **k),
                                ["walk_speed_kmh", "max_snap_m"]),
    "crowfly_time_to_nearest": (lambda **k: access.crowfly_time_to_nearest(ORIGINS, SHOPS, CATS, **k),
                                ["detour_factor", "walk_speed_kmh"]),
    "opportunities_within": (lambda **k: access.opportunities_within(GRID, ORIGINS, SHOPS, CATS, **k),
                             ["thresholds_min", "walk_speed_kmh", "max_snap_m"]),
    "summarise_by_zone": (lambda **k: access.summarise_by_zone(TIMES, ORIGINS, **k), ["thresholds_min", "on_network"]),
    "weighted_quantile": (lambda **k: access.weighted_quantile(np.arange(4.0), np.ones(4), **{"q": 0.5, **k}), ["q"]),
    "grid_origins": (lambda **k: population.grid_origins(ZONES, **k), ["spacing_m"]),
    "local_centrality": (lambda **k: centrality.local_centrality(GRID, **k), ["radii_m", "tie_tolerance_m"]),
    "local_closeness": (lambda **k: centrality.local_closeness(GRID, **k), ["radii_m"]),
    "node_distances": (lambda **k: isochrones.node_distances(GRID, SNAPPED_O["edge"].to_numpy(),
                       SNAPPED_O["offset_m"].to_numpy(), **k), ["limit_m"]),
    "isochrones": (lambda **k: isochrones.isochrones(GRID, SNAPPED_O, **k), ["minutes", "walk_speed_kmh", "frontage_m"]),
    "count_within": (lambda **k: engine.count_within(GRID, SNAPPED_O["edge"].to_numpy(), SNAPPED_O["offset_m"].to_numpy(),
                     SNAPPED_S["edge"].to_numpy(), SNAPPED_S["offset_m"].to_numpy(), np.array([0, 1, 0, 1]),
                     **{"radii_m": 300.0, **k}), ["radii_m", "n_categories"]),
    "nearest_by_category": (lambda **k: engine.nearest_by_category(GRID, SNAPPED_O["edge"].to_numpy(),
                            SNAPPED_O["offset_m"].to_numpy(), SNAPPED_S["edge"].to_numpy(), SNAPPED_S["offset_m"].to_numpy(),
                            np.array([0, 1, 0, 1]), **k), ["n_categories", "max_dist_m"]),
    "distances_within": (lambda **k: engine.distances_within(GRID, SNAPPED_O["edge"].to_numpy(),
                         SNAPPED_O["offset_m"].to_numpy(), SNAPPED_S["edge"].to_numpy(), SNAPPED_S["offset_m"].to_numpy(),
                         **{"cutoff_m": 300.0, **k}), ["cutoff_m"]),
    "two_step_fca": (lambda **k: fca.two_step_fca(COST, pd.Series([5.0, 1.0, 2.0]), pd.Series({"a": 1.0, "b": 2.0}),
                     **{"catchment_m": 350.0, **k}), ["catchment_m"]),
    "gaussian_decay": (lambda **k: fca.gaussian_decay(**{"bandwidth_m": 200.0, **k})(np.array([0.0, 100.0])),
                       ["bandwidth_m"]),
    "step_decay": (lambda **k: fca.step_decay(**k)(np.array([0.0, 100.0])), ["breaks_m", "weights"]),
    "huff_probabilities": (lambda **k: huff.huff_probabilities(COST, pd.Series({"a": 1.0, "b": 3.0}), **k),
                           ["beta", "min_dist_m"]),
    "street_flows": (lambda **k: flows.street_flows(GRID, ORIGINS, SHOPS, **k), ["cutoff_m", "decay_m"]),
    "candidate_segments": (lambda **k: flows.candidate_segments(GRID, EDGE_FLOW, SHOPS, **k),
                           ["quantile", "no_shop_within_m"]),
    "network_distances": (lambda **k: coupling.network_distances(GRID, SHOPS, **{"cutoff_m": 300.0, **k}), ["cutoff_m"]),
    "colocation_quotients": (lambda **k: coupling.colocation_quotients(np.array(["A", "B", "A", "B"]), PAIRS,
                             **{"permutations": 9, **k}), ["bandwidth_m", "permutations", "seed"]),
    "polarites": (lambda **k: coupling.polarites(SHOPS, PAIRS, **k), ["link_m", "min_size"]),
    "nearest_service_pairs": (lambda **k: coupling.nearest_service_pairs(GRID, SHOPS.iloc[:2], SHOPS.iloc[2:], **k),
                              ["max_walk_min", "walk_speed_kmh"]),
    "boundary_crossings": (lambda **k: enclavement.boundary_crossings(ZONES, GRID, **k), ["band_m", "merge_m"]),
    "perimeter_share_lined": (lambda **k: enclavement.perimeter_share_lined(ZONES, BARRIERS, **k),
                              ["kind", "ring_m"]),
    "barrier_indicators": (lambda **k: enclavement.barrier_indicators(ZONES, BARRIERS, **k), ["ring_m"]),
    "load_equipments": (lambda **k: loaders.load_equipments("91", data_dir="/nonexistent", offline=True, **k),
                        ["buffer_m"]),
}  # fmt: skip


def call(name: str, **kwargs):
    """The call's result or its qpvgeo error; a foreign exception or warning fails the test."""
    f, _ = CALLS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy/pandas warning is a foreign message too
        warnings.simplefilter("ignore", category=__import__("qpvgeo").QpvgeoWarning)
        try:
            return f(**kwargs)
        except QpvgeoError as exc:
            assert "np.float64(" not in str(exc) and "np.int64(" not in str(exc), str(exc)
            return exc


@pytest.mark.parametrize("name", list(CALLS))
def test_right_arguments_give_a_result(name):
    got = call(name)
    if name == "load_equipments":  # no data directory: the arguments are checked before reading
        assert isinstance(got, DataNotFoundError)
    else:
        assert not isinstance(got, QpvgeoError)


@pytest.mark.parametrize("name", list(CALLS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_of_any_parameter_gives_a_result_or_a_qpvgeo_error(name, data):
    params = CALLS[name][1]
    param = data.draw(st.sampled_from(params), label="parameter")
    value = data.draw(ANY_VALUE, label="value")
    call(name, **{param: value})  # a foreign exception propagates and fails


# --------------------------------------------------------------------------- results


def networkx_distance(net, a: shapely.Point, b: shapely.Point) -> float:
    """Walking distance between two points along the grid, with networkx: each point's
    straight leg to its nearest street, then the streets."""
    G = nx.Graph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        G.add_edge(int(u), int(v), weight=float(length))
    ends = []
    for tag, p in (("a", a), ("b", b)):
        d = shapely.distance(net.edge_geometry, p)
        e = int(np.argmin(d))
        line = net.edge_geometry[e]
        t = line.project(p)
        G.add_edge(tag, int(net.edge_u[e]), weight=float(d[e] + t))
        G.add_edge(tag, int(net.edge_v[e]), weight=float(d[e] + line.length - t))
        ends.append((e, t, float(d[e])))
    best = nx.dijkstra_path_length(G, "a", "b")
    if ends[0][0] == ends[1][0]:  # same street: straight along it
        best = min(best, ends[0][2] + abs(ends[0][1] - ends[1][1]) + ends[1][2])
    return best


coords = st.tuples(st.floats(-40, 540), st.floats(-40, 540))


@FAST
@given(o=st.lists(coords, min_size=1, max_size=4), s=st.lists(coords, min_size=1, max_size=4),
       speed=st.floats(2.0, 7.0), order=st.booleans())  # fmt: skip
def test_walking_times_are_networkx_distances(o, s, speed, order):
    origins = pts(o, code_qp=["A"] * len(o), population=[1.0] * len(o))
    shops = pts(s, category=["pharmacie"] * len(s))
    cats = ["pharmacie", "boulangerie"] if order else ["boulangerie", "pharmacie"]
    shops.loc[shops.index[-1], "category"] = "boulangerie"
    times = access.network_time_to_nearest(GRID, origins, shops, cats, walk_speed_kmh=speed, max_snap_m=200)
    for cat in ("pharmacie", "boulangerie"):
        mine = shops[shops["category"] == cat]
        for i, p in enumerate(origins.geometry):
            if len(mine) == 0:
                assert math.isnan(times[f"walk_min_{cat}"].iloc[i])
                continue
            expected = min(networkx_distance(GRID, p, q) for q in mine.geometry) / (speed * 1000 / 60)
            assert times[f"walk_min_{cat}"].iloc[i] == pytest.approx(expected, rel=1e-9, abs=1e-9)


@FAST
@given(o=st.lists(coords, min_size=1, max_size=4), s=st.lists(coords, min_size=1, max_size=5),
       thresholds=st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))  # fmt: skip
def test_counts_within_agree_with_the_nearest_time(o, s, thresholds):
    """At least one equipment within t minutes exactly when the nearest is within t (street
    distance, as counts go), and counts grow with t."""
    origins = pts(o, code_qp=["A"] * len(o), population=[1.0] * len(o))
    shops = pts(s, category=["pharmacie"] * len(s))
    counts = access.opportunities_within(GRID, origins, shops, "pharmacie", thresholds_min=tuple(thresholds),
                                         max_snap_m=200)  # fmt: skip
    nearest = access.network_time_to_nearest(GRID, origins, shops, "pharmacie", max_snap_m=200, snap_legs=False)
    for t in thresholds:
        n = counts[f"n_pharmacie_within_{t}min"]
        near = nearest["walk_min_pharmacie"]
        close = (near - t).abs() < 1e-9
        assert ((n >= 1) == (near <= t))[~close].all()
        assert (n <= len(shops)).all()
    ordered = sorted(thresholds)
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert (counts[f"n_pharmacie_within_{a}min"] <= counts[f"n_pharmacie_within_{b}min"]).all()


@FAST
@given(p=st.lists(coords, min_size=1, max_size=6), max_snap=st.floats(0.5, 300))
def test_snapping_is_the_distance_to_the_nearest_street(p, max_snap):
    points = pts(p)
    snapped = network.snap_points(GRID, points, max_snap_m=max_snap)
    streets = shapely.MultiLineString(list(GRID.edge_geometry))
    d = shapely.distance(streets, points.geometry.to_numpy())
    on = d <= max_snap
    assert (snapped["on_network"].to_numpy() == on)[np.abs(d - max_snap) > 1e-9].all()
    np.testing.assert_allclose(snapped["snap_m"].to_numpy()[on], d[on], atol=1e-9)


@FAST
@given(box=st.tuples(st.floats(-300, 600), st.floats(-300, 600), st.floats(1, 400), st.floats(1, 400)),
       crs=st.sampled_from([2154, 4326, 3857, None]))  # fmt: skip
def test_coverage_share_is_the_area_inside_the_hull(box, crs):
    x, y, w, h = box
    poly = gpd.GeoSeries([shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)], crs=2154)
    hull = shapely.box(X0, Y0, X0 + 500, Y0 + 500)  # the grid's convex hull
    expected = poly.iloc[0].intersection(hull).area / poly.iloc[0].area
    given_ = poly if crs == 2154 else (poly.set_crs(None, allow_override=True) if crs is None else poly.to_crs(crs))
    if crs != 2154:
        with pytest.raises(CRSError):
            network.coverage_share(GRID, given_)
        return
    assert network.coverage_share(GRID, given_).iloc[0] == pytest.approx(expected, abs=1e-9)


@FAST
@given(values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), data=st.data(),
       q=st.floats(0.01, 1.0))  # fmt: skip
def test_weighted_quantile_is_the_quantile_of_repeated_values(values, data, q):
    weights = data.draw(st.lists(st.integers(0, 5), min_size=len(values), max_size=len(values)))
    assume(sum(weights) > 0)
    got = access.weighted_quantile(np.array(values), np.array(weights, dtype=float), q)
    expected = np.quantile(np.repeat(values, weights), q, method="inverted_cdf")
    assert got == expected


@FAST
@given(w=st.floats(1, 600), h=st.floats(1, 600), spacing=st.floats(5, 200))
def test_grid_origins_are_the_cell_centres_inside(w, h, spacing):
    zones = gpd.GeoDataFrame({"code_qp": ["A"]}, geometry=[shapely.box(X0, Y0, X0 + w, Y0 + h)], crs=2154)
    origins = population.grid_origins(zones.set_index("code_qp"), spacing_m=spacing)
    nx_ = len(np.arange(X0 + spacing / 2, X0 + w, spacing))
    ny_ = len(np.arange(Y0 + spacing / 2, Y0 + h, spacing))
    inside = [(i, j) for i in range(nx_) for j in range(ny_)
              if X0 + spacing / 2 + i * spacing < X0 + w and Y0 + spacing / 2 + j * spacing < Y0 + h]  # fmt: skip
    assert len(origins) == max(1, len(inside))
    assert origins.geometry.within(zones.geometry.iloc[0]).all()


@FAST
@given(dist=st.lists(st.floats(0, 2000), min_size=1, max_size=12), data=st.data(), beta=st.floats(0.1, 4))
def test_huff_probabilities_sum_to_one_per_origin(dist, data, beta):
    n = len(dist)
    origin = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    target = data.draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    cost = pd.DataFrame({"origin": origin, "target": target, "dist_m": dist}).drop_duplicates(["origin", "target"])
    attract = pd.Series({"a": 1.0, "b": 2.5, "c": 10.0})
    p = huff.huff_probabilities(cost, attract, beta=beta)
    np.testing.assert_allclose(p.groupby("origin")["p"].sum(), 1.0)
    assert ((p["p"] > 0) & (p["p"] <= 1)).all()


@FAST
@given(dist=st.lists(st.floats(0, 1000), min_size=1, max_size=12), data=st.data(), catchment=st.floats(10, 1200))
def test_2sfca_conserves_the_supply_in_reach(dist, data, catchment):
    n = len(dist)
    origin = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    target = data.draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    cost = pd.DataFrame({"origin": origin, "target": target, "dist_m": dist}).drop_duplicates(["origin", "target"])
    demand = pd.Series(data.draw(st.lists(st.floats(0.5, 100), min_size=4, max_size=4)))
    supply = pd.Series({"a": 1.0, "b": 2.0, "c": 4.0})
    ratio = fca.two_step_fca(cost, demand, supply, catchment_m=catchment)
    reached = cost.loc[cost["dist_m"] <= catchment, "target"].unique()
    assert (ratio * demand.reindex(ratio.index)).sum() == pytest.approx(supply[reached].sum())


@FAST
@given(name=st.text(min_size=1, max_size=12))
def test_a_category_name_is_known_or_refused(name):
    known = set(__import__("qpvgeo").data.nomenclature.categories().index) | {"pharmacie", "boulangerie"}
    try:
        out = access.opportunities_within(GRID, ORIGINS, SHOPS, name, thresholds_min=(5,))
    except UnknownCodeError as exc:
        assert name not in known and repr(name) in str(exc)
        return
    assert name in known and list(out.columns) == [f"n_{name}_within_5min"]


@settings(max_examples=15, deadline=None)
@given(spacing=st.one_of(st.floats(1e-9, 0.5), st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0])))
def test_grid_size_is_capped_or_refused(spacing):
    big = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 5000, Y0 + 5000)], crs=2154)
    with pytest.raises(ValidationError, match=r"`spacing_m`"):
        population.grid_origins(big, spacing_m=spacing)


DEFECTS = {
    "missing": lambda poly: None,
    "empty": lambda poly: shapely.Polygon() if poly else shapely.Point(),
    "other type": lambda poly: shapely.Point(X0, Y0) if poly else shapely.box(X0, Y0, X0 + 50, Y0 + 50),
    "nan": lambda poly: shapely.Polygon([(X0, Y0), (X0, Y0), (X0, Y0)]) if poly else shapely.Point(np.nan, np.nan),
    "far away": lambda poly: shapely.box(X0 + 1e9, Y0, X0 + 1e9 + 10, Y0 + 10) if poly else shapely.Point(X0 + 1e9, Y0),
}
GEOMETRY_CALLS = {
    "snap_points": lambda o, s, z: network.snap_points(GRID, o),
    "resident_coverage": lambda o, s, z: network.resident_coverage(GRID, o),
    "coverage_share": lambda o, s, z: network.coverage_share(GRID, z.geometry),
    "network_time_to_nearest": lambda o, s, z: access.network_time_to_nearest(GRID, o, s, CATS),
    "opportunities_within": lambda o, s, z: access.opportunities_within(GRID, o, s, CATS),
    "crowfly_time_to_nearest": lambda o, s, z: access.crowfly_time_to_nearest(o, s, CATS),
    "grid_origins": lambda o, s, z: population.grid_origins(z),
    "street_flows": lambda o, s, z: flows.street_flows(GRID, o, s),
    "network_distances": lambda o, s, z: coupling.network_distances(GRID, s, cutoff_m=300),
    "nearest_service_pairs": lambda o, s, z: coupling.nearest_service_pairs(GRID, s, s),
    "detour_index": lambda o, s, z: __import__("qpvgeo").indicators.detour.detour_index(GRID, o, s),
    "boundary_crossings": lambda o, s, z: enclavement.boundary_crossings(z, GRID),
    "street_structure": lambda o, s, z: enclavement.street_structure(z, GRID),
    "perimeter_share_lined": lambda o, s, z: enclavement.perimeter_share_lined(z, BARRIERS),
}  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layer=st.sampled_from(["origins", "shops", "zones"]),
    defect=st.sampled_from([*DEFECTS, "no row", "duplicated index"]),
    row=st.integers(0, 1),
    name=st.sampled_from(list(GEOMETRY_CALLS)),
)
def test_empty_and_degenerate_geometries_give_a_result_or_a_qpvgeo_error(layer, defect, row, name):
    frames = {"origins": ORIGINS.copy(), "shops": SHOPS.copy(), "zones": ZONES.copy()}
    frame = frames[layer]
    if defect == "no row":
        frames[layer] = frame.iloc[:0]
    elif defect == "duplicated index":
        frame.index = [frame.index[0]] * len(frame)
    else:
        frame.loc[frame.index[row], "geometry"] = DEFECTS[defect](layer == "zones")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", category=__import__("qpvgeo").QpvgeoWarning)
        try:
            GEOMETRY_CALLS[name](frames["origins"], frames["shops"], frames["zones"])
        except QpvgeoError as exc:
            assert "\n" not in str(exc)
