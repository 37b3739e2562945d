"""Every public function checks its arguments at the top and lets only qpvgeo errors out (issue 13).

The examples of the issue first (each with the value the function gives on a right input,
computed here with shapely or by hand), then a sweep over every public function of the
sub-packages, called with arguments of the wrong kind.
"""

from __future__ import annotations

import importlib
import inspect
import math
import time
import tracemalloc

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from qpvgeo import _validate, network, settings
from qpvgeo._errors import CRSError, QpvgeoError, UnknownCodeError, ValidationError
from qpvgeo.data import loaders, nomenclature, population
from qpvgeo.indicators import access

from .conftest import X0, Y0, points, tiny_graph


@pytest.fixture
def grid():
    return network.grid_network(6, 100.0, origin=(X0, Y0))  # 500 m × 500 m of streets


def origins_and_shops():
    origins = points([(0, 0), (200, 200)], code_qp=["A", "B"], population=[10.0, 20.0])
    shops = points([(100, 0), (300, 200), (400, 400)], category=["pharmacie", "pharmacie", "boulangerie"])
    return origins, shops


# --------------------------------------------------------------------------- the examples


def test_coverage_share_refuses_degrees_and_gives_one_in_metres(grid):
    square = shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)  # inside the grid's hull
    metres = gpd.GeoSeries([square], crs=2154)
    assert shapely.contains(grid.extent, square)  # independent: the true share is 1
    assert network.coverage_share(grid, metres).tolist() == [1.0]
    with pytest.raises(CRSError, match=r"`polygons` has CRS 'EPSG:4326'; .*\.to_crs\('EPSG:2154'\)"):
        network.coverage_share(grid, metres.to_crs(4326))
    # an empty polygon has no area: NaN, not a division warning or 0
    share = network.coverage_share(grid, gpd.GeoSeries([square, shapely.Polygon()], crs=2154))
    assert share.iloc[0] == 1.0 and math.isnan(share.iloc[1])


def test_misspelt_category_is_refused_with_the_valid_names(grid):
    origins, shops = origins_and_shops()
    with pytest.raises(UnknownCodeError) as err:
        access.opportunities_within(grid, origins, shops, ["pharmacy"])
    message = str(err.value)
    assert message.startswith("unknown category(s) ['pharmacy'] in `categories` ('pharmacy' → 'pharmacie'?)")
    for name in nomenclature.categories().index:
        assert name in message
    with pytest.raises(UnknownCodeError, match=r"\['pharmacy'\]"):
        access.network_time_to_nearest(grid, origins, shops, ["pharmacy"])


def test_one_category_as_a_string_is_one_category(grid):
    origins, shops = origins_and_shops()
    as_list = access.opportunities_within(grid, origins, shops, ["pharmacie"], thresholds_min=(5,))
    as_str = access.opportunities_within(grid, origins, shops, "pharmacie", thresholds_min=(5,))
    pd.testing.assert_frame_equal(as_list, as_str)
    # by hand: 5 min at 4.5 km/h = 375 m; A(0,0) reaches the pharmacy at 100 m, B(200,200) the
    # one at (300,200), 100 m away; A's other is 600 m away, B's 300 m on the grid
    assert as_str["n_pharmacie_within_5min"].tolist() == [1.0, 2.0]


def test_one_qpv_code_as_a_string_is_one_code(data_dir):
    as_list = loaders.load_qpv("91", ["QN09106M"], data_dir=data_dir, offline=True)
    as_str = loaders.load_qpv("91", "qn09106m", data_dir=data_dir, offline=True)
    pd.testing.assert_frame_equal(as_list, as_str)
    assert list(as_str.index) == ["QN09106M"]


@pytest.mark.parametrize(
    ("categories", "message"),
    [([], r"`categories` is empty; give at least one category"),
     (None, r"`categories` must be a list of categorys \(or one category as a string\), got None"),
     ([3], r"`categories` must hold categorys as strings, got \[3\]"),
     (["pharmacie", "pharmacie"], r"names a category twice")],
)  # fmt: skip
def test_empty_or_malformed_categories(grid, categories, message):
    origins, shops = origins_and_shops()
    with pytest.raises(ValidationError, match=message):
        access.opportunities_within(grid, origins, shops, categories)


@pytest.mark.parametrize("value", [float("nan"), -5.0, 0.0, "150", [150]])  # None: the setting
def test_max_snap_m_must_be_a_positive_number(grid, value):
    origins, _ = origins_and_shops()
    with pytest.raises(ValidationError, match=r"`max_snap_m` must be a (finite )?number of metres"):
        network.snap_points(grid, origins, max_snap_m=value)


def test_negative_buffer_is_refused_before_reading(tmp_path):
    """No data directory needed: the argument is checked first."""
    for call in (
        lambda: loaders.load_equipments("91", buffer_m=-5000, data_dir=tmp_path, offline=True),
        lambda: loaders.load_stations("91", buffer_m=-5000, data_dir=tmp_path, offline=True),
    ):
        with pytest.raises(ValidationError, match=r"`buffer_m` must be a number of metres ≥ 0 and ≤ 50000, got -5000"):
            call()


def test_unknown_network_kind(tmp_path):
    with pytest.raises(ValidationError, match=r"`kind` must be one of 'walk', 'drive', got 'bike'"):
        network.compile_network(tiny_graph(), kind="bike")
    with pytest.raises(ValidationError, match=r"`kind` must be one of 'walk', 'drive', got 'bike'"):
        network.load_network(tmp_path / "x.graphml", kind="bike")


