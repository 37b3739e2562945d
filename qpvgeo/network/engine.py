"""Exact walking distances between points placed on the edges of a :class:`WalkNetwork`.

A point is the pair ``(edge, offset_m)``: the compiled edge index and the
distance along the edge from its first end node ``edge_u`` (see
:func:`qpvgeo.network.snap_points`). The network distance between an origin
``(e, t)`` and a target ``(f, s)`` is

.. math::

    d = \\min\\bigl(\\min_{a \\in \\{u_e, v_e\\},\\, b \\in \\{u_f, v_f\\}}
        \\delta_e(t, a) + D(a, b) + \\delta_f(s, b),\\;
        |t - s| \\text{ if } e = f\\bigr)

where :math:`\\delta_e(t, u_e) = t`, :math:`\\delta_e(t, v_e) = L_e - t` and
:math:`D` is the shortest-path distance between nodes. Walking is undirected.
Unreachable pairs are NaN, never a large sentinel value; points off the
network (``edge == -1``) are never treated as being at 0 m from anything.

:func:`nearest_by_category` can add each point's *leg*, the straight walk
between the point itself and its place on the edge (``snap_m`` of
:func:`~qpvgeo.network.snap_points`): :math:`\\ell_o + d + \\ell_t`, the
nearest target being chosen on that total.

The kernels are numba-compiled Dijkstra searches on the network's CSR
adjacency with a 4-ary heap (decrease-key), a distance limit, and scratch arrays reused
between searches (reset only where a search wrote), so each search costs
time in proportion to the part of the network it explores and memory in
proportion to the network size.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csgraph

from .._errors import ValidationError, plain
from .._validate import check_network, check_number
from ._dijkstra import (
    _build_adjacency,
    _count_kernel,
    _nearest_kernel,
    _pairs_kernel,
)
from .build import WalkNetwork

log = logging.getLogger(__name__)

__all__ = [
    "connected_components_report",
    "count_within",
    "distances_within",
    "nearest_by_category",
]

# relative tolerance on offsets slightly beyond the edge ends (rounding of snapping)
_OFFSET_TOL = 1e-6


# --------------------------------------------------------------------------- compiled arrays


@dataclass(frozen=True)
class _Arrays:
    """Contiguous arrays of a network the kernels read (cached per network)."""

    indptr: np.ndarray  # int64 (n+1): node -> neighbours, CSR pointer
    indices: np.ndarray  # int32 (nnz): neighbour nodes
    weights: np.ndarray  # float64 (nnz): edge lengths
    edge_u: np.ndarray  # int32
    edge_v: np.ndarray  # int32
    edge_length: np.ndarray  # float64
    inc_ptr: np.ndarray  # int64 (n+1): node -> incident edges, CSR pointer
    inc_edge: np.ndarray  # int32: incident edge indices


_CACHE: weakref.WeakKeyDictionary[WalkNetwork, _Arrays] = weakref.WeakKeyDictionary()


def _arrays(net: WalkNetwork) -> _Arrays:
    arr = _CACHE.get(net)
    if arr is None:
        n = net.n_nodes
        if n >= 2**31 - 1 or net.n_edges >= 2**31 - 1:  # pragma: no cover - far beyond a city
            raise ValidationError(f"network too large for 32-bit node indices ({n!r} nodes)")
        edge_u = np.ascontiguousarray(net.edge_u, dtype=np.int32)
        edge_v = np.ascontiguousarray(net.edge_v, dtype=np.int32)
        edge_length = np.ascontiguousarray(net.edge_length, dtype=np.float64)
        indptr, indices, weights, inc_ptr, inc_edge = _build_adjacency(
            n, edge_u, edge_v, edge_length
        )
        arr = _Arrays(
            indptr=indptr,
            indices=indices,
            weights=weights,
            edge_u=edge_u,
            edge_v=edge_v,
            edge_length=edge_length,
            inc_ptr=inc_ptr,
            inc_edge=inc_edge,
        )
        _CACHE[net] = arr
    return arr


# --------------------------------------------------------------------------- numba kernels
#
# The priority queue is a 4-ary min-heap of (distance, node) with a position
# array, so that an improved node is moved up in place (decrease-key) rather
# than pushed again: the heap holds each node at most once (size <= n), and a
# pop sifts down through log4 levels of 4 contiguous keys. A node leaves the
# heap when popped and is never improved afterwards (weights >= 0), so the
# position array needs no reset.


def _edge_indices(net: WalkNetwork, e: np.ndarray, name: str) -> np.ndarray:
    """``e`` as int64 edge indices of ``net`` (-1 = off network); an error names those outside."""
    e = e.astype(np.int64)
    bad = (e < -1) | (e >= net.n_edges)
    if bad.any():
        raise ValidationError(
            f"`{name}` holds {int(bad.sum())} indices outside [-1, {net.n_edges - 1}] "
            f"(first: {int(e[bad][0])!r}); points must be snapped to this network"
        )
    return e


def _points(
    net: WalkNetwork, edge: object, offset: object, edge_name: str, offset_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Check one set of points on edges; return (edge int64, offset float64 clipped)."""
    e = np.asarray(edge)
    o = np.asarray(offset, dtype=np.float64)
    if e.ndim != 1 or o.ndim != 1:
        raise ValidationError(
            f"`{edge_name}` and `{offset_name}` must be 1-D arrays, got shapes "
            f"{e.shape!r} and {o.shape!r}"
        )
    if len(e) != len(o):
        raise ValidationError(
            f"`{edge_name}` and `{offset_name}` have different lengths ({len(e)!r} and "
            f"{len(o)!r}); give one edge and one offset per point"
        )
    integral = np.issubdtype(e.dtype, np.integer) or (
        np.issubdtype(e.dtype, np.floating) and bool(np.all(np.isfinite(e) & (e % 1 == 0)))
    )
    if len(e) and not integral:
        raise ValidationError(
            f"`{edge_name}` must hold integer edge indices (-1 = off network), got dtype "
            f"{e.dtype!r}; use the `edge` column of `snap_points`"
        )
    e = _edge_indices(net, e, edge_name)
    on = e >= 0
    length = net.edge_length[e[on]]
    off = o[on]
    tol = _OFFSET_TOL * length + 1e-6
    bad = ~np.isfinite(off) | (off < -tol) | (off > length + tol)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"`{offset_name}` holds {int(bad.sum())} values that are NaN or outside their "
            f"edge [0, length] (first: {float(off[k])!r} on an edge of {float(length[k])!r} m); "
            "give the distance along the edge from `edge_u`, as `snap_points` does"
        )
    o = o.copy()
    o[on] = np.clip(off, 0.0, length)
    o[~on] = np.nan
    return e, o


