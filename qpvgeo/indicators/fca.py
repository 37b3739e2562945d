"""Competition-aware access: the two-step floating catchment area family (2SFCA).

Plain functions over a *long* cost table (one row per origin–supplier pair in
reach, as :func:`qpvgeo.engine.distances_within` returns it) in the style of
PySAL ``access``: distance-decay functions are built by factories
(:func:`step_decay`, :func:`gaussian_decay`) returning callables that map an
array of distances (m) to weights.

References
----------
Luo, W. and Wang, F. (2003). Measures of spatial accessibility to health care
in a GIS environment: synthesis and a case study in the Chicago region.
*Environment and Planning B* 30(6), 865–884.

Luo, W. and Qi, Y. (2009). An enhanced two-step floating catchment area
(E2SFCA) method for measuring spatial accessibility to primary care
physicians. *Health & Place* 15(4), 1100–1107.

Dai, D. (2010). Black residential segregation, disparities in spatial access
to health care facilities, and late-stage breast cancer diagnosis in
metropolitan Detroit. *Health & Place* 16(5), 1038–1052 (the Gaussian-kernel
2SFCA).

The main job reports the classic 2SFCA (``fca2_<cat>_per_1000``) and the
Gaussian-kernel 2SFCA of Dai (2010) (``g2sfca_<cat>_per_1000``); the stepwise
weights of Luo & Qi's E2SFCA are available through :func:`step_decay`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .._errors import MissingColumnError, ValidationError, plain
from .._validate import check_frame, check_number, check_series

log = logging.getLogger(__name__)

__all__ = ["gaussian_decay", "step_decay", "two_step_fca"]

Decay = Callable[[np.ndarray], np.ndarray]

#: categories whose competition-aware access is computed by the main job; "alimentaire" = all food retail
FCA_CATEGORIES = ("pharmacie", "medecin_generaliste", "boulangerie", "alimentaire")


def step_decay(
    breaks_m: Sequence[float] = (), weights: Sequence[float] = (1.0,)
) -> Decay:
    """Stepwise distance decay (classic 2SFCA, or Luo & Qi's stepwise E2SFCA).

    ``w(d) = weights[k]`` for ``breaks_m[k-1] < d <= breaks_m[k]`` (with
    ``breaks_m[-1] = 0`` and the last weight applying up to the catchment).
    The default, a single weight of 1, is the classic 2SFCA: every pair within
    the catchment counts fully. Luo & Qi (2009) used three zones, e.g.
    ``step_decay([375, 750], [1.0, 0.68, 0.22])`` for a 1,125 m catchment.

    Parameters
    ----------
    breaks_m : sequence of float
        Increasing zone limits (m, > 0), one fewer than ``weights``.
    weights : sequence of float
        Weight of each zone, in [0, 1].

    Returns
    -------
    callable
        ``w(d)``: array of distances (m) -> array of weights.
    """
    try:
        b = np.asarray(breaks_m, dtype=float)
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(
            f"`breaks_m` and `weights` must be sequences of numbers, got {plain(breaks_m)!r} and "
            f"{plain(weights)!r}"
        ) from None
    if b.ndim != 1 or w.ndim != 1 or len(w) != len(b) + 1:
        raise ValidationError(
            f"`weights` must hold one more value than `breaks_m`, got {w.tolist()!r} and {b.tolist()!r}"
        )
    if len(b) and (not np.all(np.isfinite(b)) or b[0] <= 0 or np.any(np.diff(b) <= 0)):
        raise ValidationError(
            f"`breaks_m` must be positive, finite and increasing, got {b.tolist()!r}"
        )
    if not np.all((w >= 0) & (w <= 1)):
        raise ValidationError(f"`weights` must lie in [0, 1], got {w.tolist()!r}")

    def decay(d: np.ndarray) -> np.ndarray:
        return w[np.searchsorted(b, np.asarray(d, dtype=float), side="left")]

    decay.__doc__ = f"step decay, breaks {b.tolist()!r} m, weights {w.tolist()!r}"
    return decay


def gaussian_decay(bandwidth_m: float) -> Decay:
    """Gaussian distance decay ``w(d) = exp(-½ (d / β)²)``, β = ``bandwidth_m``.

    This is the plain Gaussian kernel, *not* renormalised: ``w(0) = 1`` and
    ``w(β) = exp(-½) ≈ 0.61``. :func:`two_step_fca` sets the weight to 0
    beyond the catchment, so the recommended use is ``bandwidth_m`` equal to
    about half the catchment (``w`` ≈ 0.14 at the catchment edge, a small
    jump to 0).

    Parameters
    ----------
    bandwidth_m : float
        β (m), finite and > 0.

    Returns
    -------
    callable
        ``w(d)``: array of distances (m) -> array of weights in (0, 1].
    """
    try:
        beta = float(bandwidth_m)
    except (TypeError, ValueError):
        beta = float("nan")
    if not np.isfinite(beta) or beta <= 0:
        raise ValidationError(
            f"`bandwidth_m` must be a positive finite distance in metres, got {plain(bandwidth_m)!r}"
        )

    def decay(d: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * (np.asarray(d, dtype=float) / beta) ** 2)

    decay.__doc__ = f"Gaussian decay, bandwidth {beta!r} m"
    return decay


def _check_cost(cost: pd.DataFrame) -> None:
    missing = [c for c in ("origin", "target", "dist_m") if c not in cost.columns]
    if missing:
        raise MissingColumnError(
            f"`cost` lacks the columns {missing!r}; give the long table of "
            "`qpvgeo.engine.distances_within` (origin, target, dist_m)"
        )
    d = cost["dist_m"].to_numpy(dtype=float)
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        raise ValidationError(
            f"`cost.dist_m` holds {int(bad.sum())} NaN, infinite or negative values "
            f"(first: {float(d[bad][0])!r}); drop unreachable pairs instead of keeping them"
        )


def _check_amounts(values: pd.Series, keys: pd.Index, name: str, key_name: str) -> None:
    if not isinstance(values, pd.Series):
        raise ValidationError(
            f"`{name}` must be a pandas Series indexed by {key_name}, got {type(values).__name__!r}"
        )
    if not values.index.is_unique:
        raise ValidationError(f"`{name}` has a duplicated index; give one value per {key_name}")
    v = pd.to_numeric(values, errors="coerce").reindex(keys)
    lacking = int(v.isna().sum())
    if lacking:
        raise ValidationError(
            f"`{name}` lacks a value (NaN or absent) for {lacking} of the {len(keys)} "
            f"{key_name}s of `cost` (first: {v.index[v.isna()][0]!r}); count and report "
            "them, then drop their rows from `cost` or give them a value"
        )
    negative = v < 0
    if negative.any():
        raise ValidationError(
            f"`{name}` holds {int(negative.sum())} negative values "
            f"(first: {float(v[negative].iloc[0])!r}); amounts must be >= 0"
        )


def two_step_fca(
    cost: pd.DataFrame,
    demand: pd.Series,
    supply: pd.Series,
    *,
    catchment_m: float,
    decay: Decay | None = None,
) -> pd.Series:
    """Two-step floating catchment area access ratio (2SFCA family).

    Step 1, for each supplier *j*, its supply-to-demand ratio over the demand
    within the catchment :math:`d_0`; step 2, for each origin *i*, the sum of
    the ratios of the suppliers within the catchment:

    .. math::

        R_j = \\frac{S_j}{\\sum_{i:\\, d_{ij} \\le d_0} P_i\\, w(d_{ij})},
        \\qquad
        A_i = \\sum_{j:\\, d_{ij} \\le d_0} R_j\\, w(d_{ij})

    With ``decay=None`` (``w = 1``) this is the classic 2SFCA of Luo & Wang
    (2003); with stepwise weights (:func:`step_decay`) the enhanced E2SFCA of
    Luo & Qi (2009); with a Gaussian ``w`` (:func:`gaussian_decay`) the
    Gaussian-kernel 2SFCA of Dai (2010). Since the same weights enter both steps, total supply is
    conserved: :math:`\\sum_i P_i A_i = \\sum_j S_j` over the suppliers that
    have demand in reach.

    Suppliers with no (weighted) demand in their catchment would get an
    infinite ratio (PySAL ``access`` returns ``inf``): they are **excluded**
    instead, contributing nothing to any :math:`A_i`; their number is logged
    and their labels are stored in ``result.attrs["excluded_suppliers"]``.

    Parameters
    ----------
    cost : pandas.DataFrame
        Long table with columns ``origin``, ``target``, ``dist_m`` (m, finite,
        >= 0), one row per pair in reach (e.g. from
        :func:`qpvgeo.engine.distances_within`). Rows beyond ``catchment_m``
        are ignored.
    demand : pandas.Series
        Population :math:`P_i` (>= 0) indexed by origin. Every origin of
        ``cost`` needs a value; NaN raises (no silent zero).
    supply : pandas.Series
        Supply :math:`S_j` (>= 0) indexed by target. Every target of ``cost``
        needs a value.
    catchment_m : float
        :math:`d_0` (m, finite, > 0); inclusive.
    decay : callable, optional
        ``w(d)`` from :func:`step_decay` or :func:`gaussian_decay`; weights are
        0 beyond the catchment whatever ``w`` says. Default: classic 2SFCA.

    Returns
    -------
    pandas.Series
        Named ``"fca_ratio"`` (supply per unit of demand), indexed like
        ``demand``; 0 for an origin with no supplier in reach. Points off the
        network are not in ``cost`` and also get 0: mask them, as the caller
        knows them.
    """
    check_frame(cost, "cost", geo=False)
    check_series(demand, "demand")
    check_series(supply, "supply")
    _check_cost(cost)
    d0 = check_number(catchment_m, "catchment_m", low=0, low_open=True, unit="metres")
    decay = step_decay() if decay is None else decay
    within = cost.loc[cost["dist_m"].to_numpy(dtype=float) <= d0]
    origins = pd.Index(within["origin"].unique())
    targets = pd.Index(within["target"].unique())
    _check_amounts(demand, origins, "demand", "origin")
    _check_amounts(supply, targets, "supply", "target")
    w = np.asarray(decay(within["dist_m"].to_numpy(dtype=float)), dtype=float)
    if w.shape != (len(within),) or not np.all(np.isfinite(w) & (w >= 0)):
        raise ValidationError(
            "`decay` must map an array of distances to as many finite weights >= 0; "
            "build it with `step_decay` or `gaussian_decay`"
        )
    o_code = origins.get_indexer(within["origin"])
    t_code = targets.get_indexer(within["target"])
    p = pd.to_numeric(demand).reindex(origins).to_numpy(dtype=float)
    s = pd.to_numeric(supply).reindex(targets).to_numpy(dtype=float)
    weighted_demand = np.bincount(t_code, weights=p[o_code] * w, minlength=len(targets))
    served = weighted_demand > 0
    ratio = np.zeros(len(targets))
    ratio[served] = s[served] / weighted_demand[served]
    access = np.bincount(o_code, weights=ratio[t_code] * w, minlength=len(origins))
    result = (
        pd.Series(access, index=origins, name="fca_ratio")
        .reindex(demand.index, fill_value=0.0)
        .astype(float)
    )
    excluded = list(targets[~served])
    if excluded:
        log.info("2SFCA: %d suppliers with no demand in reach excluded", len(excluded))
    result.attrs["excluded_suppliers"] = excluded
    return result
