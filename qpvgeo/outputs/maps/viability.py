"""The viability map: the QPV coloured by their viability reading (fixed classes).

Its classes, colours and French texts (:func:`score_texts`) are those of the
fiches, the index and the slide images too.
"""

from __future__ import annotations

import inspect
import math

import folium
import geopandas as gpd
import pandas as pd

from ..._errors import MissingColumnError
from ...indicators import viability
from .. import mapkit as mk
from ..labels_fr import (
    DRIVE_NOTE,
    NO_NETWORK,
    NO_VALUE,
    NOT_EVALUATED,
    NOT_RANKED,
    READING_NOT_EVALUATED,
    attribution,
    class_labels,
    fr_number,
    method_notes,
    num,
    reading_text,
    status_long,
)

#: fixed classes of the viability reading (0 least, 1 most favourable) and their colours
VIABILITY_BINS = (0.0, 0.35, 0.45, 0.55, 0.65, 1.0)
VIABILITY_COLOURS = ("#d73027", "#fc8d59", "#fee090", "#91bfdb", "#4575b4")
#: the colour of a QPV without a reading (that of :data:`~qpvgeo.outputs.mapkit.NO_VALUE_STYLE`)
NO_SCORE_COLOUR = mk.NO_VALUE_STYLE["fillColor"]

_FIELDS = {
    "quartier": "Quartier",
    "commune": "Commune",
    "code": "Code",
    "score": "Lecture de viabilité (0 à 1)",
    "rang": "Rang",
    "fourchette": "Rang selon les pondérations",
    "texte": "En bref",
    "composantes": "Composantes prises en compte",
    "manquantes": "Composantes non évaluées",
    "reseau": "Réseau de rues",
}


def viability_colour(score: float) -> str:
    """Colour of the class of a viability score (``""`` for a missing score)."""
    return mk.step_colour(score, VIABILITY_BINS, VIABILITY_COLOURS)


def viability_labels() -> list[tuple[str, str]]:
    """(colour, French label) of each fixed class of the viability reading."""
    texts = class_labels([fr_number(x, 2) for x in VIABILITY_BINS], open_ends=True)
    texts[0] += " (le moins favorable)"
    texts[-1] += " (le plus favorable)"
    return list(zip(VIABILITY_COLOURS, texts, strict=True))


# ---------------------------------------------------------------------------
# the reading of one QPV, in French


def _component_labels(text: object) -> list[str]:
    if not isinstance(text, str):
        return []
    return [viability.COMPONENTS[c.strip()][-1] for c in text.split(",") if c.strip()]


def _too_few(ind: pd.DataFrame, code: str, score: float) -> str:
    """« une seule composante lue : il en faut au moins 2 » for a reading left out for too few
    components; "" otherwise."""
    text = ind.at[code, "viability_components"]
    n = len([c for c in text.split(",") if c.strip()]) if isinstance(text, str) else 0
    if not math.isnan(score) or n == 0 or n >= viability.MIN_COMPONENTS:
        return ""
    return (f"{'une seule composante lue' if n == 1 else f'{n} composantes lues'} : il en faut "
            f"au moins {viability.MIN_COMPONENTS}")


def _missing_text(ind: pd.DataFrame, code: str) -> str:
    """The components left out of a reading, grouped by their reason: the street network for
    a network component, a figure not published for the others."""
    text = ind.at[code, "viability_missing"]
    names = [c.strip() for c in text.split(",") if c.strip()] if isinstance(text, str) else []
    status = mk.network_status(ind, code)
    by_reason: dict[str, list[str]] = {}
    for comp in names:
        *_, needs_network, label = viability.COMPONENTS[comp]
        if needs_network and status == "absent":
            why = NO_NETWORK
        elif needs_network and status == "partiel":
            why = "réseau de rues partiel : non lues"
        elif not needs_network:
            why = "chiffre officiel non diffusé"
        else:
            why = NO_VALUE
        by_reason.setdefault(why, []).append(label)
    return " ; ".join(f"{', '.join(labels)} ({why})" for why, labels in by_reason.items()) or "aucune"


def _spread() -> float:
    try:
        return float(inspect.signature(viability.sensitivity).parameters["spread"].default)
    except (KeyError, TypeError, ValueError):  # pragma: no cover - signature changed
        return float("nan")


def _rank_range(ind: pd.DataFrame, code: str) -> str:
    lo, hi = num(ind.at[code, "rank_p05"]), num(ind.at[code, "rank_p95"])
    if math.isnan(lo) or math.isnan(hi):
        return NOT_EVALUATED
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


def score_texts(ind: pd.DataFrame, code: str) -> dict[str, str]:
    """The viability reading of one QPV in French (not escaped).

    Keys: ``score``, ``pourquoi`` (why there is no reading, or ""), ``rang``,
    ``fourchette`` (rank range under the sensitivity check), ``composantes``
    (used), ``manquantes`` (missing, and why), ``texte`` (``viability_text``).
    """
    score = num(ind.at[code, "viability_score"])
    rank = num(ind.at[code, "viability_rank"])
    among = num(ind.at[code, "viability_rank_among"]) if "viability_rank_among" in ind else math.nan
    return {
        "score": reading_text(score),
        "pourquoi": _too_few(ind, code, score),
        "rang": NOT_RANKED
        if math.isnan(rank) or math.isnan(among)
        else f"{int(rank)} sur {int(among)} QPV lus sur les mêmes composantes",
        "fourchette": _rank_range(ind, code),
        "composantes": ", ".join(_component_labels(ind.at[code, "viability_components"])) or "aucune",
        "manquantes": _missing_text(ind, code),
        "texte": str(ind.at[code, "viability_text"]) if "viability_text" in ind else "",
    }


