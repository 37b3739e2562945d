"""Enclavement: how cut off each QPV is from its surroundings.

Barrier indicators need no street network (they use the barrier lines of
:mod:`qpvgeo.barriers`), so they exist for every QPV. Each function takes the
QPV layer (EPSG:2154, indexed by ``code_qp``) and returns a Series (or a
DataFrame of Series) indexed like it.

A boundary is *lined* by a barrier where it lies within ``buffer_m`` of the
barrier's centre line. The buffers account for the width of the barrier and
for the generalisation of the data: 50 m for rail tracks and roads, 150 m for
the Seine (the river is 100–150 m wide and its line is generalised).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import assert_project_crs
from ..data.barriers import KINDS, Barriers

BUFFER_M = {"rail": 50.0, "water": 150.0, "road": 50.0}


def _lined(boundaries: gpd.GeoSeries, zone: shapely.Geometry | None) -> pd.Series:
    if zone is None or zone.is_empty:
        return pd.Series(0.0, index=boundaries.index)
    lengths = boundaries.length
    inside = boundaries.intersection(zone).length
    return 100.0 * inside / lengths


def _zone(lines: gpd.GeoDataFrame, kinds, buffer_m: dict[str, float]) -> shapely.Geometry | None:
    parts = [
        shapely.union_all(lines.geometry[lines["kind"] == k].buffer(buffer_m[k]).values)
        for k in kinds
        if (lines["kind"] == k).any()
    ]
    return shapely.union_all(parts) if parts else None


def perimeter_share_lined(
    qpv: gpd.GeoDataFrame,
    barriers: Barriers,
    kind: str | None = None,
    *,
    ring_m: float = 0.0,
    buffer_m: dict[str, float] | None = None,
) -> pd.Series:
    """Share (%) of the QPV boundary (or of a ring ``ring_m`` outside it) lined by barriers.

    .. math:: s = 100 \\cdot \\frac{|\\partial Q \\cap B_{r}(L)|}{|\\partial Q|}

    where :math:`\\partial Q` is the boundary (outer rings and holes of every
    part), :math:`L` the barrier lines of the kind and :math:`B_r` their
    buffer. ``kind`` None means every assessed kind together. NaN when the
    kind was not assessed (no data), never 0.

    Returns
    -------
    Series
        Named ``share_perimeter_<kind>_pct`` (``share_ring<r>m_...`` for a ring).
    """
    assert_project_crs(qpv, "qpv")
    buffer_m = {**BUFFER_M, **(buffer_m or {})}
    kinds = [k for k in KINDS if barriers.assessed.get(k, "no") != "no"] if kind is None else [kind]
    label = kind or "barrier"
    where = f"ring{int(ring_m)}m" if ring_m else "perimeter"
    name = f"share_{where}_{label}_pct"
    if not kinds or any(barriers.assessed.get(k, "no") == "no" for k in kinds):
        return pd.Series(np.nan, index=qpv.index, name=name)
    shapes = qpv.geometry.buffer(ring_m) if ring_m else qpv.geometry
    boundaries = shapes.boundary
    return _lined(boundaries, _zone(barriers.lines, kinds, buffer_m)).rename(name)


def main_barrier(
    qpv: gpd.GeoDataFrame, barriers: Barriers, *, buffer_m: dict[str, float] | None = None
) -> pd.Series:
    """Name of the barrier lining the longest stretch of each QPV's boundary (NaN if none)."""
    assert_project_crs(qpv, "qpv")
    buffer_m = {**BUFFER_M, **(buffer_m or {})}
    lines = barriers.lines
    out = pd.Series(pd.NA, index=qpv.index, name="main_barrier", dtype=object)
    if len(lines) == 0:
        return out
    zones = {
        (kind, name): shapely.union_all(group.geometry.buffer(buffer_m[kind]).values)
        for (kind, name), group in lines.groupby(["kind", "name"])
    }
    for code, boundary in zip(qpv.index, qpv.geometry.boundary, strict=True):
        best, best_len = None, 0.0
        near = boundary.buffer(max(buffer_m.values()))
        for (kind, name), zone in zones.items():
            if not zone.intersects(near):
                continue
            length = boundary.intersection(zone).length
            if length > best_len:
                best, best_len = f"{name} ({kind})", length
        out[code] = best
    return out


