"""A transparent viability reading of proximity commerce, per QPV (and per polarité).

The reading combines components the working group named, each taken from
the indicator table and shown as it is:

===================  =====================================  =========
component            column                                 direction
===================  =====================================  =========
demande              ``population_est``                     higher is better
revenu               ``median_income_eur``                  higher is better
captation            ``huff_share_nearby_pct``              higher is better
offre_proximite      ``gamme_proximite_within_10min_pct``   higher is better
passage              ``flow_p90_trips_qpv``                 higher is better
enclavement          ``enclavement_index``                  lower is better
couplage             ``share_shops_service_5min_pct``       higher is better
===================  =====================================  =========

Each component becomes a score in [0, 1]: its percentile rank among the
QPV that have a value (so scores compare QPV of the same run, not absolute
thresholds; the direction is flipped where lower is better). The reading is
the weighted mean of the scores available for the QPV, with the weights of
:data:`WEIGHTS` (changeable); the components missing for a QPV are listed,
never counted as zero. :func:`sensitivity` tells how much the ranks move when
the weights move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import ValidationError

#: component -> (column, +1 when higher is better, -1 when lower is better, French label)
COMPONENTS: dict[str, tuple[str, int, str]] = {
    "demande": ("population_est", +1, "demande (habitants du quartier)"),
    "revenu": ("median_income_eur", +1, "revenu médian des habitants"),
    "captation": (
        "huff_share_nearby_pct",
        +1,
        "part des achats alimentaires faits près du quartier",
    ),
    "offre_proximite": ("gamme_proximite_within_10min_pct", +1, "offre de proximité à 10 min"),
    "passage": ("flow_p90_trips_qpv", +1, "passage piéton potentiel"),
    "enclavement": ("enclavement_index", -1, "ouverture du quartier (faible enclavement)"),
    "couplage": ("share_shops_service_5min_pct", +1, "couplage commerces – services publics"),
}

#: default weights (documented choice: demand and enclavement, named first by the working group, count double)
WEIGHTS: dict[str, float] = {
    "demande": 2.0,
    "revenu": 1.0,
    "captation": 1.0,
    "offre_proximite": 1.0,
    "passage": 1.0,
    "enclavement": 2.0,
    "couplage": 1.0,
}


def _check_weights(weights: dict[str, float] | None) -> dict[str, float]:
    w = {**WEIGHTS, **(weights or {})}
    unknown = set(w) - set(COMPONENTS)
    if unknown:
        raise ValidationError(
            f"unknown viability components {sorted(unknown)!r}; known: {list(COMPONENTS)}"
        )
    bad = {k: v for k, v in w.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise ValidationError(f"viability weights must be ≥ 0, got {bad!r}")
    if sum(w.values()) == 0:
        raise ValidationError("all viability weights are 0")
    return w


def component_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Score (0–1, percentile rank among the QPV with a value) of each component; NaN where missing."""
    out = pd.DataFrame(index=table.index)
    for name, (col, direction, _) in COMPONENTS.items():
        values = table[col] if col in table.columns else pd.Series(np.nan, index=table.index)
        values = pd.to_numeric(values, errors="coerce") * direction
        n = values.notna().sum()
        out[f"score_{name}"] = (
            (values.rank(method="average") - 1) / (n - 1) if n > 1 else values * 0 + 0.5
        )
    return out


