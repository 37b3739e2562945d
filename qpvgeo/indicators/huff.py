"""Huff model of food shopping: where residents are expected to do their shopping.

Each resident origin splits its shopping between the stores in reach in
proportion to their attractiveness and a power of their walking distance
(Huff, 1963). The model's outputs are estimates, not observed purchases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import ValidationError, plain
from .._validate import check_frame, check_number, check_series

#: attractiveness of food retail shops in the Huff model (relative floor space/offer; documented choice)
HUFF_ATTRACTIVENESS: dict[str, float] = {
    "hypermarche": 10.0,
    "supermarche": 5.0,
    "marche": 3.0,
    "superette": 2.0,
    "epicerie": 1.0,
    "boulangerie": 1.0,
    "boucherie": 1.0,
    "poissonnerie": 1.0,
}


def huff_probabilities(
    cost: pd.DataFrame, attractiveness: pd.Series, *, beta: float = 2.0, min_dist_m: float = 50.0
) -> pd.DataFrame:
    """Huff probabilities that residents at each origin shop at each store in reach.

    .. math:: P_{ij} = \\frac{A_j\\, d_{ij}^{-\\beta}}{\\sum_{k} A_k\\, d_{ik}^{-\\beta}}

    over the stores *k* in reach of origin *i* (the rows of ``cost``), with
    distances floored at ``min_dist_m`` (a store at the door is not infinitely
    attractive). Huff (1963); attractiveness from :data:`HUFF_ATTRACTIVENESS`.

    Parameters
    ----------
    cost : DataFrame
        Long table ``origin``, ``target``, ``dist_m``.
    attractiveness : Series
        :math:`A_j` > 0, indexed by target.

    Returns
    -------
    DataFrame
        ``cost`` with a column ``p`` (probabilities sum to 1 per origin).
    """
    check_frame(cost, "cost", columns=("origin", "target", "dist_m"), geo=False)
    check_series(attractiveness, "attractiveness")
    beta = check_number(beta, "beta", low=0, low_open=True, high=10)  # Huff's β: 1–3 in practice
    min_dist_m = check_number(min_dist_m, "min_dist_m", low=0, low_open=True, high=50_000, unit="metres")
    if not np.isfinite(beta) or beta <= 0:
        raise ValidationError(f"`beta` must be positive, got {plain(beta)!r}")
    a = cost["target"].map(attractiveness).to_numpy(dtype=float)
    if np.isnan(a).any() or (a <= 0).any():
        raise ValidationError(
            "`attractiveness` must give a positive value for every target of `cost`"
        )
    d = cost["dist_m"].to_numpy(dtype=float)
    if not (np.isfinite(d) & (d >= 0)).all():
        raise ValidationError("`cost.dist_m` must hold finite distances ≥ 0 (drop unreachable pairs)")
    d = np.maximum(d, min_dist_m)
    # distances relative to each origin's nearest store: the same probabilities, no underflow
    # to 0/0 for far stores
    nearest = pd.Series(d).groupby(cost["origin"].to_numpy()).transform("min").to_numpy()
    u = a * (d / nearest) ** -beta
    total = pd.Series(u).groupby(cost["origin"].to_numpy()).transform("sum").to_numpy()
    out = cost.copy()
    out["p"] = u / total
    return out


def huff_expected_customers(probabilities: pd.DataFrame, demand: pd.Series) -> pd.Series:
    """Expected residents per store: :math:`E_j = \\sum_i P_i P_{ij}` (named ``huff_expected_residents``)."""
    check_frame(probabilities, "probabilities", columns=("origin", "target", "p"), geo=False)
    check_series(demand, "demand")
    pop = probabilities["origin"].map(demand)
    if pop.isna().any():
        missing = probabilities.loc[pop.isna().to_numpy(), "origin"].unique()
        raise ValidationError(
            f"`demand` has no value for {len(missing)} origins of `probabilities` "
            f"(e.g. {missing[:3].tolist()!r}); give every origin its population"
        )
    pop = pop.to_numpy(dtype=float)
    expected = (
        pd.Series(pop * probabilities["p"].to_numpy())
        .groupby(probabilities["target"].to_numpy())
        .sum()
    )
    return expected.rename("huff_expected_residents")
