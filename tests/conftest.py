"""Shared fixtures: the data mirror (through QPVGEO_DATA_DIR) and tiny hand-made inputs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pytest
import shapely

from qpvgeo.network import WalkNetwork, compile_network

X0, Y0 = 650_000.0, 6_860_000.0  # somewhere in Essonne, Lambert-93


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The official data mirror. Tests that need it fail (never skip) when it is not set."""
    value = os.environ.get("QPVGEO_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.fail(
            "QPVGEO_DATA_DIR is not set to the data mirror (e.g. ../shared/data); "
            "the README's test command sets it"
        )
    # absolute, so that notebooks (run from notebooks/) and symlinks made in tmp dirs find it
    path = Path(value).resolve()
    os.environ["QPVGEO_DATA_DIR"] = str(path)
    return path


def tiny_graph() -> nx.MultiDiGraph:
    """A T-shaped street network: A(0,0) – B(100,0) – C(200,0), and B – D(100,100).

    Coordinates relative to (X0, Y0), lengths 100 m each.
    """
    G = nx.MultiDiGraph(crs="EPSG:2154")
    for name, (x, y) in {"A": (0, 0), "B": (100, 0), "C": (200, 0), "D": (100, 100)}.items():
        G.add_node(name, x=X0 + x, y=Y0 + y)
    for u, v in [("A", "B"), ("B", "C"), ("B", "D")]:
        G.add_edge(u, v, length=100.0)
        G.add_edge(v, u, length=100.0)
    return G


@pytest.fixture
def tiny_network() -> WalkNetwork:
    return compile_network(tiny_graph(), name="tiny", kind="walk")


def points(coords: list[tuple[float, float]], **columns) -> gpd.GeoDataFrame:
    """Points at coordinates relative to (X0, Y0), in EPSG:2154."""
    geoms = [shapely.Point(X0 + x, Y0 + y) for x, y in coords]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:2154")


#: three QPV, one per network situation: two covered by a network, one without
SMALL_RUN_CODES = ["QN09106M", "QN09140N", "QN09101M"]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def small_run(data_dir):
    """`pipeline.run` on three QPV of the mirror, computed once for the whole session."""
    from qpvgeo import pipeline

    return pipeline.run("91", SMALL_RUN_CODES, data_dir=data_dir, offline=True)


def chromium() -> str:
    """Path of headless Chromium; the browser tests fail (never skip) without it."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None and Path("/usr/bin/chromium").is_file():
        exe = "/usr/bin/chromium"
    if exe is None:
        pytest.fail("headless Chromium is needed for the browser tests: `apt-get install chromium`")
    return exe


#: the mirror's raw OSM extract (Palaiseau, Orsay, Saclay plateau; Overpass base 2026-01-08)
PALAISEAU_OSM = "osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2"
#: the part of it the extract tests cut (lon/lat): the plateau, Le Guichet and the N118
PALAISEAU_CUT_BBOX = (2.160, 48.700, 2.230, 48.725)


@pytest.fixture(scope="session")
def palaiseau_pbf(data_dir, tmp_path_factory) -> Path:
    """An ``.osm.pbf`` cut from the mirror's Palaiseau extract with pyosmium, at test time."""
    from qpvgeo.data.osm_extract import cut_extract

    target = tmp_path_factory.mktemp("osm") / "palaiseau-cut.osm.pbf"
    return cut_extract(data_dir / PALAISEAU_OSM, target, PALAISEAU_CUT_BBOX)