def viability(table: pd.DataFrame, *, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Viability reading per row of ``table``: component scores, weighted score, rank, components used.

    Returns
    -------
    DataFrame
        ``score_<component>`` for each component, ``viability_score`` (0–1),
        ``viability_rank`` (1 = most favourable, among rows with a score),
        ``viability_components`` (used) and ``viability_missing`` (not available),
        ``viability_rank_comparable`` and ``n_comparable``: the rank among the rows
        read on the same components (a fairer comparison when data differ).
    """
    w = _check_weights(weights)
    scores = component_scores(table)
    num = sum(w[c] * scores[f"score_{c}"].fillna(0.0) for c in COMPONENTS)
    den = sum(w[c] * scores[f"score_{c}"].notna() for c in COMPONENTS)
    out = scores.copy()
    out["viability_score"] = (num / den).where(den > 0)
    out["viability_rank"] = out["viability_score"].rank(ascending=False, method="min")
    present = scores.notna()
    out["viability_components"] = [
        ", ".join(c for c in COMPONENTS if present.at[i, f"score_{c}"]) for i in table.index
    ]
    out["viability_missing"] = [
        ", ".join(c for c in COMPONENTS if not present.at[i, f"score_{c}"]) for i in table.index
    ]
    # QPV read on the same components are the fair comparison: rank them among themselves too
    groups = out.groupby("viability_components")["viability_score"]
    out["viability_rank_comparable"] = groups.rank(ascending=False, method="min")
    out["n_comparable"] = groups.transform("count")
    return out


def sensitivity(
    table: pd.DataFrame,
    *,
    weights: dict[str, float] | None = None,
    draws: int = 500,
    spread: float = 0.5,
    seed: int = 2020,
) -> pd.DataFrame:
    """How ranks move when the weights move.

    Each draw multiplies every weight by an independent factor uniform in
    ``[1 - spread, 1 + spread]`` (``numpy.random.default_rng(seed)``); the
    ranks are recomputed. Returns, per row, the 5th and 95th percentile of its
    rank (``rank_p05``, ``rank_p95``) and the mean absolute change of rank
    (``rank_mean_abs_shift``).
    """
    w = _check_weights(weights)
    if draws < 1 or not 0 <= spread < 1:
        raise ValidationError(f"need draws ≥ 1 and 0 ≤ spread < 1, got {draws!r}, {spread!r}")
    base = viability(table, weights=w)["viability_rank"]
    rng = np.random.default_rng(seed)
    ranks = np.empty((draws, len(table)))
    for k in range(draws):
        factors = rng.uniform(1 - spread, 1 + spread, size=len(w))
        ranks[k] = viability(
            table, weights={c: v * f for (c, v), f in zip(w.items(), factors, strict=True)}
        )["viability_rank"].to_numpy()
    return pd.DataFrame(
        {
            "rank_p05": np.nanpercentile(ranks, 5, axis=0) if np.isfinite(ranks).any() else np.nan,
            "rank_p95": np.nanpercentile(ranks, 95, axis=0) if np.isfinite(ranks).any() else np.nan,
            "rank_mean_abs_shift": np.nanmean(np.abs(ranks - base.to_numpy()), axis=0),
        },
        index=table.index,
    )


def _fmt(value: float, col: str) -> str:
    if pd.isna(value):
        return "n.d."
    if col.endswith("_pct"):
        return f"{value:.0f} %".replace(".", ",")
    if col.endswith("_eur"):
        return f"{value:,.0f} €".replace(",", "\u202f")
    if col == "population_est":
        return f"{value:,.0f} habitants".replace(",", "\u202f")
    return f"{value:.2f}".replace(".", ",")


def summary_text(table: pd.DataFrame, reading: pd.DataFrame) -> pd.Series:
    """A short French text per QPV naming its strongest and weakest components in plain words."""
    texts = {}
    n_scored = int(reading["viability_score"].notna().sum())
    for code in table.index:
        row = reading.loc[code]
        scored = {c: row[f"score_{c}"] for c in COMPONENTS if pd.notna(row[f"score_{c}"])}
        name = table.at[code, "lib_qp"] if "lib_qp" in table.columns else code
        if not scored:
            texts[code] = f"{name} : aucune composante n'a pu être évaluée."
            continue
        best = max(scored, key=scored.get)
        worst = min(scored, key=scored.get)
        col_b, _, lab_b = COMPONENTS[best]
        col_w, _, lab_w = COMPONENTS[worst]
        parts = [
            f"{name} : lecture de viabilité {row['viability_score']:.2f}".replace(".", ",")
            + f" (rang {int(row['viability_rank'])} sur {n_scored} QPV"
            + (
                f" ; {int(row['viability_rank_comparable'])} sur {int(row['n_comparable'])} parmi les QPV "
                "évalués sur les mêmes composantes)."
                if row["n_comparable"] < n_scored
                else ")."
            ),
            f"Point fort : {lab_b} ({_fmt(table.at[code, col_b], col_b)}).",
        ]
        if worst != best:
            parts.append(f"Point faible : {lab_w} ({_fmt(table.at[code, col_w], col_w)}).")
        missing = [COMPONENTS[c][2] for c in COMPONENTS if c not in scored]
        if missing:
            parts.append("Non évalué faute de données : " + ", ".join(missing) + ".")
        texts[code] = " ".join(parts)
    return pd.Series(texts, name="viability_text")
