"""qpvgeo: proximity commerce in France's priority neighbourhoods (QPV), on the walking network."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qpvgeo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
