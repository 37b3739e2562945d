"""Workload ``pipeline_walk``: the pipeline's stages on perimeters tiled over a walk network.

For each graph, N square perimeters of 25 ha (500 m sides, 150 m apart) are tiled
in the middle of the network (12 on the Palaiseau–Orsay walk network, 16 on the
grids) and the stages of :func:`qpvgeo.pipeline.job.run` run on them through the
library: access, flows, enclavement, coupling, viability (the ``data`` and
``networks`` stages hand over inputs built beforehand, so they take no time).
One network holds every perimeter, so each stage works on the whole network.

* On ``palaiseau_walk_full`` every input is the data mirror's (BPE equipments,
  IRIS, stations, communes, barrier lines of the Essonne) but the perimeters,
  whose residents come from the IRIS (as for any perimeter that is not a QPV).
* ``palaiseau_extract`` is the user's path on the same 12 perimeters:
  ``pipeline.run(dep, perimeters=..., osm_extracts=[the mirror's extract])``, each
  perimeter with its own walk network cut from the extract (:func:`run_extract`);
  the ``data`` (reading the extract) and ``networks`` (cutting) stages are timed too.
* On the grids (``grid_10k`` / ``grid_40k`` / ``grid_160k``, 80 m blocks) the
  inputs are synthetic, at the densities of the Palaiseau network's extent:
  equipments and stations drawn (seeded) from the mirror's Essonne rows and
  placed uniformly at random, IRIS of 2 km × 2 km with the Palaiseau
  population density, communes of 4 km × 4 km, no barrier line.

Per stage: wall time (``s``), the peak resident memory of the process during
the stage (``peak_rss_mb``; the kernel's peak is reset at the start of each stage
through ``/proc/self/clear_refs``) and its growth over the memory at the stage's
start (``rss_growth_mb``); then, in a second pass with :mod:`tracemalloc` on
(slower, so not timed), the peak of the memory Python and numpy allocated
during the stage (``traced_peak_mb``; numba's own allocations are not traced).
A first, untimed run on a small grid loads the numba kernels.

Reference in the same process (``reference_s``, ``ratio``): the flows of the
stage (:func:`qpvgeo.indicators.flows.street_flows`) against the dense
formulation it replaced (:func:`dense_street_flows`: one
``scipy.sparse.csgraph.dijkstra`` from every destination node giving a
destinations × nodes matrix, then destinations × origins weights), on the same
inputs, with ``max_abs_diff`` between the edge flows (0 up to rounding where no two
paths tie; on the grids many do, and each formulation breaks ties its own way: there
``trip_km_rel_diff``, the difference in trips × metres walked, says that the trips and
their lengths are the same); skipped (``reference_s`` None) where the dense arrays
would not fit in :data:`DENSE_BUDGET_MB`.
"""

from __future__ import annotations

import dataclasses
import math
import time
import tracemalloc
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit
from scipy import sparse
from scipy.sparse import csgraph

from qpvgeo import settings
from qpvgeo.data import barriers, population
from qpvgeo.indicators import flows
from qpvgeo.network import grid_network
from qpvgeo.network.build import WalkNetwork, resident_coverage, snap_points
from qpvgeo.pipeline import job
from qpvgeo.pipeline.context import RunContext
from qpvgeo.pipeline.load import load_inputs
from qpvgeo.pipeline.networks import COVERED, COVERED_SHARE, NONE, PARTIAL, SCOPE, QpvNetworks

GRAPHS = ["palaiseau_walk_full", "palaiseau_extract", "grid_10k", "grid_40k", "grid_160k"]
DEP = "91"
SIDE_M = 500.0
GAP_M = 150.0
#: the dense reference is skipped when its destinations x nodes matrices would exceed this
DENSE_BUDGET_MB = 1500.0
STAGES = ("access", "flows", "enclavement", "coupling", "viability")


# --------------------------------------------------------------------------- inputs


