"""qpvgeo: proximity commerce in France's priority neighbourhoods (QPV), on the walking network.

Modules, in the order data flows through them: :mod:`~qpvgeo.sources` (official sources and the
data directory), :mod:`~qpvgeo.loaders` and :mod:`~qpvgeo.nomenclature` (one schema),
:mod:`~qpvgeo.network` (walking network), :mod:`~qpvgeo.origins`, the indicators
(:mod:`~qpvgeo.accessibility`, :mod:`~qpvgeo.fca`, :mod:`~qpvgeo.isochrones`,
:mod:`~qpvgeo.barriers`, :mod:`~qpvgeo.enclavement`, :mod:`~qpvgeo.flows`,
:mod:`~qpvgeo.centrality`, :mod:`~qpvgeo.coupling`, :mod:`~qpvgeo.viability`), the main job
(:mod:`~qpvgeo.pipeline`), and the outputs (:mod:`~qpvgeo.export`; :mod:`~qpvgeo.maps` and
:mod:`~qpvgeo.workshop` with the ``maps`` extra).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qpvgeo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# the modules are imported after __version__, which export.py reads
from . import (
    accessibility,
    barriers,
    coupling,
    enclavement,
    flows,
    loaders,
    network,
    nomenclature,
    origins,
    pipeline,
    settings,
    sources,
    viability,
)
from ._errors import (
    CRSError,
    DataNotFoundError,
    DownloadError,
    EmptyLayerError,
    MissingColumnError,
    NetworkError,
    QpvgeoError,
    UnknownCodeError,
    ValidationError,
)

__all__ = [
    "CRSError",
    "DataNotFoundError",
    "DownloadError",
    "EmptyLayerError",
    "MissingColumnError",
    "NetworkError",
    "QpvgeoError",
    "UnknownCodeError",
    "ValidationError",
    "accessibility",
    "barriers",
    "coupling",
    "enclavement",
    "flows",
    "loaders",
    "network",
    "nomenclature",
    "origins",
    "pipeline",
    "settings",
    "sources",
    "viability",
]
