"""The enclavement map: how cut off each QPV is, and where pedestrians would flow around it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..._errors import MissingColumnError
from ...data import nomenclature
from .. import mapkit as mk
from ..labels_fr import (
    BARRIER_LABELS,
    BARRIER_ONE,
    BARRIER_WORDS,
    DRIVE_NOTE_MAPS,
    ENCLAVEMENT_COMPONENTS,
    NOT_COMPUTED,
    NOT_EVALUATED,
    attribution,
    barrier_name,
    class_labels,
    fr_number,
    fr_value,
    method_notes,
    num,
)
from .overview import few_qpv, qpv_table

#: colour classes of the enclavement index (0 open - 1 cut off)
_INDEX_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
_INDEX_COLOURS = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
#: colours of the typology of cuts
TYPE_COLOURS = {
    "forte coupure": "#b2182b",
    "coupure modérée": "#f4a582",
    "pas de coupure": "#92c5de",
}
#: street flow classes: colours and line widths (thicker = more flow)
_FLOW_COLOURS = ("#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
_FLOW_WEIGHTS = (1.5, 2.5, 3.5, 5.0, 7.0)
_FLOW_QUANTILES = (0.5, 0.75, 0.9, 0.97)
CANDIDATE_COLOUR = "#00bcd4"
DETOUR_COLOUR = "#6a3d9a"
#: the panes of the line and point layers (their drawing order)
_PANES = (("rues", 405), ("candidats", 410), ("coupures", 420), ("detours", 430), ("points", 440))
_CANDIDATES = "Emplacements candidats : fort passage potentiel, aucun commerce à moins de 150 m"

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
    barriers : qpvgeo.data.barriers.Barriers
        ``.lines`` (EPSG:2154, ``kind`` rail/water/road, ``name``) and
        ``.assessed`` (kind → ``"yes"`` / ``"partial"`` / ``"no"``).
    streets, candidates : GeoDataFrame
        Street segments with ``flow_trips`` (``RunResult.streets``);
        candidate segments with ``flow_trips`` and ``code_qp``.
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
    _check_enclavement(qpv, indicators, barriers.lines, streets, candidates, crossings, detours,
                       equipments)  # fmt: skip
    table = enclavement_table(qpv, indicators)
    m = mk.new_map(attribution(indicators))
    panes = {name: mk.pane(m, name, z) for name, z in _PANES}
    show_points = few_qpv(qpv, focus)
    blocks = _add_qpv_layers(m, table)
    blocks.append(("Coupures urbaines", add_barrier_layers(m, qpv, barriers, panes["coupures"])))
    blocks.append(("Flux piéton potentiel (trajets par rue)", _add_flows(m, streets, panes["rues"])
                   + _add_candidates(m, candidates, panes["candidats"])))  # fmt: skip
    if "footfall_potential_trips" in equipments.columns:
        blocks.append(_add_shops(m, equipments, panes["points"], show_points))
    blocks.append(("Détours et franchissements", _add_detours(m, detours, panes["detours"])
                   + _add_crossings(m, crossings, panes["points"], show_points)))  # fmt: skip
    blocks.append(("Méthode", [mk.note(n) for n in method_notes(indicators, DRIVE_NOTE_MAPS)]))
    n_full = int(table["enclavement_index"].notna().sum())
    subtitle = (f"{len(table)} QPV ; indice complet (franchissements, détours) pour {n_full} "
                "QPV entièrement couverts par le réseau de rues")  # fmt: skip
    mk.finish(m, blocks, title or "Enclavement des QPV et flux piétons potentiels", subtitle)
    mk.fit(m, mk.select(qpv, focus, "`focus` codes"))
    return m


def _check_enclavement(
    qpv: gpd.GeoDataFrame, indicators: pd.DataFrame, *layers: gpd.GeoDataFrame
) -> None:
    """Raise unless the layers (barrier lines, streets, candidates, crossings, detours,
    equipments, in this order) are in EPSG:2154 with their columns."""
    lines, streets, candidates, crossings, detours, equipments = layers
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


# ---------------------------------------------------------------------------
# the QPV


def _add_qpv_layers(m: folium.Map, table: gpd.GeoDataFrame) -> list[tuple[str, list[str]]]:
    """The QPV by enclavement index (shown) and by type of cut; their legend blocks."""
    wgs = mk.display(table)
    fields = [c for c in _ENCLAVE_FIELDS if c in wgs.columns]
    aliases = [_ENCLAVE_FIELDS[c] for c in fields]
    props = wgs[[*fields, "geometry"]]
    index = table["enclavement_index"]
    no_value = {**mk.NO_VALUE_STYLE, "fillOpacity": 0.3}
    fills = [mk.step_colour(v, _INDEX_BINS, _INDEX_COLOURS) for v in index]
    mk.geojson_group(
        props.assign(_fill=fills),
        name="QPV : indice d'enclavement par les rues",
        style=lambda f: _enclave_style(f["properties"]["_fill"], no_value),
        fields=fields,
        aliases=aliases,
        highlight=True,
    ).add_to(m)
    texts = class_labels([fr_number(x, 1) for x in _INDEX_BINS])
    texts[0] += " (ouvert)"
    texts[-1] += " (très enclavé)"
    idx_lines = [mk.case(c, t) for c, t in zip(_INDEX_COLOURS, texts, strict=True)]
    if index.isna().any():
        idx_lines.append(mk.no_value(
            "non évalué : pas de réseau de rues couvrant tout le quartier, ou un détour manque"
        ))  # fmt: skip

    kinds = [_base_type(t) for t in table["_type"]]
    mk.geojson_group(
        props.assign(_fill=[TYPE_COLOURS.get(k, "") for k in kinds]),
        name="QPV : type de coupure",
        show=False,
        style=lambda f: _enclave_style(f["properties"]["_fill"], no_value),
        fields=fields,
        aliases=aliases,
        highlight=True,
    ).add_to(m)
    counts = pd.Series(kinds).value_counts()
    type_lines = [
        mk.case(c, f"{k} ({int(counts[k])} QPV)") for k, c in TYPE_COLOURS.items() if k in counts
    ]
    if NOT_EVALUATED in counts:
        absent = sorted(
            {
                t[t.index("(") + 1 : -1]
                for t in table["_type"]
                if _base_type(t) == NOT_EVALUATED and "(" in str(t)
            }
        )
        type_lines.append(mk.no_value(
            f"{NOT_EVALUATED} ({int(counts[NOT_EVALUATED])} QPV)" + (f" : {'; '.join(absent)}" if absent else "")
        ))  # fmt: skip
    return [
        ("Indice d'enclavement par les rues (0 ouvert – 1 très enclavé)", idx_lines),
        ("Type de coupure en bordure, seuils qpvgeo (couche à activer)", type_lines),
    ]


def _base_type(text: object) -> str:
    t = "" if not isinstance(text, str) else text
    return t.split(" (")[0] if t else NOT_EVALUATED


def _enclave_style(fill: str, no_value: dict) -> dict:
    if not fill:
        return dict(no_value)
    return {
        "fillColor": fill,
        "color": "#222222",
        "weight": 2.5,
        "fillOpacity": 0.55,
        "opacity": 0.9,
    }


# ---------------------------------------------------------------------------
# barriers, streets, candidates, shops, detours, crossings


def add_barrier_layers(m: folium.Map, qpv: gpd.GeoDataFrame, barriers, pane: str) -> list[str]:
    """One layer per barrier kind near the QPV; the legend lines (and what was not assessed)."""
    lines = barriers.lines
    assessed = dict(getattr(barriers, "assessed", {}) or {})
    zone = shapely.union_all(qpv.geometry.values).buffer(3000.0)
    near_lines = lines[lines.intersects(zone)] if len(lines) else lines
    legend = []
    for kind in ("rail", "water", "road"):
        sub = near_lines[near_lines["kind"] == kind] if len(near_lines) else near_lines
        status = assessed.get(kind, "yes" if len(sub) else "no")
        if status == "no" and len(sub) == 0:
            continue
        one = BARRIER_ONE[kind]
        names = sub["name"] if "name" in sub.columns else pd.Series(None, index=sub.index)
        layer = gpd.GeoDataFrame(
            {"nom": [f"{one} : {mk.esc(n)}" if mk.esc(n) and str(n) != "nan" else one
                     for n in names]},
            geometry=sub.geometry.values, crs=lines.crs,
        )  # fmt: skip
        style = mk.BARRIER_STYLES[kind]
        mk.geojson_group(
            mk.display(layer, 5.0),
            name=f"Coupures : {BARRIER_LABELS[kind]} ({len(sub)})",
            style=lambda f, s=style: dict(s),
            pane=pane,
            fields=["nom"],
            aliases=["Coupure"],
        ).add_to(m)
        text = BARRIER_LABELS[kind].capitalize()
        if status == "partial":
            text += " (évaluation partielle" + (" : Seine seulement)" if kind == "water" else ")")
        legend.append(
            mk.line(style["color"], text, weight=style["weight"], dashed="dashArray" in style)
        )
    if assessed.get("road") == "no":
        legend.append(mk.note(
            "Autoroutes et voies rapides : routes non évaluées (pas de données) ; "
            "une coupure routière peut manquer."
        ))  # fmt: skip
    return legend


def _nice(x: float) -> float:
    """Round to two significant digits."""
    if x <= 0:
        return 0.0
    return float(round(x, -int(math.floor(math.log10(x))) + 1))


def _add_flows(m: folium.Map, streets: gpd.GeoDataFrame, pane: str) -> list[str]:
    """The streets coloured and sized by their pedestrian flow class; the legend lines."""
    if not len(streets):
        return []
    flows = pd.to_numeric(streets["flow_trips"], errors="coerce").fillna(0.0)
    positive = flows[flows > 0]
    cuts = (
        sorted({_nice(float(positive.quantile(q))) for q in _FLOW_QUANTILES})
        if len(positive)
        else []
    )
    klass = np.where(flows > 0, np.searchsorted(np.asarray(cuts), flows, side="right"), -1)
    layer = gpd.GeoDataFrame(
        {
            "flux": [fr_value(v, "trajets", 0, missing=NOT_COMPUTED) for v in flows],
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
        pane=pane,
        fields=["flux"],
        aliases=["Flux piéton potentiel"],
    ).add_to(m)
    texts = class_labels([fr_number(x, 0) for x in [0.0, *cuts]], "trajets", above=True)
    legend = [mk.line(c, t, weight=w) for c, t, w in zip(colours, texts, weights, strict=True)]
    legend.append(mk.line("#8c8c8c", "aucun trajet estimé", weight=1))
    legend.append(mk.note(
        "Trajets à pied estimés des habitants vers les commerces et services, "
        "cumulés par rue (valeur relative, pour comparer les rues)."
    ))  # fmt: skip
    return legend


def _add_candidates(m: folium.Map, cand: gpd.GeoDataFrame, pane: str) -> list[str]:
    """The candidate segments (layer always there, maybe empty); their legend line."""
    layer = gpd.GeoDataFrame(
        {
            "quartier": [mk.esc(c) for c in cand.get("code_qp", pd.Series("", index=cand.index))],
            "flux": [
                fr_value(v, "trajets", 0, missing=NOT_COMPUTED) for v in cand.get("flow_trips", [])
            ],
        },
        geometry=cand.geometry.values,
        crs=cand.crs,
    )
    mk.geojson_group(
        mk.display(layer),
        name=f"{_CANDIDATES} ({len(cand)})",
        style=lambda f: {
            "color": CANDIDATE_COLOUR,
            "weight": 9,
            "opacity": 0.95,
            "lineCap": "round",
        },
        pane=pane,
        fields=["quartier", "flux"],
        aliases=["Emplacement candidat près du QPV", "Flux piéton potentiel"],
    ).add_to(m)
    return [mk.line(CANDIDATE_COLOUR, f"{_CANDIDATES} ({len(cand)})", weight=9)]


def _add_shops(
    m: folium.Map, equipments: gpd.GeoDataFrame, pane: str, show: bool
) -> tuple[str, list[str]]:
    """The shops sized by their footfall potential, coloured by category; the legend block."""
    shops = equipments[
        pd.to_numeric(equipments["footfall_potential_trips"], errors="coerce").notna()
    ]
    foot = pd.to_numeric(shops["footfall_potential_trips"])
    top = float(foot.max()) if len(foot) and foot.max() > 0 else 1.0
    cats = sorted(set(shops["category"]))
    colours = mk.category_colours(cats)
    group = folium.FeatureGroup(name=f"Commerces : potentiel de passage ({len(shops)})", show=show)
    if len(shops):
        pts = mk.display(gpd.GeoDataFrame(
            {
                "nom": [mk.esc(row.get("label_fr") or nomenclature.label(row["category"]))
                        for _, row in shops.iterrows()],
                "passage": [fr_value(v, "trajets", 0, missing=NOT_COMPUTED) for v in foot],
                "_r": [round(3 + 9 * math.sqrt(max(v, 0) / top), 1) for v in foot],
                "_c": [colours[c] for c in shops["category"]],
            },
            geometry=shops.geometry.values,
            crs=shops.crs,
        ))  # fmt: skip
        folium.GeoJson(
            pts.to_json(drop_id=True),
            marker=folium.CircleMarker(radius=5, weight=1, fill=True, pane=pane),
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
    legend = [
        mk.points_inline([(colours[c], nomenclature.label(c)) for c in cats]),
        mk.note(
            "Taille : trajets passant devant le commerce ou s'y arrêtant "
            f"(jusqu'à {fr_number(top, 0)})."
        ),
    ]
    return "Commerces selon leur potentiel de passage", legend


def _add_detours(m: folium.Map, detours: gpd.GeoDataFrame, pane: str) -> list[str]:
    """The detours to the nearest station (straight dashed, street route solid); legend lines."""
    if len(detours):
        rows = []
        for _, row in detours.iterrows():
            straight = str(row["kind"]).startswith("vol")
            rows.append(
                {"trajet": _detour_text(row, straight), "qpv": mk.esc(row.get("code_qp")),
                 "_droit": straight}
            )  # fmt: skip
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
            pane=pane,
            fields=["qpv", "trajet"],
            aliases=["QPV", "Trajet"],
        ).add_to(m)
    return [
        mk.line(DETOUR_COLOUR, "à vol d'oiseau", weight=3, dashed=True),
        mk.line(DETOUR_COLOUR, "itinéraire sur les rues", weight=4),
    ]


def _detour_text(row: pd.Series, straight: bool) -> str:
    km = fr_value(num(row.get("length_m")) / 1000, "km", 1, missing=NOT_COMPUTED)
    target = (
        "la gare la plus proche"
        if row.get("target", "gare") == "gare"
        else (f"l'équipement le plus proche ({mk.esc(row.get('target'))})")
    )
    if straight:
        return f"À vol d'oiseau vers {target} : {km}"
    ratio = fr_value(row.get("detour_index"), "", 2, missing=NOT_COMPUTED)
    return (
        f"Itinéraire sur les rues vers {target} : {km}, soit "
        f"{ratio} fois la distance à vol d'oiseau"
    )


def _add_crossings(m: folium.Map, cr: gpd.GeoDataFrame, pane: str, show: bool) -> list[str]:
    """The points where streets cross a QPV boundary; the legend line."""
    layer = gpd.GeoDataFrame(
        {"qpv": [mk.esc(c) for c in cr.get("code_qp", pd.Series("", index=cr.index))]},
        geometry=cr.geometry.values,
        crs=cr.crs,
    )
    group = folium.FeatureGroup(name=f"Franchissements des limites des QPV ({len(cr)})", show=show)
    if len(cr):
        folium.GeoJson(
            mk.to_wgs84(layer).to_json(drop_id=True),
            marker=folium.CircleMarker(
                radius=4,
                color="#111111",
                weight=1.5,
                fill=True,
                fill_color="#ffffff",
                fill_opacity=1,
                pane=pane,
            ),  # fmt: skip
            tooltip=folium.GeoJsonTooltip(
                fields=["qpv"], aliases=["Rue franchissant la limite du QPV"]
            ),
            control=False,
        ).add_to(group)
    group.add_to(m)
    return [
        mk.point(
            "#fff",
            "Franchissement de la limite d'un QPV par une rue",
            "border:1.5px solid #111;box-shadow:none;",
        )
    ]


# ---------------------------------------------------------------------------
# the tooltip table


def enclavement_table(qpv: gpd.GeoDataFrame, indicators: pd.DataFrame) -> gpd.GeoDataFrame:
    """One row per QPV with the French strings of the enclavement tooltip (and raw values)."""
    base = qpv_table(qpv, indicators, "enclavement_index").drop(columns=["valeur", "_value"])
    ind = indicators.reindex(qpv.index)
    comps = ind.get("enclavement_components", pd.Series("", index=ind.index)).fillna("")
    types = ind.get("enclavement_type", pd.Series(np.nan, index=ind.index))

    def fmt(column: str, unit: str, digits: int) -> list[str]:
        return [fr_value(v, unit, digits, missing=NOT_COMPUTED) for v in mk.numeric(ind, column)]

    def times(column: str) -> list[str]:
        after = " × la distance à vol d'oiseau"
        return [
            fr_value(v, "", 2, missing=NOT_COMPUTED) + (after if math.isfinite(v) else "")
            for v in mk.numeric(ind, column)
        ]

    out = base.assign(
        indice=fmt("enclavement_index", "", 2),
        composantes=[_components_text(s) for s in comps],
        type=[mk.esc(t) if isinstance(t, str) else NOT_EVALUATED for t in types],
        bordure=[_border_text(ind, code) for code in ind.index],
        principale=[
            mk.esc(barrier_name(x))
            for x in ind.get("main_barrier", pd.Series(None, index=ind.index))
        ],
        franchissements=_crossing_texts(ind),
        sans_franchissement=fmt("longest_without_crossing_m", "m", 0),
        detour_gare=times("detour_gare"),
        detour_supermarche=times("detour_supermarche"),
        intersections=fmt("intersection_density_per_km2", "par km²", 0),
        impasses=fmt("dead_end_share_pct", "%", 0),
        candidats=fmt("n_candidate_segments", "", 0),
    )
    out["_type"] = list(types)
    out["enclavement_index"] = mk.numeric(ind, "enclavement_index").to_numpy()
    return out


def _components_text(components: object) -> str:
    """« coupures en bordure, franchissements par km, … » (« — » for none)."""
    names = [c.strip() for c in str(components).split(",") if c.strip()]
    return ", ".join(ENCLAVEMENT_COMPONENTS.get(c, c) for c in names) or "—"


def _border_text(ind: pd.DataFrame, code: str) -> str:
    """Share of the perimeter along a barrier, in total and per kind."""
    parts = []
    for kind in ("rail", "water", "road"):
        column = f"share_perimeter_{kind}_pct"
        v = num(ind.at[code, column]) if column in ind.columns else float("nan")
        missing = "non évaluées" if kind == "road" else NOT_EVALUATED
        word = "routes" if kind == "road" else BARRIER_WORDS[kind]
        parts.append(f"{word} {fr_value(v, '%', 0, missing=missing)}")
    total = (
        fr_value(num(ind.at[code, "share_perimeter_barrier_pct"]), "%", 0, missing=NOT_COMPUTED)
        if ("share_perimeter_barrier_pct" in ind.columns)
        else NOT_EVALUATED
    )
    return f"{total} ({', '.join(parts)})"


def _crossing_texts(ind: pd.DataFrame) -> list[str]:
    n_cr, cr_km = mk.numeric(ind, "n_crossings"), mk.numeric(ind, "crossings_per_km")
    return [
        "non calculé (réseau de rues absent ou partiel)"
        if not math.isfinite(n)
        else f"{fr_number(n, 0)} ({fr_number(k, 1)} par km de limite)"
        for n, k in zip(n_cr, cr_km, strict=True)
    ]
