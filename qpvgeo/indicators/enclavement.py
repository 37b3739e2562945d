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
import shapely.ops

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
    """All barrier indicators of :mod:`qpvgeo.enclavement`, one column each, plus what was assessed.

    Where the barriers are assessed inside an extent only (:attr:`Barriers.extent`, an OSM
    extract), a QPV whose ring and buffers do not lie inside it is read with what is assessed
    outside (:attr:`Barriers.assessed_outside`): a kind not assessed there is NaN, never 0.
    """
    if barriers.extent is None or barriers.assessed_outside is None:
        return _barrier_indicators(qpv, barriers, ring_m)
    reach = qpv.geometry.buffer(ring_m + max(BUFFER_M.values()))
    inside = reach.within(barriers.extent)
    outside = Barriers(barriers.lines, barriers.assessed_outside, barriers.notes)
    parts = [
        _barrier_indicators(qpv[mask], b, ring_m)
        for mask, b in ((inside, barriers), (~inside, outside))
        if mask.any()
    ]
    return pd.concat(parts).reindex(qpv.index)


def _barrier_indicators(qpv: gpd.GeoDataFrame, barriers: Barriers, ring_m: float) -> pd.DataFrame:
    cols = [perimeter_share_lined(qpv, barriers, k) for k in KINDS]
    cols.append(perimeter_share_lined(qpv, barriers))
    cols.append(perimeter_share_lined(qpv, barriers, ring_m=ring_m))
    cols.append(main_barrier(qpv, barriers))
    out = pd.concat(cols, axis=1)
    out["barriers_assessed"] = ", ".join(f"{k}: {v}" for k, v in barriers.assessed.items())
    return out


# --------------------------------------------------------------------------- on the street network


#: A street node closer than this (m) to the QPV boundary is *on* the boundary and counts as
#: outside. QPV boundaries are drawn along street centre lines from other sources than the
#: network, so the junctions of a street that runs along the boundary lie a few metres
#: either side of the line (on the Essonne mirror most are within 5 m, the carriageways of
#: a dual road up to about 10 m): without a band, each stretch of such a street between a
#: junction just inside and one just outside would count as an entry. An entry is thus an
#: edge that leads from the boundary (or beyond) to a node more than this inside. (qpvgeo
#: choice; a real junction this close inside the boundary is counted through the edges that
#: lead from it deeper inside.)
BOUNDARY_BAND_M = 10.0
#: Crossing points closer than this (m) to each other are one place, one entrance: the two
#: carriageways of a dual road, or a street and its separately mapped sidewalk, enter side
#: by side (a dual carriageway with its sidewalks is about 25 m wide). A place spans at most
#: this distance: consecutive points along the boundary join a place while within it of the
#: place's first point (no chaining along a row of close entrances). (qpvgeo choice.)
CROSSING_MERGE_M = 25.0


def _first_contact(line: shapely.LineString, boundary: shapely.Geometry) -> shapely.Point:
    """Where ``line``, followed from its start, first meets ``boundary``.

    When it never does (its other end lies inside the QPV, within the band),
    the point of the boundary nearest to its other end.
    """
    inter = line.intersection(boundary)
    if inter.is_empty:
        end = shapely.Point(line.coords[-1])
        return shapely.ops.nearest_points(boundary, end)[0]
    coords = shapely.get_coordinates(inter)
    first = float(np.min(line.project(shapely.points(coords))))
    return line.interpolate(first)


def _entry_points(geom: shapely.Geometry, network, *, band_m: float) -> list[shapely.Point]:
    """One point per street edge entering the QPV (before merging).

    An edge enters when one end node lies inside the QPV more than ``band_m``
    from its boundary and the other does not (outside, on the boundary or
    within the band). Its point is where the edge, followed from its inside
    end, first meets the boundary: for a street that runs along the boundary
    before turning in, the place where it turns in.
    """
    boundary = geom.boundary
    idx = network.tree.query(geom, predicate="intersects")
    if len(idx) == 0:
        return []
    u, v = network.edge_u[idx], network.edge_v[idx]
    nodes = np.unique(np.concatenate([u, v]))
    x, y = network.node_x[nodes], network.node_y[nodes]
    deep = shapely.contains_xy(geom, x, y) & (
        shapely.distance(shapely.points(x, y), boundary) > band_m
    )
    deep_u = deep[np.searchsorted(nodes, u)]
    deep_v = deep[np.searchsorted(nodes, v)]
    pts = []
    for e, from_u in zip(idx[deep_u != deep_v], deep_u[deep_u != deep_v], strict=True):
        line = network.edge_geometry[e]  # oriented from edge_u to edge_v
        pts.append(_first_contact(line if from_u else shapely.reverse(line), boundary))
    return pts