def tiled_perimeters(net: WalkNetwork, n: int) -> gpd.GeoDataFrame:
    """``n`` squares of ``SIDE_M`` tiled (``GAP_M`` apart) around the middle of the network."""
    x0, x1 = np.quantile(net.node_x, [0.02, 0.98])
    y0, y1 = np.quantile(net.node_y, [0.02, 0.98])
    pitch = SIDE_M + GAP_M
    cols = max(1, min(n, math.ceil(math.sqrt(n * (x1 - x0) / (y1 - y0)))))
    rows = math.ceil(n / cols)
    left = (x0 + x1) / 2 - (cols * pitch - GAP_M) / 2
    bottom = (y0 + y1) / 2 - (rows * pitch - GAP_M) / 2
    boxes = [
        shapely.box(left + c * pitch, bottom + r * pitch, left + c * pitch + SIDE_M,
                    bottom + r * pitch + SIDE_M)
        for r in range(rows) for c in range(cols)
    ][:n]  # fmt: skip
    codes = [f"P{k + 1:03d}" for k in range(n)]
    gdf = gpd.GeoDataFrame(
        {"lib_qp": [f"Périmètre {k + 1}" for k in range(n)]},
        geometry=boxes,
        index=pd.Index(codes, name="code_qp"),
        crs=settings.crs,
    )
    gdf["area_ha"] = gdf.area / 1e4
    return gdf


def _with_perimeters(ctx: RunContext, perims: gpd.GeoDataFrame) -> RunContext:
    """``ctx`` with the perimeters as the study areas, residents from the IRIS."""
    joined = gpd.sjoin(
        gpd.GeoDataFrame(geometry=perims.representative_point(), crs=settings.crs),
        ctx.communes[["nom", "geometry"]].reset_index(), how="left", predicate="within",
    )  # fmt: skip
    joined = joined[~joined.index.duplicated()]
    perims = perims.assign(
        insee_com=joined["insee_com"].fillna("").to_numpy(),
        lib_com=joined["nom"].fillna("").to_numpy(),
        insee_dep=DEP,
    )
    figures = pd.DataFrame(
        {"lib_dep": "Essonne", "population_qpv": np.nan}, index=perims.index.copy()
    )
    origins_all, source = population.qpv_origins(perims, ctx.iris, figures["population_qpv"])
    return dataclasses.replace(
        ctx, qpv=perims, qpv_all=perims, figures=figures, origins_all=origins_all,
        population_source=source,
        iris_outside=population.outside_qpv_iris(ctx.iris, perims, origins_all),
    )  # fmt: skip


