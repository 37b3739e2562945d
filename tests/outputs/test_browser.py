"""The workshop pages in a real browser (headless Chromium, offline), as a presenter opens them.

At 1366×768: no tooltip or popup taller than the window or out of it; a QPV
label and commune names visible at the start view of every map; the legend
clear of the zoom buttons and of the QPV labels (1280×720 too); a click on a
QPV opens its fiche; a fiche prints on at most 2 A4 pages, without its
buttons; no JavaScript or console error. The session's three-QPV export
(``exported``), copied so that the pages can be rewritten.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ..conftest import SMALL_RUN_CODES
from .conftest import browser_check, pdf_pages, print_to_pdf

pytestmark = [pytest.mark.browser, pytest.mark.mirror]

MAPS = ("qpv_overview", "qpv_acces", "qpv_enclavement", "qpv_couplage", "qpv_viabilite")
WITH_NETWORK, WITHOUT_NETWORK = "QN09140N", "QN09101M"

#: the Leaflet map of a page (folium names it map_<id>; the fiche keeps it in a closure)
_FIND_MAP = """
var map = null;
Object.keys(window).forEach(function (k) {
  try { if (window[k] instanceof L.Map) { map = window[k]; } } catch (e) {}
});
"""

#: open every tooltip and popup of the layers on the map; measure them against the window
_TOOLTIPS = _FIND_MAP + """
var W = window.innerWidth, H = window.innerHeight, n = 0, worst = 0, out_of = [];
var layers = [];
map.eachLayer(function (l) { if (l.getTooltip && (l.getTooltip() || l.getPopup())) { layers.push(l); } });
layers.slice(0, 600).forEach(function (l) {
  var at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
  [['getTooltip', 'openTooltip', 'closeTooltip'], ['getPopup', 'openPopup', 'closePopup']]
    .forEach(function (f) {
      if (!l[f[0]]()) { return; }
      l[f[1]](at);
      var el = l[f[0]]().getElement();
      if (!el) { return; }
      var r = el.getBoundingClientRect();
      n += 1;
      worst = Math.max(worst, r.height);
      if (r.top < -1 || r.bottom > H + 1 || r.left < -1 || r.right > W + 1 || r.height > H) {
        out_of.push(el.textContent.slice(0, 60) + ' ' + Math.round(r.top) + '..' + Math.round(r.bottom));
      }
      l[f[2]]();
    });
});
out.n = n; out.worst = worst; out.outside = out_of.slice(0, 5); out.height = H;
"""

#: what is readable at the start view: labels in the window and not under a box
_START_VIEW = _FIND_MAP + """
var W = window.innerWidth, H = window.innerHeight;
var boxes = ['.qpvgeo-legend', '.qpvgeo-title', '.leaflet-control-layers']
  .map(function (s) { var e = document.querySelector(s); return e && e.getBoundingClientRect(); })
  .filter(function (r) { return r; });
var under = function (r) {
  var cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
  return boxes.some(function (b) { return cx >= b.left && cx <= b.right && cy >= b.top && cy <= b.bottom; });
};
var seen = function (sel) {
  return [].filter.call(document.querySelectorAll(sel), function (e) {
    var r = e.getBoundingClientRect();
    return r.width > 0 && r.left >= 0 && r.right <= W && r.top >= 0 && r.bottom <= H && !under(r)
      && getComputedStyle(e).visibility !== 'hidden';
  }).map(function (e) { return e.textContent; });
};
// labels shown on top of each other (hidden ones left out)
var shown = [].filter.call(document.querySelectorAll('.qpvgeo-lab span'), function (e) {
  return getComputedStyle(e).visibility !== 'hidden' && e.getBoundingClientRect().width > 0;
}).map(function (e) { return [e.textContent, e.getBoundingClientRect()]; });
out.overlaps = [];
shown.forEach(function (a, i) { shown.slice(i + 1).forEach(function (b) {
  var r = a[1], k = b[1];
  if (r.left < k.right && r.right > k.left && r.top < k.bottom && r.bottom > k.top) {
    out.overlaps.push(a[0] + ' / ' + b[0]);
  }
}); });
out.qpv = seen('.qpvgeo-lab-qpv span');
out.communes = seen('.qpvgeo-lab-commune span');
out.hidden_qpv = [].filter.call(document.querySelectorAll('.qpvgeo-lab-qpv span'), function (e) {
  return under(e.getBoundingClientRect()); }).map(function (e) { return e.textContent; });
