"""« Et si… » : a scenario's changes applied to a run, and what they change.

A scenario (:func:`qpvgeo.data.scenarios.read_scenario`) adds or closes
walkable links and adds or removes equipments. :func:`run_scenario` applies
it to the context of a baseline run (:func:`baseline`): the street networks of
the QPV of the run are edited (:mod:`qpvgeo.network.edit`), the equipments
changed, and every stage after the networks runs again
(:func:`qpvgeo.pipeline.job.compute`): walking times and shares, 2SFCA, Huff,
flows and footfall, crossings and detours, coupling, viability. Each QPV's
values depend only on its own network and the département's data, as in a
run, so a QPV reads the same whichever other QPV are in the scenario's run.

The network of each QPV (its file, its status) stays the baseline's: a closed
street does not make a QPV « partiel ». A QPV without a street network is not
evaluated (« non évalué »), never filled.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from os import PathLike

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import NetworkError, ValidationError
from ..data import nomenclature
from ..data.scenarios import describe, read_scenario
from ..network import edit
from ..network.build import WalkNetwork
from .context import RunContext, RunResult
from .job import compute, prepare, progress
from .load import destinations_of, present_categories
from .networks import NONE, QpvNetworks

#: what the scenario table says of a QPV without a street network
NOT_EVALUATED = "non évalué (pas de réseau de rues)"
#: columns of the scenario table (``tables/scenario_diff.csv``)
DIFF_COLUMNS = ["code_qp", "indicator", "before", "after", "change", "unit", "note"]
#: the indicators the command prints when they change
HEADLINE = (
    "walk_min_median_supermarche", "walk_min_median_boulangerie", "walk_min_median_pharmacie",
    "walk_min_median_gare", "share_within_10min_supermarche_pct", "n_crossings", "detour_gare",
    "detour_supermarche", "huff_share_nearby_pct", "enclavement_index", "viability_score",
)  # fmt: skip
#: indicator columns a scenario cannot change (official figures, identity): left out of the table
STATIC_COLUMNS = {
    "area_ha", "population_qpv", "network_coverage_pct", "median_income_iris_eur",
    "low_income_rate_iris_pct", "n_origins", "n_origins_without_population", "viability_rank_among",
}  # fmt: skip


@dataclass
class Baseline:
    """A run and the context it was computed from, ready for scenarios."""

    ctx: RunContext
    result: RunResult


@dataclass
class ScenarioResult:
    """What :func:`run_scenario` returns."""

    #: the changes, with ``effect`` (French: what was done) and ``networks`` (names)
    changes: gpd.GeoDataFrame
    before: RunResult
    after: RunResult
    #: per QPV and indicator: ``before``, ``after``, ``change``, ``unit``, ``note``
    diff: pd.DataFrame
    #: per resident origin: ``walk_min_<cat>_before`` / ``_after`` / ``_change``
    origins: gpd.GeoDataFrame
    #: seconds taken (apply, compute)
    seconds: float


def baseline(
    dep: str,
    codes: list[str] | None = None,
    *,
    data_dir: str | PathLike | None = None,
    offline: bool | None = None,
    **options,
) -> Baseline:
    """Load the data and networks of ``dep`` (``codes`` only) and compute the baseline run.

    ``options``: the other options of :func:`qpvgeo.pipeline.run` (``osm_extracts``...).
    """
    ctx, earlier = prepare(dep, codes, data_dir=data_dir, offline=offline, **options)
    return Baseline(ctx, compute(ctx, earlier=earlier))


def run_scenario(base: Baseline, scenario: str | PathLike | gpd.GeoDataFrame) -> ScenarioResult:
    """Apply a scenario to a baseline and recompute every indicator of its QPV.

    Parameters
    ----------
    base : Baseline
        From :func:`baseline`; left unchanged (several scenarios can be tried on it).
    scenario : path or GeoDataFrame
        A scenario file or a GeoDataFrame (:func:`~qpvgeo.data.scenarios.read_scenario`).

    Returns
    -------
    ScenarioResult

    Raises
    ------
    ValidationError
        The scenario is malformed, or a change cannot be placed: a link whose
        ends are farther than 50 m from every street of the QPV's networks, a
        closure that follows no street, an equipment to remove that is not there.
    """
    start = time.perf_counter()
    changes = scenario if _is_read(scenario) else read_scenario(scenario)
    ctx, changes = apply_scenario(base.ctx, changes)
    after = compute(ctx, barrier_lines=base.result.barriers)
    diff = scenario_diff(base.result, after)
    origins = origin_changes(base.result, after)
    seconds = time.perf_counter() - start
    progress.info("%-12s %d changes, %d QPV (%.1f s)", "scenario", len(changes), len(after.qpv), seconds)
    return ScenarioResult(changes, base.result, after, diff, origins, seconds)


def _is_read(scenario: object) -> bool:
    return isinstance(scenario, gpd.GeoDataFrame) and {"feature", "tolerance_m"} <= set(
        scenario.columns
    )


def apply_scenario(ctx: RunContext, changes: gpd.GeoDataFrame) -> tuple[RunContext, gpd.GeoDataFrame]:
    """A copy of ``ctx`` with the changes applied; the changes with ``effect`` and ``networks``.

    The street changes apply to each network the QPV of the run use where
    they can be placed (a link: both ends within 50 m of its streets; a
    closure: a street matched); a change placed on none of them is an error,
    unless no QPV of the run has a network (then nothing is evaluated).
    """
    names = list(ctx.network_groups())
    nets = {name: ctx.networks.networks[name] for name in names}
    equipments = ctx.equipments
    effects, used = [], []
    for _, change in changes.iterrows():
        if change["action"] in ("add_link", "remove_link"):
            effect, where = _apply_street(nets, change)
        elif change["action"] == "add_equipment":
            equipments, effect = _add_equipment(equipments, change), _equipment_effect(change)
            where = []
        else:
            equipments, effect = _remove_equipment(equipments, change)
            where = []
        effects.append(effect)
        used.append(", ".join(where))
    changes = changes.assign(effect=effects, networks=used)
    networks = QpvNetworks({**ctx.networks.networks, **nets}, ctx.networks.table)
    areas = {n: a for n, a in ctx._areas.items() if n not in nets or _same_extent(ctx, nets, n)}
    wanted = ctx.categories + ctx.categories_absent
    present, absent = present_categories(equipments, wanted)
    present = ctx.categories + [c for c in present if c not in ctx.categories]
    new = replace(
        ctx, equipments=equipments, destinations=destinations_of(equipments, ctx.stations),
        categories=present, categories_absent=[c for c in absent if c not in present],
        networks=networks, unknown_residents={}, _areas=areas,
    )  # fmt: skip
    return new, changes


def _same_extent(ctx: RunContext, nets: dict[str, WalkNetwork], name: str) -> bool:
    old = ctx.networks.networks[name]
    return old is nets[name] or bool(shapely.equals(old.extent, nets[name].extent))


def _apply_street(nets: dict[str, WalkNetwork], change: pd.Series) -> tuple[str, list[str]]:
    """Add or close a link on every network of ``nets`` it can be placed on (``nets`` updated)."""
    if not nets:
        return "non appliqué : aucun quartier du calcul n'a de réseau de rues", []
    done, problems, effect = [], [], ""
    for name, net in nets.items():
        if change["action"] == "add_link":
            try:
                nets[name], info = edit.add_link(net, change.geometry, label=change["name"] or "")
            except NetworkError as exc:
                problems.append(str(exc))
                continue
            effect = (
                f"lien piéton de {info['length_m']:.0f} m, extrémités raccordées aux rues à "
                f"{info['start_snap_m']:.0f} m et {info['end_snap_m']:.0f} m"
            )
        else:
            edges = edit.edges_along(net, change.geometry, change["tolerance_m"])
            if not len(edges):
                problems.append(f"no street of network {name!r} within {change['tolerance_m']:g} m")
                continue
            length = float(net.edge_length[edges].sum())
            nets[name] = edit.remove_edges(net, edges)
            effect = f"{len(edges)} tronçon(s) de rue fermé(s), {length:.0f} m"
        done.append(name)
    if not done:
        raise ValidationError(
            f"scenario {describe(change)}: " + "; ".join(problems)
            + " (a change of the streets is placed on the networks of the QPV given with --qpv: "
            "is it near them?)"
        )  # fmt: skip
    return effect, done


def _add_equipment(equipments: gpd.GeoDataFrame, change: pd.Series) -> gpd.GeoDataFrame:
    """The equipments with one more, of the change's category, at its point."""
    cat = change["category"]
    info = nomenclature.categories().loc[cat]
    n = int(equipments.index.str.startswith("SCN").sum()) + 1 if len(equipments) else 1
    site = int(equipments["site_id"].max()) + 1 if "site_id" in equipments and len(equipments) else 0
    row = {
        "source": "scénario", "code": "", "category": cat,
        "label_fr": change["label"] or str(info["label_fr"]), "domain": info["domain"],
        "is_commerce": bool(info["is_commerce"]), "is_public_service": bool(info["is_public_service"]),
        "is_food_retail": bool(info["is_food_retail"]), "typequ_2021": "", "insee_com": None,
        "in_dep": True, "site_id": site, "n_at_site": 1,
    }  # fmt: skip
    new = gpd.GeoDataFrame(
        {k: [v] for k, v in row.items() if k in equipments.columns},
        geometry=[change.geometry], crs=settings.crs,
        index=pd.Index([f"SCN{n:03d}"], name=equipments.index.name),
    )  # fmt: skip
    return gpd.GeoDataFrame(pd.concat([equipments, new]), crs=settings.crs)


