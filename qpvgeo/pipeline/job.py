"""The main job: official data for a département → one table of indicators per QPV.

:func:`run` reads as the list of stages; each stage is a module of this package.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import settings
from .._errors import QpvgeoWarning
from ..data import barriers, sources
from ..data.loaders import departement_outline
from ..indicators import enclavement, viability
from .access import NetworkAccess, access_times, network_access
from .context import RunContext, RunResult
from .coupling import network_coupling
from .enclavement import network_enclavement
from .extracts import extract_paths, read_run_extracts
from .flows import network_flows
from .load import income_by_qpv, load_inputs
from .networks import NETWORK_BUFFER_M, build_networks
from .notes import run_notes

#: what the study areas of a run are (column ``perimeter_kind``, French, shown to users)
PERIMETER_QPV = "QPV 2024"
PERIMETER_STUDY = "périmètre d'étude"

#: one line per stage with counts and elapsed time (the command shows them unless --quiet)
progress = logging.getLogger("qpvgeo.progress")


def run(
    dep: str,
    codes: list[str] | None = None,
    *,
    data_dir: str | PathLike | None = None,
    offline: bool | None = None,
    categories: list[str] | None = None,
    crowfly_fallback: bool = False,
    osm_extracts: list[str | PathLike] | None = None,
    perimeters: gpd.GeoDataFrame | str | PathLike | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
) -> RunResult:
    """Load the official data for a département and compute the per-QPV indicators.

    ``osm_extracts``: OSM extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``) to cut the walk
    networks and barrier lines from, besides those of the data directory's ``osm/`` folder
    (:mod:`qpvgeo.pipeline.extracts`). ``perimeters``: study areas to read instead of the QPV
    (a polygon layer or its path; ``id_col``/``name_col`` name its id and name columns when
    they cannot be found by name; :mod:`qpvgeo.data.perimeters`); ``codes`` then selects
    perimeter ids.
    """
    offline = settings.offline if offline is None else offline
    sources.reset_used()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with stage("data") as say:
            ctx = load_inputs(
                dep, codes, data_dir=data_dir, offline=offline, categories=categories,
                crowfly_fallback=crowfly_fallback, perimeters=perimeters, id_col=id_col,
                name_col=name_col,
            )  # fmt: skip
            ctx.perimeters_source = perimeters_record(perimeters, id_col, name_col)
            say(f"{len(ctx.qpv)} {'perimeters' if ctx.perimeters_source else 'QPV'} of "
                f"{len(ctx.qpv_all)} in {dep}, {len(ctx.equipments)} "
                f"equipments, {len(ctx.iris)} IRIS, {len(ctx.origins_all)} residents' origins")  # fmt: skip
            paths = extract_paths(osm_extracts, data_dir)
            if paths:
                ctx.extracts = read_run_extracts(
                    paths, ctx.qpv, departement_outline(ctx.communes), NETWORK_BUFFER_M
                )
                say(f"OSM extract(s) {', '.join(p.name for p in paths)} ({ctx.extracts.label_fr()})")
        with stage("networks") as say:
            ctx.networks = build_networks(
                ctx.qpv, ctx.origins, data_dir=data_dir, offline=offline, extracts=ctx.extracts
            )
            status = ctx.networks.table["network_status"].value_counts()
            say(", ".join(f"{n} {s}" for s, n in status.items()))
        with stage("access") as say:
            summary, times = access_times(ctx)
            access = network_access(ctx)
            say(f"{len(times)} origins, {len(ctx.categories) + 1} categories")
        with stage("flows") as say:
            flow_qpv, streets, candidates, footfall = network_flows(ctx)
            say(f"{len(streets)} street segments, {len(candidates)} candidate segments")
        with stage("enclavement") as say:
            barrier_lines = barriers.load_barriers(
                dep, data_dir=data_dir, offline=offline, extracts=ctx.extracts.data
            )
            net_enclave, crossings, detours = network_enclavement(ctx)
            enclave = enclavement.barrier_indicators(ctx.qpv, barrier_lines).join(net_enclave)
            enclave = enclave.join(enclavement.enclavement_index(enclave))
            say(f"{len(barrier_lines.lines)} barrier lines, {len(crossings)} crossing places")
        with stage("coupling") as say:
            ctx.equipments = ctx.equipments.join(footfall)
            couple, pairs, polarites = network_coupling(ctx)
            say(f"{len(pairs)} shop-service pairs, {len(polarites)} polarités")
    for w in caught:  # only qpvgeo's own warnings become notes; the others go on
        if not issubclass(w.category, QpvgeoWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    ours = [w for w in caught if issubclass(w.category, QpvgeoWarning)]
    messages = run_notes(ctx, ours, summary, barrier_lines)
    with stage("viability") as say:
        table = indicator_table(ctx, summary, access, flow_qpv, enclave, couple)
        say(f"{int(table['viability_score'].notna().sum())} QPV read")
    return RunResult(
        ctx.qpv, table, ctx.equipments, ctx.origins.join(times).join(access.per_origin),
        ctx.networks, barrier_lines, ctx.stations, access.shops, access.isochrones,
        streets, candidates, crossings, detours, pairs, polarites,
        ctx.categories, ctx.categories_absent,
        {**run_parameters(ctx), "dep_name": next(iter(ctx.figures["lib_dep"].dropna()), None)},
        messages,
    )  # fmt: skip


@contextmanager
def stage(name: str) -> Iterator:
    """Time one stage; ``say(text)`` logs « name: text (s) » on the ``qpvgeo.progress`` logger."""
    start = time.perf_counter()
    said: list[str] = []
    yield said.append
    progress.info("%-12s %s (%.1f s)", name, "; ".join(said), time.perf_counter() - start)


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
        .assign(population_qpv=population, population_source=ctx.population_source,
                perimeter_kind=PERIMETER_STUDY if ctx.perimeters_source else PERIMETER_QPV)
        .join(ctx.figures.drop(columns=["population_qpv", "lib_dep"]))
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
        # recorded only when used, so that the key of a plain QPV run stays as it was
        **({"perimeters": p} if (p := getattr(ctx, "perimeters_source", None)) else {}),
        **({"osm_extracts": e.records()} if (e := getattr(ctx, "extracts", None)) else {}),
    }


def perimeters_record(perimeters, id_col: str | None, name_col: str | None) -> dict | None:
    """What the provenance keeps of custom perimeters: the file and its SHA-256 (or a
    GeoDataFrame's size), the id and name columns asked for."""
    if perimeters is None:
        return None
    if isinstance(perimeters, gpd.GeoDataFrame):
        where = {"layer": f"GeoDataFrame of {len(perimeters)} rows"}
    else:
        path = Path(perimeters).expanduser().resolve()
        where = {"file": str(path), "sha256": sources.sha256(path) if path.is_file() else None}
    return {**where, "id_col": id_col, "name_col": name_col}
