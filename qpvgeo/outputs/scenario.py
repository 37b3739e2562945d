"""What a scenario changes, for the workshop: a table, a map, a section on each fiche.

:func:`write_scenario` writes, under the output folder:

``tables/scenario_diff.csv``
    per QPV and indicator: ``before``, ``after``, ``change``, ``unit``,
    ``note`` (:func:`qpvgeo.pipeline.scenario.scenario_diff`);
``tables/scenario_changes.geojson``
    the changes of the scenario and what was done for each (``effect``);
``maps/scenario.html``
    :func:`scenario_map`: the change in walking time of every resident
    origin, one layer per category the scenario changes;
``maps/fiches/<code_qp>.html``
    the fiche of each QPV under the scenario, with a section « Scénario : ce
    qui change » (:func:`scenario_section`) before its footer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..data.scenarios import ACTION_LABELS
from . import mapkit as mk
from .fiche import fiche_html
from .labels_fr import attribution, category_label, fr_number, indicator_label
from .maps.context import decorate
from .maps.enclavement import add_barrier_layers
from .workshop import FICHES_DIR, write_leaflet_lib

SCENARIO_DIFF = "tables/scenario_diff.csv"
SCENARIO_CHANGES = "tables/scenario_changes.geojson"
SCENARIO_MAP = "maps/scenario.html"
#: title of the fiche's scenario section
SECTION_TITLE = "Scénario « et si… » : ce qui change"
OUTPUTS = [SCENARIO_DIFF, SCENARIO_CHANGES, SCENARIO_MAP]

#: a change in walking time below this (min) reads « inchangé » (rounding of the kernels)
UNCHANGED_MIN = 0.01
#: classes of the change in walking time (min, after − before): (upper bound, colour, French label)
CHANGE_CLASSES = (
    (-5.0, "#1a7837", "gagne 5 min ou plus"),
    (-2.0, "#5aae61", "gagne 2 à 5 min"),
    (-UNCHANGED_MIN, "#a6dba0", "gagne moins de 2 min"),
    (UNCHANGED_MIN, "#d9d9d9", "inchangé"),
    (2.0, "#f1b6da", "perd moins de 2 min"),
    (5.0, "#de77ae", "perd 2 à 5 min"),
    (np.inf, "#8e0152", "perd 5 min ou plus"),
)
NOW_REACHED = ("#00441b", "désormais atteint (avant : aucun chemin)")
NO_LONGER = ("#40004b", "plus atteint (après : aucun chemin)")
NEVER = ("#ffffff", "non atteint, avant comme après")
#: change colours of the scenario's features on the map
FEATURE_COLOURS = {"add_link": "#1a7837", "remove_link": "#b2182b",
                   "add_equipment": "#1a7837", "remove_equipment": "#b2182b"}  # fmt: skip
#: indicators the fiche section shows when they change, in this order: column → (label, digits);
#: the walking times and shares take their labels from :func:`~qpvgeo.outputs.labels_fr.indicator_label`
SECTION_INDICATORS = {
    "walk_min_median_supermarche": (None, 1), "walk_min_median_boulangerie": (None, 1),
    "walk_min_median_pharmacie": (None, 1), "walk_min_median_medecin_generaliste": (None, 1),
    "walk_min_median_gare": (None, 1), "share_within_10min_supermarche_pct": (None, 0),
    "share_within_10min_boulangerie_pct": (None, 0), "share_within_10min_pharmacie_pct": (None, 0),
    "gamme_proximite_within_10min_pct":
        ("Gamme de proximité INSEE couverte à moins de 10 min (%)", 0),
    "huff_share_nearby_pct": ("Part estimée des achats alimentaires faits près du quartier (%)", 0),
    "n_crossings": ("Traversées de la bordure du quartier (nombre)", 0),
    "longest_without_crossing_m": ("Plus longue bordure sans traversée (m)", 0),
    "detour_gare": ("Détour vers la gare (marche ÷ vol d'oiseau, médiane)", 2),
    "detour_supermarche": ("Détour vers le supermarché (marche ÷ vol d'oiseau, médiane)", 2),
    "flow_p90_trips_qpv": ("Passage piéton potentiel (rues les plus passantes, 90e centile, trajets)", 0),
    "n_candidate_segments": ("Tronçons candidats à l'implantation d'un commerce (nombre)", 0),
    "enclavement_index": ("Indice d'enclavement par les rues (0 ouvert, 1 très enclavé)", 2),
    "share_shops_service_5min_pct": ("Commerces à 5 min ou moins d'un service public (%)", 0),
    "viability_score": ("Lecture de viabilité (0 à 1)", 2),
}  # fmt: skip


def change_class(before: float, after: float) -> tuple[str, str]:
    """(colour, French label) of one origin's change in walking time."""
    if not np.isfinite(before) and not np.isfinite(after):
        return NEVER
    if not np.isfinite(before):
        return NOW_REACHED
    if not np.isfinite(after):
        return NO_LONGER
    change = after - before
    for upper, colour, label in CHANGE_CLASSES:
        if change < upper:
            return colour, label
    return CHANGE_CLASSES[-1][1:]  # pragma: no cover - the last bound is infinite