def _merged_places(
    boundary: shapely.Geometry, pts: list[shapely.Point], *, merge_m: float
) -> list[tuple[shapely.LineString, np.ndarray, list[shapely.Point]]]:
    """Crossing points merged into places, ring by ring.

    Returns, for every ring of the boundary (outer rings and holes), the ring,
    the positions of its places along it (m, sorted) and the places (points
    on the ring, midway along the ring between the first and last point merged).
    """
    rings = list(getattr(boundary, "geoms", [boundary]))
    which = (
        np.array([int(np.argmin(shapely.distance(rings, p))) for p in pts], dtype=int)
        if pts
        else np.array([], dtype=int)
    )
    out = []
    for r, ring in enumerate(rings):
        mine = [p for p, k in zip(pts, which, strict=True) if k == r]
        if not mine:
            out.append((ring, np.array([]), []))
            continue
        length = ring.length
        pos = np.array([ring.project(p) for p in mine])
        order = np.argsort(pos, kind="stable")
        pos, mine = pos[order], [mine[k] for k in order]
        # start the sweep after the largest gap, so that no place straddles the ring's start
        gaps = np.diff(np.concatenate([pos, [pos[0] + length]]))
        first = (int(np.argmax(gaps)) + 1) % len(pos)
        pos = np.roll(pos, -first)
        mine = mine[first:] + mine[:first]
        pos[1:] += length * (pos[1:] < pos[0])
        groups = [[0]]
        for k in range(1, len(pos)):
            if mine[k].distance(mine[groups[-1][0]]) < merge_m:
                groups[-1].append(k)
            else:
                groups.append([k])
        mid = np.array([(pos[g[0]] + pos[g[-1]]) / 2 % length for g in groups])
        places = [ring.interpolate(m) for m in mid]
        order = np.argsort(mid)
        out.append((ring, mid[order], [places[k] for k in order]))
    return out


def _longest_gap(rings: list[tuple[shapely.LineString, np.ndarray, list]]) -> float:
    """Longest stretch of boundary (m) between consecutive places, ring by ring.

    A ring without any place counts whole.
    """
    longest = 0.0
    for ring, pos, _ in rings:
        if len(pos) == 0:
            longest = max(longest, ring.length)
            continue
        gaps = np.diff(np.concatenate([pos, [pos[0] + ring.length]]))
        longest = max(longest, float(gaps.max()))
    return longest


def _crossing_places(
    geom: shapely.Geometry, network, *, band_m: float, merge_m: float
) -> list[tuple[shapely.LineString, np.ndarray, list[shapely.Point]]]:
    return _merged_places(
        geom.boundary, _entry_points(geom, network, band_m=band_m), merge_m=merge_m
    )


def boundary_crossings(
    qpv: gpd.GeoDataFrame,
    network,
    *,
    band_m: float = BOUNDARY_BAND_M,
    merge_m: float = CROSSING_MERGE_M,
) -> pd.DataFrame:
    """Places where a street enters each QPV: count, per km of perimeter, longest stretch without.

    A *crossing* is a street edge that enters the QPV: one end node inside it
    more than ``band_m`` from the boundary, the other not (outside, or on the
    boundary: within ``band_m`` of it, see :data:`BOUNDARY_BAND_M`). It is
    located where the edge, followed from its inside end, first meets the
    boundary. Crossing points closer than ``merge_m`` are one place
    (:data:`CROSSING_MERGE_M`). So a street running along the boundary,
    however often its line zig-zags across it, adds nothing by itself; the
    streets that leave it to go in are the entries.

    .. math:: c = \\frac{n_{places}}{|\\partial Q| / 1000}

    ``longest_without_crossing_m`` is the longest stretch of boundary between
    two consecutive places (ring by ring; a ring without any counts whole).
    A QPV with no crossing gets 0 crossings per km and a longest stretch equal
    to its perimeter (finite). Computed only for the network given: call it
    with the network that covers the QPV, and read ``network_kind`` (a drive
    network misses footpaths, so it undercounts pedestrian entries).

    Returns
    -------
    DataFrame
        ``n_crossings``, ``crossings_per_km``, ``longest_without_crossing_m``.
    """
    assert_project_crs(qpv, "qpv")
    rows = {}
    for code, geom in zip(qpv.index, qpv.geometry, strict=True):
        rings = _crossing_places(geom, network, band_m=band_m, merge_m=merge_m)
        n = sum(len(places) for _, _, places in rings)
        rows[code] = {
            "n_crossings": n,
            "crossings_per_km": n / (geom.boundary.length / 1000.0),
            "longest_without_crossing_m": _longest_gap(rings),
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

#: barrier index: share of the perimeter lined by barriers, value at 0 (open) and at 1 (cut off).
#: qpvgeo's anchors: no barrier along the boundary is an open quarter; barriers along half of it
#: close two sides of a compact quarter, which leaves it reachable from one direction only, so
#: more adds little to the cut a resident feels
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


def crossing_points(
    qpv: gpd.GeoDataFrame,
    network,
    *,
    band_m: float = BOUNDARY_BAND_M,
    merge_m: float = CROSSING_MERGE_M,
) -> gpd.GeoDataFrame:
    """The places where streets enter each QPV (for maps), with ``code_qp``.

    The same merged places as :func:`boundary_crossings` counts.
    """
    assert_project_crs(qpv, "qpv")
    codes, pts = [], []
    for code, geom in zip(qpv.index, qpv.geometry, strict=True):
        for _, _, places in _crossing_places(geom, network, band_m=band_m, merge_m=merge_m):
            codes.extend([code] * len(places))
            pts.extend(places)
    return gpd.GeoDataFrame({qpv.index.name or "code_qp": codes}, geometry=pts, crs=qpv.crs)


# the detour indicators live in their own module; their names stay importable from here
from .detour import MIN_CROW_M, detour_index, detour_paths, detour_per_origin  # noqa: E402

__all__ = [
    "BARRIER_SCALE",
    "BOUNDARY_BAND_M",
    "BUFFER_M",
    "COMPOSITE_COMPONENTS",
    "COMPOSITE_WEIGHTS",
    "CROSSING_MERGE_M",
    "MIN_CROW_M",
    "TYPE_MODERATE_PCT",
    "TYPE_MODERATE_RING_PCT",
    "TYPE_STRONG_PCT",
    "barrier_indicators",
    "boundary_crossings",
    "crossing_points",
    "detour_index",
    "detour_paths",
    "detour_per_origin",
    "enclavement_index",
    "main_barrier",
    "perimeter_share_lined",
    "street_structure",
]
