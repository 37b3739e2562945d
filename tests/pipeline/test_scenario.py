"""Scenarios on La Croix de Vernailles (Étampes, QN09137M), checked against networkx.

The oracle (:class:`Oracle`) rebuilds the walk from the baseline network's networkx graph on
its own: every point is put on its nearest street edge (shapely, brute force), the edges are
cut at the points, a link is one more edge of its drawn length, and networkx's Dijkstra gives
the walks. It shares no code with qpvgeo's network editing, snapping or engine.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from qpvgeo import settings
from qpvgeo._errors import ValidationError
from qpvgeo.cli import main
from qpvgeo.network import edit, snap_points
from qpvgeo.pipeline import scenario as sc

ROOT = Path(__file__).resolve().parents[2]
FOOTBRIDGE = ROOT / "docs" / "scenarios" / "etampes-passerelle-rer-c.geojson"
CODE = "QN09137M"  # La Croix de Vernailles, Étampes: the Étampes network, the RER C on its east
NO_NETWORK = "QN09101M"  # a QPV no network of the mirror covers
#: a new bakery on the road east of the RER C, by the supermarket: nearer than the bakeries of
#: the town for part of the QPV only
SHOP_XY = (638640.0, 6816230.0)
#: a point inside the QPV, by its north-south street (no pharmacy near)
INSIDE_XY = (638352.0, 6816420.0)


@pytest.fixture(scope="module")
def base(data_dir):
    return sc.baseline("91", [CODE, NO_NETWORK], data_dir=data_dir, offline=True)


@pytest.fixture(scope="module")
def footbridge(base):
    return sc.run_scenario(base, FOOTBRIDGE)


class Oracle:
    """Walks on the baseline network's graph, by networkx, with points and links put in by hand."""

    def __init__(self, net):
        self.edges = [(u, v, d) for u, v, _k, d in net.graph.edges(keys=True, data=True)]
        self.geoms = np.array([d["geometry"] for _, _, d in self.edges], dtype=object)
        self.xy = {n: (d["x"], d["y"]) for n, d in net.graph.nodes(data=True)}
        self.cuts: dict[int, list[tuple[float, object]]] = {}  # edge -> (metres from start, node)
        self.extra: list[tuple[object, object, float]] = []

    def _start(self, i: int):
        """The end node the edge's geometry starts at."""
        u, v, _ = self.edges[i]
        x, y = self.geoms[i].coords[0]
        du = np.hypot(x - self.xy[u][0], y - self.xy[u][1])
        dv = np.hypot(x - self.xy[v][0], y - self.xy[v][1])
        return (u, v) if du <= dv else (v, u)

    def place(self, name, p: shapely.Point, max_m: float) -> float | None:
        """Put ``p`` on its nearest edge as node ``name``; its distance to the edge, None if too far."""
        d = shapely.distance(self.geoms, p)
        i = int(np.argmin(d))
        if d[i] > max_m:
            return None
        g = self.geoms[i]
        along = g.project(p) * self.edges[i][2]["length"] / g.length
        self.cuts.setdefault(i, []).append((along, name))
        return float(d[i])

    def attach(self, name, p: shapely.Point) -> tuple[float, float]:
        """A link end: on the nearest edge, or its end node within 1 m of it (qpvgeo's rule)."""
        d = shapely.distance(self.geoms, p)
        i = int(np.argmin(d))
        assert d[i] <= 50.0
        g, length = self.geoms[i], self.edges[i][2]["length"]
        along = g.project(p) * length / g.length
        first, last = self._start(i)
        if along <= 1.0:
            self.extra.append((name, first, 0.0))
            return self.xy[first]
        if along >= length - 1.0:
            self.extra.append((name, last, 0.0))
            return self.xy[last]
        self.cuts.setdefault(i, []).append((along, name))
        q = g.interpolate(along * g.length / length)
        return q.x, q.y

    def add_link(self, line: shapely.LineString) -> float:
        coords = list(line.coords)
        a = self.attach(("link", 0), shapely.Point(coords[0]))
        b = self.attach(("link", 1), shapely.Point(coords[-1]))
        pts = [a, *coords, b]
        pts = [p for k, p in enumerate(pts) if k == 0 or tuple(p) != tuple(pts[k - 1])]
        length = shapely.LineString(pts).length
        self.extra.append((("link", 0), ("link", 1), length))
        return length

    def graph(self) -> nx.Graph:
        G = nx.Graph()

        def add(a, b, w):
            if a == b:
                return
            if not G.has_edge(a, b) or G[a][b]["weight"] > w:
                G.add_edge(a, b, weight=w)

        for i, (_u, _v, d) in enumerate(self.edges):
            first, last = self._start(i)
            chain = [(0.0, first), *sorted(self.cuts.get(i, []), key=lambda c: c[0]),
                     (d["length"], last)]  # fmt: skip
            for (s0, n0), (s1, n1) in zip(chain[:-1], chain[1:], strict=True):
                add(n0, n1, s1 - s0)
        for a, b, w in self.extra:
            add(a, b, w)
        return G


