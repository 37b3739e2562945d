"""The coupling map: where shops and public services sit together or apart, and why.

Its colours, classes and layers are those of the fiches and slide images too:
shops in warm colours and public services in cool ones (:data:`COMMERCE_COLOURS`,
:data:`SERVICE_COLOURS`), the line from a shop to its nearest public service
coloured by walking time (:data:`PAIR_CLASSES`), the polarités
(:data:`POLARITE_STYLES`).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import mapkit as mk
from ..labels_fr import (
    DRIVE_NOTE,
    NO_NETWORK,
    NOT_COMPUTED,
    attribution,
    fr_number,
    fr_value,
    indicator_text,
    method_notes,
    not_evaluated,
    num,
    status_long,
)

#: features farther than this from the QPV shown are left off the maps and fiches (metres)
NEAR_M = 1000.0

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
OTHER_COMMERCE = ("#fc9272", "Autres commerces")
OTHER_SERVICE = ("#9ecae1", "Autres services publics")

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


# ---------------------------------------------------------------------------
# places, pairs and polarités, as drawn


def places_for_display(equipments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shops and public services to draw: one row per site and family, the site's labels joined.

    Columns ``famille`` (``commerce`` / ``service``), ``domain`` and ``libelle``
    (« Boulangerie (×2), Pharmacie »). The result is cached for the last
    ``equipments`` frame seen (the fiches and images of a run all use the same one).
    """
    for ref, cached in _PLACES_CACHE:
        if ref() is equipments:
            return cached
    out = _group_places(equipments)
    _PLACES_CACHE[:] = [(weakref.ref(equipments), out)]
    return out


_PLACES_CACHE: list = []


