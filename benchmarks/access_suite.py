"""Workload ``access_suite``: nearest, counts within 5/10/15 min and E2SFCA.

Setup (fixed seed 0): 2,000 origins at uniformly random positions on
uniformly random edges; 8 facility categories with, in total, about 1 % of
the network's nodes as facilities (at least 4 per category), also at random
edge positions. Parts:

* ``nearest``: distance to the nearest facility of each of the 8 categories;
* ``counts``: number of facilities of each category within 375 / 750 /
  1,125 m (5 / 10 / 15 min at 4.5 km/h);
* ``e2sfca``: Gaussian E2SFCA (catchment 1,125 m, bandwidth 562.5 m) for 4
  categories, demand 1 per origin, supply 1 per facility.

``qpvgeo_s`` times :mod:`qpvgeo.engine` + :mod:`qpvgeo.fca`. Numba compile
time is **not** counted: the kernels are compiled (or loaded from cache) once
per process on a tiny grid before any timing.

``reference_s`` times plain networkx in the same process on the same
points: per category, one Dijkstra from a virtual source linked to both end
nodes of each facility's edge with the costs ``s`` and ``L - s`` (that is a
multi-source Dijkstra with initial offsets) for ``nearest``; per facility, one
such Dijkstra with a cutoff for ``counts`` and ``e2sfca``; the E2SFCA ratios
of the reference are computed with a separate pandas groupby. All reference
distances are exact and full (no subsampling). ``max_abs_diff_m`` is the
largest difference between the qpvgeo and reference distances (nearest
distances and every origin–facility pair within 1,125 m); counts and E2SFCA
ratios are checked too (``counts_equal``, ``fca_max_rel_diff``).

Peers, timed where they import: scipy (``scipy.sparse.csgraph.dijkstra`` on the
same points on edges through virtual sources, exact: ``nearest`` per category with
``min_only=True``, ``counts`` one bounded search per facility; its parts are in
``peer_parts["scipy"]`` beside qpvgeo's ``parts``), pandana (contraction hierarchies,
``precompute`` + ``nearest_pois`` / ``aggregate``) and cityseer
(``network_structure_from_nx`` + ``compute_accessibilities``, one pass giving
counts and nearest within 1,125 m). Both compute *from every network node*
(their model: points are snapped to nodes), so they are also compared with
qpvgeo run from every node (``qpvgeo_all_nodes``, origins at the nodes).
pandana's nearest search is bounded at 2,000 m (it needs a bound).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator

import networkx as nx
import numpy as np
import pandas as pd

from qpvgeo.indicators.fca import gaussian_decay, two_step_fca
from qpvgeo.network import WalkNetwork, engine, grid_network

WORKLOAD = "access_suite"
N_ORIGINS = 2000
N_CATEGORIES = 8
N_FCA_CATEGORIES = 4
RADII_M = (375.0, 750.0, 1125.0)
CATCHMENT_M = 1125.0
BANDWIDTH_M = CATCHMENT_M / 2
PANDANA_NEAREST_MAX_M = 2000.0
PEER_TIMEOUT_S = 90.0  # pandana's contraction hierarchies can take very long on regular grids
SUPER = "__virtual_source__"

_warm = False


# --------------------------------------------------------------------------- setup


def _points(net: WalkNetwork, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    edge = rng.integers(0, net.n_edges, n)
    return edge, rng.uniform(0.0, 1.0, n) * net.edge_length[edge]


def _scenario(net: WalkNetwork) -> dict:
    rng = np.random.default_rng(0)
    oe, oo = _points(net, rng, N_ORIGINS)
    n_fac = max(4 * N_CATEGORIES, net.n_nodes // 100)
    te, to = _points(net, rng, n_fac)
    cat = np.arange(n_fac) % N_CATEGORIES
    return {"oe": oe, "oo": oo, "te": te, "to": to, "cat": cat}


def _warm_up() -> None:
    global _warm
    if not _warm:
        tiny = grid_network(4, 50.0)
        sc = _scenario(tiny)
        _qpvgeo_parts(tiny, sc)
        _warm = True


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# --------------------------------------------------------------------------- qpvgeo


def _e2sfca(cost: pd.DataFrame, cat: np.ndarray, n_origins: int) -> dict[int, pd.Series]:
    demand = pd.Series(1.0, index=pd.RangeIndex(n_origins))
    out = {}
    for c in range(N_FCA_CATEGORIES):
        sub = cost[cat[cost["target"].to_numpy()] == c]
        supply = pd.Series(1.0, index=pd.Index(np.flatnonzero(cat == c)))
        out[c] = two_step_fca(
            sub, demand, supply, catchment_m=CATCHMENT_M, decay=gaussian_decay(BANDWIDTH_M)
        )
    return out


def _qpvgeo_parts(net: WalkNetwork, sc: dict) -> tuple[dict[str, float], dict]:
    oe, oo, te, to, cat = sc["oe"], sc["oo"], sc["te"], sc["to"], sc["cat"]
    times, res = {}, {}
    times["nearest"], res["nearest"] = _timed(
        lambda: engine.nearest_by_category(net, oe, oo, te, to, cat, n_categories=N_CATEGORIES)
    )
    times["counts"], res["counts"] = _timed(
        lambda: engine.count_within(
            net, oe, oo, te, to, cat, radii_m=RADII_M, n_categories=N_CATEGORIES
        )
    )

    def fca() -> tuple[pd.DataFrame, dict]:
        fca_t = cat < N_FCA_CATEGORIES
        cost = engine.distances_within(net, oe, oo, te[fca_t], to[fca_t], cutoff_m=CATCHMENT_M)
        cost["target"] = np.flatnonzero(fca_t)[cost["target"].to_numpy()]
        return cost, _e2sfca(cost, cat, len(oe))

    times["e2sfca"], (res["cost"], res["fca"]) = _timed(fca)
    return times, res


def _node_origins(net: WalkNetwork) -> tuple[np.ndarray, np.ndarray]:
    """One point at each node: on its first incident edge, at offset 0 or L."""
    ends = np.concatenate([net.edge_u, net.edge_v])
    first = np.full(net.n_nodes, -1, dtype=np.int64)
    order = np.arange(len(ends))[::-1]  # last write wins: keep the first occurrence
    first[ends[order]] = order % net.n_edges
    at_u = net.edge_u[first] == np.arange(net.n_nodes)
    return first, np.where(at_u, 0.0, net.edge_length[first])


# --------------------------------------------------------------------------- networkx reference


def _with_virtual_source(
    net: WalkNetwork, te: np.ndarray, to: np.ndarray, cutoff: float | None
) -> np.ndarray:
    """Node distances (array, inf = not reached) from targets on edges, with networkx."""
    g, ids = net.graph, net.node_ids
    g.add_node(SUPER)
    try:
        for f, s in zip(te, to, strict=True):
            g.add_edge(SUPER, ids[net.edge_u[f]], length=float(s))
            g.add_edge(SUPER, ids[net.edge_v[f]], length=float(net.edge_length[f] - s))
        d = nx.single_source_dijkstra_path_length(g, SUPER, cutoff=cutoff, weight="length")
    finally:
        g.remove_node(SUPER)
    d.pop(SUPER)
    out = np.full(net.n_nodes, np.inf)
    index = _node_index(net)
    out[[index[k] for k in d]] = list(d.values())
    return out


_INDEX: dict[int, dict] = {}


def _node_index(net: WalkNetwork) -> dict:
    key = id(net)
    if key not in _INDEX:
        _INDEX.clear()
        _INDEX[key] = {n: i for i, n in enumerate(net.node_ids)}
    return _INDEX[key]


def _origin_dist(
    net: WalkNetwork, node_d: np.ndarray, oe: np.ndarray, oo: np.ndarray, te, to
) -> np.ndarray:
    d = np.minimum(oo + node_d[net.edge_u[oe]], net.edge_length[oe] - oo + node_d[net.edge_v[oe]])
    for f, s in zip(np.atleast_1d(te), np.atleast_1d(to), strict=True):
        same = oe == f
        d[same] = np.minimum(d[same], np.abs(oo[same] - s))
    return d


def _reference_parts(net: WalkNetwork, sc: dict) -> tuple[dict[str, float], dict]:
    oe, oo, te, to, cat = sc["oe"], sc["oo"], sc["te"], sc["to"], sc["cat"]
    times, res = {}, {}

    def nearest() -> np.ndarray:
        out = np.full((len(oe), N_CATEGORIES), np.nan)
        for c in range(N_CATEGORIES):
            sel = cat == c
            d = _origin_dist(net, _with_virtual_source(net, te[sel], to[sel], None), oe, oo,
                             te[sel], to[sel])  # fmt: skip
            out[:, c] = np.where(np.isfinite(d), d, np.nan)
        return out

    def per_target(targets: np.ndarray) -> pd.DataFrame:
        rows = []
        for j in targets:
            node_d = _with_virtual_source(net, te[j : j + 1], to[j : j + 1], CATCHMENT_M)
            d = _origin_dist(net, node_d, oe, oo, te[j], to[j])
            hit = np.flatnonzero(d <= CATCHMENT_M)
            rows.append(pd.DataFrame({"origin": hit, "target": j, "dist_m": d[hit]}))
        return pd.concat(rows, ignore_index=True)

    def counts() -> tuple[np.ndarray, pd.DataFrame]:
        pairs = per_target(np.arange(len(te)))
        out = np.zeros((len(oe), N_CATEGORIES, len(RADII_M)), dtype=np.int64)
        for k, r in enumerate(RADII_M):
            p = pairs[pairs["dist_m"] <= r]
            np.add.at(out[:, :, k], (p["origin"].to_numpy(), cat[p["target"].to_numpy()]), 1)
        return out, pairs

    def fca() -> dict[int, pd.Series]:
        pairs = per_target(np.flatnonzero(cat < N_FCA_CATEGORIES))
        pairs["w"] = np.exp(-0.5 * (pairs["dist_m"] / BANDWIDTH_M) ** 2)
        pairs["cat"] = cat[pairs["target"]]
        out = {}
        for c, p in pairs.groupby("cat"):
            demand = p.groupby("target")["w"].sum()  # 1 person per origin
            ratio = 1.0 / demand  # 1 unit of supply per facility
            acc = (p["w"] * ratio.reindex(p["target"]).to_numpy()).groupby(p["origin"]).sum()
            out[int(c)] = acc.reindex(pd.RangeIndex(len(oe)), fill_value=0.0)
        return out

    times["nearest"], res["nearest"] = _timed(nearest)
    times["counts"], (res["counts"], res["cost"]) = _timed(counts)
    times["e2sfca"], res["fca"] = _timed(fca)
    return times, res


def _compare(q: dict, r: dict) -> dict:
    a, b = q["nearest"], r["nearest"]
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        raise AssertionError("qpvgeo and networkx disagree on which origins reach a category")
    diffs = [np.nanmax(np.abs(a - b), initial=0.0)]
    qc = q["cost"].set_index(["origin", "target"])["dist_m"]
    rc = r["cost"].set_index(["origin", "target"])["dist_m"]
    rc = rc[rc.index.get_level_values("target").isin(qc.index.get_level_values("target"))]
    joined = pd.concat([qc, rc], axis=1, keys=["q", "r"])
    # a pair missing on one side is a disagreement unless it sits on the cutoff
    missing = joined.isna().any(axis=1)
    if missing.any() and (
        (joined[missing].max(axis=1) - CATCHMENT_M).abs().max() > 1e-6
    ):  # pragma: no cover - would be a bug
        raise AssertionError(f"{int(missing.sum())} origin-target pairs differ")
    diffs.append((joined["q"] - joined["r"]).abs().max())
    fca_rel = max(
        float(((q["fca"][c] - r["fca"][c]).abs() / r["fca"][c].abs().clip(lower=1e-12)).max())
        for c in range(N_FCA_CATEGORIES)
    )
    return {
        "max_abs_diff_m": float(np.nanmax(diffs)),
        "counts_equal": bool(np.array_equal(q["counts"], r["counts"])),
        "fca_max_rel_diff": fca_rel,
    }


# --------------------------------------------------------------------------- peers


def _pandana(net: WalkNetwork, sc: dict) -> dict[str, float]:
    import pandana

    te, to, cat = sc["te"], sc["to"], sc["cat"]
    # facility coordinates: the point on its edge
    xy = np.array(
        [g.interpolate(s).coords[0] for g, s in zip(net.edge_geometry[te], to, strict=True)]
    )
    times = {}
    t0 = time.perf_counter()
    pnet = pandana.Network(
        pd.Series(net.node_x), pd.Series(net.node_y), pd.Series(net.edge_u),
        pd.Series(net.edge_v), pd.DataFrame({"length": net.edge_length}), twoway=True,
    )  # fmt: skip
    pnet.precompute(RADII_M[-1])
    times["setup"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in range(N_CATEGORIES):
        sel = cat == c
        x, y = pd.Series(xy[sel, 0]), pd.Series(xy[sel, 1])
        pnet.set_pois(f"c{c}", PANDANA_NEAREST_MAX_M, 1, x, y)
        pnet.nearest_pois(PANDANA_NEAREST_MAX_M, f"c{c}", num_pois=1)
    times["nearest"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nodes = pnet.get_node_ids(pd.Series(xy[:, 0]), pd.Series(xy[:, 1]))
    for c in range(N_CATEGORIES):
        pnet.set(nodes[cat == c], name=f"n{c}")
        for r in RADII_M:
            pnet.aggregate(r, type="count", decay="flat", name=f"n{c}")
    times["counts"] = time.perf_counter() - t0
    return times


def _augmented(net: WalkNetwork, te: np.ndarray, to: np.ndarray):
    """The network's CSR with one virtual source per facility, linked to both ends of its edge."""
    from scipy import sparse

    k, n = len(te), net.n_nodes
    src = np.repeat(np.arange(n, n + k), 2)
    dst = np.column_stack([net.edge_u[te], net.edge_v[te]]).ravel()
    w = np.column_stack([to, net.edge_length[te] - to]).ravel() + 1e-12  # scipy drops zero weights
    g = net.csr.tocoo()
    rows = np.concatenate([g.row, src])
    cols = np.concatenate([g.col, dst])
    return sparse.csr_array(
        (np.concatenate([g.data, w]), (rows, cols)), shape=(n + k, n + k)
    )