def _equipment_effect(change: pd.Series) -> str:
    return f"{nomenclature.label(change['category'])} ajouté(e)"


def _remove_equipment(equipments: gpd.GeoDataFrame, change: pd.Series) -> tuple[gpd.GeoDataFrame, str]:
    """The equipments without the one the change designates (by ``id`` or nearest within tolerance)."""
    eid = change["equipment_id"]
    if eid is not None:
        if eid not in equipments.index:
            raise ValidationError(
                f"scenario {describe(change)}: no equipment with id {eid!r} "
                "(the `equipment_id` of the equipments layer of the GeoPackage)"
            )
        hit = eid
    else:
        pool = equipments
        if change["category"]:
            pool = pool[pool["category"] == change["category"]]
        d = pool.geometry.distance(change.geometry)
        if not len(d) or d.min() > change["tolerance_m"]:
            what = f"of category {change['category']!r} " if change["category"] else ""
            nearest = f" (nearest {d.min():.0f} m away)" if len(d) else ""
            raise ValidationError(
                f"scenario {describe(change)}: no equipment {what}within "
                f"{change['tolerance_m']:g} m of the point{nearest}; move the point or give its `id`"
            )
        hit = d.idxmin()
    label = f"{equipments.at[hit, 'label_fr']} retiré(e) ({hit})"
    return equipments.drop(index=hit), label


