"""The index page (``maps/index.html``): links to every map, fiche and slide image, in French.

Rendered from ``templates/index.html.j2`` with ``static/index.css`` and
``static/index.js`` (sorting the table by a click on a column header); no
map library.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import mapkit as mk
from .labels_fr import (
    NETWORK_KIND,
    STATUS_SHORT,
    attribution,
    departement_label,
    num,
    reading_text,
    uses_drive_network,
)
from .maps.viability import NO_SCORE_COLOUR, viability_colour

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
    """The index page (``maps/index.html``); links are relative to ``maps_dir``.

    Fiches and slide images are linked when present under ``maps_dir/fiches/``
    and ``maps_dir/png/``; the QPV are listed by commune, not ranked (a reader may sort
    the table by any column).
    """
    qpv, ind = result.qpv, result.indicators
    maps = []
    for f in map_files:
        p = Path(f)
        title, desc = MAP_TITLES.get(p.name, (p.stem, ""))
        maps.append((os.path.relpath(p, maps_dir).replace(os.sep, "/"), title, desc))
    scores = pd.to_numeric(ind.reindex(qpv.index)["viability_score"], errors="coerce")
    order = qpv.sort_values(["lib_com", "lib_qp"]).index
    return mk.render(
        "index.html.j2",
        css=mk.static_text("index.css"),
        script=mk.static_text("index.js"),
        maps=maps,
        overview_png=(maps_dir / "png" / "viabilite.png").is_file(),
        n_qpv=len(qpv),
        n_scored=int(pd.to_numeric(ind["viability_score"], errors="coerce").notna().sum()),
        n_network=int(sum(mk.network_status(ind, c) != "absent" for c in qpv.index)),
        network_words=f" ({NETWORK_KIND['drive']})" if uses_drive_network(ind) else "",
        rows=[_row(result, code, scores[code], maps_dir) for code in order],
        attribution=attribution(ind),
        departement=departement_label(result.parameters),
    )


def _row(result, code: str, score: float, maps_dir: Path) -> dict:
    """The cells of the line of one QPV (``*_key``: the values the table is sorted by)."""
    qpv, ind = result.qpv, result.indicators
    rank = num(ind.at[code, "viability_rank"]) if code in ind.index else np.nan
    among = num(ind.at[code, "viability_rank_among"]) if code in ind.index else np.nan
    return {
        "code": code,
        "name": qpv.at[code, "lib_qp"],
        "commune": qpv.at[code, "lib_com"],
        "fiche": (maps_dir / "fiches" / f"{code}.html").is_file(),
        "png": (maps_dir / "png" / f"{code}.png").is_file(),
        "score_key": f"{score if math.isfinite(score) else -1:.4f}",
        "colour": viability_colour(score) or NO_SCORE_COLOUR,
        "score": reading_text(score),
        "rank_key": f"{rank if math.isfinite(rank) else 999:.0f}",
        "rank": "–" if math.isnan(rank) or math.isnan(among) else f"{int(rank)} / {int(among)}",
        "rank_range": _rank_short(ind, code),
        "network": STATUS_SHORT.get(mk.network_status(ind, code), "aucun"),
    }


def _rank_short(ind: pd.DataFrame, code: str) -> str:
    if code not in ind.index or "rank_p05" not in ind.columns:
        return ""
    lo, hi = num(ind.at[code, "rank_p05"]), num(ind.at[code, "rank_p95"])
    if math.isnan(lo) or math.isnan(hi):
        return ""
    return f" ({int(round(lo))}–{int(round(hi))})"