def walk_minutes(net, origins, targets, *, link=None, extra_targets=()) -> np.ndarray:
    """Minutes from each origin to its nearest target (legs included), by the oracle."""
    orc = Oracle(net)
    if link is not None:
        orc.add_link(link)
    o_leg = [orc.place(("o", i), p, settings.max_snap_m) for i, p in enumerate(origins)]
    t_all = [*targets, *extra_targets]
    t_leg = [orc.place(("t", j), p, settings.max_snap_m) for j, p in enumerate(t_all)]
    G = orc.graph()
    for j, leg in enumerate(t_leg):
        if leg is not None:
            G.add_edge("S", ("t", j), weight=leg)
    dist = nx.single_source_dijkstra_path_length(G, "S", weight="weight")
    metres = np.array([
        dist[("o", i)] + leg if leg is not None and ("o", i) in dist else np.nan
        for i, leg in enumerate(o_leg)
    ])  # fmt: skip
    return metres / (settings.walk_speed_kmh * 1000 / 60)


def detour_median(net, origins, weights, targets, *, link=None) -> float:
    """Weighted median detour to the target nearest as the crow flies, by the oracle."""
    orc = Oracle(net)
    if link is not None:
        orc.add_link(link)
    o_leg = [orc.place(("o", i), p, settings.max_snap_m) for i, p in enumerate(origins)]
    t_leg = [orc.place(("t", j), p, settings.max_snap_m) for j, p in enumerate(targets)]
    on_t = [j for j, leg in enumerate(t_leg) if leg is not None]
    G = orc.graph()
    ratios, w = [], []
    for i, p in enumerate(origins):
        if o_leg[i] is None:
            continue
        j = min(on_t, key=lambda k: p.distance(targets[k]))
        crow = p.distance(targets[j])
        d = nx.dijkstra_path_length(G, ("o", i), ("t", j), weight="weight")
        ratios.append((o_leg[i] + d + t_leg[j]) / crow)
        w.append(weights[i])
    order = np.argsort(ratios)
    r, cw = np.array(ratios)[order], np.cumsum(np.array(w)[order])
    return float(r[np.searchsorted(cw, 0.5 * cw[-1])])


def _line() -> shapely.LineString:
    return gpd.read_file(FOOTBRIDGE).to_crs(2154).geometry.iloc[0]


def _origins(result) -> gpd.GeoDataFrame:
    return result.origins[result.origins["code_qp"] == CODE]


