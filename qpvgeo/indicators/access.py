"""Walking access from residents' origins to shops and services.

Per origin: walking time (minutes) to the nearest equipment of each category,
on the street network (:mod:`qpvgeo.network.engine`): from the door to the
street, along the streets, then from the street to the equipment; or — only
when the user asks for it, where a zone has no network — straight-line
distance × a detour factor.
Per zone (QPV): population-weighted median time, share of residents within
5 / 10 / 15 minutes and share who cannot reach the category at all.

Unreachable or not computable is NaN, never a large number. Every value
carries its method in the ``access_method`` column.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .. import settings
from .._errors import MissingColumnError, ValidationError, plain
from .._validate import check_frame, check_geometries, check_network, check_number, name_list
from ..data import nomenclature
from ..network.build import WalkNetwork, metres_per_minute, snap_points

METHOD_NETWORK = "réseau piéton"
METHOD_DRIVE_PROXY = "réseau routier (sans cheminements piétons)"
METHOD_CROWFLY = "vol d'oiseau × facteur de détour"


def _check_inputs(origins: gpd.GeoDataFrame, equipments: gpd.GeoDataFrame, categories) -> list[str]:
    """The categories as a list (one string is one category), each a category of qpvgeo's
    nomenclature or of ``equipments``: a misspelt one would silently read « nothing near »."""
    check_frame(origins, "origins")
    check_frame(equipments, "equipments")
    if "category" not in equipments.columns:
        raise MissingColumnError(
            "`equipments` needs a `category` column; load it with `load_equipments()`"
        )
    known = set(nomenclature.categories().index) | set(equipments["category"].dropna().astype(str))
    cats = name_list(categories, "categories", known=known, what="category")
    if len(set(cats)) != len(cats):
        raise ValidationError(f"`categories` names a category twice: {cats!r}; give each once")
    return cats


def _check_thresholds(thresholds_min) -> tuple[int, ...]:
    values = [thresholds_min] if np.isscalar(thresholds_min) else list(thresholds_min)
    if not values:
        raise ValidationError("`thresholds_min` is empty; give minutes, e.g. (5, 10, 15)")
    for t in values:
        check_number(t, "thresholds_min", low=0, low_open=True, unit="minutes")
    return tuple(plain(t) for t in values)  # as given: they name the columns (5 → "…_5min")


def network_time_to_nearest(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    categories: list[str],
    *,
    walk_speed_kmh: float | None = None,
    max_snap_m: float | None = None,
    snap_legs: bool = True,
) -> pd.DataFrame:
    """Walking time (min) on the network from each origin to the nearest equipment of each category.

    .. math::

        T_{ic} = \\frac{1}{v} \\min_{j:\\, c_j = c}
            \\bigl(\\ell_i + d_{net}(p_i, p_j) + \\ell_j\\bigr)

    where :math:`p` is a point's place on its nearest street edge, :math:`\\ell`
    the straight walk between the point and that place (``snap_m`` of
    :func:`qpvgeo.network.snap_points`: from the door to the street, from the
    street to the shop), :math:`d_{net}` the network distance between places
    and :math:`v` the walking speed. The nearest equipment is the nearest on
    that total, its own leg included
    (:func:`qpvgeo.network.engine.nearest_by_category`).

    Origins or equipments farther than ``max_snap_m`` from every street are
    left off the network: an origin off the network gets NaN for every
    category (the caller reports them), an equipment off the network is not a
    destination. An origin on the network that cannot reach any equipment of
    a category (another component of the network, or no equipment of the
    category on the network) gets NaN for that category.

    Parameters
    ----------
    snap_legs : bool, default True
        Add both legs :math:`\\ell_i` and :math:`\\ell_j`. False gives the
        walk between the places on the streets only (shorter by the two legs;
        kept for comparison).

    Returns
    -------
    DataFrame
        Indexed like ``origins``, one column ``walk_min_<category>`` per category.
    """
    from ..network.engine import nearest_by_category

    check_network(network)
    cats = _check_inputs(origins, equipments, categories)
    metres_per_minute(walk_speed_kmh)  # checked before the work
    o = snap_points(network, origins, max_snap_m=max_snap_m)
    eq = equipments[equipments["category"].isin(cats)]
    e = snap_points(network, eq, max_snap_m=max_snap_m)
    on = e["on_network"].to_numpy()
    code = pd.Categorical(eq["category"], categories=cats).codes[on]
    dist = nearest_by_category(
        network,
        o["edge"].to_numpy(),
        o["offset_m"].to_numpy(),
        e["edge"].to_numpy()[on],
        e["offset_m"].to_numpy()[on],
        code.astype(np.int64),
        n_categories=len(cats),
        origin_leg_m=o["snap_m"].to_numpy() if snap_legs else None,
        target_leg_m=e["snap_m"].to_numpy()[on] if snap_legs else None,
    )
    minutes = dist / metres_per_minute(walk_speed_kmh)
    minutes[~o["on_network"].to_numpy()] = np.nan
    return pd.DataFrame(minutes, index=origins.index, columns=[f"walk_min_{c}" for c in cats])


def crowfly_time_to_nearest(
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    categories: list[str],
    *,
    detour_factor: float | None = None,
    walk_speed_kmh: float | None = None,
) -> pd.DataFrame:
    """Estimated walking time (min): straight-line distance to the nearest equipment × detour factor.

    A fallback for zones with no street network, used only when asked for.
    :math:`t = f \\cdot d_{euclid} / v`, with the detour factor ``f``
    (default :data:`qpvgeo.settings.detour_factor`).
    """
    cats = _check_inputs(origins, equipments, categories)
    factor = settings.detour_factor if detour_factor is None else detour_factor
    # ≤ 5: a qpvgeo limit; pedestrian detour indices of French towns are 1.2–1.6, a few cut-off
    # estates reach 3
    factor = check_number(factor, "detour_factor", low=1, high=5)
    check_geometries(origins, "origins", kind="point")
    check_geometries(equipments, "equipments", kind="point")
    metres_per_minute(walk_speed_kmh)
    xy = np.column_stack([origins.geometry.x, origins.geometry.y])
    out = {}
    for cat in cats:
        pts = equipments.geometry[equipments["category"] == cat]
        if len(pts) == 0:
            out[f"walk_min_{cat}"] = np.full(len(origins), np.nan)
            continue
        d, _ = cKDTree(np.column_stack([pts.x, pts.y])).query(xy)
        out[f"walk_min_{cat}"] = d * factor / metres_per_minute(walk_speed_kmh)
    return pd.DataFrame(out, index=origins.index)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Weighted ``q``-quantile (the lower one at an exact boundary), ignoring NaN values and weights.

    .. math:: Q(q) = \\min \\{ v_k : \\textstyle\\sum_{j:\\, v_j \\le v_k} w_j \\ge q \\sum_j w_j \\}

    over the values with a weight > 0. ``+inf`` values take part (they rank
    last): a quantile that falls on them is ``inf``, and callers turn it into
    NaN ("more than 1 - q of the weight has no finite value").
    """
    q = check_number(q, "q")
    if not 0.0 < q <= 1.0:
        raise ValidationError(f"`q` must be in (0, 1], got {plain(q)!r}")
    try:
        values = np.asarray(values, dtype=float)
        weights = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError("`values` and `weights` must be arrays of numbers") from None
    if values.ndim != 1 or values.shape != weights.shape:
        raise ValidationError(
            f"`values` and `weights` must be 1-D arrays of one length, got shapes "
            f"{values.shape!r} and {weights.shape!r}"
        )
    ok = ~(np.isnan(values) | np.isnan(weights)) & (weights > 0)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    return float(v[min(np.searchsorted(cum, q * cum[-1]), len(v) - 1)])


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median (the lower one at an exact half), ignoring NaN values and weights."""
    return weighted_quantile(values, weights, 0.5)


def summarise_by_zone(
    times: pd.DataFrame,
    origins: gpd.GeoDataFrame,
    *,
    zone: str = "code_qp",
    thresholds_min: tuple[int, ...] | None = None,
    on_network: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Population-weighted summaries of per-origin times, per zone.

    For each ``walk_min_<cat>`` column, over the residents on the network
    (weights :math:`w_i`, their population):

    - ``walk_min_median_<cat>``: weighted median of the times, a resident who
      cannot reach the category (NaN time) counting as :math:`+\\infty`. It
      is NaN when more than half of them cannot reach it (the median is then
      "unreachable", not the median of those who can);
    - ``share_within_<t>min_<cat>_pct``: :math:`100 \\sum_{T_i \\le t} w_i / \\sum w_i`,
      the unreachable counting as beyond every threshold;
    - ``share_unreachable_<cat>_pct``: :math:`100 \\sum_{T_i = NaN} w_i / \\sum w_i`.

    Origins off the network are excluded from numerators and denominators
    and counted in ``n_origins_off_network``. Every value is NaN for a zone
    whose residents on the network weigh 0.

    Parameters
    ----------
    on_network : Series or array of bool, optional
        Aligned with ``origins``: which origins are on the network (the
        ``on_network`` column of :func:`qpvgeo.network.snap_points`). Default:
        the origins with at least one known time, which takes an origin that
        reaches no category at all for one off the network; give it.
    """
    if not isinstance(times, pd.DataFrame):
        raise ValidationError(f"`times` must be a DataFrame of walk_min_<category> columns, got {type(times).__name__}")
    check_frame(origins, "origins", columns=(zone, "population"), crs=False)
    thresholds = _check_thresholds(settings.time_thresholds_min if thresholds_min is None else thresholds_min)
    odd = [c for c in times.columns if not str(c).startswith("walk_min_")]
    if odd or not all(pd.api.types.is_numeric_dtype(t) for t in times.dtypes):
        raise ValidationError(
            "`times` must hold numeric walk_min_<category> columns only (from "
            f"`network_time_to_nearest`), got {list(times.columns)[:10]!r}"
        )
    if not times.index.equals(origins.index):
        raise ValidationError("`times` and `origins` must have the same index (one row per origin)")
    if on_network is None:
        on_all = times.notna().any(axis=1).reindex(origins.index, fill_value=False).to_numpy()
    else:
        on_all = np.asarray(on_network, dtype=bool)
        if on_all.shape != (len(origins),):
            raise ValidationError(
                f"`on_network` has shape {on_all.shape!r}; give one flag per origin "
                f"({len(origins)!r} origins), e.g. `snap_points(...)['on_network']`"
            )
    on_all = pd.Series(on_all, index=origins.index)
    weight = origins["population"].astype(float).fillna(0.0)
    rows = {}
    for key, idx in origins.groupby(zone).groups.items():
        w_all = weight.loc[idx].to_numpy()
        on = on_all.loc[idx].to_numpy()
        row: dict[str, float] = {
            "n_origins": float(len(idx)),
            "n_origins_off_network": float((~on).sum()),
            "population_est": float(w_all.sum()),
        }
        w = w_all[on]
        total = w.sum()
        for col in times.columns:
            cat = col.removeprefix("walk_min_")
            v = np.nan_to_num(times.loc[idx, col].to_numpy(dtype=float)[on], nan=np.inf)
            median = weighted_median(v, w)
            row[f"walk_min_median_{cat}"] = median if np.isfinite(median) else np.nan
            for t in thresholds:
                inside = w[v <= t].sum()
                row[f"share_within_{t}min_{cat}_pct"] = (
                    100.0 * inside / total if total > 0 else np.nan
                )
            row[f"share_unreachable_{cat}_pct"] = (
                100.0 * w[np.isinf(v)].sum() / total if total > 0 else np.nan
            )
        rows[key] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = zone
    for col in ("n_origins", "n_origins_off_network"):
        out[col] = out[col].astype(int)
    return out


