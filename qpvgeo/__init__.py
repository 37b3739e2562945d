"""qpvgeo: proximity commerce in France's priority neighbourhoods (QPV), on the walking network.

Data flows one way through five sub-packages:

- :mod:`qpvgeo.data`: official sources and the data directory, loaders (one schema,
  EPSG:2154), the equipment nomenclature, residents' origins, barrier lines;
- :mod:`qpvgeo.network`: the street network, exact shortest-path kernels,
  localised centrality, isochrones;
- :mod:`qpvgeo.indicators`: access, 2SFCA, Huff, enclavement, flows, coupling,
  viability (pure functions);
- :mod:`qpvgeo.pipeline`: the main job, one stage after another;
- :mod:`qpvgeo.outputs`: tables, GeoPackage, provenance, maps, fiches, index, slides.

The module names of qpvgeo 0.1 (``qpvgeo.loaders``, ``qpvgeo.accessibility``,
``qpvgeo.maps``, ``qpvgeo.workshop`` …) stay importable for one release: they are
aliases of their new homes (see :data:`MOVED`).
"""

from __future__ import annotations

import sys
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qpvgeo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# the sub-packages are imported after __version__, which outputs.export reads
from . import data, indicators, network, pipeline, settings  # noqa: E402
from ._errors import (  # noqa: E402
    ChecksumError,
    CRSError,
    DataNotFoundError,
    DownloadError,
    EmptyLayerError,
    MissingColumnError,
    NetworkError,
    QpvgeoError,
    QpvgeoWarning,
    UnknownCodeError,
    ValidationError,
)

#: old module name (qpvgeo 0.1) -> its new home; kept importable for one release
MOVED = {
    "sources": "data.sources",
    "loaders": "data.loaders",
    "nomenclature": "data.nomenclature",
    "origins": "data.population",
    "barriers": "data.barriers",
    "engine": "network.engine",
    "centrality": "network.centrality",
    "isochrones": "network.isochrones",
    "accessibility": "indicators.access",
    "fca": "indicators.fca",
    "enclavement": "indicators.enclavement",
    "flows": "indicators.flows",
    "coupling": "indicators.coupling",
    "viability": "indicators.viability",
    "export": "outputs.export",
}
for _old, _new in MOVED.items():
    globals()[_old] = sys.modules[f"{__name__}.{_old}"] = import_module(f".{_new}", __name__)
del _old, _new

#: old names whose new homes need the ``maps`` extra: imported on first use
MOVED_LAZY = {"maps": "outputs.maps", "workshop": "outputs.workshop"}


def __getattr__(name: str):
    if name in MOVED_LAZY:
        module = import_module(f".{MOVED_LAZY[name]}", __name__)
        globals()[name] = sys.modules[f"{__name__}.{name}"] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ChecksumError",
    "CRSError",
    "DataNotFoundError",
    "DownloadError",
    "EmptyLayerError",
    "MissingColumnError",
    "NetworkError",
    "QpvgeoError",
    "QpvgeoWarning",
    "UnknownCodeError",
    "ValidationError",
    "data",
    "indicators",
    "network",
    "pipeline",
    "settings",
    *MOVED,
]
