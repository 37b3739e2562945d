"""Local OpenStreetMap extracts: walkable ways and barrier lines read from an ``.osm.pbf``.

Analysts who cover a département or a region download a dated extract once (a
Geofabrik ``.osm.pbf``, or an ``.osm``/``.osm.bz2`` file) rather than querying
Overpass for each neighbourhood. qpvgeo reads such a file with pyosmium
(libosmium's Python bindings, made for the OSM formats): one pass over the
file keeps, inside the area a run needs,

- the ways of osmnx's ``walk`` network type, selected by osmnx's own filter
  (``osmnx._overpass._get_network_filter("walk")``, read and applied to the
  tags here), from which :func:`qpvgeo.network.extract.walk_graph_from_extract`
  builds the same graph :func:`osmnx.graph_from_polygon` would download;
- the barrier lines (:data:`BARRIER_RULES`): motorways and trunk roads with
  their slip roads, railway lines (passenger, freight and high-speed, not the
  sidings), rivers and canals; not where they run in a tunnel or a culvert.

An extract is dated by its replication timestamp (the header's
``osmosis_replication_timestamp``, as Geofabrik writes it), else the
``osm_base`` an Overpass XML answer carries, else the newest object timestamp
in the file; its SHA-256 and that date go into the provenance.

Extracts are given with ``qpvgeo run --osm-extract FILE`` or placed in the
data directory as ``osm/*.osm.pbf`` (``.osm``, ``.osm.bz2`` too).
"""

from __future__ import annotations

import bz2
import logging
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import QpvgeoWarning, ValidationError
from . import sources

log = logging.getLogger(__name__)

#: file names an OSM extract may have
EXTRACT_SUFFIXES = (".osm.pbf", ".osm", ".osm.bz2")
#: where extracts are looked for in the data directory
EXTRACT_FOLDER = "osm"

#: barrier lines kept from an extract: kind → (key, values); a way counts when its tag ``key``
#: has one of the values (see :func:`barrier_kind` for the tunnels and service tracks left out)
BARRIER_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "road": ("highway", ("motorway", "motorway_link", "trunk", "trunk_link")),
    "rail": ("railway", ("rail",)),
    "water": ("waterway", ("river", "canal")),
}
#: a barrier way with one of these values is under ground (or water in a pipe): not a cut
UNDERGROUND = {"tunnel": ("yes", "building_passage", "culvert"), "covered": ("yes",)}
#: railway tracks that are not lines (yards, sidings, spurs, crossovers): inside rail land
RAIL_SERVICE_TRACKS = ("yard", "siding", "spur", "crossover")

_CLAUSE = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!~|~|!=|=)"(?P<value>[^"]*)")?\]')


# --------------------------------------------------------------------------- the walk filter


@dataclass(frozen=True)
class TagFilter:
    """An Overpass tag filter (``["highway"]["foot"!~"no"]…``) applied to a way's tags.

    Overpass semantics: ``["k"]`` the tag exists; ``["k"~"re"]`` it exists and
    its value matches the regular expression anywhere (not anchored);
    ``["k"!~"re"]`` it is absent or its value does not match; ``=``/``!=``
    compare the whole value.
    """

    text: str
    clauses: tuple[tuple[str, str, str], ...]

    @classmethod
    def parse(cls, text: str) -> TagFilter:
        clauses, pos = [], 0
        for m in _CLAUSE.finditer(text):
            if text[pos : m.start()].strip():
                break
            clauses.append((m["key"], m["op"] or "", m["value"] or ""))
            pos = m.end()
        if not clauses or text[pos:].strip():
            raise ValidationError(
                f"cannot read the OSM tag filter {text!r} (at {text[pos : pos + 40]!r}): qpvgeo "
                'understands ["k"], ["k"~"re"], ["k"!~"re"], ["k"="v"], ["k"!="v"]'
            )
        return cls(text, tuple(clauses))

    def __call__(self, tags) -> bool:
        for key, op, value in self.clauses:
            got = tags.get(key)
            if op == "":
                ok = got is not None
            elif op == "~":
                ok = got is not None and re.search(value, got) is not None
            elif op == "!~":
                ok = got is None or re.search(value, got) is None
            elif op == "=":
                ok = got == value
            else:  # "!="
                ok = got != value
            if not ok:
                return False
        return True

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for k, _, _ in self.clauses))


def walk_filter() -> TagFilter:
    """osmnx's ``walk`` network filter, as osmnx itself states it for Overpass."""
    from osmnx import _overpass

    return TagFilter.parse(_overpass._get_network_filter("walk"))


