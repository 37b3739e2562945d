"""Residents' origins: official QPV populations placed by IRIS density, residents outside the QPV."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from qpvgeo import QpvgeoWarning
from qpvgeo.data import population

from ..conftest import X0, Y0


def _box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def iris():
    # two IRIS side by side, 200 m × 200 m each: 400 residents in the west, 100 in the east
    return gpd.GeoDataFrame(
        {"population": [400.0, 100.0]},
        geometry=[_box(0, 0, 200, 200), _box(200, 0, 400, 200)],
        index=pd.Index(["W", "E"], name="code_iris"),
        crs="EPSG:2154",
    )


@pytest.fixture
def qpv():
    # a QPV straddling both IRIS: 100 m × 100 m in each
    return gpd.GeoDataFrame(
        {"lib_qp": ["Q"]},
        geometry=[_box(100, 50, 300, 150)],
        index=pd.Index(["QN00001A"], name="code_qp"),
        crs="EPSG:2154",
    )


def test_official_population_placed_by_iris_density(qpv, iris):
    origins, source = population.qpv_origins(qpv, iris, pd.Series({"QN00001A": 250.0}), spacing_m=50)
    assert origins["population"].sum() == pytest.approx(250.0)
    by_iris = origins.groupby("code_iris")["population"].sum()
    # equal areas in each IRIS, densities 400 and 100 per 4 ha: 4/5 and 1/5 of the residents
    assert by_iris["W"] == pytest.approx(200.0) and by_iris["E"] == pytest.approx(50.0)
    assert source["QN00001A"] == population.SOURCE_OFFICIAL


def test_missing_official_figure_keeps_the_iris_estimate(qpv, iris):
    origins, source = population.qpv_origins(qpv, iris, pd.Series({"QN00001A": np.nan}), spacing_m=50)
    # areal interpolation: a quarter of each IRIS lies in the QPV
    assert origins["population"].sum() == pytest.approx(0.25 * 400 + 0.25 * 100)
    assert source["QN00001A"] == population.SOURCE_IRIS


def test_residents_outside_every_qpv(qpv, iris):
    origins, _ = population.qpv_origins(qpv, iris, pd.Series({"QN00001A": 250.0}), spacing_m=50)
    outside = population.outside_qpv_iris(iris, qpv, origins)
    assert outside["population"].to_dict() == pytest.approx({"W": 200.0, "E": 50.0})
    # the geometry left is the IRIS minus the QPV: 4 ha - 1 ha each
    assert outside.area.to_numpy() == pytest.approx([30_000.0, 30_000.0])


def test_more_qpv_residents_than_the_iris_holds_is_reported(qpv, iris):
    origins, _ = population.qpv_origins(qpv, iris, pd.Series({"QN00001A": 1000.0}), spacing_m=50)
    with pytest.warns(QpvgeoWarning, match="2 IRIS hold fewer residents"):
        outside = population.outside_qpv_iris(iris, qpv, origins)
    assert (outside["population"] == 0).all()