def changed_categories(origins: gpd.GeoDataFrame) -> list[str]:
    """Categories whose walking time changes for some origin, the largest total change first."""
    totals = {}
    for col in origins.columns:
        if col.startswith("walk_min_") and col.endswith("_change"):
            cat = col.removeprefix("walk_min_").removesuffix("_change")
            b, a = origins[f"walk_min_{cat}_before"], origins[f"walk_min_{cat}_after"]
            moved = (a - b).abs().fillna(0.0) >= UNCHANGED_MIN
            moved |= b.isna() != a.isna()
            if moved.any():
                w = origins["population"].fillna(0.0)
                totals[cat] = float((w * (a - b).abs().fillna(60.0)).sum())
    return sorted(totals, key=lambda c: -totals[c])


def scenario_map(sr, *, category: str | None = None) -> folium.Map:
    """Map of the change in walking time per resident origin under a scenario.

    One layer per category whose times change (``category``, or the one that
    changes most, is shown when the map opens), the QPV perimeters and the
    scenario's changes (links drawn, closures, equipments added or removed).

    Parameters
    ----------
    sr : qpvgeo.pipeline.scenario.ScenarioResult
    category : str, optional
        The category shown first.
    """
    m = mk.new_map(attribution())
    qpv = sr.after.qpv
    mk.geojson_group(
        mk.display(qpv[["lib_qp", "geometry"]]), name="Périmètres des QPV",
        style=lambda f: {"color": "#1f3a93", "weight": 2.5, "fillOpacity": 0.04},
        fields=["lib_qp"], aliases=["Quartier"],
    ).add_to(m)  # fmt: skip
    cats = changed_categories(sr.origins)
    first = category if category in cats else (cats[0] if cats else None)
    for cat in cats:
        _origin_layer(sr.origins, cat, show=cat == first).add_to(m)
    _feature_layer(sr.changes).add_to(m)
    barrier_lines = add_barrier_layers(m, qpv, sr.after.barriers, mk.pane(m, "coupures", 390))
    lines = [mk.point(c, t) for _, c, t in CHANGE_CLASSES] + [
        mk.point(NOW_REACHED[0], NOW_REACHED[1]), mk.point(NO_LONGER[0], NO_LONGER[1]),
        mk.note("Un point par lieu de résidence (habitants du quartier) ; temps vers l'équipement "
                "le plus proche de la catégorie, par les rues. Une couche par catégorie dans le "
                "menu en haut à droite."),
    ]  # fmt: skip
    feature_lines = [mk.line(FEATURE_COLOURS["add_link"], "lien piéton ajouté"),
                     mk.line(FEATURE_COLOURS["remove_link"], "rue fermée", dashed=True),
                     mk.point(FEATURE_COLOURS["add_equipment"], "équipement ajouté"),
                     mk.point(FEATURE_COLOURS["remove_equipment"], "équipement retiré")]  # fmt: skip
    if not cats:
        lines.insert(0, mk.warning_line("Aucun temps de marche ne change (ou non évalué)."))
    subtitle = (
        f"Variation du temps de marche : {category_label(first)} (autres catégories dans le menu)"
        if first else "Aucun temps de marche ne change"
    )  # fmt: skip
    blocks = [("Variation du temps de marche", lines), ("Scénario", feature_lines)]
    if barrier_lines:
        blocks.append(("Coupures urbaines", barrier_lines))
    mk.finish(m, blocks, "Scénario « et si… »", subtitle)
    decorate(m, sr.after, fiche_prefix="fiches/", index_href=None)
    shown = sr.changes[sr.changes.geometry.notna()]
    mk.fit(m, gpd.GeoDataFrame(geometry=[*qpv.geometry, *shown.geometry], crs=qpv.crs))
    return m


def _origin_layer(origins: gpd.GeoDataFrame, cat: str, *, show: bool) -> folium.FeatureGroup:
    b, a = origins[f"walk_min_{cat}_before"], origins[f"walk_min_{cat}_after"]
    classes = [change_class(x, y) for x, y in zip(b, a, strict=True)]

    def minutes(v: float) -> str:
        return f"{fr_number(v, 1)} min" if np.isfinite(v) else "aucun chemin"

    layer = gpd.GeoDataFrame(
        {
            "quartier": origins["code_qp"].to_numpy(),
            "avant": [minutes(v) for v in b],
            "apres": [minutes(v) for v in a],
            "ecart": [f"{fr_number(y - x, 1)} min" if np.isfinite(y - x) else c[1]
                      for x, y, c in zip(b, a, classes, strict=True)],  # fmt: skip
            "_colour": [c[0] for c in classes],
        },
        geometry=origins.geometry.to_numpy(), crs=origins.crs,
    )  # fmt: skip
    return mk.geojson_group(
        mk.to_wgs84(layer), name=f"Variation du temps de marche : {category_label(cat)}",
        show=show, style=lambda f: {"fillColor": f["properties"]["_colour"], "color": "#333333",
                                    "weight": 1, "fillOpacity": 0.9, "radius": 6},
        fields=["quartier", "avant", "apres", "ecart"],
        aliases=["QPV", "Avant", "Après", "Écart"],
        marker=folium.CircleMarker(radius=6, weight=1, fill=True),
    )  # fmt: skip