def barrier_kind(tags) -> str | None:
    """The barrier kind of a way (``road``, ``rail``, ``water``), or None when it is not one."""
    for key, values in UNDERGROUND.items():
        if tags.get(key) in values:
            return None
    for kind, (key, values) in BARRIER_RULES.items():
        if tags.get(key) in values:
            if kind == "rail" and tags.get("service") in RAIL_SERVICE_TRACKS:
                return None
            return kind
    return None


# --------------------------------------------------------------------------- the extract


@dataclass(frozen=True)
class OsmExtract:
    """One OSM extract file, its SHA-256 and the date of the OSM data it holds."""

    path: Path
    sha256: str
    timestamp: datetime | None
    #: where the date comes from: "osmosis_replication_timestamp", "osm_base" or "newest object"
    timestamp_source: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def date_fr(self) -> str:
        """« 08/01/2026 », or « date inconnue »."""
        return self.timestamp.strftime("%d/%m/%Y") if self.timestamp else "date inconnue"

    @property
    def label_fr(self) -> str:
        """« OSM au 08/01/2026 » (« OSM, date inconnue » without a date)."""
        return f"OSM au {self.date_fr}" if self.timestamp else "OSM, date inconnue"

    def record(self) -> dict:
        """What the provenance keeps of the extract."""
        return {
            "file": str(self.path),
            "sha256": self.sha256,
            "osm_timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "osm_timestamp_source": self.timestamp_source,
            "label_fr": self.label_fr,
            "licence": "ODbL 1.0",
            "publisher": "OpenStreetMap contributors",
        }


def checked_path(path: str | PathLike) -> Path:
    """The extract's absolute path; an error for a missing file or another format."""
    path = Path(path).expanduser()
    if not path.name.endswith(EXTRACT_SUFFIXES):
        raise ValidationError(
            f"OSM extract {str(path)!r}: unknown format; give an .osm.pbf, .osm or .osm.bz2 file "
            f"(e.g. {GEOFABRIK_IDF})"
        )
    if not path.is_file():
        raise ValidationError(f"OSM extract {str(path)!r} does not exist")
    return path.resolve()


def _parse_time(text: str) -> datetime | None:
    text = text.strip().replace("\\:", ":")
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _overpass_base(path: Path) -> datetime | None:
    """The ``<meta osm_base="…"/>`` of an Overpass XML answer (libosmium does not read it)."""
    if path.name.endswith(".osm.pbf"):
        return None
    opener = bz2.open if path.name.endswith(".bz2") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(r'<meta\s[^>]*osm_base="([^"]+)"', head)
    return _parse_time(m.group(1)) if m else None


def _newest_object(path: Path) -> datetime | None:
    import osmium

    newest = None
    for obj in osmium.FileProcessor(str(path)):
        ts = obj.timestamp
        if ts.year > 1970 and (newest is None or ts > newest):
            newest = ts
    return newest.astimezone(UTC) if newest else None


def open_extract(path: str | PathLike) -> OsmExtract:
    """The extract at ``path``, with its SHA-256 and its date.

    The date is, in order: the header's ``osmosis_replication_timestamp``
    (Geofabrik, osmium, osmupdate write it), the ``osm_base`` of an Overpass XML
    answer, the newest object timestamp in the file (a full pass). Without any,
    a :class:`~qpvgeo.QpvgeoWarning` says the date is unknown.
    """
    import osmium

    path = checked_path(path)
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        header = reader.header()
        reader.close()
    except RuntimeError as exc:
        raise ValidationError(
            f"OSM extract {str(path)!r} cannot be read ({exc}); is it a complete .osm.pbf / "
            ".osm / .osm.bz2 file? Download it again"
        ) from exc
    stamp, source = (
        _parse_time(header.get("osmosis_replication_timestamp")),
        "osmosis_replication_timestamp",
    )
    if stamp is None:
        stamp, source = _overpass_base(path), "osm_base"
    if stamp is None:
        stamp, source = _newest_object(path), "newest object"
    if stamp is None:
        source = "unknown"
        warnings.warn(
            f"OSM extract {path.name!r} carries no date (no replication timestamp in its header, "
            "no object timestamps): the outputs say « OSM, date inconnue »",
            category=QpvgeoWarning, stacklevel=2,
        )  # fmt: skip
    return OsmExtract(path, sources.sha256(path), stamp, source)


