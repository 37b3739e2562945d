"""The overview map: the QPV coloured by one indicator, with the nearby equipments.

Also the pieces the access and enclavement maps build on: the colour classes
of an indicator (:func:`indicator_colormap`), the per-QPV tooltip table
(:func:`qpv_table`) and the equipment layers (:func:`equipment_layers`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import branca.colormap as bcm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..._errors import MissingColumnError
from ...data import nomenclature
from .. import mapkit as mk
from ..labels_fr import (
    CROW_FLIES_METHOD_NOTE,
    DRIVE_METHOD_NOTE,
    MEDIAN_COLUMN,
    NO_NETWORK_REASON,
    NO_VALUE_REASON,
    NOT_IN_TABLE_REASON,
    SHARE_COLUMN,
    STATUS_SHORT,
    VALUE_NOT_COMPUTED,
    attribution,
    class_labels,
    fr_number,
    indicator_category,
    indicator_label,
    indicator_unit,
    indicator_value,
)

#: equipments farther than this from every QPV are left off the map (metres)
EQUIPMENT_RADIUS_M = 1500.0

#: a map of more QPV opens with every equipment layer switched off
SHOW_EQUIPMENTS_MAX_QPV = 10

#: colour classes of walking times (minutes, lower bound inclusive)
_WALK_BINS = (0.0, 5.0, 10.0, 15.0, 20.0)
_WALK_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: colour classes of shares of residents (%), low shares in red
_SHARE_BINS = (0.0, 25.0, 50.0, 75.0, 90.0, 100.0)
#: red (low) to green (high): shares of residents here, supply per resident on the access map
SHARE_COLOURS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
_OTHER_COLOURS = ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d")


# ---------------------------------------------------------------------------
# colours


def indicator_colormap(column: str, values: pd.Series) -> bcm.StepColormap:
    """Colour classes of an indicator, with a French caption.

    Walking times use fixed 5-minute classes (yellow to dark red: the longer,
    the darker), shares of residents fixed classes from 0 to 100 % (red when
    few residents are close); other columns five equal classes between
    their minimum and maximum. Fixed classes keep maps comparable across
    categories and runs.
    """
    finite = pd.to_numeric(values, errors="coerce").dropna()
    caption = indicator_label(column)
    if MEDIAN_COLUMN.match(column):
        top = max(30.0, math.ceil(finite.max()) if len(finite) else 30.0)
        index = [*_WALK_BINS, top]
        colours = _WALK_COLOURS
    elif SHARE_COLUMN.match(column):
        index, colours = list(_SHARE_BINS), SHARE_COLOURS
    else:
        lo = float(finite.min()) if len(finite) else 0.0
        hi = float(finite.max()) if len(finite) else 1.0
        hi = hi if hi > lo else lo + 1.0
        index = list(np.linspace(lo, hi, len(_OTHER_COLOURS) + 1))
        colours = _OTHER_COLOURS
    return bcm.StepColormap(
        list(colours), index=index, vmin=index[0], vmax=index[-1], caption=caption
    )


def colormap_legend(cmap: bcm.StepColormap, column: str) -> list[str]:
    """Legend lines of the classes of :func:`indicator_colormap` (times open-ended)."""
    bounds = [fr_number(b, 0 if float(b).is_integer() else 1) for b in cmap.index]
    texts = class_labels(
        bounds, indicator_unit(column), open_ends=bool(MEDIAN_COLUMN.match(column))
    )
    return [mk.case(cmap.rgb_hex_str(b), t) for b, t in zip(cmap.index[:-1], texts, strict=True)]


# ---------------------------------------------------------------------------
# the map


def overview_map(
    qpv: gpd.GeoDataFrame,
    indicators: pd.DataFrame,
    equipments: gpd.GeoDataFrame,
    *,
    indicator: str = "walk_min_median_boulangerie",
    categories: Sequence[str] | None = None,
    title: str | None = None,
    show_equipments: bool | None = None,
) -> folium.Map:
    """Map of the QPV coloured by one indicator, with the nearby equipments.

    Parameters
    ----------
    qpv : GeoDataFrame
        QPV perimeters in EPSG:2154, indexed by ``code_qp``, with ``lib_qp``
        and ``lib_com`` (``RunResult.qpv``).
    indicators : DataFrame
        The per-QPV table indexed by ``code_qp`` (``RunResult.indicators``),
        holding ``indicator`` and, when present, ``network_status``,
        ``network_coverage_pct`` and ``access_method``.
    equipments : GeoDataFrame
        Equipments in EPSG:2154 with ``category`` and ``code``
        (``RunResult.equipments``). Only those within
        :data:`EQUIPMENT_RADIUS_M` of a QPV are drawn.
    indicator : str
        Column of ``indicators`` that colours the QPV.
    categories : sequence of str, optional
        Equipment categories drawn, one layer each. Default: the categories
        of the ``walk_min_median_*`` columns of ``indicators`` (those the run
        computed). The layer of the indicator's category is shown, the
        others can be switched on in the layer control.
    title : str, optional
        Title shown on the map; default built from the indicator.
    show_equipments : bool, optional
        Whether the layer of the indicator's category is switched on when
        the map opens (the others always start off). Default: on for a map
        of at most :data:`SHOW_EQUIPMENTS_MAX_QPV` QPV; on a map of a whole
        département the markers would hide the small QPV perimeters.

    Returns
    -------
    folium.Map
        Not saved: pass it to :func:`qpvgeo.outputs.maps.save_map`.

    Raises
    ------
    CRSError
        If ``qpv`` or ``equipments`` is not in EPSG:2154.
    MissingColumnError
        If ``indicator`` is not a column of ``indicators``.
    ValidationError
        If ``qpv`` is empty.
    """
    _check_overview(qpv, indicators, equipments, indicator)
    cats = _categories_to_draw(indicators, equipments, categories)
    table = qpv_table(qpv, indicators, indicator)
    m = mk.new_map(attribution(indicators))
    blocks = [_add_qpv_layers(m, table, indicator)]
    if show_equipments is None:
        show_equipments = few_qpv(qpv)
    main = indicator_category(indicator)
    shown = {c for c in cats if show_equipments and (c == main or main not in cats)}
    if cats:
        blocks.append(equipment_layers(m, equipments, qpv, cats, shown))
    n_val = int(table["_value"].notna().sum())
    mk.finish(
        m,
        blocks,
        title or f"Quartiers prioritaires (QPV) — {indicator_label(indicator)}",
        f"{len(table)} QPV, dont {n_val} avec une valeur calculée",
    )
    xmin, ymin, xmax, ymax = mk.to_wgs84(table).total_bounds
    # keep the QPV clear of the title (top) and the layer control (right)
    m.fit_bounds(
        [[ymin, xmin], [ymax, xmax]], padding_top_left=(40, 80), padding_bottom_right=(300, 20)
    )
    return m


def few_qpv(qpv: gpd.GeoDataFrame, focus: Sequence[str] | None = None) -> bool:
    """Whether a map of ``qpv`` (opening on ``focus``) shows few enough QPV to show points.

    At the scale of a département, equipment and other point layers would hide
    the small QPV perimeters: they start switched off above
    :data:`SHOW_EQUIPMENTS_MAX_QPV` QPV.
    """
    return (len(focus) if focus is not None else len(qpv)) <= SHOW_EQUIPMENTS_MAX_QPV


def _check_overview(
    qpv: gpd.GeoDataFrame, indicators: pd.DataFrame, equipments: gpd.GeoDataFrame, indicator: str
) -> None:
    mk.check_qpv(qpv)
    mk.check_layer(equipments, "equipments", ("category", "code"), even_empty=True)
    if indicator not in indicators.columns:
        known = [c for c in indicators.columns if indicator_category(c) is not None]
        raise MissingColumnError(
            f"`indicators` has no column {indicator!r}; indicator columns are {known[:12]!r}"
            f"{' ...' if len(known) > 12 else ''}"
        )


def _add_qpv_layers(
    m: folium.Map, table: gpd.GeoDataFrame, indicator: str
) -> tuple[str, list[str]]:
    """The QPV with a value (coloured) and without (grey); their legend block."""
    cmap = indicator_colormap(indicator, table["_value"])
    colours = [cmap.rgb_hex_str(v) if pd.notna(v) else "" for v in table["_value"]]
    wgs = mk.to_wgs84(table.assign(couleur=colours)).drop(columns="_value")
    label = indicator_label(indicator)
    has_value = table["_value"].notna()
    for shown, name, style, why in (
        (has_value, "QPV avec valeur calculée", _overview_style, ("methode", "Méthode")),
        (~has_value, "QPV sans valeur calculée", lambda f: dict(mk.NO_VALUE_STYLE),
         ("pourquoi", "Pourquoi")),
    ):  # fmt: skip
        if shown.any():
            mk.geojson_group(
                wgs[shown.to_numpy()],
                name=f"{name} ({int(shown.sum())})",
                style=style,
                fields=["code", "quartier", "commune", "valeur", "reseau", why[0]],
                aliases=["Code", "Quartier", "Commune", label, "Réseau de rues", why[1]],
                highlight=True,
            ).add_to(m)
    lines = [*colormap_legend(cmap, indicator), mk.no_value(_no_value_legend(table))]
    return cmap.caption, lines


def _overview_style(feature: dict) -> dict:
    return {
        "fillColor": feature["properties"]["couleur"],
        "color": "#222222",
        "weight": 2.5,
        "fillOpacity": 0.75,
        "opacity": 0.9,
    }


def _no_value_legend(table: gpd.GeoDataFrame) -> str:
    why = set(table.loc[table["_value"].isna(), "pourquoi"])
    if why == {NO_NETWORK_REASON}:
        return "QPV sans valeur calculée (pas de réseau de rues dans les données)"
    return "QPV sans valeur calculée (motif dans l'infobulle)"


def _categories_to_draw(
    indicators: pd.DataFrame, equipments: gpd.GeoDataFrame, categories: Sequence[str] | None
) -> list[str]:
    order = list(nomenclature.categories().index)
    if categories is None:
        wanted = [
            hit["cat"] for c in indicators.columns if (hit := MEDIAN_COLUMN.match(str(c)))
        ] or nomenclature.proximity_categories()
        have = set(equipments["category"])
        wanted = [c for c in wanted if c in have]
    else:
        wanted = list(dict.fromkeys(categories))
        nomenclature.check_categories(wanted)
        missing = [c for c in wanted if c not in set(equipments["category"])]
        if missing:
            warnings.warn(
                f"categories {missing!r} have no equipment in `equipments`: "
                "no layer is drawn for them",
                stacklevel=3,
            )
            wanted = [c for c in wanted if c not in missing]
    return sorted(wanted, key=lambda c: order.index(c) if c in order else len(order))


# ---------------------------------------------------------------------------
# the QPV table and the equipment layers (shared with the access and enclavement maps)


def qpv_table(qpv: gpd.GeoDataFrame, indicators: pd.DataFrame, indicator: str) -> gpd.GeoDataFrame:
    """One row per QPV with the French strings of its tooltip; ``_value`` holds ``indicator``.

    Strings: ``code``, ``quartier``, ``commune``, ``valeur`` (the indicator),
    ``reseau`` (network status and coverage), ``methode`` (how times were
    computed) and ``pourquoi`` (why a value may be missing).
    """
    ind = indicators.drop(columns=[c for c in indicators.columns if c in qpv.columns])
    if "code_qp" in ind.columns:
        ind = ind.drop(columns="code_qp")
    joined = qpv.join(ind, how="left")
    value = pd.to_numeric(joined[indicator], errors="coerce")
    status = joined.get("network_status", pd.Series(np.nan, index=joined.index))
    cover = joined.get("network_coverage_pct", pd.Series(np.nan, index=joined.index))
    method = joined.get("access_method", pd.Series("", index=joined.index)).fillna("")
    in_table = joined.index.isin(indicators.index)
    rows = []
    for i, code in enumerate(joined.index):
        v, st = value.iloc[i], status.iloc[i]
        rows.append(
            {
                "code": mk.esc(code),
                "quartier": mk.esc(joined["lib_qp"].iloc[i]) if "lib_qp" in joined else "",
                "commune": mk.esc(joined["lib_com"].iloc[i]) if "lib_com" in joined else "",
                "valeur": VALUE_NOT_COMPUTED if pd.isna(v) else indicator_value(v, indicator),
                "reseau": _network_text(st, cover.iloc[i]),
                "methode": mk.esc(_method_text(str(method.iloc[i]))) or "non renseignée",
                "pourquoi": _missing_reason(st, bool(in_table[i])),
            }
        )
    out = gpd.GeoDataFrame(rows, index=joined.index, geometry=joined.geometry.values, crs=qpv.crs)
    out["_value"] = value.to_numpy()
    return out


def _network_text(status: object, cover: float) -> str:
    """« couvert (100 % des habitants) », « aucun », « non renseigné »."""
    if pd.isna(status):
        return "non renseigné"
    short = STATUS_SHORT.get(status, str(status))
    if status == "absent" or pd.isna(cover):
        return short
    return f"{short} ({fr_number(cover, 0)} % des habitants)"


def _method_text(method: str) -> str:
    if method.startswith("réseau routier"):
        return method + DRIVE_METHOD_NOTE
    if method.startswith("vol d'oiseau"):
        return method + CROW_FLIES_METHOD_NOTE
    return method


def _missing_reason(status: object, in_table: bool) -> str:
    if not in_table:
        return NOT_IN_TABLE_REASON
    if status == "absent":
        return NO_NETWORK_REASON
    return NO_VALUE_REASON


def equipment_layers(
    m: folium.Map,
    equipments: gpd.GeoDataFrame,
    qpv: gpd.GeoDataFrame,
    cats: Sequence[str],
    shown: set[str],
) -> tuple[str, list[str]]:
    """One layer per category of the equipments near the QPV (``shown`` ones on); legend block."""
    colours = mk.category_colours(cats)
    zone = shapely.union_all(qpv.geometry.values).buffer(EQUIPMENT_RADIUS_M)
    near = mk.near(equipments[equipments["category"].isin(list(cats))], zone)
    lines = []
    for cat in cats:
        sub = near[near["category"] == cat]
        name = f"{nomenclature.label(cat)} ({len(sub)})"
        group = folium.FeatureGroup(name=name, show=cat in shown)
        if len(sub):
            _equipment_layer(sub, colours[cat]).add_to(group)
        group.add_to(m)
        lines.append(mk.point(colours[cat], name))
    lines.append(mk.note("Affichez ou masquez chaque couche dans le menu en haut à droite."))
    radius = fr_number(EQUIPMENT_RADIUS_M / 1000, 1)
    return f"Équipements à moins de {radius} km d'un QPV", lines


def _equipment_layer(sub: gpd.GeoDataFrame, colour: str) -> folium.GeoJson:
    src = sub["source"] if "source" in sub.columns else pd.Series("", index=sub.index)
    props = pd.DataFrame(
        {
            "nom": [mk.esc(nomenclature.label(c)) for c in sub["category"]],
            "code": [mk.esc(c) for c in sub["code"]],
            "source": [
                "INSEE, BPE 2024" if str(s).lower() == "bpe" else "OpenStreetMap" if s else ""
                for s in src
            ],
        },
        index=sub.index,
    )
    gdf = mk.to_wgs84(gpd.GeoDataFrame(props, geometry=sub.geometry.values, crs=sub.crs))
    return folium.GeoJson(
        gdf.to_json(drop_id=True),
        marker=folium.CircleMarker(
            radius=3.5, color="#ffffff", weight=0.8, fill=True, fill_color=colour, fill_opacity=0.9
        ),
        popup=folium.GeoJsonPopup(
            fields=["nom", "code", "source"], aliases=["Équipement", "Code", "Source"]
        ),
        control=False,
    )
