"""Shared layers, runs and helpers of the tests of qpvgeo.outputs.

Hand-made layers (three QPV near Évry, one per network situation) for the
unit tests; the session's three-QPV run (``small_run``, real data) and one
export of its workshop material for the tests that read files.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from ..conftest import CHROMIUM_FLAGS, chromium

#: prepended to a page's <head>: JavaScript errors become an attribute of <html>
ONERROR = (
    "<script>window.onerror = function (msg) { document.documentElement.setAttribute("
    "'data-js-errors', (document.documentElement.getAttribute('data-js-errors') || '') + msg + "
    "' | '); };</script>"
)


@pytest.fixture()
def layers() -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """Three QPV near Évry (EPSG:2154), their indicators and six equipments."""
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


@pytest.fixture(scope="session")
def exported(small_run, tmp_path_factory) -> tuple[Path, list[Path]]:
    """The workshop material of the session's three-QPV run, written once."""
    from qpvgeo.outputs import workshop

    out = tmp_path_factory.mktemp("atelier")
    return out, workshop.export_workshop(small_run, out)


# ---------------------------------------------------------------------------
# reading maps


def page_html(m: folium.Map) -> str:
    """The whole page of a map."""
    return m.get_root().render()


def legend_html(m: folium.Map) -> str:
    """The legend box of a map (from its start to the title box)."""
    html = page_html(m)
    start = html.index('<div class="qpvgeo-legend">')
    return html[start : html.index('<div class="qpvgeo-title"', start)]


def groups(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    """FeatureGroup name -> FeatureGroup (one line of the layer control each)."""
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.FeatureGroup)}


def geojson_layers(m: folium.Map) -> dict[str, dict | None]:
    """FeatureGroup name -> FeatureCollection of its (single) GeoJson child."""
    out = {}
    for name, group in groups(m).items():
        geo = [c for c in group._children.values() if isinstance(c, folium.GeoJson)]
        out[name] = geo[0].data if geo else None
    return out


def layer_features(layers: dict[str, dict | None], name: str) -> list[dict]:
    """The features of layer ``name`` of :func:`geojson_layers` (none for an empty group)."""
    return (layers[name] or {"features": []})["features"]


def group_features(group: folium.FeatureGroup) -> list[dict]:
    """Every feature of the GeoJson children of a FeatureGroup."""
    out = []
    for child in group._children.values():
        if isinstance(child, folium.GeoJson):
            data = child.data if isinstance(child.data, dict) else json.loads(child.data)
            out.extend(data["features"])
    return out


# ---------------------------------------------------------------------------
# a real browser


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after 5 s in headless Chromium (the run must succeed)."""
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def with_onerror(page: Path) -> Path:
    """Rewrite ``page`` with :data:`ONERROR` at the start of its <head>."""
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("<head>", "<head>" + ONERROR, 1), encoding="utf-8")
    return page


#: prepended to a page's <head> by :func:`browser_check`: JavaScript errors and console
#: errors are recorded on <html>
_RECORD_ERRORS = (
    "<script>(function () { var rec = function (msg) { var h = document.documentElement; "
    "h.setAttribute('data-js-errors', (h.getAttribute('data-js-errors') || '') + msg + ' | '); };"
    " window.onerror = function (msg) { rec(msg); };"
    " var err = console.error; console.error = function () { rec([].join.call(arguments, ' '));"
    " return err.apply(console, arguments); }; })();</script>"
)


def browser_check(
    page: Path, profile: Path, script: str, *, size: tuple[int, int] = (1366, 768),
    name: str = "_check",
) -> tuple[dict, str]:
    """Run ``script`` in ``page`` in headless Chromium at ``size``; its findings and the DOM.

    A copy of ``page`` (same folder, so that relative links work) gets
    :data:`_RECORD_ERRORS` in its head and, 400 ms after ``load``, ``script``
    run as the body of ``function (out, L)``: what it puts in ``out`` comes back
    as a dict (``error`` when it threw). The DOM is the one dumped at the end
    (that of the page navigated to, if the script clicked a link); its
    ``data-js-errors`` attribute lists the JavaScript and console errors.
    """
    text = page.read_text(encoding="utf-8")
    runner = (
        "<script>window.addEventListener('load', function () { setTimeout(function () {"
        " var out = {}; try { (function (out, L) {\n" + script + "\n})(out, window.L); }"
        " catch (e) { out.error = String(e) + ' ' + e.stack; }"
        " document.documentElement.setAttribute('data-qpvgeo-check', JSON.stringify(out));"
        " }, 400); });</script>"
    )
    copy = page.with_name(f"{name}_{page.name}")
    copy.write_text(
        text.replace("<head>", "<head>" + _RECORD_ERRORS, 1).replace("</body>", runner + "</body>"),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
         f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=8000", "--dump-dom",
         copy.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    copy.unlink()
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'data-qpvgeo-check="([^"]*)"', proc.stdout)
    return (json.loads(html.unescape(found[1])) if found else {}), proc.stdout


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF written by Chromium: the /Count of its page tree."""
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    assert counts, "no page tree in the PDF"
    return max(counts)


def print_to_pdf(page: Path, profile: Path, pdf: Path) -> bytes:
    """Print ``page`` to ``pdf`` with headless Chromium (A4 from the page's @page rule)."""
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
         "--virtual-time-budget=5000", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and pdf.is_file(), proc.stderr[-2000:]
    return pdf.read_bytes()
