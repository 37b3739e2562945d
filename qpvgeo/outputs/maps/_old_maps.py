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

import math
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import branca.colormap as bcm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from .. import labels_fr as lf
from .. import mapkit as mk
from ...data import nomenclature
from ...data import sources
from ..._errors import MissingColumnError

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


def _fr_value(value: float, column: str) -> str:
    """French value of an indicator column, its unit and digits read from the column name."""
    digits = 0 if _unit(column) == "%" or float(value).is_integer() else 1
    return lf.fr_value(value, _unit(column), digits, missing="non calculée")


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
    bounds = [lf.fr_number(b, 0 if float(b).is_integer() else 1) for b in cmap.index]
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
    mk.check_qpv(qpv)
    mk.check_layer(equipments, "equipments", ("category", "code"), even_empty=True)
    if indicator not in indicators.columns:
        known = [c for c in indicators.columns if indicator_category(c) is not None]
        raise MissingColumnError(
            f"`indicators` has no column {indicator!r}; indicator columns are {known[:12]!r}"
            f"{' ...' if len(known) > 12 else ''}"
        )
    cats = _categories_to_draw(indicators, equipments, categories)

    table = _qpv_table(qpv, indicators, indicator)
    cmap = indicator_colormap(indicator, table["_value"])
    table["couleur"] = [cmap.rgb_hex_str(v) if pd.notna(v) else "" for v in table["_value"]]
    wgs = mk.to_wgs84(table)
    m = mk.new_map(attribution())

    label = indicator_label(indicator)
    has_value = table["_value"].notna()
    wgs = wgs.drop(columns="_value")
    for shown, name, style, why in (
        (has_value, "QPV avec valeur calculée", _overview_style, ("methode", "Méthode")),
        (~has_value, "QPV sans valeur calculée", lambda f: dict(NO_VALUE_STYLE),
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

    main_cat = indicator_category(indicator)
    if show_equipments is None:
        show_equipments = len(qpv) <= SHOW_EQUIPMENTS_MAX_QPV
    shown_cats = {c for c in cats if show_equipments and (c == main_cat or main_cat not in cats)}
    blocks = [
        (
            cmap.caption,
            [mk.case(c, t) for c, t in _class_labels(cmap, indicator)]
            + [mk.no_value(_no_value_legend(table))],
        )
    ]
    if cats:
        blocks.append(_equipment_layers(m, equipments, qpv, cats, shown_cats))
    n_val = int(has_value.sum())
    mk.finish(
        m,
        blocks,
        title or f"Quartiers prioritaires (QPV) — {label}",
        f"{len(table)} QPV, dont {n_val} avec une valeur calculée",
    )
    xmin, ymin, xmax, ymax = wgs.total_bounds
    # keep the QPV clear of the title (top) and the layer control (right)
    m.fit_bounds(
        [[ymin, xmin], [ymax, xmax]], padding_top_left=(40, 80), padding_bottom_right=(300, 20)
    )
    return m


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
    rows = []
    for i, code in enumerate(joined.index):
        v, st, cv, me = value.iloc[i], status.iloc[i], cover.iloc[i], str(method.iloc[i])
        if pd.isna(st):
            reseau = "non renseigné"
        elif st == "absent" or pd.isna(cv):
            reseau = _STATUS_FR.get(st, str(st))
        else:
            reseau = f"{_STATUS_FR.get(st, str(st))} ({lf.fr_number(cv, 0)} % de la surface)"
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
                "code": mk.esc(code),
                "quartier": mk.esc(joined["lib_qp"].iloc[i]) if "lib_qp" in joined else "",
                "commune": mk.esc(joined["lib_com"].iloc[i]) if "lib_com" in joined else "",
                "valeur": "non calculée" if pd.isna(v) else _fr_value(v, indicator),
                "reseau": reseau,
                "methode": mk.esc(me) or "non renseignée",
                "pourquoi": why,
            }
        )
    out = gpd.GeoDataFrame(rows, index=joined.index, geometry=joined.geometry.values, crs=qpv.crs)
    out["_value"] = value.to_numpy()
    return out


def _equipment_layers(
    m: folium.Map,
    equipments: gpd.GeoDataFrame,
    qpv: gpd.GeoDataFrame,
    cats: Sequence[str],
    shown: set[str],
) -> tuple[str, list[str]]:
    """One layer per category of the equipments near the QPV (``shown`` ones on); legend block."""
    colours = category_colours(cats)
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
    radius = lf.fr_number(EQUIPMENT_RADIUS_M / 1000, 1)
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
    page = m.get_root().render()
    if self_contained:
        page = _inline_leaflet(page)
    return mk.write_atomic(path, page)


def _inline_leaflet(page: str) -> str:
    assets = mk.leaflet_files()
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


# ---------------------------------------------------------------------------
# shared pieces of the access and enclavement maps

#: geometries are simplified by this much (metres) before being drawn
DISPLAY_TOLERANCE_M = mk.DISPLAY_TOLERANCE_M

