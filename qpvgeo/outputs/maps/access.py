"""The access map: supply per resident, walking time and isochrones of each QPV for one category."""

from __future__ import annotations

import math
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..._errors import MissingColumnError
from ...data import nomenclature
from ...indicators.fca import FCA_CATEGORIES
from .. import mapkit as mk
from ..labels_fr import (
    DRIVE_NOTE_MAPS,
    NOT_COMPUTED,
    attribution,
    category_label,
    class_labels,
    fr_number,
    fr_value,
    method_notes,
)
from .overview import (
    SHARE_COLOURS,
    colormap_legend,
    equipment_layers,
    few_qpv,
    indicator_colormap,
    qpv_table,
)

#: everyday categories drawn on the access map (one layer each) besides the mapped one
ACCESS_CATEGORIES = (
    "pharmacie", "medecin_generaliste", "boulangerie", "supermarche", "superette", "epicerie",
)  # fmt: skip

_ACCESS_FIELDS = {
    "code": "Code",
    "quartier": "Quartier",
    "commune": "Commune",
    "temps": "Temps de marche médian",
    "reste": "Reste de la commune (temps médian)",
    "part10": "Habitants à moins de 10 min",
    "n10": "Équipements à moins de 10 min",
    "g2sfca": "Offre pour 1 000 habitants (2SFCA à noyau gaussien)",
    "fca2": "Offre pour 1 000 habitants (2SFCA)",
    "gamme": "Gamme de proximité INSEE couverte à 10 min",
    "huff": "Courses alimentaires faites à moins de 300 m (modèle de Huff)",
    "reseau": "Réseau de rues",
    "methode": "Méthode",
}
#: the QPV without a value, lighter than on the overview map (isochrones show through)
_NO_VALUE = {**mk.NO_VALUE_STYLE, "fillOpacity": 0.35}


def access_map(
    qpv: gpd.GeoDataFrame,
    indicators: pd.DataFrame,
    equipments: gpd.GeoDataFrame,
    isochrones: gpd.GeoDataFrame,
    *,
    category: str = "pharmacie",
    focus: Sequence[str] | None = None,
    title: str | None = None,
    show_equipments: bool | None = None,
) -> folium.Map:
    """Map of the access of each QPV to one category: supply per resident, time, isochrones.

    Two QPV layers, switched in the layer control: the supply available per
    1,000 residents within 15 min taking the competition of the other
    residents into account (Gaussian-kernel 2SFCA, shown when the map opens) and the median
    walking time. The 5/10/15 min isochrones of each QPV are drawn as light
    nested areas (one layer per duration, under the QPV). The equipments of
    the category and of the other everyday categories within
    :data:`~qpvgeo.outputs.maps.overview.EQUIPMENT_RADIUS_M` of a QPV are
    one layer each. Tooltips give, per QPV: median time, share of residents
    within 10 min, number of equipments within 10 min, Gaussian-kernel 2SFCA and 2SFCA per
    1,000 residents, the median time in the rest of the commune, the INSEE
    proximity-range coverage and the Huff share of food shopping done near
    the QPV.

    Parameters
    ----------
    qpv, indicators, equipments
        As for :func:`~qpvgeo.outputs.maps.overview_map` (``RunResult.qpv``,
        ``.indicators``, ``.equipments``).
    isochrones : GeoDataFrame
        EPSG:2154, columns ``code_qp``, ``minutes``, ``reach_m``
        (``RunResult.isochrones``); may be empty.
    category : str
        ``pharmacie``, ``medecin_generaliste``, ``boulangerie``,
        ``alimentaire`` (all food retail) or any category with a
        ``walk_min_median_<category>`` column.
    focus : sequence of str, optional
        QPV codes the map opens on (default: all QPV).
    title : str, optional
        Title shown on the map.
    show_equipments : bool, optional
        Whether the layer of ``category`` is on when the map opens (the
        others start off). Default: on for at most
        :data:`~qpvgeo.outputs.maps.overview.SHOW_EQUIPMENTS_MAX_QPV` QPV in view.

    Returns
    -------
    folium.Map
        Not saved: pass it to :func:`~qpvgeo.outputs.maps.save_map`.

    Raises
    ------
    CRSError
        If a layer is not in EPSG:2154.
    MissingColumnError
        If ``indicators`` has neither ``g2sfca_<category>_per_1000`` nor
        ``walk_min_median_<category>``, or a layer lacks a needed column.
    ValidationError
        If ``qpv`` is empty or ``focus`` names an unknown QPV.
    """
    e2_col, time_col = _check_access(qpv, indicators, equipments, isochrones, category)
    table = access_table(qpv, indicators, category)
    m = mk.new_map(attribution(indicators))
    iso_pane = mk.pane(m, "isochrones", 380)
    blocks = _add_qpv_layers(m, table, indicators, category)
    blocks.append(_add_isochrones(m, isochrones, qpv, iso_pane))
    show = few_qpv(qpv, focus) if show_equipments is None else show_equipments
    blocks.append(_add_equipments(m, equipments, qpv, category, show))
    blocks.append(("Méthode", [mk.note(n) for n in method_notes(indicators, DRIVE_NOTE_MAPS)]))
    n_val = int(mk.numeric(table, e2_col if e2_col in indicators.columns else time_col).notna().sum())
    mk.finish(
        m,
        blocks,
        title or f"Accès à pied des QPV — {category_label(category)}",
        f"{len(table)} QPV, dont {n_val} avec une valeur calculée (réseau de rues)",
    )
    mk.fit(m, mk.select(qpv, focus, "`focus` codes"))
    return m


