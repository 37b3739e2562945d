"""The fiche of one QPV: a standalone HTML page in French (``templates/fiche.html.j2``).

Title (quartier, commune, code), the network situation, the viability
reading, the key figures (:func:`key_figures`) and a small map drawn by
``static/fiche.js`` from the GeoJSON the page carries. The page loads Leaflet
and ``fiche.js`` from ``maps/lib/`` (written once for every fiche by
:func:`qpvgeo.outputs.workshop.write_leaflet_lib`) instead of each carrying
~150 kB of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import shapely

from .._errors import ValidationError
from ..data import nomenclature
from ..data.population import SOURCE_IRIS
from . import mapkit as mk
from .labels_fr import (
    BARRIER_WORDS,
    DRIVE_NOTE,
    NO_NETWORK,
    NO_VALUE,
    attribution,
    fr_number,
    fr_value,
    indicator_text,
    not_evaluated,
    num,
    status_long,
    uses_drive_network,
)
from .maps.coupling import (
    NEAR_M,
    PAIR_CLASSES,
    POLARITE_STYLES,
    clq_text,
    pair_layer,
    pair_legend,
    pair_style,
    place_colour,
    place_palette,
    places_for_display,
    polarite_case,
    polarite_layer,
)
from .maps.viability import NO_SCORE_COLOUR, score_texts, viability_colour

#: background tiles of the fiche maps
_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#: the categories whose walking times a fiche gives
_FICHE_CATEGORIES = ("boulangerie", "pharmacie", "medecin_generaliste", "supermarche")

Row = tuple[str, str, str]

# ---------------------------------------------------------------------------
# key figures


def is_study_area(indicators: pd.DataFrame, code: str) -> bool:
    """Whether the area is a custom study perimeter (``--perimeters``), not a QPV."""
    kind = indicators.at[code, "perimeter_kind"] if "perimeter_kind" in indicators.columns else None
    return isinstance(kind, str) and kind != "QPV 2024"


def key_figures(code_qp: str, indicators: pd.DataFrame) -> list[Row]:
    """The key figures of one QPV, French-formatted: (group, label, value) rows.

    Missing values read « non évalué (raison) », never a blank or a zero.
    """
    st = mk.network_status(indicators, code_qp)
    return [
        *_population_rows(indicators, code_qp, st),
        *_access_rows(indicators, code_qp, st),
        *_supply_rows(indicators, code_qp, st),
        *_enclavement_rows(indicators, code_qp, st),
        *_coupling_rows(indicators, code_qp, st),
    ]


def _population_rows(ind: pd.DataFrame, code: str, st: str) -> list[Row]:
    g = "Population et revenus"
    study = is_study_area(ind, code)
    official = ind.get("population_source", pd.Series(dtype=object)).get(code) != SOURCE_IRIS
    secret = "pas de chiffre officiel pour un périmètre d'étude" if study else "non diffusé (secret statistique)"
    return [
        (g, "Population (INSEE, population municipale du quartier)" if official
         else "Population (estimation par les IRIS, RP 2021, selon la surface)",
         indicator_text(ind, code, "population_qpv", "habitants", 0, st, network=False,
                        reason="chiffre officiel non diffusé")),
        (g, "Taux de pauvreté du quartier (INSEE Filosofi, seuil de 60 %)",
         indicator_text(ind, code, "poverty_rate_qpv_pct", "%", 0, st, network=False,
                        reason=secret)),
        (g, "Taux d'emploi des 15-64 ans du quartier",
         indicator_text(ind, code, "employment_rate_qpv_pct", "%", 0, st, network=False,
                        reason=secret)),
        (g, "Contexte : revenu médian déclaré des IRIS du quartier (Filosofi 2021)",
         indicator_text(ind, code, "median_income_iris_eur", "€", 0, st, network=False,
                        reason="revenu non diffusé par l'INSEE pour ces IRIS")),
    ]  # fmt: skip


def _access_rows(ind: pd.DataFrame, code: str, st: str) -> list[Row]:
    g = "Accès à pied (temps médian des habitants, par les rues)"
    rows: list[Row] = []
    for cat in _FICHE_CATEGORIES:
        label = nomenclature.label(cat)
        if st == "absent":
            rows.append((g, f"{label}", not_evaluated(NO_NETWORK)))
            continue
        t = indicator_text(ind, code, f"walk_min_median_{cat}", "min", 1, st)
        rest = indicator_text(ind, code, f"walk_min_median_{cat}_rest_commune", "min", 1, st)
        share = indicator_text(ind, code, f"share_within_10min_{cat}_pct", "%", 0, st)
        rows.append((g, f"{label} : temps médian (quartier / reste de la commune)",
                     f"{t} / {rest}"))  # fmt: skip
        rows.append((g, f"{label} : habitants à moins de 10 min", share))
    return rows


def _supply_rows(ind: pd.DataFrame, code: str, st: str) -> list[Row]:
    g = "Offre de proximité"
    rows = [(g, "Gamme de proximité INSEE couverte à moins de 10 min",
             indicator_text(ind, code, "gamme_proximite_within_10min_pct", "%", 0, st))]  # fmt: skip
    for cat, label in (("pharmacie", "Pharmacies"), ("medecin_generaliste", "Médecins généralistes")):
        rows.append((g, f"{label} pour 1 000 habitants à 15 min (2SFCA à noyau gaussien, Dai 2010)",
                     indicator_text(ind, code, f"g2sfca_{cat}_per_1000", "", 2, st)))  # fmt: skip
    rows.append((g, "Part estimée des achats alimentaires faits près du quartier (modèle de Huff)",
                 indicator_text(ind, code, "huff_share_nearby_pct", "%", 0, st)))  # fmt: skip
    return rows


def _enclavement_rows(ind: pd.DataFrame, code: str, st: str) -> list[Row]:
    g = "Passage et enclavement"
    idx = fr_value(ind.at[code, "enclavement_index"] if "enclavement_index" in ind else None,
                   "", 2)  # fmt: skip
    if idx is not None:
        idx_text = f"{idx} sur 1 (0 ouvert, 1 très enclavé)"
    elif st == "absent":
        idx_text = not_evaluated(NO_NETWORK)
    elif st == "partiel":
        idx_text = not_evaluated("réseau de rues partiel : traversées non comptées")
    else:
        missing = str(ind.at[code, "enclavement_missing"]) if "enclavement_missing" in ind else ""
        idx_text = not_evaluated(f"manque : {missing}" if missing else NO_VALUE)
    etype = ind.at[code, "enclavement_type"] if "enclavement_type" in ind else None
    main = ind.at[code, "main_barrier"] if "main_barrier" in ind else None
    return [
        (g, "Passage piéton potentiel (rues les plus passantes du quartier, 90e centile)",
         indicator_text(ind, code, "flow_p90_trips_qpv", "trajets", 0, st)),
        (g, "Indice d'enclavement par les rues (traversées, détours)", idx_text),
        (g, "Type de coupure en bordure (seuils qpvgeo)",
         mk.esc(etype) if isinstance(etype, str) else not_evaluated("aucune valeur")),
        (g, "Périmètre bordé par une coupure (voie ferrée, cours d'eau)",
         indicator_text(ind, code, "share_perimeter_barrier_pct", "%", 0, st, network=False)),
        (g, "Coupure principale", _barrier_text(main)),
    ]  # fmt: skip


def _barrier_text(main: object) -> str:
    """« RN 20 (route) » from « RN 20 (road) »; « aucune » when there is none."""
    if not isinstance(main, str) or not main.strip():
        return "aucune"
    out = main
    for k, v in BARRIER_WORDS.items():
        out = out.replace(f"({k})", f"({v})")
    return mk.esc(out)


def _coupling_rows(ind: pd.DataFrame, code: str, st: str) -> list[Row]:
    g = "Couplage commerces – services publics"
    clq = "Co-localisation des services publics autour des commerces (CLQ)"
    share = "Commerces à 5 min ou moins d'un service public"
    n_pol = "Nombre de polarités (commerces et services à moins de 150 m les uns des autres)"
    if st == "absent":
        return [(g, label, not_evaluated(NO_NETWORK)) for label in (clq, share, n_pol)]
    return [
        (g, clq, clq_text(ind, code)),
        (g, share, indicator_text(ind, code, "share_shops_service_5min_pct", "%", 0, st,
                                  reason="aucun commerce à moins de 300 m du quartier")),
        (g, n_pol, indicator_text(ind, code, "n_polarites", "", 0, st)),
    ]  # fmt: skip


# ---------------------------------------------------------------------------
# the map of the fiche (layers as JSON, drawn by static/fiche.js)


def _feature_collection(
    gdf: gpd.GeoDataFrame, tips: Sequence[str] | None = None, klass: Sequence[int] | None = None
) -> dict:
    shown = mk.display(gdf[[gdf.geometry.name]].copy())
    feats = []
    for i, geom in enumerate(shown.geometry.values):
        if geom is None or geom.is_empty:
            continue
        props: dict = {}
        if tips is not None:
            props["t"] = tips[i]
        if klass is not None:
            props["k"] = int(klass[i])
        feats.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": feats}


def _leaflet_style(style: dict) -> dict:
    return {k: v for k, v in style.items() if v is not None}


def _fiche_layers(code: str, result) -> tuple[list[dict], list[str], list[list[float]]]:
    """The map layers of a fiche (JSON-ready), the legend lines, the bounds (lat/lon)."""
    qpv = result.qpv
    geom = qpv.at[code, "geometry"]
    layers: list[dict] = []
    legend: list[str] = []
    for add in (_isochrone_layers, _perimeter_layer, _polarite_layers, _pair_layers):
        more_layers, more_legend = add(code, result)
        layers += more_layers
        legend += more_legend
    places = mk.near(places_for_display(result.equipments), geom.buffer(NEAR_M))
    for famille, title in (("commerce", "Commerces"), ("service", "Services publics")):
        more_layers, more_legend = _place_layers(places, famille, title)
        layers += more_layers
        legend += more_legend
    xmin, ymin, xmax, ymax = gpd.GeoSeries([geom.buffer(250)], crs=qpv.crs).to_crs(4326).total_bounds
    bounds = [[round(ymin, 5), round(xmin, 5)], [round(ymax, 5), round(xmax, 5)]]
    return layers, legend, bounds


def _isochrone_layers(code: str, result) -> tuple[list[dict], list[str]]:
    """The isochrones of the QPV (the 10 min one shown); its legend line."""
    layers, legend = [], []
    iso = mk.of_qpv(result.isochrones, code)
    for minutes in sorted(mk.ISOCHRONE_COLOURS, reverse=True):
        sub = iso[iso["minutes"] == minutes] if len(iso) else iso
        if not len(sub):
            continue
        c = mk.ISOCHRONE_COLOURS[minutes]
        layers.append({
            "name": f"Zone atteinte à pied en {minutes} min",
            "passive": True,
            "hidden": minutes != 10,
            "style": {"color": c, "weight": 1, "opacity": 0.6, "fillColor": c, "fillOpacity": 0.1},
            "data": _feature_collection(sub),
        })  # fmt: skip
        if minutes == 10:
            legend.append(mk.case(c, "Zone atteinte à pied en 10 min par les rues (5 et 15 min : "
                                  "menu des couches)", "opacity:0.45;"))  # fmt: skip
    return layers, legend


def _perimeter_layer(code: str, result) -> tuple[list[dict], list[str]]:
    qpv = result.qpv
    name = f"{qpv.at[code, 'lib_qp']} ({code})"
    layer = {
        "name": "Périmètre du QPV",
        "style": {"color": "#111111", "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.1},
        "data": _feature_collection(qpv.loc[[code]], [mk.esc(name)]),
    }
    return [layer], [mk.case("#ffffff", "Périmètre du QPV", border=(3, "solid", "#111"))]


def _polarite_layers(code: str, result) -> tuple[list[dict], list[str]]:
    pols = mk.of_qpv(result.polarites, code)
    if not len(pols):
        return [], []
    pl = polarite_layer(pols)
    tips = [
        mk.polarite_tooltip(t, li, co, h)
        for t, li, co, h in zip(pl["type"], pl["lieux"], pl["composition"], pl["habitants"],
                                strict=True)
    ]  # fmt: skip
    mixed = pl["_m"].to_numpy(dtype=bool)
    layer = {
        "name": f"Polarités ({int(mixed.sum())} mixtes, {int((~mixed).sum())} d'un seul type)",
        "style": {},
        "styles": [_leaflet_style(POLARITE_STYLES[False]), _leaflet_style(POLARITE_STYLES[True])],
        "data": _feature_collection(pl, tips, mixed.astype(int)),
    }
    legend = [
        polarite_case(True, "Polarité mixte : commerces et services publics", weight=2),
        polarite_case(False, "Polarité d'un seul type", weight=2),
    ]
    return [layer], legend


def _pair_layers(code: str, result) -> tuple[list[dict], list[str]]:
    layers = []
    pairs = mk.of_qpv(result.service_pairs, code)
    if len(pairs):
        pl = pair_layer(pairs)
        tips = [
            f"{c} → {s} : {t} à pied"
            for c, s, t in zip(pl["commerce"], pl["service"], pl["temps"], strict=True)
        ]
        layers.append({
            "name": "Commerce → service public le plus proche",
            "style": {},
            "styles": [pair_style(k) for k in range(len(PAIR_CLASSES))],
            "data": _feature_collection(pl, tips, pl["_k"].to_numpy()),
        })  # fmt: skip
    if mk.network_status(result.indicators, code) == "absent":
        legend = [mk.warning_line(
            "Pas de réseau de rues dans les données : trajets commerce → service "
            "public, polarités et zones atteintes à pied non évalués."
        )]  # fmt: skip
    else:
        legend = [mk.heading("Commerce → service public le plus proche (temps à pied)")]
        legend += pair_legend()
    return layers, legend


def _place_layers(
    places: gpd.GeoDataFrame, famille: str, title: str
) -> tuple[list[dict], list[str]]:
    sub = places[places["famille"] == famille]
    if not len(sub):
        return [], []
    palette = place_palette(famille)
    colours = [c for c, _ in palette]
    klass = [colours.index(place_colour(famille, d)[0]) for d in sub["domain"]]
    shop = famille == "commerce"
    layer = {
        "name": f"{title} ({len(sub)})",
        "style": {"radius": 5 if shop else 4.5, "weight": 1,
                  "color": "#ffffff" if shop else "#1a1a1a", "fillOpacity": 0.95},
        "styles": [{"fillColor": c} for c in colours],
        "data": _feature_collection(sub, [mk.esc(x) for x in sub["libelle"]], klass),
    }  # fmt: skip
    used = set(klass)
    legend = [mk.heading(f"{title} ({'couleurs chaudes' if shop else 'couleurs froides'})")]
    legend += [mk.point(c, lab) for i, (c, lab) in enumerate(palette) if i in used]
    return [layer], legend


# ---------------------------------------------------------------------------
# the page


def fiche_html(code_qp: str, result, *, lib_prefix: str = "../lib/") -> str:
    """The fiche of one QPV: a standalone HTML page in French.

    Title (quartier, commune, code), the network situation, the viability
    reading (score, rank and rank range under the sensitivity check, the
    French text, the components used and missing), the key figures
    (:func:`key_figures`) and a small map of the QPV: its perimeter, the
    shops and public services within :data:`~qpvgeo.outputs.maps.coupling.NEAR_M`,
    the shop → nearest service lines, the polarités and the isochrones when
    there are some.

    Parameters
    ----------
    code_qp : str
        A QPV of ``result``.
    result : qpvgeo.pipeline.RunResult
        The run.
    lib_prefix : str
        Where the page finds ``leaflet.js``, ``leaflet.css`` and ``fiche.js``
        relative to itself (:func:`qpvgeo.outputs.workshop.write_leaflet_lib`
        writes them to ``maps/lib/``, next to ``maps/fiches/``).

    Returns
    -------
    str
        The HTML page.
    """
    qpv, ind = result.qpv, result.indicators
    if code_qp not in qpv.index or code_qp not in ind.index:
        raise ValidationError(f"QPV {code_qp!r} is not in this run")
    code = code_qp
    st = mk.network_status(ind, code)
    layers, legend, bounds = _fiche_layers(code, result)
    data = {"tiles": _TILES, "attribution": mk.esc(attribution(ind)), "bounds": bounds,
            "layers": layers}  # fmt: skip
    return mk.render(
        "fiche.html.j2",
        code=code,
        kind_text="Périmètre d'étude" if is_study_area(ind, code)
        else "Quartier prioritaire de la politique de la ville",
        name=str(qpv.at[code, "lib_qp"]),
        commune=str(qpv.at[code, "lib_com"]),
        status=st,
        status_text=status_long(ind, code),
        drive_note=DRIVE_NOTE if uses_drive_network(ind, [code]) else "",
        reading=score_texts(ind, code),
        colour=viability_colour(num(ind.at[code, "viability_score"])) or NO_SCORE_COLOUR,
        figures=key_figures(code, ind),
        legend=legend,
        near_km=fr_number(NEAR_M / 1000, 0),
        attribution=attribution(ind),
        lib_prefix=lib_prefix,
        css=mk.static_text("fiche.css"),
        payload=json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/"),
    )
