"""Numba kernels of :mod:`qpvgeo.network.engine`: adjacency arrays, a 4-ary heap, Dijkstra searches.

Private: called only by :mod:`~qpvgeo.network.engine`, which validates every input.
The heap is kept apart from the binary heap of :mod:`qpvgeo.network._brandes` on
purpose: each is tuned for its own search (many short multi-source searches
with in-place decrease-key here; single-source searches with path counts there).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _build_adjacency(n, edge_u, edge_v, edge_length):
    """Symmetric adjacency (one arc each way per edge, self-loops left out) and incidence.

    Parallel edges are all kept: the searches take the shortest one by
    themselves, so distances are those of ``WalkNetwork.csr`` (which keeps the
    minimum); building here is one counting pass instead of a sort.
    """
    m = edge_u.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    inc_ptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        u = edge_u[e]
        v = edge_v[e]
        inc_ptr[u + 1] += 1
        inc_ptr[v + 1] += 1
        if u != v:
            indptr[u + 1] += 1
            indptr[v + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
        inc_ptr[i + 1] += inc_ptr[i]
    indices = np.empty(indptr[n], dtype=np.int32)
    weights = np.empty(indptr[n], dtype=np.float64)
    inc_edge = np.empty(inc_ptr[n], dtype=np.int32)
    fill = indptr[:n].copy()
    ifill = inc_ptr[:n].copy()
    for e in range(m):
        u = edge_u[e]
        v = edge_v[e]
        inc_edge[ifill[u]] = e
        ifill[u] += 1
        inc_edge[ifill[v]] = e
        ifill[v] += 1
        if u != v:
            w = edge_length[e]
            indices[fill[u]] = v
            weights[fill[u]] = w
            fill[u] += 1
            indices[fill[v]] = u
            weights[fill[v]] = w
            fill[v] += 1
    return indptr, indices, weights, inc_ptr, inc_edge


@njit(cache=True, inline="always")
def _sift_up(heap_d, heap_n, pos, i, d, node):
    while i > 0:
        parent = (i - 1) >> 2
        pd_ = heap_d[parent]
        if pd_ <= d:
            break
        pn = heap_n[parent]
        heap_d[i] = pd_
        heap_n[i] = pn
        pos[pn] = i
        i = parent
    heap_d[i] = d
    heap_n[i] = node
    pos[node] = i


@njit(cache=True, inline="always")
def _sift_down(heap_d, heap_n, pos, size, d, node):
    """Place (d, node) from the root down in a heap of ``size`` entries."""
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        best = first
        best_d = heap_d[first]
        last = first + 4
        if last > size:
            last = size
        for c in range(first + 1, last):
            cd = heap_d[c]
            if cd < best_d:
                best_d = cd
                best = c
        if best_d >= d:
            break
        bn = heap_n[best]
        heap_d[i] = best_d
        heap_n[i] = bn
        pos[bn] = i
        i = best
    heap_d[i] = d
    heap_n[i] = node
    pos[node] = i


@njit(cache=True)
def _dijkstra(
    indptr, indices, weights, src_node, src_cost, limit, dist, touched, heap_d, heap_n, pos,
    need, n_need,
):  # fmt: skip
    """Multi-source Dijkstra bounded by ``limit`` (inclusive).

    ``dist`` must be all +inf on entry except where a previous call was reset;
    on return it holds the final distances of the ``n_touched`` nodes listed in
    ``touched[:n_touched]`` (every other entry stays +inf). Returns n_touched.
    ``heap_d``, ``heap_n``, ``pos`` and ``touched`` have room for every node.

    With ``n_need > 0``, the search stops once the ``n_need`` nodes marked in
    ``need`` are settled: their distances are final then, while other touched
    nodes may hold distances still too long (callers read the marked nodes only).
    """
    size = 0
    n_touched = 0
    # the relax step is written out twice (seeds here, neighbours below) on purpose: a shared
    # helper costs a call per edge in the hot loop, which numba does not always inline
    for k in range(src_node.shape[0]):
        node = src_node[k]
        c = src_cost[k]
        if c <= limit and c < dist[node]:
            if dist[node] == np.inf:
                touched[n_touched] = node
                n_touched += 1
                i = size
                size += 1
            else:
                i = pos[node]
            dist[node] = c
            _sift_up(heap_d, heap_n, pos, i, c, node)
    while size > 0:
        d = heap_d[0]
        node = heap_n[0]
        size -= 1
        if size > 0:
            _sift_down(heap_d, heap_n, pos, size, heap_d[size], heap_n[size])
        if n_need > 0 and need[node]:
            n_need -= 1
            if n_need == 0:
                break
        for p in range(indptr[node], indptr[node + 1]):
            nb = indices[p]
            nd = d + weights[p]
            if nd <= limit and nd < dist[nb]:
                if dist[nb] == np.inf:
                    touched[n_touched] = nb
                    n_touched += 1
                    i = size
                    size += 1
                else:
                    i = pos[nb]
                dist[nb] = nd
                _sift_up(heap_d, heap_n, pos, i, nd, nb)
    return n_touched


@njit(cache=True)
def _nearest_kernel(
    indptr, indices, weights, edge_u, edge_v, edge_length,
    o_edge, o_off, o_leg, t_edge, t_off, t_leg, t_cat, n_categories, limit,
):  # fmt: skip
    """Per origin and category: min over targets of o_leg + network distance + t_leg.

    The targets' legs are initial costs of the multi-source search (a target
    seeds its edge's end nodes with ``t_leg + s`` and ``t_leg + L - s``), so
    the nearest target is chosen on the total including its own leg.
    """
    n = indptr.shape[0] - 1
    n_o = o_edge.shape[0]
    out = np.full((n_o, n_categories), np.nan)
    dist = np.full(n, np.inf)
    touched = np.empty(n, dtype=np.int32)
    heap_d = np.empty(n)
    heap_n = np.empty(n, dtype=np.int32)
    pos = np.empty(n, dtype=np.int32)
    # the origins' end nodes: once they are settled, a category's search can stop
    need = np.zeros(n, dtype=np.uint8)
    n_need = 0
    for i in range(n_o):
        for node in (edge_u[o_edge[i]], edge_v[o_edge[i]]):
            if need[node] == 0:
                need[node] = 1
                n_need += 1
    # targets sorted by (category, edge) for the same-edge case
    order = np.argsort(t_cat * (edge_u.shape[0] + 1) + t_edge)
    cat_sorted = t_cat[order]
    for c in range(n_categories):
        lo = np.searchsorted(cat_sorted, c, side="left")
        hi = np.searchsorted(cat_sorted, c, side="right")
        if hi == lo:
            continue
        sel = order[lo:hi]
        m = sel.shape[0]
        src_node = np.empty(2 * m, dtype=np.int32)
        src_cost = np.empty(2 * m)
        sel_edge = np.empty(m, dtype=np.int64)
        for k in range(m):
            j = sel[k]
            f = t_edge[j]
            sel_edge[k] = f
            src_node[2 * k] = edge_u[f]
            src_cost[2 * k] = t_leg[j] + t_off[j]
            src_node[2 * k + 1] = edge_v[f]
            src_cost[2 * k + 1] = t_leg[j] + edge_length[f] - t_off[j]
        n_touched = _dijkstra(
            indptr, indices, weights, src_node, src_cost, limit, dist, touched, heap_d, heap_n, pos,
            need, n_need,
        )  # fmt: skip
        for i in range(n_o):
            e = o_edge[i]
            t = o_off[i]
            best = min(t + dist[edge_u[e]], edge_length[e] - t + dist[edge_v[e]])
            a = np.searchsorted(sel_edge, e, side="left")
            while a < m and sel_edge[a] == e:
                j = sel[a]
                best = min(best, abs(t - t_off[j]) + t_leg[j])
                a += 1
            best += o_leg[i]
            if best <= limit and best < np.inf:
                out[i, c] = best
        for k in range(n_touched):
            dist[touched[k]] = np.inf
    return out


@njit(cache=True)
def _grow(out_o, out_t, out_d):
    size = out_o.shape[0]
    new_o = np.empty(2 * size, dtype=out_o.dtype)
    new_t = np.empty(2 * size, dtype=out_t.dtype)
    new_d = np.empty(2 * size, dtype=out_d.dtype)
    new_o[:size] = out_o
    new_t[:size] = out_t
    new_d[:size] = out_d
    return new_o, new_t, new_d


@njit(cache=True)
def _pairs_kernel(
    indptr, indices, weights, edge_u, edge_v, edge_length, inc_ptr, inc_edge,
    o_ptr, o_sorted, o_off, t_edge, t_off, cutoff,
):  # fmt: skip
    """Every (origin, target, distance) with distance <= cutoff, one bounded search per target.

    Origins are given grouped by edge: ``o_sorted[o_ptr[e]:o_ptr[e+1]]`` are
    the origins on edge ``e``.
    """
    n = indptr.shape[0] - 1
    n_o = o_off.shape[0]
    dist = np.full(n, np.inf)
    touched = np.empty(n, dtype=np.int32)
    heap_d = np.empty(n)
    heap_n = np.empty(n, dtype=np.int32)
    pos = np.empty(n, dtype=np.int32)
    stamp = np.full(n_o, -1, dtype=np.int64)
    no_need = np.zeros(1, dtype=np.uint8)
    src_node = np.empty(2, dtype=np.int32)
    src_cost = np.empty(2)
    size = 0
    out_o = np.empty(max(1024, 4 * n_o), dtype=np.int64)
    out_t = np.empty(out_o.shape[0], dtype=np.int64)
    out_d = np.empty(out_o.shape[0])
    for j in range(t_edge.shape[0]):
        f = t_edge[j]
        if f < 0:
            continue
        s = t_off[j]
        src_node[0] = edge_u[f]
        src_cost[0] = s
        src_node[1] = edge_v[f]
        src_cost[1] = edge_length[f] - s
        n_touched = _dijkstra(
            indptr, indices, weights, src_node, src_cost, cutoff, dist, touched, heap_d, heap_n, pos,
            no_need, 0,
        )  # fmt: skip
        # the target's own edge first (covers the direct case even when no end node is in reach)
        for k in range(-1, n_touched):
            if k == -1:
                e_lo, e_hi = 0, 1
            else:
                node = touched[k]
                e_lo, e_hi = inc_ptr[node], inc_ptr[node + 1]
            for q in range(e_lo, e_hi):
                e = f if k == -1 else inc_edge[q]
                for r in range(o_ptr[e], o_ptr[e + 1]):
                    i = o_sorted[r]
                    if stamp[i] == j:
                        continue
                    stamp[i] = j
                    t = o_off[i]
                    d = min(t + dist[edge_u[e]], edge_length[e] - t + dist[edge_v[e]])
                    if e == f:
                        d = min(d, abs(t - s))
                    if d <= cutoff:
                        if size == out_o.shape[0]:
                            out_o, out_t, out_d = _grow(out_o, out_t, out_d)
                        out_o[size] = i
                        out_t[size] = j
                        out_d[size] = d
                        size += 1
        for k in range(n_touched):
            dist[touched[k]] = np.inf
    return out_o[:size].copy(), out_t[:size].copy(), out_d[:size].copy()


@njit(cache=True)
def _count_kernel(origin, category, dist, radii, out):
    for k in range(origin.shape[0]):
        for r in range(radii.shape[0]):
            if dist[k] <= radii[r]:
                out[origin[k], category[k], r] += 1


# --------------------------------------------------------------------------- shortest-path trees


@njit(cache=True)
def _tree(indptr, indices, weights, source, limit, dist, pred, pred_arc, touched, heap_d, heap_n, pos):  # pragma: no cover - compiled  # fmt: skip
    """Single-source Dijkstra bounded by ``limit`` (inclusive), with its predecessor tree.

    A node's predecessor is the first settled node that gives it its final
    distance (strict improvement), as :func:`scipy.sparse.csgraph.dijkstra`
    records it; ``pred_arc`` is the adjacency entry used. Same scratch
    contract as :func:`_dijkstra`: ``dist`` all +inf
    on entry; the ``n_touched`` nodes reached are ``touched[:n_touched]``.
    """
    dist[source] = 0.0
    pred[source] = -1
    pred_arc[source] = -1
    touched[0] = source
    n_touched = 1
    _sift_up(heap_d, heap_n, pos, 0, 0.0, source)
    size = 1
    while size > 0:
        d = heap_d[0]
        node = heap_n[0]
        size -= 1
        if size > 0:
            _sift_down(heap_d, heap_n, pos, size, heap_d[size], heap_n[size])
        for p in range(indptr[node], indptr[node + 1]):
            nb = indices[p]
            nd = d + weights[p]
            if nd <= limit and nd < dist[nb]:
                if dist[nb] == np.inf:
                    touched[n_touched] = nb
                    n_touched += 1
                    i = size
                    size += 1
                else:
                    i = pos[nb]
                dist[nb] = nd
                pred[nb] = node
                pred_arc[nb] = p
                _sift_up(heap_d, heap_n, pos, i, nd, nb)
    return n_touched