# ---------------------------------------------------------------------------
# what changed


#: unit of an indicator column, from its name: the first pattern that matches (French)
UNIT_RULES = (
    (r"score", "0 à 1"), (r"^walk_min", "min"), (r"_pct$", "%"),
    (r"_per_1000$", "pour 1 000 habitants"), (r"_per_km2$", "par km²"), (r"_per_km$", "par km"),
    (r"_trips", "trajets"), (r"_ha$", "ha"), (r"_m$", "m"), (r"_index$", "0 à 1"),
    (r"^detour_", "marche / vol d'oiseau"), (r"rank", "rang"), (r"^n_", "nombre"),
    (r"^clq_p", "p-valeur"), (r"^clq_", "quotient"), (r"_ratio", "rapport"),
)  # fmt: skip


def indicator_unit(column: str) -> str:
    """Unit of an indicator column, read from its name (:data:`UNIT_RULES`); ``''`` if none."""
    return next((unit for pattern, unit in UNIT_RULES if re.search(pattern, column)), "")


def scenario_diff(before: RunResult, after: RunResult) -> pd.DataFrame:
    """Per QPV and indicator: ``before``, ``after``, ``change`` (after − before), ``unit``, ``note``.

    Every numeric indicator a scenario can change (not the identity and
    official figures, which come before ``network_source`` in the table, nor
    :data:`STATIC_COLUMNS`);
    a QPV without a street network gets one row, ``indicator`` « scenario »,
    with the note « non évalué (pas de réseau de rues) ».
    """
    b, a = before.indicators, after.indicators
    # identity and official figures come before the network columns in the table
    official = set(a.columns[: a.columns.get_loc("network_source")])
    columns = [
        c for c in a.columns.union(b.columns, sort=False)
        if c not in STATIC_COLUMNS and c not in official
        and _numeric(a, c) and (c not in b.columns or _numeric(b, c))
    ]  # fmt: skip
    rows = []
    for code in a.index:
        if a.at[code, "network_status"] == NONE:
            rows.append([code, "scenario", np.nan, np.nan, np.nan, "", NOT_EVALUATED])
            continue
        for c in columns:
            x = float(b.at[code, c]) if c in b.columns else np.nan
            y = float(a.at[code, c]) if c in a.columns else np.nan
            rows.append([code, c, x, y, y - x, indicator_unit(c), ""])
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _numeric(table: pd.DataFrame, column: str) -> bool:
    dtype = table[column].dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def origin_changes(before: RunResult, after: RunResult) -> gpd.GeoDataFrame:
    """Per resident origin of the QPV: walking time to the nearest of each category, before and after.

    Columns ``code_qp``, ``population``, and per category
    ``walk_min_<cat>_before``, ``walk_min_<cat>_after``, ``walk_min_<cat>_change``
    (NaN where unreachable or not evaluated).
    """
    o = after.origins
    cats = [c for c in o.columns if c.startswith("walk_min_")]
    out = o[["code_qp", "population", "geometry"]].copy()
    for c in cats:
        old = before.origins[c].reindex(o.index) if c in before.origins.columns else np.nan
        out[f"{c}_before"] = old
        out[f"{c}_after"] = o[c]
        out[f"{c}_change"] = o[c] - old
    return out
