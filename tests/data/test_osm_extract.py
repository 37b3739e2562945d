"""Local OSM extracts read with pyosmium: osmnx's walk filter and graph, dates, barriers."""

from __future__ import annotations

import hashlib
import re
import warnings
from collections import Counter
from datetime import UTC, datetime

import geopandas as gpd
import osmium
import osmnx as ox
import pytest
import shapely

from qpvgeo import QpvgeoWarning
from qpvgeo._errors import NetworkError, ValidationError
from qpvgeo.data import osm_extract
from qpvgeo.network.extract import walk_graph_from_extract

from ..conftest import PALAISEAU_OSM

pytestmark = pytest.mark.mirror

#: the Overpass base date of the mirror's extract (its README, and its <meta osm_base>)
PALAISEAU_BASE = datetime(2026, 1, 8, 6, 25, 44, tzinfo=UTC)
#: a small cut (lon/lat) for the graph comparison: the Polytechnique campus and around
SMALL_BBOX = (2.195, 48.706, 2.215, 48.716)


def _area(bbox, margin=0.02):
    """A polygon (EPSG:2154) holding the bbox and a margin."""
    x0, y0, x1, y1 = bbox
    box = shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin)
    return gpd.GeoSeries([box], crs=4326).to_crs(2154).iloc[0]


def _overpass_match(tags: dict, text: str) -> bool:
    """Overpass tag-filter semantics, written out here independently of qpvgeo's reader."""
    for clause in re.findall(r"\[([^\]]+)\]", text):
        parts = re.split(r"(!~|~|!=|=)", clause)
        key = parts[0].strip('"')
        value = tags.get(key)
        if len(parts) == 1:
            if value is None:
                return False
            continue
        op, pattern = parts[1], parts[2].strip('"')
        if op == "!~" and value is not None and re.search(pattern, value):
            return False
        if op == "~" and (value is None or not re.search(pattern, value)):
            return False
    return True


def test_walk_filter_is_osmnx_own():
    f = osm_extract.walk_filter()
    assert f.text == ox._overpass._get_network_filter("walk")
    assert f({"highway": "footway"})
    assert f({"highway": "residential", "sidewalk": "both"})
    assert not f({"highway": "motorway_link"})  # "motor" matches anywhere in the value
    assert not f({"highway": "cycleway"})
    assert not f({"highway": "footway", "access": "private"})
    assert not f({"highway": "service", "service": "private"})
    assert not f({"highway": "primary", "foot": "no"})
    assert not f({"highway": "primary", "sidewalk": "separate"})
    assert not f({"highway": "pedestrian", "area": "yes"})
    assert not f({"building": "yes"})


def test_tag_filter_refuses_what_it_cannot_read():
    with pytest.raises(ValidationError, match="cannot read the OSM tag filter"):
        osm_extract.TagFilter.parse('["highway"](if: t["lanes"] > 2)')