def _group_places(equipments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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


def place_palette(famille: str) -> list[tuple[str, str]]:
    """(colour, label) of every domain of a family, the « other » one last."""
    if famille == "commerce":
        return [*COMMERCE_COLOURS.values(), OTHER_COMMERCE]
    return [*SERVICE_COLOURS.values(), OTHER_SERVICE]


def place_colour(famille: str, domain: str) -> tuple[str, str]:
    """(colour, label) of a place of ``famille`` (``commerce`` / ``service``) and ``domain``."""
    if famille == "commerce":
        return COMMERCE_COLOURS.get(domain, OTHER_COMMERCE)
    return SERVICE_COLOURS.get(domain, OTHER_SERVICE)


def pair_class(minutes: float) -> int:
    """Index in :data:`PAIR_CLASSES` of a walking time."""
    k = 0
    for i, (lo, _, _) in enumerate(PAIR_CLASSES):
        if minutes >= lo:
            k = i
    return k


def pair_style(k: int) -> dict:
    """Leaflet style of a shop → service line of class ``k`` (the last class dashed)."""
    style = {"color": PAIR_CLASSES[k][2], "weight": 4, "opacity": 0.95}
    if k == len(PAIR_CLASSES) - 1:
        style["dashArray"] = "8 5"
    return style


def pair_legend() -> list[str]:
    """Legend lines of the classes of :data:`PAIR_CLASSES` (as drawn by :func:`pair_style`)."""
    return [
        mk.line(colour, text, dashed=i == len(PAIR_CLASSES) - 1)
        for i, (_, text, colour) in enumerate(PAIR_CLASSES)
    ]


def polarite_case(mixed: bool, text: str, weight: float | None = None) -> str:
    """Legend line of a polarité (``weight`` of its border: that of the map style by default)."""
    s = POLARITE_STYLES[mixed]
    kind = "dashed" if s["dashArray"] else "solid"
    border = (s["weight"] if weight is None else weight, kind, s["color"])
    return mk.case(s["fillColor"], text, border=border)


def pair_layer(pairs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The shop → nearest public service lines with their French tooltip and class ``_k``."""
    minutes = pd.to_numeric(pairs["walk_min"], errors="coerce")
    return gpd.GeoDataFrame(
        {
            "commerce": [mk.esc(x) for x in pairs["shop_label"]],
            "service": [mk.esc(x) for x in pairs["service_label"]],
            "temps": [fr_value(v, "min", missing=NOT_COMPUTED) for v in minutes],
            "_k": [pair_class(v) if math.isfinite(v) else len(PAIR_CLASSES) - 1 for v in minutes],
        },
        geometry=pairs.geometry.values,
        crs=pairs.crs,
    )


def polarite_layer(pols: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The polarités with their French tooltip and ``_m`` (mixed)."""
    mixed = pols["mixte"].astype(bool).to_numpy()
    kinds = [
        "mixte : commerces et services publics"
        if m
        else ("commerces seulement" if int(nc) > 0 else "services publics seulement")
        for m, nc in zip(mixed, pols["n_commerces"], strict=True)
    ]
    res = pols.get("qpv_residents_within_400m", pd.Series(np.nan, index=pols.index))
    foot = pols.get("footfall_potential_trips", pd.Series(np.nan, index=pols.index))
    na = NOT_COMPUTED
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


def _dedupe_geoms(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop repeated geometries (polarités and pairs of neighbouring QPV overlap)."""
    if len(gdf) == 0:
        return gdf
    wkb = shapely.to_wkb(gdf.geometry.values)
    return gdf[~pd.Series(wkb, index=gdf.index).duplicated().to_numpy()]


def clq_text(ind: pd.DataFrame, code: str) -> str:
    """The co-location quotient of a QPV and its p-value, read in French."""
    clq, p = (
        num(ind.at[code, col]) if col in ind else np.nan
        for col in ("clq_commerce_services", "clq_p_colocation")
    )
    if math.isnan(clq):
        return not_evaluated("trop peu de commerces ou de services publics")
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
# the map


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
        Not saved: pass it to :func:`qpvgeo.outputs.maps.save_map`.
    """
    mk.check_qpv(qpv)
    mk.check_layer(qpv, "qpv", ("lib_qp", "lib_com"))
    place_columns = ("label_fr", "domain", "is_commerce", "is_public_service")
    mk.check_layer(equipments, "equipments", place_columns)
    mk.check_layer(service_pairs, "service_pairs", ("shop_label", "service_label", "walk_min"))
    mk.check_layer(polarites, "polarites", ("mixte", "composition", "n_places"))
    view = mk.select(qpv, codes)
    ind = indicators if indicators is not None else pd.DataFrame(index=qpv.index)
    sel = set(view.index)

    m = mk.new_map(attribution(ind))
    panes = {name: mk.pane(m, name, z) for name, z in (
        ("qpv", 402), ("polarites", 410), ("trajets", 420), ("points", 440),
    )}  # fmt: skip
    qpv_block, n_absent = _add_qpv(m, view, ind, panes["qpv"])
    blocks = [qpv_block]
    blocks.append(_add_polarites(m, mk.of_qpv(polarites, sel), panes["polarites"]))
    blocks.append(_add_pairs(m, mk.of_qpv(service_pairs, sel), panes["trajets"]))
    zone = shapely.union_all(view.geometry.values).buffer(NEAR_M)
    blocks += _add_places(m, mk.near(places_for_display(equipments), zone), panes["points"])
    blocks.append(("Méthode", [mk.note(n) for n in method_notes(ind, DRIVE_NOTE)]))
    mk.finish(
        m,
        blocks,
        title or "Commerces et services publics : ensemble ou séparés ?",
        f"{len(view)} QPV ; trajets et polarités calculés pour les {len(view) - n_absent} QPV "
        "avec un réseau de rues dans les données",
    )
    mk.fit(m, view)
    return m


def _add_qpv(
    m: folium.Map, view: gpd.GeoDataFrame, ind: pd.DataFrame, pane: str
) -> tuple[tuple[str, list[str]], int]:
    """The QPV perimeters (dashed grey without a network); the legend block, how many lack one."""
    statuses = [mk.network_status(ind, c) for c in view.index]
    rows = []
    for code, st in zip(view.index, statuses, strict=True):
        row = {
            "quartier": mk.esc(view.at[code, "lib_qp"]),
            "commune": mk.esc(view.at[code, "lib_com"]),
            "code": mk.esc(code),
            "reseau": status_long(ind, code),
        }
        if st == "absent":
            row["clq"] = row["part5"] = not_evaluated(NO_NETWORK)
        else:
            row["clq"] = clq_text(ind, code)
            row["part5"] = indicator_text(ind, code, "share_shops_service_5min_pct", "%", 0, st)
        rows.append(row)
    layer = mk.display(gpd.GeoDataFrame(rows, geometry=view.geometry.values, crs=view.crs))
    layer["_absent"] = [s == "absent" for s in statuses]
    mk.geojson_group(
        layer,
        name=f"Périmètres des QPV ({len(view)})",
        style=lambda f: {
            "color": "#616161" if f["properties"]["_absent"] else "#222222",
            "weight": 2.5,
            "dashArray": "5 4" if f["properties"]["_absent"] else None,
            "fillColor": "#9e9e9e" if f["properties"]["_absent"] else "#ffffff",
            "fillOpacity": 0.25 if f["properties"]["_absent"] else 0.15,
        },
        pane=pane,
        fields=["quartier", "commune", "code", "reseau", "clq", "part5"],
        aliases=[
            "Quartier", "Commune", "Code", "Réseau de rues",
            "Co-localisation commerces → services publics (CLQ)",
            "Commerces à 5 min ou moins d'un service public",
        ],
    ).add_to(m)  # fmt: skip
    n_absent = sum(s == "absent" for s in statuses)
    lines = [mk.case("#ffffff", "QPV avec réseau de rues", border=(2.5, "solid", "#222"))]
    if n_absent:
        lines.append(mk.case(
            "#d0d0d0",
            f"QPV sans réseau de rues dans les données ({n_absent}) : "
            "trajets, polarités et couplage non évalués",
            border=(2, "dashed", "#616161"),
        ))  # fmt: skip
    return ("Quartiers prioritaires (QPV)", lines), n_absent


def _add_polarites(
    m: folium.Map, polarites: gpd.GeoDataFrame, pane: str
) -> tuple[str, list[str]]:
    """The polarités, mixed and single-kind in two layers; the legend block."""
    pols = _dedupe_geoms(polarites)
    lines = []
    if len(pols):
        layer = mk.display(polarite_layer(pols))
        mixed = layer["_m"].to_numpy(dtype=bool)
        for flag, name in (
            (True, "Polarités mixtes : commerces et services publics"),
            (False, "Polarités d'un seul type (commerces ou services publics)"),
        ):
            sub = layer[mixed == flag]
            mk.geojson_group(
                sub,
                name=f"{name} ({len(sub)})",
                style=lambda f, s=POLARITE_STYLES[flag]: dict(s),
                pane=pane,
                fields=["type", "lieux", "composition", "habitants", "passage"],
                aliases=[
                    "Polarité", "Lieux", "Composition", "Habitants du QPV à moins de 400 m",
                    "Passage potentiel devant ses commerces",
                ],
            ).add_to(m)  # fmt: skip
            lines.append(polarite_case(flag, f"{name} ({len(sub)})"))
    else:
        lines.append(mk.note("Aucune polarité calculée pour ces QPV."))
    lines.append(mk.note(
        "Polarité : au moins 3 lieux (commerces, services publics) reliés de proche en "
        "proche par moins de 150 m de marche."
    ))  # fmt: skip
    return "Polarités", lines


def _add_pairs(m: folium.Map, service_pairs: gpd.GeoDataFrame, pane: str) -> tuple[str, list[str]]:
    """The line from each shop to its nearest public service; the legend block."""
    pairs = _dedupe_geoms(service_pairs)
    layer = mk.display(pair_layer(pairs)) if len(pairs) else pairs
    mk.geojson_group(
        layer,
        name=f"Trajets commerce → service public le plus proche ({len(pairs)})",
        style=lambda f: pair_style(f["properties"]["_k"]),
        pane=pane,
        fields=["commerce", "service", "temps"],
        aliases=["Commerce", "Service public le plus proche", "Temps à pied sur les rues"],
    ).add_to(m)
    lines = pair_legend()
    lines.append(mk.note(
        "Trait droit du commerce au service public le plus proche ; la couleur donne le temps "
        "de marche par les rues (commerces à moins de 300 m du QPV)."
    ))  # fmt: skip
    return "Commerce → service public le plus proche", lines


def _add_places(
    m: folium.Map, places: gpd.GeoDataFrame, pane: str
) -> list[tuple[str, list[str]]]:
    """The shops and the public services, one layer each; their legend blocks."""
    blocks = []
    for famille, name in (("commerce", "Commerces"), ("service", "Services publics")):
        sub = places[places["famille"] == famille]
        cols = [place_colour(famille, d) for d in sub["domain"]]
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
            pane=pane,
            fields=["lieu", "genre"],
            aliases=[name[:-1] if name.endswith("s") else name, "Type"],
            marker=folium.CircleMarker(radius=5, fill=True, pane=pane),
        ).add_to(m)
        used = pd.Series([lab for _, lab in cols]).value_counts()
        lines = [
            mk.point(colour, f"{label} ({int(used.get(label, 0))})")
            for colour, label in place_palette(famille)
            if used.get(label, 0)
        ]
        warmth = "chaudes" if famille == "commerce" else "froides"
        title = f"{name} à moins de {fr_number(NEAR_M / 1000, 0)} km (couleurs {warmth})"
        blocks.append((title, lines))
    return blocks
