"""Tests of qpvgeo.outputs.maps.context: place context, inventory, credits (real data)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from qpvgeo.data import nomenclature, sources
from qpvgeo.outputs import labels_fr, maps
from qpvgeo.outputs.maps import context
from qpvgeo.outputs.maps.coupling import coupling_map

from ..conftest import browser_check

pytestmark = pytest.mark.mirror


def test_inventory_lists_what_the_data_hold_and_lack(small_run) -> None:
    present, absent = context.inventory(small_run)
    have = set(small_run.equipments["category"])
    shown = {lab for _, labs in present for lab in labs}
    assert shown == {nomenclature.label(c) for c in have}
    # every category of the nomenclature is either counted or said to be absent
    assert shown | set(absent) == {nomenclature.label(c) for c in nomenclature.categories().index}
    for cat in small_run.categories_absent:  # e.g. butchers, markets, post offices
        assert nomenclature.label(cat) in absent
    assert not shown & set(absent)


def test_credits_take_the_vintages_from_the_catalogue() -> None:
    credits = labels_fr.source_credits()
    for key, what in labels_fr.CREDITED:
        row = next(r for r in credits if r[0] == what)
        assert row[1] == sources.CATALOGUE[key].publisher
        assert row[2] and row[2] in sources.CATALOGUE[key].vintage
    line = labels_fr.attribution()
    for key in ("stations", "communes", "qpv"):
        assert labels_fr.vintage(key) in line, key
    assert "Île-de-France Mobilités" in line and "IGN" in line


def test_context_draws_every_other_qpv_and_the_communes(small_run) -> None:
    data = context.context_data(small_run, radius_m=1e6)
    others = set(small_run.qpv_all.index) - set(small_run.qpv.index)
    assert len(data["voisins"]["features"]) == len(others)
    kinds = [lab["k"] for lab in data["labels"]]
    assert kinds.count("qpv") == len(small_run.qpv) and kinds.count("voisin") == len(others)
    assert kinds.count("commune") == len(small_run.communes)
    assert data["fiches"] == {c: f"fiches/{c}.html" for c in small_run.qpv.index}


@pytest.mark.browser
def test_coupling_map_of_many_qpv_waits_for_a_closer_zoom(small_run, tmp_path: Path) -> None:
    """A map of every QPV of the département opens on the QPV, not under thousands of points."""
    run = dataclasses.replace(small_run, qpv=small_run.qpv_all)
    m = coupling_map(run.qpv, run.equipments, run.service_pairs, run.polarites,
                     indicators=run.indicators)  # fmt: skip
    maps.decorate(m, run, points_pane="points")
    page = maps.save_map(m, tmp_path / "couplage.html")
    script = """
    var map = null;
    Object.keys(window).forEach(function (k) {
      try { if (window[k] instanceof L.Map) { map = window[k]; } } catch (e) {} });
    var pane = map.getPane('points');
    out.n_points = pane.querySelectorAll('path').length;
    out.start_zoom = map.getZoom();
    out.hidden_at_start = getComputedStyle(pane).display === 'none';
    out.hint = getComputedStyle(document.querySelector('.qpvgeo-hint')).display !== 'none';
    map.setZoom(context_zoom, {animate: false});
    out.shown_closer = getComputedStyle(pane).display !== 'none';
    """.replace("context_zoom", str(context.POINTS_MIN_ZOOM))
    found, dom = browser_check(page, tmp_path / "p", script)
    assert "error" not in found, found.get("error")
    assert found["n_points"] > 1000  # the département's shops and services
    assert found["start_zoom"] < context.POINTS_MIN_ZOOM
    assert found["hidden_at_start"] and found["hint"]
    assert found["shown_closer"]
