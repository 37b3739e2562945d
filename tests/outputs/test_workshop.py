"""Tests of qpvgeo.outputs.workshop: the export of all the workshop material, in a browser too.

Real data (three QPV: two in Les Ulis with a street network, QN09101M
without one), one pipeline run and one export shared by the session.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import qpvgeo
from qpvgeo.outputs import mapkit, workshop

from ..conftest import SMALL_RUN_CODES
from .conftest import dump_dom, with_onerror

WITH_NETWORK, WITHOUT_NETWORK = "QN09106M", "QN09101M"

#: the French message a fiche shows in place of its map when Leaflet is missing
_NO_MAP = r'<div id="carte"[^>]*><p class="sans-carte">Carte indisponible'


def test_names_of_qpvgeo_0_1_stay_importable() -> None:
    """What notebooks, the CLI and tests of 0.1 took from ``qpvgeo.workshop``."""
    for name in workshop.__all__:
        assert hasattr(workshop, name), name
    for name in ("coupling_map", "viability_map", "fiche_html", "export_workshop", "OUTPUTS",
                 "fr_number", "fr_value", "write_atomic", "viability_labels", "PNG_SIZE",
                 "COMMERCE_COLOURS", "VIABILITY_COLOURS", "FICHE_MAX_BYTES", "INDEX_MAX_BYTES",
                 "MAP_MAX_BYTES", "_pair_class", "_OTHER_COMMERCE"):  # fmt: skip
        assert hasattr(workshop, name), name
    assert workshop._pair_class(3.0) == 1
    assert qpvgeo.workshop is workshop  # the 0.1 module name


@pytest.mark.mirror
def test_export_writes_everything_within_budget(exported) -> None:
    out, paths = exported
    assert all(p.is_file() for p in paths)
    mapsdir = out / "maps"
    fiches = sorted((mapsdir / "fiches").glob("*.html"))
    assert [f.stem for f in fiches] == sorted(SMALL_RUN_CODES)
    for f in fiches:
        size = f.stat().st_size
        assert size <= workshop.FICHE_MAX_BYTES, (f.name, size)
        text = f.read_text(encoding="utf-8")
        assert 'src="../lib/leaflet.js"' in text and "Leaflet 1.9" not in text  # not inlined
    assert (mapsdir / "lib" / "leaflet.js").stat().st_size > 100_000
    assert (mapsdir / "index.html").stat().st_size <= workshop.INDEX_MAX_BYTES
    for name in ("qpv_couplage.html", "qpv_viabilite.html"):
        page = mapsdir / name
        assert page.stat().st_size <= workshop.MAP_MAX_BYTES, (name, page.stat().st_size)
        assert "cdn.jsdelivr.net/npm/leaflet" not in page.read_text(encoding="utf-8")
    assert not list(out.rglob("*.tmp")), "temporary files left behind"
    assert paths[-1] == mapsdir / "index.html"


@pytest.mark.mirror
def test_fiche_js_is_the_static_file(exported) -> None:
    out, _ = exported
    js = (out / "maps" / "lib" / "fiche.js").read_text(encoding="utf-8")
    assert js == mapkit.static_text("fiche.js") and "QPVGEO_FICHE" in js


@pytest.mark.browser
@pytest.mark.mirror
def test_browser_renders_fiches_and_index(exported, tmp_path: Path) -> None:
    out, _ = exported
    # a copy of the maps/ folder alone, as handed to a presenter
    copy = tmp_path / "copie" / "maps"
    shutil.copytree(out / "maps", copy)
    for page in [copy / "fiches" / f"{c}.html" for c in (WITH_NETWORK, WITHOUT_NETWORK)]:
        dom = dump_dom(with_onerror(page), tmp_path / f"profil-{page.stem}")
        errors = re.search(r'data-js-errors="[^"]*"', dom)
        assert errors is None, errors[0]
        assert 'class="leaflet-pane leaflet-map-pane"' in dom, page.name
        assert not re.search(_NO_MAP, dom)
        n_paths = len(re.findall(r'<path[^>]*class="[^"]*leaflet-interactive', dom))
        assert n_paths >= 10, (page.name, n_paths)  # perimeter + shops and services at least
        assert "leaflet-control-layers" in dom
    dom = dump_dom(with_onerror(copy / "index.html"), tmp_path / "profil-index")
    assert re.search(r'data-js-errors="[^"]*"', dom) is None
    assert dom.count("<tr>") >= len(SMALL_RUN_CODES) + 1
    assert "Couplage commerces – services publics" in dom
