"""The answers of residents on a map: :func:`add_besoins_layer` (one layer per answer type).

Added to the overview map (``maps/qpv_overview.html``) when the run holds answers
(``RunResult.besoins``, :mod:`qpvgeo.pipeline.besoins`); only answers with a point are drawn
(those that name only a QPV are in the fiche and the tables).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from ...data import besoins as data
from .. import mapkit as mk
from ..habitants import TYPE_COLOURS


def besoins_points(answers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The answers with a point, with French tooltip fields, in WGS84."""
    pts = answers[answers.geometry.notna() & ~answers.geometry.is_empty]
    what = pts["category_label_fr"].where(pts["category_label_fr"] != "", pts["frein"])
    props = pd.DataFrame(
        {
            "type": pts["type"].map(data.TYPE_LABELS).fillna(pts["type"]).map(mk.esc),
            "quoi": what.fillna("").map(mk.esc),
            "commentaire": pts["commentaire"].fillna("").map(mk.esc),
            "qpv": pts["code_qp_lu"].fillna("") if "code_qp_lu" in pts else pts["code_qp"],
            "nombre": pts["nombre"].astype(int),
            "source": (pts["source"] + " " + pts["date"]).str.strip().map(mk.esc),
            "_type": pts["type"],
        },
        index=pts.index,
    )
    return mk.to_wgs84(gpd.GeoDataFrame(props, geometry=pts.geometry.values, crs=answers.crs))


def add_besoins_layer(m: folium.Map, reading, *, show: bool = True) -> list[str]:
    """Add the answers of ``reading`` (a :class:`~qpvgeo.pipeline.besoins.BesoinsReading`) to
    ``m``: one layer « Habitants : besoin / frein / lieu évité (n) » per type with points.

    Returns the names of the layers added (none when no answer has a point).
    """
    pts = besoins_points(reading.answers)
    names = []
    for kind, colour in TYPE_COLOURS.items():
        sub = pts[pts["_type"] == kind].drop(columns="_type")
        if not len(sub):
            continue
        name = f"Habitants : {data.TYPE_LABELS[kind].lower()} ({len(sub)})"
        group = folium.FeatureGroup(name=name, show=show)
        folium.GeoJson(
            sub.to_json(drop_id=True),
            marker=folium.CircleMarker(
                radius=6, color="#ffffff", weight=1.5, fill=True, fill_color=colour, fill_opacity=0.95
            ),
            tooltip=folium.GeoJsonTooltip(
                fields=["type", "quoi", "commentaire", "qpv", "nombre", "source"],
                aliases=["Type", "Quoi", "Commentaire", "QPV", "Personnes", "Source"],
                sticky=True,
            ),
            control=False,
        ).add_to(group)
        group.add_to(m)
        names.append(name)
    return names