def test_same_walk_edges_as_osmnx_graph_from_xml(data_dir, tmp_path):
    """The graph built from the .osm.pbf equals osmnx.graph_from_xml on the same cut (.osm),
    keeping the edges that osmnx's walk filter passes."""
    src = data_dir / PALAISEAU_OSM
    pbf = osm_extract.cut_extract(src, tmp_path / "small.osm.pbf", SMALL_BBOX)
    xml = osm_extract.cut_extract(src, tmp_path / "small.osm", SMALL_BBOX)
    text = ox._overpass._get_network_filter("walk")
    keys = set(re.findall(r'\["([^"]+)"', text))
    useful = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = useful + sorted(keys - set(useful))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ref = ox.graph_from_xml(xml, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = useful
    walk = [(u, v, k) for u, v, k, d in ref.edges(keys=True, data=True) if _overpass_match(d, text)]
    ref = ref.edge_subgraph(walk).copy()
    assert ref.number_of_edges() > 1000

    # a polygon holding every node of the cut (its ways run on beyond the bbox), and 500 m
    xs, ys = zip(*((d["x"], d["y"]) for _, d in ref.nodes(data=True)), strict=True)
    whole = shapely.box(min(xs), min(ys), max(xs), max(ys)).buffer(0.001)
    data = osm_extract.read_extract(osm_extract.open_extract(pbf), _area(whole.bounds))
    G = walk_graph_from_extract(data, whole, simplify=False)
    edges = Counter((u, v, d["osmid"]) for u, v, d in G.edges(data=True))
    assert edges == Counter((u, v, d["osmid"]) for u, v, d in ref.edges(data=True))
    assert set(G.nodes) == set(ref.nodes)
    lengths = {(u, v, d["osmid"]): d["length"] for u, v, d in ref.edges(data=True)}
    for u, v, d in G.edges(data=True):
        assert d["length"] == pytest.approx(lengths[u, v, d["osmid"]])
    highways = Counter(d["highway"] for _, _, d in G.edges(data=True))
    assert highways["footway"] > 100 and highways["motorway"] == 0 and highways["cycleway"] == 0

    # simplified: osmnx's own simplification of the reference gives the same streets
    simple = walk_graph_from_extract(data, whole, simplify=True)
    refs = ox.simplify_graph(ref)
    assert sorted((u, v) for u, v in simple.edges()) == sorted((u, v) for u, v in refs.edges())
    assert sum(d["length"] for *_, d in simple.edges(data=True)) == pytest.approx(
        sum(d["length"] for *_, d in refs.edges(data=True))
    )


def test_cut_to_polygon_keeps_only_nodes_inside(palaiseau_pbf):
    data = osm_extract.read_extract(osm_extract.open_extract(palaiseau_pbf), _area(SMALL_BBOX))
    poly = shapely.box(2.200, 48.709, 2.210, 48.713)
    G = walk_graph_from_extract(data, poly)
    assert len(G) > 50
    xs = [d["x"] for _, d in G.nodes(data=True)]
    ys = [d["y"] for _, d in G.nodes(data=True)]
    assert shapely.contains_xy(poly.buffer(1e-9), xs, ys).all()
    with pytest.raises(NetworkError, match="no walkable street"):
        walk_graph_from_extract(data, shapely.box(2.5, 48.9, 2.51, 48.91))


def test_dates_and_checksum(data_dir, palaiseau_pbf, tmp_path):
    # the mirror's Overpass XML: its osm_base
    mirror = osm_extract.open_extract(data_dir / PALAISEAU_OSM)
    assert (mirror.timestamp, mirror.timestamp_source) == (PALAISEAU_BASE, "osm_base")
    # the cut carries it as its replication timestamp, in the header
    cut = osm_extract.open_extract(palaiseau_pbf)
    assert (cut.timestamp, cut.timestamp_source) == (
        PALAISEAU_BASE,
        "osmosis_replication_timestamp",
    )
    reader = osmium.io.Reader(str(palaiseau_pbf), osmium.osm.osm_entity_bits.NOTHING)
    assert reader.header().get("osmosis_replication_timestamp") == "2026-01-08T06:25:44Z"
    reader.close()
    assert cut.sha256 == hashlib.sha256(palaiseau_pbf.read_bytes()).hexdigest()
    assert cut.label_fr == "OSM au 08/01/2026"
    assert cut.record()["osm_timestamp"] == "2026-01-08T06:25:44+00:00"

    # no header date: the newest object
    stamped = tmp_path / "stamped.osm.pbf"
    writer = osmium.SimpleWriter(str(stamped))
    for i, day in enumerate((3, 17, 9)):
        ts = datetime(2025, 5, day, 12, 0, tzinfo=UTC)
        writer.add_node(
            osmium.osm.mutable.Node(id=i + 1, location=(2.2, 48.7), timestamp=ts, version=1)
        )
    writer.close()
    got = osm_extract.open_extract(stamped)
    assert (got.timestamp, got.timestamp_source) == (
        datetime(2025, 5, 17, 12, 0, tzinfo=UTC),
        "newest object",
    )

    # no date at all: said
    bare = tmp_path / "bare.osm.pbf"
    writer = osmium.SimpleWriter(str(bare))
    writer.add_node(osmium.osm.mutable.Node(id=1, location=(2.2, 48.7)))
    writer.close()
    with pytest.warns(QpvgeoWarning, match="carries no date"):
        got = osm_extract.open_extract(bare)
    assert got.timestamp is None and got.timestamp_source == "unknown"
    assert got.label_fr == "OSM, date inconnue"


def test_bad_extract_files(tmp_path):
    with pytest.raises(ValidationError, match=r"unknown format.*\.osm\.pbf"):
        osm_extract.open_extract(tmp_path / "roads.geojson")
    with pytest.raises(ValidationError, match="does not exist"):
        osm_extract.open_extract(tmp_path / "missing.osm.pbf")
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    with pytest.raises(ValidationError, match="cannot be read"):
        osm_extract.open_extract(broken)


def test_barrier_lines_of_the_extract(palaiseau_pbf):
    data = osm_extract.read_extract(
        osm_extract.open_extract(palaiseau_pbf), _area((2.16, 48.70, 2.23, 48.725))
    )
    lines = data.barriers
    assert lines.crs == "EPSG:2154"
    names = set(zip(lines["kind"], lines["name"], strict=True))
    assert ("road", "N 118") in names  # the trunk road across the plateau's edge
    assert ("water", "L'Yvette") in names
    assert (lines["kind"] == "rail").any()  # RER B (SNCF line 552000)
    assert lines["source"].eq("OSM (OSM au 08/01/2026)").all()
    assert lines.geometry.length.gt(0).all()


@pytest.mark.parametrize(
    ("tags", "kind"),
    [
        ({"highway": "motorway"}, "road"),
        ({"highway": "trunk_link"}, "road"),
        ({"highway": "primary"}, None),
        ({"highway": "motorway", "tunnel": "yes"}, None),
        ({"railway": "rail", "usage": "freight"}, "rail"),
        ({"railway": "rail", "highspeed": "yes", "usage": "main"}, "rail"),
        ({"railway": "rail", "service": "siding"}, None),
        ({"railway": "tram"}, None),
        ({"waterway": "river"}, "water"),
        ({"waterway": "canal"}, "water"),
        ({"waterway": "river", "tunnel": "culvert"}, None),
        ({"waterway": "stream"}, None),
    ],
)
def test_barrier_kind(tags, kind):
    assert osm_extract.barrier_kind(tags) == kind


def test_extracts_of_the_data_directory(data_dir, palaiseau_pbf, tmp_path, capsys):
    from qpvgeo import cli
    from qpvgeo.pipeline.extracts import extract_paths

    root = tmp_path / "data"
    (root / "osm").mkdir(parents=True)
    (root / "osm" / "region.osm.pbf").symlink_to(palaiseau_pbf)
    (root / PALAISEAU_OSM).symlink_to(data_dir / PALAISEAU_OSM)  # a catalogue dataset's file
    (root / "osm" / "notes.txt").write_text("not an extract")
    assert osm_extract.find_extracts(root) == [root / "osm" / "region.osm.pbf"]
    # given first, then those of osm/, each once
    given = data_dir / PALAISEAU_OSM
    assert extract_paths([given, root / "osm" / "region.osm.pbf"], root) == [
        given.resolve(),
        palaiseau_pbf.resolve(),
    ]
    assert cli.main(["data", "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "osm_extract      osm/region.osm.pbf" in out and "OSM au 08/01/2026" in out


def test_cli_bad_extract_one_error_line(capsys, data_dir, tmp_path):
    from qpvgeo import cli

    argv = ["run", "--dep", "91", "--offline", "--data-dir", str(data_dir), "--out", str(tmp_path)]
    assert cli.main([*argv, "--osm-extract", str(tmp_path / "idf.osm.pbf")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and err[0].startswith("qpvgeo: error: OSM extract")
        and "does not exist" in err[0]
    )
    (tmp_path / "roads.geojson").write_text("{}")
    assert cli.main([*argv, "--osm-extract", str(tmp_path / "roads.geojson")]) == 2
    assert "give an .osm.pbf, .osm or .osm.bz2 file" in capsys.readouterr().err
