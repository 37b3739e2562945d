"""The main job: official data for a département → one table of indicators per QPV.

:func:`run` reads as the list of stages; each stage is a module of this package.
"""

from __future__ import annotations

import warnings
from os import PathLike

import pandas as pd

from .. import settings
from .._errors import QpvgeoWarning
from ..data import barriers, sources
from ..indicators import enclavement, viability
from .access import NetworkAccess, access_times, network_access
from .context import RunContext, RunResult
from .coupling import network_coupling
from .enclavement import network_enclavement
from .flows import network_flows
from .load import income_by_qpv, load_inputs
from .networks import build_networks
from .notes import run_notes


def run(
    dep: str,
    codes: list[str] | None = None,
    *,
    data_dir: str | PathLike | None = None,
    offline: bool | None = None,
    categories: list[str] | None = None,
    crowfly_fallback: bool = False,
) -> RunResult:
    """Load the official data for a département and compute the per-QPV indicators."""
    offline = settings.offline if offline is None else offline
    sources.reset_used()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ctx = load_inputs(
            dep, codes, data_dir=data_dir, offline=offline, categories=categories,
            crowfly_fallback=crowfly_fallback,
        )  # fmt: skip
        ctx.networks = build_networks(ctx.qpv, ctx.origins, data_dir=data_dir, offline=offline)
        summary, times = access_times(ctx)
        access = network_access(ctx)
        flow_qpv, streets, candidates, footfall = network_flows(ctx)
        barrier_lines = barriers.load_barriers(dep, data_dir=data_dir, offline=offline)
        net_enclave, crossings, detours = network_enclavement(ctx)
        enclave = enclavement.barrier_indicators(ctx.qpv, barrier_lines).join(net_enclave)
        enclave = enclave.join(enclavement.enclavement_index(enclave))
        ctx.equipments = ctx.equipments.join(footfall)
        couple, pairs, polarites = network_coupling(ctx)
    for w in caught:  # only qpvgeo's own warnings become notes; the others go on
        if not issubclass(w.category, QpvgeoWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    ours = [w for w in caught if issubclass(w.category, QpvgeoWarning)]
    messages = run_notes(ctx, ours, summary, barrier_lines)
    table = indicator_table(ctx, summary, access, flow_qpv, enclave, couple)
    return RunResult(
        ctx.qpv, table, ctx.equipments, ctx.origins.join(times).join(access.per_origin),
        ctx.networks, barrier_lines, ctx.stations, access.shops, access.isochrones,
        streets, candidates, crossings, detours, pairs, polarites,
        ctx.categories, ctx.categories_absent, run_parameters(ctx), messages,
    )  # fmt: skip


def indicator_table(
    ctx: RunContext,
    summary: pd.DataFrame,
    access: NetworkAccess,
    flow_qpv: pd.DataFrame,
    enclave: pd.DataFrame,
    couple: pd.DataFrame,
) -> pd.DataFrame:
    """One row per QPV: identity, official figures, network, income context, access, flows,
    enclavement, coupling, viability."""
    population = ctx.origins.groupby("code_qp")["population"].sum(min_count=1)
    table = (
        ctx.qpv[["lib_qp", "insee_com", "lib_com", "area_ha"]]
        .assign(population_qpv=population, population_source=ctx.population_source)
        .join(ctx.figures.drop(columns="population_qpv"))
        .join(ctx.networks.table).join(income_by_qpv(ctx.origins, ctx.iris))
        .join(summary.drop(columns="population_est"))
        .join(access.per_qpv).join(flow_qpv).join(enclave).join(couple)
    )  # fmt: skip
    reading = viability.viability(table)
    table = (
        table.join(reading)
        .join(viability.sensitivity(table))
        .join(viability.summary_text(table, reading))
    )
    table.insert(0, "code_qp", table.index)
    return table


def run_parameters(ctx: RunContext) -> dict:
    """The parameters of a run, as recorded in the provenance."""
    return {
        "dep": ctx.dep,
        "qpv": ctx.codes or "all",
        "walk_speed_kmh": settings.walk_speed_kmh,
        "max_snap_m": settings.max_snap_m,
        "origin_spacing_m": settings.origin_spacing_m,
        "equipment_buffer_m": settings.equipment_buffer_m,
        "crowfly_fallback": ctx.crowfly_fallback,
        "detour_factor": settings.detour_factor if ctx.crowfly_fallback else None,
        "offline": ctx.offline,
        "categories": ctx.categories,
        "categories_absent": ctx.categories_absent,
    }
