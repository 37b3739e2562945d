"""Coupling of shops with public services: co-location, pairs and polarités.

The working group wants to *couple* shops with public services so that each
brings footfall to the other. Three readings, all on walking-network
distances (:func:`qpvgeo.engine.distances_within`):

- the **co-location quotient** (CLQ) of shops towards public services,
  global and local (Leslie & Kronenfeld 2011; local form after Cromley,
  Hanink & Bentley 2014), with a seeded permutation test;
- for each shop, the **nearest public service** and the walking time to it;
- **polarités**: clusters of shops and services within a short walk of each
  other, with their composition.

Points are *places* (equipments at the same site count once: see
``site_id`` in :func:`qpvgeo.loaders.load_equipments`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from .. import settings
from .._errors import ValidationError
from .._validate import assert_project_crs, check_frame, check_network, check_number
from ..network.build import WalkNetwork, snap_points


def unique_sites(equipments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per site (same ``site_id``: same code, same point), keeping the flags."""
    check_frame(equipments, "equipments", crs=False)
    if "site_id" in equipments.columns:
        return equipments.drop_duplicates("site_id")
    return equipments


def network_distances(
    network: WalkNetwork, points: gpd.GeoDataFrame, *, cutoff_m: float
) -> pd.DataFrame:
    """Long table of network distances between all pairs of ``points`` within ``cutoff_m`` (i ≠ j)."""
    check_network(network, "network")
    check_frame(points, "points")
    cutoff_m = check_number(cutoff_m, "cutoff_m", low=0, low_open=True, unit="metres")
    from ..network.engine import distances_within

    snapped = snap_points(network, points)
    e, t = snapped["edge"].to_numpy(), snapped["offset_m"].to_numpy()
    pairs = distances_within(network, e, t, e, t, cutoff_m=cutoff_m)
    return pairs[pairs["origin"] != pairs["target"]].reset_index(drop=True)


