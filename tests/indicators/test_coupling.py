from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qpvgeo._errors import ValidationError
from qpvgeo.indicators import coupling
from qpvgeo.network import grid_network

from ..conftest import X0, Y0, points


def _pairs_on_line(xs, cutoff):
    rows = [
        (i, j, abs(a - b))
        for i, a in enumerate(xs)
        for j, b in enumerate(xs)
        if i != j and abs(a - b) <= cutoff
    ]
    return pd.DataFrame(rows, columns=["origin", "target", "dist_m"])


def test_clq_exact_small_case():
    # A0 at 0, B1 at 10, C2 at 1000 (far): A's only neighbour within 100 m is the B
    labels = np.array(["A", "B", "C"])
    pairs = _pairs_on_line([0.0, 10.0, 1000.0], 100.0)
    glob, local, local_p = coupling.colocation_quotients(
        labels, pairs, bandwidth_m=100, permutations=99
    )
    # share of B around A = 1; expected N_B/(N-1) = 1/2 -> LCLQ = 2
    assert local[0] == pytest.approx(2.0)
    assert np.isnan(local[1]) and np.isnan(local[2])
    assert glob["clq"] == pytest.approx(2.0)
    assert glob["n_a"] == 1 and glob["n_b"] == 1


def test_clq_detects_colocation_and_is_reproducible():
    rng = np.random.default_rng(0)
    # 30 shops each with a service 20 m away, plus 60 other places scattered far apart
    xs, labels = [], []
    for k in range(30):
        xs += [k * 1000.0, k * 1000.0 + 20.0]
        labels += ["A", "B"]
    for k in range(60):
        xs.append(k * 1000.0 + 500.0 + rng.uniform(-5, 5))
        labels.append("C")
    pairs = _pairs_on_line(xs, 600.0)
    g1, l1, p1 = coupling.colocation_quotients(
        np.array(labels), pairs, bandwidth_m=100, permutations=199, seed=1
    )
    g2, _, _ = coupling.colocation_quotients(
        np.array(labels), pairs, bandwidth_m=100, permutations=199, seed=1
    )
    assert g1 == g2
    assert g1["clq"] > 1.5
    assert g1["p_colocation"] < 0.01
    assert g1["p_isolation"] > 0.5


def test_clq_bad_parameters():
    with pytest.raises(ValidationError, match="permutations"):
        coupling.colocation_quotients(
            np.array(["A", "B"]), _pairs_on_line([0, 1], 5), permutations=0
        )


def test_nearest_service_pairs_and_polarites():
    net = grid_network(5, 100.0, origin=(X0, Y0))
    shops = points([(0, 10), (400, 390)], label_fr=["Boulangerie", "Pharmacie"])
    services = points([(0, 60), (100, 300)], label_fr=["École", "Poste"])
    pairs = coupling.nearest_service_pairs(
        net, shops, services, max_walk_min=15, walk_speed_kmh=4.5
    )
    first = pairs[pairs["shop_id"] == 0].iloc[0]
    assert first["service_label"] == "École"
    assert first["walk_min"] == pytest.approx(50 / 75)
    second = pairs[pairs["shop_id"] == 1].iloc[0]
    # (400, 390) lies on the street x = 400: 90 m down to (400, 300), then 300 m west
    assert second["walk_min"] == pytest.approx(390 / 75)
    places = points(
        [(0, 10), (0, 60), (0, 110), (400, 400)],
        label_fr=["Boulangerie", "École", "Pharmacie", "Poste"],
        is_commerce=[True, False, True, False],
        is_public_service=[False, True, False, True],
    )
    d = coupling.network_distances(net, places, cutoff_m=500)
    member, pols = coupling.polarites(places, d, link_m=60, min_size=3)
    assert member.tolist() == [0, 0, 0, -1]
    assert len(pols) == 1 and pols.iloc[0]["mixte"] and pols.iloc[0]["n_places"] == 3
    assert "Boulangerie (1)" in pols.iloc[0]["composition"]