# --------------------------------------------------------------------------- more access indicators


def opportunities_within(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    categories: list[str],
    *,
    thresholds_min: tuple[int, ...] | None = None,
    walk_speed_kmh: float | None = None,
    max_snap_m: float | None = None,
) -> pd.DataFrame:
    """Cumulative opportunities: number of equipments of each category within t minutes.

    Returns
    -------
    DataFrame
        Indexed like ``origins``, columns ``n_<category>_within_<t>min``;
        NaN for origins off the network (a 0 would claim "nothing near").
    """
    from ..network.engine import count_within

    check_network(network)
    cats = _check_inputs(origins, equipments, categories)
    thresholds = _check_thresholds(settings.time_thresholds_min if thresholds_min is None else thresholds_min)
    metres_per_minute(walk_speed_kmh)
    o = snap_points(network, origins, max_snap_m=max_snap_m)
    eq = equipments[equipments["category"].isin(cats)]
    e = snap_points(network, eq, max_snap_m=max_snap_m)
    on = e["on_network"].to_numpy()
    code = pd.Categorical(eq["category"], categories=cats).codes[on].astype(np.int64)
    radii = np.array(thresholds, dtype=float) * metres_per_minute(walk_speed_kmh)
    counts = count_within(
        network, o["edge"].to_numpy(), o["offset_m"].to_numpy(),
        e["edge"].to_numpy()[on], e["offset_m"].to_numpy()[on], code,
        radii_m=radii, n_categories=len(cats),
    ).astype(float)  # fmt: skip
    counts[~o["on_network"].to_numpy()] = np.nan
    cols = {
        f"n_{c}_within_{t}min": counts[:, i, k]
        for i, c in enumerate(cats)
        for k, t in enumerate(thresholds)
    }
    return pd.DataFrame(cols, index=origins.index)


