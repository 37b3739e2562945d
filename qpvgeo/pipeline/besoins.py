"""What residents say, read against a run: :func:`besoins_reading` and :func:`add_besoins`.

The answers (:mod:`qpvgeo.data.besoins`) are given a QPV, then per QPV and wished category
the run says whether the category is served within :data:`~qpvgeo.indicators.besoins.SERVED_MIN`
minutes' walk (the median resident has one that close), reusing the run's per-origin times
where it computed them and computing the others with the same definitions; each pinned brake
or avoided place is set beside the nearest measured barrier, crossing and detour.

A QPV without a street network reads « non évalué (pas de réseau de rues) », never a value;
a category that the equipment data do not hold (boucherie is not in the BPE extract) reads
« non évaluable », never « absent ».
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import settings
from ..data import besoins as data
from ..indicators import besoins as ind
from ..network.build import snap_points
from .access import station_destinations
from .context import RunResult

T = ind.SERVED_MIN
STATUS_SERVED = f"servi à moins de {T} min"
STATUS_ABSENT = f"demandé mais absent à moins de {T} min"
STATUS_NO_NETWORK = "non évalué (pas de réseau de rues)"
STATUS_NO_RESIDENT = "non évalué (aucun habitant sur le réseau de rues)"
STATUS_NOT_IN_DATA = "non évaluable (catégorie absente des données d'équipements)"
STATUS_OUTSIDE = "non évaluable (hors de la nomenclature qpvgeo : aucune donnée)"
STATUS_UNMATCHED = "libellé non reconnu (à classer)"
#: columns added to the per-QPV table
QPV_COLUMNS = (
    "besoins_answers_n", "besoins_wished", "besoins_absent_10min", "besoins_not_assessable",
    "besoins_freins",
)  # fmt: skip
NO_ANSWER = "aucune réponse"
NO_WISH = "aucun besoin exprimé"
NONE_MEASURED = "aucune catégorie évaluable"


@dataclass
class BesoinsReading:
    """The answers of a run and their readings."""

    #: every answer kept (the GeoPackage layer ``besoins``), with ``code_qp_lu`` and ``qpv_how``
    answers: gpd.GeoDataFrame
    #: one row per QPV of the run and wished category (``tables/besoins_qpv.csv``)
    per_category: pd.DataFrame
    #: the columns :data:`QPV_COLUMNS`, indexed by ``code_qp`` (every QPV of the run)
    per_qpv: pd.DataFrame
    #: the pinned brakes and avoided places with the nearest measured barrier, crossing, detour
    felt: gpd.GeoDataFrame
    #: the label report (:func:`qpvgeo.data.besoins.label_report`)
    labels: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: answers added by this run (the others were kept from earlier runs or already there)
    n_added: int = 0


def besoins_reading(
    result: RunResult, answers: gpd.GeoDataFrame, *, n_added: int = 0
) -> BesoinsReading:
    """Read the answers against a run (see the module docstring)."""
    answers = answers.join(ind.answer_qpv(answers, result.qpv))
    per_category = _per_category(result, answers)
    felt = _felt(result, answers)
    per_qpv = _per_qpv(result, answers, per_category)
    return BesoinsReading(
        answers, per_category, per_qpv, felt, data.label_report(answers),
        _notes(answers, result), n_added,
    )  # fmt: skip


def add_besoins(result: RunResult, answers: gpd.GeoDataFrame, *, n_added: int = 0) -> RunResult:
    """Set ``result.besoins`` and join :data:`QPV_COLUMNS` to ``result.indicators``; the notes
    go to ``result.messages``. Returns ``result``."""
    reading = besoins_reading(result, answers, n_added=n_added)
    result.besoins = reading
    table = result.indicators.drop(columns=[c for c in QPV_COLUMNS if c in result.indicators])
    result.indicators = table.join(reading.per_qpv)
    result.messages = [*result.messages, *reading.notes]
    return result


def _wishes(answers: gpd.GeoDataFrame, qpv_index: pd.Index) -> pd.DataFrame:
    w = answers[(answers["type"] == "besoin") & answers["code_qp_lu"].isin(qpv_index)]
    w = w[w["categorie"] != ""].copy()
    w["key"] = np.where(w["category"] != "", w["category"], "?" + w["categorie"].str.strip())
    return w


def _per_category(result: RunResult, answers: gpd.GeoDataFrame) -> pd.DataFrame:
    wishes = _wishes(answers, result.qpv.index)
    columns = ["code_qp", "lib_qp", "category", "category_label_fr", "n_answers", "walk_min_median",
               f"share_within_{T}min_pct", f"n_within_{T}min_median", "served", "status_fr"]  # fmt: skip
    if not len(wishes):
        return pd.DataFrame(columns=columns)
    counts = wishes.groupby(["code_qp_lu", "key"]).agg(
        n_answers=("nombre", "sum"), category=("category", "first"),
        category_label_fr=("category_label_fr", "first"),
    ).reset_index().rename(columns={"code_qp_lu": "code_qp"})  # fmt: skip
    present = set(result.equipments["category"]) | ({"gare"} if len(result.stations) else set())
    measured = []
    for code, group in counts.groupby("code_qp"):
        cats = sorted(c for c in group["category"] if c in present)
        net = result.networks.network_of(code)
        if cats and net is not None:
            measured.append(_served(result, code, net, cats))
    served = pd.concat(measured) if measured else pd.DataFrame(columns=["code_qp", "category"])
    out = counts.merge(served, on=["code_qp", "category"], how="left")
    out["status_fr"] = [
        _status(r, present, result.networks.network_of(r.code_qp) is not None)
        for r in out.itertuples()
    ]
    out["lib_qp"] = out["code_qp"].map(result.qpv["lib_qp"])
    out["served"] = out["served"].astype("boolean") if "served" in out else pd.NA
    out = out.sort_values(
        ["code_qp", "n_answers", "category_label_fr"], ascending=[True, False, True]
    )
    return out.reindex(columns=columns).reset_index(drop=True)


def _status(row, present: set, has_network: bool) -> str:
    if not row.category:
        return STATUS_UNMATCHED
    if not data.in_nomenclature(row.category):
        return STATUS_OUTSIDE
    if row.category not in present:
        return STATUS_NOT_IN_DATA
    if not has_network:
        return STATUS_NO_NETWORK
    if pd.isna(row.served):
        return STATUS_NO_RESIDENT
    return STATUS_SERVED if bool(row.served) else STATUS_ABSENT


def _served(result: RunResult, code: str, net, cats: list[str]) -> pd.DataFrame:
    """Served or not, for the wished categories of one QPV with a network."""
    o = result.origins[result.origins["code_qp"] == code]
    have = [c for c in cats if {f"walk_min_{c}", f"n_{c}_within_{T}min"} <= set(o.columns)]
    todo = [c for c in cats if c not in have]
    cols = [f"walk_min_{c}" for c in have] + [f"n_{c}_within_{T}min" for c in have]
    per_origin = o[cols]
    if todo:
        eq = result.equipments[result.equipments["category"] != "gare"]
        dest = gpd.GeoDataFrame(
            pd.concat([eq, station_destinations(result.stations)]), crs=settings.crs
        )
        per_origin = per_origin.join(ind.category_access(net, o, dest, todo))
    on = snap_points(net, o)["on_network"]
    return ind.served_by_zone(per_origin, o, cats, on_network=on)


def _counted(items: pd.Series, counts: pd.Series) -> str:
    """« Boulangerie (3) ; Boucherie, charcuterie (2) », most said first."""
    totals = counts.groupby(items.to_numpy()).sum().sort_values(ascending=False, kind="stable")
    return " ; ".join(f"{k} ({int(n)})" for k, n in totals.items())


def _per_qpv(result: RunResult, answers: gpd.GeoDataFrame, per_cat: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for code in result.qpv.index:
        mine = answers[answers["code_qp_lu"] == code]
        cats = per_cat[per_cat["code_qp"] == code]
        freins = mine[mine["frein"] != ""]
        no_net = result.networks.network_of(code) is None
        measured = cats["status_fr"].isin([STATUS_SERVED, STATUS_ABSENT])
        if not len(mine):
            absent = NO_ANSWER
        elif no_net:
            absent = STATUS_NO_NETWORK
        elif not len(cats):
            absent = NO_WISH
        elif not measured.any():
            absent = NONE_MEASURED
        else:
            hit = cats[cats["status_fr"] == STATUS_ABSENT]
            absent = " ; ".join(hit["category_label_fr"]) or "aucune"
        unassessable = cats[cats["status_fr"].str.startswith(("non évaluable", "libellé"))]
        freins_label = freins["frein_code"].map(data.FREINS).fillna(freins["frein"])
        freins_label = freins_label.where(freins["frein_code"] != "", freins["frein"])
        rows[code] = {
            "besoins_answers_n": int(mine["nombre"].sum()),
            "besoins_wished": _counted(cats["category_label_fr"], cats["n_answers"]),
            "besoins_absent_10min": absent,
            "besoins_not_assessable": " ; ".join(unassessable["category_label_fr"]),
            "besoins_freins": _counted(freins_label, freins["nombre"]),
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(QPV_COLUMNS))


def _felt(result: RunResult, answers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pinned = answers[answers["type"].isin(["frein", "lieu_evite"])]
    pinned = pinned[pinned.geometry.notna() & ~pinned.geometry.is_empty]
    keep = ["answer_id", "code_qp_lu", "type", "frein", "frein_code", "commentaire", "nombre"]
    if not len(pinned):
        return gpd.GeoDataFrame(columns=[*keep, "geometry"], geometry="geometry", crs=settings.crs)
    pts = gpd.GeoDataFrame(pinned[keep].rename(columns={"code_qp_lu": "code_qp"}),
                           geometry=pinned.geometry, crs=settings.crs)  # fmt: skip
    measured = ind.felt_vs_measured(pts, result.barriers.lines, result.crossings, result.detours)
    return gpd.GeoDataFrame(pts.join(measured), geometry="geometry", crs=settings.crs)


def _notes(answers: gpd.GeoDataFrame, result: RunResult) -> list[str]:
    notes = []
    unmatched = answers[answers["category_match"] == data.MATCH_NONE]
    if len(unmatched):
        labels = ", ".join(f"« {x} »" for x in unmatched["categorie"].unique()[:8])
        notes.append(
            f"besoins: {len(unmatched)} answer(s) with an unrecognised category label ({labels}): "
            "kept as written, listed in tables/besoins_labels.csv"
        )
    close = answers[answers["category_match"] == data.MATCH_CLOSE]
    if len(close):
        pairs = ", ".join(
            f"« {a} » → {b}"
            for a, b in close[["categorie", "category"]].drop_duplicates().to_numpy()[:8]
        )
        notes.append(f"besoins: {len(close)} label(s) matched by close spelling, to check: {pairs}")
    outside = answers["code_qp_lu"] == ""
    if outside.any():
        notes.append(
            f"besoins: {int(outside.sum())} answer(s) are about no QPV of this run (another QPV, "
            "or a point farther than 1 km from them): kept in the layer, not in the tables"
        )
    return notes
