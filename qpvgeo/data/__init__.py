"""Where data enters: the catalogue of official sources (:mod:`~qpvgeo.data.catalogue`),
finding, downloading and checking their files in the data directory
(:mod:`~qpvgeo.data.sources`), readers of the official formats into one schema
(:mod:`~qpvgeo.data.loaders`; equipments in :mod:`~qpvgeo.data.equipments`), the equipment
nomenclature
(:mod:`~qpvgeo.data.nomenclature`, with its tables ``categories.csv`` and
``equipment_codes.csv``), residents' origins (:mod:`~qpvgeo.data.population`),
barrier lines (:mod:`~qpvgeo.data.barriers`), local OpenStreetMap extracts
(:mod:`~qpvgeo.data.osm_extract`) and study areas that are not QPV
(:mod:`~qpvgeo.data.perimeters`).
"""

from . import (
    barriers,
    catalogue,
    equipments,
    loaders,
    nomenclature,
    osm_extract,
    perimeters,
    population,
    sources,
)

__all__ = [
    "barriers",
    "catalogue",
    "equipments",
    "loaders",
    "nomenclature",
    "osm_extract",
    "perimeters",
    "population",
    "sources",
]