# ---------------------------------------------------------------------------
# the map


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
    table = _viability_table(qpv, indicators)
    m = mk.new_map(attribution(indicators))
    pane = mk.pane(m, "qpv", 410)
    has = table["_fill"] != ""
    layers = [(has, "QPV : lecture de viabilité")]
    if (~has).any():
        layers.append((~has, "QPV sans lecture de viabilité"))
    for shown, name in layers:
        mk.geojson_group(
            table[shown.to_numpy()],
            name=f"{name} ({int(shown.sum())})",
            style=_viability_style,
            pane=pane,
            fields=list(_FIELDS),
            aliases=list(_FIELDS.values()),
        ).add_to(m)
    n_partial = int(table["_partiel"].sum())
    n_scored = int(pd.to_numeric(indicators["viability_score"], errors="coerce").notna().sum())
    mk.finish(
        m,
        _legend_blocks(
            bool((~has).any()), n_partial, n_scored, method_notes(indicators, DRIVE_NOTE)
        ),
        title or "Viabilité du commerce de proximité dans les QPV",
        f"{len(qpv)} QPV, dont {int(has.sum())} avec une lecture ; lecture partielle pour "
        f"{n_partial} QPV (composantes manquantes listées dans l'infobulle)",
    )
    mk.fit(m, qpv)
    return m


def _viability_table(qpv: gpd.GeoDataFrame, indicators: pd.DataFrame) -> gpd.GeoDataFrame:
    """One row per QPV (WGS84) with the French strings of its tooltip, its fill, ``_partiel``."""
    ind = indicators.reindex(qpv.index)
    ind = ind.assign(viability_text=ind.get("viability_text", pd.Series("", index=ind.index)))
    rows = []
    for code in qpv.index:
        sc = score_texts(indicators, code) if code in indicators.index else None
        missing = ind.at[code, "viability_missing"]
        rows.append({
            "quartier": mk.esc(qpv.at[code, "lib_qp"]),
            "commune": mk.esc(qpv.at[code, "lib_com"]),
            "code": mk.esc(code),
            "score": (f"{sc['score']} ({sc['pourquoi']})" if sc["pourquoi"] else sc["score"])
            if sc else READING_NOT_EVALUATED,
            "rang": sc["rang"] if sc else NOT_RANKED,
            "fourchette": sc["fourchette"] if sc else NOT_EVALUATED,
            "texte": mk.esc(sc["texte"]) if sc else "",
            "composantes": mk.esc(sc["composantes"]) if sc else "aucune",
            "manquantes": mk.esc(sc["manquantes"]) if sc else "toutes",
            "reseau": status_long(ind, code),
            "_fill": viability_colour(num(ind.at[code, "viability_score"])),
            "_partiel": isinstance(missing, str) and bool(missing.strip()),
        })  # fmt: skip
    return mk.display(gpd.GeoDataFrame(rows, geometry=qpv.geometry.values, crs=qpv.crs))


def _viability_style(feature: dict) -> dict:
    p = feature["properties"]
    if not p["_fill"]:
        return dict(mk.NO_VALUE_STYLE)  # grey (NO_SCORE_COLOUR), dashed outline
    return {
        "fillColor": p["_fill"],
        "color": "#222222",
        "weight": 2 if p["_partiel"] else 2.5,
        "dashArray": "2 4" if p["_partiel"] else None,
        "fillOpacity": 0.8,
    }


def _legend_blocks(any_missing: bool, n_partial: int, n_scored: int, notes: list[str]) -> list:
    lines = [mk.case(c, t) for c, t in viability_labels()]
    inner = " ; ".join(fr_number(x, 2) for x in VIABILITY_BINS[1:-1])
    lines.append(mk.note(f"Classes : seuils fixes ({inner}), les mêmes pour tous les quartiers."))
    if any_missing:
        lines.append(mk.no_value(
            f"pas de lecture : moins de {viability.MIN_COMPONENTS} composantes évaluées"
        ))
    if n_partial:
        lines.append(mk.case(
            "#fee090",
            f"contour pointillé : lecture partielle ({n_partial} QPV), des composantes "
            "manquent (le plus souvent : pas de réseau de rues dans les données)",
            border=(1.5, "dotted", "#222"),
        ))  # fmt: skip
    comp = [
        f"{lab} (poids {fr_number(viability.WEIGHTS.get(c, 0), 0)})"
        for c, (*_, lab) in viability.COMPONENTS.items()
    ]
    how = [
        mk.note(
            "Chaque composante est placée sur une échelle fixe (0 = le moins favorable, "
            "1 = le plus favorable ; bornes choisies par qpvgeo, voir la page de méthode), "
            "la même quels que soient les quartiers étudiés ; la lecture est leur moyenne "
            f"pondérée, sur les composantes disponibles seulement ({n_scored} QPV lus)."
        ),
        mk.note("Composantes : " + " ; ".join(comp) + "."),
        mk.note(
            "Les rangs ne comparent que des quartiers lus sur les mêmes composantes ; "
            "la fourchette de rang montre leur stabilité quand les pondérations varient."
        ),
    ]
    return [
        ("Lecture de viabilité du commerce de proximité", lines),
        ("Comment lire", how),
        ("Méthode", [mk.note(n) for n in notes]),
    ]
