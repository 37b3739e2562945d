"""Tests of qpvgeo.maps: the overview map, its French labels and its atomic export."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from branca.element import Element
from shapely.geometry import Point, box

from qpvgeo.data import nomenclature
from qpvgeo.outputs import maps
from qpvgeo._errors import CRSError, MissingColumnError

from ..conftest import CHROMIUM_FLAGS, chromium

# ---------------------------------------------------------------------------
# hand-made layers: three QPV near Évry (EPSG:2154), one per network situation


@pytest.fixture()
def layers() -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    x0, y0 = 655000.0, 6835000.0
    qpv = gpd.GeoDataFrame(
        {
            "lib_qp": ["Les Pyramides", "Le Canal", "Bois d'Amour"],
            "insee_com": ["91228", "91228", "91228"],
            "lib_com": ["Évry-Courcouronnes"] * 3,
            "area_ha": [16.0, 16.0, 16.0],
        },
        index=pd.Index(["QN09901M", "QN09902M", "QN09903M"], name="code_qp"),
        geometry=[
            box(x0, y0, x0 + 400, y0 + 400),
            box(x0 + 1000, y0, x0 + 1400, y0 + 400),
            box(x0 + 2000, y0, x0 + 2400, y0 + 400),
        ],
        crs="EPSG:2154",
    )
    indicators = pd.DataFrame(
        {
            "code_qp": qpv.index,
            "lib_qp": qpv["lib_qp"],
            "network_source": ["walk.graphml", "drive.graphml", None],
            "network_kind": ["walk", "drive", None],
            "network_coverage_pct": [100.0, 58.0, 0.0],
            "network_status": ["couvert", "partiel", "absent"],
            "access_method": ["réseau piéton", "réseau routier (sans cheminements piétons)", ""],
            "walk_min_median_boulangerie": [4.3, 12.0, np.nan],
            "share_within_10min_boulangerie_pct": [95.0, 40.0, np.nan],
            "walk_min_median_pharmacie": [6.0, 8.0, np.nan],
        },
        index=qpv.index,
    )
    pts = [
        ("boulangerie", "B207", x0 + 200, y0 + 500),
        ("boulangerie", "B207", x0 + 1200, y0 + 500),
        ("boulangerie", "shop=bakery", x0 + 1300, y0 + 600),
        ("pharmacie", "D307", x0 + 2200, y0 + 200),
        ("pharmacie", "D307", x0 + 50000, y0),  # 50 km away: left off the map
        ("supermarche", "B105", x0, y0),  # not an indicator category: no layer by default
    ]
    equipments = gpd.GeoDataFrame(
        {
            "source": ["BPE", "BPE", "OSM", "BPE", "BPE", "BPE"],
            "code": [p[1] for p in pts],
            "category": [p[0] for p in pts],
        },
        index=pd.Index([f"E{i}" for i in range(len(pts))], name="equipment_id"),
        geometry=[Point(p[2], p[3]) for p in pts],
        crs="EPSG:2154",
    )
    return qpv, indicators, equipments


def _html(m: folium.Map) -> str:
    return m.get_root().render()


def _geojson_layers(m: folium.Map) -> dict[str, dict]:
    """FeatureGroup name -> FeatureCollection of its (single) GeoJson child."""
    out = {}
    for child in m._children.values():
        if isinstance(child, folium.FeatureGroup):
            geo = [c for c in child._children.values() if isinstance(c, folium.GeoJson)]
            out[child.layer_name] = geo[0].data if geo else None
    return out


# ---------------------------------------------------------------------------
# labels


def test_indicator_label_french() -> None:
    assert maps.indicator_label("walk_min_median_boulangerie") == (
        "Temps de marche médian vers : Boulangerie (min)"
    )
    assert maps.indicator_label("share_within_10min_pharmacie_pct") == (
        "Part des habitants à moins de 10 min : Pharmacie (%)"
    )
    assert maps.indicator_label("network_coverage_pct").startswith("Part de la surface")
    assert maps.indicator_label("unknown_column") == "unknown_column"
    assert maps.indicator_category("share_within_5min_ecole_maternelle_pct") == "ecole_maternelle"
    assert maps.indicator_label("walk_min_median_boulangerie_rest_commune") == (
        "Temps de marche médian vers : Boulangerie, reste de la commune (min)"
    )
    assert maps.indicator_category("walk_min_median_boulangerie_rest_commune") == "boulangerie"
    assert maps.indicator_label("n_pharmacie_within_10min").startswith("Nombre d'équipements")


def test_colormap_classes_and_caption() -> None:
    cmap = maps.indicator_colormap("walk_min_median_boulangerie", pd.Series([2.0, 41.0]))
    assert cmap.caption == "Temps de marche médian vers : Boulangerie (min)"
    assert cmap.index[:5] == [0.0, 5.0, 10.0, 15.0, 20.0] and cmap.index[-1] >= 41
    assert cmap.rgb_hex_str(4.0) != cmap.rgb_hex_str(12.0)
    share = maps.indicator_colormap("share_within_10min_boulangerie_pct", pd.Series([50.0]))
    assert share.index[0] == 0 and share.index[-1] == 100


# ---------------------------------------------------------------------------
# the overview map


def test_overview_layers_and_names(layers) -> None:
    qpv, ind, eq = layers
    m = maps.overview_map(qpv, ind, eq)
    groups = _geojson_layers(m)
    assert list(groups) == [
        "QPV avec valeur calculée (2)",
        "QPV sans valeur calculée (1)",
        "Boulangerie (3)",
        "Pharmacie (1)",  # the one 50 km away is left off
    ]
    assert sum(isinstance(c, folium.LayerControl) for c in m._children.values()) == 1
    assert len(groups["QPV avec valeur calculée (2)"]["features"]) == 2
    # few QPV: the indicator's category starts switched on, the others off
    shown = {
        c.layer_name: c.show for c in m._children.values() if isinstance(c, folium.FeatureGroup)
    }
    assert shown["Boulangerie (3)"] and not shown["Pharmacie (1)"]


def test_overview_categories_argument(layers) -> None:
    qpv, ind, eq = layers
    m = maps.overview_map(qpv, ind, eq, categories=["supermarche"], show_equipments=False)
    names = list(_geojson_layers(m))
    assert names[-1] == "Supermarché (1)"
    assert not any(name.startswith("Boulangerie") for name in names)


def test_overview_tooltips_values_and_status(layers) -> None:
    qpv, ind, eq = layers
    m = maps.overview_map(qpv, ind, eq)
    feats = {
        f["properties"]["code"]: f["properties"]
        for name, fc in _geojson_layers(m).items()
        if name.startswith("QPV")
        for f in fc["features"]
    }
    assert feats["QN09901M"]["valeur"] == "4,3 min"
    assert feats["QN09901M"]["quartier"] == "Les Pyramides"
    assert feats["QN09901M"]["commune"] == "Évry-Courcouronnes"
    assert feats["QN09901M"]["reseau"] == "couvert (100 % de la surface)"
    assert feats["QN09902M"]["reseau"] == "partiel (58 % de la surface)"
    assert "faute de cheminements piétons" in feats["QN09902M"]["methode"]
    assert feats["QN09903M"]["valeur"] == "non calculée"
    assert feats["QN09903M"]["pourquoi"] == "Pas de réseau de rues disponible : valeur non calculée"
    html = _html(m)
    for alias in ("Code", "Quartier", "Commune", "Réseau de rues", "Méthode", "Pourquoi"):
        assert json.dumps(alias) in html, alias
    assert json.dumps("Temps de marche médian vers : Boulangerie (min)") in html


def test_no_value_qpv_is_grey_and_dashed(layers) -> None:
    qpv, ind, eq = layers
    m = maps.overview_map(qpv, ind, eq)
    group = next(
        c
        for c in m._children.values()
        if isinstance(c, folium.FeatureGroup) and c.layer_name.startswith("QPV sans")
    )
    geo = next(c for c in group._children.values() if isinstance(c, folium.GeoJson))
    style = geo.style_function(geo.data["features"][0])
    assert style["fillColor"] == "#9e9e9e" and style["dashArray"]
    valued = next(
        c
        for c in m._children.values()
        if isinstance(c, folium.FeatureGroup) and c.layer_name.startswith("QPV avec")
    )
    geo = next(c for c in valued._children.values() if isinstance(c, folium.GeoJson))
    fills = {geo.style_function(f)["fillColor"] for f in geo.data["features"]}
    assert "#9e9e9e" not in fills and len(fills) == 2  # 4.3 and 12 min: two classes


def test_legend_title_attribution(layers) -> None:
    qpv, ind, eq = layers
    m = maps.overview_map(qpv, ind, eq)
    html = _html(m)
    tiles = next(c for c in m._children.values() if isinstance(c, folium.TileLayer))
    start = html.index('<div class="qpvgeo-legend">')
    legend = html[start : html.index('<div class="qpvgeo-title"', start)]
    for text in (
        "moins de 5 min",
        "de 5 à 10 min",
        "20 min et plus",
        "QPV sans valeur calculée",
        "Équipements à moins de 1,5 km d'un QPV",
        "Boulangerie (3)",
        "Pharmacie (1)",
    ):
        assert text in legend, text
    assert "Quartiers prioritaires (QPV) — Temps de marche médian vers : Boulangerie (min)" in html
    assert "3 QPV, dont 2 avec une valeur calculée" in html
    for credit in (
        "© les contributeurs d'OpenStreetMap",
        "Source : ANCT",
        "INSEE, BPE 2024",
        "INSEE, RP 2021",
        "INSEE, Filosofi 2021",
    ):
        assert credit in maps.attribution()
        assert credit in tiles.options["attribution"], credit


def test_equipment_popups(layers) -> None:
    qpv, ind, eq = layers
    m = maps.overview_map(qpv, ind, eq)
    bakeries = _geojson_layers(m)["Boulangerie (3)"]["features"]
    props = sorted((f["properties"]["code"], f["properties"]["source"]) for f in bakeries)
    assert props == [
        ("B207", "INSEE, BPE 2024"),
        ("B207", "INSEE, BPE 2024"),
        ("shop=bakery", "OpenStreetMap"),
    ]
    assert {f["properties"]["nom"] for f in bakeries} == {"Boulangerie"}
    assert json.dumps("Équipement") in _html(m)


def test_overview_is_in_wgs84_and_fits_qpv(layers) -> None:
    qpv, ind, eq = layers
    m = maps.overview_map(qpv, ind, eq)
    coords = _geojson_layers(m)["QPV avec valeur calculée (2)"]["features"][0]["geometry"]
    lon, lat = coords["coordinates"][0][0]
    assert 2.0 < lon < 3.0 and 48.0 < lat < 49.0
    html = _html(m)
    assert "fitBounds" in html


def test_crs_error_for_wgs84_input(layers) -> None:
    qpv, ind, eq = layers
    with pytest.raises(CRSError, match="qpv"):
        maps.overview_map(qpv.to_crs(4326), ind, eq)
    with pytest.raises(CRSError, match="equipments"):
        maps.overview_map(qpv, ind, eq.to_crs(4326))


def test_unknown_indicator(layers) -> None:
    qpv, ind, eq = layers
    with pytest.raises(MissingColumnError, match="walk_min_median_boucherie"):
        maps.overview_map(qpv, ind, eq, indicator="walk_min_median_boucherie")


# ---------------------------------------------------------------------------
# save_map


def test_save_map_writes_complete_self_contained_page(layers, tmp_path: Path) -> None:
    qpv, ind, eq = layers
    target = tmp_path / "sous" / "dossier" / "carte.html"
    out = maps.save_map(maps.overview_map(qpv, ind, eq), target)
    assert out == target and target.is_file()
    text = target.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "cdn.jsdelivr.net/npm/leaflet" not in text  # Leaflet is inside the page
    assert "Leaflet 1.9" in text and ".leaflet-pane" in text
    assert not re.search(r"<script src=|<link rel=\"stylesheet\"", text)
    assert [p.name for p in target.parent.iterdir()] == ["carte.html"]  # no temp file left


def test_save_map_cdn_links_when_not_self_contained(layers, tmp_path: Path) -> None:
    qpv, ind, eq = layers
    out = maps.save_map(maps.overview_map(qpv, ind, eq), tmp_path / "c.html", self_contained=False)
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in out.read_text(encoding="utf-8")


class _Broken(Element):
    def render(self, **kwargs):
        raise RuntimeError("rendering failed half-way")


def test_save_map_keeps_old_file_when_render_fails(layers, tmp_path: Path) -> None:
    qpv, ind, eq = layers
    target = tmp_path / "carte.html"
    maps.save_map(maps.overview_map(qpv, ind, eq), target)
    before = target.read_bytes()
    broken = maps.overview_map(qpv, ind, eq, indicator="walk_min_median_pharmacie")
    broken.get_root().html.add_child(_Broken())
    with pytest.raises(RuntimeError, match="half-way"):
        maps.save_map(broken, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["carte.html"]


def test_save_map_keeps_old_file_when_write_fails(layers, tmp_path: Path, monkeypatch) -> None:
    qpv, ind, eq = layers
    target = tmp_path / "carte.html"
    target.write_text("<!DOCTYPE html><html>ancienne carte</html>", encoding="utf-8")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        maps.save_map(maps.overview_map(qpv, ind, eq), target)
    assert target.read_text(encoding="utf-8") == "<!DOCTYPE html><html>ancienne carte</html>"
    assert [p.name for p in tmp_path.iterdir()] == ["carte.html"]


# ---------------------------------------------------------------------------
# real data and a real browser


@pytest.mark.mirror
def test_overview_from_pipeline(small_run) -> None:
    r = small_run
    m = maps.overview_map(r.qpv, r.indicators, r.equipments)
    groups = _geojson_layers(m)
    assert "QPV avec valeur calculée (2)" in groups
    assert "QPV sans valeur calculée (1)" in groups
    no_value = groups["QPV sans valeur calculée (1)"]["features"][0]["properties"]
    assert no_value["code"] == "QN09101M"
    assert no_value["pourquoi"] == "Pas de réseau de rues disponible : valeur non calculée"
    names = [n for n in groups if not n.startswith("QPV")]
    assert {n.rsplit(" (", 1)[0] for n in names} >= {nomenclature.label(c) for c in r.categories}
    assert any(n.startswith("Boulangerie (") for n in names)


@pytest.mark.browser
@pytest.mark.mirror
def test_browser_renders_qpv_and_layer_control(small_run, tmp_path: Path) -> None:
    r = small_run
    page = maps.save_map(maps.overview_map(r.qpv, r.indicators, r.equipments), tmp_path / "c.html")
    profile = tmp_path / "profil"
    proc = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'class="leaflet-pane leaflet-map-pane"' in dom, "Leaflet did not start"
    assert "leaflet-overlay-pane" in dom
    n_paths = len(re.findall(r'<path[^>]*class="[^"]*leaflet-interactive', dom))
    assert n_paths >= len(r.qpv)
    for label in ("QPV avec valeur calculée (2)", "QPV sans valeur calculée (1)", "Boulangerie ("):
        assert label in dom, label
    assert "leaflet-control-layers" in dom
    assert "Source : ANCT" in dom  # the attribution control
    assert "Temps de marche médian vers : Boulangerie (min)" in dom  # the legend


# ---------------------------------------------------------------------------
# access and enclavement maps (real data, three QPV: two with a street network)


def _groups(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.FeatureGroup)}


def _legend(m: folium.Map) -> str:
    html = _html(m)
    start = html.index('<div class="qpvgeo-legend">')
    return html[start : html.index('<div class="qpvgeo-title"', start)]


def _features(layers: dict[str, dict | None], name: str) -> list[dict]:
    return (layers[name] or {"features": []})["features"]


@pytest.mark.mirror
def test_access_map_layers_isochrones_and_legend(small_run) -> None:
    r = small_run
    m = maps.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="pharmacie")
    layers = _geojson_layers(m)
    names = list(layers)
    assert names[:5] == [
        "QPV : offre pour 1 000 habitants (E2SFCA)",
        "QPV : temps de marche médian",
        "Isochrones 15 min",
        "Isochrones 10 min",
        "Isochrones 5 min",
    ]
    assert any(n.startswith("Pharmacie (") for n in names)
    assert any(n.startswith("Médecin généraliste (") for n in names)
    # one isochrone per QPV with a street network (QN09101M has none)
    for minutes in (5, 10, 15):
        feats = _features(layers, f"Isochrones {minutes} min")
        assert sorted(f["properties"]["code"] for f in feats) == ["QN09106M", "QN09140N"]
    groups = _groups(m)
    assert groups["QPV : offre pour 1 000 habitants (E2SFCA)"].show
    assert not groups["QPV : temps de marche médian"].show
    legend = _legend(m)
    for text in (
        "Pharmacie : offre pour 1 000 habitants à 15 min (E2SFCA)",
        "Pharmacie : temps de marche médian",
        "moins de 5 min",
        "QPV sans valeur calculée",
        "5 min à pied",
        "15 min à pied",
        "sans trottoirs ni cheminements piétons",
    ):
        assert text in legend, text
    assert "Accès à pied des QPV — Pharmacie" in _html(m)


@pytest.mark.mirror
def test_access_map_tooltips(small_run) -> None:
    r = small_run
    m = maps.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="pharmacie")
    feats = {
        f["properties"]["code"]: f["properties"]
        for f in _features(_geojson_layers(m), "QPV : offre pour 1 000 habitants (E2SFCA)")
    }
    assert set(feats) == {"QN09106M", "QN09140N", "QN09101M"}
    ulis = feats["QN09106M"]
    assert ulis["temps"].endswith(" min") and "," in ulis["temps"]
    assert ulis["reste"].endswith(")") and "min" in ulis["reste"]
    assert ulis["part10"].endswith(" %")
    assert re.fullmatch(r"\d+,\d\d", ulis["e2sfca"]) and re.fullmatch(r"\d+,\d\d", ulis["fca2"])
    assert ulis["gamme"].endswith(" %") and ulis["huff"].endswith(" %")
    assert "faute de cheminements piétons" in ulis["methode"]
    assert feats["QN09101M"]["e2sfca"] == "non calculé"
    assert feats["QN09101M"]["temps"] == "non calculé"
    html = _html(m)
    for alias in (
        "Temps de marche médian",
        "Reste de la commune (temps médian)",
        "Habitants à moins de 10 min",
        "Offre pour 1 000 habitants (E2SFCA)",
        "Gamme de proximité INSEE couverte à 10 min",
    ):
        assert json.dumps(alias) in html, alias


@pytest.mark.mirror
def test_access_map_food_retail_and_errors(small_run) -> None:
    r = small_run
    m = maps.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="alimentaire")
    groups = _groups(m)
    assert "QPV : offre pour 1 000 habitants (E2SFCA)" in groups
    assert "QPV : temps de marche médian" not in groups  # no time to "all food retail"
    assert groups[next(n for n in groups if n.startswith("Supermarché ("))].show
    assert "Commerces alimentaires : offre pour 1 000 habitants" in _legend(m)
    with pytest.raises(MissingColumnError, match="boucherie"):
        maps.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="boucherie")
    with pytest.raises(CRSError, match="isochrones"):
        maps.access_map(r.qpv, r.indicators, r.equipments, r.isochrones.to_crs(4326))
    with pytest.raises(CRSError, match="qpv"):
        maps.access_map(r.qpv.to_crs(4326), r.indicators, r.equipments, r.isochrones)


def _enclavement(r, **kwargs) -> folium.Map:
    args = dict(
        qpv=r.qpv, indicators=r.indicators, barriers=r.barriers, streets=r.streets,
        candidates=r.candidates, crossings=r.crossings, detours=r.detours,
        equipments=r.equipments,
    )  # fmt: skip
    args.update(kwargs)
    return maps.enclavement_map(**args)


CANDIDATES = "Emplacements candidats : fort passage potentiel, aucun commerce à moins de 150 m"


@pytest.mark.mirror
def test_enclavement_map_layers(small_run) -> None:
    r = small_run
    m = _enclavement(r)
    layers = _geojson_layers(m)
    names = list(layers)
    assert names[:2] == ["QPV : indice d'enclavement", "QPV : type de coupure"]
    assert any(n.startswith("Coupures : voies ferrées (") for n in names)
    assert "Rues : flux piéton potentiel" in names
    cand = f"{CANDIDATES} ({len(r.candidates)})"
    assert cand in names and len(_features(layers, cand)) == len(r.candidates)
    assert f"Franchissements des limites des QPV ({len(r.crossings)})" in names
    assert "Détours vers la gare la plus proche" in names
    assert any(n.startswith("Commerces : potentiel de passage (") for n in names)
    assert len(_features(layers, "QPV : indice d'enclavement")) == 3
    detours = _features(layers, "Détours vers la gare la plus proche")
    assert {f["properties"]["_droit"] for f in detours} == {True, False}
    assert any("fois la distance à vol d'oiseau" in f["properties"]["trajet"] for f in detours)
    # streets: thicker and darker with more flow
    geo = next(
        c
        for c in _groups(m)["Rues : flux piéton potentiel"]._children.values()
        if isinstance(c, folium.GeoJson)
    )
    styles = [geo.style_function(f) for f in geo.data["features"]]
    widths = sorted({s["weight"] for s in styles})
    assert len(widths) >= 3 and widths[0] == 1
    ulis = next(
        f["properties"]
        for f in _features(layers, "QPV : indice d'enclavement")
        if f["properties"]["code"] == "QN09106M"
    )
    assert re.fullmatch(r"0,\d\d", ulis["indice"])
    assert "franchissements par km" in ulis["composantes"]
    assert "routes non évaluées" in ulis["bordure"]


@pytest.mark.mirror
def test_enclavement_legend_roads_not_assessed(small_run) -> None:
    r = small_run
    assert r.barriers.assessed["road"] == "no"
    legend = _legend(_enclavement(r))
    for text in (
        "Indice d'enclavement (0 ouvert – 1 très enclavé)",
        "routes non évaluées",
        "Voies ferrées",
        "à vol d'oiseau",
        "itinéraire sur les rues",
        CANDIDATES,
        "sans trottoirs ni cheminements piétons",
    ):
        assert text in legend, text
    from dataclasses import replace

    assessed = replace(r.barriers, assessed={"rail": "yes", "water": "yes", "road": "yes"})
    assert "routes non évaluées" not in _legend(_enclavement(r, barriers=assessed))


@pytest.mark.mirror
def test_enclavement_map_errors_and_empty_layers(small_run) -> None:
    r = small_run
    with pytest.raises(CRSError, match="streets"):
        _enclavement(r, streets=r.streets.to_crs(4326))
    with pytest.raises(CRSError, match="barriers"):
        _enclavement(r, barriers=maps_barriers(r.barriers.lines.to_crs(4326)))
    with pytest.raises(MissingColumnError, match="enclavement_index"):
        _enclavement(r, indicators=r.indicators.drop(columns="enclavement_index"))
    empty = gpd.GeoDataFrame({"code_qp": []}, geometry=[], crs="EPSG:2154")
    m = _enclavement(r, streets=empty.assign(flow_trips=[]), candidates=empty, crossings=empty,
                     detours=empty)  # fmt: skip
    assert f"{CANDIDATES} (0)" in _geojson_layers(m)


def maps_barriers(lines: gpd.GeoDataFrame):
    from qpvgeo.data.barriers import Barriers

    return Barriers(lines=lines, assessed={"rail": "yes", "water": "partial", "road": "no"})


@pytest.mark.mirror
def test_export_maps_writes_the_three_pages(small_run, tmp_path: Path) -> None:
    paths = maps.export_maps(small_run, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "maps/qpv_overview.html",
        "maps/qpv_acces.html",
        "maps/qpv_enclavement.html",
    ]
    assert list(maps.MAPS) == [p.relative_to(tmp_path).as_posix() for p in paths]
    for p in paths:
        text = p.read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net/npm/leaflet" not in text
        assert p.stat().st_size < 3_000_000


_ONERROR = (
    "<script>window.onerror = function (msg) { document.documentElement.setAttribute("
    "'data-js-errors', (document.documentElement.getAttribute('data-js-errors') || '') + msg + "
    "' | '); };</script>"
)


@pytest.mark.browser
@pytest.mark.mirror
def test_browser_renders_access_and_enclavement_maps(small_run, tmp_path: Path) -> None:
    r = small_run
    pages = {
        "acces": maps.access_map(r.qpv, r.indicators, r.equipments, r.isochrones),
        "enclavement": _enclavement(r),
    }
    for name, m in pages.items():
        page = maps.save_map(m, tmp_path / f"{name}.html")
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace("<head>", "<head>" + _ONERROR, 1), encoding="utf-8")
        proc = subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / ('profil-' + name)}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        dom = proc.stdout
        assert proc.returncode == 0, proc.stderr[-2000:]
        errors = re.search(r'data-js-errors="[^"]*"', dom)
        assert errors is None, errors[0]
        assert 'class="leaflet-pane leaflet-map-pane"' in dom, name
        n_paths = len(re.findall(r'<path[^>]*class="[^"]*leaflet-interactive', dom))
        assert n_paths >= len(r.qpv), name
        assert "leaflet-control-layers" in dom and "qpvgeo-legend" in dom
        if name == "acces":
            assert "Isochrones 5 min" in dom
            # isochrones are drawn, but do not catch the mouse (QPV tooltips stay reachable)
            assert re.search(r'<path[^>]*stroke="#3f007d"', dom)
        else:
            assert "routes non évaluées" in dom
            assert CANDIDATES in dom
            assert re.search(r'<path[^>]*stroke="#00bcd4"', dom)
