"""Interactive maps (Leaflet, through folium) of the per-QPV indicators, one module per map.

The maps are read by urban planners and workshop presenters who do not use
Python: every label, legend, tooltip and layer name is in French
(:mod:`qpvgeo.outputs.labels_fr`).

- :func:`overview_map` (:mod:`.overview`): the QPV coloured by one indicator;
- :func:`access_map` (:mod:`.access`): supply per resident, walking time, isochrones;
- :func:`enclavement_map` (:mod:`.enclavement`): barriers, crossings, detours, flows;
- :func:`coupling_map` (:mod:`.coupling`): shops and public services, together or apart;
- :func:`viability_map` (:mod:`.viability`): the viability reading.

A builder returns the map (no file is written); :func:`save_map` writes it
atomically as one HTML page. By default that page is *self-contained*: the
Leaflet library is copied into it (from the ``xstatic-leaflet`` package), so
that the perimeters, markers, legend and layer control display without
internet access (only the background tiles need it) — workshop rooms often
have no reliable network. :func:`export_maps` writes the indicator maps of a
run (:data:`MAPS`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import folium

from ...indicators.fca import FCA_CATEGORIES
from ..labels_fr import (
    BARRIER_LABELS,
    attribution,
    category_label,
    indicator_category,
    indicator_label,
)
from ..mapkit import (
    BARRIER_STYLES,
    CATEGORY_COLOURS,
    DISPLAY_TOLERANCE_M,
    ISOCHRONE_COLOURS,
    NO_VALUE_STYLE,
    category_colours,
    save_map,
)
from .access import ACCESS_CATEGORIES, access_map
from .besoins import add_besoins_layer
from .context import decorate
from .coupling import coupling_map
from .enclavement import CANDIDATE_COLOUR, DETOUR_COLOUR, TYPE_COLOURS, enclavement_map
from .overview import (
    EQUIPMENT_RADIUS_M,
    SHOW_EQUIPMENTS_MAX_QPV,
    indicator_colormap,
    overview_map,
)
from .viability import viability_map


def _build_overview(result) -> folium.Map:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        m = overview_map(result.qpv, result.indicators, result.equipments)
    if getattr(result, "besoins", None) is not None:  # what residents said, where they pinned it
        add_besoins_layer(m, result.besoins)
    return m


def _build_access(result, *, category: str = "pharmacie") -> folium.Map:
    return access_map(
        result.qpv, result.indicators, result.equipments, result.isochrones, category=category
    )


def _build_enclavement(result) -> folium.Map:
    return enclavement_map(
        result.qpv, result.indicators, result.barriers, result.streets, result.candidates,
        result.crossings, result.detours, result.equipments,
    )  # fmt: skip


#: the maps of a run: file (relative to the output folder) → builder taking a ``RunResult``
MAPS = {
    "maps/qpv_overview.html": _build_overview,
    "maps/qpv_acces.html": _build_access,
    "maps/qpv_enclavement.html": _build_enclavement,
}


def export_maps(result, out_dir: str | os.PathLike) -> list[Path]:
    """Build and save (with :func:`save_map`) every map of :data:`MAPS` under ``out_dir``.

    Parameters
    ----------
    result : qpvgeo.pipeline.RunResult
        The run to map.
    out_dir : str or path-like
        Output folder; the maps go to ``out_dir/maps/``.

    Returns
    -------
    list of Path
        The pages written, in the order of :data:`MAPS`.
    """
    out = Path(out_dir)
    return [save_map(decorate(build(result), result), out / name) for name, build in MAPS.items()]


__all__ = [
    "MAPS",
    "access_map",
    "add_besoins_layer",
    "coupling_map",
    "decorate",
    "enclavement_map",
    "export_maps",
    "overview_map",
    "save_map",
    "viability_map",
    # labels, colours and constants, importable from here as in qpvgeo 0.1
    "ACCESS_CATEGORIES",
    "BARRIER_LABELS",
    "BARRIER_STYLES",
    "CANDIDATE_COLOUR",
    "CATEGORY_COLOURS",
    "DETOUR_COLOUR",
    "DISPLAY_TOLERANCE_M",
    "EQUIPMENT_RADIUS_M",
    "FCA_CATEGORIES",
    "ISOCHRONE_COLOURS",
    "NO_VALUE_STYLE",
    "SHOW_EQUIPMENTS_MAX_QPV",
    "TYPE_COLOURS",
    "attribution",
    "category_colours",
    "category_label",
    "indicator_category",
    "indicator_colormap",
    "indicator_label",
]
