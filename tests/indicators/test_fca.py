"""Tests of qpvgeo.indicators.fca: the 2SFCA family on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qpvgeo._errors import MissingColumnError, ValidationError
from qpvgeo.indicators.fca import gaussian_decay, step_decay, two_step_fca

# two origins (a: 100 people, b: 50), two suppliers (s1: 10, s2: 5)
COST = pd.DataFrame(
    {
        "origin": ["a", "a", "b", "b"],
        "target": ["s1", "s2", "s1", "s2"],
        "dist_m": [200.0, 900.0, 600.0, 300.0],
    }
)
DEMAND = pd.Series({"a": 100.0, "b": 50.0})
SUPPLY = pd.Series({"s1": 10.0, "s2": 5.0})


def test_classic_2sfca_hand_values() -> None:
    # catchment 700 m: a-s2 (900 m) is out.
    # R1 = 10 / (100 + 50) = 1/15 ; R2 = 5 / 50 = 0.1
    # A_a = R1 = 1/15 ; A_b = R1 + R2 = 1/15 + 1/10 = 1/6
    res = two_step_fca(COST, DEMAND, SUPPLY, catchment_m=700.0)
    assert res.name == "fca_ratio"
    assert list(res.index) == ["a", "b"]
    assert res["a"] == pytest.approx(1 / 15, rel=1e-12)
    assert res["b"] == pytest.approx(1 / 6, rel=1e-12)
    assert res.attrs["excluded_suppliers"] == []


def test_catchment_is_inclusive() -> None:
    res = two_step_fca(COST, DEMAND, SUPPLY, catchment_m=900.0)
    # R1 = 10/150, R2 = 5/150 ; A_a = A_b = 15/150
    assert res["a"] == pytest.approx(0.1, rel=1e-12)
    assert res["b"] == pytest.approx(0.1, rel=1e-12)


def test_gaussian_2sfca_hand_values() -> None:
    beta = 500.0
    res = two_step_fca(COST, DEMAND, SUPPLY, catchment_m=700.0, decay=gaussian_decay(beta))
    w = {d: math.exp(-0.5 * (d / beta) ** 2) for d in (200.0, 600.0, 300.0)}
    r1 = 10.0 / (100.0 * w[200.0] + 50.0 * w[600.0])
    r2 = 5.0 / (50.0 * w[300.0])
    assert res["a"] == pytest.approx(r1 * w[200.0], rel=1e-12)
    assert res["b"] == pytest.approx(r1 * w[600.0] + r2 * w[300.0], rel=1e-12)


def test_e2sfca_stepwise_hand_values() -> None:
    decay = step_decay([250.0, 500.0], [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(
        decay(np.array([0.0, 250.0, 251.0, 500.0, 700.0])), [1.0, 1.0, 0.5, 0.5, 0.25]
    )
    res = two_step_fca(COST, DEMAND, SUPPLY, catchment_m=700.0, decay=decay)
    # w(a,s1)=1, w(b,s1)=0.25, w(b,s2)=0.5
    r1 = 10.0 / (100.0 * 1.0 + 50.0 * 0.25)
    r2 = 5.0 / (50.0 * 0.5)
    assert res["a"] == pytest.approx(r1, rel=1e-12)
    assert res["b"] == pytest.approx(0.25 * r1 + 0.5 * r2, rel=1e-12)


@pytest.mark.parametrize("decay", [None, gaussian_decay(400.0), step_decay([300.0], [1, 0.3])])
def test_supply_is_conserved(decay) -> None:
    rng = np.random.default_rng(3)
    n_o, n_t = 40, 7
    cost = pd.DataFrame(
        {
            "origin": np.repeat(np.arange(n_o), n_t),
            "target": np.tile(np.arange(n_t), n_o),
            "dist_m": rng.uniform(0, 1000, n_o * n_t),
        }
    )
    demand = pd.Series(rng.uniform(1, 100, n_o))
    supply = pd.Series(rng.uniform(1, 20, n_t))
    res = two_step_fca(cost, demand, supply, catchment_m=800.0, decay=decay)
    assert res.attrs["excluded_suppliers"] == []
    assert (demand * res).sum() == pytest.approx(supply.sum(), rel=1e-10)


def test_supplier_without_demand_is_excluded_and_origin_without_supply_is_zero() -> None:
    cost = pd.DataFrame(
        {"origin": ["a", "c"], "target": ["s1", "s3"], "dist_m": [100.0, 100.0]}
    )
    demand = pd.Series({"a": 10.0, "b": 5.0, "c": 0.0})
    supply = pd.Series({"s1": 2.0, "s3": 4.0})
    res = two_step_fca(cost, demand, supply, catchment_m=500.0)
    assert res.attrs["excluded_suppliers"] == ["s3"]
    assert res["a"] == pytest.approx(0.2)
    assert res["b"] == 0.0  # nothing in reach
    assert res["c"] == 0.0  # its only supplier has no demand: excluded, not inf
    assert np.isfinite(res).all()


def test_nan_demand_names_how_many() -> None:
    demand = pd.Series({"a": np.nan, "b": 50.0})
    with pytest.raises(ValidationError, match=r"`demand` lacks a value .* for 1 of the 2"):
        two_step_fca(COST, demand, SUPPLY, catchment_m=700.0)
    with pytest.raises(ValidationError, match=r"`demand` lacks a value .* for 1 of the 2"):
        two_step_fca(COST, DEMAND.drop("b"), SUPPLY, catchment_m=700.0)


def test_bad_inputs() -> None:
    with pytest.raises(ValidationError, match="`catchment_m`"):
        two_step_fca(COST, DEMAND, SUPPLY, catchment_m=0.0)
    with pytest.raises(ValidationError, match="`catchment_m`"):
        two_step_fca(COST, DEMAND, SUPPLY, catchment_m=float("nan"))
    with pytest.raises(MissingColumnError, match="dist_m"):
        two_step_fca(COST.drop(columns="dist_m"), DEMAND, SUPPLY, catchment_m=700.0)
    with pytest.raises(ValidationError, match="`supply` lacks"):
        two_step_fca(COST, DEMAND, SUPPLY.drop("s1"), catchment_m=700.0)
    with pytest.raises(ValidationError, match="negative"):
        two_step_fca(COST, DEMAND * -1, SUPPLY, catchment_m=700.0)
    bad = COST.assign(dist_m=[200.0, np.nan, 600.0, 300.0])
    with pytest.raises(ValidationError, match="`cost.dist_m`"):
        two_step_fca(bad, DEMAND, SUPPLY, catchment_m=700.0)
    with pytest.raises(ValidationError, match="`bandwidth_m`"):
        gaussian_decay(-1.0)
    with pytest.raises(ValidationError, match="one more value"):
        step_decay([100.0], [1.0])


@pytest.mark.parametrize(
    ("call", "shown"),
    [
        (lambda: gaussian_decay(np.float64(-1.0)), "got -1.0"),
        (lambda: step_decay(np.array([800.0, 400.0]), np.array([1.0, 0.5, 0.0])), "[800.0, 400.0]"),
        (lambda: two_step_fca(COST, pd.Series({"a": 1.0}), pd.Series({"s1": 1.0}),
                              catchment_m=np.float64(0.0)), "got 0.0"),
    ],
)  # fmt: skip
def test_messages_show_numpy_values_as_plain_numbers(call, shown):
    with pytest.raises(ValidationError) as info:
        call()
    assert shown in str(info.value) and "np." not in str(info.value)
