"""« Ce que disent les habitants »: the fiche section, the fiche map layer and the workshop mode.

:func:`section` gives the fiche (``templates/besoins.html.j2``) what residents said about one
QPV (``RunResult.besoins``, :mod:`qpvgeo.pipeline.besoins`): the headline « demandé mais
absent à moins de 10 min », one row per wished category (walking time, share of residents
within 10 min, number within 10 min, the reading), the brakes, and each pinned brake or
avoided place beside the nearest measured barrier, crossing and detour.
:func:`fiche_layers` draws the answers' points on the fiche map.

:func:`atelier_payload` configures the workshop mode (``templates/atelier.html.j2`` and
``static/atelier.js``): a presenter switches « mode atelier » on, clicks the map to pin a
besoin, a frein or a lieu évité with its category, and exports the pins as a GeoJSON file
that ``qpvgeo run --besoins`` reads. Pins stay in the browser (``localStorage``); no server.
"""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from ..data import besoins as data
from ..data import nomenclature
from . import mapkit as mk
from .labels_fr import NO_NETWORK, fr_value, not_evaluated

#: colours of the answers' points, by type
TYPE_COLOURS = {"besoin": "#2b8a3e", "frein": "#c92a2a", "lieu_evite": "#862e9c"}
#: roads are a barrier qpvgeo measures only with the OSM barrier file
_ROAD_NOTE = (
    "Les routes à fort trafic ne sont pas comptées parmi les coupures mesurées (données "
    "OpenStreetMap des coupures absentes) : une traversée difficile d'une route n'a pas de "
    "coupure mesurée en face."
)


def _minutes(value: object) -> str:
    return fr_value(value, "min", 1) or "inaccessible"


def section(code: str, result) -> dict:
    """What the fiche of ``code`` shows under « Ce que disent les habitants »."""
    reading = getattr(result, "besoins", None)
    out = {"has": False, "n": 0, "headline": "", "rows": [], "freins": "", "felt": [], "notes": []}
    if reading is None or code not in reading.per_qpv.index:
        return out
    row = reading.per_qpv.loc[code]
    out["n"] = int(row["besoins_answers_n"])
    out["has"] = out["n"] > 0
    out["headline"] = str(row["besoins_absent_10min"])
    out["freins"] = str(row["besoins_freins"])
    cats = reading.per_category[reading.per_category["code_qp"] == code]
    for r in cats.itertuples():
        measured = str(r.status_fr).startswith(("servi", "demandé"))
        share = r.share_within_10min_pct
        count = r.n_within_10min_median
        out["rows"].append({
            "label": str(r.category_label_fr),
            "n": int(r.n_answers),
            "time": _minutes(r.walk_min_median) if measured else "—",
            "share": (fr_value(share, "%", 0) or "—") if measured else "—",
            "count": (fr_value(count, "", 0) or "—") if measured else "—",
            "status": str(r.status_fr),
            "absent": str(r.status_fr).startswith("demandé"),
        })  # fmt: skip
    out["felt"] = _felt_rows(reading.felt, code, mk.network_status(result.indicators, code))
    if out["felt"] and result.barriers.assessed.get("road") != "yes":
        out["notes"].append(_ROAD_NOTE)
    return out


def _felt_rows(felt: gpd.GeoDataFrame, code: str, status: str) -> list[dict]:
    rows = []
    for r in felt[felt["code_qp"] == code].itertuples():
        barrier = "aucune coupure mesurée"
        if isinstance(r.barrier_kind, str) and r.barrier_kind:
            name = f" {r.barrier_name}" if r.barrier_name else ""
            kind = {"rail": "voie ferrée", "water": "cours d'eau", "road": "route"}.get(
                r.barrier_kind, r.barrier_kind
            )
            barrier = f"{kind}{name} à {fr_value(r.barrier_m, 'm', 0)}"
        if status == "absent":
            crossing = detour = not_evaluated(NO_NETWORK)
        else:
            crossing = (
                f"à {fr_value(r.crossing_m, 'm', 0)}"
                if fr_value(r.crossing_m)
                else "aucune traversée mesurée"
            )
            detour = (
                f"indice {fr_value(r.detour_index, '', 2)} vers la {r.detour_target} "
                f"({fr_value(r.detour_length_m, 'm', 0)} à pied), tracé à "
                f"{fr_value(r.detour_m, 'm', 0)}"
                if fr_value(r.detour_index)
                else "aucun détour mesuré"
            )
        what = data.FREINS.get(r.frein_code) or r.frein or data.TYPE_LABELS[r.type]
        rows.append({
            "type": data.TYPE_LABELS.get(r.type, r.type), "what": what,
            "comment": r.commentaire or "", "barrier": barrier, "crossing": crossing,
            "detour": detour,
        })  # fmt: skip
    return rows


def fiche_layers(code: str, result) -> tuple[list[dict], list[str]]:
    """The answers with a point of ``code`` as a fiche map layer (``static/fiche.js`` format)."""
    reading = getattr(result, "besoins", None)
    if reading is None:
        return [], []
    pts = reading.answers[reading.answers["code_qp_lu"] == code]
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    if not len(pts):
        return [], []
    kinds = list(TYPE_COLOURS)
    shown = mk.to_wgs84(pts[["geometry"]])
    feats = []
    for geom, r in zip(shown.geometry.values, pts.itertuples(), strict=True):
        tip = f"{data.TYPE_LABELS[r.type]} : {r.category_label_fr or r.frein or r.categorie}"
        if r.commentaire:
            tip += f" — {r.commentaire}"
        feats.append({
            "type": "Feature", "geometry": shapely.geometry.mapping(geom),
            "properties": {"t": mk.esc(tip), "k": kinds.index(r.type)},
        })  # fmt: skip
    layer = {
        "name": f"Ce que disent les habitants ({len(feats)} points)",
        "style": {"radius": 7, "weight": 2, "color": "#ffffff", "fillOpacity": 0.95},
        "styles": [{"fillColor": TYPE_COLOURS[k]} for k in kinds],
        "data": {"type": "FeatureCollection", "features": feats},
    }
    legend = [mk.heading("Ce que disent les habitants")]
    legend += [mk.point(TYPE_COLOURS[k], data.TYPE_LABELS[k]) for k in kinds]
    return [layer], legend


def atelier_payload(code: str) -> str:
    """The workshop mode's settings (JSON, safe inside a ``<script>``): the QPV, the categories
    of the nomenclature, the brakes and the types, in French."""
    cats = nomenclature.categories()["label_fr"]
    payload = {
        "code": code,
        "types": [[k, v] for k, v in data.TYPE_LABELS.items()],
        "categories": sorted(([k, v] for k, v in cats.items()), key=lambda kv: kv[1]),
        "freins": [[k, v] for k, v in data.FREINS.items()],
    }
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/")
