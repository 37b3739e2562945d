"""Numba kernel of :mod:`qpvgeo.network.centrality`: parallel bounded Brandes searches.

Private: called only by :func:`qpvgeo.network.centrality.local_centrality`, which
validates every input. Its binary heap is kept apart from the 4-ary heap of
:mod:`qpvgeo.network._dijkstra` on purpose: each is tuned for its own search.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# consecutive sources a thread claims at a time: small enough to balance the load
# between threads, large enough that successive sources share cached neighbourhoods
_BLOCK_SOURCES = 16


# --------------------------------------------------------------------------- kernel


@intrinsic
def _fetch_add(typingctx, counter, index, value):  # noqa: ARG001 (numba's intrinsic signature)
    """Atomically add ``value`` to ``counter[index]`` (int64) and return the old value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None
    sig = types.int64(counter, index, value)

    def codegen(context, builder, signature, args):
        arr, idx, val = args
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, arr)
        idx = context.cast(builder, idx, signature.args[1], types.intp)
        val = context.cast(builder, val, signature.args[2], types.int64)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx])
        return builder.atomic_rmw("add", ptr, val, "monotonic")

    return sig, codegen


@njit(cache=True, inline="always", error_model="numpy")
def _heap_push(heap_d: np.ndarray, heap_v: np.ndarray, size: int, d: float, v: int) -> int:
    """Push ``(d, v)`` on the binary min-heap of ``size`` items; return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        pd_ = heap_d[parent]
        if pd_ <= d:
            break
        heap_d[i] = pd_
        heap_v[i] = heap_v[parent]
        i = parent
    heap_d[i] = d
    heap_v[i] = v
    return size + 1


@njit(cache=True, inline="always", error_model="numpy")
def _heap_pop_root(heap_d: np.ndarray, heap_v: np.ndarray, size: int) -> int:
    """Remove the root of the heap of ``size`` items; return the new size."""
    size -= 1
    if size == 0:
        return 0
    d = heap_d[size]
    v = heap_v[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        cd = heap_d[child]
        right = child + 1
        if right < size and heap_d[right] < cd:
            child = right
            cd = heap_d[right]
        if d <= cd:
            break
        heap_d[i] = cd
        heap_v[i] = heap_v[child]
        i = child
    heap_d[i] = d
    heap_v[i] = v
    return size


@njit(cache=True, error_model="numpy")
def _bounded_dijkstra(
    s: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    rmax: float,
    tol: float,
    dist: np.ndarray,
    pos: np.ndarray,
    stack: np.ndarray,
    sdist: np.ndarray,
    sigma: np.ndarray,
    pred_ptr: np.ndarray,
    pred_pos: np.ndarray,
    heap_d: np.ndarray,
    heap_v: np.ndarray,
) -> int:
    """Dijkstra from ``s`` bounded at ``rmax`` (inclusive), with path counts and predecessors.

    Fills, by settle position ``k`` (nondecreasing distance): ``stack[k]`` the
    node, ``sdist[k]`` its distance, ``sigma[k]`` its number of shortest paths,
    and ``pred_pos[pred_ptr[k]:pred_ptr[k + 1]]`` the settle positions of its
    predecessors on shortest paths. ``dist`` (inf) and ``pos`` (-1) must be
    clean on entry; the caller resets the settled nodes afterwards. Returns
    the number of settled nodes. Predecessors are found when a node is
    settled, against its final distance, so that path counts and the
    predecessor DAG follow one tie rule.
    """
    dist[s] = 0.0
    heap_d[0] = 0.0
    heap_v[0] = s
    hsize = 1
    k = 0
    ne = 0
    pred_ptr[0] = 0
    while hsize > 0:
        d = heap_d[0]
        v = heap_v[0]
        hsize = _heap_pop_root(heap_d, heap_v, hsize)
        if pos[v] >= 0:
            continue  # stale entry of a node already settled
        pos[v] = k
        stack[k] = v
        sdist[k] = d
        sg = 0.0
        limit = d + tol
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            w = weights[e]
            pu = pos[u]
            if pu >= 0:
                # settled neighbour: a predecessor when it lies on a shortest path
                if dist[u] + w <= limit:
                    sg += sigma[pu]
                    pred_pos[ne] = pu
                    ne += 1
            else:
                alt = d + w
                if alt <= rmax and alt < dist[u]:
                    dist[u] = alt
                    hsize = _heap_push(heap_d, heap_v, hsize, alt, u)
        sigma[k] = 1.0 if k == 0 else sg
        k += 1
        pred_ptr[k] = ne
    return k


@njit(cache=True, error_model="numpy")
def _one_source(
    s: int,
    j: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    radii: np.ndarray,
    tol: float,
    do_betweenness: bool,
    do_closeness: bool,
    dist: np.ndarray,
    pos: np.ndarray,
    stack: np.ndarray,
    sdist: np.ndarray,
    sigma: np.ndarray,
    pred_ptr: np.ndarray,
    pred_pos: np.ndarray,
    heap_d: np.ndarray,
    heap_v: np.ndarray,
    delta: np.ndarray,
    bc: np.ndarray,
    cnt: np.ndarray,
    density: np.ndarray,
    farness: np.ndarray,
    harmonic: np.ndarray,
) -> None:
    """Search from source ``s`` (row ``j`` of the closeness outputs) and accumulate.

    Betweenness dependencies go to this thread's ``bc`` rows (ordered pairs),
    closeness to column ``j``; the scratch arrays are left clean.
    """
    nr = radii.shape[0]
    k_all = _bounded_dijkstra(
        s,
        indptr,
        indices,
        weights,
        radii[nr - 1],
        tol,
        dist,
        pos,
        stack,
        sdist,
        sigma,
        pred_ptr,
        pred_pos,
        heap_d,
        heap_v,
    )
    # number of settled nodes within each radius (settle order is by distance)
    ri = 0
    for k in range(k_all):
        while sdist[k] > radii[ri]:
            cnt[ri] = k
            ri += 1
    while ri < nr:
        cnt[ri] = k_all
        ri += 1
    if do_closeness:
        ri = 0
        c_n = 0.0
        c_far = 0.0
        c_harm = 0.0
        for k in range(1, k_all):
            while k >= cnt[ri]:
                density[ri, j] = c_n
                farness[ri, j] = c_far
                harmonic[ri, j] = c_harm
                ri += 1
            dk = sdist[k]
            c_n += 1.0
            c_far += dk
            c_harm += 1.0 / dk
        while ri < nr:
            density[ri, j] = c_n
            farness[ri, j] = c_far
            harmonic[ri, j] = c_harm
            ri += 1
    if do_betweenness:
        # Brandes' accumulation on the DAG restricted to the nodes within each radius:
        # delta(v) = sum over successors w of sigma(v) / sigma(w) * (1 + delta(w))
        for ri in range(nr):
            kr = cnt[ri]
            bc_r = bc[ri]
            for k in range(kr):
                delta[k] = 0.0
            for k in range(kr - 1, 0, -1):
                coeff = (1.0 + delta[k]) / sigma[k]
                for e in range(pred_ptr[k], pred_ptr[k + 1]):
                    p = pred_pos[e]
                    delta[p] += sigma[p] * coeff
                bc_r[stack[k]] += delta[k]
    # reset only what this source touched (every touched node was settled)
    for k in range(k_all):
        v = stack[k]
        dist[v] = np.inf
        pos[v] = -1


@njit(cache=True, parallel=True, error_model="numpy")
def _local_centrality_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    sources: np.ndarray,
    radii: np.ndarray,
    tol: float,
    do_betweenness: bool,
    do_closeness: bool,
    n_threads: int,
    block: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All sources in parallel on ``n_threads`` threads; radii sorted ascending.

    Returns the ordered-pair betweenness sums ``(n_radii, n)`` and, per
    source row, node density, farness and harmonic closeness ``(n_radii, n_sources)``.
    """
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    nr = radii.shape[0]
    ns = sources.shape[0]
    nt = n_threads
    # per-thread scratch, allocated once: O(n + m) per thread
    dist = np.full((nt, n), np.inf)
    pos = np.full((nt, n), -1, dtype=np.int64)
    stack = np.empty((nt, n), dtype=np.int64)
    sdist = np.empty((nt, n))
    sigma = np.empty((nt, n))
    delta = np.empty((nt, n))
    pred_ptr = np.empty((nt, n + 1), dtype=np.int64)
    pred_pos = np.empty((nt, max(m, 1)), dtype=np.int64)
    heap_d = np.empty((nt, m + 1))
    heap_v = np.empty((nt, m + 1), dtype=np.int64)
    bc = np.zeros((nt, nr, n if do_betweenness else 0))
    density = np.zeros((nr, ns))
    farness = np.zeros((nr, ns))
    harmonic = np.zeros((nr, ns))
    counts = np.empty((nt, nr), dtype=np.int64)

    n_blocks = (ns + block - 1) // block
    next_block = np.zeros(1, dtype=np.int64)
    # one prange iteration per thread, each with its own scratch rows; threads claim
    # blocks of consecutive sources from a shared atomic counter (dynamic load
    # balancing: dense and sparse areas, threads slowed down by other processes)
    for t in prange(nt):
        dist_t = dist[t]
        pos_t = pos[t]
        stack_t = stack[t]
        sdist_t = sdist[t]
        sigma_t = sigma[t]
        ptr_t = pred_ptr[t]
        ppos_t = pred_pos[t]
        delta_t = delta[t]
        bc_t = bc[t]
        cnt = counts[t]
        while True:
            b = _fetch_add(next_block, 0, 1)
            if b >= n_blocks:
                break
            for j in range(b * block, min((b + 1) * block, ns)):
                _one_source(
                    sources[j],
                    j,
                    indptr,
                    indices,
                    weights,
                    radii,
                    tol,
                    do_betweenness,
                    do_closeness,
                    dist_t,
                    pos_t,
                    stack_t,
                    sdist_t,
                    sigma_t,
                    ptr_t,
                    ppos_t,
                    heap_d[t],
                    heap_v[t],
                    delta_t,
                    bc_t,
                    cnt,
                    density,
                    farness,
                    harmonic,
                )

    total = np.zeros((nr, n if do_betweenness else 0))
    for t in range(nt):
        total += bc[t]
    return total, density, farness, harmonic


# --------------------------------------------------------------------------- public API