def find_extracts(data_dir: str | PathLike | None = None) -> list[Path]:
    """The extracts in the data directory's ``osm/`` folder (``*.osm.pbf``, ``*.osm``,
    ``*.osm.bz2``), except the files of catalogue datasets (read as those datasets)."""
    root = sources.data_dir(data_dir)
    folder = root / EXTRACT_FOLDER
    if not folder.is_dir():
        return []
    # a file of the catalogue (the mirror's Palaiseau extract) is read as its dataset
    known = {name for ds in sources.CATALOGUE.values() for name in ds.files}
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name.endswith(EXTRACT_SUFFIXES)
        and p.relative_to(root).as_posix() not in known
    )  # fmt: skip


#: where to get a regional extract (Geofabrik, updated daily)
GEOFABRIK_IDF = "https://download.geofabrik.de/europe/france/ile-de-france-latest.osm.pbf"


def extract_rows(data_dir: str | PathLike | None = None) -> list[dict]:
    """For ``qpvgeo data``: one row per extract of ``osm/`` (its date when the header or an
    Overpass ``osm_base`` gives it at once), or one row saying where to get one."""
    rows = []
    for path in find_extracts(data_dir):
        reader = None
        try:
            import osmium

            reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
            stamp = _parse_time(reader.header().get("osmosis_replication_timestamp"))
        except RuntimeError:
            stamp = None
        finally:
            if reader is not None:
                reader.close()
        stamp = stamp or _overpass_base(path)
        rows.append({
            "mark": "present",
            "file": path.relative_to(sources.data_dir(data_dir)).as_posix(),
            "publisher": "OpenStreetMap contributors",
            "licence": "ODbL 1.0",
            "vintage": f"OSM au {stamp:%d/%m/%Y}" if stamp else "date read at run time",
            "source": "OSM extract: walk networks and barriers of the QPV it covers",
        })  # fmt: skip
    if not rows:
        rows.append({
            "mark": "optional",
            "file": f"{EXTRACT_FOLDER}/*.osm.pbf",
            "publisher": "OpenStreetMap contributors",
            "licence": "ODbL 1.0",
            "vintage": "the extract's date",
            "source": f"OSM extract (walk networks, barriers), e.g. {GEOFABRIK_IDF}",
        })  # fmt: skip
    return rows


# --------------------------------------------------------------------------- reading


@dataclass
class ExtractData:
    """What one pass over an extract kept inside an area.

    Attributes
    ----------
    extract : OsmExtract
    area : shapely geometry
        The area read (EPSG:2154): ways with a node inside it were kept.
    extent : shapely geometry
        Where the extract holds data (EPSG:2154): the convex hull of the nodes
        of its street, railway and waterway ways (their ends and extreme nodes).
    walk_ways : list of dict
        Walkable ways, as Overpass JSON elements (``type``, ``id``, ``nodes``, ``tags``).
    nodes : dict
        OSM node id → (lon, lat, tags) of every node of the walkable ways.
    barriers : GeoDataFrame
        EPSG:2154: ``kind`` (road, rail, water), ``name``, ``source``.
    """

    extract: OsmExtract
    area: shapely.Geometry
    extent: shapely.Geometry
    walk_ways: list[dict] = field(default_factory=list)
    nodes: dict[int, tuple[float, float, dict]] = field(default_factory=dict)
    barriers: gpd.GeoDataFrame | None = None
    _way_index: tuple | None = field(default=None, repr=False)

    def ways_touching(self, polygon_wgs: shapely.Geometry) -> list[dict]:
        """The walkable ways with at least one node inside ``polygon_wgs`` (EPSG:4326)."""
        if self._way_index is None:
            lon, lat, owner = [], [], []
            for i, way in enumerate(self.walk_ways):
                for ref in way["nodes"]:
                    x, y, _ = self.nodes[ref]
                    lon.append(x)
                    lat.append(y)
                    owner.append(i)
            self._way_index = (np.array(lon), np.array(lat), np.array(owner, dtype=np.int64))
        lon, lat, owner = self._way_index
        xmin, ymin, xmax, ymax = polygon_wgs.bounds
        box = (lon >= xmin) & (lon <= xmax) & (lat >= ymin) & (lat <= ymax)
        cand = np.flatnonzero(box)
        shapely.prepare(polygon_wgs)
        inside = cand[shapely.contains_xy(polygon_wgs, lon[cand], lat[cand])]
        return [self.walk_ways[i] for i in np.unique(owner[inside])]


def _to_wgs(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=settings.crs).to_crs(4326).iloc[0]


