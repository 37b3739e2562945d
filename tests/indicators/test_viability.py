from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qpvgeo._errors import ValidationError
from qpvgeo.indicators import viability


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "lib_qp": ["Nord", "Sud", "Est", "Ouest"],
            "network_status": ["couvert", "absent", "couvert", "partiel"],
            "population_qpv": [7500.0, 1200.0, 4350.0, 9000.0],
            "poverty_rate_qpv_pct": [35.0, np.nan, 45.0, 60.0],
            "enclavement_index": [0.8, np.nan, 0.4, 0.1],
            "share_shops_service_5min_pct": [100.0, np.nan, 50.0, 80.0],
        },
        index=pd.Index(["Q1", "Q2", "Q3", "Q4"], name="code_qp"),
    )


def test_scores_are_on_fixed_scales(table):
    s = viability.component_scores(table)
    # population: 1,200 -> 0, 7,500 -> 1, linear, clipped
    assert s["score_demande"].tolist() == pytest.approx([1.0, 0.0, 0.5, 1.0])
    # poverty rate: 55 % -> 0, 35 % -> 1 (lower is better), clipped
    assert s["score_pouvoir_achat"].tolist()[:1] == [1.0]
    assert s.at["Q3", "score_pouvoir_achat"] == pytest.approx(0.5)
    assert s.at["Q4", "score_pouvoir_achat"] == 0.0 and np.isnan(s.at["Q2", "score_pouvoir_achat"])
    # openness = 1 - network enclavement index, read only where a network covers the QPV
    assert s.at["Q1", "score_ouverture"] == pytest.approx(0.2)
    assert np.isnan(s.at["Q4", "score_ouverture"]) and np.isnan(s.at["Q4", "score_couplage"])
    assert s["score_passage"].isna().all()


def test_a_score_does_not_depend_on_the_other_rows(table):
    alone = viability.viability(table.loc[["Q3"]])
    together = viability.viability(table)
    assert alone.at["Q3", "viability_score"] == together.at["Q3", "viability_score"]


def test_weighted_reading_and_missing_listed(table):
    w = {"demande": 1.0, "pouvoir_achat": 1.0, "ouverture": 1.0, "couplage": 1.0}
    r = viability.viability(table, weights=w)
    # Q1: (1 + 1 + 0.2 + 1) / 4; Q3: (0.5 + 0.5 + 0.6 + 0.5) / 4; Q2: demande only, its score
    # 0.0 but no reading (fewer than MIN_COMPONENTS = 2 components)
    assert r.at["Q1", "viability_score"] == pytest.approx(3.2 / 4)
    assert r.at["Q3", "viability_score"] == pytest.approx(2.1 / 4)
    assert viability.MIN_COMPONENTS == 2
    assert r.at["Q2", "score_demande"] == 0.0 and np.isnan(r.at["Q2", "viability_score"])
    assert r.at["Q2", "viability_components"] == "demande"
    assert "ouverture" in r.at["Q2", "viability_missing"]


def test_ranks_only_among_the_same_components(table):
    r = viability.viability(table)
    assert r.at["Q1", "viability_rank"] == 1 and r.at["Q3", "viability_rank"] == 2
    assert r.at["Q1", "viability_rank_among"] == 2
    # Q2 (demande alone) has no reading, so no rank; Q4 (demande, pouvoir d'achat) is alone
    # with its components
    assert np.isnan(r.at["Q2", "viability_rank"]) and np.isnan(r.at["Q2", "viability_rank_among"])
    assert r.at["Q4", "viability_rank"] == 1 and r.at["Q4", "viability_rank_among"] == 1


def test_weights_change_the_reading(table):
    heavy = viability.viability(table, weights={"demande": 10.0, "ouverture": 0.0})
    light = viability.viability(table, weights={"demande": 0.0, "ouverture": 10.0})
    assert heavy.at["Q1", "viability_score"] > light.at["Q1", "viability_score"]
    with pytest.raises(ValidationError, match="unknown viability components"):
        viability.viability(table, weights={"parking": 1.0})
    with pytest.raises(ValidationError, match="≥ 0"):
        viability.viability(table, weights={"demande": -1.0})


def test_sensitivity_matches_a_loop_over_draws(table):
    a = viability.sensitivity(table, draws=50, seed=1)
    pd.testing.assert_frame_equal(a, viability.sensitivity(table, draws=50, seed=1))
    # the vectorised draws against an independent loop calling viability() once per draw
    rng = np.random.default_rng(1)
    factors = rng.uniform(0.5, 1.5, size=(50, len(viability.WEIGHTS)))
    ranks = np.array(
        [
            viability.viability(
                table,
                weights={
                    c: w * f for (c, w), f in zip(viability.WEIGHTS.items(), row, strict=True)
                },
            )["viability_rank"].to_numpy()
            for row in factors
        ]
    )
    # Q2 has no reading (one component), hence no rank in any draw: NaN on both sides
    assert np.isnan(ranks[:, 1]).all() and np.isnan(a.at["Q2", "rank_p05"])
    assert a["rank_p05"].to_numpy() == pytest.approx(np.percentile(ranks, 5, axis=0), nan_ok=True)
    assert a["rank_p95"].to_numpy() == pytest.approx(np.percentile(ranks, 95, axis=0), nan_ok=True)
    still = viability.sensitivity(table, draws=20, spread=0.0)
    assert (still["rank_mean_abs_shift"].drop("Q2") == 0).all()


def test_text_names_asset_and_brake_in_one_direction(table):
    r = viability.viability(table)
    text = viability.summary_text(table, r)
    assert text["Q3"].startswith("Est : lecture de viabilité")
    assert "Atout : ouverture du quartier" in text["Q3"]
    assert "Frein :" in text["Q3"]
    assert "Non évalué :" in text["Q3"] and "passage" in text["Q3"]
    assert "Atout : taille du marché local (habitants) (7\u202f500 habitants)" in text["Q1"]


def test_text_of_a_qpv_read_on_one_component_says_there_is_no_reading(table):
    r = viability.viability(table)
    text = viability.summary_text(table, r)["Q2"]  # demande only
    assert text.startswith("Sud : pas de lecture de viabilité (1 composante(s) sur 7 ; il en faut")
    assert "Évalué : taille du marché local (habitants)" in text
    assert "nan" not in text and "Atout" not in text and "Non évalué :" in text
