"""Wished categories served or not, and felt barriers beside measured ones, on hand-made inputs
checked against an independent networkx computation."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from qpvgeo import settings
from qpvgeo.indicators import besoins as ind
from qpvgeo.network import compile_network

from ..conftest import X0, Y0, points

#: A(0,0) – B(600,0) – C(1200,0) and B – D(600,600): edges of 600 m, so that 10 min (750 m at
#: 4.5 km/h) separates near from far
NODES = {"A": (0, 0), "B": (600, 0), "C": (1200, 0), "D": (600, 600)}
EDGES = [("A", "B"), ("B", "C"), ("B", "D")]
#: origins (x, y, population, zone) and where each meets its street (on an edge)
ORIGINS = [((100, 0), 10.0, "Q1"), ((600, 300), 30.0, "Q1"), ((1150, 20), 5.0, "Q1"),
           ((1200, 0), 0.0, "Q2")]  # fmt: skip
SHOPS = [((1100, 0), "boulangerie"), ((600, 580), "pharmacie"), ((300, 0), "supermarche")]
CATS = ["boulangerie", "pharmacie", "supermarche"]


@pytest.fixture
def net():
    G = nx.MultiDiGraph(crs="EPSG:2154")
    for n, (x, y) in NODES.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v in EDGES:
        d = float(np.hypot(*np.subtract(NODES[u], NODES[v])))
        G.add_edge(u, v, length=d)
        G.add_edge(v, u, length=d)
    return compile_network(G, name="t", kind="walk")


def _on_edge(p):
    """The edge a point meets (straight drop) and its place there, in this layout."""
    x, y = p
    if x == 600 and y > 0:
        return ("B", "D"), (600, y)
    return (("A", "B") if x <= 600 else ("B", "C")), (x, 0)


def independent_metres(src, dst) -> tuple[float, float]:
    """Walk from ``src`` to ``dst`` by networkx on a graph with both places inserted in their edges:
    (with the two legs to the street, between the places only)."""
    G = nx.Graph()
    for u, v in EDGES:
        G.add_edge(u, v, weight=float(np.hypot(*np.subtract(NODES[u], NODES[v]))))
    places = {}
    for name, p in (("s", src), ("t", dst)):
        (u, v), q = _on_edge(p)
        places[name] = (q, float(np.hypot(p[0] - q[0], p[1] - q[1])))
        for end in (u, v):
            G.add_edge(name, end, weight=float(np.hypot(*np.subtract(q, NODES[end]))))
    (qs, ls), (qt, lt) = places["s"], places["t"]
    same = _on_edge(src)[0] == _on_edge(dst)[0]
    between = nx.shortest_path_length(G, "s", "t", weight="weight")
    if same:
        between = min(between, float(np.hypot(qs[0] - qt[0], qs[1] - qt[1])))
    return ls + between + lt, between


def test_served_against_networkx(net):
    origins = points([o[0] for o in ORIGINS], population=[o[1] for o in ORIGINS],
                     code_qp=[o[2] for o in ORIGINS])  # fmt: skip
    shops = points([s[0] for s in SHOPS], category=[s[1] for s in SHOPS])
    per_origin = ind.category_access(net, origins, shops, CATS)
    mpm = settings.walk_speed_kmh * 1000 / 60
    limit = ind.SERVED_MIN * mpm
    for i, (o, _, _) in enumerate(ORIGINS):
        for cat in CATS:
            dests = [s for s, c in SHOPS if c == cat]
            walks = [independent_metres(o, d) for d in dests]
            assert per_origin.at[i, f"walk_min_{cat}"] == pytest.approx(min(w[0] for w in walks) / mpm)
            # the number within 10 min: along the streets, as the run's n_<cat>_within_<t>min
            assert per_origin.at[i, f"n_{cat}_within_10min"] == sum(w[1] <= limit for w in walks)
    on = pd.Series(True, index=origins.index)
    table = ind.served_by_zone(per_origin, origins, CATS, on_network=on).set_index(
        ["code_qp", "category"]
    )
    # independent weighted median (the lower one at an exact half) over the residents of Q1
    q1 = [i for i, o in enumerate(ORIGINS) if o[2] == "Q1"]
    w = np.array([ORIGINS[i][1] for i in q1])
    for cat in CATS:
        t = np.array([per_origin.at[i, f"walk_min_{cat}"] for i in q1])
        order = np.argsort(t)
        k = np.flatnonzero(np.cumsum(w[order]) >= w.sum() / 2)[0]
        median = t[order][k]
        assert table.at[("Q1", cat), "walk_min_median"] == pytest.approx(median)
        assert bool(table.at[("Q1", cat), "served"]) == (median <= ind.SERVED_MIN)
        share = 100 * w[t <= ind.SERVED_MIN].sum() / w.sum()
        assert table.at[("Q1", cat), "share_within_10min_pct"] == pytest.approx(share)
    # by hand: the boulangerie is 800 m from the main group (30 of 45 residents): not served;
    # the pharmacie 280 m and the supermarché 600 m: served
    assert table.loc["Q1", "served"].to_dict() == {
        "boulangerie": False, "pharmacie": True, "supermarche": True,
    }  # fmt: skip
    # a zone whose residents weigh nothing is not read (NA), never "absent"
    assert table.loc["Q2", "served"].isna().all()


def test_unreachable_category_is_not_served(net):
    origins = points([(100, 0)], population=[1.0], code_qp=["Q1"])
    shops = points([(5000, 5000)], category=["boulangerie"])  # off the network
    per_origin = ind.category_access(net, origins, shops, ["boulangerie"])
    assert per_origin["walk_min_boulangerie"].isna().all()
    table = ind.served_by_zone(per_origin, origins, ["boulangerie"],
                               on_network=pd.Series(True, index=origins.index))  # fmt: skip
    assert np.isnan(table.at[0, "walk_min_median"]) and not bool(table.at[0, "served"])


def test_answer_qpv():
    qpv = points([(0, 0), (5000, 0)], code_qp=["QN09999A", "QN09999B"])
    qpv = qpv.set_geometry(qpv.buffer(200)).set_index("code_qp")
    answers = points(
        [(50, 50), (500, 0), (2500, 2500), (9999, 9999), (0, 0)],
        code_qp=["", "", "", "QN09999B", "QN09111Z"],
    )
    got = ind.answer_qpv(answers, qpv)
    assert got["code_qp_lu"].tolist() == ["QN09999A", "QN09999A", "", "QN09999B", ""]
    assert got["qpv_how"].tolist() == [
        "point dans le QPV", "point à 300 m du QPV", "hors des QPV étudiés", "saisi",
        "QPV hors de l'étude",
    ]  # fmt: skip


def test_felt_vs_measured():
    pts = points([(0, 100), (0, -300), (50, 0)], code_qp=["Q1", "Q1", ""])
    barriers = points([(0, 0)], kind=["rail"], name=["RER C"])
    barriers = barriers.set_geometry(
        [shapely.LineString([(X0 - 1000, Y0 + 160), (X0 + 1000, Y0 + 160)])]
    )
    crossings = points([(30, 140), (500, 500)], code_qp=["Q1", "Q2"])
    detours = points([(0, 0), (0, 0)], code_qp=["Q1", "Q1"], kind=["itinéraire", "vol d'oiseau"],
                     target=["gare", "gare"], length_m=[900.0, 600.0], detour_index=[1.5, 1.5])  # fmt: skip
    detours = detours.set_geometry([
        shapely.LineString([(X0 + 200, Y0 - 1000), (X0 + 200, Y0 + 1000)]),
        shapely.LineString([(X0, Y0), (X0 + 1, Y0)]),
    ])  # fmt: skip
    got = ind.felt_vs_measured(pts, barriers, crossings, detours)
    assert got["barrier_m"].tolist() == pytest.approx([60, 460, 160])
    assert got["barrier_name"].tolist() == ["RER C"] * 3
    assert got.at[0, "crossing_m"] == pytest.approx(50.0)  # its own QPV's crossing only
    assert got.at[1, "crossing_m"] == pytest.approx(np.hypot(30, 440))
    # the walked path (« itinéraire »), not the straight line, is the detour
    assert got.at[0, "detour_m"] == pytest.approx(200.0) and got.at[0, "detour_index"] == 1.5
    assert got.at[0, "detour_length_m"] == 900.0
    # a point without a QPV has no crossing nor detour (NaN), not another QPV's
    assert np.isnan(got.at[2, "crossing_m"]) and np.isnan(got.at[2, "detour_m"])