def test_footbridge_shortens_walks_exactly_as_networkx_says(base, footbridge):
    net = base.ctx.networks.network_of(CODE)
    o = _origins(base.result)
    markets = base.ctx.destinations[base.ctx.destinations["category"] == "supermarche"]
    pts, targets = list(o.geometry), list(markets.geometry)
    before = walk_minutes(net, pts, targets)
    after = walk_minutes(net, pts, targets, link=_line())
    got_before = o["walk_min_supermarche"].to_numpy()
    got_after = _origins(footbridge.after)["walk_min_supermarche"].to_numpy()
    np.testing.assert_allclose(got_before, before, rtol=1e-9)
    np.testing.assert_allclose(got_after, after, rtol=1e-9)
    uses = after < before - 1e-9
    assert 10 <= uses.sum() < len(o)  # the footbridge serves part of the QPV, not all of it
    # the others keep exactly their walk
    np.testing.assert_array_equal(got_after[~uses], got_before[~uses])
    # and the origin changes say the same
    change = footbridge.origins.loc[o.index, "walk_min_supermarche_change"].to_numpy()
    np.testing.assert_array_equal(np.abs(change) > 1e-9, uses)


def test_footbridge_detour_as_networkx_says(base, footbridge):
    net = base.ctx.networks.network_of(CODE)
    o = _origins(base.result)
    eq = base.ctx.equipments
    targets = list(eq[eq["category"].isin(["supermarche", "hypermarche"])].geometry)
    w = o["population"].fillna(0.0).to_numpy()
    before = detour_median(net, list(o.geometry), w, targets)
    after = detour_median(net, list(o.geometry), w, targets, link=_line())
    assert base.result.indicators.at[CODE, "detour_supermarche"] == pytest.approx(before, rel=1e-9)
    assert footbridge.after.indicators.at[CODE, "detour_supermarche"] == pytest.approx(after, rel=1e-9)
    assert after < before
    diff = footbridge.diff.set_index(["code_qp", "indicator"])
    assert diff.at[(CODE, "detour_supermarche"), "change"] == pytest.approx(after - before, rel=1e-9)
    assert diff.at[(CODE, "n_crossings"), "change"] == 1  # the footbridge crosses the border


def test_scenario_table_and_not_evaluated(footbridge):
    d = footbridge.diff
    assert list(d.columns) == ["code_qp", "indicator", "before", "after", "change", "unit", "note"]
    mine = d[d["code_qp"] == NO_NETWORK]
    assert len(mine) == 1 and mine["note"].iloc[0] == "non évalué (pas de réseau de rues)"
    assert mine[["before", "after"]].isna().all(axis=None)
    # the QPV without a network reads the same: nothing filled in
    a, b = footbridge.after.indicators.loc[NO_NETWORK], footbridge.before.indicators.loc[NO_NETWORK]
    pd.testing.assert_series_equal(a, b)
    row = d[(d["code_qp"] == CODE) & (d["indicator"] == "walk_min_median_supermarche")].iloc[0]
    assert row["unit"] == "min" and row["change"] == pytest.approx(row["after"] - row["before"])
    assert "population_qpv" not in set(d["indicator"])  # official figures are left out


def test_a_qpv_reads_the_same_whichever_qpv_are_in_the_run(data_dir, footbridge):
    alone = sc.run_scenario(sc.baseline("91", [CODE], data_dir=data_dir, offline=True), FOOTBRIDGE)
    ranked = {"viability_rank", "viability_rank_among", "rank_p05", "rank_p95", "rank_mean_abs_shift"}
    cols = [c for c in alone.after.indicators.columns if c not in ranked]
    pd.testing.assert_series_equal(
        alone.after.indicators.loc[CODE, cols], footbridge.after.indicators.loc[CODE, cols]
    )


