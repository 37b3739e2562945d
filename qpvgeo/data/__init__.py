"""Where data enters: the catalogue of official sources (:mod:`~qpvgeo.data.catalogue`),
finding, downloading and checking their files in the data directory
(:mod:`~qpvgeo.data.sources`), readers of the official formats into one schema
(:mod:`~qpvgeo.data.loaders`; equipments in :mod:`~qpvgeo.data.equipments`), the equipment
nomenclature
(:mod:`~qpvgeo.data.nomenclature`, with its tables ``categories.csv`` and
``equipment_codes.csv``), residents' origins (:mod:`~qpvgeo.data.population`) and
barrier lines (:mod:`~qpvgeo.data.barriers`).
"""

from . import barriers, catalogue, equipments, loaders, nomenclature, population, sources

__all__ = ["barriers", "catalogue", "equipments", "loaders", "nomenclature", "population", "sources"]
