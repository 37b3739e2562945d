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


def test_labels_of_every_qpv_never_overlap(small_run, tmp_path: Path) -> None:
    """The overview of all 47 QPV at département zoom: no label on another (crowded QPV names
    move a line up or down, else wait for a closer zoom; commune names yield first); most QPV
    named at once, and every hidden one named two zoom levels closer, centred on it."""
    run = dataclasses.replace(small_run, qpv=small_run.qpv_all)
    m = maps.overview_map(run.qpv, run.indicators, run.equipments)
    maps.decorate(m, run)
    page = maps.save_map(m, tmp_path / "overview.html")
    script = """
    var shown = [].filter.call(document.querySelectorAll('.qpvgeo-lab span'), function (e) {
      return getComputedStyle(e).visibility !== 'hidden' && e.getBoundingClientRect().width > 0;
    });
    var boxes = shown.map(function (e) { return [e.textContent, e.getBoundingClientRect()]; });
    out.overlaps = [];
    boxes.forEach(function (a, i) { boxes.slice(i + 1).forEach(function (b) {
      var r = a[1], k = b[1];
      if (r.left < k.right - 0.5 && r.right > k.left + 0.5 && r.top < k.bottom - 0.5 && r.bottom > k.top + 0.5) {
        out.overlaps.push(a[0] + ' / ' + b[0]);
      }
    }); });
    var qpv = [].slice.call(document.querySelectorAll('.qpvgeo-lab-qpv span'));
    var hidden = qpv.filter(function (e) { return getComputedStyle(e).visibility === 'hidden'; });
    out.qpv_shown = qpv.length - hidden.length;
    var map = null;
    Object.keys(window).forEach(function (k) {
      try { if (window[k] instanceof L.Map) { map = window[k]; } } catch (e) {} });
    var z = map.getZoom();
    var at = hidden.map(function (e) {
      var r = e.getBoundingClientRect();
      return map.containerPointToLatLng([(r.left + r.right) / 2, (r.top + r.bottom) / 2]);
    });
    out.still_hidden = [];
    hidden.forEach(function (e, i) {
      map.setView(at[i], z + 2, {animate: false});
      if (getComputedStyle(e).visibility === 'hidden') { out.still_hidden.push(e.textContent); }
    });
    out.n_hidden = hidden.length;
    """
    found, dom = browser_check(page, tmp_path / "p", script)
    assert "error" not in found, found.get("error")
    assert found["overlaps"] == [], found["overlaps"]
    assert len(run.qpv) == 47 and found["qpv_shown"] >= 30, found
    assert found["still_hidden"] == [] and found["qpv_shown"] + found["n_hidden"] == 47, found
