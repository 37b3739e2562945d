"""Interactive maps (Leaflet, through folium) of the per-QPV indicators.

The maps are read by urban planners and workshop presenters who do not use
Python: every label, legend, tooltip and layer name is in French.

:func:`overview_map` builds the map (no file is written); :func:`save_map`
writes it atomically as one HTML page. By default that page is
*self-contained*: the Leaflet library is copied into it (from the
``xstatic-leaflet`` package), so that the perimeters, markers, legend and
layer control display without internet access (only the background tiles
need it) — workshop rooms often have no reliable network.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import branca.colormap as bcm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from . import nomenclature, sources
from ._errors import MissingColumnError, ValidationError
from ._validate import assert_project_crs

#: equipments farther than this from every QPV are left off the map (metres)
EQUIPMENT_RADIUS_M = 1500.0

#: a map of more QPV opens with every equipment layer switched off
SHOW_EQUIPMENTS_MAX_QPV = 10

#: fill and outline of a QPV whose indicator could not be computed
NO_VALUE_STYLE = {
    "fillColor": "#9e9e9e",
    "color": "#616161",
    "weight": 2,
    "dashArray": "5 4",
    "fillOpacity": 0.45,
    "opacity": 0.9,
}

#: fixed colours of the everyday categories, the same on every map
CATEGORY_COLOURS: dict[str, str] = {
    "supermarche": "#1f78b4",
    "superette": "#a6cee3",
    "epicerie": "#33a02c",
    "boulangerie": "#b15928",
    "boucherie": "#e31a1c",
    "marche": "#fb9a99",
    "tabac_presse": "#ff7f00",
    "banque": "#b2df8a",
    "pharmacie": "#00a087",
    "medecin_generaliste": "#6a3d9a",
    "bureau_poste": "#ffd92f",
    "ecole_maternelle": "#e7298a",
    "ecole_elementaire": "#cab2d6",
    "bibliotheque": "#1b3a5c",
}
#: colours handed, in order, to the other categories
_EXTRA_COLOURS = (
    "#8dd3c7", "#bebada", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
    "#bc80bd", "#ccebc5", "#66c2a5", "#e78ac3", "#a6d854", "#e5c494",
)  # fmt: skip

#: colour classes of walking times (minutes, lower bound inclusive)
_WALK_BINS = (0.0, 5.0, 10.0, 15.0, 20.0)
_WALK_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: colour classes of shares of residents (%), low shares in red
_SHARE_BINS = (0.0, 25.0, 50.0, 75.0, 90.0, 100.0)
_SHARE_COLOURS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
_OTHER_COLOURS = ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d")

_STATUS_FR = {"couvert": "couvert", "partiel": "partiel", "absent": "aucun"}
_NO_NETWORK_REASON = "Pas de réseau de rues disponible : valeur non calculée"
_NO_VALUE_REASON = (
    "Valeur non calculée : aucun habitant relié au réseau de rues, ou aucun équipement atteignable"
)
_NOT_IN_TABLE_REASON = "Quartier absent du tableau d'indicateurs : valeur non calculée"

_RE_MEDIAN = re.compile(r"^walk_min_median_(?P<cat>.+)$")
_RE_SHARE = re.compile(r"^share_within_(?P<t>\d+)min_(?P<cat>.+)_pct$")
_RE_COUNT = re.compile(r"^n_(?P<cat>.+)_within_(?P<t>\d+)min$")
_GENERIC_LABELS = {
    "network_coverage_pct": "Part de la surface couverte par le réseau de rues (%)",
    "population_est": "Population estimée (habitants)",
    "n_origins": "Nombre de points de départ des habitants",
    "n_origins_off_network": "Points de départ hors du réseau de rues",
    "area_ha": "Surface (ha)",
}

_LEAFLET_JS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
_LEAFLET_CSS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"


# ---------------------------------------------------------------------------
# labels


_SUFFIXES = {"_rest_commune": ", reste de la commune"}


def _split_category(raw: str) -> tuple[str, str]:
    """``boulangerie_rest_commune`` → (``boulangerie``, French suffix of the label)."""
    for suffix, text in _SUFFIXES.items():
        if raw.endswith(suffix) and raw.removesuffix(suffix) in nomenclature.categories().index:
            return raw.removesuffix(suffix), text
    return raw, ""


def indicator_category(column: str) -> str | None:
    """Category an indicator column is about (``None`` for a column about no category).

    Examples
    --------
    >>> indicator_category("share_within_10min_ecole_maternelle_pct")
    'ecole_maternelle'
    """
    for pattern in (_RE_MEDIAN, _RE_SHARE, _RE_COUNT):
        hit = pattern.match(column)
        if hit:
            return _split_category(hit["cat"])[0]
    return None


def indicator_label(column: str) -> str:
    """French label of an indicator column, with its unit.

    Parameters
    ----------
    column : str
        A column of the indicator table, e.g. ``walk_min_median_boulangerie``
        or ``share_within_10min_pharmacie_pct``.

    Returns
    -------
    str
        « Temps de marche médian vers : Boulangerie (min) », « Part des
        habitants à moins de 10 min : Pharmacie (%) »; the column name itself
        for a column qpvgeo does not know.
    """
    hit = _RE_MEDIAN.match(column)
    if hit:
        cat, more = _split_category(hit["cat"])
        return f"Temps de marche médian vers : {nomenclature.label(cat)}{more} (min)"
    hit = _RE_SHARE.match(column)
    if hit:
        cat, more = _split_category(hit["cat"])
        return (
            f"Part des habitants à moins de {int(hit['t'])} min : "
            f"{nomenclature.label(cat)}{more} (%)"
        )
    hit = _RE_COUNT.match(column)
    if hit:
        cat, more = _split_category(hit["cat"])
        return (
            f"Nombre d'équipements à moins de {int(hit['t'])} min : {nomenclature.label(cat)}{more}"
        )
    return _GENERIC_LABELS.get(column, column)


def _unit(column: str) -> str:
    if _RE_MEDIAN.match(column):
        return "min"
    if _RE_SHARE.match(column) or column.endswith("_pct"):
        return "%"
    return ""


def _fr_number(value: float, digits: int = 1) -> str:
    """``4.25`` → ``'4,3'`` (French decimal comma, thin thousands separator)."""
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return text


def _fr_value(value: float, column: str) -> str:
    unit = _unit(column)
    digits = 0 if unit == "%" or float(value).is_integer() else 1
    return f"{_fr_number(value, digits)} {unit}".rstrip()


def attribution() -> str:
    """Credit line of the maps: background, perimeters, equipments, population, streets."""
    credits = [
        "Fond de carte " + sources.OSM_ATTRIBUTION.replace(" (ODbL)", ""),
        sources.CATALOGUE["qpv"].attribution + " (QPV 2024)",
        sources.CATALOGUE["bpe"].attribution,
        sources.CATALOGUE["iris_population"].attribution,
        sources.CATALOGUE["iris_income"].attribution,
        "réseau de rues " + sources.OSM_ATTRIBUTION,
        "calculs qpvgeo",
    ]
    return " | ".join(credits)


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
    if _RE_MEDIAN.match(column):
        top = max(30.0, math.ceil(finite.max()) if len(finite) else 30.0)
        index = [*_WALK_BINS, top]
        colours = _WALK_COLOURS
    elif _RE_SHARE.match(column):
        index, colours = list(_SHARE_BINS), _SHARE_COLOURS
    else:
        lo = float(finite.min()) if len(finite) else 0.0
        hi = float(finite.max()) if len(finite) else 1.0
        hi = hi if hi > lo else lo + 1.0
        index = list(np.linspace(lo, hi, len(_OTHER_COLOURS) + 1))
        colours = _OTHER_COLOURS
    return bcm.StepColormap(
        list(colours), index=index, vmin=index[0], vmax=index[-1], caption=caption
    )


def _class_labels(cmap: bcm.StepColormap, column: str) -> list[tuple[str, str]]:
    """(hex colour, French label) of each class of a step colour map."""
    unit = _unit(column)
    suffix = f" {unit}" if unit else ""
    bounds = [_fr_number(b, 0 if float(b).is_integer() else 1) for b in cmap.index]
    out = []
    last = len(cmap.colors) - 1
    for i in range(len(cmap.colors)):
        hexa = cmap.rgb_hex_str(cmap.index[i])
        if i == 0 and _RE_MEDIAN.match(column):
            text = f"moins de {bounds[1]}{suffix}"
        elif i == last and _RE_MEDIAN.match(column):
            text = f"{bounds[i]}{suffix} et plus"
        else:
            text = f"de {bounds[i]} à {bounds[i + 1]}{suffix}"
        out.append((hexa, text))
    return out


def category_colours(categories: Sequence[str]) -> dict[str, str]:
    """One colour per category: fixed ones for everyday categories, then a qualitative palette."""
    out: dict[str, str] = {}
    spare = iter(c for c in _EXTRA_COLOURS if c not in CATEGORY_COLOURS.values())
    for cat in categories:
        out[cat] = CATEGORY_COLOURS.get(cat) or next(spare, "#555555")
    return out


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
        Not saved: pass it to :func:`save_map`.

    Raises
    ------
    CRSError
        If ``qpv`` or ``equipments`` is not in EPSG:2154.
    MissingColumnError
        If ``indicator`` is not a column of ``indicators``.
    ValidationError
        If ``qpv`` is empty.
    """
    assert_project_crs(qpv, "qpv")
    assert_project_crs(equipments, "equipments")
    if len(qpv) == 0:
        raise ValidationError("`qpv` holds no QPV: nothing to map")
    if indicator not in indicators.columns:
        known = [c for c in indicators.columns if indicator_category(c) is not None]
        raise MissingColumnError(
            f"`indicators` has no column {indicator!r}; indicator columns are {known[:12]!r}"
            f"{' ...' if len(known) > 12 else ''}"
        )
    for col in ("category", "code"):
        if col not in equipments.columns:
            raise MissingColumnError(f"`equipments` has no column {col!r}")
    cats = _categories_to_draw(indicators, equipments, categories)

    table = _qpv_table(qpv, indicators, indicator)
    cmap = indicator_colormap(indicator, table["_value"])
    table["couleur"] = [cmap.rgb_hex_str(v) if pd.notna(v) else "" for v in table["_value"]]
    wgs = _to_wgs84(table)

    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
    # only Leaflet is needed: no jQuery, Bootstrap or icon fonts to fetch
    m.default_js = [("leaflet", _LEAFLET_JS_URL)]
    m.default_css = [("leaflet_css", _LEAFLET_CSS_URL)]
    folium.TileLayer(
        "OpenStreetMap",
        name="Fond de carte OpenStreetMap",
        attr=attribution(),
        opacity=0.6,  # a muted background leaves the QPV colours readable
    ).add_to(m)

    label = indicator_label(indicator)
    has_value = table["_value"].notna()
    if has_value.any():
        _qpv_layer(
            wgs[has_value.to_numpy()],
            name=f"QPV avec valeur calculée ({int(has_value.sum())})",
            style=lambda f: {
                "fillColor": f["properties"]["couleur"],
                "color": "#222222",
                "weight": 2.5,
                "fillOpacity": 0.75,
                "opacity": 0.9,
            },
            fields=["code", "quartier", "commune", "valeur", "reseau", "methode"],
            aliases=["Code", "Quartier", "Commune", label, "Réseau de rues", "Méthode"],
        ).add_to(m)
    if (~has_value).any():
        _qpv_layer(
            wgs[~has_value.to_numpy()],
            name=f"QPV sans valeur calculée ({int((~has_value).sum())})",
            style=lambda f: dict(NO_VALUE_STYLE),
            fields=["code", "quartier", "commune", "valeur", "reseau", "pourquoi"],
            aliases=["Code", "Quartier", "Commune", label, "Réseau de rues", "Pourquoi"],
        ).add_to(m)

    colours = category_colours(cats)
    near = _equipments_near(equipments, qpv, cats)
    main_cat = indicator_category(indicator)
    if show_equipments is None:
        show_equipments = len(qpv) <= SHOW_EQUIPMENTS_MAX_QPV
    counts = {}
    for cat in cats:
        sub = near[near["category"] == cat]
        counts[cat] = len(sub)
        group = folium.FeatureGroup(
            name=f"{nomenclature.label(cat)} ({len(sub)})",
            show=show_equipments and (cat == main_cat or main_cat not in cats),
        )
        if len(sub):
            _equipment_layer(sub, colours[cat]).add_to(group)
        group.add_to(m)

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _Legend(
        scale=_class_labels(cmap, indicator),
        caption=cmap.caption,
        categories=[(colours[c], nomenclature.label(c), counts[c]) for c in cats],
        radius_km=EQUIPMENT_RADIUS_M / 1000,
        no_value=_no_value_legend(table),
    ).add_to(m)
    n_val = int(has_value.sum())
    _TitleBox(
        title=title or f"Quartiers prioritaires (QPV) — {label}",
        subtitle=f"{len(table)} QPV, dont {n_val} avec une valeur calculée",
    ).add_to(m)
    xmin, ymin, xmax, ymax = wgs.total_bounds
    # keep the QPV clear of the title (top) and the layer control (right)
    m.fit_bounds(
        [[ymin, xmin], [ymax, xmax]], padding_top_left=(40, 80), padding_bottom_right=(300, 20)
    )
    return m


