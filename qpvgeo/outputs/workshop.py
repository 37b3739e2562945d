"""Workshop material: coupling and viability maps, one fiche per QPV, slide images, an index.

Made for the working group « commerces & services de proximité »: workshop
presenters show where shops and public services sit together or apart and
why; planners read a viability reading they can explain. Everything the
reader sees is in French and opens as plain HTML files without Python,
offline included (only the background tiles need internet):

``maps/qpv_couplage.html``
    :func:`coupling_map`: shops (warm colours) and public services (cool
    colours), each shop linked to its nearest public service on the street
    network (coloured by walking time), the polarités (mixed ones solid,
    single-kind ones dashed).
``maps/qpv_viabilite.html``
    :func:`viability_map`: the QPV coloured by their viability reading.
``maps/fiches/<code_qp>.html``
    :func:`fiche_html`: one page per QPV (viability text, key figures in
    French with units, a small map). The fiches load Leaflet from
    ``maps/lib/`` (written once, :func:`write_leaflet_lib`) instead of each
    carrying ~150 kB of it: copy the whole ``maps/`` folder and they still
    work offline.
``maps/png/<code_qp>.png``, ``maps/png/viabilite.png``
    Static images for slides (matplotlib, no background tiles).
``maps/index.html``
    :func:`write_index`: links to every map and fiche.

:func:`export_workshop` writes all of it; every file is written atomically
(a temporary file in the target folder, then :func:`os.replace`).

Only five QPV of the mirror have a street network, and it is a drive network
(no footways): every network-based figure says so, and the QPV without one
show « non évalué (pas de réseau de rues dans les données) », never a blank.
"""

from __future__ import annotations

import html
import inspect
import io
import json
import math
import os
import weakref
from collections.abc import Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import mapkit as mk
from . import maps
from ..data import nomenclature
from ..indicators import viability
from .._errors import MissingColumnError, ValidationError
from . import labels_fr as lf
from .labels_fr import fr_number, fr_value  # public here: re-exported
from .mapkit import write_atomic  # public here: re-exported

# ---------------------------------------------------------------------------
# constants

#: features farther than this from the QPV shown are left off the maps and fiches (metres)
NEAR_M = 1000.0
#: geometries are simplified by this much (metres, before reprojecting) on the pages
SIMPLIFY_M = mk.DISPLAY_TOLERANCE_M
#: coordinate decimals in the pages (5 decimals of a degree ≈ 1 m)
COORD_DECIMALS = mk.COORD_DECIMALS

#: size budget of one fiche page. The fiche carries its text, its table and the
#: GeoJSON of the features within :data:`NEAR_M` of the QPV (a few hundred
#: points, a few polygons, simplified and rounded: typically 20–80 kB); Leaflet
#: (~150 kB) is *not* in it but in ``maps/lib/``. 300 kB leaves room for the
#: densest QPV while 47 fiches stay under ~15 MB, light enough to e-mail the folder.
FICHE_MAX_BYTES = 300_000
#: size budget of the index page (a table of links, no map library)
INDEX_MAX_BYTES = 100_000
#: size budget of the coupling and viability maps of a few-QPV run (Leaflet inlined)
MAP_MAX_BYTES = 1_500_000

#: size of the slide images (pixels)
PNG_SIZE = (1600, 1000)
_DPI = 100

#: the shared Leaflet files, relative to the output folder
LEAFLET_JS = "maps/lib/leaflet.js"
LEAFLET_CSS = "maps/lib/leaflet.css"
FICHE_JS = "maps/lib/fiche.js"

COUPLING_MAP = "maps/qpv_couplage.html"
VIABILITY_MAP = "maps/qpv_viabilite.html"
INDEX = "maps/index.html"
FICHES_DIR = "maps/fiches"
PNG_DIR = "maps/png"
VIABILITY_PNG = "maps/png/viabilite.png"
#: the files `qpvgeo run` checks before replacing an earlier run's outputs
OUTPUTS = (COUPLING_MAP, VIABILITY_MAP, INDEX, VIABILITY_PNG)

#: warm colours of the shops, by domain (pharmacies are shops in the nomenclature)
COMMERCE_COLOURS: dict[str, tuple[str, str]] = {
    "commerce_alimentaire": ("#d7301f", "Commerces alimentaires"),
    "commerce": ("#fd8d3c", "Autres commerces (tabac-presse, fleuriste…)"),
    "service_marchand": ("#fdd049", "Services marchands (café, restaurant, coiffure)"),
    "sante": ("#a50f5c", "Pharmacies"),
}
#: cool colours of the public services, by domain
SERVICE_COLOURS: dict[str, tuple[str, str]] = {
    "service_public": ("#08519c", "Services administratifs et sociaux (mairie, poste, PMI…)"),
    "education": ("#4292c6", "Écoles, collèges, lycées"),
    "sante": ("#01796f", "Santé publique (centre de santé, hôpital…)"),
    "sport_loisirs_culture": ("#7fcdbb", "Sport, culture, bibliothèques"),
    "transport": ("#54278f", "Gares"),
}
_OTHER_COMMERCE = ("#fc9272", "Autres commerces")
_OTHER_SERVICE = ("#9ecae1", "Autres services publics")

#: classes of walking time from a shop to its nearest public service (lower bound, label, colour)
PAIR_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.0, "moins de 2 min", "#1b7837"),
    (2.0, "de 2 à 5 min", "#7fbf7b"),
    (5.0, "de 5 à 10 min", "#c2a5cf"),
    (10.0, "10 min et plus", "#762a83"),
)

#: polarités: mixed ones (shops and public services) vs single-kind ones
POLARITE_STYLES = {
    True: {"color": "#111111", "weight": 3, "opacity": 0.95, "fillColor": "#ffe66d",
           "fillOpacity": 0.25, "dashArray": None},
    False: {"color": "#555555", "weight": 2, "opacity": 0.9, "fillColor": "#bbbbbb",
            "fillOpacity": 0.12, "dashArray": "6 5"},
}  # fmt: skip

#: fixed classes of the viability reading (0 least, 1 most favourable) and their colours
VIABILITY_BINS = (0.0, 0.35, 0.45, 0.55, 0.65, 1.0)
VIABILITY_COLOURS = ("#d73027", "#fc8d59", "#fee090", "#91bfdb", "#4575b4")
_NO_SCORE_COLOUR = "#9e9e9e"

#: colours of the isochrones, as on the access map
ISOCHRONE_COLOURS = maps.ISOCHRONE_COLOURS

NO_NETWORK = "pas de réseau de rues dans les données"
DRIVE_NOTE = (
    "Réseau de rues : réseau routier OpenStreetMap, sans trottoirs ni cheminements piétons ; "
    "les temps à pied, les trajets et le passage sont approchés sur les rues."
)
_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

_BARRIER_FR = {"rail": "voie ferrée", "water": "cours d'eau", "road": "route"}
_FICHE_CATEGORIES = ("boulangerie", "pharmacie", "medecin_generaliste", "supermarche")


# ---------------------------------------------------------------------------
# French text


def _not_evaluated(reason: str) -> str:
    return f"non évalué ({reason})"


# ---------------------------------------------------------------------------
# places, pairs and network status