def test_a_new_shop_changes_exactly_the_residents_it_is_now_nearest_to(base):
    shop = shapely.Point(*SHOP_XY)
    scenario = gpd.GeoDataFrame(
        {"action": ["add_equipment"], "category": ["boulangerie"]}, geometry=[shop], crs=2154
    )
    sr = sc.run_scenario(base, scenario)
    net = base.ctx.networks.network_of(CODE)
    o = _origins(base.result)
    old_t = base.ctx.destinations[base.ctx.destinations["category"] == "boulangerie"]
    new_only = walk_minutes(net, list(o.geometry), [shop])
    got_before = o["walk_min_boulangerie"].to_numpy()
    got_after = _origins(sr.after)["walk_min_boulangerie"].to_numpy()
    expected = np.fmin(got_before, new_only)
    np.testing.assert_allclose(got_after, expected, rtol=1e-9)
    nearer = new_only < got_before
    assert 0 < nearer.sum() < len(o)
    np.testing.assert_array_equal(got_after[~nearer], got_before[~nearer])  # the others: untouched
    # the networkx oracle on the old bakeries agrees with the baseline
    np.testing.assert_allclose(got_before, walk_minutes(net, list(o.geometry), list(old_t.geometry)), rtol=1e-9)
    # other categories do not move
    for cat in ("supermarche", "pharmacie", "gare"):
        np.testing.assert_array_equal(
            _origins(sr.after)[f"walk_min_{cat}"].to_numpy(), o[f"walk_min_{cat}"].to_numpy()
        )
    assert sr.after.equipments.index.str.startswith("SCN").sum() == 1


def test_closing_a_street_lengthens(base):
    # the QPV's north-south street, between the QPV and the road that crosses the RER C
    closed = shapely.LineString([(638352, 6816360), (638356, 6816470)])
    scenario = gpd.GeoDataFrame({"action": ["remove_link"]}, geometry=[closed], crs=2154)
    sr = sc.run_scenario(base, scenario)
    net = base.ctx.networks.network_of(CODE)
    o = _origins(base.result)
    gone = edit.edges_along(net, closed, 15.0)
    assert len(gone) >= 1
    # the residents whose street is closed are placed on the next street (documented); the
    # others keep their place, and none of them walks less
    kept = ~np.isin(snap_points(net, o)["edge"].to_numpy(), gone)
    assert kept.sum() >= 30
    for cat in ("supermarche", "gare", "pharmacie"):
        b = o[f"walk_min_{cat}"].to_numpy()[kept]
        a = _origins(sr.after)[f"walk_min_{cat}"].to_numpy()[kept]
        assert (np.where(np.isnan(a), np.inf, a) >= b - 1e-9).all()
    b, a = o["walk_min_supermarche"].to_numpy()[kept], _origins(sr.after)["walk_min_supermarche"].to_numpy()[kept]
    assert (np.where(np.isnan(a), np.inf, a) > b + 1.0).sum() >= 5  # some walk a minute more or longer
    assert sr.after.networks.network_of(CODE).n_edges == net.n_edges - len(gone)
    assert "tronçon(s) de rue fermé(s)" in sr.changes["effect"].iloc[0]


def test_changes_that_cannot_be_placed(base):
    far = gpd.GeoDataFrame(
        {"action": ["add_link"], "name": ["Passerelle"]},
        geometry=[shapely.LineString([(638357, 6816318), (638560, 6816270), (638900, 6816500)])],
        crs=2154,
    )  # fmt: skip
    with pytest.raises(ValidationError, match=r"feature 1 'Passerelle' \(add_link\): the end of the link is \d+ m"):
        sc.run_scenario(base, far)
    gone = gpd.GeoDataFrame({"action": ["remove_equipment"], "id": ["NOPE"]}, geometry=[None], crs=2154)
    with pytest.raises(ValidationError, match="no equipment with id 'NOPE'"):
        sc.run_scenario(base, gone)
    nothing = gpd.GeoDataFrame(
        {"action": ["remove_equipment"], "category": ["pharmacie"]},
        geometry=[shapely.Point(*INSIDE_XY)], crs=2154,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="no equipment of category 'pharmacie' within 25 m"):
        sc.run_scenario(base, nothing)


