from __future__ import annotations

import pandas as pd
import pytest

from qpvgeo._errors import ValidationError
from qpvgeo.indicators import huff


def test_huff_probabilities_and_expected_customers():
    cost = pd.DataFrame({"origin": [0, 0, 1], "target": [0, 1, 1], "dist_m": [100.0, 200.0, 10.0]})
    attract = pd.Series({0: 1.0, 1: 8.0})
    p = huff.huff_probabilities(cost, attract, beta=2.0, min_dist_m=50.0)
    # origin 0: 1/100² vs 8/200² = 1e-4 vs 2e-4
    assert p["p"].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    expected = huff.huff_expected_customers(p, pd.Series({0: 30.0, 1: 5.0}))
    assert expected.to_dict() == pytest.approx({0: 10.0, 1: 25.0})
    assert expected.sum() == pytest.approx(35.0)
    with pytest.raises(ValidationError, match="attractiveness"):
        huff.huff_probabilities(cost, pd.Series({0: 1.0}))
