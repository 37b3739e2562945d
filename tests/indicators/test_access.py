from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qpvgeo import settings
from qpvgeo._errors import CRSError, ValidationError
from qpvgeo.indicators import access as accessibility

from ..conftest import points

# 4.5 km/h = 75 m/min
SPEED = 75.0


@pytest.fixture
def shops():
    # boulangerie on B–C at 50 m from B; pharmacie on B–D 80 m from B; a far épicerie off the network
    return points(
        [(150, -5), (100, 80), (5000, 5000)], category=["boulangerie", "pharmacie", "epicerie"]
    )


@pytest.fixture
def origins():
    # on A–B 50 m from A; at A; far from any street
    return points(
        [(50, 10), (0, 0), (3000, 3000)], code_qp=["Q1", "Q1", "Q1"], population=[10.0, 30.0, 5.0]
    )


def test_network_time_exact(tiny_network, origins, shops):
    times = accessibility.network_time_to_nearest(
        tiny_network, origins, shops, ["boulangerie", "pharmacie", "epicerie"], walk_speed_kmh=4.5
    )
    assert list(times.columns) == [
        "walk_min_boulangerie",
        "walk_min_pharmacie",
        "walk_min_epicerie",
    ]
    # origin 0: 50 to B, then 50 to the boulangerie; 50 + 80 to the pharmacie
    assert times.iloc[0, 0] == pytest.approx(100 / SPEED)
    assert times.iloc[0, 1] == pytest.approx(130 / SPEED)
    # origin 1 at A: 150 m and 180 m
    assert times.iloc[1, 0] == pytest.approx(150 / SPEED)
    assert times.iloc[1, 1] == pytest.approx(180 / SPEED)
    # the épicerie is off the network: not a destination, so absent (NaN), never 0
    assert times["walk_min_epicerie"].isna().all()
    # an origin off the network gets NaN everywhere
    assert times.iloc[2].isna().all()


def test_walk_speed_setting(tiny_network, origins, shops, monkeypatch):
    monkeypatch.setattr(settings, "walk_speed_kmh", 3.0)
    times = accessibility.network_time_to_nearest(tiny_network, origins, shops, ["boulangerie"])
    assert times.iloc[0, 0] == pytest.approx(100 / 50.0)


def test_crowfly_fallback(origins, shops):
    times = accessibility.crowfly_time_to_nearest(
        origins, shops, ["boulangerie"], detour_factor=1.5
    )
    d = np.hypot(150 - 50, -5 - 10)
    assert times.iloc[0, 0] == pytest.approx(1.5 * d / SPEED)
    with pytest.raises(ValidationError, match="detour_factor"):
        accessibility.crowfly_time_to_nearest(origins, shops, ["boulangerie"], detour_factor=0.5)


def test_weighted_median():
    v = np.array([1.0, 2.0, 3.0, np.nan])
    w = np.array([1.0, 1.0, 5.0, 10.0])
    assert accessibility.weighted_median(v, w) == 3.0
    assert accessibility.weighted_median(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == 1.0
    assert np.isnan(accessibility.weighted_median(np.array([np.nan]), np.array([1.0])))


def test_summarise_by_zone(tiny_network, origins, shops):
    times = accessibility.network_time_to_nearest(
        tiny_network, origins, shops, ["boulangerie", "pharmacie"]
    )
    summary = accessibility.summarise_by_zone(times, origins, thresholds_min=(2,))
    row = summary.loc["Q1"]
    assert row["n_origins"] == 3 and row["n_origins_off_network"] == 1
    assert row["population_est"] == pytest.approx(45.0)
    # boulangerie: 1.33 min (w 10) and 2.0 min (w 30) -> median 2.0, all within 2 min
    assert row["walk_min_median_boulangerie"] == pytest.approx(150 / SPEED)
    assert row["share_within_2min_boulangerie_pct"] == pytest.approx(100.0)
    # pharmacie: 1.73 (w 10) within, 2.4 (w 30) not
    assert row["share_within_2min_pharmacie_pct"] == pytest.approx(25.0)


def test_refuses_wrong_crs(tiny_network, origins, shops):
    with pytest.raises(CRSError, match="origins"):
        accessibility.network_time_to_nearest(
            tiny_network, origins.to_crs(4326), shops, ["boulangerie"]
        )


def test_refuses_missing_category_column(tiny_network, origins, shops):
    with pytest.raises(ValidationError, match="category"):
        accessibility.network_time_to_nearest(
            tiny_network, origins, shops.drop(columns="category"), ["boulangerie"]
        )


def test_summary_without_population_counts_nothing(tiny_network, shops):
    o = points([(50, 10)], code_qp=["Q"], population=[np.nan])
    times = accessibility.network_time_to_nearest(tiny_network, o, shops, ["boulangerie"])
    summary = accessibility.summarise_by_zone(times, o)
    assert np.isnan(summary.loc["Q", "walk_min_median_boulangerie"])
    assert isinstance(summary, pd.DataFrame)


# ----------------------------------------------------------------- more access indicators


def test_opportunities_within_exact(tiny_network, origins, shops):
    # 1 min = 75 m, 2 min = 150 m: from origin 0 the boulangerie is 100 m away, the pharmacie 130 m
    out = accessibility.opportunities_within(
        tiny_network,
        origins,
        shops,
        ["boulangerie", "pharmacie"],
        thresholds_min=(1, 2),
        walk_speed_kmh=4.5,
    )
    assert out.loc[0].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert list(out.columns) == [
        "n_boulangerie_within_1min",
        "n_boulangerie_within_2min",
        "n_pharmacie_within_1min",
        "n_pharmacie_within_2min",
    ]
    # the origin off the network: NaN, not 0
    assert out.loc[2].isna().all()


def test_gamme_coverage_counts_present_groups_only():
    times = pd.DataFrame(
        {"walk_min_boulangerie": [3.0, 12.0, np.nan], "walk_min_epicerie": [20.0, 8.0, np.nan]}
    )
    groups = pd.DataFrame(
        {
            "code_equipement": ["B203", "BR01", "AR03"],
            "libelle_equipement": ["Boulangerie", "Épicerie, supérette", "Bureau de poste"],
            "categories": [("boulangerie",), ("epicerie", "superette"), ("bureau_poste",)],
        }
    )
    share, absent = accessibility.gamme_coverage(times, groups, threshold_min=10)
    assert absent == ["Bureau de poste"]
    assert share.tolist()[:2] == [50.0, 50.0]
    assert np.isnan(share.iloc[2])
    assert share.name == "gamme_proximite_within_10min_pct"
