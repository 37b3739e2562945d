"""Graphs of the benchmark: the real Palaiseau–Orsay walk network and synthetic grids.

The real network comes from the data directory (``QPVGEO_DATA_DIR``): the raw
OSM extract filtered to walkable ways as osmnx's "walk" network type does.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from qpvgeo.network import WalkNetwork, grid_network, load_network

PALAISEAU_OSM = "osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2"


def _data_dir() -> Path:
    return Path(os.environ.get("QPVGEO_DATA_DIR", "data"))


@functools.cache
def palaiseau(simplify: bool) -> WalkNetwork:
    return load_network(_data_dir() / PALAISEAU_OSM, kind="walk", simplify=simplify)


# name -> builder; grids of about 10k, 40k and 160k nodes
GRAPHS: dict[str, Callable[[], WalkNetwork]] = {
    "palaiseau_walk_simplified": lambda: palaiseau(True),
    "palaiseau_walk_full": lambda: palaiseau(False),
    "grid_10k": lambda: grid_network(100, 80.0),
    "grid_40k": lambda: grid_network(200, 80.0),
    "grid_160k": lambda: grid_network(400, 80.0),
}

#: graph names that build another's graph (for a workload that uses it its own way):
#: pipeline_walk's ``palaiseau_extract`` tiles perimeters over the full Palaiseau network and
#: lets the pipeline cut their networks from the extract itself
ALIASES: dict[str, str] = {"palaiseau_extract": "palaiseau_walk_full"}