def test_scenario_command(data_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["scenario", str(FOOTBRIDGE), "--dep", "91", "--qpv", CODE, "--offline",
                 "--data-dir", str(data_dir), "--out", str(out), "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "walk_min_median_supermarche" in printed
    table = pd.read_csv(out / "tables" / "scenario_diff.csv")
    assert set(table["code_qp"]) == {CODE}
    page = (out / "maps" / "fiches" / f"{CODE}.html").read_text(encoding="utf-8")
    assert "Scénario « et si… » : ce qui change" in page and "Passerelle piétonne" in page
    assert 'href="../scenario.html"' in page and "../png/" not in page  # no index nor slides here
    map_page = (out / "maps" / "scenario.html").read_text(encoding="utf-8")
    assert "Variation du temps de marche : Supermarché" in map_page
    # a bad file: one error line, status 2, nothing written
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {"action": "add_bridge"}, "geometry": null}]}')  # fmt: skip
    code = main(["scenario", str(bad), "--dep", "91", "--qpv", CODE, "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown action 'add_bridge'" in err and err.count("\n") == 1
    assert not (tmp_path / "o2").exists()


def test_fiche_section_and_map(footbridge):
    from qpvgeo.outputs import scenario as out

    section = out.scenario_section(NO_NETWORK, footbridge)
    assert "Scénario non évalué pour ce quartier" in section and "<table>" not in section
    section = out.scenario_section(CODE, footbridge)
    assert "Temps de marche médian vers : Supermarché (min)" in section
    assert "<td class=\"v\">13,8</td><td class=\"v\">8,5</td>" in section
    # the map: one layer per category whose times change, the supermarket's first
    cats = out.changed_categories(footbridge.origins)
    assert cats[0] == "supermarche" and "boulangerie" not in cats  # the footbridge leads to no bakery
    assert out.change_class(10.0, 4.0)[1] == "gagne 5 min ou plus"
    assert out.change_class(10.0, 10.005)[1] == "inchangé"
    assert out.change_class(np.nan, 4.0)[1].startswith("désormais atteint")


def test_a_shop_closing_lengthens_exactly_as_networkx_says(base):
    # the supermarket east of the RER C, designated by a point 10 m away
    markets = base.ctx.equipments[base.ctx.equipments["category"] == "supermarche"]
    near = markets.geometry.distance(shapely.Point(638700, 6816160))
    closing = markets.index[near.argmin()]
    assert near.min() < 20
    where = markets.geometry[closing]
    scenario = gpd.GeoDataFrame(
        {"action": ["remove_equipment"], "category": ["supermarche"]},
        geometry=[shapely.Point(where.x + 6, where.y + 8)], crs=2154,
    )  # fmt: skip
    sr = sc.run_scenario(base, scenario)
    assert closing not in sr.after.equipments.index and closing in base.result.equipments.index
    net = base.ctx.networks.network_of(CODE)
    o = _origins(base.result)
    left = sr.after.equipments[sr.after.equipments["category"] == "supermarche"]
    expected = walk_minutes(net, list(o.geometry), list(left.geometry))
    got = _origins(sr.after)["walk_min_supermarche"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    before = o["walk_min_supermarche"].to_numpy()
    assert (got >= before - 1e-9).all() and (got > before + 1e-9).any()


def test_changes_combine_in_one_scenario(base):
    # the footbridge and a bakery beyond it, in one file: the bakery is reached over the footbridge
    line = _line()
    shop = shapely.Point(*SHOP_XY)
    both = gpd.GeoDataFrame(
        {"action": ["add_link", "add_equipment"], "category": [None, "boulangerie"],
         "name": ["Passerelle", "Boulangerie"]},
        geometry=[line, shop], crs=2154,
    )  # fmt: skip
    sr = sc.run_scenario(base, both)
    assert list(sr.changes["action"]) == ["add_link", "add_equipment"]
    net = base.ctx.networks.network_of(CODE)
    o = _origins(base.result)
    via_bridge = walk_minutes(net, list(o.geometry), [shop], link=line)
    expected = np.fmin(o["walk_min_boulangerie"].to_numpy(), via_bridge)
    np.testing.assert_allclose(_origins(sr.after)["walk_min_boulangerie"].to_numpy(), expected, rtol=1e-9)
    alone = walk_minutes(net, list(o.geometry), [shop])
    assert (via_bridge < alone - 1e-9).sum() > 0  # the footbridge brings the bakery nearer
