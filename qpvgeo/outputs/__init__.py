"""What a run writes: tables, GeoPackage and provenance (:mod:`~qpvgeo.outputs.export`),
French labels and number formats (:mod:`~qpvgeo.outputs.labels_fr`), the map kit
(:mod:`~qpvgeo.outputs.mapkit`), the maps (:mod:`~qpvgeo.outputs.maps`), the fiches,
the index page and the slide images. HTML pages are rendered from the Jinja2
templates in ``templates/``; their JavaScript and CSS are in ``static/``.

Needs the ``maps`` extra (folium, matplotlib) except :mod:`~qpvgeo.outputs.export`.
"""
