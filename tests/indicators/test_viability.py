from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qpvgeo.indicators import viability
from qpvgeo._errors import ValidationError


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "lib_qp": ["Nord", "Sud", "Est"],
            "population_est": [3000.0, 1000.0, 2000.0],
            "median_income_eur": [14000.0, np.nan, 18000.0],
            "enclavement_index": [0.8, 0.1, 0.4],
        },
        index=pd.Index(["Q1", "Q2", "Q3"], name="code_qp"),
    )


def test_scores_are_percentile_ranks(table):
    s = viability.component_scores(table)
    assert s["score_demande"].tolist() == [1.0, 0.0, 0.5]
    # lower enclavement is better
    assert s["score_enclavement"].tolist() == [0.0, 1.0, 0.5]
    assert s["score_revenu"].tolist()[0] == 0.0 and np.isnan(s["score_revenu"].iloc[1])
    assert s["score_passage"].isna().all()


def test_weighted_reading_and_missing_listed(table):
    r = viability.viability(table, weights={"demande": 1.0, "enclavement": 1.0, "revenu": 1.0})
    # Q1: (1 + 0 + 0) / 3; Q2: (0 + 1) / 2; Q3: (0.5 + 0.5 + 1) / 3
    assert r["viability_score"].tolist() == pytest.approx([1 / 3, 0.5, 2 / 3])
    assert r["viability_rank"].tolist() == [3, 2, 1]
    assert r.at["Q2", "viability_components"] == "demande, enclavement"
    assert "revenu" in r.at["Q2", "viability_missing"]


def test_weights_change_the_reading(table):
    heavy = viability.viability(table, weights={"demande": 10.0, "enclavement": 1.0, "revenu": 0.0})
    assert heavy["viability_rank"].tolist()[0] == 1
    with pytest.raises(ValidationError, match="unknown viability components"):
        viability.viability(table, weights={"parking": 1.0})
    with pytest.raises(ValidationError, match="≥ 0"):
        viability.viability(table, weights={"demande": -1.0})


def test_sensitivity_reproducible(table):
    a = viability.sensitivity(table, draws=50, seed=1)
    b = viability.sensitivity(table, draws=50, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert (a["rank_p05"] <= a["rank_p95"]).all()
    assert (a["rank_mean_abs_shift"] >= 0).all()
    still = viability.sensitivity(table, draws=20, spread=0.0)
    assert (still["rank_mean_abs_shift"] == 0).all()


def test_text_names_strongest_and_weakest(table):
    r = viability.viability(table)
    text = viability.summary_text(table, r)
    assert text["Q1"].startswith("Nord : lecture de viabilité")
    assert "Point fort : demande (habitants du quartier) (3\u202f000 habitants)" in text["Q1"]
    assert "Point faible :" in text["Q1"]
    assert "Non évalué faute de données" in text["Q1"]


def test_comparable_rank(table):
    r = viability.viability(table)
    # Q2 lacks income: it is alone in its group
    assert r.at["Q2", "viability_rank_comparable"] == 1 and r.at["Q2", "n_comparable"] == 1
    assert set(r.loc[["Q1", "Q3"], "viability_rank_comparable"]) == {1, 2}
    text = viability.summary_text(table, r)
    assert "parmi les QPV évalués sur les mêmes composantes" in text["Q2"]
