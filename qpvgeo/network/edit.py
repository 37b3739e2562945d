"""Editing a walk network for a scenario: a link added, streets closed.

A scenario (:mod:`qpvgeo.data.scenarios`) tries a change on the street
network: a footbridge, a crossing or a path through a fence
(:func:`add_link`), or a street closed (:func:`remove_edges`, the edges
found by :func:`edges_along`). Each function returns a *new*
:class:`~qpvgeo.network.build.WalkNetwork`, its compiled arrays and its
networkx graph changed alike; the network given is left as it was (the
baseline of the scenario keeps reading it).

An end of a link is placed on the nearest street edge within
:data:`LINK_SNAP_M`: the edge is split there in two (their lengths add up to
the edge's, so every other walk keeps its length), unless the end falls
within :data:`NODE_TOLERANCE_M` of one of the edge's end nodes, which is then
used. The link is walkable both ways; its geometry is the drawn line with the
straight pieces joining its ends to the streets, and its length is that of
this geometry. No resident's origin nor equipment is ever placed on a link
(``WalkNetwork.no_snap``): a footbridge is nobody's address, so the residents
along it keep their street and reach the link through the network.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
import numpy as np
import shapely
import shapely.ops

from .._errors import NetworkError, ValidationError
from .build import WalkNetwork

#: the ends of a new link are snapped to a street within this distance (m)
LINK_SNAP_M = 50.0
#: an end this close (m) to an edge's end node attaches to the node (no split)
NODE_TOLERANCE_M = 1.0
#: a street edge is closed by a drawn line when this share of its length lies within the tolerance
ALONG_SHARE = 0.5

__all__ = ["LINK_SNAP_M", "add_link", "edges_along", "nearest_edge", "remove_edges"]


def nearest_edge(net: WalkNetwork, point: shapely.Point, max_m: float) -> tuple[int, float, float]:
    """The edge nearest to ``point`` within ``max_m``: (edge, offset from ``edge_u`` in m, distance in m).

    Edge -1 (offset and distance NaN) when no edge is that close.
    """
    (_, hit), dist = net.tree.query_nearest(
        [point], max_distance=max_m, return_distance=True, all_matches=False
    )
    if len(hit) == 0:
        return -1, np.nan, np.nan
    e = int(hit[0])
    frac = shapely.line_locate_point(net.edge_geometry[e], point, normalized=True)
    return e, float(frac * net.edge_length[e]), float(dist[0])


def nearest_edge_distance(net: WalkNetwork, point: shapely.Point) -> float:
    """Distance (m) from ``point`` to the nearest edge of the network."""
    (_, hit), dist = net.tree.query_nearest(
        [point], return_distance=True, all_matches=False
    )
    return float(dist[0]) if len(hit) else np.inf


def _graph_key(net: WalkNetwork, e: int) -> tuple:
    """The (u, v, key) of compiled edge ``e`` in ``net.graph`` (the parallel edge of its length)."""
    a, b = net.node_ids[net.edge_u[e]], net.node_ids[net.edge_v[e]]
    data = net.graph.get_edge_data(a, b)
    if not data:
        raise NetworkError(f"edge {e} of network {net.name!r} is not in its graph")
    key = min(data, key=lambda k: abs(float(data[k].get("length", np.inf)) - net.edge_length[e]))
    return a, b, key


def _no_snap(net: WalkNetwork) -> np.ndarray:
    return np.zeros(net.n_edges, dtype=bool) if net.no_snap is None else net.no_snap


def _new_node_id(net: WalkNetwork, n_new: int = 1):
    """Ids for new graph nodes: after the largest integer id, or strings ``scenario-<n>``."""
    if np.issubdtype(net.node_ids.dtype, np.integer):
        start = int(net.node_ids.max()) + 1 if len(net.node_ids) else 0
        return [start + i for i in range(n_new)]
    taken = {str(n) for n in net.node_ids}
    out, i = [], 0
    while len(out) < n_new:
        name = f"scenario-{i}"
        if name not in taken:
            out.append(name)
        i += 1
    return out


def _with_node_ids(ids: np.ndarray, new: list) -> np.ndarray:
    if np.issubdtype(ids.dtype, np.integer):
        return np.concatenate([ids, np.array(new, dtype=ids.dtype)])
    return np.concatenate([ids.astype(object), np.array(new, dtype=object)])


def split_edge(
    net: WalkNetwork, e: int, offset_m: float, *, graph: nx.MultiGraph | None = None
) -> tuple[WalkNetwork, int]:
    """Split edge ``e`` at ``offset_m`` from its ``edge_u`` end: (new network, index of the new node).

    The edge keeps its index for the piece from ``edge_u``; the piece to
    ``edge_v`` is appended. The two lengths add up to the edge's exactly.
    ``graph``: a copy of ``net.graph`` the caller owns, changed in place
    (by default ``net.graph`` is copied).
    """
    length = float(net.edge_length[e])
    if not 0.0 < offset_m < length:
        raise ValidationError(f"offset {offset_m!r} m is not inside edge {e} ({length:.1f} m)")
    geom = net.edge_geometry[e]
    at = offset_m * geom.length / length
    first = shapely.ops.substring(geom, 0.0, at)
    second = shapely.ops.substring(geom, at, geom.length)
    x, y = shapely.get_coordinates(second)[0]
    new_id = _new_node_id(net)[0]
    n = net.n_nodes
    G = net.graph.copy() if graph is None else graph
    a, b, key = _graph_key(net, e)
    data = dict(G.edges[a, b, key])
    G.remove_edge(a, b, key)
    G.add_node(new_id, x=float(x), y=float(y))
    G.add_edge(a, new_id, **{**data, "length": offset_m, "geometry": first})
    G.add_edge(new_id, b, **{**data, "length": length - offset_m, "geometry": second})
    geometries = np.append(net.edge_geometry, None)
    geometries[e], geometries[-1] = first, second
    lengths = np.append(net.edge_length, length - offset_m)
    lengths[e] = offset_m
    edge_v = np.append(net.edge_v, net.edge_v[e])
    edge_v[e] = n
    out = replace(
        net, graph=G, node_ids=_with_node_ids(net.node_ids, [new_id]),
        node_x=np.append(net.node_x, x), node_y=np.append(net.node_y, y),
        edge_u=np.append(net.edge_u, n), edge_v=edge_v, edge_length=lengths,
        edge_geometry=geometries, no_snap=np.append(_no_snap(net), _no_snap(net)[e]),
        _csr=None, _tree=None, _snap_tree=None, _extent=None,
    )  # fmt: skip
    return out, n


def _attach(
    net: WalkNetwork, point: shapely.Point, max_m: float, which: str, graph: nx.MultiGraph
) -> tuple[WalkNetwork, int, float]:
    """Place one end of a link on the network: (network, node index, distance moved in m)."""
    e, offset, dist = nearest_edge(net, point, max_m)
    if e < 0:
        far = nearest_edge_distance(net, point)
        raise NetworkError(
            f"the {which} of the link is {far:.0f} m from the nearest street of network "
            f"{net.name!r} (at most {max_m:g} m): draw the link from street to street"
        )
    length = float(net.edge_length[e])
    if offset <= NODE_TOLERANCE_M:
        return net, int(net.edge_u[e]), dist
    if offset >= length - NODE_TOLERANCE_M:
        return net, int(net.edge_v[e]), dist
    net, node = split_edge(net, e, offset, graph=graph)
    return net, node, dist


def add_link(
    net: WalkNetwork,
    line: shapely.LineString,
    *,
    max_snap_m: float = LINK_SNAP_M,
    label: str = "",
) -> tuple[WalkNetwork, dict]:
    """Add a walkable link (footbridge, crossing, path) along ``line`` (EPSG:2154).

    Each end of ``line`` is placed on the nearest street within
    ``max_snap_m`` (the edge split there); the link joins the two places, both
    ways, with the geometry ``snap point → line → snap point`` and its length.

    Returns
    -------
    (WalkNetwork, dict)
        The new network and what was done: ``start_snap_m``, ``end_snap_m``
        (how far each end was moved), ``length_m`` (the link's length).

    Raises
    ------
    NetworkError
        An end is farther than ``max_snap_m`` from every street, or both
        ends meet the network at the same node.
    """
    if not isinstance(line, shapely.LineString) or line.is_empty or line.length <= 0:
        raise ValidationError("a link must be a LineString of positive length")
    coords = shapely.get_coordinates(line)
    G = net.graph.copy()  # one copy, changed in place by the splits and the link
    net, a, snap_a = _attach(net, shapely.Point(coords[0]), max_snap_m, "start", G)
    net, b, snap_b = _attach(net, shapely.Point(coords[-1]), max_snap_m, "end", G)
    if a == b:
        raise NetworkError(
            f"both ends of the link meet network {net.name!r} at the same place: "
            "draw it between two different streets (or two places of a street)"
        )
    points = np.vstack([[net.node_x[a], net.node_y[a]], coords, [net.node_x[b], net.node_y[b]]])
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = np.any(np.diff(points, axis=0) != 0.0, axis=1)
    geom = shapely.LineString(points[keep])
    length = float(geom.length)
    G.add_edge(
        net.node_ids[a], net.node_ids[b], length=length, geometry=geom, highway="footway",
        osmid=f"scenario-{label}" if label else "scenario", scenario=label or "lien ajouté",
    )  # fmt: skip
    out = replace(
        net, graph=G, edge_u=np.append(net.edge_u, a), edge_v=np.append(net.edge_v, b),
        edge_length=np.append(net.edge_length, length),
        edge_geometry=np.append(net.edge_geometry, geom), no_snap=np.append(_no_snap(net), True),
        _csr=None, _tree=None, _snap_tree=None, _extent=None,
    )  # fmt: skip
    out.edge_geometry[-1] = geom  # np.append may unpack a geometry; set it as the object it is
    return out, {"start_snap_m": snap_a, "end_snap_m": snap_b, "length_m": length}


def edges_along(net: WalkNetwork, geom: shapely.Geometry, tolerance_m: float) -> np.ndarray:
    """The edges a drawn closure designates (compiled edge indices).

    - A LineString drawn along streets: every edge with at least
      :data:`ALONG_SHARE` of its length within ``tolerance_m`` of the line;
      when none, a short stroke drawn *across* a street: the edge nearest to
      the line's middle, if within ``tolerance_m``.
    - A Point: the edge nearest to it, if within ``tolerance_m``.

    Empty when nothing matches.
    """
    if isinstance(geom, shapely.LineString):
        zone = geom.buffer(tolerance_m)
        idx = net.tree.query(zone, predicate="intersects")
        if len(idx):
            lines = net.edge_geometry[idx]
            inside = shapely.length(shapely.intersection(lines, zone))
            share = inside / np.maximum(shapely.length(lines), 1e-9)
            along = np.sort(idx[share >= ALONG_SHARE])
            if len(along):
                return along.astype(np.int64)
        geom = geom.interpolate(0.5, normalized=True)
    e, _, _ = nearest_edge(net, geom, tolerance_m)
    return np.array([e] if e >= 0 else [], dtype=np.int64)


def remove_edges(net: WalkNetwork, edges: np.ndarray) -> WalkNetwork:
    """The network without ``edges`` (compiled indices); nodes left without any edge go too."""
    edges = np.unique(np.asarray(edges, dtype=np.int64))
    if len(edges) == 0:
        return net
    if edges.min() < 0 or edges.max() >= net.n_edges:
        raise ValidationError(f"edge indices out of range 0..{net.n_edges - 1}")
    G = net.graph.copy()
    for e in edges:
        G.remove_edge(*_graph_key(net, int(e)))
    keep = np.ones(net.n_edges, dtype=bool)
    keep[edges] = False
    u, v = net.edge_u[keep], net.edge_v[keep]
    used = np.zeros(net.n_nodes, dtype=bool)
    used[u] = used[v] = True
    G.remove_nodes_from([net.node_ids[i] for i in np.flatnonzero(~used) if G.degree(net.node_ids[i]) == 0])
    new_index = np.cumsum(used) - 1
    return replace(
        net, graph=G, node_ids=net.node_ids[used], node_x=net.node_x[used],
        node_y=net.node_y[used], edge_u=new_index[u], edge_v=new_index[v],
        edge_length=net.edge_length[keep], edge_geometry=net.edge_geometry[keep],
        no_snap=None if net.no_snap is None else net.no_snap[keep],
        _csr=None, _tree=None, _snap_tree=None, _extent=None,
    )  # fmt: skip
