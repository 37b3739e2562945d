"""Tests of qpvgeo.outputs.maps.access (real data, three QPV: two with a street network)."""

from __future__ import annotations

import json
import re

import pytest

from qpvgeo._errors import CRSError, MissingColumnError
from qpvgeo.outputs.maps import access

from ..conftest import geojson_layers, groups, layer_features, legend_html, page_html


@pytest.mark.mirror
def test_access_map_layers_isochrones_and_legend(small_run) -> None:
    r = small_run
    m = access.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="pharmacie")
    layers = geojson_layers(m)
    names = list(layers)
    assert names[:5] == [
        "QPV : offre pour 1 000 habitants (2SFCA à noyau gaussien, Dai 2010)",
        "QPV : temps de marche médian",
        "Isochrones 15 min",
        "Isochrones 10 min",
        "Isochrones 5 min",
    ]
    assert any(n.startswith("Pharmacie (") for n in names)
    assert any(n.startswith("Médecin généraliste (") for n in names)
    # one isochrone per QPV with a street network (QN09101M has none)
    for minutes in (5, 10, 15):
        feats = layer_features(layers, f"Isochrones {minutes} min")
        assert sorted(f["properties"]["code"] for f in feats) == ["QN09106M", "QN09140N"]
    by_name = groups(m)
    assert by_name["QPV : offre pour 1 000 habitants (2SFCA à noyau gaussien, Dai 2010)"].show
    assert not by_name["QPV : temps de marche médian"].show
    legend = legend_html(m)
    for text in (
        "Pharmacie : offre pour 1 000 habitants à 15 min (2SFCA à noyau gaussien, Dai 2010)",
        "Pharmacie : temps de marche médian",
        "moins de 5 min",
        "QPV sans valeur calculée",
        "5 min à pied",
        "15 min à pied",
        "sans trottoirs ni cheminements piétons",
    ):
        assert text in legend, text
    assert "Accès à pied des QPV — Pharmacie" in page_html(m)


@pytest.mark.mirror
def test_access_map_tooltips(small_run) -> None:
    r = small_run
    m = access.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="pharmacie")
    feats = {
        f["properties"]["code"]: f["properties"]
        for f in layer_features(geojson_layers(m), "QPV : offre pour 1 000 habitants (2SFCA à noyau gaussien, Dai 2010)")
    }
    assert set(feats) == {"QN09106M", "QN09140N", "QN09101M"}
    ulis = feats["QN09106M"]
    assert ulis["temps"].endswith(" min") and "," in ulis["temps"]
    assert ulis["reste"].endswith(")") and "min" in ulis["reste"]
    assert ulis["part10"].endswith(" %")
    assert re.fullmatch(r"\d+,\d\d", ulis["g2sfca"]) and re.fullmatch(r"\d+,\d\d", ulis["fca2"])
    assert ulis["gamme"].endswith(" %") and ulis["huff"].endswith(" %")
    assert "faute de cheminements piétons" in ulis["methode"]
    assert feats["QN09101M"]["g2sfca"] == "non calculé"
    assert feats["QN09101M"]["temps"] == "non calculé"
    html = page_html(m)
    for alias in (
        "Temps de marche médian",
        "Reste de la commune (temps médian)",
        "Habitants à moins de 10 min",
        "Offre pour 1 000 habitants (2SFCA à noyau gaussien)",
        "Gamme de proximité INSEE couverte à 10 min",
    ):
        assert json.dumps(alias) in html, alias


@pytest.mark.mirror
def test_access_map_food_retail_and_errors(small_run) -> None:
    r = small_run
    m = access.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="alimentaire")
    by_name = groups(m)
    assert "QPV : offre pour 1 000 habitants (2SFCA à noyau gaussien, Dai 2010)" in by_name
    assert "QPV : temps de marche médian" not in by_name  # no time to "all food retail"
    assert by_name[next(n for n in by_name if n.startswith("Supermarché ("))].show
    assert "Commerces alimentaires : offre pour 1 000 habitants" in legend_html(m)
    with pytest.raises(MissingColumnError, match="boucherie"):
        access.access_map(r.qpv, r.indicators, r.equipments, r.isochrones, category="boucherie")
    with pytest.raises(CRSError, match="isochrones"):
        access.access_map(r.qpv, r.indicators, r.equipments, r.isochrones.to_crs(4326))
    with pytest.raises(CRSError, match="qpv"):
        access.access_map(r.qpv.to_crs(4326), r.indicators, r.equipments, r.isochrones)