def barrier_indicators(
    qpv: gpd.GeoDataFrame, barriers: Barriers, *, ring_m: float = 200.0
) -> pd.DataFrame:
    """All barrier indicators of :mod:`qpvgeo.enclavement`, one column each, plus what was assessed."""
    cols = [perimeter_share_lined(qpv, barriers, k) for k in KINDS]
    cols.append(perimeter_share_lined(qpv, barriers))
    cols.append(perimeter_share_lined(qpv, barriers, ring_m=ring_m))
    cols.append(main_barrier(qpv, barriers))
    out = pd.concat(cols, axis=1)
    out["barriers_assessed"] = ", ".join(f"{k}: {v}" for k, v in barriers.assessed.items())
    return out


# --------------------------------------------------------------------------- on the street network


def _crossing_points(boundary: shapely.Geometry, edges: np.ndarray) -> list[shapely.Point]:
    """Points where street edges cross a boundary (a stretch along the boundary counts once)."""
    pts: list[shapely.Point] = []
    for inter in shapely.intersection(edges, boundary):
        if inter.is_empty:
            continue
        for part in getattr(inter, "geoms", [inter]):
            pts.append(
                part if isinstance(part, shapely.Point) else part.interpolate(0.5, normalized=True)
            )
    return pts


def _longest_gap(boundary: shapely.Geometry, pts: list[shapely.Point]) -> float:
    """Longest stretch of boundary (m) between consecutive crossings, ring by ring."""
    rings = list(getattr(boundary, "geoms", [boundary]))
    longest = 0.0
    for ring in rings:
        on = [p for p in pts if ring.distance(p) < 1e-6]
        if not on:
            longest = max(longest, ring.length)
            continue
        pos = np.sort([ring.project(p) for p in on])
        gaps = np.diff(np.concatenate([pos, [pos[0] + ring.length]]))
        longest = max(longest, float(gaps.max()))
    return longest