def _places(equipments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shops and public services, one row per site and family, labels of the site joined.

    The result is cached for the last ``equipments`` frame seen (the fiches
    and images of a run all use the same one).
    """
    for ref, cached in _PLACES_CACHE:
        if ref() is equipments:
            return cached
    out = _compute_places(equipments)
    _PLACES_CACHE[:] = [(weakref.ref(equipments), out)]
    return out


_PLACES_CACHE: list = []


def _compute_places(equipments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    is_shop = equipments["is_commerce"].fillna(False).astype(bool)
    is_service = equipments["is_public_service"].fillna(False).astype(bool)
    eq = equipments[is_shop | is_service]
    famille = np.where(is_shop.loc[eq.index].to_numpy(), "commerce", "service")
    key = eq["site_id"].astype(str) if "site_id" in eq.columns else pd.Series(
        np.arange(len(eq)).astype(str), index=eq.index
    )
    eq = eq.assign(famille=famille, _site=key.to_numpy() + "|" + famille)
    sizes = eq.groupby(["_site", "label_fr"], sort=False).size().reset_index(name="n")
    sizes["txt"] = sizes["label_fr"].astype(str) + np.where(
        sizes["n"] > 1, " (×" + sizes["n"].astype(str) + ")", ""
    )
    labels = sizes.groupby("_site", sort=False)["txt"].agg(", ".join)
    first = eq.drop_duplicates("_site").set_index("_site")
    return gpd.GeoDataFrame(
        {
            "famille": first["famille"].to_numpy(),
            "domain": first["domain"].to_numpy(),
            "libelle": labels.reindex(first.index).to_numpy(),
        },
        geometry=first.geometry.values,
        crs=equipments.crs,
    )


def _place_colour(famille: str, domain: str) -> tuple[str, str]:
    if famille == "commerce":
        return COMMERCE_COLOURS.get(domain, _OTHER_COMMERCE)
    return SERVICE_COLOURS.get(domain, _OTHER_SERVICE)


def _pair_class(minutes: float) -> int:
    k = 0
    for i, (lo, _, _) in enumerate(PAIR_CLASSES):
        if minutes >= lo:
            k = i
    return k


def _pair_style(k: int) -> dict:
    """Leaflet style of a shop → service line of class ``k`` (the last class dashed)."""
    style = {"color": PAIR_CLASSES[k][2], "weight": 4, "opacity": 0.95}
    if k == len(PAIR_CLASSES) - 1:
        style["dashArray"] = "8 5"
    return style


def _pair_legend() -> list[str]:
    """Legend lines of the classes of :data:`PAIR_CLASSES` (as drawn by :func:`_pair_style`)."""
    return [
        mk.line(colour, text, dashed=i == len(PAIR_CLASSES) - 1)
        for i, (_, text, colour) in enumerate(PAIR_CLASSES)
    ]


def _polarite_case(mixed: bool, text: str, weight: float | None = None) -> str:
    """Legend line of a polarité (``weight`` of its border: that of the map style by default)."""
    s = POLARITE_STYLES[mixed]
    border = f"{s['weight'] if weight is None else weight}px"
    kind = "dashed" if s["dashArray"] else "solid"
    return mk.case(s["fillColor"], text, f"border:{border} {kind} {s['color']};")


def _dedupe_geoms(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop repeated geometries (polarités and pairs of neighbouring QPV overlap)."""
    if len(gdf) == 0:
        return gdf
    wkb = shapely.to_wkb(gdf.geometry.values)
    return gdf[~pd.Series(wkb, index=gdf.index).duplicated().to_numpy()]


def _status(indicators: pd.DataFrame, code: str) -> str:
    if code not in indicators.index or "network_status" not in indicators.columns:
        return "absent"
    st = indicators.at[code, "network_status"]
    return st if isinstance(st, str) else "absent"


#: network status in full words (the indicator maps say it shorter, in their tooltips)
_STATUS_FR = {
    "couvert": "couvert (réseau routier, sans cheminements piétons)",
    "partiel": "partiel (réseau routier couvrant une partie du quartier)",
    "absent": "aucun (pas de réseau de rues dans les données)",
}


# ---------------------------------------------------------------------------
# coupling map


def _pair_layer(pairs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    minutes = pd.to_numeric(pairs["walk_min"], errors="coerce")
    return gpd.GeoDataFrame(
        {
            "commerce": [mk.esc(x) for x in pairs["shop_label"]],
            "service": [mk.esc(x) for x in pairs["service_label"]],
            "temps": [fr_value(v, "min", missing="non calculé") for v in minutes],
            "_k": [_pair_class(v) if math.isfinite(v) else len(PAIR_CLASSES) - 1 for v in minutes],
        },
        geometry=pairs.geometry.values,
        crs=pairs.crs,
    )


def _polarite_layer(pols: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    mixed = pols["mixte"].astype(bool).to_numpy()
    kinds = [
        "mixte : commerces et services publics"
        if m
        else ("commerces seulement" if int(nc) > 0 else "services publics seulement")
        for m, nc in zip(mixed, pols["n_commerces"], strict=True)
    ]
    res = pols.get("qpv_residents_within_400m", pd.Series(np.nan, index=pols.index))
    foot = pols.get("footfall_potential_trips", pd.Series(np.nan, index=pols.index))
    na = "non calculé"
    return gpd.GeoDataFrame(
        {
            "type": kinds,
            "lieux": [
                f"{int(n)} lieux : {int(c)} commerce(s), {int(s)} service(s) public(s)"
                for n, c, s in zip(
                    pols["n_places"], pols["n_commerces"], pols["n_services_publics"], strict=True
                )
            ],
            "composition": [mk.esc(x) for x in pols["composition"]],
            "habitants": [fr_value(v, "habitants du QPV", 0, missing=na) for v in res],
            "passage": [fr_value(v, "trajets", 0, missing=na) for v in foot],
            "_m": mixed,
        },
        geometry=pols.geometry.values,
        crs=pols.crs,
    )


def coupling_map(
    qpv: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    service_pairs: gpd.GeoDataFrame,
    polarites: gpd.GeoDataFrame,
    *,
    codes: Sequence[str] | None = None,
    indicators: pd.DataFrame | None = None,
    title: str | None = None,
) -> folium.Map:
    """Map of where shops and public services sit together or apart, and why.

    Layers (French names): the QPV perimeters; the polarités (clusters of
    places within 150 m walk of each other), mixed ones (shops *and*
    public services) with a solid dark outline, single-kind ones dashed,
    their composition in the tooltip; the line from each shop to its
    nearest public service on the street network, coloured by walking time
    (classes of :data:`PAIR_CLASSES`); the shops (warm colours, one shade
    per domain) and the public services (cool colours), one layer each.
    Only what lies within :data:`NEAR_M` of the QPV shown is drawn.

    Parameters
    ----------
    qpv : GeoDataFrame
        ``RunResult.qpv`` (EPSG:2154, index ``code_qp``, ``lib_qp``, ``lib_com``).
    equipments : GeoDataFrame
        ``RunResult.equipments`` (``label_fr``, ``domain``, ``is_commerce``,
        ``is_public_service``, optional ``site_id``).
    service_pairs, polarites : GeoDataFrame
        ``RunResult.service_pairs`` and ``RunResult.polarites`` (may be empty).
    codes : sequence of str, optional
        QPV to show (default: all of ``qpv``).
    indicators : DataFrame, optional
        ``RunResult.indicators``: adds the network status, the co-location
        quotient and the share of shops ≤ 5 min from a public service to the
        QPV tooltips.
    title : str, optional
        Title shown on the map.

    Returns
    -------
    folium.Map
        Not saved: pass it to :func:`qpvgeo.maps.save_map`.
    """
    mk.check_qpv(qpv)
    mk.check_layer(qpv, "qpv", ("lib_qp", "lib_com"))
    place_columns = ("label_fr", "domain", "is_commerce", "is_public_service")
    mk.check_layer(equipments, "equipments", place_columns)
    mk.check_layer(service_pairs, "service_pairs", ("shop_label", "service_label", "walk_min"))
    mk.check_layer(polarites, "polarites", ("mixte", "composition", "n_places"))
    view = mk.select(qpv, codes)
    ind = indicators if indicators is not None else pd.DataFrame(index=qpv.index)
    zone = shapely.union_all(view.geometry.values).buffer(NEAR_M)
    sel = set(view.index)

    m = mk.new_map(maps.attribution())
    panes = {
        "qpv": mk.pane(m, "qpv", 402),
        "polarites": mk.pane(m, "polarites", 410),
        "trajets": mk.pane(m, "trajets", 420),
        "points": mk.pane(m, "points", 440),
    }
    blocks: list[tuple[str, list[str]]] = []

    # QPV perimeters
    statuses = [_status(ind, c) for c in view.index]
    rows = []
    for code, st in zip(view.index, statuses, strict=True):
        row = {
            "quartier": mk.esc(view.at[code, "lib_qp"]),
            "commune": mk.esc(view.at[code, "lib_com"]),
            "code": mk.esc(code),
            "reseau": _STATUS_FR.get(st, st),
        }
        if st == "absent":
            row["clq"] = row["part5"] = _not_evaluated(NO_NETWORK)
        else:
            row["clq"] = _clq_text(ind, code)
            row["part5"] = _fig(ind, code, "share_shops_service_5min_pct", "%", 0, st)
        rows.append(row)
    qpv_layer = mk.display(gpd.GeoDataFrame(rows, geometry=view.geometry.values, crs=view.crs))
    qpv_layer["_absent"] = [s == "absent" for s in statuses]
    mk.geojson_group(
        qpv_layer,
        name=f"Périmètres des QPV ({len(view)})",
        style=lambda f: {
            "color": "#616161" if f["properties"]["_absent"] else "#222222",
            "weight": 2.5,
            "dashArray": "5 4" if f["properties"]["_absent"] else None,
            "fillColor": "#9e9e9e" if f["properties"]["_absent"] else "#ffffff",
            "fillOpacity": 0.25 if f["properties"]["_absent"] else 0.15,
        },
        pane=panes["qpv"],
        fields=["quartier", "commune", "code", "reseau", "clq", "part5"],
        aliases=[
            "Quartier", "Commune", "Code", "Réseau de rues",
            "Co-localisation commerces → services publics (CLQ)",
            "Commerces à 5 min ou moins d'un service public",
        ],
    ).add_to(m)  # fmt: skip
    n_absent = sum(s == "absent" for s in statuses)
    qpv_lines = [mk.case("#ffffff", "QPV avec réseau de rues", "border:2.5px solid #222;")]
    if n_absent:
        qpv_lines.append(
            mk.case(
                "#d0d0d0",
                f"QPV sans réseau de rues dans les données ({n_absent}) : "
                "trajets, polarités et couplage non évalués",
                "border:2px dashed #616161;",
            )
        )
    blocks.append(("Quartiers prioritaires (QPV)", qpv_lines))

    # polarités
    pols = _dedupe_geoms(mk.of_qpv(polarites, sel))
    pol_lines = []
    if len(pols):
        layer = mk.display(_polarite_layer(pols))
        mixed = layer["_m"].to_numpy(dtype=bool)
        for flag, name in (
            (True, "Polarités mixtes : commerces et services publics"),
            (False, "Polarités d'un seul type (commerces ou services publics)"),
        ):
            sub = layer[mixed == flag]
            style = POLARITE_STYLES[flag]
            mk.geojson_group(
                sub,
                name=f"{name} ({len(sub)})",
                style=lambda f, s=style: dict(s),
                pane=panes["polarites"],
                fields=["type", "lieux", "composition", "habitants", "passage"],
                aliases=[
                    "Polarité", "Lieux", "Composition", "Habitants du QPV à moins de 400 m",
                    "Passage potentiel devant ses commerces",
                ],
            ).add_to(m)  # fmt: skip
            pol_lines.append(_polarite_case(flag, f"{name} ({len(sub)})"))
    else:
        pol_lines.append(mk.note("Aucune polarité calculée pour ces QPV."))
    pol_lines.append(
        mk.note(
            "Polarité : au moins 3 lieux (commerces, services publics) reliés de proche en "
            "proche par moins de 150 m de marche."
        )
    )
    blocks.append(("Polarités", pol_lines))

    # shop → nearest public service
    pairs = _dedupe_geoms(mk.of_qpv(service_pairs, sel))
    layer = mk.display(_pair_layer(pairs)) if len(pairs) else pairs
    mk.geojson_group(
        layer,
        name=f"Trajets commerce → service public le plus proche ({len(pairs)})",
        style=lambda f: _pair_style(f["properties"]["_k"]),
        pane=panes["trajets"],
        fields=["commerce", "service", "temps"],
        aliases=["Commerce", "Service public le plus proche", "Temps à pied sur les rues"],
    ).add_to(m)
    pair_lines = _pair_legend()
    pair_lines.append(
        mk.note(
            "Trait droit du commerce au service public le plus proche ; la couleur donne le temps "
            "de marche par les rues (commerces à moins de 300 m du QPV)."
        )
    )
    blocks.append(("Commerce → service public le plus proche", pair_lines))

    # places
    places = mk.near(_places(equipments), zone)
    for famille, name, palette, other in (
        ("commerce", "Commerces", COMMERCE_COLOURS, _OTHER_COMMERCE),
        ("service", "Services publics", SERVICE_COLOURS, _OTHER_SERVICE),
    ):
        sub = places[places["famille"] == famille]
        cols = [_place_colour(famille, d) for d in sub["domain"]]
        layer = mk.display(
            gpd.GeoDataFrame(
                {
                    "lieu": [mk.esc(x) for x in sub["libelle"]],
                    "genre": [lab for _, lab in cols],
                    "_c": [c for c, _ in cols],
                },
                geometry=sub.geometry.values,
                crs=sub.crs,
            )
        )
        mk.geojson_group(
            layer,
            name=f"{name} ({len(sub)})",
            style=lambda f, fam=famille: {
                "fillColor": f["properties"]["_c"],
                "color": "#ffffff" if fam == "commerce" else "#1a1a1a",
                "weight": 1,
                "fillOpacity": 0.95,
                "radius": 6 if fam == "commerce" else 4.5,
            },
            pane=panes["points"],
            fields=["lieu", "genre"],
            aliases=[name[:-1] if name.endswith("s") else name, "Type"],
            marker=folium.CircleMarker(radius=5, fill=True, pane=panes["points"]),
        ).add_to(m)
        used = pd.Series([lab for _, lab in cols]).value_counts()
        lines = [
            mk.point(colour, f"{label} ({int(used.get(label, 0))})")
            for colour, label in [*palette.values(), other]
            if used.get(label, 0)
        ]
        blocks.append((f"{name} à moins de {fr_number(NEAR_M / 1000, 0)} km (couleurs "
                       f"{'chaudes' if famille == 'commerce' else 'froides'})", lines))  # fmt: skip
    blocks.append(("Méthode", [mk.note(DRIVE_NOTE)]))

    n_net = len(view) - n_absent
    mk.finish(
        m,
        blocks,
        title or "Commerces et services publics : ensemble ou séparés ?",
        f"{len(view)} QPV ; trajets et polarités calculés pour les {n_net} QPV avec un réseau "
        "de rues dans les données",
    )
    mk.fit(m, view)
    return m


def _clq_text(ind: pd.DataFrame, code: str) -> str:
    clq, p = (
        lf.num(ind.at[code, col]) if col in ind else np.nan
        for col in ("clq_commerce_services", "clq_p_colocation")
    )
    if math.isnan(clq):
        return _not_evaluated("trop peu de commerces ou de services publics")
    text = fr_number(clq, 2)
    if math.isnan(p):
        return text
    verdict = (
        "services publics plus présents autour des commerces que par hasard"
        if p < 0.05
        else "pas plus proches que par hasard"
    )
    return f"{text} (p = {fr_number(p, 2)} : {verdict})"


# ---------------------------------------------------------------------------
# figures of one QPV


def _reason(status: str) -> str:
    if status == "absent":
        return NO_NETWORK
    return "aucune valeur calculée"


def _fig(
    ind: pd.DataFrame, code: str, column: str, unit: str, digits: int, status: str,
    *, network: bool = True, reason: str | None = None,
) -> str:  # fmt: skip
    """French value of an indicator, or « non évalué (reason) »."""
    value = ind.at[code, column] if column in ind.columns else np.nan
    text = fr_value(value, unit, digits)
    if text is not None:
        return text
    if reason is None:
        reason = _reason(status) if network else "aucune valeur calculée"
    return _not_evaluated(reason)


def _component_labels(text: object) -> list[str]:
    if not isinstance(text, str):
        return []
    return [viability.COMPONENTS[c.strip()][2] for c in text.split(",") if c.strip()]


def _spread() -> float:
    try:
        return float(inspect.signature(viability.sensitivity).parameters["spread"].default)
    except (KeyError, TypeError, ValueError):  # pragma: no cover - signature changed
        return float("nan")


def _rank_range(ind: pd.DataFrame, code: str) -> str:
    lo, hi = lf.num(ind.at[code, "rank_p05"]), lf.num(ind.at[code, "rank_p95"])
    if math.isnan(lo) or math.isnan(hi):
        return "non évalué"
    lo_i, hi_i = int(round(lo)), int(round(hi))
    spread = _spread()
    how = (
        f"pondérations tirées au hasard à ± {fr_number(100 * spread, 0)} %"
        if math.isfinite(spread)
        else "pondérations tirées au hasard"
    )
    if lo_i == hi_i:
        return f"rang {lo_i} dans 90 % des tirages ({how})"
    return f"entre le {lo_i}e et le {hi_i}e rang dans 90 % des tirages ({how})".replace(
        "le 1e ", "le 1er "
    )


def _score_texts(ind: pd.DataFrame, code: str) -> dict[str, str]:
    n = int(pd.to_numeric(ind["viability_score"], errors="coerce").notna().sum())
    score = lf.num(ind.at[code, "viability_score"])
    rank = lf.num(ind.at[code, "viability_rank"])
    missing = _component_labels(ind.at[code, "viability_missing"])
    why = NO_NETWORK if _status(ind, code) == "absent" else "aucune valeur calculée"
    return {
        "score": "non évaluée" if math.isnan(score) else fr_number(score, 2),
        "rang": "non classé" if math.isnan(rank) else f"{int(rank)} sur {n} QPV",
        "fourchette": _rank_range(ind, code),
        "composantes": ", ".join(_component_labels(ind.at[code, "viability_components"])) or "aucune",
        "manquantes": (", ".join(missing) + f" ({why})") if missing else "aucune",
        "texte": str(ind.at[code, "viability_text"]) if "viability_text" in ind else "",
    }


def key_figures(code_qp: str, indicators: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The key figures of one QPV, French-formatted: (group, label, value) rows.

    Missing values read « non évalué (raison) », never a blank or a zero.
    """
    ind = indicators
    code = code_qp
    st = _status(ind, code)
    rows: list[tuple[str, str, str]] = []
    g = "Population et revenus"
    rows.append((g, "Population estimée", _fig(ind, code, "population_est", "habitants", 0, st,
                                                  network=False)))  # fmt: skip
    rows.append((g, "Revenu médian déclaré par unité de consommation (Filosofi 2021, IRIS du quartier)",
                 _fig(ind, code, "median_income_eur", "€", 0, st,
                      reason="revenu non diffusé par l'INSEE pour ces IRIS")))  # fmt: skip

    g = "Accès à pied (temps médian des habitants, par les rues)"
    for cat in _FICHE_CATEGORIES:
        label = nomenclature.label(cat)
        t = _fig(ind, code, f"walk_min_median_{cat}", "min", 1, st)
        rest = _fig(ind, code, f"walk_min_median_{cat}_rest_commune", "min", 1, st)
        share = _fig(ind, code, f"share_within_10min_{cat}_pct", "%", 0, st)
        if st == "absent":
            rows.append((g, f"{label}", _not_evaluated(NO_NETWORK)))
            continue
        rows.append((g, f"{label} : temps médian (quartier / reste de la commune)",
                     f"{t} / {rest}"))  # fmt: skip
        rows.append((g, f"{label} : habitants à moins de 10 min", share))

    g = "Offre de proximité"
    rows.append((g, "Gamme de proximité INSEE couverte à moins de 10 min",
                 _fig(ind, code, "gamme_proximite_within_10min_pct", "%", 0, st)))  # fmt: skip
    for cat, label in (("pharmacie", "Pharmacies"), ("medecin_generaliste", "Médecins généralistes")):
        rows.append((g, f"{label} pour 1 000 habitants à 15 min (E2SFCA, partage entre habitants)",
                     _fig(ind, code, f"e2sfca_{cat}_per_1000", "", 2, st)))  # fmt: skip
    rows.append((g, "Part des achats alimentaires faits près du quartier (modèle de Huff)",
                 _fig(ind, code, "huff_share_nearby_pct", "%", 0, st)))  # fmt: skip

    g = "Passage et enclavement"
    rows.append((g, "Passage piéton potentiel (rues les plus passantes du quartier, 90e centile)",
                 _fig(ind, code, "flow_p90_trips_qpv", "trajets", 0, st)))  # fmt: skip
    idx = fr_value(ind.at[code, "enclavement_index"] if "enclavement_index" in ind else None,
                   "", 2)  # fmt: skip
    comps = str(ind.at[code, "enclavement_components"]) if "enclavement_components" in ind else ""
    partial = comps.strip() == "share_perimeter_barrier_pct"
    if idx is None:
        idx_text = _not_evaluated("aucune valeur calculée")
    else:
        idx_text = f"{idx} sur 1 (0 ouvert, 1 très enclavé)"
        if partial:
            idx_text += " ; indice partiel : coupures en bordure seulement"
            idx_text += f" ({NO_NETWORK})" if st == "absent" else " (réseau de rues partiel)"
    rows.append((g, "Indice d'enclavement", idx_text))
    etype = ind.at[code, "enclavement_type"] if "enclavement_type" in ind else None
    rows.append((g, "Type de coupure (d'après le Cerema)",
                 mk.esc(etype) if isinstance(etype, str) else _not_evaluated("aucune valeur")))  # fmt: skip
    rows.append((g, "Périmètre bordé par une coupure (voie ferrée, cours d'eau)",
                 _fig(ind, code, "share_perimeter_barrier_pct", "%", 0, st, network=False)))  # fmt: skip
    main = ind.at[code, "main_barrier"] if "main_barrier" in ind else None
    rows.append((g, "Coupure principale", _barrier_fr(main)))

    g = "Couplage commerces – services publics"
    if st == "absent":
        for label in (
            "Co-localisation des services publics autour des commerces (CLQ)",
            "Commerces à 5 min ou moins d'un service public",
            "Nombre de polarités (commerces et services à moins de 150 m les uns des autres)",
        ):
            rows.append((g, label, _not_evaluated(NO_NETWORK)))
    else:
        rows.append((g, "Co-localisation des services publics autour des commerces (CLQ)",
                     _clq_text(ind, code)))  # fmt: skip
        rows.append((g, "Commerces à 5 min ou moins d'un service public",
                     _fig(ind, code, "share_shops_service_5min_pct", "%", 0, st,
                          reason="aucun commerce à moins de 300 m du quartier")))  # fmt: skip
        rows.append((g, "Nombre de polarités (commerces et services à moins de 150 m les uns "
                        "des autres)", _fig(ind, code, "n_polarites", "", 0, st)))  # fmt: skip
    return rows


def _barrier_fr(main: object) -> str:
    if not isinstance(main, str) or not main.strip():
        return "aucune"
    out = main
    for k, v in _BARRIER_FR.items():
        out = out.replace(f"({k})", f"({v})")
    return mk.esc(out)


# ---------------------------------------------------------------------------
# the fiche (standalone HTML page)

_FICHE_JS = r"""
(function () {
  var el = document.getElementById('carte');
  var d = window.QPVGEO_FICHE;
  if (typeof L === 'undefined') { return; }
  var map = L.map(el, {zoomSnap: 0.25, scrollWheelZoom: false});
  L.tileLayer(d.tiles, {maxZoom: 19, opacity: 0.6, attribution: d.attribution}).addTo(map);
  var overlays = {};
  d.layers.forEach(function (layer, i) {
    var pane = map.createPane('p' + i);
    pane.style.zIndex = 400 + i;
    if (layer.passive) { pane.style.pointerEvents = 'none'; }
    var styleOf = function (f) {
      var k = f.properties.k;
      return Object.assign({pane: 'p' + i}, layer.style,
                           (layer.styles && k !== undefined) ? layer.styles[k] : {});
    };
    var g = L.geoJSON(layer.data, {
      pane: 'p' + i,
      interactive: !layer.passive,
      style: styleOf,
      pointToLayer: function (f, ll) { return L.circleMarker(ll, styleOf(f)); },
      onEachFeature: function (f, l) {
        if (f.properties.t) { l.bindTooltip(f.properties.t, {sticky: true}); }
      }
    });
    if (!layer.hidden) { g.addTo(map); }
    overlays[layer.name] = g;
  });
  L.control.layers(null, overlays, {collapsed: true}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  map.fitBounds(d.bounds, {padding: [12, 12]});
  window.addEventListener('load', function () {
    map.invalidateSize();
    map.fitBounds(d.bounds, {padding: [12, 12]});
  });
})();
"""

_FICHE_CSS = """
body { font: 15px/1.45 Arial, Helvetica, sans-serif; color: #222; margin: 0; background: #f4f4f2; }
main { max-width: 1180px; margin: 0 auto; padding: 14px 22px 30px; background: #fff; }
nav a { color: #1f5f99; }
h1 { font-size: 25px; margin: 8px 0 2px; }
.sous-titre { color: #555; margin: 0 0 12px; }
.alerte { border-left: 5px solid #c96; background: #fff6e8; padding: 8px 12px; margin: 10px 0; }
.alerte.reseau { border-color: #888; background: #f1f1f1; }
.lecture { display: flex; gap: 18px; align-items: stretch; margin: 12px 0; flex-wrap: wrap; }
.score { min-width: 170px; text-align: center; border-radius: 8px; padding: 10px 14px;
  border: 1px solid #aaa; }
.score .valeur { font-size: 34px; font-weight: bold; }
.score .rang { font-size: 14px; }
.lecture .texte { flex: 1; min-width: 320px; }
.lecture .texte p { margin: 4px 0; }
.colonnes { display: grid; grid-template-columns: minmax(360px, 1fr) minmax(420px, 1.15fr);
  gap: 20px; align-items: start; }
@media (max-width: 980px) { .colonnes { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
td.v { white-space: normal; font-weight: bold; min-width: 120px; }
tr.groupe th { background: #eef2f6; font-size: 13px; padding-top: 8px; }
.ne { color: #8a5a00; font-weight: normal; font-style: italic; }
#carte { height: 520px; border: 1px solid #aaa; border-radius: 6px; }
.sans-carte { padding: 20px; color: #8a5a00; }
.legende { font-size: 13px; margin-top: 6px; columns: 2; column-gap: 18px; }
.legende div { break-inside: avoid; margin: 2px 0; }
.case { display: inline-block; width: 16px; height: 11px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #333; }
.ligne { display: inline-block; width: 24px; height: 0; margin-right: 6px; vertical-align: middle; }
.point { display: inline-block; width: 10px; height: 10px; margin: 0 8px 0 2px; border-radius: 50%;
  vertical-align: middle; border: 1px solid #fff; box-shadow: 0 0 0 1px #555; }
.note { color: #555; font-size: 13px; }
footer { margin-top: 18px; color: #666; font-size: 12px; }
.leaflet-container .leaflet-tooltip { font-size: 13px; max-width: 360px; white-space: normal; }
.leaflet-container .leaflet-control-layers { font-size: 12px; }
"""


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


def _fiche_layers(code: str, result) -> tuple[list[dict], list[str], list[float]]:
    """The map layers of a fiche (JSON-ready), the legend lines, the bounds (lat/lon)."""
    qpv = result.qpv
    geom = qpv.at[code, "geometry"]
    zone = geom.buffer(NEAR_M)
    layers: list[dict] = []
    legend: list[str] = []

    iso = mk.of_qpv(result.isochrones, code)
    for minutes in sorted(ISOCHRONE_COLOURS, reverse=True):
        sub = iso[iso["minutes"] == minutes] if len(iso) else iso
        if not len(sub):
            continue
        c = ISOCHRONE_COLOURS[minutes]
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

    one = qpv.loc[[code]]
    name = f"{qpv.at[code, 'lib_qp']} ({code})"
    layers.append({
        "name": "Périmètre du QPV",
        "style": {"color": "#111111", "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.1},
        "data": _feature_collection(one, [mk.esc(name)]),
    })  # fmt: skip
    legend.append(mk.case("#ffffff", "Périmètre du QPV", "border:3px solid #111;"))

    pols = mk.of_qpv(result.polarites, code)
    if len(pols):
        pl = _polarite_layer(pols)
        tips = [
            f"<b>Polarité {t}</b><br>{li}<br>{co}<br>Habitants du QPV à moins de 400 m : {h}"
            for t, li, co, h in zip(pl["type"], pl["lieux"], pl["composition"], pl["habitants"],
                                    strict=True)
        ]  # fmt: skip
        mixed = pl["_m"].to_numpy(dtype=bool)
        layers.append({
            "name": f"Polarités ({int(mixed.sum())} mixtes, {int((~mixed).sum())} d'un seul type)",
            "style": {},
            "styles": [_leaflet_style(POLARITE_STYLES[False]), _leaflet_style(POLARITE_STYLES[True])],
            "data": _feature_collection(pl, tips, mixed.astype(int)),
        })  # fmt: skip
        for flag, text in ((True, "Polarité mixte : commerces et services publics"),
                           (False, "Polarité d'un seul type")):  # fmt: skip
            legend.append(_polarite_case(flag, text, weight=2))

    pairs = mk.of_qpv(result.service_pairs, code)
    if len(pairs):
        pl = _pair_layer(pairs)
        tips = [
            f"{c} → {s} : {t} à pied"
            for c, s, t in zip(pl["commerce"], pl["service"], pl["temps"], strict=True)
        ]
        layers.append({
            "name": "Commerce → service public le plus proche",
            "style": {},
            "styles": [_pair_style(k) for k in range(len(PAIR_CLASSES))],
            "data": _feature_collection(pl, tips, pl["_k"].to_numpy()),
        })  # fmt: skip
    if _status(result.indicators, code) == "absent":
        legend.append(
            '<div class="ne">Pas de réseau de rues dans les données : trajets commerce → service '
            "public, polarités et zones atteintes à pied non évalués.</div>"
        )
    else:
        legend.append("<div><b>Commerce → service public le plus proche (temps à pied)</b></div>")
        legend.extend(_pair_legend())

    places = mk.near(_places(result.equipments), zone)
    for famille, title in (("commerce", "Commerces"), ("service", "Services publics")):
        sub = places[places["famille"] == famille]
        if not len(sub):
            continue
        palette = [*(COMMERCE_COLOURS if famille == "commerce" else SERVICE_COLOURS).values(),
                   _OTHER_COMMERCE if famille == "commerce" else _OTHER_SERVICE]  # fmt: skip
        colours = [c for c, _ in palette]
        klass = [colours.index(_place_colour(famille, d)[0]) for d in sub["domain"]]
        styles = [{"fillColor": c} for c in colours]
        layers.append({
            "name": f"{title} ({len(sub)})",
            "style": {"radius": 5 if famille == "commerce" else 4.5, "weight": 1,
                      "color": "#ffffff" if famille == "commerce" else "#1a1a1a",
                      "fillOpacity": 0.95},
            "styles": styles,
            "data": _feature_collection(sub, [mk.esc(x) for x in sub["libelle"]], klass),
        })  # fmt: skip
        used = set(klass)
        legend.append(f"<div><b>{title} ({'couleurs chaudes' if famille == 'commerce' else 'couleurs froides'})</b></div>")  # noqa: E501
        legend.extend(mk.point(c, lab) for i, (c, lab) in enumerate(palette) if i in used)

    xmin, ymin, xmax, ymax = gpd.GeoSeries([geom.buffer(250)], crs=qpv.crs).to_crs(4326).total_bounds
    bounds = [[round(ymin, 5), round(xmin, 5)], [round(ymax, 5), round(xmax, 5)]]
    return layers, legend, bounds


def _leaflet_style(style: dict) -> dict:
    return {k: v for k, v in style.items() if v is not None}


def fiche_html(code_qp: str, result, *, lib_prefix: str = "../lib/") -> str:
    """The fiche of one QPV: a standalone HTML page in French.

    Title (quartier, commune, code), the network situation, the viability
    reading (score, rank and rank range under the sensitivity check, the
    French text, the components used and missing), the key figures
    (:func:`key_figures`) and a small map of the QPV: its perimeter, the
    shops and public services within :data:`NEAR_M`, the shop → nearest
    service lines, the polarités and the isochrones when there are some.

    Parameters
    ----------
    code_qp : str
        A QPV of ``result``.
    result : qpvgeo.pipeline.RunResult
        The run.
    lib_prefix : str
        Where the page finds ``leaflet.js``, ``leaflet.css`` and ``fiche.js``
        relative to itself (:func:`write_leaflet_lib` writes them to
        ``maps/lib/``, next to ``maps/fiches/``).

    Returns
    -------
    str
        The HTML page.
    """
    qpv, ind = result.qpv, result.indicators
    if code_qp not in qpv.index or code_qp not in ind.index:
        raise ValidationError(f"QPV {code_qp!r} is not in this run")
    code = code_qp
    name, commune = str(qpv.at[code, "lib_qp"]), str(qpv.at[code, "lib_com"])
    st = _status(ind, code)
    sc = _score_texts(ind, code)
    score = lf.num(ind.at[code, "viability_score"])
    colour = _viability_colour(score) or _NO_SCORE_COLOUR

    if st == "absent":
        network_box = (
            '<p class="alerte reseau"><b>Pas de réseau de rues dans les données pour ce quartier.'
            "</b> Les temps de marche, l'offre à 10 min, les achats faits près du quartier, le "
            "passage piéton et le couplage commerces – services publics ne sont pas évalués "
            "(« non évalué » dans le tableau) ; la lecture de viabilité repose sur la demande, le "
            "revenu et les coupures en bordure du quartier.</p>"
        )
    else:
        extra = (
            " Il ne couvre qu'une partie du quartier : les habitants hors de son emprise ne sont "
            "pas comptés dans les temps de marche."
            if st == "partiel"
            else ""
        )
        network_box = f'<p class="alerte">{mk.esc(DRIVE_NOTE)}{extra}</p>'

    rows_html = []
    last_group = None
    for group, label, value in key_figures(code, ind):
        if group != last_group:
            rows_html.append(f'<tr class="groupe"><th colspan="2">{mk.esc(group)}</th></tr>')
            last_group = group
        cls = "v ne" if value.startswith("non évalué") else "v"
        rows_html.append(f'<tr><td>{mk.esc(label)}</td><td class="{cls}">{value}</td></tr>')

    layers, legend, bounds = _fiche_layers(code, result)
    data = {
        "tiles": _TILES,
        "attribution": mk.esc(maps.attribution()),
        "bounds": bounds,
        "layers": layers,
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    png = f"../png/{code}.png"
    text_fr = mk.esc(sc["texte"])
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{mk.esc(name)} ({mk.esc(commune)}) – fiche QPV {mk.esc(code)}</title>
<link rel="stylesheet" href="{lib_prefix}leaflet.css">
<style>{_FICHE_CSS}</style>
</head>
<body>
<main>
<nav><a href="../index.html">← Toutes les fiches et les cartes</a> ·
<a href="{png}">Image de la carte pour diaporama</a></nav>
<h1>{mk.esc(name)} — {mk.esc(commune)}</h1>
<p class="sous-titre">Quartier prioritaire de la politique de la ville {mk.esc(code)} ·
réseau de rues : {mk.esc(_STATUS_FR.get(st, st))}</p>
{network_box}
<section class="lecture">
  <div class="score" style="background:{colour}22;border-color:{colour};">
    <div>Lecture de viabilité</div>
    <div class="valeur">{sc['score']}</div>
    <div class="rang">rang {mk.esc(sc['rang'])}</div>
  </div>
  <div class="texte">
    <p>{text_fr}</p>
    <p class="note">Rang selon les pondérations : {mk.esc(sc['fourchette'])}.</p>
    <p class="note"><b>Composantes prises en compte :</b> {mk.esc(sc['composantes'])}.<br>
    <b>Non évaluées :</b> {mk.esc(sc['manquantes'])}.</p>
    <p class="note">Lecture de 0 (le moins favorable) à 1 (le plus favorable) : moyenne pondérée
    des rangs du quartier parmi les QPV du département pour chaque composante disponible ;
    une composante manquante n'est jamais comptée comme nulle.</p>
  </div>
</section>
<div class="colonnes">
<section>
<h2>Chiffres clés</h2>
<table>
{chr(10).join(rows_html)}
</table>
</section>
<section>
<h2>Carte du quartier</h2>
<div id="carte"></div>
<div class="legende">
{chr(10).join(legend)}
</div>
<p class="note">Commerces et services publics à moins de {fr_number(NEAR_M / 1000, 0)} km du
quartier (INSEE, BPE 2024). Le fond de carte OpenStreetMap s'affiche avec une connexion
internet ; sans connexion, les couches restent visibles.</p>
</section>
</div>
<footer>Sources : {mk.esc(maps.attribution())}.</footer>
</main>
<script src="{lib_prefix}leaflet.js"></script>
<script>window.QPVGEO_FICHE = {payload};</script>
<script src="{lib_prefix}fiche.js"></script>
<script>if (typeof L === 'undefined') {{ document.getElementById('carte').innerHTML =
'<p class="sans-carte">Carte indisponible : le dossier <code>lib</code> (à côté du dossier '
+ '<code>fiches</code>) doit accompagner la fiche. Les chiffres ci-contre restent valables.</p>'; }}
</script>
</body>
</html>
"""


def write_leaflet_lib(out_dir: str | os.PathLike) -> list[Path]:
    """Write ``maps/lib/leaflet.js``, ``leaflet.css`` and ``fiche.js`` (shared by the fiches)."""
    out = Path(out_dir)
    files = mk.leaflet_files()
    if files is None:  # pragma: no cover - a dependency of qpvgeo[maps]
        raise ImportError(
            "xstatic-leaflet is needed to write the offline fiches: "
            "`pip install xstatic-leaflet` (part of qpvgeo[maps])"
        )
    js, css = files
    return [
        write_atomic(out / LEAFLET_JS, js),
        write_atomic(out / LEAFLET_CSS, css),
        write_atomic(out / FICHE_JS, _FICHE_JS.lstrip()),
    ]


def write_fiches(
    result, out_dir: str | os.PathLike, codes: Sequence[str] | None = None
) -> list[Path]:
    """Write the fiche of every QPV (or of ``codes``) to ``maps/fiches/<code_qp>.html``.

    The shared Leaflet files are written to ``maps/lib/`` too. Returns the
    fiche paths, in the order of ``result.qpv``.
    """
    out = Path(out_dir)
    write_leaflet_lib(out)
    wanted = list(result.qpv.index) if codes is None else list(codes)
    return [write_atomic(out / FICHES_DIR / f"{c}.html", fiche_html(c, result)) for c in wanted]


# ---------------------------------------------------------------------------
# viability map


def _viability_colour(score: float) -> str:
    return mk.step_colour(score, VIABILITY_BINS, VIABILITY_COLOURS)


def viability_labels() -> list[tuple[str, str]]:
    """(colour, French label) of each fixed class of the viability reading."""
    b = [fr_number(x, 2) for x in VIABILITY_BINS]
    out = []
    last = len(VIABILITY_COLOURS) - 1
    for i, colour in enumerate(VIABILITY_COLOURS):
        if i == 0:
            text = f"moins de {b[1]} (le moins favorable)"
        elif i == last:
            text = f"{b[i]} et plus (le plus favorable)"
        else:
            text = f"de {b[i]} à {b[i + 1]}"
        out.append((colour, text))
    return out


def viability_map(
    qpv: gpd.GeoDataFrame, indicators: pd.DataFrame, *, title: str | None = None
) -> folium.Map:
    """Map of the QPV coloured by their viability reading (fixed classes :data:`VIABILITY_BINS`).

    Tooltips: score, rank, rank range under the sensitivity check, the
    French text, the components used and the missing ones (with why).
    QPV whose reading lacks the network-based components have a dotted
    outline (« lecture partielle »).
    """
    mk.check_qpv(qpv)
    for col in ("viability_score", "viability_rank", "viability_components", "viability_missing"):
        if col not in indicators.columns:
            raise MissingColumnError(f"`indicators` has no column {col!r}")
    ind = indicators.reindex(qpv.index)
    ind = ind.assign(viability_text=ind.get("viability_text", pd.Series("", index=ind.index)))
    n_scored = int(pd.to_numeric(indicators["viability_score"], errors="coerce").notna().sum())
    rows = []
    for code in qpv.index:
        sc = _score_texts(indicators, code) if code in indicators.index else None
        score = lf.num(ind.at[code, "viability_score"])
        missing = ind.at[code, "viability_missing"]
        rows.append({
            "quartier": mk.esc(qpv.at[code, "lib_qp"]),
            "commune": mk.esc(qpv.at[code, "lib_com"]),
            "code": mk.esc(code),
            "score": sc["score"] if sc else "non évaluée",
            "rang": sc["rang"] if sc else "non classé",
            "fourchette": sc["fourchette"] if sc else "non évalué",
            "texte": mk.esc(sc["texte"]) if sc else "",
            "composantes": mk.esc(sc["composantes"]) if sc else "aucune",
            "manquantes": mk.esc(sc["manquantes"]) if sc else "toutes",
            "reseau": _STATUS_FR.get(_status(ind, code), ""),
            "_fill": _viability_colour(score),
            "_partiel": isinstance(missing, str) and bool(missing.strip()),
        })  # fmt: skip
    table = mk.display(gpd.GeoDataFrame(rows, geometry=qpv.geometry.values, crs=qpv.crs))

    m = mk.new_map(maps.attribution())
    pane = mk.pane(m, "qpv", 410)
    fields = ["quartier", "commune", "code", "score", "rang", "fourchette", "texte",
              "composantes", "manquantes", "reseau"]  # fmt: skip
    aliases = ["Quartier", "Commune", "Code", "Lecture de viabilité (0 à 1)", "Rang",
               "Rang selon les pondérations", "En bref", "Composantes prises en compte",
               "Composantes non évaluées", "Réseau de rues"]  # fmt: skip
    has = table["_fill"] != ""

    def style(f):
        p = f["properties"]
        if not p["_fill"]:
            return dict(maps.NO_VALUE_STYLE)  # grey (_NO_SCORE_COLOUR), dashed outline
        return {
            "fillColor": p["_fill"],
            "color": "#222222",
            "weight": 2 if p["_partiel"] else 2.5,
            "dashArray": "2 4" if p["_partiel"] else None,
            "fillOpacity": 0.8,
        }

    layers = [(has, "QPV : lecture de viabilité")]
    if (~has).any():
        layers.append((~has, "QPV sans lecture de viabilité"))
    for shown, name in layers:
        mk.geojson_group(
            table[shown.to_numpy()],
            name=f"{name} ({int(shown.sum())})",
            style=style,
            pane=pane,
            fields=fields,
            aliases=aliases,
        ).add_to(m)
    n_partial = int(table["_partiel"].sum())
    lines = [mk.case(c, t) for c, t in viability_labels()]
    if (~has).any():
        lines.append(mk.no_value("aucune composante évaluée"))
    if n_partial:
        lines.append(
            mk.case(
                "#fee090",
                f"contour pointillé : lecture partielle ({n_partial} QPV), des composantes "
                "manquent (le plus souvent : pas de réseau de rues dans les données)",
                "border:1.5px dotted #222;",
            )
        )
    comp = [
        f"{lab} (poids {fr_number(viability.WEIGHTS.get(c, 0), 0)})"
        for c, (_, _, lab) in viability.COMPONENTS.items()
    ]
    blocks = [
        ("Lecture de viabilité du commerce de proximité", lines),
        (
            "Comment lire",
            [
                mk.note(
                    "Chaque composante donne le rang du quartier parmi les "
                    f"{n_scored} QPV (0 = le moins favorable, 1 = le plus favorable) ; la lecture "
                    "est leur moyenne pondérée, sur les composantes disponibles seulement."
                ),
                mk.note("Composantes : " + " ; ".join(comp) + "."),
                mk.note(
                    "La fourchette de rang montre la stabilité du classement quand les "
                    "pondérations varient."
                ),
            ],
        ),
        ("Méthode", [mk.note(DRIVE_NOTE)]),
    ]
    mk.finish(
        m,
        blocks,
        title or "Viabilité du commerce de proximité dans les QPV",
        f"{len(qpv)} QPV, dont {int(has.sum())} avec une lecture ; lecture partielle pour "
        f"{n_partial} QPV (composantes manquantes listées dans l'infobulle)",
    )
    mk.fit(m, qpv)
    return m


# ---------------------------------------------------------------------------
# static images for slides


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(PNG_SIZE[0] / _DPI, PNG_SIZE[1] / _DPI), dpi=_DPI)
    return fig


def _png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _scale_bar(ax, length_m: float, *, top: bool = False) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x0 + 0.03 * (x1 - x0)
    y = y1 - 0.06 * (y1 - y0) if top else y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="#111", lw=4, solid_capstyle="butt", zorder=20)
    label = f"{fr_number(length_m / 1000, 1)} km" if length_m >= 1000 else f"{int(length_m)} m"
    ax.text(x + length_m / 2, y + 0.012 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=12, zorder=20)  # fmt: skip


def fiche_png(code_qp: str, result) -> bytes:
    """Slide image (PNG, :data:`PNG_SIZE`) of the map of one QPV, French title and legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    qpv, ind = result.qpv, result.indicators
    code = code_qp
    geom = qpv.at[code, "geometry"]
    zone = geom.buffer(NEAR_M)
    st = _status(ind, code)
    fig = _figure()
    ax = fig.add_axes((0.01, 0.02, 0.66, 0.86))
    ax.set_axis_off()
    handles = []

    streets = mk.near(result.streets, zone) if len(result.streets) else result.streets
    if len(streets):
        streets.plot(ax=ax, color="#c8c8c8", linewidth=0.8, zorder=1)
        handles.append(Line2D([], [], color="#c8c8c8", lw=1.5, label="Rues (réseau routier)"))
    lines = getattr(result.barriers, "lines", None)
    if lines is not None and len(lines):
        near_b = mk.near(lines, zone.buffer(500))
        for kind, colour, dash, lab in (
            ("rail", "#252525", (0, (6, 2)), "Voie ferrée"),
            ("water", "#1f78b4", "solid", "Cours d'eau"),
            ("road", "#e6550d", "solid", "Autoroute, voie rapide"),
        ):
            sub = near_b[near_b["kind"] == kind] if len(near_b) else near_b
            if len(sub):
                sub.plot(ax=ax, color=colour, linewidth=2.5, linestyle=dash, zorder=2)
                handles.append(Line2D([], [], color=colour, lw=2.5, ls=dash, label=lab))
    iso = mk.of_qpv(result.isochrones, code)
    for minutes in sorted(ISOCHRONE_COLOURS, reverse=True):
        sub = iso[iso["minutes"] == minutes] if len(iso) else iso
        if len(sub):
            c = ISOCHRONE_COLOURS[minutes]
            sub.plot(ax=ax, facecolor=c, alpha=0.08, edgecolor=c, linewidth=1, zorder=3)
            handles.append(Patch(facecolor=c, alpha=0.3, edgecolor=c,
                                 label=f"Atteint à pied en {minutes} min"))  # fmt: skip
    qpv.loc[[code]].plot(ax=ax, facecolor="none", edgecolor="#111", linewidth=3, zorder=5)
    handles.append(Patch(facecolor="none", edgecolor="#111", linewidth=3, label="Périmètre du QPV"))

    pols = mk.of_qpv(result.polarites, code)
    for flag, lab in ((True, "Polarité mixte (commerces + services)"),
                      (False, "Polarité d'un seul type")):  # fmt: skip
        sub = pols[pols["mixte"].astype(bool) == flag] if len(pols) else pols
        s = POLARITE_STYLES[flag]
        if len(sub):
            sub.plot(ax=ax, facecolor=s["fillColor"], alpha=0.35, zorder=6)
            sub.plot(ax=ax, facecolor="none", edgecolor=s["color"], linewidth=s["weight"],
                     linestyle="--" if s["dashArray"] else "-", zorder=6)  # fmt: skip
            handles.append(Patch(facecolor=s["fillColor"], edgecolor=s["color"],
                                 linestyle="--" if s["dashArray"] else "-", label=lab))  # fmt: skip
    pairs = mk.of_qpv(result.service_pairs, code)
    if len(pairs):
        k = np.array([_pair_class(v) for v in pd.to_numeric(pairs["walk_min"])])
        for i, (_, text, colour) in enumerate(PAIR_CLASSES):
            sub = pairs[k == i]
            dash = "--" if i == len(PAIR_CLASSES) - 1 else "-"
            if len(sub):
                sub.plot(ax=ax, color=colour, linewidth=3, linestyle=dash, zorder=7)
            handles.append(Line2D([], [], color=colour, lw=3, ls=dash,
                                  label=f"Commerce → service public : {text}"))  # fmt: skip

    places = mk.near(_places(result.equipments), zone)
    for famille, marker, edge in (("commerce", "o", "white"), ("service", "s", "#1a1a1a")):
        sub = places[places["famille"] == famille]
        if not len(sub):
            continue
        cols = [_place_colour(famille, d) for d in sub["domain"]]
        sub.plot(ax=ax, color=[c for c, _ in cols], marker=marker, markersize=55,
                 edgecolor=edge, linewidth=0.7, zorder=8)  # fmt: skip
        for colour, lab in dict.fromkeys(cols):
            handles.append(Line2D([], [], marker=marker, color="none", markerfacecolor=colour,
                                  markeredgecolor=edge, markersize=10, label=lab))  # fmt: skip

    xmin, ymin, xmax, ymax = zone.bounds
    # the axes are 0.66 × 0.86 of a 16:10 figure: widen the view to its aspect
    aspect = (0.66 * PNG_SIZE[0]) / (0.86 * PNG_SIZE[1])
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    w, h = xmax - xmin, ymax - ymin
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal")
    _scale_bar(ax, 500.0)

    name, commune = qpv.at[code, "lib_qp"], qpv.at[code, "lib_com"]
    fig.text(0.015, 0.965, f"{name} — {commune} ({code})", fontsize=22, weight="bold",
             va="top")  # fmt: skip
    sub_title = "Commerces et services publics : ensemble ou séparés ?"
    sc = _score_texts(ind, code)
    sub_title += f"   Lecture de viabilité : {sc['score']} (rang {sc['rang']})"
    fig.text(0.015, 0.915, sub_title, fontsize=14, va="top", color="#333")
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.68, 0.89),
                        fontsize=11, frameon=False, title="Légende", title_fontsize=13,
                        alignment="left")  # fmt: skip
    legend.get_title().set_weight("bold")
    note = (
        "Pas de réseau de rues dans les données : trajets, polarités,\nisochrones et couplage "
        "non évalués pour ce quartier."
        if st == "absent"
        else "Réseau routier OpenStreetMap, sans cheminements piétons :\ntemps à pied approchés "
        "sur les rues."
    )
    fig.text(0.685, 0.10, note, fontsize=11, color="#8a5a00" if st == "absent" else "#444",
             va="bottom")  # fmt: skip
    fig.text(0.685, 0.03, "Sources : ANCT (QPV 2024), INSEE (BPE 2024, Filosofi),\n"
             "© contributeurs OpenStreetMap ; calculs qpvgeo", fontsize=9, color="#666")  # fmt: skip
    return _png_bytes(fig)


def viability_png(result) -> bytes:
    """Slide image of the viability reading of every QPV of the run (département overview).

    The QPV are coloured by class and numbered by rank (a dotted ring when
    the reading is partial); the ranked list stands beside the map.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    qpv, ind = result.qpv, result.indicators.reindex(result.qpv.index)
    fig = _figure()
    ax = fig.add_axes((0.0, 0.02, 0.52, 0.84))
    ax.set_axis_off()
    lines = getattr(result.barriers, "lines", None)
    zone = shapely.union_all(qpv.geometry.values).buffer(3000)
    handles = [Patch(facecolor=c, edgecolor="#222", label=t) for c, t in viability_labels()]
    if lines is not None and len(lines):
        near_b = mk.near(lines, zone)
        for kind, colour, dash, lab in (("rail", "#9a9a9a", (0, (6, 2)), "Voies ferrées"),
                                        ("water", "#9ecae1", "solid", "Cours d'eau")):  # fmt: skip
            sub = near_b[near_b["kind"] == kind] if len(near_b) else near_b
            if len(sub):
                sub.plot(ax=ax, color=colour, linewidth=1.2, linestyle=dash, zorder=1)
                handles.append(Line2D([], [], color=colour, lw=1.5, ls=dash, label=lab))
    scores = pd.to_numeric(ind["viability_score"], errors="coerce")
    ranks = pd.to_numeric(ind["viability_rank"], errors="coerce")
    partial = ind["viability_missing"].fillna("").astype(str).str.strip() != ""
    colours = [_viability_colour(v) or _NO_SCORE_COLOUR for v in scores]
    qpv.plot(ax=ax, color=colours, edgecolor="#222", linewidth=0.6, zorder=3)
    pts = qpv.geometry.representative_point()
    for p, colour, r, part in zip(pts.values, colours, ranks, partial, strict=True):
        ax.scatter([p.x], [p.y], s=250, color=colour, edgecolor="#222",
                   linewidth=1.1, linestyle=":" if part else "-", zorder=4)  # fmt: skip
        if math.isfinite(r):
            ax.text(p.x, p.y, f"{int(r)}", ha="center", va="center", fontsize=8.5,
                    weight="bold", zorder=5)  # fmt: skip
    handles.append(Line2D([], [], marker="o", color="none", markerfacecolor="#fee090",
                          markeredgecolor="#222", markersize=12, linestyle="none",
                          label="QPV (numéro = rang), contour plein : lecture complète"))  # fmt: skip
    if partial.any():
        handles.append(Line2D([], [], marker="o", color="none", markerfacecolor="#ffffff",
                              markeredgecolor="#222", markersize=12, linestyle="none",
                              label="contour pointillé : lecture partielle"))  # fmt: skip
    ax.set_aspect("equal")
    xmin, ymin, xmax, ymax = qpv.total_bounds
    pad = 2500
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    _scale_bar(ax, 5000.0, top=True)
    leg = ax.legend(handles=handles, loc="lower right", fontsize=10, title="Lecture de viabilité",
                    title_fontsize=11, framealpha=0.92)  # fmt: skip
    leg.get_title().set_weight("bold")

    fig.text(0.015, 0.965, "Viabilité du commerce de proximité dans les QPV de l'Essonne",
             fontsize=22, weight="bold", va="top")  # fmt: skip
    n_partial = int(partial.sum())
    fig.text(0.015, 0.915, "Lecture de 0 (le moins favorable) à 1 (le plus favorable), rang parmi "
             f"les {int(scores.notna().sum())} QPV.\nLecture partielle pour {n_partial} QPV sur "
             f"{len(qpv)} : pas de réseau de rues dans les données.", fontsize=12, va="top",
             color="#333")  # fmt: skip

    order = scores.sort_values(ascending=False, na_position="last").index
    entries = []
    for code in order:
        v, r = scores[code], ranks[code]
        label = f"{qpv.at[code, 'lib_qp']} ({qpv.at[code, 'lib_com']})"
        if len(label) > 40:
            label = label[:39] + "…"
        head = f"{int(r)}." if math.isfinite(r) else "–"
        entries.append((head, label, "n.é." if math.isnan(v) else fr_number(v, 2),
                        _viability_colour(v) or _NO_SCORE_COLOUR))  # fmt: skip
    per_col = math.ceil(len(entries) / 2) if len(entries) > 25 else len(entries)
    line_h = min(0.034, 0.80 / max(per_col, 1))
    x0, col_w = 0.535, 0.232
    fig.text(x0, 0.86, "Classement (rang, quartier, commune, lecture)", fontsize=12,
             weight="bold", va="bottom")  # fmt: skip
    for i, (head, label, v, colour) in enumerate(entries):
        col, row = divmod(i, per_col)
        x, y = x0 + col * col_w, 0.845 - row * line_h
        fig.text(x, y, "■", color=colour, fontsize=11, va="top")
        fig.text(x + 0.03, y, head, fontsize=8.5, va="top", ha="right")
        fig.text(x + 0.033, y, label, fontsize=8.5, va="top")
        fig.text(x + col_w - 0.008, y, v, fontsize=8.5, va="top", ha="right")
    fig.text(x0, 0.012, "Sources : ANCT (QPV 2024), INSEE (BPE 2024, Filosofi, population), "
             "© contributeurs OpenStreetMap ; calculs qpvgeo", fontsize=8, color="#666")  # fmt: skip
    return _png_bytes(fig)


def write_pngs(result, out_dir: str | os.PathLike, codes: Sequence[str] | None = None) -> list[Path]:
    """Write ``maps/png/<code_qp>.png`` for each QPV and ``maps/png/viabilite.png``."""
    out = Path(out_dir)
    wanted = list(result.qpv.index) if codes is None else list(codes)
    paths = [write_atomic(out / PNG_DIR / f"{c}.png", fiche_png(c, result)) for c in wanted]
    paths.append(write_atomic(out / VIABILITY_PNG, viability_png(result)))
    return paths


# ---------------------------------------------------------------------------
# index


#: French titles of the maps the index knows (file name → title, description)
MAP_TITLES: dict[str, tuple[str, str]] = {
    "qpv_overview.html": ("Vue d'ensemble", "Les QPV et le temps de marche vers la boulangerie."),
    "qpv_acces.html": ("Accès à pied", "Offre pour 1 000 habitants, temps de marche, isochrones."),
    "qpv_enclavement.html": ("Enclavement et flux piétons",
                             "Coupures urbaines, franchissements, détours, passage potentiel."),
    "qpv_couplage.html": ("Couplage commerces – services publics",
                          "Où commerces et services publics sont ensemble ou séparés, polarités."),
    "qpv_viabilite.html": ("Viabilité du commerce de proximité",
                           "Lecture de viabilité de chaque QPV, ses composantes et sa stabilité."),
}  # fmt: skip


def index_html(result, map_files: Sequence[str | os.PathLike], maps_dir: Path) -> str:
    """The index page (``maps/index.html``); links are relative to ``maps_dir``."""
    qpv, ind = result.qpv, result.indicators
    items = []
    for f in map_files:
        p = Path(f)
        rel = os.path.relpath(p, maps_dir).replace(os.sep, "/")
        title, desc = MAP_TITLES.get(p.name, (p.stem, ""))
        items.append(f'<li><a href="{html.escape(rel)}">{mk.esc(title)}</a> — {mk.esc(desc)}</li>')
    n_scored = int(pd.to_numeric(ind["viability_score"], errors="coerce").notna().sum())
    rows = []
    scores = pd.to_numeric(ind.reindex(qpv.index)["viability_score"], errors="coerce")
    order = scores.sort_values(ascending=False, na_position="last").index
    for code in order:
        st = _status(ind, code)
        score = scores[code]
        rank = lf.num(ind.at[code, "viability_rank"]) if code in ind.index else np.nan
        colour = _viability_colour(score) or _NO_SCORE_COLOUR
        fiche = maps_dir / "fiches" / f"{code}.html"
        png = maps_dir / "png" / f"{code}.png"
        name = mk.esc(qpv.at[code, "lib_qp"])
        link = f'<a href="fiches/{code}.html">{name}</a>' if fiche.is_file() else name
        img = f' <a class="png" href="png/{code}.png">image</a>' if png.is_file() else ""
        rng = _rank_short(ind, code)
        rows.append(
            f"<tr><td>{link}{img}</td><td>{mk.esc(qpv.at[code, 'lib_com'])}</td>"
            f"<td>{mk.esc(code)}</td>"
            f'<td data-v="{score if math.isfinite(score) else -1:.4f}">'
            f'<span class="pastille" style="background:{colour}"></span>'
            f"{'non évaluée' if math.isnan(score) else fr_number(score, 2)}</td>"
            f'<td data-v="{rank if math.isfinite(rank) else 999:.0f}">'
            f"{'–' if math.isnan(rank) else int(rank)}{rng}</td>"
            f"<td>{mk.esc({'couvert': 'couvert', 'partiel': 'partiel'}.get(st, 'aucun'))}</td></tr>"
        )
    overview_png = maps_dir / "png" / "viabilite.png"
    png_link = (
        '<p><a href="png/viabilite.png">Image de la lecture de viabilité pour diaporama</a></p>'
        if overview_png.is_file()
        else ""
    )
    n_net = int(sum(_status(ind, c) != "absent" for c in qpv.index))
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>QPV de l'Essonne – commerces et services de proximité</title>
<style>
body {{ font: 15px/1.45 Arial, Helvetica, sans-serif; color: #222; margin: 0; background: #f4f4f2; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 16px 24px 30px; background: #fff; }}
h1 {{ font-size: 25px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; }}
th {{ background: #eef2f6; cursor: pointer; }}
.pastille {{ display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  margin-right: 6px; border: 1px solid #333; vertical-align: middle; }}
.png {{ font-size: 12px; color: #666; }}
.note {{ color: #555; font-size: 13px; }}
a {{ color: #1f5f99; }}
</style>
</head>
<body>
<main>
<h1>Commerces et services de proximité dans les quartiers prioritaires de l'Essonne</h1>
<p>Groupe de travail « commerces &amp; services de proximité » : cartes interactives et une fiche
par quartier prioritaire (QPV). Les pages s'ouvrent dans un navigateur, sans connexion
(seul le fond de carte OpenStreetMap en demande une) : gardez ensemble tous les fichiers du
dossier <code>maps</code>.</p>
<h2>Cartes</h2>
<ul>
{chr(10).join(items)}
</ul>
{png_link}
<h2>Fiches des {len(qpv)} QPV</h2>
<p class="note">Classées par lecture de viabilité (0 le moins favorable, 1 le plus favorable ;
rang parmi {n_scored} QPV ; entre parenthèses, la fourchette de rang quand les pondérations
varient). Cliquez sur un en-tête pour trier. Réseau de rues disponible pour {n_net} QPV
seulement (réseau routier, sans cheminements piétons) : pour les autres, temps de marche,
passage et couplage ne sont pas évalués.</p>
<table id="fiches">
<thead><tr><th>Quartier</th><th>Commune</th><th>Code</th><th>Lecture de viabilité</th>
<th>Rang</th><th>Réseau de rues</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<p class="note">Sources : {mk.esc(maps.attribution())}.</p>
</main>
<script>
document.querySelectorAll('#fiches th').forEach(function (th, col) {{
  th.addEventListener('click', function () {{
    var body = document.querySelector('#fiches tbody');
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.asc !== '1';
    th.dataset.asc = asc ? '1' : '0';
    rows.sort(function (a, b) {{
      var x = a.cells[col], y = b.cells[col];
      var vx = x.dataset.v !== undefined ? parseFloat(x.dataset.v) : x.textContent;
      var vy = y.dataset.v !== undefined ? parseFloat(y.dataset.v) : y.textContent;
      var c = (typeof vx === 'number') ? vx - vy : vx.localeCompare(vy, 'fr');
      return asc ? c : -c;
    }});
    rows.forEach(function (r) {{ body.appendChild(r); }});
  }});
}});
</script>
</body>
</html>
"""


def _rank_short(ind: pd.DataFrame, code: str) -> str:
    if code not in ind.index or "rank_p05" not in ind.columns:
        return ""
    lo, hi = lf.num(ind.at[code, "rank_p05"]), lf.num(ind.at[code, "rank_p95"])
    if math.isnan(lo) or math.isnan(hi):
        return ""
    return f" ({int(round(lo))}–{int(round(hi))})"


def write_index(
    result, out_dir: str | os.PathLike, map_files: Sequence[str | os.PathLike]
) -> Path:
    """Write ``maps/index.html``: links to ``map_files`` and to every fiche, in French, no Leaflet.

    Map files that do not exist are left out (the index never links to a
    missing page); fiches and images are linked when present under
    ``maps/fiches/`` and ``maps/png/``.
    """
    maps_dir = Path(out_dir) / "maps"
    existing = [Path(f) for f in map_files if Path(f).is_file()]
    return write_atomic(maps_dir / "index.html", index_html(result, existing, maps_dir))


# ---------------------------------------------------------------------------
# everything


def export_workshop(
    result, out_dir: str | os.PathLike, *, indicator_maps: bool = True
) -> list[Path]:
    """Write all the workshop material of a run under ``out_dir/maps/``.

    The coupling map (``maps/qpv_couplage.html``) and the viability map
    (``maps/qpv_viabilite.html``), self-contained (Leaflet inlined by
    :func:`qpvgeo.maps.save_map`); with ``indicator_maps``, the maps of
    :data:`qpvgeo.maps.MAPS` too (overview, access, enclavement); the shared
    Leaflet files and one fiche per QPV; the slide images; the index.

    Returns
    -------
    list of Path
        Every file written, the index last.
    """
    out = Path(out_dir)
    written: list[Path] = []
    map_files: list[Path] = []
    if indicator_maps:
        map_files += maps.export_maps(result, out)
    map_files.append(
        maps.save_map(
            coupling_map(
                result.qpv, result.equipments, result.service_pairs, result.polarites,
                indicators=result.indicators,
            ),
            out / COUPLING_MAP,
            self_contained=True,
        )
    )  # fmt: skip
    map_files.append(
        maps.save_map(
            viability_map(result.qpv, result.indicators), out / VIABILITY_MAP, self_contained=True
        )
    )
    written += map_files
    written += write_leaflet_lib(out)
    written += write_fiches(result, out)
    written += write_pngs(result, out)
    written.append(write_index(result, out, map_files))
    return written
