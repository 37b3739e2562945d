"""What residents say set against what is measured: wished categories served or not, felt
barriers beside the measured ones.

Pure functions of the answers (:mod:`qpvgeo.data.besoins`), the QPV, the street network and
the run's layers; :mod:`qpvgeo.pipeline.besoins` applies them to a run.

- :func:`answer_qpv`: the QPV an answer is about (its ``code_qp``, else the QPV its point lies
  in, else the nearest within :data:`ASSIGN_M`);
- :func:`category_access`: per resident origin, the walking time to the nearest equipment of
  each wished category and the number within ``threshold_min`` (the definitions of
  :func:`qpvgeo.indicators.access.network_time_to_nearest` and
  :func:`~qpvgeo.indicators.access.opportunities_within`);
- :func:`served_by_zone`: per QPV and category, the population-weighted median time, the
  share of residents within the threshold, the median number within it, and ``served``:
  the median resident has one within the threshold;
- :func:`felt_vs_measured`: for each pinned brake or avoided place, the nearest measured
  barrier line, the nearest boundary crossing of its QPV and the detour path of its QPV.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import assert_project_crs
from . import access as accessibility

#: an answer with a point and no ``code_qp`` is about the nearest QPV within this distance (m):
#: residents pin places just outside their quartier (the other side of the railway…)
ASSIGN_M = 1000.0
#: the walking time (min) under which a wished category counts as served
SERVED_MIN = 10


def answer_qpv(
    answers: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame, *, max_m: float = ASSIGN_M
) -> pd.DataFrame:
    """The QPV of each answer and how it was found.

    Returns
    -------
    DataFrame
        Indexed like ``answers``: ``code_qp_lu`` (empty when none) and ``qpv_how``
        (« saisi », « point dans le QPV », « point à N m du QPV », « hors des QPV étudiés »).
        A ``code_qp`` that is not a QPV of ``qpv`` gives « QPV hors de l'étude ».
    """
    assert_project_crs(answers, "answers")
    assert_project_crs(qpv, "qpv")
    code = answers["code_qp"].fillna("").astype(str)
    out = pd.DataFrame({"code_qp_lu": "", "qpv_how": ""}, index=answers.index)
    given = code != ""
    known = given & code.isin(qpv.index)
    out.loc[known, "code_qp_lu"] = code[known]
    out.loc[known, "qpv_how"] = "saisi"
    out.loc[given & ~known, "qpv_how"] = "QPV hors de l'étude"
    geom = answers.geometry
    todo = ~given & geom.notna() & ~geom.is_empty
    if todo.any() and len(qpv):
        pts = geom[todo]
        hit = gpd.sjoin_nearest(
            gpd.GeoDataFrame(geometry=pts.values, index=pts.index, crs=answers.crs),
            qpv[["geometry"]].rename_axis("code_qp").reset_index(),
            how="left", max_distance=max_m, distance_col="dist_m",
        )  # fmt: skip
        hit = hit[~hit.index.duplicated()]
        found = hit["code_qp"].notna()
        out.loc[hit.index[found], "code_qp_lu"] = hit.loc[found, "code_qp"]
        inside = hit["dist_m"] <= 0
        out.loc[hit.index[found & inside], "qpv_how"] = "point dans le QPV"
        near = found & ~inside
        out.loc[hit.index[near], "qpv_how"] = [
            f"point à {d:.0f} m du QPV" for d in hit.loc[near, "dist_m"]
        ]
        out.loc[hit.index[~found], "qpv_how"] = "hors des QPV étudiés"
    return out


def category_access(
    network,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    categories: list[str],
    *,
    threshold_min: int = SERVED_MIN,
) -> pd.DataFrame:
    """Per origin: ``walk_min_<cat>`` (nearest, min) and ``n_<cat>_within_<t>min`` for each category.

    The same definitions as the run's access indicators (door to street, along the streets,
    street to the equipment; NaN for an origin off the network or that cannot reach one).
    """
    times = accessibility.network_time_to_nearest(network, origins, destinations, categories)
    counts = accessibility.opportunities_within(
        network, origins, destinations, categories, thresholds_min=(int(threshold_min),)
    )
    return times.join(counts)


def served_by_zone(
    per_origin: pd.DataFrame,
    origins: gpd.GeoDataFrame,
    categories: list[str],
    *,
    on_network: pd.Series,
    threshold_min: int = SERVED_MIN,
) -> pd.DataFrame:
    """Per QPV (``code_qp`` of ``origins``) and category: is it served within ``threshold_min``?

    Over the residents on the network (weights: their population), with
    :math:`T_i` the time to the nearest and :math:`N_i` the number within the threshold:

    - ``walk_min_median``: weighted median of :math:`T_i` (an unreachable one counts as
      :math:`+\\infty`; NaN when more than half cannot reach one);
    - ``share_within_<t>min_pct``: :math:`100 \\sum_{T_i \\le t} w_i / \\sum w_i`;
    - ``n_within_<t>min_median``: weighted median of :math:`N_i`;
    - ``served``: ``walk_min_median`` :math:`\\le t` (False when unreachable, NA when no
      resident is on the network).

    Returns
    -------
    DataFrame
        One row per (``code_qp``, ``category``).
    """
    t = int(threshold_min)
    times = per_origin[[f"walk_min_{c}" for c in categories]]
    summary = accessibility.summarise_by_zone(
        times, origins, thresholds_min=(t,), on_network=on_network
    )
    weight = origins["population"].astype(float).fillna(0.0)
    on = pd.Series(np.asarray(on_network, dtype=bool), index=origins.index)
    rows = []
    for code, idx in origins.groupby("code_qp").groups.items():
        w = weight.loc[idx].to_numpy()[on.loc[idx].to_numpy()]
        for c in categories:
            n = per_origin.loc[idx, f"n_{c}_within_{t}min"].to_numpy(dtype=float)
            n = n[on.loc[idx].to_numpy()]
            median = summary.at[code, f"walk_min_median_{c}"]
            share = summary.at[code, f"share_within_{t}min_{c}_pct"]
            assessed = w.sum() > 0
            rows.append({
                "code_qp": code, "category": c, "walk_min_median": median,
                f"share_within_{t}min_pct": share,
                f"n_within_{t}min_median": accessibility.weighted_median(n, w) if assessed else np.nan,
                "served": (bool(median <= t) if np.isfinite(median) else False) if assessed else pd.NA,
            })  # fmt: skip
    out = pd.DataFrame(rows, columns=["code_qp", "category", "walk_min_median",
                                      f"share_within_{t}min_pct", f"n_within_{t}min_median", "served"])  # fmt: skip
    out["served"] = out["served"].astype("boolean")
    return out


def felt_vs_measured(
    points: gpd.GeoDataFrame,
    barrier_lines: gpd.GeoDataFrame,
    crossings: gpd.GeoDataFrame,
    detours: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """For each pinned brake or avoided place: the nearest measured barrier, crossing and detour.

    Parameters
    ----------
    points : GeoDataFrame
        Points in EPSG:2154 with ``code_qp`` (their QPV; empty when none).
    barrier_lines : GeoDataFrame
        The measured barriers (``kind``, ``name``), e.g. ``RunResult.barriers.lines``.
    crossings, detours : GeoDataFrame
        ``RunResult.crossings`` (points where streets cross the QPV boundary) and
        ``RunResult.detours`` (``kind`` « itinéraire » / « vol d'oiseau », ``target``,
        ``length_m``, ``detour_index``), with ``code_qp``.

    Returns
    -------
    DataFrame
        Indexed like ``points``: ``barrier_kind``, ``barrier_name``, ``barrier_m`` (distance
        to the nearest barrier line), ``crossing_m`` (to the nearest crossing of the point's
        QPV), ``detour_m`` (to the walked path of its QPV's detour), ``detour_target``,
        ``detour_length_m``, ``detour_index``. NaN (or empty) where the QPV has no crossing
        or detour (no street network) or the point has no QPV.
    """
    assert_project_crs(points, "points")
    out = pd.DataFrame(index=points.index)
    geoms = points.geometry.values
    lines = barrier_lines[barrier_lines.geometry.notna()] if len(barrier_lines) else barrier_lines
    if len(lines):
        tree = shapely.STRtree(lines.geometry.values)
        idx = [int(tree.nearest(g)) for g in geoms]
        out["barrier_kind"] = lines["kind"].to_numpy()[idx]
        out["barrier_name"] = lines["name"].fillna("").to_numpy()[idx]
        out["barrier_m"] = shapely.distance(geoms, lines.geometry.to_numpy()[idx])
    else:
        out["barrier_kind"], out["barrier_name"], out["barrier_m"] = "", "", np.nan
    walked = detours[detours["kind"] == "itinéraire"] if len(detours) else detours
    rows = []
    for g, code in zip(geoms, points["code_qp"], strict=True):
        cross = (
            crossings[crossings["code_qp"] == code]
            if len(crossings) and code
            else crossings.iloc[:0]
        )
        path = walked[walked["code_qp"] == code] if len(walked) and code else walked.iloc[:0]
        row = {"crossing_m": np.nan, "detour_m": np.nan, "detour_target": "",
               "detour_length_m": np.nan, "detour_index": np.nan}  # fmt: skip
        if len(cross):
            row["crossing_m"] = float(shapely.distance(g, cross.geometry.values).min())
        if len(path):
            d = shapely.distance(g, path.geometry.values)
            k = int(np.argmin(d))
            row.update(detour_m=float(d[k]), detour_target=str(path["target"].iloc[k]),
                       detour_length_m=float(path["length_m"].iloc[k]),
                       detour_index=float(path["detour_index"].iloc[k]))  # fmt: skip
        rows.append(row)
    cols = ["crossing_m", "detour_m", "detour_target", "detour_length_m", "detour_index"]
    return out.join(pd.DataFrame(rows, index=points.index, columns=cols))
