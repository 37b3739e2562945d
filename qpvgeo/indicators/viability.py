"""A transparent viability reading of proximity commerce, per QPV.

The reading combines components the working group named, each taken from
the indicator table and shown as it is, each put on a **fixed scale** so
that a QPV's score does not depend on which other QPV are in the run:

=================  =====================================  ===========  ===========  ==========
component          column                                 score 0 at   score 1 at   network
=================  =====================================  ===========  ===========  ==========
demande            ``population_qpv``                     1 200 hab.   7 500 hab.   no
pouvoir_achat      ``poverty_rate_qpv_pct``               55 %         35 %         no
captation          ``huff_share_nearby_pct``              0 %          100 %        yes
offre_proximite    ``gamme_proximite_within_10min_pct``   0 %          100 %        yes
passage            ``betweenness_800m_ratio_qpv``         0.5          1.5          yes
ouverture          ``enclavement_index``                  1            0            yes
couplage           ``share_shops_service_5min_pct``       0 %          100 %        yes
=================  =====================================  ===========  ===========  ==========

The anchors are qpvgeo's choices (:data:`COMPONENTS`), with their reasons:
population and poverty rate are scaled between the 10th and 90th percentiles
of the 1,518 QPV 2024 of France (ANCT SIG Ville key figures: population
1,173 and 7,573; poverty rate 35 % and 55 %, rounded), so a score reads as
"where this QPV stands among French QPV"; shares are scaled on their own 0–100
range; the betweenness ratio is 1 when the QPV's streets carry as much
through-movement as those within 1.5 km, and the scale spans half to one and
a half times that; the network enclavement index is already on 0–1. Values
beyond the anchors are clipped to 0 or 1.

The reading is the weighted mean of the scores available for the QPV, with
:data:`WEIGHTS` (changeable); the components missing are listed, never
counted as zero. A QPV whose street network is partial or absent is read on
the components that need no network only. QPV read on different components
are not compared: ``viability_rank`` ranks a QPV among those read on the same
components (``viability_rank_among`` of them). :func:`sensitivity` tells how much
those ranks move when the weights move. A reading needs at least
:data:`MIN_COMPONENTS` components: one component alone is that component, shown
as it is in the profile, not a reading of viability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .._errors import ValidationError, plain
from .._validate import check_frame, check_number

#: component -> (column, value at score 0, value at score 1, needs a street network, French label)
COMPONENTS: dict[str, tuple[str, float, float, bool, str]] = {
    "demande": ("population_qpv", 1200.0, 7500.0, False, "taille du marché local (habitants)"),
    "pouvoir_achat": (
        "poverty_rate_qpv_pct", 55.0, 35.0, False,
        "pouvoir d'achat local (taux de pauvreté du quartier)",
    ),
    "captation": (
        "huff_share_nearby_pct", 0.0, 100.0, True,
        "achats alimentaires estimés près du quartier (modèle de Huff)",
    ),
    "offre_proximite": (
        "gamme_proximite_within_10min_pct", 0.0, 100.0, True,
        "offre de la gamme de proximité à 10 min à pied",
    ),
    "passage": (
        "betweenness_800m_ratio_qpv", 0.5, 1.5, True, "passage dans les rues du quartier",
    ),
    "ouverture": (
        "enclavement_index", 1.0, 0.0, True, "ouverture du quartier sur les rues voisines",
    ),
    "couplage": (
        "share_shops_service_5min_pct", 0.0, 100.0, True,
        "commerces à 5 min d'un service public",
    ),
}  # fmt: skip

#: default weights (qpvgeo's choice: demand and openness, named first by the working group, count double)
WEIGHTS: dict[str, float] = {
    "demande": 2.0,
    "pouvoir_achat": 1.0,
    "captation": 1.0,
    "offre_proximite": 1.0,
    "passage": 1.0,
    "ouverture": 2.0,
    "couplage": 1.0,
}

#: fewest components a reading is made of (qpvgeo's choice): on one component alone (the market
#: size of a QPV without a street network whose poverty rate INSEE does not publish) the
#: « reading » would be that one figure under another name, coloured and ranked as if it
#: were a reading of viability; below this the score is NaN and the component stays shown
MIN_COMPONENTS = 2

#: network statuses whose network components are read (see :mod:`qpvgeo.pipeline.networks`)
FULL_NETWORK = "couvert"


def _check_weights(weights: dict[str, float] | None) -> dict[str, float]:
    w = {**WEIGHTS, **(weights or {})}
    unknown = set(w) - set(COMPONENTS)
    if unknown:
        raise ValidationError(
            f"unknown viability components {sorted(unknown)!r}; known: {list(COMPONENTS)}"
        )
    bad = {k: v for k, v in w.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise ValidationError(f"viability weights must be ≥ 0, got {plain(bad)!r}")
    if sum(w.values()) == 0:
        raise ValidationError("all viability weights are 0")
    return w


def component_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Score (0–1) of each component on its fixed scale (:data:`COMPONENTS`); NaN where not read.

    .. math:: s = \\min\\left(1, \\max\\left(0, \\frac{x - a_0}{a_1 - a_0}\\right)\\right)

    with :math:`a_0`, :math:`a_1` the values at score 0 and 1. Where the table
    has a ``network_status`` column, the network components of a QPV whose
    status is not ``couvert`` are not read (NaN).
    """
    check_frame(table, "table", geo=False)
    out = pd.DataFrame(index=table.index)
    full = (
        table["network_status"] == FULL_NETWORK
        if "network_status" in table.columns
        else pd.Series(True, index=table.index)
    )
    for name, (col, at0, at1, needs_network, _) in COMPONENTS.items():
        values = table[col] if col in table.columns else pd.Series(np.nan, index=table.index)
        score = ((pd.to_numeric(values, errors="coerce") - at0) / (at1 - at0)).clip(0.0, 1.0)
        out[f"score_{name}"] = score.where(full) if needs_network else score
    return out