def _legs(leg: object, edge: np.ndarray, name: str) -> np.ndarray:
    """Check the legs (m) of a set of points; 0 for off-network points and when ``leg`` is None."""
    if leg is None:
        return np.zeros(len(edge))
    g = np.asarray(leg, dtype=np.float64)
    if g.ndim != 1 or len(g) != len(edge):
        raise ValidationError(
            f"`{name}` has shape {g.shape!r}; give one leg (m) per point ({len(edge)!r} points), "
            "e.g. the `snap_m` column of `snap_points`"
        )
    on = edge >= 0
    bad = on & ~(np.isfinite(g) & (g >= 0))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"`{name}` holds {int(bad.sum())} values that are negative, NaN or infinite for "
            f"points on the network (first: {float(g[k])!r} at position {k!r}); a leg is the "
            "distance (m) from the point to its place on the edge"
        )
    return np.where(on, g, 0.0)


def _categories(
    target_category: object, n_targets: int, n_categories: int | None
) -> tuple[np.ndarray, int]:
    cat = np.asarray(target_category)
    if cat.ndim != 1 or len(cat) != n_targets:
        raise ValidationError(
            f"`target_category` has shape {cat.shape!r}; give one category code per target "
            f"({n_targets!r} targets)"
        )
    if n_targets and not np.issubdtype(cat.dtype, np.integer):
        raise ValidationError(
            f"`target_category` must hold integer codes 0..n_categories-1, got dtype "
            f"{cat.dtype!r}; encode labels with `pandas.factorize` first"
        )
    cat = cat.astype(np.int64)
    if n_categories is None:
        if n_targets == 0:
            raise ValidationError(
                "no target given and `n_categories` is None: pass `n_categories` so that "
                "absent categories come back as NaN columns"
            )
        n_categories = int(cat.max()) + 1
    n_categories = check_number(n_categories, "n_categories", low=0, high=MAX_CATEGORIES, integer=True)
    bad = (cat < 0) | (cat >= n_categories)
    if bad.any():
        raise ValidationError(
            f"`target_category` holds {int(bad.sum())} codes outside 0..{n_categories - 1} "
            f"(first: {int(cat[bad][0])!r}); raise `n_categories` or fix the codes"
        )
    return cat, n_categories


#: most categories a kernel accepts (a qpvgeo limit): the result holds one column per category
#: and origin; qpvgeo's nomenclature has about a hundred, 10 000 leaves room for any coding.
MAX_CATEGORIES = 10_000


def _positive(value: float, name: str, *, allow_inf: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"`{name}` must be a number of metres, got {plain(value)!r}") from exc
    if not (v > 0) or (not allow_inf and not np.isfinite(v)):
        raise ValidationError(
            f"`{name}` must be a positive{'' if allow_inf else ' finite'} distance in metres, "
            f"got {plain(value)!r}"
        )
    return v