def _no_value_legend(table: gpd.GeoDataFrame) -> str:
    why = set(table.loc[table["_value"].isna(), "pourquoi"])
    if why == {_NO_NETWORK_REASON}:
        return "QPV sans valeur calculée (pas de réseau de rues dans les données)"
    return "QPV sans valeur calculée (motif dans l'infobulle)"


def _categories_to_draw(
    indicators: pd.DataFrame, equipments: gpd.GeoDataFrame, categories: Sequence[str] | None
) -> list[str]:
    order = list(nomenclature.categories().index)
    if categories is None:
        wanted = [
            hit["cat"] for c in indicators.columns if (hit := _RE_MEDIAN.match(str(c)))
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


def _qpv_table(qpv: gpd.GeoDataFrame, indicators: pd.DataFrame, indicator: str) -> gpd.GeoDataFrame:
    """One row per QPV with the French strings of its tooltip and its colour."""
    ind = indicators.drop(columns=[c for c in indicators.columns if c in qpv.columns])
    if "code_qp" in ind.columns:
        ind = ind.drop(columns="code_qp")
    joined = qpv.join(ind, how="left")
    value = pd.to_numeric(joined[indicator], errors="coerce")
    status = joined.get("network_status", pd.Series(np.nan, index=joined.index))
    cover = joined.get("network_coverage_pct", pd.Series(np.nan, index=joined.index))
    method = joined.get("access_method", pd.Series("", index=joined.index)).fillna("")
    in_table = joined.index.isin(indicators.index)

    def esc(x: object) -> str:
        return "" if pd.isna(x) else html.escape(str(x), quote=False)

    rows = []
    for i, code in enumerate(joined.index):
        v, st, cv, me = value.iloc[i], status.iloc[i], cover.iloc[i], str(method.iloc[i])
        if pd.isna(st):
            reseau = "non renseigné"
        elif st == "absent" or pd.isna(cv):
            reseau = _STATUS_FR.get(st, str(st))
        else:
            reseau = f"{_STATUS_FR.get(st, str(st))} ({_fr_number(cv, 0)} % de la surface)"
        if me.startswith("réseau routier"):
            me += " : temps approchés sur les rues, faute de cheminements piétons dans les données"
        elif me.startswith("vol d'oiseau"):
            me += " : estimation sans réseau de rues"
        if not in_table[i]:
            why = _NOT_IN_TABLE_REASON
        elif st == "absent":
            why = _NO_NETWORK_REASON
        else:
            why = _NO_VALUE_REASON
        rows.append(
            {
                "code": esc(code),
                "quartier": esc(joined["lib_qp"].iloc[i]) if "lib_qp" in joined else "",
                "commune": esc(joined["lib_com"].iloc[i]) if "lib_com" in joined else "",
                "valeur": "non calculée" if pd.isna(v) else _fr_value(v, indicator),
                "reseau": reseau,
                "methode": esc(me) or "non renseignée",
                "pourquoi": why,
            }
        )
    out = gpd.GeoDataFrame(rows, index=joined.index, geometry=joined.geometry.values, crs=qpv.crs)
    out["_value"] = value.to_numpy()
    return out


def _to_wgs84(gdf: gpd.GeoDataFrame, decimals: int = 5) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326, coordinates rounded (5 decimals ≈ 1 m) to keep the page light."""
    out = gdf.to_crs(4326)
    geoms = shapely.transform(out.geometry.values, lambda xy: np.round(xy, decimals))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=4326))


def _qpv_layer(
    gdf: gpd.GeoDataFrame, *, name: str, style, fields: list[str], aliases: list[str]
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=True)
    data = gdf.drop(columns="_value")
    folium.GeoJson(
        data.to_json(drop_id=False),
        name=name,
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        control=False,
    ).add_to(group)
    return group


def _equipments_near(
    equipments: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame, categories: Sequence[str]
) -> gpd.GeoDataFrame:
    eq = equipments[equipments["category"].isin(list(categories))]
    if len(eq) == 0:
        return eq
    zone = shapely.union_all(qpv.geometry.values).buffer(EQUIPMENT_RADIUS_M)
    hit = eq.sindex.query(zone, predicate="intersects")
    return eq.iloc[np.sort(hit)]


def _equipment_layer(sub: gpd.GeoDataFrame, colour: str) -> folium.GeoJson:
    def esc(x: object) -> str:
        return "" if pd.isna(x) else html.escape(str(x), quote=False)

    src = sub["source"] if "source" in sub.columns else pd.Series("", index=sub.index)
    props = pd.DataFrame(
        {
            "nom": [esc(nomenclature.label(c)) for c in sub["category"]],
            "code": [esc(c) for c in sub["code"]],
            "source": [
                "INSEE, BPE 2024" if str(s).lower() == "bpe" else "OpenStreetMap" if s else ""
                for s in src
            ],
        },
        index=sub.index,
    )
    gdf = _to_wgs84(gpd.GeoDataFrame(props, geometry=sub.geometry.values, crs=sub.crs))
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


class _Legend(MacroElement):
    """French legend box (bottom left): QPV colour classes, no-value style, equipment colours."""

    _template = Template(
        """
{% macro header(this, kwargs) %}
<style>
  .leaflet-container .leaflet-control-attribution { font-size: 11px; }
  .leaflet-container .leaflet-control-layers { font-size: 14px; }
  .leaflet-container .leaflet-tooltip, .leaflet-container .leaflet-popup { font-size: 13px; }
  .qpvgeo-legend { position: fixed; bottom: 64px; left: 10px; z-index: 1000; color: #222;
    background: rgba(255,255,255,0.93); padding: 8px 10px; border-radius: 6px;
    box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 12px/1.35 Arial, Helvetica, sans-serif;
    max-width: 290px; max-height: 70vh; overflow-y: auto; }
  .qpvgeo-legend .titre { font-weight: bold; margin: 8px 0 4px; }
  .qpvgeo-legend .titre:first-child { margin-top: 0; }
  .qpvgeo-legend .case { display: inline-block; width: 16px; height: 11px; margin-right: 6px;
    vertical-align: middle; border: 1px solid #333; }
  .qpvgeo-legend .sans { background: #9e9e9e; opacity: 0.8; border: 1.5px dashed #424242; }
  .qpvgeo-legend .point { display: inline-block; width: 10px; height: 10px; margin: 0 9px 0 3px;
    border-radius: 50%; vertical-align: middle; border: 1px solid #555; }
  .qpvgeo-legend .aide { margin-top: 4px; color: #555; }
</style>
{% endmacro %}
{% macro html(this, kwargs) %}
<div class="qpvgeo-legend">
  <div class="titre">{{ this.caption }}</div>
  {% for colour, text in this.scale %}
  <div><span class="case" style="background:{{ colour }};"></span>{{ text }}</div>
  {% endfor %}
  <div><span class="case sans"></span>{{ this.no_value }}</div>
  {% if this.categories %}
  <div class="titre">Équipements à moins de {{ this.radius }} d'un QPV</div>
  {% for colour, text, n in this.categories %}
  <div><span class="point" style="background:{{ colour }};"></span>{{ text }} ({{ n }})</div>
  {% endfor %}
  <div class="aide">Affichez ou masquez chaque catégorie dans le menu en haut à droite.</div>
  {% endif %}
</div>
{% endmacro %}
"""
    )

    def __init__(
        self,
        *,
        scale: list[tuple[str, str]],
        caption: str,
        categories: list[tuple[str, str, int]],
        radius_km: float,
        no_value: str,
    ) -> None:
        super().__init__()
        self._name = "QpvgeoLegend"
        self.scale = [(c, html.escape(t)) for c, t in scale]
        self.caption = html.escape(caption)
        self.no_value = html.escape(no_value)
        self.categories = [(c, html.escape(t), n) for c, t, n in categories]
        self.radius = f"{_fr_number(radius_km, 1)} km"


class _TitleBox(MacroElement):
    """Title of the map, top centre."""

    _template = Template(
        """
{% macro html(this, kwargs) %}
<div class="qpvgeo-title" style="position: fixed; top: 10px; left: 60px; z-index: 1000;
     max-width: calc(100% - 420px); background: rgba(255,255,255,0.93); padding: 6px 12px;
     border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.35);
     font: 15px/1.3 Arial, Helvetica, sans-serif; color: #222;">
  <div style="font-weight: bold;">{{ this.title }}</div>
  <div style="font-size: 12px; color: #444;">{{ this.subtitle }}</div>
</div>
{% endmacro %}
"""
    )

    def __init__(self, *, title: str, subtitle: str) -> None:
        super().__init__()
        self._name = "QpvgeoTitle"
        self.title = html.escape(title)
        self.subtitle = html.escape(subtitle)


# ---------------------------------------------------------------------------
# saving


def save_map(
    m: folium.Map | Element, path: str | os.PathLike, *, self_contained: bool = True
) -> Path:
    """Write a map as one HTML page, atomically.

    The page is rendered in memory first, written to a temporary file in the
    target folder, then moved onto ``path`` with :func:`os.replace`: an
    existing file is only ever replaced by a complete page, never left
    half-written if rendering or writing fails.

    Parameters
    ----------
    m : folium.Map
        The map, e.g. from :func:`overview_map`.
    path : str or path-like
        Target file; missing parent folders are created.
    self_contained : bool
        Copy the Leaflet library into the page (from the ``xstatic-leaflet``
        package), so that it displays without internet access (background
        tiles excepted). If that package is missing, the page links to the
        CDN instead, with a warning.

    Returns
    -------
    Path
        The path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    page = m.get_root().render()
    if self_contained:
        page = _inline_leaflet(page)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary, shareable file (mkstemp makes it private)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _leaflet_assets() -> tuple[str, str] | None:
    """Leaflet's JS and CSS (images inlined as data URIs), from ``xstatic-leaflet``."""
    try:
        from xstatic.pkg import leaflet as xleaflet
    except ImportError:
        return None
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        img = base / match["path"]
        if not img.is_file():
            return match[0]
        b64 = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    css = re.sub(r"url\((?P<path>images/[\w.-]+\.png)\)", data_uri, css)
    return js, css


def _inline_leaflet(page: str) -> str:
    assets = _leaflet_assets()
    if assets is None:
        warnings.warn(
            "xstatic-leaflet is not installed: the map page loads Leaflet from the internet and "
            "shows nothing offline; `pip install xstatic-leaflet` to make it self-contained",
            stacklevel=3,
        )
        return page
    js, css = assets
    js = js.replace("</script", "<\\/script")
    script = re.compile(
        r'<script src="https://cdn\.jsdelivr\.net/npm/leaflet@[\d.]+/dist/leaflet\.js">'
        r"\s*</script>"
    )
    link = re.compile(
        r'<link rel="stylesheet" href="https://cdn\.jsdelivr\.net/npm/leaflet@[\d.]+'
        r'/dist/leaflet\.css"\s*/?>'
    )
    page = script.sub(lambda _: f"<script>{js}</script>", page, count=1)
    page = link.sub(lambda _: f"<style>{css}</style>", page, count=1)
    return page