def test_a_grid_spacing_in_the_wrong_unit_is_capped_before_allocating():
    zones = gpd.GeoDataFrame(
        {"code_qp": ["A"]}, geometry=[shapely.box(X0, Y0, X0 + 1960, Y0 + 1960)], crs=2154
    ).set_index("code_qp")
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ValidationError) as err:
        population.grid_origins(zones, spacing_m=1e-3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # 1 960 m / 1 mm = 1 960 000 per side: 3.84e12 points
    assert str(err.value) == (
        "`spacing_m` = 0.001 m would lay about 3.84e+12 grid points, more than qpvgeo's cap of "
        "5,000,000 (a spacing in the wrong unit?); give a spacing in metres, e.g. 50"
    )
    assert peak < 50e6 and time.perf_counter() - start < 5
    # at the cap's edge a grid is laid: 1 960 m / 1 m = 1 960² = 3.84 M cells ≤ 5 M
    assert len(population.grid_origins(zones, spacing_m=1.0)) == 1960**2
    assert 1960**2 <= _validate.MAX_GRID_CELLS < (1960 / 0.8) ** 2


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 0, "50", True])
def test_grid_spacing_must_be_positive_metres(value):
    zones = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)], crs=2154)
    with pytest.raises(ValidationError, match=r"`spacing_m` must be a (finite )?number of metres"):
        population.grid_origins(zones, spacing_m=value)


def test_numbers_in_messages_are_plain():
    with pytest.raises(ValidationError) as err:
        _validate.check_number(np.float64(-2.5), "ring_m", low=0, unit="metres")
    assert str(err.value) == "`ring_m` must be a number of metres ≥ 0, got -2.5"


# --------------------------------------------------------------------------- every public function

PUBLIC_MODULES = [
    "qpvgeo.data.barriers", "qpvgeo.data.catalogue", "qpvgeo.data.equipments",
    "qpvgeo.data.loaders", "qpvgeo.data.nomenclature", "qpvgeo.data.population",
    "qpvgeo.data.sources", "qpvgeo.network.build", "qpvgeo.network.centrality",
    "qpvgeo.network.engine", "qpvgeo.network.isochrones", "qpvgeo.indicators.access",
    "qpvgeo.indicators.coupling", "qpvgeo.indicators.detour", "qpvgeo.indicators.enclavement",
    "qpvgeo.indicators.fca", "qpvgeo.indicators.flows", "qpvgeo.indicators.huff",
    "qpvgeo.indicators.viability",
]  # fmt: skip


def public_functions() -> list[tuple[str, object]]:
    """The functions of the sub-packages' modules (their ``__all__``, else every name without a
    leading underscore defined there) and those the pipeline package exports."""
    import qpvgeo.pipeline

    found = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for n in names:
            f = getattr(module, n)
            if inspect.isfunction(f) and f.__module__ == name:
                found.append((f"{name.removeprefix('qpvgeo.')}.{n}", f))
    for n in qpvgeo.pipeline.__all__:
        f = getattr(qpvgeo.pipeline, n)
        if inspect.isfunction(f):
            found.append((f"pipeline.{n}", f))
    return found


def test_the_sweep_sees_the_public_functions():
    names = {n for n, _ in public_functions()}
    assert len(names) >= 70
    for expected in ("network.build.coverage_share", "indicators.access.opportunities_within",
                     "data.population.grid_origins", "pipeline.run", "network.engine.count_within"):
        assert expected in names


WRONG = {
    "None": None,
    "str": "x",
    "nan": float("nan"),
    "negative": -5000,
    "list": [1, 2],
    "empty-frame": gpd.GeoDataFrame(geometry=[], crs=2154),
    "zero": 0,
    "np-nan": np.float64("nan"),
    "np-negative": np.int64(-3),
    "empty-list": [],
    "no-crs": gpd.GeoDataFrame({"population": [1.0], "code_qp": ["A"]}, geometry=[shapely.Point(X0, Y0)]),
    "frame": pd.DataFrame({"origin": [0], "target": [1], "dist_m": [-1.0], "p": [2.0]}),
    "degrees": gpd.GeoDataFrame({"population": [1.0], "code_qp": ["A"], "category": ["pharmacie"]},
                                geometry=[shapely.Point(2.3, 48.6)], crs=4326),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(WRONG))
def test_wrong_arguments_raise_only_qpvgeo_errors(kind, tmp_path, monkeypatch):
    """Each public function, every required argument given the same wrong value: it either
    answers or raises a qpvgeo error, never AttributeError, KeyError, TypeError…"""
    monkeypatch.setattr(settings, "data_dir", str(tmp_path))  # empty: nothing to read
    monkeypatch.setattr(settings, "offline", True)
    value = WRONG[kind]
    foreign = []
    for name, f in public_functions():
        params = inspect.signature(f).parameters.values()
        args = [value for p in params if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
        kwargs = {p.name: value for p in params if p.default is p.empty and p.kind is p.KEYWORD_ONLY}
        try:
            f(*args, **kwargs)
        except QpvgeoError as exc:
            if "np.float64(" in str(exc) or "np.int64(" in str(exc) or "\n" in str(exc):
                foreign.append(f"{name}: message not on one plain line: {exc}"[:200])
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            foreign.append(f"{name}: {type(exc).__name__}: {exc}"[:200])
    assert foreign == []