def read_extract(
    extract: OsmExtract, area: shapely.Geometry, *, barrier_area: shapely.Geometry | None = None
) -> ExtractData:
    """One pass over the extract: walkable ways with a node inside ``area``, barrier lines with
    a node inside ``barrier_area``.

    Parameters
    ----------
    extract : OsmExtract
    area : shapely Polygon or MultiPolygon
        EPSG:2154; typically the QPV with their network buffer.
    barrier_area : shapely Polygon or MultiPolygon, optional
        EPSG:2154; typically the département and a ring around it (default ``area``).
    """
    import osmium

    start = time.perf_counter()
    area_wgs = _to_wgs(area)
    barrier_wgs = area_wgs if barrier_area is None else _to_wgs(barrier_area)
    shapely.prepare(area_wgs)
    shapely.prepare(barrier_wgs)
    axmin, aymin, axmax, aymax = shapely.union(area_wgs.envelope, barrier_wgs.envelope).bounds
    import osmnx as ox

    walkable = walk_filter()
    keys = tuple(dict.fromkeys(("highway", "railway", "waterway", *ox.settings.useful_tags_node)))
    # node tags are kept a little beyond the area: the ways touching it run out of it
    nxmin, nymin, nxmax, nymax = np.array(area_wgs.bounds) + [-0.05, -0.05, 0.05, 0.05]
    walk_ways, barrier_ways, node_tags = [], [], {}
    hull_pts: list[tuple[float, float]] = []
    proc = (
        osmium.FileProcessor(str(extract.path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    try:
        for obj in proc:
            if obj.is_node():
                loc = obj.location
                if loc.valid() and nxmin <= loc.lon <= nxmax and nymin <= loc.lat <= nymax:
                    node_tags[obj.id] = dict(obj.tags)
                continue
            refs, lons, lats = [], [], []
            for nd in obj.nodes:
                loc = nd.location
                if loc.valid():  # a node cut off by the extract's border
                    refs.append(nd.ref)
                    lons.append(loc.lon)
                    lats.append(loc.lat)
            if len(refs) < 2:
                continue
            for i in {0, len(refs) - 1, lons.index(min(lons)), lons.index(max(lons)),
                      lats.index(min(lats)), lats.index(max(lats))}:  # fmt: skip
                hull_pts.append((lons[i], lats[i]))
            if len(hull_pts) > 200_000:  # a regional extract: keep the hull's corners only
                hull_pts = _hull_corners(hull_pts)
            if max(lons) < axmin or min(lons) > axmax or max(lats) < aymin or min(lats) > aymax:
                continue
            tags = dict(obj.tags)
            way = (obj.id, tags, refs, np.array(lons), np.array(lats))
            if "highway" in tags and walkable(tags):
                walk_ways.append(way)
            if barrier_kind(tags):
                barrier_ways.append(way)
    except RuntimeError as exc:
        raise ValidationError(
            f"OSM extract {str(extract.path)!r} cannot be read ({exc}); download it again"
        ) from exc
    data = ExtractData(extract, area, _extent(hull_pts))
    for oid, tags, refs, lons, lats in _touching(walk_ways, area_wgs):
        data.walk_ways.append({"type": "way", "id": oid, "nodes": refs, "tags": tags})
        for ref, x, y in zip(refs, lons, lats, strict=True):
            data.nodes[ref] = (float(x), float(y), node_tags.get(ref, {}))
    data.barriers = _barrier_lines(_touching(barrier_ways, barrier_wgs), extract)
    log.info(
        "OSM extract %s: %d walkable ways, %d barrier lines in the area (%.1f s)",
        extract.name, len(data.walk_ways), len(data.barriers), time.perf_counter() - start,
    )  # fmt: skip
    return data


def _touching(ways: list[tuple], area_wgs: shapely.Geometry) -> list[tuple]:
    """The ways with at least one node inside the area (vectorised over every node)."""
    if not ways:
        return []
    lons = np.concatenate([w[3] for w in ways])
    lats = np.concatenate([w[4] for w in ways])
    owner = np.repeat(np.arange(len(ways)), [len(w[2]) for w in ways])
    inside = shapely.contains_xy(area_wgs, lons, lats)
    return [ways[i] for i in np.unique(owner[inside])]


def _hull_corners(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    hull = shapely.convex_hull(shapely.multipoints(np.array(points)))
    return [tuple(c) for c in shapely.get_coordinates(hull)]


def _extent(points: list[tuple[float, float]]) -> shapely.Geometry:
    """Where the extract has data (EPSG:2154): the convex hull of the points given (lon/lat)."""
    if len(points) < 3:
        return shapely.Polygon()
    hull = shapely.convex_hull(shapely.multipoints(np.array(points)))
    return gpd.GeoSeries([hull], crs=4326).to_crs(settings.crs).iloc[0]


#: name of a barrier way without ``ref`` or ``name`` (French, shown in the outputs)
UNNAMED_FR = {
    "motorway": "autoroute",
    "motorway_link": "bretelle d'autoroute",
    "trunk": "voie rapide",
    "trunk_link": "bretelle de voie rapide",
    "rail": "voie ferrée",
    "river": "rivière",
    "canal": "canal",
}


def barrier_name(tags) -> str:
    """« N 118 », « A 10 » (roads by their number, spaced as on French signs), a river or a rail
    line by its name, else its line number or kind in words."""
    kind = barrier_kind(tags)
    value = tags.get(BARRIER_RULES[kind][0], "") if kind else ""
    if kind == "road" and tags.get("ref"):
        return re.sub(r"^([A-Z]+)\s*(\d)", r"\1 \2", tags["ref"].split(";")[0].strip())
    if tags.get("name"):
        return tags["name"]
    if kind == "rail" and tags.get("ref"):
        return f"ligne {tags['ref']}"
    return UNNAMED_FR.get(value, value)


def _barrier_lines(ways: list[tuple], extract: OsmExtract) -> gpd.GeoDataFrame:
    rows = []
    for _oid, tags, _refs, lons, lats in ways:
        line = shapely.linestrings(np.column_stack([lons, lats]))
        rows.append((barrier_kind(tags), barrier_name(tags), line))
    frame = pd.DataFrame(rows, columns=["kind", "name", "geometry"])
    out = gpd.GeoDataFrame(
        {"kind": frame["kind"], "name": frame["name"], "source": f"OSM ({extract.label_fr})"},
        geometry=gpd.GeoSeries(frame["geometry"], crs=4326),
        crs=4326,
    )
    return out.to_crs(settings.crs).reset_index(drop=True)


# --------------------------------------------------------------------------- cutting


def cut_extract(
    source: str | PathLike,
    target: str | PathLike,
    bbox: tuple[float, float, float, float],
    *,
    timestamp: datetime | None = None,
) -> Path:
    """Write the part of an extract inside a bounding box (lon/lat) to a new file.

    Every way with a node inside the box is kept whole (with all its nodes, as
    ``osmium extract --strategy complete_ways`` does); relations are left out.
    The new file's header carries the box and ``timestamp`` as its
    ``osmosis_replication_timestamp`` (default: the source's date, see
    :func:`open_extract`). The format follows the target's name
    (``.osm.pbf``, ``.osm``, ``.osm.bz2``). Written atomically.
    """
    import osmium

    source = checked_path(source)
    target = Path(target)
    if not target.name.endswith(EXTRACT_SUFFIXES):
        raise ValidationError(f"cut target {str(target)!r}: name it .osm.pbf, .osm or .osm.bz2")
    xmin, ymin, xmax, ymax = bbox
    if not (xmin < xmax and ymin < ymax):
        raise ValidationError(f"`bbox` must be (lon_min, lat_min, lon_max, lat_max), got {bbox!r}")
    stamp = timestamp or open_extract(source).timestamp
    inside: set[int] = set()
    ways: set[int] = set()
    needed: set[int] = set()
    for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node():
            loc = obj.location
            if loc.valid() and xmin <= loc.lon <= xmax and ymin <= loc.lat <= ymax:
                inside.add(obj.id)
        else:
            refs = [nd.ref for nd in obj.nodes]
            if any(r in inside for r in refs):
                ways.add(obj.id)
                needed.update(refs)
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(osmium.osm.Location(xmin, ymin), osmium.osm.Location(xmax, ymax)))
    header.set("generator", "qpvgeo cut_extract (pyosmium)")
    if stamp is not None:
        header.set("osmosis_replication_timestamp", stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))
    suffix = next(
        s for s in sorted(EXTRACT_SUFFIXES, key=len, reverse=True) if target.name.endswith(s)
    )
    tmp = target.with_name(target.name[: -len(suffix)] + ".tmp" + suffix)
    tmp.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(tmp), header=header)
    try:
        for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node() and obj.id in needed:
                writer.add_node(obj)
            elif obj.is_way() and obj.id in ways:
                writer.add_way(obj)
    finally:
        writer.close()
    tmp.replace(target)
    return target
