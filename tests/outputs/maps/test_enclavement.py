"""Tests of qpvgeo.outputs.maps.enclavement (real data, three QPV: two with a street network)."""

from __future__ import annotations

import re
from dataclasses import replace

import folium
import geopandas as gpd
import pytest

from qpvgeo._errors import CRSError, MissingColumnError
from qpvgeo.data.barriers import Barriers
from qpvgeo.outputs.maps import enclavement

from ..conftest import geojson_layers, groups, layer_features, legend_html

CANDIDATES = "Emplacements candidats : fort passage potentiel, aucun commerce à moins de 150 m"


def enclavement_of(r, **kwargs) -> folium.Map:
    """The enclavement map of run ``r``, some of its layers replaced by ``kwargs``."""
    args = dict(
        qpv=r.qpv, indicators=r.indicators, barriers=r.barriers, streets=r.streets,
        candidates=r.candidates, crossings=r.crossings, detours=r.detours,
        equipments=r.equipments,
    )  # fmt: skip
    args.update(kwargs)
    return enclavement.enclavement_map(**args)


@pytest.mark.mirror
def test_enclavement_map_layers(small_run) -> None:
    r = small_run
    m = enclavement_of(r)
    layers = geojson_layers(m)
    names = list(layers)
    assert names[:2] == ["QPV : indice d'enclavement par les rues", "QPV : type de coupure"]
    assert any(n.startswith("Coupures : voies ferrées (") for n in names)
    assert "Rues : flux piéton potentiel" in names
    cand = f"{CANDIDATES} ({len(r.candidates)})"
    assert cand in names and len(layer_features(layers, cand)) == len(r.candidates)
    assert f"Franchissements des limites des QPV ({len(r.crossings)})" in names
    assert "Détours vers la gare la plus proche" in names
    assert any(n.startswith("Commerces : potentiel de passage (") for n in names)
    assert len(layer_features(layers, "QPV : indice d'enclavement par les rues")) == 3
    detours = layer_features(layers, "Détours vers la gare la plus proche")
    assert {f["properties"]["_droit"] for f in detours} == {True, False}
    assert any("fois la distance à vol d'oiseau" in f["properties"]["trajet"] for f in detours)
    # streets: thicker and darker with more flow
    geo = next(
        c
        for c in groups(m)["Rues : flux piéton potentiel"]._children.values()
        if isinstance(c, folium.GeoJson)
    )
    styles = [geo.style_function(f) for f in geo.data["features"]]
    widths = sorted({s["weight"] for s in styles})
    assert len(widths) >= 3 and widths[0] == 1
    ulis = next(
        f["properties"]
        for f in layer_features(layers, "QPV : indice d'enclavement par les rues")
        if f["properties"]["code"] == "QN09106M"
    )
    assert re.fullmatch(r"0,\d\d", ulis["indice"])
    # without a network there is no street reading: no index, not a barrier-only stand-in
    other = next(
        f["properties"]
        for f in layer_features(layers, "QPV : indice d'enclavement par les rues")
        if f["properties"]["code"] == "QN09101M"
    )
    assert other["indice"] == "non calculé"
    assert "franchissements par km" in ulis["composantes"]
    assert "routes non évaluées" in ulis["bordure"]


@pytest.mark.mirror
def test_enclavement_legend_roads_not_assessed(small_run) -> None:
    r = small_run
    assert r.barriers.assessed["road"] == "no"
    legend = legend_html(enclavement_of(r))
    for text in (
        "Indice d'enclavement par les rues (0 ouvert – 1 très enclavé)",
        "routes non évaluées",
        "seuils qpvgeo",
        "Voies ferrées",
        "à vol d'oiseau",
        "itinéraire sur les rues",
        CANDIDATES,
    ):
        assert text in legend, text
    # the network note follows the data: the mirror's networks are drive networks; walk ones are not
    assert (r.indicators["network_kind"].dropna() == "drive").all()
    assert "sans trottoirs ni cheminements piétons" in legend
    walk = r.indicators.assign(network_kind=r.indicators["network_kind"].replace("drive", "walk"))
    assert "sans trottoirs" not in legend_html(enclavement_of(r, indicators=walk))
    assessed = replace(r.barriers, assessed={"rail": "yes", "water": "yes", "road": "yes"})
    assert "routes non évaluées" not in legend_html(enclavement_of(r, barriers=assessed))


@pytest.mark.mirror
def test_enclavement_map_errors_and_empty_layers(small_run) -> None:
    r = small_run
    with pytest.raises(CRSError, match="streets"):
        enclavement_of(r, streets=r.streets.to_crs(4326))
    wgs84 = Barriers(
        lines=r.barriers.lines.to_crs(4326),
        assessed={"rail": "yes", "water": "partial", "road": "no"},
    )
    with pytest.raises(CRSError, match="barriers"):
        enclavement_of(r, barriers=wgs84)
    with pytest.raises(MissingColumnError, match="enclavement_index"):
        enclavement_of(r, indicators=r.indicators.drop(columns="enclavement_index"))
    empty = gpd.GeoDataFrame({"code_qp": []}, geometry=[], crs="EPSG:2154")
    m = enclavement_of(r, streets=empty.assign(flow_trips=[]), candidates=empty, crossings=empty,
                       detours=empty)  # fmt: skip
    assert f"{CANDIDATES} (0)" in geojson_layers(m)