def boundary_crossings(qpv: gpd.GeoDataFrame, network) -> pd.DataFrame:
    """Street links crossing each QPV boundary: count, per km of perimeter, longest stretch without.

    .. math:: c = \\frac{n_{crossings}}{|\\partial Q| / 1000}

    A QPV with no crossing gets 0 crossings per km and a longest stretch equal
    to its perimeter (finite). Computed only for the network given: call it
    with the network that covers the QPV, and read ``network_kind`` (a drive
    network misses footpaths, so it undercounts pedestrian crossings).

    Returns
    -------
    DataFrame
        ``n_crossings``, ``crossings_per_km``, ``longest_without_crossing_m``.
    """
    assert_project_crs(qpv, "qpv")
    tree = network.tree
    rows = {}
    for code, geom in zip(qpv.index, qpv.geometry, strict=True):
        boundary = geom.boundary
        idx = tree.query(boundary, predicate="intersects")
        pts = _crossing_points(boundary, network.edge_geometry[idx])
        rows[code] = {
            "n_crossings": len(pts),
            "crossings_per_km": len(pts) / (boundary.length / 1000.0),
            "longest_without_crossing_m": _longest_gap(boundary, pts),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(qpv.index.name)


def street_structure(qpv: gpd.GeoDataFrame, network) -> pd.DataFrame:
    """Internal street structure of each QPV.

    - ``intersection_density_per_km2``: nodes where ≥ 3 streets meet, per km² of QPV;
    - ``dead_end_share_pct``: share of street nodes inside the QPV that are dead ends;
    - ``mean_block_size_ha``: mean area of the blocks (faces of the street
      network, from :func:`shapely.polygonize`) whose representative point lies
      inside the QPV. NaN where the QPV holds no complete block.
    """
    assert_project_crs(qpv, "qpv")
    degree = np.bincount(
        np.concatenate([network.edge_u, network.edge_v]), minlength=network.n_nodes
    )
    xy = (network.node_x, network.node_y)
    rows = {}
    for code, geom in zip(qpv.index, qpv.geometry, strict=True):
        inside = shapely.contains_xy(geom, *xy)
        n_nodes = int(inside.sum())
        area_km2 = geom.area / 1e6
        idx = network.tree.query(geom.buffer(200), predicate="intersects")
        blocks = shapely.get_parts(
            shapely.polygonize(shapely.node(shapely.union_all(network.edge_geometry[idx])).geoms)
        )
        blocks = (
            blocks[shapely.contains(geom, shapely.point_on_surface(blocks))]
            if len(blocks)
            else blocks
        )
        rows[code] = {
            "intersection_density_per_km2": float((degree[inside] >= 3).sum()) / area_km2,
            "dead_end_share_pct": 100.0 * float((degree[inside] == 1).sum()) / n_nodes
            if n_nodes
            else np.nan,
            "mean_block_size_ha": float(shapely.area(blocks).mean() / 1e4)
            if len(blocks)
            else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(qpv.index.name)


def detour_index(
    network,
    origins: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    zone: str = "code_qp",
    name: str = "detour_index",
    max_factor: float = 4.0,
) -> pd.Series:
    """Median detour index per zone: network distance ÷ straight-line distance.

    .. math:: r_i = \\frac{d_{net}(o_i, t_i^*)}{\\lVert o_i - t_i^* \\rVert}

    where :math:`t_i^*` is the target nearest to origin :math:`o_i` as the crow
    flies (the place residents head for), both snapped to the network
    (:func:`qpvgeo.network.snap_points`). Pairs whose network distance exceeds
    ``max_factor`` × the straight line (or that are disconnected) count as
    unreachable (NaN), as do origins off the network. The median over the
    zone's origins is weighted by their population.

    Returns
    -------
    Series
        Indexed by zone, named ``name``; ≥ 1, NaN where nothing was computable.
    """
    from scipy.spatial import cKDTree

    from ..network.build import snap_points
    from ..network.engine import distances_within
    from .access import weighted_median

    assert_project_crs(origins, "origins")
    assert_project_crs(targets, "targets")
    o = snap_points(network, origins)
    t = snap_points(network, targets)
    on_t = np.flatnonzero(t["on_network"].to_numpy())
    ratio = np.full(len(origins), np.nan)
    if len(on_t) and o["on_network"].any():
        txy = np.column_stack([targets.geometry.x, targets.geometry.y])[on_t]
        oxy = np.column_stack([origins.geometry.x, origins.geometry.y])
        crow, nearest = cKDTree(txy).query(oxy)
        target_pos = on_t[nearest]
        cutoff = float(np.nanmax(crow) * max_factor) + 1.0
        pairs = distances_within(
            network, o["edge"].to_numpy(), o["offset_m"].to_numpy(),
            t["edge"].to_numpy(), t["offset_m"].to_numpy(), cutoff_m=cutoff,
        )  # fmt: skip
        mine = pairs[pairs["target"].to_numpy() == target_pos[pairs["origin"].to_numpy()]]
        net_d = np.full(len(origins), np.nan)
        net_d[mine["origin"].to_numpy()] = mine["dist_m"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(crow > 1.0, net_d / crow, np.nan)
        ratio[ratio > max_factor] = np.nan
    weights = (
        origins["population"].to_numpy(dtype=float)
        if "population" in origins
        else np.ones(len(origins))
    )
    out = {
        key: weighted_median(
            ratio[origins.index.get_indexer(idx)], weights[origins.index.get_indexer(idx)]
        )
        for key, idx in origins.groupby(zone).groups.items()
    }
    return pd.Series(out, name=name, dtype=float).rename_axis(zone)


#: components of the network enclavement index: column, value at 0 (open), value at 1 (cut off).
#: qpvgeo's anchors: 15 crossings per km is a street every ~70 m, the mesh of a dense town
#: centre, and 2 per km one every 500 m; a stretch of boundary of 200 m without a way in is a
#: block side, 1 km a wall; a detour index of 1.2 is the usual pedestrian detour in French
#: urban areas, 2.0 doubles the walk.
COMPOSITE_COMPONENTS: dict[str, tuple[float, float]] = {
    "crossings_per_km": (15.0, 2.0),
    "longest_without_crossing_m": (200.0, 1000.0),
    "detour_gare": (1.2, 2.0),
    "detour_supermarche": (1.2, 2.0),
}
#: weights of the network components
COMPOSITE_WEIGHTS: dict[str, float] = dict.fromkeys(COMPOSITE_COMPONENTS, 1.0)

#: barrier index: share of the perimeter lined by barriers, value at 0 (open) and at 1 (cut off)
BARRIER_SCALE: tuple[float, float] = (0.0, 50.0)

#: typology thresholds (qpvgeo's own, not an official grid): barriers along a quarter of the
#: perimeter close one side of a compact quarter ("forte coupure"); along 5 % of it, or 10 % of
#: the 200 m ring around it, they cut some of its links ("coupure modérée")
TYPE_STRONG_PCT = 25.0
TYPE_MODERATE_PCT = 5.0
TYPE_MODERATE_RING_PCT = 10.0

_KIND_FR = {"rail": "voies ferrées", "water": "cours d'eau", "road": "autoroutes et routes principales"}


def enclavement_index(
    table: pd.DataFrame, *, weights: dict[str, float] | None = None
) -> pd.DataFrame:
    """Two transparent enclavement readings (0 open – 1 cut off) and a barrier typology.

    Each component is rescaled linearly between the value where it signals no
    enclavement and the value where it signals a full cut, clipped to [0, 1].

    - ``barrier_index``: the share of the perimeter lined by barriers on
      :data:`BARRIER_SCALE`, for every QPV; it covers the barrier kinds
      assessed (``barriers_assessed``).
    - ``enclavement_index``: the network reading, weighted mean of
      ``enclavement_<component>_score`` over :data:`COMPOSITE_COMPONENTS`
      (crossings, longest stretch without one, detours), only where *all* of
      them are known (a QPV a street network covers): QPV read on fewer
      components are not put on the same figure. ``enclavement_components``
      lists the components, ``enclavement_missing`` those not known.
    - ``enclavement_type``: *forte coupure* when barriers line ≥ 25 % of the
      perimeter, *coupure modérée* when ≥ 5 % of it or ≥ 10 % of the 200 m
      ring, *pas de coupure* otherwise (thresholds :data:`TYPE_STRONG_PCT`…,
      qpvgeo's own); when a barrier kind could not be assessed, anything short
      of *forte coupure* reads « non évalué (… absentes des données) ».
    """
    weights = {**COMPOSITE_WEIGHTS, **(weights or {})}
    out = pd.DataFrame(index=table.index)
    share = table.get("share_perimeter_barrier_pct", pd.Series(np.nan, index=table.index))
    out["barrier_index"] = _rescale(share, *BARRIER_SCALE)
    scores = {}
    for col, (open_value, cut_value) in COMPOSITE_COMPONENTS.items():
        values = table.get(col, pd.Series(np.nan, index=table.index))
        scores[col] = out[f"enclavement_{col}_score"] = _rescale(values, open_value, cut_value)
    known = pd.DataFrame(scores).notna()
    complete = known.all(axis=1)
    num = sum(weights[c] * s for c, s in scores.items())
    out["enclavement_index"] = (num / sum(weights.values())).where(complete)
    out["enclavement_components"] = [", ".join(known.columns[known.loc[i]]) for i in table.index]
    out["enclavement_missing"] = [", ".join(known.columns[~known.loc[i]]) for i in table.index]
    out["enclavement_type"] = _barrier_type(table, share)
    return out


def _rescale(values: pd.Series, open_value: float, cut_value: float) -> pd.Series:
    return ((pd.to_numeric(values, errors="coerce") - open_value) / (cut_value - open_value)).clip(
        0.0, 1.0
    )


def _barrier_type(table: pd.DataFrame, share: pd.Series) -> pd.Series:
    ring = table.get("share_ring200m_barrier_pct", pd.Series(np.nan, index=table.index))
    kind = pd.Series(
        np.where(
            share >= TYPE_STRONG_PCT,
            "forte coupure",
            np.where(
                (share >= TYPE_MODERATE_PCT) | (ring >= TYPE_MODERATE_RING_PCT),
                "coupure modérée",
                "pas de coupure",
            ),
        ),
        index=table.index,
    ).where(share.notna(), "non évalué")
    missing = [
        k for k in KINDS
        if f"share_perimeter_{k}_pct" in table.columns and table[f"share_perimeter_{k}_pct"].isna().all()
    ]  # fmt: skip
    if missing:
        absent = " et ".join(_KIND_FR[k] for k in missing)
        short_of_strong = share.notna() & (share < TYPE_STRONG_PCT)
        kind = kind.where(~short_of_strong, f"non évalué ({absent} absentes des données)")
        kind = kind.where(~(share >= TYPE_STRONG_PCT), kind + f" ({absent} non évaluées)")
    return kind


def crossing_points(qpv: gpd.GeoDataFrame, network) -> gpd.GeoDataFrame:
    """The points where street links cross each QPV boundary (for maps), with ``code_qp``."""
    assert_project_crs(qpv, "qpv")
    codes, pts = [], []
    for code, geom in zip(qpv.index, qpv.geometry, strict=True):
        boundary = geom.boundary
        found = _crossing_points(
            boundary, network.edge_geometry[network.tree.query(boundary, predicate="intersects")]
        )
        codes.extend([code] * len(found))
        pts.extend(found)
    return gpd.GeoDataFrame({qpv.index.name or "code_qp": codes}, geometry=pts, crs=qpv.crs)


def detour_paths(
    qpv: gpd.GeoDataFrame, network, targets: gpd.GeoDataFrame, *, label: str
) -> gpd.GeoDataFrame:
    """From each QPV's representative point to its nearest target (as the crow flies):
    the straight line and the shortest street path, for maps.

    Returns
    -------
    GeoDataFrame
        Two rows per QPV (``kind`` = ``vol d'oiseau`` / ``itinéraire``), with
        ``code_qp``, ``target`` (``label``), ``length_m`` and ``detour_index``.
    """
    import networkx as nx
    from scipy.spatial import cKDTree

    from ..network.build import snap_points

    assert_project_crs(qpv, "qpv")
    starts = gpd.GeoDataFrame(geometry=qpv.representative_point(), crs=qpv.crs)
    s = snap_points(network, starts)
    t_snap = snap_points(network, targets)
    ok_t = np.flatnonzero(t_snap["on_network"].to_numpy())
    rows = []
    if len(ok_t) == 0:
        return gpd.GeoDataFrame({"code_qp": [], "kind": []}, geometry=[], crs=qpv.crs)
    txy = np.column_stack([targets.geometry.x, targets.geometry.y])[ok_t]
    for i, code in enumerate(qpv.index):
        if not s["on_network"].iloc[i]:
            continue
        p = starts.geometry.iloc[i]
        _, k = cKDTree(txy).query([p.x, p.y])
        target_pt = targets.geometry.iloc[ok_t[k]]
        a = (
            network.edge_u[s["edge"].iloc[i]]
            if s["offset_m"].iloc[i] < network.edge_length[s["edge"].iloc[i]] / 2
            else network.edge_v[s["edge"].iloc[i]]
        )
        e = t_snap["edge"].iloc[ok_t[k]]
        b = (
            network.edge_u[e]
            if t_snap["offset_m"].iloc[ok_t[k]] < network.edge_length[e] / 2
            else network.edge_v[e]
        )
        try:
            path = nx.shortest_path(
                network.graph, network.node_ids[a], network.node_ids[b], weight="length"
            )
        except nx.NetworkXNoPath:
            continue
        coords = [(network.graph.nodes[path[0]]["x"], network.graph.nodes[path[0]]["y"])]
        for n1, n2 in zip(path[:-1], path[1:], strict=True):
            data = min(network.graph.get_edge_data(n1, n2).values(), key=lambda d: d["length"])
            line = list(data["geometry"].coords)
            if shapely.Point(line[0]).distance(shapely.Point(coords[-1])) > 1e-6:
                line = line[::-1]
            coords.extend(line[1:])
        route = shapely.LineString([(p.x, p.y), *coords, (target_pt.x, target_pt.y)])
        straight = shapely.LineString([(p.x, p.y), (target_pt.x, target_pt.y)])
        ratio = route.length / straight.length if straight.length > 1 else np.nan
        for kind, geom in (("vol d'oiseau", straight), ("itinéraire", route)):
            rows.append(
                {
                    "code_qp": code,
                    "kind": kind,
                    "target": label,
                    "length_m": geom.length,
                    "detour_index": ratio,
                    "geometry": geom,
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=qpv.crs)
