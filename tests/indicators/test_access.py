from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qpvgeo import settings
from qpvgeo._errors import CRSError, ValidationError
from qpvgeo.indicators import access as accessibility

from ..conftest import points

# 4.5 km/h = 75 m/min
SPEED = 75.0


@pytest.fixture
def shops():
    # boulangerie on B–C at 50 m from B; pharmacie on B–D 80 m from B; a far épicerie off the network
    return points(
        [(150, -5), (100, 80), (5000, 5000)], category=["boulangerie", "pharmacie", "epicerie"]
    )


@pytest.fixture
def origins():
    # on A–B 50 m from A; at A; far from any street
    return points(
        [(50, 10), (0, 0), (3000, 3000)], code_qp=["Q1", "Q1", "Q1"], population=[10.0, 30.0, 5.0]
    )


def test_network_time_exact(tiny_network, origins, shops):
    times = accessibility.network_time_to_nearest(
        tiny_network, origins, shops, ["boulangerie", "pharmacie", "epicerie"], walk_speed_kmh=4.5
    )
    assert list(times.columns) == [
        "walk_min_boulangerie",
        "walk_min_pharmacie",
        "walk_min_epicerie",
    ]
    # origin 0: 10 m to the street, 50 to B, 50 along B–C, 5 m to the boulangerie;
    # 10 + 50 + 80 to the pharmacie (on the street)
    assert times.iloc[0, 0] == pytest.approx((10 + 100 + 5) / SPEED)
    assert times.iloc[0, 1] == pytest.approx((10 + 130) / SPEED)
    # origin 1 at A: 150 m + the boulangerie's 5 m, and 180 m
    assert times.iloc[1, 0] == pytest.approx((150 + 5) / SPEED)
    assert times.iloc[1, 1] == pytest.approx(180 / SPEED)
    # without the legs: between the places on the streets only
    bare = accessibility.network_time_to_nearest(
        tiny_network, origins, shops, ["boulangerie", "pharmacie"], walk_speed_kmh=4.5,
        snap_legs=False,
    )  # fmt: skip
    assert bare.iloc[0].tolist() == pytest.approx([100 / SPEED, 130 / SPEED])
    # the épicerie is off the network: not a destination, so absent (NaN), never 0
    assert times["walk_min_epicerie"].isna().all()
    # an origin off the network gets NaN everywhere
    assert times.iloc[2].isna().all()


def test_walk_speed_setting(tiny_network, origins, shops, monkeypatch):
    monkeypatch.setattr(settings, "walk_speed_kmh", 3.0)
    times = accessibility.network_time_to_nearest(tiny_network, origins, shops, ["boulangerie"])
    assert times.iloc[0, 0] == pytest.approx(115 / 50.0)


def test_nearest_is_chosen_with_its_own_leg(tiny_network):
    # from A: a boulangerie 40 m along A–B but 140 m off the street (total 180 m), another
    # on B–C 170 m along the streets at the kerb (total 170 m): the second is the nearest
    o = points([(0, 0)], code_qp=["Q"], population=[1.0])
    shops = points([(40, -140), (170, 0)], category=["boulangerie", "boulangerie"])
    times = accessibility.network_time_to_nearest(
        tiny_network, o, shops, ["boulangerie"], walk_speed_kmh=4.5
    )
    assert times.iloc[0, 0] == pytest.approx(170 / SPEED)
    bare = accessibility.network_time_to_nearest(
        tiny_network, o, shops, ["boulangerie"], walk_speed_kmh=4.5, snap_legs=False
    )
    assert bare.iloc[0, 0] == pytest.approx(40 / SPEED)


def _networkx_times(net, origins, shops, categories):
    """Reference: networkx on the graph with every point joined to its nearest street by hand.

    Each point's nearest edge and the place on it are found by brute force with
    shapely (every edge tried); the edge is split there and a leg edge joins the
    point to the place. Times in metres (the caller divides by the speed).
    """
    import networkx as nx

    graph = nx.Graph()
    pieces: dict[int, list[tuple[float, object]]] = {}

    def attach(name, geom):
        d = [geom.distance(line) for line in net.edge_geometry]
        e = int(np.argmin(d))
        line = net.edge_geometry[e]
        place = line.interpolate(line.project(geom))
        pieces.setdefault(e, []).append((line.project(geom), ("place", name)))
        graph.add_edge(name, ("place", name), weight=geom.distance(place))

    for i, g in enumerate(origins.geometry):
        attach(("o", i), g)
    for j, g in enumerate(shops.geometry):
        attach(("s", j), g)
    for e in range(net.n_edges):
        u, v = ("n", int(net.edge_u[e])), ("n", int(net.edge_v[e]))
        stops = sorted(pieces.get(e, []), key=lambda p: p[0])
        chain = [(0.0, u), *stops, (float(net.edge_length[e]), v)]
        for (a, na), (b, nb) in zip(chain[:-1], chain[1:], strict=True):
            w = b - a
            if graph.has_edge(na, nb):
                w = min(w, graph.edges[na, nb]["weight"])
            graph.add_edge(na, nb, weight=w)
    out = np.full((len(origins), len(categories)), np.nan)
    for c, cat in enumerate(categories):
        sources = [("s", j) for j in np.flatnonzero(shops["category"].to_numpy() == cat)]
        if not sources:
            continue
        dist = nx.multi_source_dijkstra_path_length(graph, sources, weight="weight")
        for i in range(len(origins)):
            out[i, c] = dist.get(("o", i), np.nan)
    return out