def _feature_layer(changes: gpd.GeoDataFrame) -> folium.FeatureGroup:
    shown = changes[changes.geometry.notna()]
    layer = gpd.GeoDataFrame(
        {
            "changement": [ACTION_LABELS[a] for a in shown["action"]],
            "nom": shown["name"].fillna("").to_numpy(),
            "effet": shown["effect"].to_numpy(),
            "_colour": [FEATURE_COLOURS[a] for a in shown["action"]],
            "_dash": ["8 6" if a == "remove_link" else "" for a in shown["action"]],
        },
        geometry=shown.geometry.to_numpy(), crs=changes.crs,
    )  # fmt: skip
    return mk.geojson_group(
        mk.to_wgs84(layer), name="Changements du scénario",
        style=lambda f: {"color": f["properties"]["_colour"], "weight": 6, "opacity": 0.9,
                         "dashArray": f["properties"]["_dash"] or None,
                         "fillColor": f["properties"]["_colour"], "fillOpacity": 0.9},
        fields=["changement", "nom", "effet"], aliases=["Changement", "Nom", "Effet"],
        marker=folium.CircleMarker(radius=8, weight=2, fill=True),
    )  # fmt: skip


def scenario_section(code_qp: str, sr, *, map_href: str = "../scenario.html") -> str:
    """The body of the « Scénario « et si… » : ce qui change » section of a fiche (HTML)."""
    diff = sr.diff[sr.diff["code_qp"] == code_qp]
    evaluated = not (diff["note"] != "").any()
    rows = []
    if evaluated:
        by = diff.set_index("indicator")
        for col, (label, digits) in SECTION_INDICATORS.items():
            if col in by.index and _moved(by.at[col, "before"], by.at[col, "after"]):
                rows.append((label or indicator_label(col), _value(by.at[col, "before"], digits),
                             _value(by.at[col, "after"], digits)))  # fmt: skip
        n_changed = int(sum(_moved(x, y) for x, y in zip(diff["before"], diff["after"], strict=True)))
    else:
        n_changed = 0
    changes = [
        (ACTION_LABELS[c["action"]], c["name"] or "", c["effect"]) for _, c in sr.changes.iterrows()
    ]
    return mk.render(
        "scenario_section.html.j2", evaluated=evaluated, rows=rows, changes=changes,
        n_changed=n_changed, n_shown=len(rows), map_href=map_href, diff_file=SCENARIO_DIFF,
    )  # fmt: skip


def _moved(before: float, after: float) -> bool:
    if np.isfinite(before) and np.isfinite(after):
        return abs(after - before) > 1e-9
    return np.isfinite(before) != np.isfinite(after)


def _value(value: float, digits: int) -> str:
    return fr_number(value, digits) if np.isfinite(value) else "non calculé"


def scenario_fiche(code_qp: str, sr) -> str:
    """The fiche of a QPV under the scenario, with the scenario section after its map."""
    section = {"id": "scenario", "title": SECTION_TITLE, "html": scenario_section(code_qp, sr)}
    page = fiche_html(code_qp, sr.after, extra_sections=[section])
    # the scenario's folder holds no index nor slide images: the fiche leads to the scenario's map
    page = re.sub(
        r'(<nav\b[^>]*>)<a href="\.\./index\.html">[^<]*</a>',
        r'\1<a href="../scenario.html">← Carte du scénario</a>', page, count=1,
    )  # fmt: skip
    return re.sub(r'\s*·\s*<a href="\.\./png/[^"]*">[^<]*</a>', "", page, count=1)


def write_scenario(sr, out_dir: str | os.PathLike) -> list[Path]:
    """Write the scenario table, its changes, its map and the fiches under ``out_dir``."""
    out = Path(out_dir)
    table = sr.diff.copy()
    written = [mk.write_atomic(out / SCENARIO_DIFF, table.to_csv(index=False, float_format="%.4f"))]
    changes = sr.changes.drop(columns=["tolerance_m"]).copy()
    has_geom = changes.geometry.notna()
    written.append(mk.write_atomic(
        out / SCENARIO_CHANGES, changes[has_geom].to_crs(4326).to_json(drop_id=True, ensure_ascii=False)
    ))  # fmt: skip
    written.append(mk.save_map(scenario_map(sr), out / SCENARIO_MAP))
    write_leaflet_lib(out)
    for code in sr.after.qpv.index:
        written.append(mk.write_atomic(out / FICHES_DIR / f"{code}.html", scenario_fiche(code, sr)))
    return written


def origins_table(sr, category: str) -> pd.DataFrame:
    """Per origin: ``code_qp``, ``population`` and the walking time to ``category`` before, after, change."""
    cols = [f"walk_min_{category}_{s}" for s in ("before", "after", "change")]
    return pd.DataFrame(sr.origins[["code_qp", "population", *cols]])