def _label_array(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValidationError(f"`labels` must be a 1-D array of labels, one per point, got shape {labels.shape!r}")
    return labels


def colocation_quotients(
    labels: np.ndarray,
    pairs: pd.DataFrame,
    *,
    bandwidth_m: float = 200.0,
    permutations: int = 999,
    seed: int = 20200,
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Global and local co-location quotients of A points towards B points.

    For each A point *i*, with Gaussian weights :math:`w_{ij} = e^{-d_{ij}^2 / 2h^2}`
    over its network neighbours *j ≠ i* (the rows of ``pairs``):

    .. math::

        LCLQ_i = \\frac{\\sum_j w_{ij} [j \\in B] / \\sum_j w_{ij}}{N_B / (N - 1)},
        \\qquad CLQ_{A \\to B} = \\frac{1}{N_A} \\sum_{i \\in A} LCLQ_i

    A value above 1 means B points are over-represented around A points
    compared with a random placement of the labels over the same places;
    below 1, under-represented. A points with no neighbour get NaN and do
    not enter the mean.

    Significance (total random labelling): the labels are permuted ``permutations`` times over the
    places (``numpy.random.default_rng(seed)``, so reproducible); the p-value
    is :math:`(1 + \\#\\{CLQ^{perm} \\ge CLQ\\})/(1 + n)` for co-location
    (``p_colocation``) and likewise with ≤ for isolation (``p_isolation``),
    globally and for each A point.

    Parameters
    ----------
    labels : array of str
        ``"A"``, ``"B"`` or anything else (other places, in the denominator
        :math:`N - 1` and as neighbours), one per point.
    pairs : DataFrame
        ``origin``, ``target``, ``dist_m``: neighbours (from :func:`network_distances`).

    Returns
    -------
    (global, local, local_p)
        ``global``: dict with ``clq``, ``p_colocation``, ``p_isolation``,
        ``n_a``, ``n_b``, ``n``; ``local``: LCLQ per point (NaN for non-A
        points); ``local_p``: its co-location p-value per point.
    """
    labels = _label_array(labels)
    check_frame(pairs, "pairs", columns=("origin", "target", "dist_m"), geo=False)
    n = len(labels)
    # at most 99 999 permutations (a qpvgeo limit: 999 give p-values to 0.001, the usual)
    permutations = check_number(permutations, "permutations", low=1, high=99_999, integer=True)
    bandwidth_m = check_number(bandwidth_m, "bandwidth_m", low=0, low_open=True, unit="metres")
    seed = check_number(seed, "seed", low=0, integer=True)
    is_a, is_b = labels == "A", labels == "B"
    n_a, n_b = int(is_a.sum()), int(is_b.sum())
    out = {
        "clq": np.nan,
        "p_colocation": np.nan,
        "p_isolation": np.nan,
        "n_a": n_a,
        "n_b": n_b,
        "n": n,
    }
    local = np.full(n, np.nan)
    local_p = np.full(n, np.nan)
    if n_a == 0 or n_b == 0 or n < 3 or len(pairs) == 0:
        return out, local, local_p
    w = np.exp(-0.5 * (pairs["dist_m"].to_numpy() / bandwidth_m) ** 2)
    W = sparse.csr_array(
        (w, (pairs["origin"].to_numpy(), pairs["target"].to_numpy())), shape=(n, n)
    )
    rowsum = W.sum(axis=1)
    has = rowsum > 0
    expected = n_b / (n - 1)

    def lclq(b_mask: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (W @ b_mask.astype(float)) / rowsum / expected

    obs = lclq(is_b)
    sel = is_a & has
    if not sel.any():
        return out, local, local_p
    local[sel] = obs[sel]
    out["clq"] = float(obs[sel].mean())
    rng = np.random.default_rng(seed)
    ge_local = np.zeros(n)
    glob = np.empty(permutations)
    for k in range(permutations):
        perm = rng.permutation(labels)
        a_p, b_p = perm == "A", perm == "B"
        val = lclq(b_p)
        sel_p = a_p & has
        glob[k] = val[sel_p].mean() if sel_p.any() else np.nan
        # local: the share of B around each place under random labelling
        ge_local += val >= obs - 1e-12
    glob = glob[np.isfinite(glob)]
    out["p_colocation"] = float((1 + (glob >= out["clq"] - 1e-12).sum()) / (1 + len(glob)))
    out["p_isolation"] = float((1 + (glob <= out["clq"] + 1e-12).sum()) / (1 + len(glob)))
    local_p[sel] = (1 + ge_local[sel]) / (1 + permutations)
    return out, local, local_p


def nearest_service_pairs(
    network: WalkNetwork,
    shops: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    max_walk_min: float = 15.0,
    walk_speed_kmh: float | None = None,
) -> gpd.GeoDataFrame:
    """Each shop paired with its nearest public service on the walking network.

    Returns
    -------
    GeoDataFrame
        One row per shop with a service within ``max_walk_min``: ``shop_id``,
        ``shop_label``, ``service_id``, ``service_label``, ``walk_min`` and a
        straight line from shop to service (for maps). Shops with none in
        reach are left out and counted in ``attrs["n_shops_without_service"]``.
    """
    check_network(network, "network")
    check_frame(shops, "shops")
    check_frame(services, "services")
    max_walk_min = check_number(max_walk_min, "max_walk_min", low=0, low_open=True, unit="minutes")
    from ..network.build import metres_per_minute
    from ..network.engine import distances_within

    assert_project_crs(shops, "shops")
    assert_project_crs(services, "services")
    speed = metres_per_minute(walk_speed_kmh)
    s = snap_points(network, shops)
    p = snap_points(network, services)
    pairs = distances_within(
        network, s["edge"].to_numpy(), s["offset_m"].to_numpy(),
        p["edge"].to_numpy(), p["offset_m"].to_numpy(), cutoff_m=max_walk_min * speed,
    )  # fmt: skip
    best = pairs.loc[pairs.groupby("origin")["dist_m"].idxmin()] if len(pairs) else pairs
    oi, ti = best["origin"].to_numpy(), best["target"].to_numpy()
    lines = (
        shapely.linestrings(
            np.stack(
                [
                    np.column_stack(
                        [shops.geometry.x.to_numpy()[oi], shops.geometry.y.to_numpy()[oi]]
                    ),
                    np.column_stack(
                        [services.geometry.x.to_numpy()[ti], services.geometry.y.to_numpy()[ti]]
                    ),
                ],
                axis=1,
            )
        )
        if len(best)
        else []
    )
    out = gpd.GeoDataFrame(
        {
            "shop_id": shops.index.to_numpy()[oi],
            "shop_label": shops["label_fr"].to_numpy()[oi] if "label_fr" in shops else None,
            "service_id": services.index.to_numpy()[ti],
            "service_label": services["label_fr"].to_numpy()[ti]
            if "label_fr" in services
            else None,
            "walk_min": best["dist_m"].to_numpy() / speed,
        },
        geometry=lines,
        crs=settings.crs,
    )
    out.attrs["n_shops_without_service"] = int(len(shops) - len(out))
    return out


def polarites(
    points: gpd.GeoDataFrame, pairs: pd.DataFrame, *, link_m: float = 150.0, min_size: int = 3
) -> tuple[pd.Series, gpd.GeoDataFrame]:
    """Clusters of shops and services within ``link_m`` of each other on the network.

    Single linkage: two places belong to the same polarité when a chain of
    places, each within ``link_m`` walk of the next, joins them. Clusters of
    fewer than ``min_size`` places are not polarités.

    Returns
    -------
    (membership, polarites)
        ``membership``: polarité number per point (-1 when in none), indexed
        like ``points``. ``polarites``: one row per polarité with
        ``n_places``, ``n_commerces``, ``n_services_publics``, ``mixte``
        (both kinds present), ``composition`` (French labels with counts) and
        an outline (hull of the places, buffered 30 m).
    """
    check_frame(points, "points", columns=("label_fr", "is_commerce", "is_public_service"))
    check_frame(pairs, "pairs", columns=("origin", "target", "dist_m"), geo=False)
    link_m = check_number(link_m, "link_m", low=0, low_open=True, unit="metres")
    min_size = check_number(min_size, "min_size", low=1, integer=True)
    n = len(points)
    close = pairs[pairs["dist_m"] <= link_m]
    graph = sparse.csr_array(
        (np.ones(len(close)), (close["origin"].to_numpy(), close["target"].to_numpy())),
        shape=(n, n),
    )
    _, comp = csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(comp)
    keep = sizes[comp] >= min_size
    ids = np.full(n, -1)
    ranks = {c: k for k, c in enumerate(sorted(set(comp[keep]), key=lambda c: -sizes[c]))}
    ids[keep] = [ranks[c] for c in comp[keep]]
    rows = []
    for pid in range(len(ranks)):
        members = points.iloc[np.flatnonzero(ids == pid)]
        counts = members["label_fr"].value_counts()
        rows.append(
            {
                "polarite": pid,
                "n_places": len(members),
                "n_commerces": int(members["is_commerce"].sum()),
                "n_services_publics": int(members["is_public_service"].sum()),
                "mixte": bool(members["is_commerce"].any() and members["is_public_service"].any()),
                "composition": ", ".join(f"{lab} ({k})" for lab, k in counts.items()),
                "geometry": shapely.convex_hull(shapely.union_all(members.geometry.values)).buffer(
                    30
                ),
            }
        )
    gdf = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.crs)
        if rows
        else gpd.GeoDataFrame({"polarite": []}, geometry=[], crs=settings.crs)
    )
    return pd.Series(ids, index=points.index, name="polarite"), gdf