def test_network_time_agrees_with_networkx_on_a_grid():
    from qpvgeo.network import grid_network

    from ..conftest import X0, Y0

    net = grid_network(4, 100.0, origin=(X0, Y0))
    rng = np.random.default_rng(9)
    o = points([tuple(xy) for xy in rng.uniform(-40, 340, (30, 2))], code_qp=["Q"] * 30)
    cats = ["boulangerie", "pharmacie", "epicerie"]
    shops = points(
        [tuple(xy) for xy in rng.uniform(-40, 340, (9, 2))],
        category=[cats[k % 2] for k in range(9)],  # no épicerie: all NaN
    )
    got = accessibility.network_time_to_nearest(net, o, shops, cats, walk_speed_kmh=4.5)
    want = _networkx_times(net, o, shops, cats) / SPEED
    assert got["walk_min_epicerie"].isna().all()
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-9, atol=1e-9)


def test_crowfly_fallback(origins, shops):
    times = accessibility.crowfly_time_to_nearest(
        origins, shops, ["boulangerie"], detour_factor=1.5
    )
    d = np.hypot(150 - 50, -5 - 10)
    assert times.iloc[0, 0] == pytest.approx(1.5 * d / SPEED)
    with pytest.raises(ValidationError, match="detour_factor"):
        accessibility.crowfly_time_to_nearest(origins, shops, ["boulangerie"], detour_factor=0.5)


