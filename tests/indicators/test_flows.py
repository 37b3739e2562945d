from __future__ import annotations

import numpy as np
import pytest

from qpvgeo._errors import ValidationError
from qpvgeo.indicators import flows

from ..conftest import points


def _edge(net, a, b):
    names = list(net.node_ids)
    ia, ib = names.index(a), names.index(b)
    for i, (u, v) in enumerate(zip(net.edge_u, net.edge_v, strict=True)):
        if {u, v} == {ia, ib}:
            return i
    raise AssertionError


def test_flows_on_tiny_network(tiny_network):
    # 10 residents at A, 30 at D; one shop at C
    origins = points([(0, 0), (100, 100)], population=[10.0, 30.0])
    shops = points([(200, 0)])
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops)
    assert trips_to.iloc[0] == pytest.approx(40.0)
    assert edge_flow[_edge(tiny_network, "A", "B")] == pytest.approx(10.0)
    assert edge_flow[_edge(tiny_network, "B", "D")] == pytest.approx(30.0)
    assert edge_flow[_edge(tiny_network, "B", "C")] == pytest.approx(40.0)


def test_trips_split_by_distance_decay(tiny_network):
    origins = points([(100, 0)], population=[100.0])  # at B
    shops = points([(0, 0), (200, 0), (100, 100)])  # A, C, D: all 100 m away
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops, decay_m=400.0)
    assert trips_to.tolist() == pytest.approx([100 / 3] * 3)
    # a nearer shop gets more: move one origin towards A
    origins = points([(0, 0)], population=[90.0])
    _, trips_to = flows.street_flows(tiny_network, origins, shops, decay_m=100.0)
    w = np.exp(-np.array([0.0, 200.0, 200.0]) / 100.0)
    assert trips_to.tolist() == pytest.approx(list(90 * w / w.sum()))


def test_beyond_cutoff_no_trip(tiny_network):
    origins = points([(0, 0)], population=[5.0])
    shops = points([(200, 0)])
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops, cutoff_m=150.0)
    assert trips_to.iloc[0] == 0.0 and edge_flow.sum() == 0.0


def test_footfall_and_candidates(tiny_network):
    origins = points([(0, 0), (100, 100)], population=[10.0, 30.0])
    shops = points([(200, 0)])
    edge_flow, trips_to = flows.street_flows(tiny_network, origins, shops)
    foot = flows.footfall_potential(tiny_network, shops, edge_flow, trips_to)
    assert foot.iloc[0] == pytest.approx(40.0 + 40.0)
    cand = flows.candidate_segments(
        tiny_network, edge_flow, shops, quantile=0.5, no_shop_within_m=50
    )
    # B–C holds the shop; B–D (30 trips) is a candidate; A–B (10) is below the median
    assert len(cand) == 1 and cand["flow_trips"].iloc[0] == pytest.approx(30.0)


def test_bad_parameters(tiny_network):
    o = points([(0, 0)], population=[1.0])
    with pytest.raises(ValidationError, match="decay_m"):
        flows.street_flows(tiny_network, o, points([(200, 0)]), decay_m=0)
    with pytest.raises(ValidationError, match="population"):
        flows.street_flows(tiny_network, o.drop(columns="population"), points([(200, 0)]))