var z = document.querySelector('.leaflet-control-zoom').getBoundingClientRect();
var lg = document.querySelector('.qpvgeo-legend').getBoundingClientRect();
out.legend_over_zoom = !(lg.top >= z.bottom || lg.bottom <= z.top || lg.left >= z.right || lg.right <= z.left);
out.meta = (document.querySelector('.qpvgeo-title .meta') || {}).innerHTML || '';
"""

#: click the first QPV polygon of the run: its fiche opens
_CLICK = _FIND_MAP + """
var done = false;
map.eachLayer(function (l) {
  var p = l.feature && l.feature.properties;
  if (!done && p && p.code === CODE && l.getBounds) { done = true; l.fire('click'); }
});
out.clicked = done;
"""


@pytest.fixture(scope="module")
def pages(exported, tmp_path_factory) -> Path:
    """A copy of the exported ``maps/`` folder."""
    out, _ = exported
    copy = tmp_path_factory.mktemp("navigateur") / "maps"
    shutil.copytree(out / "maps", copy)
    return copy


def _no_errors(dom: str) -> None:
    errors = re.search(r'data-js-errors="[^"]*"', dom)
    assert errors is None, errors[0]


@pytest.mark.parametrize("name", MAPS)
def test_map_tooltips_fit_the_window(pages: Path, tmp_path: Path, name: str) -> None:
    found, dom = browser_check(pages / f"{name}.html", tmp_path / "p", _TOOLTIPS)
    _no_errors(dom)
    assert "error" not in found, found.get("error")
    assert found["n"] > 0
    assert found["worst"] <= found["height"], found
    assert found["outside"] == [], found["outside"]


@pytest.mark.parametrize("code", [WITH_NETWORK, WITHOUT_NETWORK])
def test_fiche_tooltips_fit_the_window(pages: Path, tmp_path: Path, code: str) -> None:
    # the map of a fiche is below its heading: the reader scrolls to it first
    script = _TOOLTIPS.replace(_FIND_MAP, "var map = window.QPVGEO_MAP; "
                               "document.getElementById('carte').scrollIntoView();")
    found, dom = browser_check(pages / "fiches" / f"{code}.html", tmp_path / "p", script)
    _no_errors(dom)
    assert "error" not in found, found.get("error")
    assert found["n"] > 0
    assert found["worst"] <= found["height"] and found["outside"] == [], found


@pytest.mark.parametrize("size", [(1366, 768), (1280, 720)])
@pytest.mark.parametrize("name", MAPS)
def test_map_start_view_shows_where(pages: Path, tmp_path: Path, name: str, size) -> None:
    found, dom = browser_check(pages / f"{name}.html", tmp_path / "p", _START_VIEW, size=size)
    _no_errors(dom)
    assert "error" not in found, found.get("error")
    # every QPV of the run is labelled, in the window and clear of the legend and boxes
    for code in SMALL_RUN_CODES:
        assert any(code in t for t in found["qpv"]), (code, found)
    assert found["hidden_qpv"] == []
    assert found["overlaps"] == [], found["overlaps"]
    assert len(found["communes"]) >= 2, found["communes"]
    assert any("ULIS" in t.upper() for t in found["communes"]), found["communes"]
    assert not found["legend_over_zoom"]
    assert 'href="index.html"' in found["meta"] and "Produit par qpvgeo le" in found["meta"]


@pytest.mark.parametrize("name", ["qpv_viabilite", "qpv_couplage"])
def test_click_on_a_qpv_opens_its_fiche(pages: Path, tmp_path: Path, name: str) -> None:
    found, dom = browser_check(pages / f"{name}.html", tmp_path / "p",
                               _CLICK.replace("CODE", f"'{WITH_NETWORK}'"))  # fmt: skip
    # the page navigated: the DOM dumped is the fiche's
    assert f"fiche QPV {WITH_NETWORK}</title>" in dom, dom[:300]
    assert 'class="leaflet-pane leaflet-map-pane"' in dom
    _no_errors(dom)


@pytest.mark.parametrize("code", SMALL_RUN_CODES)
def test_fiche_prints_on_two_pages_at_most(pages: Path, tmp_path: Path, code: str) -> None:
    pdf = print_to_pdf(pages / "fiches" / f"{code}.html", tmp_path / "p", tmp_path / "f.pdf")
    n = pdf_pages(pdf)
    assert 1 <= n <= 2, n
    # the links and map buttons are hidden by the page's print rules
    found, dom = browser_check(pages / "fiches" / f"{code}.html", tmp_path / "q", _PRINT_HIDDEN)
    _no_errors(dom)
    assert "error" not in found, found.get("error")
    assert found["controls"] >= 3, found  # the nav, the zoom buttons, the layer menu
    assert found["printed"] == [], found


#: the elements a printed fiche must not show, and whether the print rules hide them
_PRINT_HIDDEN = """
var hide = [];
[].forEach.call(document.styleSheets, function (sheet) {
  var rules = [];
  try { rules = sheet.cssRules; } catch (e) { return; }  // leaflet.css: another file
  [].forEach.call(rules, function (rule) {
    if (rule.media && /print/.test(rule.media.mediaText)) {
      [].forEach.call(rule.cssRules, function (r) {
        if (r.style && r.style.display === 'none') { hide.push(r.selectorText); }
      });
    }
  });
});
var controls = document.querySelectorAll('nav, .leaflet-control-zoom, .leaflet-control-layers, button');
out.controls = controls.length;
out.printed = [].filter.call(controls, function (e) {
  return !hide.some(function (sel) { return e.matches(sel); });
}).map(function (e) { return e.className || e.tagName; });
"""
