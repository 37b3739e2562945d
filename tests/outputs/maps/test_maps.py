"""Tests of qpvgeo.outputs.maps: the maps of a run, their pages in a browser, the 0.1 names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import qpvgeo
from qpvgeo.outputs import maps

from ..conftest import dump_dom, with_onerror
from .test_enclavement import CANDIDATES, enclavement_of


def test_public_names() -> None:
    """What notebooks, tests and ``qpvgeo.maps`` users call stays importable from here."""
    for name in maps.__all__:
        assert hasattr(maps, name), name
    for name in ("overview_map", "access_map", "enclavement_map", "coupling_map", "viability_map",
                 "save_map", "export_maps", "MAPS", "indicator_label", "indicator_category",
                 "indicator_colormap", "attribution", "FCA_CATEGORIES"):  # fmt: skip
        assert name in maps.__all__, name
    assert qpvgeo.maps is maps  # the 0.1 module name


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


@pytest.mark.browser
@pytest.mark.mirror
def test_browser_renders_access_and_enclavement_maps(small_run, tmp_path: Path) -> None:
    r = small_run
    pages = {
        "acces": maps.access_map(r.qpv, r.indicators, r.equipments, r.isochrones),
        "enclavement": enclavement_of(r),
    }
    for name, m in pages.items():
        page = with_onerror(maps.save_map(m, tmp_path / f"{name}.html"))
        dom = dump_dom(page, tmp_path / ("profil-" + name))
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