def gamme_coverage(
    times: pd.DataFrame, groups: pd.DataFrame, *, threshold_min: float = 10.0
) -> tuple[pd.Series, list[str]]:
    """Share (%) of INSEE's *gamme de proximité* groups reachable within ``threshold_min``.

    A group (e.g. « Épicerie, supérette ») is reached when the nearest
    equipment of any of its categories is within the threshold. Only groups
    with at least one category present in ``times`` are counted; the others
    are returned in a list (absent from the data, *not* counted as missing).

    Parameters
    ----------
    times : DataFrame
        Per-origin ``walk_min_<category>`` columns.
    groups : DataFrame
        From :func:`qpvgeo.nomenclature.gamme_proximite`.

    Returns
    -------
    (Series, list)
        ``gamme_proximite_within_<t>min_pct`` per origin (NaN when the origin
        has no computed time) and the labels of the groups left out.
    """
    if not isinstance(times, pd.DataFrame):
        raise ValidationError(f"`times` must be a DataFrame of walk_min_<category> columns, got {type(times).__name__}")
    check_frame(groups, "groups", columns=("categories", "libelle_equipement"), geo=False)
    threshold_min = check_number(threshold_min, "threshold_min", low=0, low_open=True, unit="minutes")
    present, absent = [], []
    for _, group in groups.iterrows():
        cols = [f"walk_min_{c}" for c in group["categories"] if f"walk_min_{c}" in times.columns]
        (present if cols else absent).append((group["libelle_equipement"], cols))
    name = f"gamme_proximite_within_{int(threshold_min)}min_pct"
    if not present:
        return pd.Series(np.nan, index=times.index, name=name), [g for g, _ in absent]
    reached = np.column_stack(
        [(times[cols].min(axis=1, skipna=True) <= threshold_min).to_numpy() for _, cols in present]
    )
    share = 100.0 * reached.mean(axis=1)
    share[times.isna().all(axis=1).to_numpy()] = np.nan
    return pd.Series(share, index=times.index, name=name), [g for g, _ in absent]