def test_weighted_median():
    v = np.array([1.0, 2.0, 3.0, np.nan])
    w = np.array([1.0, 1.0, 5.0, 10.0])
    assert accessibility.weighted_median(v, w) == 3.0
    assert accessibility.weighted_median(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == 1.0
    assert np.isnan(accessibility.weighted_median(np.array([np.nan]), np.array([1.0])))


def test_summarise_by_zone(tiny_network, origins, shops):
    times = accessibility.network_time_to_nearest(
        tiny_network, origins, shops, ["boulangerie", "pharmacie"]
    )
    summary = accessibility.summarise_by_zone(times, origins, thresholds_min=(2, 3))
    row = summary.loc["Q1"]
    assert row["n_origins"] == 3 and row["n_origins_off_network"] == 1
    assert row["population_est"] == pytest.approx(45.0)
    # boulangerie: 115 m = 1.53 min (w 10) and 155 m = 2.07 min (w 30) -> median 2.07
    assert row["walk_min_median_boulangerie"] == pytest.approx(155 / SPEED)
    assert row["share_within_2min_boulangerie_pct"] == pytest.approx(25.0)
    assert row["share_within_3min_boulangerie_pct"] == pytest.approx(100.0)
    # pharmacie: 140 m = 1.87 min (w 10) within 2 min, 180 m = 2.4 min (w 30) not
    assert row["share_within_2min_pharmacie_pct"] == pytest.approx(25.0)
    assert row["share_unreachable_boulangerie_pct"] == 0.0


def _unreachable_case(unreachable_weight: float):
    """Five origins of one zone on the network; those of the given total weight reach nothing."""
    population = np.array([10.0, 20.0, 30.0, 15.0, 25.0])
    time = np.array([7.0, 3.0, 12.0, 1.0, 5.0])
    # choose which origins cannot reach: 60 = 30 + 20 + 10, 40 = 25 + 15
    unreachable = {60.0: [0, 1, 2], 40.0: [3, 4]}[unreachable_weight]
    time[unreachable] = np.nan
    o = points([(i, 0) for i in range(5)], code_qp="Q", population=population)
    times = pd.DataFrame({"walk_min_boulangerie": time}, index=o.index)
    return o, times, population, time


def test_most_residents_unreachable_gives_no_median():
    o, times, _, _ = _unreachable_case(60.0)
    s = accessibility.summarise_by_zone(
        times, o, thresholds_min=(5, 15), on_network=np.ones(5, dtype=bool)
    ).loc["Q"]
    # 60 % cannot reach a bakery: the median resident cannot either
    assert np.isnan(s["walk_min_median_boulangerie"])
    assert s["share_unreachable_boulangerie_pct"] == pytest.approx(60.0)
    # the unreachable are beyond every threshold: 15 + 25 within 5 min, no one else
    assert s["share_within_5min_boulangerie_pct"] == pytest.approx(40.0)
    assert s["share_within_15min_boulangerie_pct"] == pytest.approx(40.0)
    assert s["n_origins_off_network"] == 0


def test_median_counts_the_unreachable_as_infinitely_far():
    o, times, population, time = _unreachable_case(40.0)
    s = accessibility.summarise_by_zone(times, o, on_network=np.ones(5, dtype=bool)).loc["Q"]
    # independent: one value per resident (integer populations), unreachable = +inf,
    # lower median of the sorted list
    residents = np.sort(np.repeat(np.nan_to_num(time, nan=np.inf), population.astype(int)))
    lower_median = residents[(len(residents) + 1) // 2 - 1]
    assert np.isfinite(lower_median)
    assert s["walk_min_median_boulangerie"] == lower_median == 12.0
    assert s["share_unreachable_boulangerie_pct"] == pytest.approx(40.0)
    # without them, the median would read 7 min: they are not dropped
    assert accessibility.weighted_median(time, population) == 7.0


def test_on_network_origin_reaching_nothing_is_not_off_network():
    o, times, _, _ = _unreachable_case(60.0)
    times["walk_min_pharmacie"] = np.nan  # origins 0-2 reach nothing at all
    flags = np.array([True, True, True, True, False])  # origin 4 is off the network
    s = accessibility.summarise_by_zone(times, o, on_network=flags).loc["Q"]
    assert s["n_origins_off_network"] == 1
    # on the network: 10 + 20 + 30 + 15 = 75, of whom 60 cannot reach a bakery
    assert s["share_unreachable_boulangerie_pct"] == pytest.approx(100 * 60 / 75)
    assert s["share_unreachable_pharmacie_pct"] == pytest.approx(100.0)
    assert np.isnan(s["walk_min_median_pharmacie"])
    # inferred from the times alone, origins 0-2 would look off the network
    inferred = accessibility.summarise_by_zone(times, o).loc["Q"]
    assert inferred["n_origins_off_network"] == 3
    with pytest.raises(ValidationError, match="`on_network` has shape"):
        accessibility.summarise_by_zone(times, o, on_network=flags[:3])


def test_weighted_quantile():
    v = np.array([1.0, 2.0, 3.0, np.inf])
    w = np.array([1.0, 1.0, 6.0, 2.0])
    assert accessibility.weighted_quantile(v, w, 0.5) == 3.0
    assert accessibility.weighted_quantile(v, w, 0.8) == 3.0
    assert accessibility.weighted_quantile(v, w, 0.9) == np.inf
    with pytest.raises(ValidationError, match="`q` must be in"):
        accessibility.weighted_quantile(v, w, 0.0)


def test_refuses_wrong_crs(tiny_network, origins, shops):
    with pytest.raises(CRSError, match="origins"):
        accessibility.network_time_to_nearest(
            tiny_network, origins.to_crs(4326), shops, ["boulangerie"]
        )


def test_refuses_missing_category_column(tiny_network, origins, shops):
    with pytest.raises(ValidationError, match="category"):
        accessibility.network_time_to_nearest(
            tiny_network, origins, shops.drop(columns="category"), ["boulangerie"]
        )


def test_summary_without_population_counts_nothing(tiny_network, shops):
    o = points([(50, 10)], code_qp=["Q"], population=[np.nan])
    times = accessibility.network_time_to_nearest(tiny_network, o, shops, ["boulangerie"])
    summary = accessibility.summarise_by_zone(times, o)
    assert np.isnan(summary.loc["Q", "walk_min_median_boulangerie"])
    assert isinstance(summary, pd.DataFrame)


# ----------------------------------------------------------------- more access indicators


def test_opportunities_within_exact(tiny_network, origins, shops):
    # 1 min = 75 m, 2 min = 150 m: from origin 0 the boulangerie is 100 m away, the pharmacie 130 m
    out = accessibility.opportunities_within(
        tiny_network,
        origins,
        shops,
        ["boulangerie", "pharmacie"],
        thresholds_min=(1, 2),
        walk_speed_kmh=4.5,
    )
    assert out.loc[0].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert list(out.columns) == [
        "n_boulangerie_within_1min",
        "n_boulangerie_within_2min",
        "n_pharmacie_within_1min",
        "n_pharmacie_within_2min",
    ]
    # the origin off the network: NaN, not 0
    assert out.loc[2].isna().all()


def test_gamme_coverage_counts_present_groups_only():
    times = pd.DataFrame(
        {"walk_min_boulangerie": [3.0, 12.0, np.nan], "walk_min_epicerie": [20.0, 8.0, np.nan]}
    )
    groups = pd.DataFrame(
        {
            "code_equipement": ["B203", "BR01", "AR03"],
            "libelle_equipement": ["Boulangerie", "Épicerie, supérette", "Bureau de poste"],
            "categories": [("boulangerie",), ("epicerie", "superette"), ("bureau_poste",)],
        }
    )
    share, absent = accessibility.gamme_coverage(times, groups, threshold_min=10)
    assert absent == ["Bureau de poste"]
    assert share.tolist()[:2] == [50.0, 50.0]
    assert np.isnan(share.iloc[2])
    assert share.name == "gamme_proximite_within_10min_pct"
