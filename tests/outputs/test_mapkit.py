"""Tests of qpvgeo.outputs.mapkit: legend lines, save_map, atomic writes, templates and static files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from branca.element import Element

from qpvgeo.outputs import mapkit as mk
from qpvgeo.outputs.maps import overview

# ---------------------------------------------------------------------------
# legend lines: the exact HTML, text escaped (quotes left as they are)


def test_legend_lines_html() -> None:
    assert mk.case("#fff", "a < b & c's") == (
        '<div><span class="case" style="background:#fff;"></span>a &lt; b &amp; c\'s</div>'
    )
    assert mk.case("#fff", "t", "opacity:0.35;", border=(1.5, "dotted", "#222")) == (
        '<div><span class="case" style="background:#fff;opacity:0.35;border:1.5px dotted #222;">'
        "</span>t</div>"
    )
    assert mk.point("#00a087", "Pharmacie (1)") == (
        '<div><span class="point" style="background:#00a087;"></span>Pharmacie (1)</div>'
    )
    assert mk.line("#111", "trait", weight=1, dashed=True) == (
        '<div><span class="ligne" style="border-top: 1.5px dashed #111;"></span>trait</div>'
    )
    assert mk.note('"aide"') == '<div class="aide">"aide"</div>'
    assert mk.no_value("sans") == '<div><span class="case sans"></span>sans</div>'
    assert mk.heading("Titre") == "<div><b>Titre</b></div>"
    assert mk.warning_line("non évalué") == '<div class="ne">non évalué</div>'
    assert mk.points_inline([("#1", "a"), ("#2", "b<")]) == (
        '<div><span class="en-ligne"><span class="point" style="background:#1;"></span>a</span>'
        '<span class="en-ligne"><span class="point" style="background:#2;"></span>b&lt;</span></div>'
    )


def test_esc() -> None:
    assert mk.esc(None) == "" and mk.esc(float("nan")) == ""
    assert mk.esc("L'Arche & <Co>") == "L'Arche &amp; &lt;Co&gt;"
    assert mk.esc(12) == "12"


def test_templates_and_static_files_ship_with_the_package() -> None:
    assert mk.static_text("fiche.js").startswith("(function () {")
    assert ".qpvgeo-legend" in mk.static_text("map_legend.css")
    for name in ("fiche.css", "index.css", "index.js"):
        assert mk.static_text(name).strip(), name
    for name in ("fiche.html.j2", "index.html.j2", "map_legend.html.j2", "map_title.html.j2",
                 "legend_lines.html.j2", "inline_assets.html.j2"):  # fmt: skip
        assert mk.TEMPLATES.get_template(name), name


# ---------------------------------------------------------------------------
# save_map


def test_save_map_writes_complete_self_contained_page(layers, tmp_path: Path) -> None:
    qpv, ind, eq = layers
    target = tmp_path / "sous" / "dossier" / "carte.html"
    out = mk.save_map(overview.overview_map(qpv, ind, eq), target)
    assert out == target and target.is_file()
    text = target.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "cdn.jsdelivr.net/npm/leaflet" not in text  # Leaflet is inside the page
    assert "Leaflet 1.9" in text and ".leaflet-pane" in text
    assert not re.search(r"<script src=|<link rel=\"stylesheet\"", text)
    assert [p.name for p in target.parent.iterdir()] == ["carte.html"]  # no temp file left


def test_save_map_cdn_links_when_not_self_contained(layers, tmp_path: Path) -> None:
    qpv, ind, eq = layers
    out = mk.save_map(overview.overview_map(qpv, ind, eq), tmp_path / "c.html", self_contained=False)
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in out.read_text(encoding="utf-8")


class _Broken(Element):
    def render(self, **kwargs):
        raise RuntimeError("rendering failed half-way")


def test_save_map_keeps_old_file_when_render_fails(layers, tmp_path: Path) -> None:
    qpv, ind, eq = layers
    target = tmp_path / "carte.html"
    mk.save_map(overview.overview_map(qpv, ind, eq), target)
    before = target.read_bytes()
    broken = overview.overview_map(qpv, ind, eq, indicator="walk_min_median_pharmacie")
    broken.get_root().html.add_child(_Broken())
    with pytest.raises(RuntimeError, match="half-way"):
        mk.save_map(broken, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["carte.html"]


def test_save_map_keeps_old_file_when_write_fails(layers, tmp_path: Path, monkeypatch) -> None:
    qpv, ind, eq = layers
    target = tmp_path / "carte.html"
    target.write_text("<!DOCTYPE html><html>ancienne carte</html>", encoding="utf-8")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        mk.save_map(overview.overview_map(qpv, ind, eq), target)
    assert target.read_text(encoding="utf-8") == "<!DOCTYPE html><html>ancienne carte</html>"
    assert [p.name for p in tmp_path.iterdir()] == ["carte.html"]


# ---------------------------------------------------------------------------
# atomic writes


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "sous" / "page.html"
    mk.write_atomic(target, "première")
    assert target.read_text(encoding="utf-8") == "première"

    def boom(src, dst):
        raise OSError("disque plein")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        mk.write_atomic(target, "seconde")
    assert target.read_text(encoding="utf-8") == "première"
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]


def test_maps_have_a_metric_only_scale() -> None:
    page = mk.new_map("credits").get_root().render()
    assert re.search(r"L\.control\.scale\(\{imperial: false", page)
    # folium's own scale (metric and imperial) is not added as well
    assert page.count("L.control.scale(") == 1