def _one_network(net: WalkNetwork, ctx: RunContext) -> QpvNetworks:
    """The network for every perimeter, with its status by the rule of ``build_networks``."""
    share = resident_coverage(net, ctx.origins_all)
    rows = {}
    for code in ctx.qpv.index:
        s = float(share.get(code, 0.0))
        status = NONE if s == 0 else COVERED if s >= COVERED_SHARE else PARTIAL
        rows[code] = {
            "network_source": net.name if s > 0 else None,
            "network_kind": net.kind,
            "network_coverage_pct": round(100 * s, 1),
            "network_status": status,
            "network_scope": SCOPE[status].format(pct=100 * s),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("code_qp")
    return QpvNetworks(networks={net.name: net}, table=table)


def real_inputs(net: WalkNetwork, n: int) -> tuple[RunContext, barriers.Barriers]:
    """The mirror's Essonne inputs, ``n`` perimeters over ``net``, the Essonne barriers."""
    ctx = load_inputs(DEP, None, data_dir=None, offline=True, categories=None,
                      crowfly_fallback=False)  # fmt: skip
    ctx = _with_perimeters(ctx, tiled_perimeters(net, n))
    ctx.networks = _one_network(net, ctx)
    return ctx, barriers.load_barriers(DEP, offline=True)


def _cells(x0, y0, x1, y1, size, prefix):
    xs = np.arange(x0, x1, size)
    ys = np.arange(y0, y1, size)
    boxes = [shapely.box(x, y, x + size, y + size) for y in ys for x in xs]
    return boxes, [f"{prefix}{k:05d}" for k in range(len(boxes))]


def synthetic_inputs(
    net: WalkNetwork, n: int, template: RunContext, template_net: WalkNetwork, seed: int = 0
) -> tuple[RunContext, barriers.Barriers]:
    """Inputs over ``net`` at the densities of ``template`` within ``template_net``'s extent."""
    rng = np.random.default_rng(seed)
    ext = template_net.extent
    area_km2 = ext.area / 1e6
    x0, y0, x1, y1 = net.node_x.min(), net.node_y.min(), net.node_x.max(), net.node_y.max()
    box_km2 = (x1 - x0) * (y1 - y0) / 1e6

    def drawn(frame: gpd.GeoDataFrame, prefix: str) -> gpd.GeoDataFrame:
        inside = frame[frame.geometry.within(ext)]
        k = rng.poisson(len(inside) / area_km2 * box_km2)
        rows = inside.iloc[rng.integers(0, len(inside), k)].copy()
        rows.index = pd.Index([f"{prefix}{i:07d}" for i in range(k)], name=frame.index.name)
        pts = gpd.points_from_xy(rng.uniform(x0, x1, k), rng.uniform(y0, y1, k), crs=settings.crs)
        return rows.set_geometry(pts)

    equipments = drawn(template.equipments, "E")
    if "site_id" in equipments:
        equipments["site_id"] = equipments.index
        equipments["n_at_site"] = 1
    stations = drawn(template.stations, "S")
    iris_in = template.iris[template.iris.intersects(ext)]
    density = iris_in["population"].sum() / (iris_in.area.sum() / 1e6)  # residents per km2
    boxes, codes = _cells(x0, y0, x1 + 1, y1 + 1, 2000.0, "I")
    iris = gpd.GeoDataFrame(
        {"nom_iris": codes, "typ_iris": "H", "insee_com": "", "population": density * 4.0,
         "median_income_eur": rng.uniform(15000, 30000, len(codes)),
         "low_income_rate_pct": rng.uniform(5, 40, len(codes))},
        geometry=boxes, index=pd.Index(codes, name="code_iris"), crs=settings.crs,
    )  # fmt: skip
    boxes, codes = _cells(x0, y0, x1 + 1, y1 + 1, 4000.0, "G")
    communes = gpd.GeoDataFrame(
        {"nom": [f"Commune {c}" for c in codes], "insee_dep": DEP},
        geometry=boxes, index=pd.Index(codes, name="insee_com"), crs=settings.crs,
    )  # fmt: skip
    iris["insee_com"] = gpd.sjoin(
        gpd.GeoDataFrame(geometry=iris.representative_point(), crs=settings.crs),
        communes[["geometry"]].reset_index(), how="left", predicate="within",
    )["insee_com"].groupby(level=0).first()  # fmt: skip
    from qpvgeo.pipeline.access import station_destinations

    ctx = dataclasses.replace(
        template, equipments=equipments, stations=stations, iris=iris, communes=communes,
        destinations=gpd.GeoDataFrame(
            pd.concat([equipments[equipments["category"] != "gare"],
                       station_destinations(stations)]), crs=settings.crs),
        _areas={}, unknown_residents={},
    )  # fmt: skip
    ctx = _with_perimeters(ctx, tiled_perimeters(net, n))
    ctx.networks = _one_network(net, ctx)
    empty = gpd.GeoDataFrame({"kind": [], "name": [], "source": []}, geometry=[], crs=settings.crs)
    lines = barriers.Barriers(empty, {"rail": "no", "water": "no", "road": "no"}, [])
    return ctx, lines


# --------------------------------------------------------------------------- measuring


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


#: the largest peak resident memory (KiB) seen in this process, kept across the resets
_PEAK = {"kib": 0}


def _reset_peak() -> bool:
    _PEAK["kib"] = max(_PEAK["kib"], _status_kib("VmHWM"))
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measured_run(
    ctx: RunContext | None, lines: barriers.Barriers | None, *, traced: bool, **run_kwargs
) -> dict:
    """Run :func:`qpvgeo.pipeline.job.run` stage by stage; one dict per stage.

    With ``ctx``, the run takes a fresh copy of it and ``lines`` as its inputs (the ``data``
    and ``networks`` stages hand them over); with ``ctx`` None, the run loads everything
    itself from ``run_kwargs`` (e.g. ``perimeters=``, ``osm_extracts=``).
    """
    record: dict[str, dict] = {}

    @contextmanager
    def stage(name):
        said: list[str] = []
        rss0 = _status_kib("VmRSS")
        resettable = _reset_peak()
        if traced:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        yield said.append
        row = {"s": round(time.perf_counter() - start, 3), "said": "; ".join(said)}
        if resettable:
            hwm = _status_kib("VmHWM")
            row["peak_rss_mb"] = round(hwm / 1024, 1)
            row["rss_growth_mb"] = round((hwm - rss0) / 1024, 1)
        if traced:
            row["traced_peak_mb"] = round((tracemalloc.get_traced_memory()[1] - base) / 1e6, 1)
        record[name] = row

    saved = job.stage, job.load_inputs, job.build_networks, barriers.load_barriers
    job.stage = stage
    if ctx is not None:
        fresh = dataclasses.replace(ctx, equipments=ctx.equipments.copy(), _areas={},
                                    unknown_residents={})  # fmt: skip
        job.load_inputs = lambda *a, **k: fresh
        job.build_networks = lambda *a, **k: fresh.networks
        barriers.load_barriers = lambda *a, **k: lines
    try:
        if traced:
            tracemalloc.start()
        result = job.run(DEP, offline=True, **run_kwargs)
    finally:
        if traced:
            tracemalloc.stop()
        job.stage, job.load_inputs, job.build_networks, barriers.load_barriers = saved
    keep = STAGES if ctx is not None else ("data", "networks", *STAGES)
    out = {k: v for k, v in record.items() if k in keep}
    out["_table"] = result.indicators
    return out


# --------------------------------------------------------------------------- reference


@njit(cache=True)
def _accumulate(dist, pred, origin_node, origin_trips, order):  # pragma: no cover - compiled
    """Push trips from origins back along the predecessor tree (the replaced kernel, verbatim)."""
    n = dist.shape[0]
    load = np.zeros(n)
    for k in range(origin_node.shape[0]):
        load[origin_node[k]] += origin_trips[k]
    node_flow = np.zeros(n)
    for idx in range(order.shape[0] - 1, -1, -1):
        v = order[idx]
        if load[v] == 0.0:
            continue
        p = pred[v]
        if p < 0:
            continue
        node_flow[v] += load[v]
        load[p] += load[v]
    return node_flow


def dense_street_flows(network, origins, destinations, *, cutoff_m=1125.0, decay_m=400.0):
    """Edge flows as :func:`~qpvgeo.indicators.flows.street_flows` computed them before the
    bounded searches (commit 4a6e71b): dense (destinations x nodes) and (destination points
    x origins) arrays."""
    o_node = flows._nearer_node(network, snap_points(network, origins))
    d_node = flows._nearer_node(network, snap_points(network, destinations))
    pop = origins["population"].to_numpy(dtype=float)
    ok = (o_node >= 0) & (pop > 0)
    o_node, pop = o_node[ok], pop[ok]
    d_ok = np.flatnonzero(d_node >= 0)
    edge_flow = np.zeros(network.n_edges)
    unique_dest, inverse = np.unique(d_node[d_ok], return_inverse=True)
    dist, pred = csgraph.dijkstra(
        network.csr, directed=False, indices=unique_dest, limit=cutoff_m, return_predecessors=True
    )
    w_dest = np.exp(-dist[inverse][:, o_node] / decay_m)
    total = w_dest.sum(axis=0)
    share = np.divide(w_dest, total, out=np.zeros_like(w_dest), where=total > 0)
    trips = share * pop
    order_e = np.argsort(network.edge_length)[::-1]
    u, v = network.edge_u[order_e], network.edge_v[order_e]
    rows, cols = np.concatenate([u, v]), np.concatenate([v, u])
    vals = np.concatenate([order_e, order_e]) + 1
    table = dict(zip(zip(rows.tolist(), cols.tolist(), strict=True), vals.tolist(), strict=True))
    r, c = np.array(list(table)).T
    lookup = sparse.csr_array(
        (np.array(list(table.values())), (r, c)), shape=(network.n_nodes, network.n_nodes)
    )
    for row in range(len(unique_dest)):
        per_origin = trips[inverse == row].sum(axis=0)
        d = dist[row]
        order = np.argsort(d, kind="stable")
        order = order[np.isfinite(d[order])].astype(np.int64)
        flow = _accumulate(d, pred[row].astype(np.int64), o_node, per_origin, order)
        nodes = np.flatnonzero(flow > 0)
        if len(nodes) == 0:
            continue
        edges = np.asarray(lookup[nodes, pred[row][nodes]]).ravel().astype(np.int64) - 1
        np.add.at(edge_flow, edges, flow[nodes])
    return edge_flow


def flows_reference(ctx: RunContext, net: WalkNetwork) -> dict:
    """street_flows and the dense reference on the flows stage's inputs (time, max diff)."""
    residents = ctx.residents(net.name, first=list(ctx.qpv.index))
    dest = ctx.destinations[ctx.destinations["is_commerce"] | ctx.destinations["is_public_service"]]
    d_node = flows._nearer_node(net, snap_points(net, dest))
    n_dest_nodes, n_points = len(np.unique(d_node[d_node >= 0])), int((d_node >= 0).sum())
    # distances and predecessors (destinations x nodes), three (destination points x origins)
    dense_mb = (n_dest_nodes * net.n_nodes * 12 + n_points * len(residents) * 24) / 1e6
    start = time.perf_counter()
    ours, _ = flows.street_flows(net, residents, dest)
    ours_s = time.perf_counter() - start
    row = {"n_destination_nodes": n_dest_nodes, "n_destination_points": n_points,
           "n_residents_points": len(residents),
           "dense_estimate_mb": round(dense_mb, 1), "flows_s": round(ours_s, 3)}  # fmt: skip
    if dense_mb > DENSE_BUDGET_MB:
        return {**row, "reference_s": None, "ratio": None, "max_abs_diff": None}
    start = time.perf_counter()
    ref = dense_street_flows(net, residents, dest)
    ref_s = time.perf_counter() - start
    return {**row, "reference_s": round(ref_s, 3), "ratio": round(ref_s / ours_s, 1),
            "max_abs_diff": float(np.abs(ref - ours.to_numpy()).max()),
            # trips x metres walked: the same whichever of two equally short paths a trip takes
            "trip_km_rel_diff": float(abs(ours.to_numpy() @ net.edge_length - ref @ net.edge_length)
                                      / (ref @ net.edge_length)),
            "max_flow": float(ref.max())}  # fmt: skip


# --------------------------------------------------------------------------- the row


_TEMPLATE: dict = {}


def _template() -> tuple[RunContext, WalkNetwork]:
    if not _TEMPLATE:
        from graphs import GRAPHS as ALL

        pal = ALL["palaiseau_walk_full"]()
        ctx, _ = real_inputs(pal, 1)
        _TEMPLATE["v"] = (ctx, pal)
    return _TEMPLATE["v"]


def inputs_for(net: WalkNetwork, graph_name: str) -> tuple[RunContext, barriers.Barriers, int]:
    if graph_name.startswith("palaiseau"):
        return (*real_inputs(net, 12), 12)
    ctx, pal = _template()
    return (*synthetic_inputs(net, 16, ctx, pal), 16)


def run(net: WalkNetwork, graph_name: str) -> dict:
    _PEAK["start"] = _PEAK["kib"] = _status_kib("VmHWM")
    import warnings

    warnings.simplefilter("ignore")  # the pipeline's notes are not what is measured here
    small = grid_network(60, 80.0)
    tpl, pal = _template()
    warm_ctx, warm_lines = synthetic_inputs(small, 1, tpl, pal)
    measured_run(warm_ctx, warm_lines, traced=False)  # numba kernels loaded
    if graph_name == "palaiseau_extract":
        return run_extract(net)
    ctx, lines, n = inputs_for(net, graph_name)
    timed = measured_run(ctx, lines, traced=False)
    timed.pop("_table")
    traced = measured_run(ctx, lines, traced=True)
    traced.pop("_table")
    for name, row in traced.items():
        timed[name]["traced_peak_mb"] = row["traced_peak_mb"]
    ref = flows_reference(ctx, net)
    total = sum(v["s"] for v in timed.values())
    return {
        "workload": "pipeline_walk",
        "graph": graph_name,
        "n_nodes": net.n_nodes,
        "n_edges": net.n_edges,
        "n_perimeters": n,
        "n_covered": int((ctx.networks.table["network_status"] == COVERED).sum()),
        "n_equipments": len(ctx.equipments),
        "n_resident_points": len(ctx.residents(net.name, first=list(ctx.qpv.index))),
        "stages": timed,
        "stages_s": round(total, 2),
        "flows_reference": ref,
        **_row_peak(),
    }


def _row_peak() -> dict:
    """Peak resident memory of the whole row (inputs, runs, reference), across the resets,
    and its growth over the peak when the row started (the graph built)."""
    _reset_peak()
    return {
        "peak_rss_mb": round(_PEAK["kib"] / 1024, 1),
        "rss_growth_mb": round((_PEAK["kib"] - _PEAK["start"]) / 1024, 1),
    }


def run_extract(net: WalkNetwork, n: int = 12) -> dict:
    """The user's path: ``pipeline.run(dep, perimeters=..., osm_extracts=[...])``.

    The same 12 perimeters as on ``palaiseau_walk_full`` (tiled over ``net``), read as a
    perimeter layer; each gets its own walk network cut from the mirror's Palaiseau
    extract (perimeter + 1.5 km), as :mod:`qpvgeo.pipeline.extracts` does. A first run
    reads the extract and fills the compiled-network cache (``cold``); the timed run
    and the traced run then find the networks in the cache.
    """
    from graphs import PALAISEAU_OSM, _data_dir

    perims = tiled_perimeters(net, n).reset_index()
    perims = perims.rename(columns={"code_qp": "id", "lib_qp": "nom"})[["id", "nom", "geometry"]]
    kwargs = {"perimeters": perims, "osm_extracts": [_data_dir() / PALAISEAU_OSM]}
    cold = measured_run(None, None, traced=False, **kwargs)
    table = cold.pop("_table")
    timed = measured_run(None, None, traced=False, **kwargs)
    timed.pop("_table")
    traced = measured_run(None, None, traced=True, **kwargs)
    traced.pop("_table")
    for name, row in traced.items():
        timed[name]["traced_peak_mb"] = row["traced_peak_mb"]
    return {
        "workload": "pipeline_walk",
        "graph": "palaiseau_extract",
        "n_nodes": None,
        "n_network_nodes": table.get("network_n_nodes"),
        "n_perimeters": n,
        "n_covered": int((table["network_status"] == COVERED).sum()),
        "network_kinds": sorted(table["network_kind"].dropna().unique().tolist()),
        "stages": timed,
        "cold_stages_s": {k: v["s"] for k, v in cold.items()},
        "stages_s": round(sum(v["s"] for v in timed.values()), 2),
        "flows_reference": {"ratio": None},
        **_row_peak(),
    }


def summary(rows: list[dict]) -> dict:
    """Scaling exponents over the grids: ``b`` in ``y ~ n_nodes^b``, least squares on logs.

    For the wall time and the traced memory peak of each stage and of all stages, and for
    the growth of the resident memory during the access and flows stages; 1 is linear,
    2 quadratic.
    """
    grids = sorted((r for r in rows if r["graph"].startswith("grid")), key=lambda r: r["n_nodes"])
    if len(grids) < 2:
        return {}
    logn = np.log([r["n_nodes"] for r in grids])

    def slope(values) -> float | None:
        v = np.asarray(values, dtype=float)
        if not np.all(v > 0):
            return None
        return round(float(np.polyfit(logn, np.log(v), 1)[0]), 2)

    out = {"graphs": [r["graph"] for r in grids], "n_nodes": [r["n_nodes"] for r in grids]}
    for name in STAGES:
        out[f"{name}_s"] = slope([r["stages"][name]["s"] for r in grids])
        out[f"{name}_traced_peak"] = slope([r["stages"][name]["traced_peak_mb"] for r in grids])
    for name in ("access", "flows"):
        out[f"{name}_rss_growth"] = slope([r["stages"][name]["rss_growth_mb"] for r in grids])
    out["stages_s"] = slope([r["stages_s"] for r in grids])
    out["flows_kernel_s"] = slope([r["flows_reference"]["flows_s"] for r in grids])
    return {"scaling_exponent": out}


def fmt(row: dict) -> str:
    parts = [
        f"{k} {v['s']:.2f}s/{v.get('peak_rss_mb', float('nan')):.0f}MB"
        f"(+{v.get('rss_growth_mb', float('nan')):.0f}, py {v.get('traced_peak_mb', float('nan')):.0f})"
        for k, v in row["stages"].items()
    ]
    ref = row["flows_reference"]
    ratio = f"flows vs dense {ref['ratio']}x" if ref["ratio"] else "dense reference skipped"
    return (
        f"pipeline_walk {row['graph']:<22} n={row['n_nodes'] or '-':>7} perimeters={row['n_perimeters']} "
        f"total {row['stages_s']:.2f}s  " + "  ".join(parts) + f"  [{ratio}]"
    )
