"""Tests of qpvgeo.outputs.maps.viability (real data, QN09101M has no street network)."""

from __future__ import annotations

import re

import folium
import pandas as pd
import pytest

from qpvgeo.indicators import viability as vcomp
from qpvgeo.outputs.maps import viability

from ..conftest import group_features, groups, page_html

WITH_NETWORK, WITHOUT_NETWORK = "QN09106M", "QN09101M"


def test_viability_classes() -> None:
    assert viability.viability_labels() == [
        ("#d73027", "moins de 0,35 (le moins favorable)"),
        ("#fc8d59", "de 0,35 à 0,45"),
        ("#fee090", "de 0,45 à 0,55"),
        ("#91bfdb", "de 0,55 à 0,65"),
        ("#4575b4", "0,65 et plus (le plus favorable)"),
    ]
    assert viability.viability_colour(0.5) == "#fee090"
    assert viability.viability_colour(float("nan")) == ""


@pytest.mark.mirror
def test_viability_map_layers_and_tooltips(small_run) -> None:
    run = small_run
    m = viability.viability_map(run.qpv, run.indicators)
    by_name = groups(m)
    # the QPV without a network, whose poverty rate INSEE does not publish, is read on the
    # market size alone: no reading (fewer than two components), said so in its tooltip
    assert {"QPV : lecture de viabilité (2)", "QPV sans lecture de viabilité (1)"} <= set(by_name)
    feats = {f["properties"]["code"]: f["properties"] for name in by_name if "(" in name
             for f in group_features(by_name[name])}  # fmt: skip
    ulis, other = feats[WITH_NETWORK], feats[WITHOUT_NETWORK]
    assert other["score"] == "non évaluée (une seule composante lue : il en faut au moins 2)"
    assert other["_fill"] == "" and other["composantes"] == "taille du marché local (habitants)"
    assert re.fullmatch(r"0,\d\d|1,00", ulis["score"])
    # ranked only among the QPV read on the same components (the two of Les Ulis here)
    assert re.fullmatch(r"[12] sur 2 QPV lus sur les mêmes composantes", ulis["rang"])
    assert "tirages" in ulis["fourchette"]
    assert ulis["texte"].startswith(str(run.qpv.at[WITH_NETWORK, "lib_qp"]))
    assert "pas de réseau de rues dans les données" in other["manquantes"]
    assert "commerces à 5 min d'un service public (pas de réseau de rues" in other["manquantes"]
    assert other["manquantes"].count("pas de réseau de rues") == 1  # grouped by reason
    # a component that needs no network is missing for its own reason, not the network's
    ind = run.indicators
    assert "pouvoir_achat" in ind.at[WITHOUT_NETWORK, "viability_missing"]  # poverty not published
    for comp, (col, *_, needs_network, label) in vcomp.COMPONENTS.items():
        if not needs_network and comp in str(ind.at[WITHOUT_NETWORK, "viability_missing"]):
            assert pd.isna(ind.at[WITHOUT_NETWORK, col])
            assert label in other["manquantes"].split("(chiffre officiel non diffusé)")[0]
    assert ulis["_fill"] in viability.VIABILITY_COLOURS and not ulis["_partiel"]
    page = page_html(m)
    for colour, text in viability.viability_labels():
        assert text in page and colour in page
    tooltip = next(
        t
        for c in by_name["QPV : lecture de viabilité (2)"]._children.values()
        if isinstance(c, folium.GeoJson)
        for t in c._children.values()
        if isinstance(t, folium.GeoJsonTooltip)
    )
    for alias in ("Lecture de viabilité (0 à 1)", "Rang", "Rang selon les pondérations",
                  "En bref", "Composantes prises en compte", "Composantes non évaluées"):  # fmt: skip
        assert alias in tooltip.aliases, alias
