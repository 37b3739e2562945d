"""Per-QPV values a working group can trust, checked on the data mirror against independent readings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qpvgeo import QpvgeoWarning, pipeline

from ..conftest import SMALL_RUN_CODES


@pytest.fixture(scope="module")
def official(data_dir) -> pd.DataFrame:
    """The SIG Ville key figures, read here with pandas only."""
    df = pd.read_csv(data_dir / "insee/qpv2024_chiffres_cles_sigville_france.csv", dtype=str)
    return df.set_index("code_qp")


@pytest.mark.mirror
def test_a_qpv_reads_the_same_alone_and_with_others(small_run, data_dir):
    code = "QN09140N"  # shares its street network with QN09106M in the small run
    assert code in SMALL_RUN_CODES
    alone = pipeline.run("91", [code], data_dir=data_dir, offline=True).indicators.loc[code]
    together = small_run.indicators.loc[code]
    assert list(alone.index) == list(together.index)
    differ = []
    for col in alone.index:
        if "rank" in col:  # relative to the run by definition
            continue
        a, b = alone[col], together[col]
        if pd.isna(a) or pd.isna(b):
            same = pd.isna(a) and pd.isna(b)
        elif isinstance(a, str) or isinstance(b, str):
            same = a == b
        else:
            same = bool(np.isclose(a, b, rtol=1e-9, atol=1e-9))
        if not same:
            differ.append((col, a, b))
    assert differ == []
    # the network values were computed, so the comparison means something
    assert np.isfinite(together["fca2_pharmacie_per_1000"])
    assert np.isfinite(together["huff_share_nearby_pct"])
    assert np.isfinite(together["betweenness_800m_ratio_qpv"])


@pytest.mark.mirror
def test_official_populations(small_run, official):
    table = small_run.indicators
    expected = pd.to_numeric(official.loc[table.index, "popMuniQPV"])
    assert table["population_qpv"].to_numpy() == pytest.approx(expected.to_numpy())
    assert (table["population_qpv"] >= 1000).all()  # a QPV has at least 1,000 residents by decree
    # the residents' origins carry exactly the official population
    carried = small_run.origins.groupby("code_qp")["population"].sum()
    assert carried.loc[table.index].to_numpy() == pytest.approx(expected.to_numpy())
    poverty = pd.to_numeric(official.loc[table.index, "taux_pauvrete_60%"])
    assert table["poverty_rate_qpv_pct"].to_numpy() == pytest.approx(poverty.to_numpy(), nan_ok=True)
    assert set(table["population_source"]) == {pipeline.load.population.SOURCE_OFFICIAL}


@pytest.mark.mirror
def test_demand_crosses_commune_borders(data_dir):
    with pytest.warns(QpvgeoWarning) as caught:
        ctx = pipeline.load.load_inputs(
            "91", ["QN09140N"], data_dir=data_dir, offline=True, categories=None,
            crowfly_fallback=False,
        )  # fmt: skip
    assert any("no income figure" in str(w.message) for w in caught)
    ctx.networks = pipeline.build_networks(ctx.qpv, ctx.origins, data_dir=data_dir, offline=True)
    (name,) = ctx.network_groups()
    residents = ctx.residents(name, first=["QN09140N"])
    area = ctx.area_origins(name)
    communes = set(area["zone"].dropna())
    # Les Ulis (91692) and its neighbours across the commune border are all in the demand
    assert "91692" in communes and len(communes - {"91692"}) >= 3
    # and the residents of the other QPV of the network (Les Ulis Quartier Ouest) too
    assert (residents["code_qp"] == "QN09106M").any()
    # everyone counted has a known population; those without are counted, not silently zeroed
    assert residents["population"].notna().all()
    # (the other QPV all have an official population, so only origins outside them can lack one)
    assert ctx.unknown_residents[name] == int(area["population"].isna().sum())