def _origins_by_edge(o_edge: np.ndarray, n_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Origins grouped by edge (off-network origins left out): (ptr, sorted indices)."""
    order = np.argsort(o_edge, kind="stable").astype(np.int64)
    ptr = np.searchsorted(o_edge[order], np.arange(n_edges + 1)).astype(np.int64)
    return ptr, order


def _pairs(
    net: WalkNetwork,
    origin_edge: object,
    origin_offset: object,
    target_edge: object,
    target_offset: object,
    cutoff_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated inputs -> unsorted (origin, target, dist) arrays within the cutoff."""
    o_edge, o_off = _points(net, origin_edge, origin_offset, "origin_edge", "origin_offset")
    t_edge, t_off = _points(net, target_edge, target_offset, "target_edge", "target_offset")
    cutoff = _positive(cutoff_m, "cutoff_m")
    a = _arrays(net)
    ptr, order = _origins_by_edge(o_edge, net.n_edges)
    return _pairs_kernel(
        a.indptr, a.indices, a.weights, a.edge_u, a.edge_v, a.edge_length, a.inc_ptr,
        a.inc_edge, ptr, order, o_off, t_edge, t_off, cutoff,
    )  # fmt: skip


# --------------------------------------------------------------------------- public API


def nearest_by_category(
    net: WalkNetwork,
    origin_edge: np.ndarray,
    origin_offset: np.ndarray,
    target_edge: np.ndarray,
    target_offset: np.ndarray,
    target_category: np.ndarray,
    *,
    n_categories: int | None = None,
    max_dist_m: float = np.inf,
    origin_leg_m: np.ndarray | None = None,
    target_leg_m: np.ndarray | None = None,
) -> np.ndarray:
    """Network distance from each origin to the nearest target of each category.

    .. math::

        D_{ic} = \\ell_i + \\min_{j:\\, c_j = c} \\bigl(d(e_i, t_i;\\, f_j, s_j) + \\ell_j\\bigr)

    with :math:`d` the network distance between points on edges (module
    docstring) and :math:`\\ell` the legs (0 unless given). One multi-source
    Dijkstra search per category, seeded at both end nodes of every target's
    edge with the costs ``leg + s`` and ``leg + L - s``, bounded by
    ``max_dist_m``; then for each origin the minimum over its edge's two end
    nodes and over the targets on its own edge (direct ``|t - s| + leg``),
    plus the origin's leg. The target chosen is thus the nearest on the total.

    Parameters
    ----------
    net : WalkNetwork
    origin_edge, origin_offset : array_like
        Origins: edge index (-1 = off network) and distance along the edge from
        ``edge_u`` (m), as returned by :func:`qpvgeo.network.snap_points`.
    target_edge, target_offset : array_like
        Targets, likewise. Off-network targets (-1) are ignored.
    target_category : array_like of int
        Category code of each target, in ``0 .. n_categories - 1``.
    n_categories : int, optional
        Number of categories (columns). Default: largest code + 1; required when
        there is no target.
    max_dist_m : float, default inf
        Distances (legs included) beyond it are reported as NaN (and the
        searches stop there).
    origin_leg_m, target_leg_m : array_like, optional
        Distance (m, finite, >= 0) from each point to its place on the edge,
        added at both ends (the ``snap_m`` column of
        :func:`qpvgeo.network.snap_points`). Ignored for off-network points.
        Default: no leg (distances between the places on the edges).

    Returns
    -------
    numpy.ndarray of float64, shape (n_origins, n_categories)
        Metres. NaN where no target of that category is reachable within
        ``max_dist_m``, for off-network origins, and in the whole column of a
        category without any (on-network) target.

    Raises
    ------
    ValidationError
        Mismatched lengths, bad edge indices or offsets, bad category codes,
        negative or NaN legs, ``max_dist_m`` <= 0 or NaN.
    """
    check_network(net, "net")
    o_edge, o_off = _points(net, origin_edge, origin_offset, "origin_edge", "origin_offset")
    t_edge, t_off = _points(net, target_edge, target_offset, "target_edge", "target_offset")
    o_leg = _legs(origin_leg_m, o_edge, "origin_leg_m")
    t_leg = _legs(target_leg_m, t_edge, "target_leg_m")
    cat, n_cat = _categories(target_category, len(t_edge), n_categories)
    limit = _positive(max_dist_m, "max_dist_m", allow_inf=True)
    a = _arrays(net)
    on_o = o_edge >= 0
    on_t = t_edge >= 0
    out = np.full((len(o_edge), n_cat), np.nan)
    if n_cat == 0 or not on_o.any():
        return out
    out[on_o] = _nearest_kernel(
        a.indptr, a.indices, a.weights, a.edge_u, a.edge_v, a.edge_length,
        o_edge[on_o], o_off[on_o], o_leg[on_o], t_edge[on_t], t_off[on_t], t_leg[on_t],
        cat[on_t], n_cat, limit,
    )  # fmt: skip
    return out


def distances_within(
    net: WalkNetwork,
    origin_edge: np.ndarray,
    origin_offset: np.ndarray,
    target_edge: np.ndarray,
    target_offset: np.ndarray,
    *,
    cutoff_m: float,
) -> pd.DataFrame:
    """Long table of every origin–target pair within ``cutoff_m`` of each other.

    One Dijkstra search per target bounded by ``cutoff_m`` (scratch arrays
    reused, no targets × nodes matrix), then each reached node hands its
    distance to the origins on its incident edges.

    Parameters
    ----------
    net : WalkNetwork
    origin_edge, origin_offset, target_edge, target_offset : array_like
        Points on edges, as in :func:`nearest_by_category`. Off-network points
        appear in no pair.
    cutoff_m : float
        Largest distance kept (inclusive), metres, finite and > 0.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin`` and ``target`` (int64 positions in the inputs) and
        ``dist_m`` (float64), sorted by target then origin.
    """
    check_network(net, "net")
    oi, ti, d = _pairs(net, origin_edge, origin_offset, target_edge, target_offset, cutoff_m)
    sort = np.lexsort((oi, ti))
    return pd.DataFrame({"origin": oi[sort], "target": ti[sort], "dist_m": d[sort]})


def count_within(
    net: WalkNetwork,
    origin_edge: np.ndarray,
    origin_offset: np.ndarray,
    target_edge: np.ndarray,
    target_offset: np.ndarray,
    target_category: np.ndarray,
    *,
    radii_m: float | list[float] | np.ndarray,
    n_categories: int | None = None,
) -> np.ndarray:
    """Number of targets of each category within each radius of each origin.

    Parameters
    ----------
    net : WalkNetwork
    origin_edge, origin_offset, target_edge, target_offset : array_like
        Points on edges, as in :func:`nearest_by_category`.
    target_category : array_like of int
        Category code of each target, ``0 .. n_categories - 1``.
    radii_m : float or sequence of float
        Radii (m, finite, > 0), in any order; a target at exactly the radius counts.
    n_categories : int, optional
        Default: largest code + 1; required when there is no target.

    Returns
    -------
    numpy.ndarray of int64, shape (n_origins, n_categories, n_radii)
        Counts. Off-network origins get 0 everywhere and off-network targets
        are counted nowhere: callers should report such points themselves
        (``edge == -1``), since a 0 here does not say "nothing near".
    """
    check_network(net, "net")
    try:
        radii = np.atleast_1d(np.asarray(radii_m, dtype=np.float64))
    except (TypeError, ValueError):
        radii = np.array([[]])
    if radii.ndim != 1 or len(radii) == 0:
        raise ValidationError(f"`radii_m` must be one or more distances in metres, got {radii_m!r}")
    for r in radii:
        _positive(r, "radii_m")
    t_edge, _ = _points(net, target_edge, target_offset, "target_edge", "target_offset")
    cat, n_cat = _categories(target_category, len(t_edge), n_categories)
    oi, ti, d = _pairs(
        net, origin_edge, origin_offset, target_edge, target_offset, float(radii.max())
    )
    n_o = len(np.asarray(origin_edge))
    out = np.zeros((n_o, n_cat, len(radii)), dtype=np.int64)
    if n_cat > 0 and len(oi):
        _count_kernel(oi, cat[ti], d, radii, out)
    return out


def connected_components_report(net: WalkNetwork, edges: np.ndarray) -> float:
    """Share of the given points that lie outside the network's largest component.

    A high share means the network is made of disconnected pieces around these
    points (a clipping or data problem): their distances to targets in the
    main piece are NaN.

    Parameters
    ----------
    net : WalkNetwork
    edges : array_like of int
        Edge index of each point (-1 = off network; such points are not counted).

    Returns
    -------
    float
        Share (0–1) of the on-network points whose edge is outside the largest
        connected component; NaN when no point is on the network.
    """
    check_network(net, "net")
    e = np.asarray(edges)
    if e.ndim != 1:
        raise ValidationError(f"`edges` must be a 1-D array of edge indices, got shape {e.shape!r}")
    e = _edge_indices(net, e, "edges")
    e = e[e >= 0]
    if len(e) == 0:
        return float("nan")
    n_comp, labels = csgraph.connected_components(net.csr, directed=False)
    largest = np.bincount(labels).argmax()
    outside = labels[net.edge_u[e]] != largest
    share = float(outside.mean())
    log.info(
        "%d components; %d of %d points (%.1f%%) outside the largest",
        n_comp, int(outside.sum()), len(e), 100 * share,
    )  # fmt: skip
    return share