def _check_access(
    qpv: gpd.GeoDataFrame,
    indicators: pd.DataFrame,
    equipments: gpd.GeoDataFrame,
    isochrones: gpd.GeoDataFrame,
    category: str,
) -> tuple[str, str]:
    """Raise unless the layers are usable; the Gaussian-kernel 2SFCA and time columns of ``category``."""
    mk.check_qpv(qpv)
    mk.check_layer(equipments, "equipments", ("category", "code"), even_empty=True)
    mk.check_layer(isochrones, "isochrones", ("code_qp", "minutes"))
    e2_col, time_col = f"g2sfca_{category}_per_1000", f"walk_min_median_{category}"
    if e2_col not in indicators.columns and time_col not in indicators.columns:
        raise MissingColumnError(
            f"`indicators` has neither {e2_col!r} nor {time_col!r}: no access figure for "
            f"category {category!r} (competition-aware ones exist for {FCA_CATEGORIES!r})"
        )
    return e2_col, time_col


def _nice_step(top: float, n: int) -> float:
    """Smallest 'round' step (1, 2, 2.5, 5 × 10^k) with ``n`` steps covering ``top``."""
    top = max(float(top), 1e-9)
    k = math.floor(math.log10(top / n))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * 10**k
        if step * n >= top:
            return step
    return 10 ** (k + 1)


def _add_qpv_layers(
    m: folium.Map, table: gpd.GeoDataFrame, indicators: pd.DataFrame, category: str
) -> list[tuple[str, list[str]]]:
    """The QPV by supply per resident (2SFCA à noyau gaussien, Dai 2010) and by walking time; their legend blocks."""
    e2_col, time_col = f"g2sfca_{category}_per_1000", f"walk_min_median_{category}"
    label = category_label(category)
    wgs = mk.display(table)
    fields = [c for c in _ACCESS_FIELDS if c in wgs.columns]
    aliases = [_ACCESS_FIELDS[c] for c in fields]
    props = wgs[[*fields, "geometry"]]
    blocks: list[tuple[str, list[str]]] = []
    if e2_col in indicators.columns:
        values = mk.numeric(table, e2_col).to_numpy()
        finite = values[np.isfinite(values)]
        step = _nice_step(finite.max() if len(finite) else 1.0, len(SHARE_COLOURS))
        bounds = [i * step for i in range(len(SHARE_COLOURS) + 1)]
        digits = 2 if step < 0.1 else 1 if step < 1 else 0
        if step in (0.25, 2.5, 0.025):
            digits += 1
        fills = [mk.step_colour(v, bounds, SHARE_COLOURS) for v in values]
        _qpv_group(props.assign(_fill=fills), "QPV : offre pour 1 000 habitants (2SFCA à noyau gaussien, Dai 2010)",
                   True, fields, aliases).add_to(m)  # fmt: skip
        texts = class_labels([fr_number(x, digits) for x in bounds])
        lines = [mk.case(c, t) for c, t in zip(SHARE_COLOURS, texts, strict=True)]
        lines.append(mk.note(
            "Équipements à 15 min de marche pour 1 000 habitants, compte tenu des "
            "autres habitants qui les partagent (rouge = offre faible)."
        ))  # fmt: skip
        blocks.append((f"{label} : offre pour 1 000 habitants à 15 min (2SFCA à noyau gaussien, Dai 2010)", lines))
    if time_col in indicators.columns:
        values = mk.numeric(table, time_col)
        cmap = indicator_colormap(time_col, values)
        fills = [cmap.rgb_hex_str(v) if pd.notna(v) else "" for v in values]
        _qpv_group(props.assign(_fill=fills), "QPV : temps de marche médian",
                   e2_col not in indicators.columns, fields, aliases).add_to(m)  # fmt: skip
        lines = colormap_legend(cmap, time_col)
        if e2_col in indicators.columns:
            lines.append(mk.note("Couche à activer dans le menu en haut à droite."))
        blocks.append((f"{label} : temps de marche médian", lines))
    blocks[-1][1].append(mk.no_value("QPV sans valeur calculée"))
    return blocks


def _qpv_group(
    layer: gpd.GeoDataFrame, name: str, show: bool, fields: list[str], aliases: list[str]
) -> folium.FeatureGroup:
    return mk.geojson_group(
        layer,
        name=name,
        show=show,
        style=lambda f: _qpv_style(f["properties"]["_fill"]),
        fields=fields,
        aliases=aliases,
        highlight=True,
    )


def _qpv_style(fill: str) -> dict:
    if not fill:
        return dict(_NO_VALUE)
    return {
        "fillColor": fill,
        "color": "#222222",
        "weight": 2.5,
        "fillOpacity": 0.7,
        "opacity": 0.9,
    }


