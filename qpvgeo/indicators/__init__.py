"""Indicators: pure functions from arrays, frames and a network to named Series and frames.

:mod:`~qpvgeo.indicators.access` (walking time to the nearest equipment,
opportunities, INSEE *gamme de proximité* coverage), :mod:`~qpvgeo.indicators.fca`
(2SFCA family), :mod:`~qpvgeo.indicators.huff` (Huff model of food shopping),
:mod:`~qpvgeo.indicators.enclavement` (barriers, crossings, street structure,
the two enclavement readings), :mod:`~qpvgeo.indicators.detour` (detour index),
:mod:`~qpvgeo.indicators.flows` (pedestrian flow potential),
:mod:`~qpvgeo.indicators.coupling` (shops and public services together) and
:mod:`~qpvgeo.indicators.viability` (the transparent reading per QPV).
"""

from . import access, coupling, detour, enclavement, fca, flows, huff, viability

__all__ = ["access", "coupling", "detour", "enclavement", "fca", "flows", "huff", "viability"]
