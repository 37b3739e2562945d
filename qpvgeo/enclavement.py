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

from ._validate import assert_project_crs
from .barriers import KINDS, Barriers

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


def main_barrier(qpv: gpd.GeoDataFrame, barriers: Barriers, *, buffer_m: dict[str, float] | None = None) -> pd.Series:
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


def barrier_indicators(qpv: gpd.GeoDataFrame, barriers: Barriers, *, ring_m: float = 200.0) -> pd.DataFrame:
    """All barrier indicators of :mod:`qpvgeo.enclavement`, one column each, plus what was assessed."""
    cols = [perimeter_share_lined(qpv, barriers, k) for k in KINDS]
    cols.append(perimeter_share_lined(qpv, barriers))
    cols.append(perimeter_share_lined(qpv, barriers, ring_m=ring_m))
    cols.append(main_barrier(qpv, barriers))
    out = pd.concat(cols, axis=1)
    out["barriers_assessed"] = ", ".join(f"{k}: {v}" for k, v in barriers.assessed.items())
    return out
