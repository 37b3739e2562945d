"""Tests of qpvgeo.outputs.maps.overview: the overview map, its colours, tooltips and legend."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import pandas as pd
import pytest

from qpvgeo._errors import CRSError, MissingColumnError
from qpvgeo.data import nomenclature
from qpvgeo.outputs import maps
from qpvgeo.outputs.maps import overview

from ..conftest import dump_dom, geojson_layers, legend_html, page_html


def test_colormap_classes_and_caption() -> None:
    cmap = overview.indicator_colormap("walk_min_median_boulangerie", pd.Series([2.0, 41.0]))
    assert cmap.caption == "Temps de marche médian vers : Boulangerie (min)"
    assert cmap.index[:5] == [0.0, 5.0, 10.0, 15.0, 20.0] and cmap.index[-1] >= 41
    assert cmap.rgb_hex_str(4.0) != cmap.rgb_hex_str(12.0)
    share = overview.indicator_colormap("share_within_10min_boulangerie_pct", pd.Series([50.0]))
    assert share.index[0] == 0 and share.index[-1] == 100


def test_overview_layers_and_names(layers) -> None:
    qpv, ind, eq = layers
    m = overview.overview_map(qpv, ind, eq)
    groups = geojson_layers(m)
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
    m = overview.overview_map(qpv, ind, eq, categories=["supermarche"], show_equipments=False)
    names = list(geojson_layers(m))
    assert names[-1] == "Supermarché (1)"
    assert not any(name.startswith("Boulangerie") for name in names)


def test_overview_tooltips_values_and_status(layers) -> None:
    qpv, ind, eq = layers
    m = overview.overview_map(qpv, ind, eq)
    feats = {
        f["properties"]["code"]: f["properties"]
        for name, fc in geojson_layers(m).items()
        if name.startswith("QPV")
        for f in fc["features"]
    }
    assert feats["QN09901M"]["valeur"] == "4,3 min"
    assert feats["QN09901M"]["quartier"] == "Les Pyramides"
    assert feats["QN09901M"]["commune"] == "Évry-Courcouronnes"
    assert feats["QN09901M"]["reseau"] == "couvert (100 % des habitants)"
    assert feats["QN09902M"]["reseau"] == "partiel (58 % des habitants)"
    assert "faute de cheminements piétons" in feats["QN09902M"]["methode"]
    assert feats["QN09903M"]["valeur"] == "non calculée"
    assert feats["QN09903M"]["pourquoi"] == "Pas de réseau de rues disponible : valeur non calculée"
    html = page_html(m)
    for alias in ("Code", "Quartier", "Commune", "Réseau de rues", "Méthode", "Pourquoi"):
        assert json.dumps(alias) in html, alias
    assert json.dumps("Temps de marche médian vers : Boulangerie (min)") in html


def test_no_value_qpv_is_grey_and_dashed(layers) -> None:
    qpv, ind, eq = layers
    m = overview.overview_map(qpv, ind, eq)
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
    m = overview.overview_map(qpv, ind, eq)
    html = page_html(m)
    tiles = next(c for c in m._children.values() if isinstance(c, folium.TileLayer))
    legend = legend_html(m)
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
    m = overview.overview_map(qpv, ind, eq)
    bakeries = geojson_layers(m)["Boulangerie (3)"]["features"]
    props = sorted((f["properties"]["code"], f["properties"]["source"]) for f in bakeries)
    assert props == [
        ("B207", "INSEE, BPE 2024"),
        ("B207", "INSEE, BPE 2024"),
        ("shop=bakery", "OpenStreetMap"),
    ]
    assert {f["properties"]["nom"] for f in bakeries} == {"Boulangerie"}
    assert json.dumps("Équipement") in page_html(m)


def test_overview_is_in_wgs84_and_fits_qpv(layers) -> None:
    qpv, ind, eq = layers
    m = overview.overview_map(qpv, ind, eq)
    coords = geojson_layers(m)["QPV avec valeur calculée (2)"]["features"][0]["geometry"]
    lon, lat = coords["coordinates"][0][0]
    assert 2.0 < lon < 3.0 and 48.0 < lat < 49.0
    html = page_html(m)
    assert "fitBounds" in html


def test_crs_error_for_wgs84_input(layers) -> None:
    qpv, ind, eq = layers
    with pytest.raises(CRSError, match="qpv"):
        overview.overview_map(qpv.to_crs(4326), ind, eq)
    with pytest.raises(CRSError, match="equipments"):
        overview.overview_map(qpv, ind, eq.to_crs(4326))


def test_unknown_indicator(layers) -> None:
    qpv, ind, eq = layers
    with pytest.raises(MissingColumnError, match="walk_min_median_boucherie"):
        overview.overview_map(qpv, ind, eq, indicator="walk_min_median_boucherie")


def test_categories_without_equipment_warn(layers) -> None:
    qpv, ind, eq = layers
    with pytest.warns(UserWarning, match="boucherie") as record:
        overview.overview_map(qpv, ind, eq, categories=["boulangerie", "boucherie"])
    assert Path(record[0].filename).name == Path(__file__).name  # points at the caller


# ---------------------------------------------------------------------------
# real data and a real browser


@pytest.mark.mirror
def test_overview_from_pipeline(small_run) -> None:
    r = small_run
    m = overview.overview_map(r.qpv, r.indicators, r.equipments)
    groups = geojson_layers(m)
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
    page = maps.save_map(
        overview.overview_map(r.qpv, r.indicators, r.equipments), tmp_path / "c.html"
    )
    dom = dump_dom(page, tmp_path / "profil")
    assert 'class="leaflet-pane leaflet-map-pane"' in dom, "Leaflet did not start"
    assert "leaflet-overlay-pane" in dom
    n_paths = len(re.findall(r'<path[^>]*class="[^"]*leaflet-interactive', dom))
    assert n_paths >= len(r.qpv)
    for label in ("QPV avec valeur calculée (2)", "QPV sans valeur calculée (1)", "Boulangerie ("):
        assert label in dom, label
    assert "leaflet-control-layers" in dom
    assert "Source : ANCT" in dom  # the attribution control
    assert "Temps de marche médian vers : Boulangerie (min)" in dom  # the legend