#: the categories of the competition-aware indicators (``fca2_`` / ``e2sfca_`` columns)
FCA_CATEGORIES = ("pharmacie", "medecin_generaliste", "boulangerie", "alimentaire")
#: everyday categories drawn on the access map (one layer each) besides the mapped one
ACCESS_CATEGORIES = (
    "pharmacie", "medecin_generaliste", "boulangerie", "supermarche", "superette", "epicerie",
)  # fmt: skip
_PSEUDO_LABELS = {"alimentaire": "Commerces alimentaires"}

#: colours of the isochrones (5, 10, 15 min): the nearer, the darker
ISOCHRONE_COLOURS = {5: "#3f007d", 10: "#6a51a3", 15: "#9e9ac8"}
#: colour classes of the enclavement index (0 open - 1 cut off)
_INDEX_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
_INDEX_COLOURS = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
#: colours of the typology of cuts
TYPE_COLOURS = {
    "forte coupure": "#b2182b",
    "coupure modérée": "#f4a582",
    "pas de coupure": "#92c5de",
}
#: barrier lines
BARRIER_STYLES = {
    "rail": {"color": "#252525", "weight": 4, "opacity": 0.9, "dashArray": "10 4"},
    "water": {"color": "#1f78b4", "weight": 4.5, "opacity": 0.9},
    "road": {"color": "#e6550d", "weight": 4.5, "opacity": 0.9},
}
BARRIER_LABELS = {
    "rail": "voies ferrées",
    "water": "cours d'eau",
    "road": "autoroutes et voies rapides",
}
#: street flow classes: colours and line widths (thicker = more flow)
_FLOW_COLOURS = ("#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
_FLOW_WEIGHTS = (1.5, 2.5, 3.5, 5.0, 7.0)
_FLOW_QUANTILES = (0.5, 0.75, 0.9, 0.97)
_BARRIER_ONE = {"rail": "Voie ferrée", "water": "Cours d'eau", "road": "Autoroute ou voie rapide"}
CANDIDATE_COLOUR = "#00bcd4"
DETOUR_COLOUR = "#6a3d9a"

_DRIVE_NOTE = (
    "Réseau de rues : réseau routier OpenStreetMap, sans trottoirs ni cheminements "
    "piétons : temps et flux sont approchés sur les rues."
)
_COMPONENTS_FR = {
    "share_perimeter_barrier_pct": "coupures en bordure",
    "crossings_per_km": "franchissements par km",
    "longest_without_crossing_m": "plus long tronçon sans franchissement",
    "detour_gare": "détour vers la gare",
    "detour_supermarche": "détour vers le supermarché",
}


def category_label(category: str) -> str:
    """French label of a category, ``alimentaire`` (all food retail) included."""
    return _PSEUDO_LABELS.get(category) or nomenclature.label(category)


def _fmt(value: object, unit: str = "", digits: int = 1, missing: str = "non calculé") -> str:
    """French number with its unit, or ``missing`` (« non calculé ») for a missing value."""
    return lf.fr_value(value, unit, digits, missing=missing)


def _col(table: pd.DataFrame, column: str) -> pd.Series:
    if column in table.columns:
        return pd.to_numeric(table[column], errors="coerce")
    return pd.Series(np.nan, index=table.index, dtype=float)


def _fit(m: folium.Map, qpv: gpd.GeoDataFrame, focus: Sequence[str] | None) -> None:
    mk.fit(m, mk.select(qpv, focus, "`focus` codes"))


def _step_labels(bounds: Sequence[float], unit: str, digits: int) -> list[str]:
    suffix = f" {unit}" if unit else ""
    b = [lf.fr_number(x, digits) for x in bounds]
    return [f"de {b[i]} à {b[i + 1]}{suffix}" for i in range(len(b) - 1)]


def _nice_step(top: float, n: int) -> float:
    """Smallest 'round' step (1, 2, 2.5, 5 × 10^k) with ``n`` steps covering ``top``."""
    top = max(float(top), 1e-9)
    k = math.floor(math.log10(top / n))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * 10**k
        if step * n >= top:
            return step
    return 10 ** (k + 1)


def _nice(x: float) -> float:
    """Round to two significant digits."""
    if x <= 0:
        return 0.0
    return float(round(x, -int(math.floor(math.log10(x))) + 1))


# ---------------------------------------------------------------------------
# access map


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
    residents into account (E2SFCA, shown when the map opens) and the median
    walking time. The 5/10/15 min isochrones of each QPV are drawn as light
    nested areas (one layer per duration, under the QPV). The equipments of
    the category and of the other everyday categories within
    :data:`EQUIPMENT_RADIUS_M` of a QPV are one layer each. Tooltips give,
    per QPV: median time, share of residents within 10 min, number of
    equipments within 10 min, E2SFCA and 2SFCA per 1,000 residents, the
    median time in the rest of the commune, the INSEE proximity-range
    coverage and the Huff share of food shopping done near the QPV.

    Parameters
    ----------
    qpv, indicators, equipments
        As for :func:`overview_map` (``RunResult.qpv``, ``.indicators``,
        ``.equipments``).
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
        :data:`SHOW_EQUIPMENTS_MAX_QPV` QPV in view.

    Returns
    -------
    folium.Map
        Not saved: pass it to :func:`save_map`.

    Raises
    ------
    CRSError
        If a layer is not in EPSG:2154.
    MissingColumnError
        If ``indicators`` has neither ``e2sfca_<category>_per_1000`` nor
        ``walk_min_median_<category>``, or a layer lacks a needed column.
    ValidationError
        If ``qpv`` is empty or ``focus`` names an unknown QPV.
    """
    mk.check_qpv(qpv)
    mk.check_layer(equipments, "equipments", ("category", "code"), even_empty=True)
    mk.check_layer(isochrones, "isochrones", ("code_qp", "minutes"))
    e2_col, time_col = f"e2sfca_{category}_per_1000", f"walk_min_median_{category}"
    if e2_col not in indicators.columns and time_col not in indicators.columns:
        raise MissingColumnError(
            f"`indicators` has neither {e2_col!r} nor {time_col!r}: no access figure for "
            f"category {category!r} (competition-aware ones exist for {FCA_CATEGORIES!r})"
        )
    label = category_label(category)

    table = _access_table(qpv, indicators, category)
    wgs = mk.display(table)
    m = mk.new_map(attribution())
    iso_pane = mk.pane(m, "isochrones", 380)

    blocks: list[tuple[str, list[str]]] = []
    no_value = {
        **NO_VALUE_STYLE,
        "fillOpacity": 0.35,
    }
    fields = [c for c in _ACCESS_FIELDS if c in wgs.columns]
    aliases = [_ACCESS_FIELDS[c] for c in fields]
    props = wgs[[*fields, "geometry"]]
    if e2_col in indicators.columns:
        values = _col(table, e2_col).to_numpy()
        finite = values[np.isfinite(values)]
        step = _nice_step(finite.max() if len(finite) else 1.0, len(_SHARE_COLOURS))
        bounds = [i * step for i in range(len(_SHARE_COLOURS) + 1)]
        digits = 2 if step < 0.1 else 1 if step < 1 else 0
        if step in (0.25, 2.5, 0.025):
            digits += 1
        fills = [mk.step_colour(v, bounds, _SHARE_COLOURS) for v in values]
        layer = props.assign(_fill=fills)
        mk.geojson_group(
            layer,
            name="QPV : offre pour 1 000 habitants (E2SFCA)",
            style=lambda f: _qpv_style(f["properties"]["_fill"], no_value),
            fields=fields,
            aliases=aliases,
            highlight=True,
        ).add_to(m)
        blocks.append(
            (
                f"{label} : offre pour 1 000 habitants à 15 min (E2SFCA)",
                [
                    mk.case(c, t)
                    for c, t in zip(_SHARE_COLOURS, _step_labels(bounds, "", digits), strict=True)
                ]
                + [
                    mk.note(
                        "Équipements à 15 min de marche pour 1 000 habitants, compte tenu des "
                        "autres habitants qui les partagent (rouge = offre faible)."
                    )
                ],
            )
        )
    if time_col in indicators.columns:
        values = _col(table, time_col)
        cmap = indicator_colormap(time_col, values)
        fills = [cmap.rgb_hex_str(v) if pd.notna(v) else "" for v in values]
        mk.geojson_group(
            props.assign(_fill=fills),
            name="QPV : temps de marche médian",
            show=e2_col not in indicators.columns,
            style=lambda f: _qpv_style(f["properties"]["_fill"], no_value),
            fields=fields,
            aliases=aliases,
            highlight=True,
        ).add_to(m)
        lines = [mk.case(c, t) for c, t in _class_labels(cmap, time_col)]
        if e2_col in indicators.columns:
            lines.append(mk.note("Couche à activer dans le menu en haut à droite."))
        blocks.append((f"{label} : temps de marche médian", lines))
    blocks[-1][1].append(mk.no_value("QPV sans valeur calculée"))

    iso_lines = []
    iso = isochrones[isochrones["code_qp"].isin(qpv.index)] if len(isochrones) else isochrones
    for minutes in sorted(ISOCHRONE_COLOURS, reverse=True):  # 15 min first: under the others
        sub = iso[iso["minutes"] == minutes] if len(iso) else iso
        colour = ISOCHRONE_COLOURS[minutes]
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
        extra = f" (≈ {lf.fr_number(reach, 0)} m sur les rues)" if reach is not None else ""
        iso_lines.append(mk.case(colour, f"{minutes} min à pied{extra}", "opacity:0.35;"))
    n_iso = int(iso["code_qp"].nunique()) if len(iso) else 0
    iso_lines.reverse()
    iso_lines.append(
        mk.note(
            f"Zones atteintes à pied depuis les habitants du QPV ({n_iso} QPV avec un réseau de "
            "rues ; aucune isochrone pour les autres)."
        )
    )
    blocks.append(("Isochrones (zones atteintes à pied)", iso_lines))

    main_cats = _main_categories(category, equipments)
    wanted = list(dict.fromkeys([*main_cats, *ACCESS_CATEGORIES]))
    cats = [c for c in wanted if c in set(equipments["category"])]
    view_n = len(focus) if focus is not None else len(qpv)
    if show_equipments is None:
        show_equipments = view_n <= SHOW_EQUIPMENTS_MAX_QPV
    shown = set(main_cats) if show_equipments else set()
    blocks.append(_equipment_layers(m, equipments, qpv, cats, shown))
    blocks.append(("Méthode", [mk.note(_DRIVE_NOTE)]))

    n_val = int(_col(table, e2_col if e2_col in indicators.columns else time_col).notna().sum())
    mk.finish(
        m,
        blocks,
        title or f"Accès à pied des QPV — {label}",
        f"{len(table)} QPV, dont {n_val} avec une valeur calculée (réseau de rues)",
    )
    _fit(m, qpv, focus)
    return m


_ACCESS_FIELDS = {
    "code": "Code",
    "quartier": "Quartier",
    "commune": "Commune",
    "temps": "Temps de marche médian",
    "reste": "Reste de la commune (temps médian)",
    "part10": "Habitants à moins de 10 min",
    "n10": "Équipements à moins de 10 min",
    "e2sfca": "Offre pour 1 000 habitants (E2SFCA)",
    "fca2": "Offre pour 1 000 habitants (2SFCA)",
    "gamme": "Gamme de proximité INSEE couverte à 10 min",
    "huff": "Courses alimentaires faites à moins de 300 m (modèle de Huff)",
    "reseau": "Réseau de rues",
    "methode": "Méthode",
}


def _qpv_style(fill: str, no_value: dict) -> dict:
    if not fill:
        return dict(no_value)
    return {
        "fillColor": fill,
        "color": "#222222",
        "weight": 2.5,
        "fillOpacity": 0.7,
        "opacity": 0.9,
    }


def _main_categories(category: str, equipments: gpd.GeoDataFrame) -> list[str]:
    if category == "alimentaire" and "is_food_retail" in equipments.columns:
        is_food = equipments["is_food_retail"].fillna(False).astype(bool)
        food = equipments.loc[is_food, "category"]
        order = list(nomenclature.categories().index)
        return sorted(set(food), key=lambda c: order.index(c) if c in order else len(order))
    return [category]


def _access_table(
    qpv: gpd.GeoDataFrame, indicators: pd.DataFrame, category: str
) -> gpd.GeoDataFrame:
    """One row per QPV with the French strings of the access tooltip (and the raw values)."""
    time_col = f"walk_min_median_{category}"
    key = time_col if time_col in indicators.columns else f"e2sfca_{category}_per_1000"
    base = _qpv_table(qpv, indicators, key).drop(columns=["valeur", "_value"])
    ind = indicators.reindex(qpv.index)
    t, rest = _col(ind, time_col), _col(ind, f"{time_col}_rest_commune")
    comparison = []
    for tq, tr in zip(t, rest, strict=True):
        if not math.isfinite(tr):
            comparison.append("non calculé")
            continue
        text = _fmt(tr, "min")
        if math.isfinite(tq):
            gap = tq - tr
            if abs(gap) < 0.5:
                text += " (équivalent au QPV)"
            else:
                more = "de plus" if gap > 0 else "de moins"
                text += f" (QPV : {lf.fr_number(abs(gap), 1)} min {more})"
        comparison.append(text)
    out = base.assign(
        temps=[_fmt(v, "min") for v in t],
        reste=comparison,
        part10=[_fmt(v, "%", 0) for v in _col(ind, f"share_within_10min_{category}_pct")],
        n10=[_fmt(v, "", 1) for v in _col(ind, f"n_{category}_within_10min")],
        e2sfca=[_fmt(v, "", 2) for v in _col(ind, f"e2sfca_{category}_per_1000")],
        fca2=[_fmt(v, "", 2) for v in _col(ind, f"fca2_{category}_per_1000")],
        gamme=[_fmt(v, "%", 0) for v in _col(ind, "gamme_proximite_within_10min_pct")],
        huff=[_fmt(v, "%", 0) for v in _col(ind, "huff_share_nearby_pct")],
    )
    if time_col not in indicators.columns:
        out = out.drop(columns=["temps", "reste", "part10", "n10"])
    if f"e2sfca_{category}_per_1000" not in indicators.columns:
        out = out.drop(columns=["e2sfca", "fca2"])
    for col in (time_col, f"e2sfca_{category}_per_1000"):
        if col in indicators.columns:
            out[col] = _col(ind, col).to_numpy()
    return out


# ---------------------------------------------------------------------------
# enclavement map


def enclavement_map(
    qpv: gpd.GeoDataFrame,
    indicators: pd.DataFrame,
    barriers,
    streets: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    crossings: gpd.GeoDataFrame,
    detours: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    *,
    focus: Sequence[str] | None = None,
    title: str | None = None,
) -> folium.Map:
    """Map of how enclaved each QPV is and where pedestrians would flow around it.

    Layers: the QPV coloured by ``enclavement_index`` (0 open – 1 cut off;
    a dotted outline when the index rests on the barrier share only, for
    lack of a street network) or by ``enclavement_type``; the barrier lines
    (rail, water, roads when assessed); the points where streets cross each
    QPV boundary; the detour to the nearest station (dashed straight line,
    solid street route); the street segments coloured and sized by their
    expected pedestrian flow; the candidate segments (high footfall
    potential, no shop within 150 m); the shops sized by their footfall
    potential. The legend says which barrier kinds were not assessed.

    Parameters
    ----------
    qpv, indicators
        ``RunResult.qpv`` and ``RunResult.indicators`` (with
        ``enclavement_index``, ``enclavement_type`` and, when present, the
        barrier, crossing, street-structure and detour columns).
    barriers : qpvgeo.barriers.Barriers
        ``.lines`` (EPSG:2154, ``kind`` rail/water/road, ``name``) and
        ``.assessed`` (kind → ``"yes"`` / ``"partial"`` / ``"no"``).
    streets : GeoDataFrame
        Street segments with ``flow_trips`` (``RunResult.streets``).
    candidates : GeoDataFrame
        Candidate segments with ``flow_trips`` and ``code_qp``.
    crossings : GeoDataFrame
        Boundary crossing points with ``code_qp``.
    detours : GeoDataFrame
        Lines with ``code_qp``, ``kind`` (« vol d'oiseau » / « itinéraire »),
        ``length_m`` and ``detour_index``.
    equipments : GeoDataFrame
        Equipments; those with a ``footfall_potential_trips`` value are drawn.
    focus : sequence of str, optional
        QPV codes the map opens on (default: all QPV).
    title : str, optional
        Title shown on the map.

    Raises
    ------
    CRSError
        If a layer is not in EPSG:2154.
    MissingColumnError
        If ``indicators`` has no ``enclavement_index`` or a layer lacks a
        needed column.
    ValidationError
        If ``qpv`` is empty or ``focus`` names an unknown QPV.
    """
    lines = barriers.lines
    assessed = dict(getattr(barriers, "assessed", {}) or {})
    mk.check_qpv(qpv)
    for gdf, name, cols in (
        (lines, "barriers.lines", ("kind",)),
        (streets, "streets", ("flow_trips",)),
        (candidates, "candidates", ("flow_trips",)),
        (crossings, "crossings", ()),
        (detours, "detours", ("kind",)),
        (equipments, "equipments", ()),
    ):
        mk.check_layer(gdf, name, cols)
    if "enclavement_index" not in indicators.columns:
        raise MissingColumnError("`indicators` has no column 'enclavement_index'")

    table = _enclavement_table(qpv, indicators)
    wgs = mk.display(table)
    m = mk.new_map(attribution())
    panes = {
        "rues": mk.pane(m, "rues", 405),
        "candidats": mk.pane(m, "candidats", 410),
        "coupures": mk.pane(m, "coupures", 420),
        "detours": mk.pane(m, "detours", 430),
        "points": mk.pane(m, "points", 440),
    }
    # at the scale of a département, points would hide the small QPV: they start off
    show_points = (len(focus) if focus is not None else len(qpv)) <= SHOW_EQUIPMENTS_MAX_QPV
    fields = [c for c in _ENCLAVE_FIELDS if c in wgs.columns]
    aliases = [_ENCLAVE_FIELDS[c] for c in fields]
    props = wgs[[*fields, "geometry"]]
    blocks: list[tuple[str, list[str]]] = []

    # QPV by index
    index = _col(table, "enclavement_index")
    partial = table["_partial"].to_numpy()
    no_value = {**NO_VALUE_STYLE, "fillOpacity": 0.3}
    fills = [mk.step_colour(v, _INDEX_BINS, _INDEX_COLOURS) for v in index]
    mk.geojson_group(
        props.assign(_fill=fills, _partiel=partial),
        name="QPV : indice d'enclavement",
        style=lambda f: _enclave_style(
            f["properties"]["_fill"], f["properties"]["_partiel"], no_value
        ),
        fields=fields,
        aliases=aliases,
        highlight=True,
    ).add_to(m)
    idx_labels = _step_labels(_INDEX_BINS, "", 1)
    idx_labels[0] += " (ouvert)"
    idx_labels[-1] += " (très enclavé)"
    idx_lines = [mk.case(c, t) for c, t in zip(_INDEX_COLOURS, idx_labels, strict=True)]
    n_partial = int(partial.sum())
    if n_partial:
        idx_lines.append(
            mk.case(
                "#fdcc8a",
                f"Contour pointillé : indice partiel ({n_partial} QPV sans réseau de rues : "
                "coupures en bordure seulement)",
                "border:1.5px dotted #222;",
            )
        )
    if index.isna().any():
        idx_lines.append(mk.no_value("QPV sans indice calculé"))
    blocks.append(("Indice d'enclavement (0 ouvert – 1 très enclavé)", idx_lines))

    # QPV by type
    kinds = [_base_type(t) for t in table["_type"]]
    mk.geojson_group(
        props.assign(_fill=[TYPE_COLOURS.get(k, "") for k in kinds]),
        name="QPV : type de coupure",
        show=False,
        style=lambda f: _enclave_style(f["properties"]["_fill"], False, no_value),
        fields=fields,
        aliases=aliases,
        highlight=True,
    ).add_to(m)
    counts = pd.Series(kinds).value_counts()
    type_lines = [
        mk.case(c, f"{k} ({int(counts.get(k, 0))} QPV)") for k, c in TYPE_COLOURS.items()
    ]
    blocks.append(("Type de coupure, d'après le Cerema (couche à activer)", type_lines))

    # barriers
    zone = shapely.union_all(qpv.geometry.values).buffer(3000.0)
    near_lines = lines[lines.intersects(zone)] if len(lines) else lines
    bar_lines = []
    for kind in ("rail", "water", "road"):
        sub = near_lines[near_lines["kind"] == kind] if len(near_lines) else near_lines
        status = assessed.get(kind, "yes" if len(sub) else "no")
        if status == "no" and len(sub) == 0:
            continue
        one = _BARRIER_ONE[kind]
        names = sub["name"] if "name" in sub.columns else pd.Series(None, index=sub.index)
        layer = gpd.GeoDataFrame(
            {"nom": [f"{one} : {mk.esc(n)}" if mk.esc(n) and str(n) != "nan" else one
                     for n in names]},
            geometry=sub.geometry.values, crs=lines.crs,
        )  # fmt: skip
        style = BARRIER_STYLES[kind]
        mk.geojson_group(
            mk.display(layer, 5.0),
            name=f"Coupures : {BARRIER_LABELS[kind]} ({len(sub)})",
            style=lambda f, s=style: dict(s),
            pane=panes["coupures"],
            fields=["nom"],
            aliases=["Coupure"],
        ).add_to(m)
        text = BARRIER_LABELS[kind].capitalize()
        if status == "partial":
            text += " (évaluation partielle" + (" : Seine seulement)" if kind == "water" else ")")
        bar_lines.append(
            mk.line(style["color"], text, weight=style["weight"], dashed="dashArray" in style)
        )
    if assessed.get("road") == "no":
        bar_lines.append(
            mk.note(
                "Autoroutes et voies rapides : routes non évaluées (pas de données) ; "
                "une coupure routière peut manquer."
            )
        )
    blocks.append(("Coupures urbaines", bar_lines))

    # streets by flow
    flow_lines = []
    if len(streets):
        flows = pd.to_numeric(streets["flow_trips"], errors="coerce").fillna(0.0)
        positive = flows[flows > 0]
        cuts = (
            sorted({_nice(float(positive.quantile(q))) for q in _FLOW_QUANTILES})
            if len(positive)
            else []
        )
        bounds = [0.0, *cuts]
        klass = np.where(flows > 0, np.searchsorted(np.asarray(cuts), flows, side="right"), -1)
        layer = gpd.GeoDataFrame(
            {
                "flux": [_fmt(v, "trajets", 0) for v in flows],
                "_k": klass.astype(int),
            },
            geometry=streets.geometry.values,
            crs=streets.crs,
        )
        ncls = len(cuts) + 1
        colours = _FLOW_COLOURS[len(_FLOW_COLOURS) - ncls :]
        weights = _FLOW_WEIGHTS[len(_FLOW_WEIGHTS) - ncls :]

        def flow_style(f, colours=colours, weights=weights):
            k = f["properties"]["_k"]
            if k < 0:
                return {"color": "#8c8c8c", "weight": 1, "opacity": 0.5}
            return {"color": colours[k], "weight": weights[k], "opacity": 0.9, "lineCap": "round"}

        mk.geojson_group(
            mk.display(layer),
            name="Rues : flux piéton potentiel",
            style=flow_style,
            pane=panes["rues"],
            fields=["flux"],
            aliases=["Flux piéton potentiel"],
        ).add_to(m)
        b = [lf.fr_number(x, 0) for x in bounds]
        for i in range(ncls):
            text = f"plus de {b[i]}" if i == ncls - 1 else f"de {b[i]} à {b[i + 1]}"
            flow_lines.append(mk.line(colours[i], text + " trajets", weight=weights[i]))
        flow_lines.append(mk.line("#8c8c8c", "aucun trajet estimé", weight=1))
        flow_lines.append(
            mk.note(
                "Trajets à pied estimés des habitants vers les commerces et services, "
                "cumulés par rue (valeur relative, pour comparer les rues)."
            )
        )
    # candidates
    cand = candidates
    cand_name = "Emplacements candidats : fort passage potentiel, aucun commerce à moins de 150 m"
    cand_layer = gpd.GeoDataFrame(
        {
            "quartier": [mk.esc(c) for c in cand.get("code_qp", pd.Series("", index=cand.index))],
            "flux": [_fmt(v, "trajets", 0) for v in cand.get("flow_trips", [])],
        },
        geometry=cand.geometry.values,
        crs=cand.crs,
    )
    mk.geojson_group(
        mk.display(cand_layer),
        name=f"{cand_name} ({len(cand)})",
        style=lambda f: {
            "color": CANDIDATE_COLOUR,
            "weight": 9,
            "opacity": 0.95,
            "lineCap": "round",
        },
        pane=panes["candidats"],
        fields=["quartier", "flux"],
        aliases=["Emplacement candidat près du QPV", "Flux piéton potentiel"],
    ).add_to(m)
    flow_lines.append(mk.line(CANDIDATE_COLOUR, f"{cand_name} ({len(cand)})", weight=9))
    blocks.append(("Flux piéton potentiel (trajets par rue)", flow_lines))

    # shops by footfall potential
    shop_lines = []
    if "footfall_potential_trips" in equipments.columns:
        shops = equipments[
            pd.to_numeric(equipments["footfall_potential_trips"], errors="coerce").notna()
        ]
        foot = pd.to_numeric(shops["footfall_potential_trips"])
        top = float(foot.max()) if len(foot) and foot.max() > 0 else 1.0
        cats = sorted(set(shops["category"]))
        colours_cat = category_colours(cats)
        group = folium.FeatureGroup(
            name=f"Commerces : potentiel de passage ({len(shops)})", show=show_points
        )
        if len(shops):
            pts = mk.display(gpd.GeoDataFrame(
                {
                    "nom": [mk.esc(row.get("label_fr") or nomenclature.label(row["category"]))
                            for _, row in shops.iterrows()],
                    "passage": [_fmt(v, "trajets", 0) for v in foot],
                    "_r": [round(3 + 9 * math.sqrt(max(v, 0) / top), 1) for v in foot],
                    "_c": [colours_cat[c] for c in shops["category"]],
                },
                geometry=shops.geometry.values,
                crs=shops.crs,
            ))  # fmt: skip
            folium.GeoJson(
                pts.to_json(drop_id=True),
                marker=folium.CircleMarker(radius=5, weight=1, fill=True, pane=panes["points"]),
                style_function=lambda f: {
                    "radius": f["properties"]["_r"],
                    "fillColor": f["properties"]["_c"],
                    "color": "#ffffff",
                    "weight": 1,
                    "fillOpacity": 0.85,
                },
                tooltip=folium.GeoJsonTooltip(
                    fields=["nom", "passage"], aliases=["Commerce", "Passage potentiel"]
                ),
                control=False,
            ).add_to(group)
        group.add_to(m)
        shop_lines.append(
            "<div>"
            + "".join(
                f'<span class="en-ligne"><span class="point" style="background:'
                f'{colours_cat[c]};"></span>{mk.esc(nomenclature.label(c))}</span>'
                for c in cats
            )
            + "</div>"
        )
        shop_lines.append(
            mk.note(
                "Taille : trajets passant devant le commerce ou s'y arrêtant "
                f"(jusqu'à {lf.fr_number(top, 0)})."
            )
        )
        blocks.append(("Commerces selon leur potentiel de passage", shop_lines))

    # detours
    det_lines = []
    if len(detours):
        rows = []
        for _, row in detours.iterrows():
            straight = str(row["kind"]).startswith("vol")
            km = _fmt(lf.num(row.get("length_m")) / 1000, "km", 1)
            target = (
                "la gare la plus proche"
                if row.get("target", "gare") == "gare"
                else (f"l'équipement le plus proche ({mk.esc(row.get('target'))})")
            )
            if straight:
                text = f"À vol d'oiseau vers {target} : {km}"
            else:
                text = (
                    f"Itinéraire sur les rues vers {target} : {km}, soit "
                    f"{_fmt(row.get('detour_index'), '', 2)} fois la distance à vol d'oiseau"
                )
            rows.append({"trajet": text, "qpv": mk.esc(row.get("code_qp")), "_droit": straight})
        layer = gpd.GeoDataFrame(rows, geometry=detours.geometry.values, crs=detours.crs)
        mk.geojson_group(
            mk.display(layer),
            name="Détours vers la gare la plus proche",
            style=lambda f: {
                "color": DETOUR_COLOUR,
                "weight": 3 if f["properties"]["_droit"] else 4,
                "opacity": 0.95,
                "dashArray": "7 6" if f["properties"]["_droit"] else None,
            },
            pane=panes["detours"],
            fields=["qpv", "trajet"],
            aliases=["QPV", "Trajet"],
        ).add_to(m)
    det_lines.append(mk.line(DETOUR_COLOUR, "à vol d'oiseau", weight=3, dashed=True))
    det_lines.append(mk.line(DETOUR_COLOUR, "itinéraire sur les rues", weight=4))

    # crossings
    cr = crossings
    cr_layer = gpd.GeoDataFrame(
        {"qpv": [mk.esc(c) for c in cr.get("code_qp", pd.Series("", index=cr.index))]},
        geometry=cr.geometry.values,
        crs=cr.crs,
    )
    group = folium.FeatureGroup(
        name=f"Franchissements des limites des QPV ({len(cr)})", show=show_points
    )
    if len(cr):
        folium.GeoJson(
            mk.to_wgs84(cr_layer).to_json(drop_id=True),
            marker=folium.CircleMarker(
                radius=4,
                color="#111111",
                weight=1.5,
                fill=True,
                fill_color="#ffffff",
                fill_opacity=1,
                pane=panes["points"],
            ),  # fmt: skip
            tooltip=folium.GeoJsonTooltip(
                fields=["qpv"], aliases=["Rue franchissant la limite du QPV"]
            ),
            control=False,
        ).add_to(group)
    group.add_to(m)
    det_lines.append(
        mk.point(
            "#fff",
            "Franchissement de la limite d'un QPV par une rue",
            "border:1.5px solid #111;box-shadow:none;",
        )
    )
    blocks.append(("Détours et franchissements", det_lines))
    blocks.append(("Méthode", [mk.note(_DRIVE_NOTE)]))

    n_full = int((~table["_partial"] & index.notna()).sum())
    mk.finish(
        m,
        blocks,
        title or "Enclavement des QPV et flux piétons potentiels",
        f"{len(table)} QPV ; indice complet (franchissements, détours) pour {n_full} "
        "QPV entièrement couverts par le réseau de rues",
    )
    _fit(m, qpv, focus)
    return m


_ENCLAVE_FIELDS = {
    "code": "Code",
    "quartier": "Quartier",
    "commune": "Commune",
    "indice": "Indice d'enclavement (0 à 1)",
    "composantes": "Calculé à partir de",
    "type": "Type de coupure",
    "bordure": "Périmètre bordé par une coupure",
    "principale": "Coupure principale",
    "franchissements": "Rues franchissant la limite",
    "sans_franchissement": "Plus long tronçon de limite sans franchissement",
    "detour_gare": "Détour vers la gare",
    "detour_supermarche": "Détour vers le supermarché",
    "intersections": "Densité d'intersections",
    "impasses": "Part d'impasses",
    "candidats": "Emplacements candidats",
    "reseau": "Réseau de rues",
}


def _base_type(text: object) -> str:
    t = "" if not isinstance(text, str) else text
    return t.split(" (")[0] if t else "non évalué"


def _enclave_style(fill: str, partial: bool, no_value: dict) -> dict:
    if not fill:
        return dict(no_value)
    return {
        "fillColor": fill,
        "color": "#222222",
        "weight": 2 if partial else 2.5,
        "dashArray": "2 4" if partial else None,
        "fillOpacity": 0.55,
        "opacity": 0.9,
    }


def _enclavement_table(qpv: gpd.GeoDataFrame, indicators: pd.DataFrame) -> gpd.GeoDataFrame:
    """One row per QPV with the French strings of the enclavement tooltip."""
    base = _qpv_table(qpv, indicators, "enclavement_index").drop(columns=["valeur", "_value"])
    ind = indicators.reindex(qpv.index)
    idx = _col(ind, "enclavement_index")
    comps = ind.get("enclavement_components", pd.Series("", index=ind.index)).fillna("")
    comp_fr = [
        ", ".join(_COMPONENTS_FR.get(c.strip(), c.strip()) for c in str(s).split(",") if c.strip())
        or "—"
        for s in comps
    ]
    partial = np.array([str(s).strip() == "share_perimeter_barrier_pct" for s in comps], dtype=bool)
    types = ind.get("enclavement_type", pd.Series(np.nan, index=ind.index))
    border = []
    for code in ind.index:
        parts = []
        for kind, word in (("rail", "voie ferrée"), ("water", "cours d'eau"), ("road", "routes")):
            v = (
                lf.num(ind.at[code, f"share_perimeter_{kind}_pct"])
                if (f"share_perimeter_{kind}_pct" in ind.columns)
                else float("nan")
            )
            missing = "non évaluées" if kind == "road" else "non évalué"
            parts.append(f"{word} {_fmt(v, '%', 0, missing=missing)}")
        total = (
            _fmt(lf.num(ind.at[code, "share_perimeter_barrier_pct"]), "%", 0)
            if ("share_perimeter_barrier_pct" in ind.columns)
            else "non évalué"
        )
        border.append(f"{total} ({', '.join(parts)})")
    n_cr, cr_km = _col(ind, "n_crossings"), _col(ind, "crossings_per_km")
    crossing_text = [
        "non calculé (réseau de rues absent ou partiel)"
        if not math.isfinite(n)
        else f"{lf.fr_number(n, 0)} ({lf.fr_number(k, 1)} par km de limite)"
        for n, k in zip(n_cr, cr_km, strict=True)
    ]
    na = "non calculé"
    out = base.assign(
        indice=[_fmt(v, "", 2) for v in idx],
        composantes=comp_fr,
        type=[mk.esc(t) if isinstance(t, str) else "non évalué" for t in types],
        bordure=border,
        principale=[
            mk.esc(x) if isinstance(x, str) and x else "aucune"
            for x in ind.get("main_barrier", pd.Series(None, index=ind.index))
        ],
        franchissements=crossing_text,
        sans_franchissement=[_fmt(v, "m", 0) for v in _col(ind, "longest_without_crossing_m")],
        detour_gare=[
            _fmt(v, "", 2, na) + (" × la distance à vol d'oiseau" if math.isfinite(v) else "")
            for v in _col(ind, "detour_gare")
        ],
        detour_supermarche=[
            _fmt(v, "", 2, na) + (" × la distance à vol d'oiseau" if math.isfinite(v) else "")
            for v in _col(ind, "detour_supermarche")
        ],
        intersections=[_fmt(v, "par km²", 0) for v in _col(ind, "intersection_density_per_km2")],
        impasses=[_fmt(v, "%", 0) for v in _col(ind, "dead_end_share_pct")],
        candidats=[_fmt(v, "", 0) for v in _col(ind, "n_candidate_segments")],
    )
    out["_partial"] = partial
    out["_type"] = list(types)
    out["enclavement_index"] = idx.to_numpy()
    return out


# ---------------------------------------------------------------------------
# all the maps of a run


def _build_overview(result) -> folium.Map:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        return overview_map(result.qpv, result.indicators, result.equipments)


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
    return [save_map(build(result), out / name) for name, build in MAPS.items()]
