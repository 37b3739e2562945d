"""Walk networks cut from a local OSM extract, as osmnx would download them.

:func:`walk_graph_from_extract` follows the steps of
:func:`osmnx.graph_from_polygon` with ``network_type="walk"``, the Overpass
download replaced by the ways read from the extract
(:func:`qpvgeo.data.osm_extract.read_extract`, osmnx's own ``walk`` filter):
the ways with a node within 500 m of the polygon, built into a graph by osmnx
(two-way edges, lengths), cut to that buffered polygon, simplified, then cut to
the polygon. The graph is therefore the one osmnx gives on a connected machine
for the OSM state of the extract's date.
"""

from __future__ import annotations

import logging

import networkx as nx
import shapely

from .._errors import NetworkError
from ..data.osm_extract import ExtractData

log = logging.getLogger(__name__)

#: osmnx's graph_from_polygon reads this far around the polygon before cutting to it (m)
OSMNX_QUERY_BUFFER_M = 500.0


def walk_graph_from_extract(
    data: ExtractData,
    polygon_wgs: shapely.Polygon | shapely.MultiPolygon,
    *,
    simplify: bool = True,
    retain_all: bool = True,
) -> nx.MultiDiGraph:
    """The walk network inside a polygon (EPSG:4326), from the ways read from an extract.

    Parameters
    ----------
    data : ExtractData
        What :func:`qpvgeo.data.osm_extract.read_extract` kept; its area must
        hold the polygon and 500 m around it.
    polygon_wgs : shapely Polygon or MultiPolygon
        EPSG:4326, as :func:`osmnx.graph_from_polygon` takes it.
    simplify, retain_all : bool
        As in :func:`osmnx.graph_from_polygon`.

    Returns
    -------
    networkx.MultiDiGraph
        Unprojected osmnx graph (EPSG:4326).

    Raises
    ------
    NetworkError
        No walkable way of the extract lies in the polygon.
    """
    from osmnx import graph, projection, simplification, stats, truncate

    poly_proj, crs_utm = projection.project_geometry(polygon_wgs)
    poly_buff, _ = projection.project_geometry(
        poly_proj.buffer(OSMNX_QUERY_BUFFER_M), crs=crs_utm, to_latlong=True
    )
    ways = data.ways_touching(poly_buff)
    name = data.extract.name
    if not ways:
        raise NetworkError(f"OSM extract {name!r} holds no walkable street in the area asked")
    refs = {ref for way in ways for ref in way["nodes"]}
    nodes = [
        {"type": "node", "id": ref, "lon": data.nodes[ref][0], "lat": data.nodes[ref][1],
         "tags": data.nodes[ref][2]}
        for ref in refs
    ]  # fmt: skip
    g_buff = graph._create_graph([{"elements": nodes + ways}], bidirectional=True)
    g_buff = truncate.truncate_graph_polygon(g_buff, poly_buff)
    if not retain_all:
        g_buff = truncate.largest_component(g_buff)
    if simplify:
        g_buff = simplification.simplify_graph(g_buff)
    G = truncate.truncate_graph_polygon(g_buff, polygon_wgs)
    if not retain_all:
        G = truncate.largest_component(G)
    if len(G) == 0 or G.number_of_edges() == 0:
        raise NetworkError(f"OSM extract {name!r} holds no walkable street in the area asked")
    spn = stats.count_streets_per_node(g_buff, nodes=G.nodes)
    nx.set_node_attributes(G, values=spn, name="street_count")
    G.graph["osm_extract"] = name
    log.info("walk graph cut from %s: %d nodes, %d edges", name, len(G), G.number_of_edges())
    return G
