"""Tests for tools/compare_runs.py on tiny self-made run folders."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

TOOL = Path(__file__).resolve().parent.parent / "tools" / "compare_runs.py"
_spec = importlib.util.spec_from_file_location("compare_runs", TOOL)
compare_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_runs)

CSV = "code_qp,lib_qp,value,note\nQN1,Alpha,0.5,\nQN2,Beta,1234567.25,x\n"
MAP_HTML = """<html><body>
<div class="folium-map" id="map_{a}"></div>
<script>
    var map_{a} = L.map("map_{a}");
    var geo_json_{b} = L.geoJson(null).addTo(map_{a});
</script></body></html>
"""
ID_A, ID_B = "3ab7f57792b02f8e3e56067a15ad639e", "0123456789abcdef0123456789abcdef"
ID_C, ID_D = "ffffffffffffffffffffffffffffffff", "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb"


def png_bytes(width, height):
    """Return a valid grey 8-bit PNG of the given size."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def write_gpkg(path, x_shift=0.0):
    """Write a two-layer GeoPackage; ``x_shift`` moves the second point of layer 'origins'."""
    pts = gpd.GeoDataFrame({"code_qp": ["QN1", "QN2"], "n": [1, 2], "w": [0.25, 0.75]},
                           geometry=[Point(650000, 6850000), Point(650100 + x_shift, 6850050)],
                           crs="EPSG:2154")
    pts.to_file(path, driver="GPKG", layer="origins")
    qpv = gpd.GeoDataFrame({"code_qp": ["QN1"]}, geometry=[Point(650000, 6850000).buffer(100)],
                           crs="EPSG:2154")
    qpv.to_file(path, driver="GPKG", layer="qpv")


@pytest.fixture
def runs(tmp_path):
    """Two identical run folders ``old`` and ``new``."""
    old = tmp_path / "old"
    for sub in ("tables", "maps/lib", "maps/png", "maps/fiches"):
        (old / sub).mkdir(parents=True)
    (old / "tables" / "indicators_qpv.csv").write_text(CSV, encoding="utf-8")
    write_gpkg(old / "tables" / "qpvgeo.gpkg")
    (old / "tables" / "provenance.json").write_text(json.dumps({"created_utc": "t0"}))
    (old / "maps" / "qpv_acces.html").write_text(MAP_HTML.format(a=ID_A, b=ID_B), encoding="utf-8")
    (old / "maps" / "fiches" / "QN1.html").write_text("<p>Fiche Alpha</p>\n", encoding="utf-8")
    (old / "maps" / "lib" / "leaflet.js").write_text("var L = {};\n")
    (old / "maps" / "png" / "QN1.png").write_bytes(png_bytes(4, 3))
    new = tmp_path / "new"
    shutil.copytree(old, new)
    return old, new


def run(old, new, capsys):
    """Run the tool in-process; return ``(exit status, stdout)``."""
    status = compare_runs.main([str(old), str(new)])
    return status, capsys.readouterr().out


def test_identical_folders_equal(runs, capsys):
    status, out = run(*runs, capsys)
    assert status == 0
    assert "compare_runs: 7 files compared, 0 differences" in out


def test_provenance_differences_are_info_only(runs, capsys):
    old, new = runs
    (new / "tables" / "provenance.json").write_text(json.dumps({"created_utc": "t1"}))
    status, out = run(old, new, capsys)
    assert status == 0
    assert "info provenance.json" in out and "created_utc" in out


def test_csv_change_beyond_tolerance_is_reported(runs, capsys):
    old, new = runs
    (new / "tables" / "indicators_qpv.csv").write_text(CSV.replace("0.5,", "0.5001,"))
    status, out = run(old, new, capsys)
    assert status == 1
    assert "indicators_qpv.csv: column 'value', row 0 (code_qp=QN1)" in out
    assert "1 differences" in out


def test_csv_change_below_tolerance_is_equal(runs, capsys):
    old, new = runs
    csv = CSV.replace("0.5,", "0.5000000000004,").replace("1234567.25", "1234567.2500001")
    (new / "tables" / "indicators_qpv.csv").write_text(csv)
    assert run(old, new, capsys)[0] == 0


def test_csv_text_and_empty_cells_compared_exactly(runs, capsys):
    old, new = runs
    (new / "tables" / "indicators_qpv.csv").write_text(CSV.replace("0.5,\n", "0.5,0\n"))
    status, out = run(old, new, capsys)
    assert status == 1 and "column 'note', row 0" in out


def test_html_whitespace_and_folium_ids_ignored(runs, capsys):
    old, new = runs
    html = MAP_HTML.format(a=ID_C, b=ID_D).replace("\n    ", "\n\t\t  ").replace(" = ", "  =\n ")
    (new / "maps" / "qpv_acces.html").write_text(html, encoding="utf-8")
    assert run(old, new, capsys)[0] == 0


def test_html_id_structure_still_compared(runs, capsys):
    old, new = runs
    (new / "maps" / "qpv_acces.html").write_text(MAP_HTML.format(a=ID_C, b=ID_C))
    status, out = run(old, new, capsys)
    assert status == 1 and "qpv_acces.html: normalised text differs" in out


def test_html_text_change_is_reported(runs, capsys):
    old, new = runs
    (new / "maps" / "fiches" / "QN1.html").write_text("<p>Fiche Alpha!</p>\n")
    status, out = run(old, new, capsys)
    assert status == 1
    assert "fiches/QN1.html: normalised text differs at char 14" in out
    assert "Fiche Alpha!" in out


def test_missing_file_is_reported(runs, capsys):
    old, new = runs
    (new / "maps" / "lib" / "leaflet.js").unlink()
    status, out = run(old, new, capsys)
    assert status == 1 and "maps/lib/leaflet.js: only in OLD" in out


def test_lib_file_compared_bytewise(runs, capsys):
    old, new = runs
    (new / "maps" / "lib" / "leaflet.js").write_text("var L = {}; \n")
    status, out = run(old, new, capsys)
    assert status == 1 and "leaflet.js: bytes differ" in out


def test_gpkg_moved_geometry_is_reported(runs, capsys):
    old, new = runs
    (new / "tables" / "qpvgeo.gpkg").unlink()
    write_gpkg(new / "tables" / "qpvgeo.gpkg", x_shift=0.01)
    status, out = run(old, new, capsys)
    assert status == 1
    assert "qpvgeo.gpkg: layer 'origins': geometry, feature 1" in out
    assert "1 differences" in out


def test_gpkg_rewritten_identically_is_equal(runs, capsys):
    old, new = runs
    (new / "tables" / "qpvgeo.gpkg").unlink()
    write_gpkg(new / "tables" / "qpvgeo.gpkg")
    assert run(old, new, capsys)[0] == 0


def test_png_size_change_is_reported(runs, capsys):
    old, new = runs
    (new / "maps" / "png" / "QN1.png").write_bytes(png_bytes(5, 3))
    status, out = run(old, new, capsys)
    assert status == 1 and "QN1.png: PNG size 4x3 (OLD) != 5x3 (NEW)" in out


def test_bad_usage_exits_2_with_one_line(runs, tmp_path):
    old, _ = runs
    proc = subprocess.run([sys.executable, str(TOOL), str(old), str(tmp_path / "nope")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not an existing folder" in proc.stderr
