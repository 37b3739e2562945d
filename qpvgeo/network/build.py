"""Walking street network: build it with osmnx, compile it to arrays, snap points to it.

The network every indicator shares is a :class:`WalkNetwork`: an undirected
osmnx graph projected to EPSG:2154 plus compact arrays (one row per street
edge, a symmetric CSR adjacency) that the fast kernels of
:mod:`qpvgeo.engine` and :mod:`qpvgeo.centrality` read.

Points (residents' origins, shops) are placed *on edges*: a point is the pair
``(edge, offset_m)``, the edge index and the distance along the edge from its
first end node ``edge_u``. :func:`snap_points` finds that pair for each point,
with a maximum snapping distance beyond which the point is reported as off the
network rather than silently moved.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from .. import settings
from .._errors import NetworkError, ValidationError
from .._validate import (
    check_choice,
    check_frame,
    check_geometries,
    check_network,
    check_number,
    check_path,
)

log = logging.getLogger(__name__)

# osmnx's "walk" network type, as its Overpass filter states it
# (osmnx._overpass._get_network_filter("walk")), applied to ways already loaded.
_WALK_EXCLUDED_HIGHWAY = (
    "abandoned",
    "bus_guideway",
    "construction",
    "cycleway",
    "motor",
    "no",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
)
_WALK_EXCLUDED_TAGS = {
    "area": ("yes",),
    "access": ("private",),
    "foot": ("no",),
    "service": ("private",),
    "sidewalk": ("separate",),
    "sidewalk:both": ("separate",),
    "sidewalk:left": ("separate",),
    "sidewalk:right": ("separate",),
}
_EXTRA_WAY_TAGS = (
    "foot",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "footway",
)


#: the kinds of network qpvgeo knows: pedestrian, or a car network standing in for one
NETWORK_KINDS = ("walk", "drive")


@dataclass(eq=False)
class WalkNetwork:
    """An undirected walking network, projected, and its compiled arrays.

    Attributes
    ----------
    graph : networkx.MultiGraph
        Undirected, EPSG:2154, with edge ``length`` (m, equal to the projected
        geometry length) and ``geometry``; node ``x``/``y``.
    name : str
        Where it comes from (file name, or "osmnx download").
    kind : str
        ``"walk"`` for a pedestrian network, ``"drive"`` for a car network used
        as a stand-in (no footways: walking times are then approximate).
    node_ids : ndarray
        Graph node id of each compiled node index.
    node_x, node_y : ndarray of float64
    edge_u, edge_v : ndarray of int64
        Compiled node indices of each undirected edge's end nodes.
    edge_length : ndarray of float64
        Edge lengths (m), > 0.
    edge_geometry : ndarray of shapely LineString
        Geometry of each edge, oriented from ``edge_u`` to ``edge_v``.
    """

    graph: nx.MultiGraph
    name: str
    kind: str
    node_ids: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    #: per edge, True where points are never placed (the links a scenario adds: a footbridge
    #: is nobody's address, see :mod:`qpvgeo.network.edit`); None: points go on any edge
    no_snap: np.ndarray | None = field(default=None, repr=False)
    _csr: sparse.csr_array | None = field(default=None, repr=False)
    _tree: shapely.STRtree | None = field(default=None, repr=False)
    _snap_tree: tuple | None = field(default=None, repr=False)
    _extent: shapely.Polygon | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    @property
    def csr(self) -> sparse.csr_array:
        """Symmetric adjacency (n_nodes × n_nodes), weights in metres.

        Parallel edges keep their shortest length; self-loops are dropped.
        """
        if self._csr is None:
            keep = self.edge_u != self.edge_v
            u, v, w = self.edge_u[keep], self.edge_v[keep], self.edge_length[keep]
            rows = np.concatenate([u, v])
            cols = np.concatenate([v, u])
            vals = np.concatenate([w, w])
            # keep the minimum over parallel edges: sort so that the shortest comes first
            order = np.lexsort((vals, cols, rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            first = np.ones(len(rows), dtype=bool)
            first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            n = self.n_nodes
            self._csr = sparse.csr_array((vals[first], (rows[first], cols[first])), shape=(n, n))
            self._csr.sort_indices()
        return self._csr

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.edge_geometry)
        return self._tree

    @property
    def snap_tree(self) -> tuple[shapely.STRtree, np.ndarray]:
        """The tree of the edges points may be placed on, and their edge indices."""
        if self.no_snap is None:
            return self.tree, np.arange(self.n_edges)
        if self._snap_tree is None:
            ids = np.flatnonzero(~self.no_snap)
            self._snap_tree = (shapely.STRtree(self.edge_geometry[ids]), ids)
        return self._snap_tree

    @property
    def extent(self) -> shapely.Polygon:
        """Convex hull of the network's edges (the area it can be said to cover; computed once).

        The hull of the edges' points, taken as they are: noding the lines first (a union)
        gives the same hull for many times the memory and time.
        """
        if self._extent is None:
            edges = shapely.GeometryCollection(list(self.edge_geometry))
            self._extent = shapely.convex_hull(edges)
        return self._extent

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """The compiled edges as a GeoDataFrame (index: compiled edge index)."""
        return gpd.GeoDataFrame(
            {"u": self.edge_u, "v": self.edge_v, "length_m": self.edge_length},
            geometry=self.edge_geometry,
            crs=settings.crs,
        )


# --------------------------------------------------------------------------- building


def _walkable(data: dict) -> bool:
    highway = data.get("highway")
    if highway is None:
        return False
    values = highway if isinstance(highway, list) else [highway]
    for value in values:
        if any(bad in str(value) for bad in _WALK_EXCLUDED_HIGHWAY):
            return False
    for tag, bad_values in _WALK_EXCLUDED_TAGS.items():
        value = data.get(tag)
        if value is not None and any(bad in str(value) for bad in bad_values):
            return False
    return True


def walk_graph_from_xml(
    path: str | Path, *, simplify: bool = True, retain_all: bool = False
) -> nx.MultiDiGraph:
    """Read an OSM XML file (``.osm``, ``.osm.bz2``) and keep its walkable ways.

    The file may hold buildings, land use and every other OSM feature: only
    ways tagged ``highway`` that pass osmnx's ``"walk"`` filter are kept, all of
    them two-way, as :func:`osmnx.graph_from_polygon` with ``network_type="walk"``
    would return them.

    Parameters
    ----------
    path : str or Path
        OSM XML file.
    simplify : bool
        Merge interstitial nodes (osmnx's topological simplification).
    retain_all : bool
        Keep every connected component, not only the largest.

    Returns
    -------
    networkx.MultiDiGraph
        Unprojected (EPSG:4326) osmnx graph.
    """
    check_path(path)
    import osmnx as ox

    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"OSM file {str(path)!r} does not exist")
    useful = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = useful + [t for t in _EXTRA_WAY_TAGS if t not in useful]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            G = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = useful
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not _walkable(d)]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    if len(G) == 0:
        raise NetworkError(f"OSM file {str(path)!r} holds no walkable street")
    if not retain_all:
        G = ox.truncate.largest_component(G)
    if simplify:
        G = ox.simplify_graph(G)
    log.info("walk graph from %s: %d nodes, %d edges", path.name, len(G), G.number_of_edges())
    return G


def walk_graph_from_polygon(polygon: shapely.Polygon | shapely.MultiPolygon) -> nx.MultiDiGraph:
    """Download the OSM walking network inside a polygon given in EPSG:2154 (osmnx)."""
    import osmnx as ox

    if not isinstance(polygon, shapely.Polygon | shapely.MultiPolygon) or polygon.is_empty:
        raise ValidationError(
            f"`polygon` must be a non-empty shapely Polygon or MultiPolygon in {settings.crs}, "
            f"got {type(polygon).__name__}"
            + (" (empty)" if isinstance(polygon, shapely.Geometry) and polygon.is_empty else "")
        )
    poly_wgs = gpd.GeoSeries([polygon], crs=settings.crs).to_crs(4326).iloc[0]
    return ox.graph_from_polygon(poly_wgs, network_type="walk", retain_all=True)


def compile_network(
    G: nx.MultiDiGraph | nx.MultiGraph, *, name: str = "", kind: str = "walk"
) -> WalkNetwork:
    """Project an osmnx graph to EPSG:2154, make it undirected and compile its arrays.

    Edge lengths become the projected geometry lengths (m) and are written back
    to the graph's ``length`` attribute, so that a networkx computation on
    ``network.graph`` and the compiled kernels measure the same thing.
    """
    import osmnx as ox

    if not isinstance(G, nx.MultiGraph):
        raise ValidationError(
            f"`G` must be an osmnx graph (networkx MultiDiGraph or MultiGraph), got {type(G).__name__}"
        )
    check_choice(kind, "kind", NETWORK_KINDS)
    if len(G) == 0:
        raise NetworkError(f"network {name!r} is empty")
    if "crs" not in G.graph:
        raise ValidationError(f"network {name!r} has no `crs` graph attribute; load it with osmnx")
    if G.is_directed():
        G = ox.project_graph(G, to_crs=settings.crs)
        for u, v, data in G.edges(data=True):
            # osmnx merges a pair of reciprocal edges into one when their `osmid` and
            # geometry agree; files rebuilt from edge tables (GraphML) may lack `osmid`
            data.setdefault("osmid", f"{min(u, v)}-{max(u, v)}")
        G = ox.convert.to_undirected(G)
    elif str(G.graph["crs"]).upper() != settings.crs:
        raise ValidationError(
            f"undirected network {name!r} has CRS {G.graph['crs']!r}; project it before "
            "making it undirected (pass the osmnx MultiDiGraph instead)"
        )
    node_ids = np.array(list(G.nodes))
    index = {n: i for i, n in enumerate(node_ids)}
    node_x = np.array([G.nodes[n]["x"] for n in node_ids], dtype=float)
    node_y = np.array([G.nodes[n]["y"] for n in node_ids], dtype=float)
    us, vs, geoms = [], [], []
    for u, v, _k, data in G.edges(keys=True, data=True):
        iu, iv = index[u], index[v]
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([(node_x[iu], node_y[iu]), (node_x[iv], node_y[iv])])
        else:
            # orient the geometry from u to v
            start = shapely.Point(geom.coords[0])
            if start.distance(shapely.Point(node_x[iu], node_y[iu])) > start.distance(
                shapely.Point(node_x[iv], node_y[iv])
            ):
                geom = shapely.reverse(geom)
        us.append(iu)
        vs.append(iv)
        geoms.append(geom)
    edge_geometry = np.array(geoms, dtype=object)
    edge_length = np.maximum(shapely.length(edge_geometry), 1e-3)
    for (u, v, k), length, geom in zip(G.edges(keys=True), edge_length, edge_geometry, strict=True):
        G.edges[u, v, k]["length"] = float(length)
        G.edges[u, v, k]["geometry"] = geom
    net = WalkNetwork(
        graph=G,
        name=name,
        kind=kind,
        node_ids=node_ids,
        node_x=node_x,
        node_y=node_y,
        edge_u=np.array(us, dtype=np.int64),
        edge_v=np.array(vs, dtype=np.int64),
        edge_length=edge_length,
        edge_geometry=edge_geometry,
    )
    log.info("compiled network %r: %d nodes, %d edges", name, net.n_nodes, net.n_edges)
    return net


def load_network(
    path: str | Path, *, kind: str | None = None, simplify: bool = True
) -> WalkNetwork:
    """Load a network file (GraphML, or OSM XML ``.osm``/``.osm.bz2``) and compile it.

    ``kind`` defaults to ``"drive"`` when the file name says so, else ``"walk"``.
    """
    check_path(path)
    import osmnx as ox

    path = Path(path)
    if kind is not None:
        check_choice(kind, "kind", NETWORK_KINDS)
    if not path.is_file():
        raise ValidationError(f"network file {str(path)!r} does not exist")
    if kind is None:
        kind = "drive" if "drive" in path.name else "walk"
    if path.suffix == ".graphml":
        try:
            G = ox.load_graphml(path)
        except Exception as exc:  # osmnx/networkx raise many kinds
            raise ValidationError(f"cannot read GraphML {str(path)!r}: {exc}") from exc
    elif path.name.endswith((".osm", ".osm.bz2", ".osm.xml", ".osm.xml.bz2")):
        G = walk_graph_from_xml(path, simplify=simplify)
    else:
        raise ValidationError(
            f"network file {str(path)!r}: unknown format; give a .graphml or .osm(.bz2) file"
        )
    return compile_network(G, name=path.name, kind=kind)


#: largest side of :func:`grid_network` (a qpvgeo limit: 500 × 500 nodes, half a million edges,
#: about 1 GB as a networkx graph, the size of a large city's walking network; the benchmarks
#: go to 400)
GRID_MAX_SIDE = 500


def grid_network(
    n_side: int, spacing_m: float = 100.0, *, origin: tuple[float, float] = (650_000.0, 6_850_000.0)
) -> WalkNetwork:
    """A square street grid of ``n_side × n_side`` nodes (synthetic, for tests and benchmarks)."""
    n_side = check_number(n_side, "n_side", low=2, high=GRID_MAX_SIDE, integer=True)
    spacing_m = check_number(spacing_m, "spacing_m", low=0, low_open=True, high=10_000, unit="metres")
    G = nx.MultiDiGraph(crs=settings.crs)
    x0, y0 = origin
    for i in range(n_side):
        for j in range(n_side):
            G.add_node(i * n_side + j, x=x0 + j * spacing_m, y=y0 + i * spacing_m)
    for i in range(n_side):
        for j in range(n_side):
            a = i * n_side + j
            if j + 1 < n_side:
                G.add_edge(a, a + 1, length=spacing_m)
            if i + 1 < n_side:
                G.add_edge(a, a + n_side, length=spacing_m)
    return compile_network(G, name=f"grid {n_side}x{n_side}", kind="walk")


# --------------------------------------------------------------------------- snapping


#: walking speeds qpvgeo accepts, in km/h (a qpvgeo choice). Pedestrians walk at 3–6 km/h
#: (4.5 is the usual urban value; older people and people with a pushchair or a cane 2.5–3.5;
#: a brisk adult 6); 2 km/h leaves room for the slowest walkers, 7 km/h is the limit of fast
#: walking, beyond which one runs. A value outside is a typo (1000, 0.1) or metres per minute
#: or metres per second given as km/h: refused rather than turned into implausible times.
WALK_SPEED_RANGE_KMH: tuple[float, float] = (2.0, 7.0)


def walk_speed_problem(speed: object) -> str | None:
    """Why ``speed`` (km/h) is not a plausible walking speed, or None when it is."""
    low, high = WALK_SPEED_RANGE_KMH
    try:
        value = float(speed)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"must be a number of km/h, got {speed!r}"
    if not (np.isfinite(value) and low <= value <= high):
        return (
            f"must be a pedestrian's walking speed between {low:g} and {high:g} km/h "
            f"(usually 4.5), got {value!r}"
        )
    return None


def metres_per_minute(walk_speed_kmh: float | None = None) -> float:
    """Walking speed in metres per minute.

    Raises :class:`~qpvgeo.ValidationError` outside :data:`WALK_SPEED_RANGE_KMH`.
    """
    speed = settings.walk_speed_kmh if walk_speed_kmh is None else walk_speed_kmh
    problem = walk_speed_problem(speed)
    if problem:
        raise ValidationError(f"`walk_speed_kmh` {problem}")
    return float(speed) * 1000.0 / 60.0


def snap_points(
    network: WalkNetwork,
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    max_snap_m: float | None = None,
) -> pd.DataFrame:
    """Place points on the nearest street edge.

    Parameters
    ----------
    network : WalkNetwork
    points : GeoSeries or GeoDataFrame
        Points in EPSG:2154.
    max_snap_m : float, optional
        Largest snapping distance (default :data:`qpvgeo.settings.max_snap_m`).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``edge`` (compiled edge index, -1 when off the
        network), ``offset_m`` (distance along the edge from ``edge_u``),
        ``snap_m`` (distance moved; NaN when off) and ``on_network`` (bool).
        Points farther than ``max_snap_m`` from every edge are kept, with
        ``on_network`` False: callers report them.
    """
    check_network(network)
    max_snap_m = settings.max_snap_m if max_snap_m is None else max_snap_m
    max_snap_m = check_number(max_snap_m, "max_snap_m", low=0, low_open=True, unit="metres")
    check_frame(points, "points", series=True)
    check_geometries(points, "points", kind="point", allow_missing=True)  # missing: off the network
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    arr = np.asarray(geoms.values, dtype=object)
    n = len(arr)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    valid = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if valid.any():
        tree, ids = network.snap_tree
        (pt_i, edge_i), d = tree.query_nearest(
            arr[valid], max_distance=max_snap_m, return_distance=True, all_matches=False
        )
        edge_i = ids[edge_i]
        rows = np.flatnonzero(valid)[pt_i]
        edge[rows] = edge_i
        dist[rows] = d
        lines = network.edge_geometry[edge_i]
        frac = shapely.line_locate_point(lines, arr[rows], normalized=True)
        offset[rows] = frac * network.edge_length[edge_i]
    return pd.DataFrame(
        {"edge": edge, "offset_m": offset, "snap_m": dist, "on_network": edge >= 0},
        index=geoms.index,
    )


def coverage_share(network: WalkNetwork, polygons: gpd.GeoSeries) -> pd.Series:
    """Share (0–1) of each polygon's area inside the network's extent (convex hull).

    ``polygons`` must be in EPSG:2154 like the network (a :class:`~qpvgeo.CRSError` otherwise);
    an empty or missing polygon has no area: NaN.
    """
    check_network(network)
    check_frame(polygons, "polygons", series=True)
    polygons = polygons.geometry if isinstance(polygons, gpd.GeoDataFrame) else polygons
    extent = network.extent
    areas = polygons.area
    inside = polygons.intersection(extent).area
    return (inside / areas.where(areas > 0)).rename("network_coverage_share")


def resident_coverage(
    network: WalkNetwork, origins: gpd.GeoDataFrame, *, zone: str = "code_qp"
) -> pd.Series:
    """Share (0–1) of each zone's residents who reach a street of the network within the snap distance.

    .. math:: c_z = \\frac{\\sum_{i \\in z,\\; s_i \\le s_{max}} P_i}{\\sum_{i \\in z} P_i}

    with :math:`s_i` the distance from origin *i* to the nearest edge and
    :math:`s_{max}` = :data:`qpvgeo.settings.max_snap_m`. Unlike
    :func:`coverage_share` (area inside the network's convex hull), it does
    not count fields, parks or a hull drawn over streets that are not in the
    data. Origins without a population figure weigh nothing; a zone whose
    residents all lack one is NaN.

    Returns
    -------
    Series
        Indexed by zone, named ``resident_coverage``.
    """
    check_network(network)
    check_frame(origins, "origins", columns=(zone, "population"))
    on = snap_points(network, origins)["on_network"].to_numpy()
    pop = origins["population"].to_numpy(dtype=float)
    w = np.where(np.isfinite(pop), pop, 0.0)
    frame = pd.DataFrame({"zone": origins[zone].to_numpy(), "on": w * on, "all": w})
    sums = frame.groupby("zone")[["on", "all"]].sum()
    share = sums["on"] / sums["all"].where(sums["all"] > 0)
    return share.rename("resident_coverage").rename_axis(zone)