def _scipy(net: WalkNetwork, sc: dict) -> dict[str, float]:
    """scipy.sparse.csgraph.dijkstra on the same points on edges (virtual sources, exact).

    ``nearest``: per category one search from all its facilities at once
    (``min_only=True``); ``counts``: one search per facility bounded at the
    largest radius (``limit``), in blocks, then the same counting as the reference.
    Set-up (the augmented graph) is timed apart.
    """
    from scipy.sparse.csgraph import dijkstra

    oe, oo, te, to, cat = sc["oe"], sc["oo"], sc["te"], sc["to"], sc["cat"]
    n = net.n_nodes
    t0 = time.perf_counter()
    g = _augmented(net, te, to)
    times = {"setup": time.perf_counter() - t0}
    t0 = time.perf_counter()
    for c in range(N_CATEGORIES):
        sel = np.flatnonzero(cat == c)
        node_d = dijkstra(g, directed=True, indices=n + sel, min_only=True)[:n]
        _origin_dist(net, node_d, oe, oo, te[sel], to[sel])
    times["nearest"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = np.zeros((len(oe), N_CATEGORIES, len(RADII_M)), dtype=np.int64)
    for block in np.array_split(np.arange(len(te)), max(1, len(te) // 64)):
        node_d = dijkstra(g, directed=True, indices=n + block, limit=RADII_M[-1])[:, :n]
        for row, j in zip(node_d, block, strict=True):
            d = _origin_dist(net, row, oe, oo, te[j], to[j])
            for k, r in enumerate(RADII_M):
                counts[d <= r, cat[j], k] += 1
    times["counts"] = time.perf_counter() - t0
    return times


def _cityseer(net: WalkNetwork, sc: dict) -> dict[str, float]:
    import geopandas as gpd
    from cityseer.metrics import layers
    from cityseer.tools import io

    te, to, cat = sc["te"], sc["to"], sc["cat"]
    g = nx.MultiGraph()
    g.graph["crs"] = "EPSG:2154"
    for i in range(net.n_nodes):
        g.add_node(str(i), x=float(net.node_x[i]), y=float(net.node_y[i]))
    for e in range(net.n_edges):
        g.add_edge(str(net.edge_u[e]), str(net.edge_v[e]), geom=net.edge_geometry[e])
    pts = [geom.interpolate(s) for geom, s in zip(net.edge_geometry[te], to, strict=True)]
    data = gpd.GeoDataFrame({"cat": [f"c{c}" for c in cat]}, geometry=pts, crs="EPSG:2154")
    t0 = time.perf_counter()
    nodes_gdf, _edges, structure = io.network_structure_from_nx(g)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    layers.compute_accessibilities(
        data, "cat", [f"c{c}" for c in range(N_CATEGORIES)], nodes_gdf, structure,
        distances=[int(r) for r in RADII_M], decay_fn="1",
    )  # fmt: skip
    return {"setup": setup, "nearest+counts": time.perf_counter() - t0}


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send the C-level stdout of the peers (pandana prints) to stderr: keep --json clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _child(fn: Callable, net: WalkNetwork, sc: dict, queue: multiprocessing.Queue) -> None:
    try:
        with _stdout_to_stderr():
            queue.put(("ok", fn(net, sc)))
    except Exception as exc:
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def _in_child(fn: Callable, net: WalkNetwork, sc: dict) -> dict[str, float]:
    """Run one peer in a forked process, killed after PEER_TIMEOUT_S."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, net, sc, queue))
    proc.start()
    try:
        status, value = queue.get(timeout=PEER_TIMEOUT_S)
    except Exception as exc:
        raise TimeoutError(f"did not finish within {PEER_TIMEOUT_S:.0f} s") from exc
    finally:
        proc.kill()
        proc.join()
    if status != "ok":
        raise RuntimeError(value)
    return value


def _peers(net: WalkNetwork, sc: dict) -> tuple[dict, dict, dict]:
    seconds, parts, errors = {}, {}, {}
    for name, fn in (("scipy", _scipy), ("pandana", _pandana), ("cityseer", _cityseer)):
        try:
            p = _in_child(fn, net, sc)
        except Exception as exc:  # a peer failing must not stop the benchmark
            seconds[name], errors[name] = None, f"{type(exc).__name__}: {exc}"[:300]
            continue
        parts[name] = {k: round(v, 4) for k, v in p.items()}
        seconds[name] = round(sum(p.values()), 4)
    return seconds, parts, errors


# --------------------------------------------------------------------------- entry point


def run(net: WalkNetwork, graph_name: str) -> dict:
    """One benchmark row for ``graph_name`` (see the module docstring)."""
    logging.getLogger("cityseer").setLevel(logging.WARNING)
    _warm_up()
    sc = _scenario(net)
    q_times, q_res = _qpvgeo_parts(net, sc)
    r_times, r_res = _reference_parts(net, sc)
    check = _compare(q_res, r_res)
    no, nf = _node_origins(net)
    all_nodes = {**sc, "oe": no, "oo": nf}
    a_times, _ = _qpvgeo_parts(net, all_nodes)
    peers, peer_parts, peer_errors = _peers(net, sc)
    q_s, r_s = sum(q_times.values()), sum(r_times.values())
    row = {
        "workload": WORKLOAD,
        "graph": graph_name,
        "n_nodes": net.n_nodes,
        "n_origins": N_ORIGINS,
        "n_facilities": len(sc["te"]),
        "qpvgeo_s": round(q_s, 4),
        "reference_s": round(r_s, 4),
        "ratio": round(r_s / q_s, 1),
        **check,
        "parts": {"qpvgeo": _round(q_times), "reference": _round(r_times)},
        "qpvgeo_all_nodes": _round({k: a_times[k] for k in ("nearest", "counts")}),
        "peers": peers,
        "peer_parts": peer_parts,
        "reference_note": "networkx, full exact run (no subsampling), same process",
    }
    if peer_errors:
        row["peer_errors"] = peer_errors
    return row


def _round(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in d.items()}