def _scores(scores: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of the available scores, for one (c,) or several (k, c) weight vectors;
    NaN for a row with fewer than :data:`MIN_COMPONENTS` scores."""
    s = scores.to_numpy(dtype=float)
    known = np.isfinite(s)
    num = np.atleast_2d(weights) @ np.where(known, s, 0.0).T
    den = np.atleast_2d(weights) @ known.T.astype(float)
    enough = known.sum(axis=1) >= MIN_COMPONENTS
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((den > 0) & enough, num / den, np.nan)


def _ranks_within(values: np.ndarray, groups: pd.Series) -> np.ndarray:
    """Rank (1 = highest, ties share the lowest rank) of each column within its group, per row."""
    values = np.atleast_2d(values)
    ranks = np.full(values.shape, np.nan)
    for _, idx in groups.groupby(groups.to_numpy()).indices.items():
        block = values[:, idx]
        ok = np.isfinite(block)
        r = rankdata(np.where(ok, -block, np.inf), method="min", axis=1).astype(float)
        ranks[:, idx] = np.where(ok, r, np.nan)
    return ranks


def viability(table: pd.DataFrame, *, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Viability reading per row of ``table``: component scores, weighted score, comparable rank.

    Returns
    -------
    DataFrame
        ``score_<component>`` for each component, ``viability_score`` (0–1,
        fixed scales), ``viability_components`` (read) and ``viability_missing``
        (not read), ``viability_rank`` (1 = most favourable) among the
        ``viability_rank_among`` rows read on the same components.
    """
    check_frame(table, "table", geo=False)
    w = _check_weights(weights)
    scores = component_scores(table)
    out = scores.copy()
    out["viability_score"] = _scores(scores, np.array([w[c] for c in COMPONENTS]))[0]
    present = scores.notna()
    out["viability_components"] = [
        ", ".join(c for c in COMPONENTS if present.at[i, f"score_{c}"]) for i in table.index
    ]
    out["viability_missing"] = [
        ", ".join(c for c in COMPONENTS if not present.at[i, f"score_{c}"]) for i in table.index
    ]
    groups = out["viability_components"]
    out["viability_rank"] = _ranks_within(out["viability_score"].to_numpy(), groups)[0]
    scored = out["viability_score"].notna()
    out["viability_rank_among"] = scored.groupby(groups).transform("sum").where(scored)
    return out


def sensitivity(
    table: pd.DataFrame,
    *,
    weights: dict[str, float] | None = None,
    draws: int = 500,
    spread: float = 0.5,
    seed: int = 2020,
) -> pd.DataFrame:
    """How the comparable ranks move when the weights move.

    Each draw multiplies every weight by an independent factor uniform in
    ``[1 - spread, 1 + spread]`` (``numpy.random.default_rng(seed)``); the
    ranks among the QPV read on the same components are recomputed (all draws
    at once). Returns, per row, the 5th and 95th percentile of its rank
    (``rank_p05``, ``rank_p95``) and the mean absolute change of rank
    (``rank_mean_abs_shift``).
    """
    check_frame(table, "table", geo=False)
    w = _check_weights(weights)
    draws = check_number(draws, "draws", low=1, high=100_000, integer=True)  # a qpvgeo limit
    spread = check_number(spread, "spread")
    seed = check_number(seed, "seed", low=0, integer=True)
    if draws < 1 or not 0 <= spread < 1:
        raise ValidationError(f"need draws ≥ 1 and 0 ≤ spread < 1, got {plain(draws)!r}, {plain(spread)!r}")
    reading = viability(table, weights=w)
    scores = reading[[f"score_{c}" for c in COMPONENTS]]
    base_w = np.array([w[c] for c in COMPONENTS])
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, size=(draws, len(w)))
    ranks = _ranks_within(_scores(scores, factors * base_w), reading["viability_components"])
    base = reading["viability_rank"].to_numpy()
    has = np.isfinite(ranks).any(axis=0)
    safe = np.where(has, ranks, 0.0)  # columns without a rank are set to NaN below
    out = pd.DataFrame(
        {
            "rank_p05": np.percentile(safe, 5, axis=0),
            "rank_p95": np.percentile(safe, 95, axis=0),
            "rank_mean_abs_shift": np.abs(safe - np.nan_to_num(base)).mean(axis=0),
        },
        index=table.index,
    )
    out.loc[~has, :] = np.nan
    return out