def _add_isochrones(
    m: folium.Map, isochrones: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame, iso_pane: str
) -> tuple[str, list[str]]:
    """One light layer per duration (15 min first: under the others); the legend block."""
    lines = []
    iso = isochrones[isochrones["code_qp"].isin(qpv.index)] if len(isochrones) else isochrones
    for minutes in sorted(mk.ISOCHRONE_COLOURS, reverse=True):
        sub = iso[iso["minutes"] == minutes] if len(iso) else iso
        colour = mk.ISOCHRONE_COLOURS[minutes]
        layer = mk.display(
            gpd.GeoDataFrame(
                {"code": list(sub["code_qp"])}, geometry=sub.geometry.values, crs=isochrones.crs
            )
        )
        mk.geojson_group(
            layer,
            name=f"Isochrones {minutes} min",
            style=lambda f, c=colour: {
                "color": c,
                "weight": 1,
                "opacity": 0.55,
                "fillColor": c,
                "fillOpacity": 0.07,
            },
            pane=iso_pane,
            interactive=False,
        ).add_to(m)
        reach = sub["reach_m"].iloc[0] if len(sub) and "reach_m" in sub.columns else None
        extra = f" (≈ {fr_number(reach, 0)} m sur les rues)" if reach is not None else ""
        lines.append(mk.case(colour, f"{minutes} min à pied{extra}", "opacity:0.35;"))
    n_iso = int(iso["code_qp"].nunique()) if len(iso) else 0
    lines.reverse()
    lines.append(mk.note(
        f"Zones atteintes à pied depuis les habitants du QPV ({n_iso} QPV avec un réseau de "
        "rues ; aucune isochrone pour les autres)."
    ))  # fmt: skip
    return "Isochrones (zones atteintes à pied)", lines


def _add_equipments(
    m: folium.Map, equipments: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame, category: str, show: bool
) -> tuple[str, list[str]]:
    """The equipments of ``category`` (shown when ``show``) and of the everyday categories."""
    main_cats = _main_categories(category, equipments)
    wanted = list(dict.fromkeys([*main_cats, *ACCESS_CATEGORIES]))
    cats = [c for c in wanted if c in set(equipments["category"])]
    return equipment_layers(m, equipments, qpv, cats, set(main_cats) if show else set())


def _main_categories(category: str, equipments: gpd.GeoDataFrame) -> list[str]:
    if category == "alimentaire" and "is_food_retail" in equipments.columns:
        is_food = equipments["is_food_retail"].fillna(False).astype(bool)
        food = equipments.loc[is_food, "category"]
        order = list(nomenclature.categories().index)
        return sorted(set(food), key=lambda c: order.index(c) if c in order else len(order))
    return [category]


def access_table(
    qpv: gpd.GeoDataFrame, indicators: pd.DataFrame, category: str
) -> gpd.GeoDataFrame:
    """One row per QPV with the French strings of the access tooltip (and the raw values)."""
    time_col = f"walk_min_median_{category}"
    key = time_col if time_col in indicators.columns else f"g2sfca_{category}_per_1000"
    base = qpv_table(qpv, indicators, key).drop(columns=["valeur", "_value"])
    ind = indicators.reindex(qpv.index)
    t, rest = mk.numeric(ind, time_col), mk.numeric(ind, f"{time_col}_rest_commune")

    def fmt(column: str, unit: str, digits: int) -> list[str]:
        return [fr_value(v, unit, digits, missing=NOT_COMPUTED) for v in mk.numeric(ind, column)]

    out = base.assign(
        temps=fmt(time_col, "min", 1),
        reste=[_rest_of_commune(tq, tr) for tq, tr in zip(t, rest, strict=True)],
        part10=fmt(f"share_within_10min_{category}_pct", "%", 0),
        n10=fmt(f"n_{category}_within_10min", "", 1),
        g2sfca=fmt(f"g2sfca_{category}_per_1000", "", 2),
        fca2=fmt(f"fca2_{category}_per_1000", "", 2),
        gamme=fmt("gamme_proximite_within_10min_pct", "%", 0),
        huff=fmt("huff_share_nearby_pct", "%", 0),
    )
    if time_col not in indicators.columns:
        out = out.drop(columns=["temps", "reste", "part10", "n10"])
    if f"g2sfca_{category}_per_1000" not in indicators.columns:
        out = out.drop(columns=["g2sfca", "fca2"])
    for col in (time_col, f"g2sfca_{category}_per_1000"):
        if col in indicators.columns:
            out[col] = mk.numeric(ind, col).to_numpy()
    return out


def _rest_of_commune(tq: float, tr: float) -> str:
    """Median time in the rest of the commune, compared with the QPV's (``tq``)."""
    if not math.isfinite(tr):
        return NOT_COMPUTED
    text = fr_value(tr, "min")
    if math.isfinite(tq):
        gap = tq - tr
        if abs(gap) < 0.5:
            text += " (équivalent au QPV)"
        else:
            more = "de plus" if gap > 0 else "de moins"
            text += f" (QPV : {fr_number(abs(gap), 1)} min {more})"
    return text
