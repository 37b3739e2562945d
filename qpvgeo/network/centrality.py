r"""Localised street centrality: betweenness and closeness within walking radii.

A street is *central* at the scale of a neighbourhood when many of the short
walks of that neighbourhood pass through it (betweenness) or when many places
lie a short walk away from it (closeness). Both are computed exactly within a
network radius :math:`r`, for several radii at once, by a compiled kernel: one
Dijkstra search per source bounded at the largest radius, then Brandes'
dependency accumulation once per radius on the nodes settled within it
(Brandes 2001; localised measures as in Porta, Crucitti & Latora 2006 and
Sevtsuk & Mekonnen 2012).

Definitions
-----------
Let :math:`d(s, t)` be the network distance (float64 metres, edge lengths of
:attr:`WalkNetwork.csr`, i.e. the shortest of parallel edges, self-loops
ignored), :math:`\sigma_{st}` the number of shortest :math:`s`–:math:`t` paths
and :math:`\sigma_{st}(v)` the number of them passing through :math:`v`.

* **Betweenness** within :math:`r` counts *unordered* pairs once and excludes
  the endpoints, as ``networkx.betweenness_centrality(G, weight="length",
  normalized=False)`` on an undirected graph:

  .. math::

      B_r(v) = \frac{1}{2} \sum_{s \ne v \ne t,\; d(s, t) \le r}
               \frac{\sigma_{st}(v)}{\sigma_{st}}

  The radius is **inclusive** (:math:`d(s,t) = r` counts). Two paths tie when
  their float64 lengths differ by at most ``tie_tolerance_m`` (default 1e-9 m,
  i.e. exactly equal lengths up to rounding; ``0`` is networkx's exact
  equality). Every shortest path to a target within :math:`r` runs through
  nodes within :math:`r` of the source (each prefix of a shortest path is
  shorter), so restricting Brandes' DAG to the nodes settled within :math:`r`
  is exact, not an approximation.

  How peers compare: igraph's ``Graph.betweenness(directed=False,
  cutoff=r, weights=...)`` has the same definition (unordered pairs, inclusive
  cutoff; its ties use a relative epsilon of about 1e-10) and gives the same
  values; networkit counts ordered pairs (2× these values); cityseer's
  ``betweenness`` (``centrality_shortest``) counts unordered pairs too but
  leaves out the pairs at exactly the radius (on a 100 m grid its 400 m
  values are these 350 m values) and treats paths within its relative
  ``tolerance`` as ties, so it differs where pairs lie at the radius (grids,
  rounded lengths) or paths nearly tie.

* **Closeness** within :math:`r`, with :math:`R_r(s) = \{t \ne s : d(s,t) \le r\}`:

  .. math::

      C_r(s) = \sum_{t \in R_r(s)} \frac{1}{d(s, t)}, \qquad
      N_r(s) = |R_r(s)|, \qquad
      F_r(s) = \sum_{t \in R_r(s)} d(s, t)

  :math:`C_r` is the harmonic closeness (m⁻¹; cityseer's ``harmonic``),
  :math:`N_r` the node density (cityseer's ``density``) and :math:`F_r` the
  farness (m; cityseer's ``farness``), the radius inclusive here too (cityseer
  leaves out the nodes at exactly :math:`r`); the classical closeness within
  the radius is :math:`N_r / F_r` and Hillier's integration :math:`N_r^2 / F_r`.

Performance: one Dijkstra search per source node, bounded at the largest radius,
feeds every radius and measure. Sources run in parallel on numba threads
(``numba.set_num_threads``; threads claim blocks of sources as they go). Memory
grows linearly with the network: per thread about ``(7 + n_radii) n + 3 m``
eight-byte words for ``n`` nodes and ``m`` directed CSR entries, nothing of size
``n × n``; time grows about linearly with the number of nodes for a fixed radius
(each search settles and resets only the nodes within reach). The first call
compiles the kernel (numba, cached on disk).

References
----------
Brandes, U. (2001). A faster algorithm for betweenness centrality. *Journal of
Mathematical Sociology* 25(2), 163–177.

Porta, S., Crucitti, P. & Latora, V. (2006). The network analysis of urban
streets: a primal approach. *Environment and Planning B* 33(5), 705–725.

Sevtsuk, A. & Mekonnen, M. (2012). Urban network analysis: a new toolbox for
ArcGIS. *Revue internationale de géomatique* 22(2), 287–305.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numba
import numpy as np
import pandas as pd

from .._errors import NetworkError, ValidationError, plain
from .._validate import check_network
from ._brandes import _BLOCK_SOURCES, _local_centrality_kernel
from .build import WalkNetwork

__all__ = ["local_betweenness", "local_centrality", "local_closeness"]

MEASURES = ("betweenness", "closeness")


def _radius_label(r: float) -> str:
    return f"{int(r)}" if float(r).is_integer() else f"{r:g}"


def _check_radii(radii_m: float | Iterable[float]) -> list[float]:
    if radii_m is None or isinstance(radii_m, str | bytes) or not (np.isscalar(radii_m) or hasattr(radii_m, "__iter__")):
        raise ValidationError(f"`radii_m` must be one or more radii in metres, e.g. (400, 800), got {plain(radii_m)!r}")
    values = [radii_m] if np.isscalar(radii_m) else list(radii_m)  # type: ignore[arg-type]
    if not values:
        raise ValidationError("`radii_m` is empty; give at least one radius in metres, e.g. (800,)")
    out = []
    for r in values:
        try:
            f = float(r)
        except (TypeError, ValueError):
            raise ValidationError(
                f"`radii_m` holds {plain(r)!r}, not a number; give radii in metres, e.g. (400, 800)"
            ) from None
        if not (math.isfinite(f) and f > 0):
            raise ValidationError(
                f"`radii_m` holds {plain(r)!r}; every radius must be a positive finite number of metres"
            )
        out.append(f)
    labels = [_radius_label(r) for r in out]
    if len(set(labels)) != len(labels):
        raise ValidationError(f"`radii_m` has duplicates: {tuple(values)!r}; give each radius once")
    return out


def _check_measures(measures: str | Sequence[str]) -> tuple[str, ...]:
    chosen = (measures,) if isinstance(measures, str) else tuple(measures)
    unknown = [m for m in chosen if m not in MEASURES]
    if unknown or not chosen:
        raise ValidationError(f"`measures` is {measures!r}; choose one or more of {MEASURES!r}")
    return chosen


def _check_sources(sources: Iterable[int] | None, n: int) -> np.ndarray:
    if sources is None:
        return np.arange(n, dtype=np.int64)
    arr = np.asarray(list(sources) if not isinstance(sources, np.ndarray) else sources)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValidationError(
            f"`sources` must be a 1-D sequence of compiled node indices, got {sources!r}"
        )
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        bad = arr[(arr < 0) | (arr >= n)]
        raise ValidationError(
            f"`sources` holds node indices outside 0..{n - 1}: {bad[:5].tolist()!r}"
        )
    if np.unique(arr).size != arr.size:
        raise ValidationError("`sources` holds duplicate node indices; give each source once")
    return arr


def local_centrality(
    net: WalkNetwork,
    radii_m: float | Sequence[float] = (400, 800, 1200),
    *,
    measures: str | Sequence[str] = MEASURES,
    normalized: bool = False,
    tie_tolerance_m: float = 1e-9,
    sources: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    r"""Localised betweenness and closeness of every node, for several radii in one pass.

    One Dijkstra search per source node, bounded at ``max(radii_m)``, feeds
    every radius and every measure (definitions in :mod:`qpvgeo.centrality`):

    .. math::

        B_r(v) = \frac{1}{2} \sum_{s \ne v \ne t,\; d(s,t) \le r}
                 \frac{\sigma_{st}(v)}{\sigma_{st}}, \qquad
        C_r(s) = \sum_{t \ne s,\; d(s,t) \le r} \frac{1}{d(s,t)}

    Sources run in parallel on numba threads; memory and time grow linearly
    with the network (see the module's notes on performance).

    Parameters
    ----------
    net : WalkNetwork
        Network whose compiled CSR adjacency (metres) is searched.
    radii_m : float or sequence of float
        Network radii (m), positive and finite; each gives its own columns.
    measures : str or sequence of str
        ``"betweenness"`` and/or ``"closeness"``.
    normalized : bool
        Divide betweenness by the number of unordered pairs of the other
        nodes, :math:`(n-1)(n-2)/2` (networkx's ``normalized=True`` on an
        undirected graph): a share of *all* pairs of the network, not of the
        pairs within the radius.
    tie_tolerance_m : float
        Two paths tie when their float64 lengths differ by at most this much
        (m). Must be ≥ 0 and smaller than the shortest edge. ``0`` counts
        exactly equal float64 lengths only, as networkx does.
    sources : sequence of int, optional
        Compiled node indices whose searches are run (default: all nodes).
        Betweenness then sums the dependencies of the paths *from* these
        sources only, :math:`\frac12 \sum_{s \in S} \delta_s(v)` (×n/|S| is an
        unbiased estimate of the full value for a uniform random sample);
        closeness columns are NaN for the other nodes.

    Returns
    -------
    pandas.DataFrame
        Indexed by compiled node index ``0..n-1`` (named ``node``), float64
        columns, radii in the order given: ``betweenness_{r}m``, and for
        closeness ``closeness_{r}m`` (harmonic, m⁻¹), ``node_density_{r}m``
        (nodes reached within r, source excluded) and ``farness_{r}m`` (sum
        of their distances, m).

    Raises
    ------
    ValidationError
        A radius is not positive and finite, an unknown measure, a bad
        tolerance or source index.
    NetworkError
        The network has no node, or an edge length is not positive and finite.

    References
    ----------
    Brandes (2001); Porta, Crucitti & Latora (2006); Sevtsuk & Mekonnen (2012).
    """
    check_network(net, "net")
    radii = _check_radii(radii_m)
    chosen = _check_measures(measures)
    n = int(net.n_nodes)
    if n == 0:
        raise NetworkError(f"network {net.name!r} has no node; load a network that holds streets")
    indptr, indices, weights, tol = _checked_csr(net, tie_tolerance_m)
    src = _check_sources(sources, n)

    order = np.argsort(radii, kind="stable")
    sorted_radii = np.asarray(radii, dtype=np.float64)[order]
    do_b = "betweenness" in chosen
    do_c = "closeness" in chosen
    bc, dens, far, harm = _local_centrality_kernel(
        indptr,
        indices,
        weights,
        src,
        sorted_radii,
        tol,
        do_b,
        do_c,
        numba.get_num_threads(),
        _BLOCK_SOURCES,
    )
    columns = _columns(
        radii, order, src, n, normalized, bc if do_b else None, (harm, dens, far) if do_c else None
    )
    return pd.DataFrame(columns, index=pd.RangeIndex(n, name="node"))


def _checked_csr(
    net: WalkNetwork, tie_tolerance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The network's CSR arrays for the kernel, with positive finite lengths, and the tie tolerance."""
    csr = net.csr
    indptr = np.ascontiguousarray(csr.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(csr.indices, dtype=np.int64)
    weights = np.ascontiguousarray(csr.data, dtype=np.float64)
    if weights.size and not (np.all(np.isfinite(weights)) and weights.min() > 0):
        raise NetworkError(
            f"network {net.name!r} has edge lengths that are not positive and finite "
            f"(min {float(weights.min())!r}); rebuild it with `compile_network`"
        )
    try:
        tol = float(tie_tolerance_m) if not isinstance(tie_tolerance_m, str | bool) else math.nan
    except (TypeError, ValueError):
        tol = math.nan
    min_w = float(weights.min()) if weights.size else math.inf
    if not (math.isfinite(tol) and 0 <= tol < min_w):
        raise ValidationError(
            f"`tie_tolerance_m` is {plain(tie_tolerance_m)!r}; it must be ≥ 0 and below the shortest "
            f"edge ({min_w!r} m), e.g. 1e-9"
        )
    return indptr, indices, weights, tol


def _columns(
    radii: list[float],
    order: np.ndarray,
    src: np.ndarray,
    n: int,
    normalized: bool,
    bc: np.ndarray | None,
    closeness: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """The kernel's rows (sorted radii) as named columns in the order the radii were given."""
    do_b, do_c = bc is not None, closeness is not None
    if do_c:
        harm, dens, far = closeness
    columns: dict[str, np.ndarray] = {}
    row_of = {int(o): i for i, o in enumerate(order)}  # given position -> sorted row
    if do_b:
        scale = 0.5
        if normalized:
            # ordered-pair sums / ((n-1)(n-2)) = unordered counts / ((n-1)(n-2)/2)
            scale = 1.0 / ((n - 1) * (n - 2)) if n > 2 else 0.0
        for i, r in enumerate(radii):
            columns[f"betweenness_{_radius_label(r)}m"] = bc[row_of[i]] * scale
    if do_c:
        for name, values in (("closeness", harm), ("node_density", dens), ("farness", far)):
            for i, r in enumerate(radii):
                col = np.full(n, np.nan)
                col[src] = values[row_of[i]]
                columns[f"{name}_{_radius_label(r)}m"] = col
    return columns


def local_betweenness(
    net: WalkNetwork,
    radii_m: float | Sequence[float] = (400, 800, 1200),
    *,
    normalized: bool = False,
    tie_tolerance_m: float = 1e-9,
    sources: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    r"""Betweenness of every node counting only the pairs within each radius.

    .. math::

        B_r(v) = \frac{1}{2} \sum_{s \ne v \ne t,\; d(s,t) \le r}
                 \frac{\sigma_{st}(v)}{\sigma_{st}}

    Unordered pairs counted once, endpoints excluded, radius inclusive, ties
    within ``tie_tolerance_m``: with a radius above the network's diameter and
    ``tie_tolerance_m=0`` this is ``networkx.betweenness_centrality(G,
    weight="length", normalized=False)`` (Brandes 2001). See
    :func:`local_centrality` for the parameters.

    Returns
    -------
    pandas.DataFrame
        Columns ``betweenness_{r}m`` (float64), indexed by compiled node index.
    """
    check_network(net, "net")
    return local_centrality(
        net,
        radii_m,
        measures=("betweenness",),
        normalized=normalized,
        tie_tolerance_m=tie_tolerance_m,
        sources=sources,
    )


def local_closeness(
    net: WalkNetwork,
    radii_m: float | Sequence[float] = (400, 800, 1200),
    *,
    sources: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    r"""Harmonic closeness, node density and farness of every node within each radius.

    .. math::

        C_r(s) = \sum_{t \ne s,\; d(s,t) \le r} \frac{1}{d(s,t)}, \quad
        N_r(s) = \left|\{t \ne s : d(s,t) \le r\}\right|, \quad
        F_r(s) = \sum_{t \ne s,\; d(s,t) \le r} d(s,t)

    Harmonic closeness does not collapse at the edge of the radius or of the
    network as classical closeness :math:`N_r / F_r` does (Sevtsuk & Mekonnen
    2012 use it as their "gravity" index without decay). See
    :func:`local_centrality` for the parameters.

    Returns
    -------
    pandas.DataFrame
        Columns ``closeness_{r}m`` (m⁻¹), ``node_density_{r}m`` and
        ``farness_{r}m`` (m), indexed by compiled node index.
    """
    check_network(net, "net")
    return local_centrality(net, radii_m, measures=("closeness",), sources=sources)
