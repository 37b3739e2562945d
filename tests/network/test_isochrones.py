from __future__ import annotations

import numpy as np
import pytest
import shapely

from qpvgeo import network
from qpvgeo._errors import ValidationError
from qpvgeo.network import isochrones

from ..conftest import points


def test_node_distances_exact(tiny_network):
    snapped = network.snap_points(tiny_network, points([(50, 0)]))
    d = isochrones.node_distances(tiny_network, snapped["edge"], snapped["offset_m"])
    by_name = dict(zip(tiny_network.node_ids, d, strict=True))
    assert by_name == pytest.approx({"A": 50.0, "B": 50.0, "C": 150.0, "D": 150.0})


def test_isochrone_follows_streets(tiny_network):
    # from A; 1 min at 4.5 km/h = 75 m: only the first 75 m of A–B
    snapped = network.snap_points(tiny_network, points([(0, 0)]))
    iso = isochrones.isochrones(
        tiny_network, snapped, minutes=(1, 2), walk_speed_kmh=4.5, frontage_m=1.0
    )
    one, two = iso.geometry
    assert iso["reach_m"].tolist() == pytest.approx([75.0, 150.0])
    # 75 m of street × 2 m wide (+ round caps)
    assert one.area == pytest.approx(75 * 2 + np.pi, rel=0.02)
    # 150 m: A–B (100) plus 50 m on B–C and 50 m on B–D
    assert two.area == pytest.approx(200 * 2 + np.pi * 1, rel=0.05)
    from ..conftest import X0, Y0

    assert two.contains(shapely.Point(X0 + 100, Y0 + 45))
    assert not two.contains(shapely.Point(X0 + 100, Y0 + 60))


def test_isochrone_from_mid_edge(tiny_network):
    snapped = network.snap_points(tiny_network, points([(50, 0)]))
    iso = isochrones.isochrones(
        tiny_network, snapped, minutes=(0.4,), walk_speed_kmh=4.5, frontage_m=1.0
    )
    # 30 m each way along A–B
    assert iso.geometry.iloc[0].area == pytest.approx(60 * 2 + np.pi, rel=0.02)


def test_bad_minutes(tiny_network):
    snapped = network.snap_points(tiny_network, points([(0, 0)]))
    with pytest.raises(ValidationError, match="minutes"):
        isochrones.isochrones(tiny_network, snapped, minutes=(0,))