def _fmt(value: float, col: str) -> str:
    if pd.isna(value):
        return "n.d."
    if col.endswith("_pct"):
        return f"{value:.0f} %".replace(".", ",")
    if col.startswith("population"):
        return f"{value:,.0f} habitants".replace(",", "\u202f")
    return f"{value:.2f}".replace(".", ",")


def summary_text(table: pd.DataFrame, reading: pd.DataFrame) -> pd.Series:
    """A short French text per QPV naming its main asset and its main brake, in plain words.

    An asset is the component with the highest score, a brake the one with the
    lowest: the same direction for every component (higher score = more
    favourable to proximity commerce).
    """
    check_frame(table, "table", geo=False)
    check_frame(reading, "reading", columns=("viability_score", *(f"score_{c}" for c in COMPONENTS)), geo=False)
    if not table.index.isin(reading.index).all():
        raise ValidationError("`reading` must have a row for each QPV of `table` (from `viability(table)`)")
    texts = {}
    for code in table.index:
        row = reading.loc[code]
        scored = {c: row[f"score_{c}"] for c in COMPONENTS if pd.notna(row[f"score_{c}"])}
        name = table.at[code, "lib_qp"] if "lib_qp" in table.columns else code
        if not scored:
            texts[code] = f"{name} : aucune composante n'a pu être évaluée."
            continue
        missing = [COMPONENTS[c][-1] for c in COMPONENTS if c not in scored]
        not_read = ("Non évalué : " + ", ".join(missing) + ".") if missing else ""
        if pd.isna(row["viability_score"]):  # too few components for a reading
            only = ", ".join(
                f"{COMPONENTS[c][-1]} ({_fmt(table.at[code, COMPONENTS[c][0]], COMPONENTS[c][0])})"
                for c in scored
            )
            texts[code] = (
                f"{name} : pas de lecture de viabilité ({len(scored)} composante(s) sur "
                f"{len(COMPONENTS)} ; il en faut au moins {MIN_COMPONENTS}). Évalué : {only}. "
                + not_read
            ).strip()
            continue
        best = max(scored, key=scored.get)
        worst = min(scored, key=scored.get)
        col_b, *_, lab_b = COMPONENTS[best]
        col_w, *_, lab_w = COMPONENTS[worst]
        parts = [
            f"{name} : lecture de viabilité {row['viability_score']:.2f} sur 1".replace(".", ",")
            + f" ({len(scored)} composante{'s' if len(scored) > 1 else ''} sur {len(COMPONENTS)},"
            " échelles fixes).",
            f"Atout : {lab_b} ({_fmt(table.at[code, col_b], col_b)}).",
        ]
        if worst != best:
            parts.append(f"Frein : {lab_w} ({_fmt(table.at[code, col_w], col_w)}).")
        if not_read:
            parts.append(not_read)
        texts[code] = " ".join(parts)
    return pd.Series(texts, name="viability_text")
