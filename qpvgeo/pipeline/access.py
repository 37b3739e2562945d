"""Stage 3: walking access from the residents of each QPV (and of the rest of its communes).

Time to the nearest equipment of each category for every QPV
(:func:`access_times`), and, where a QPV has a network, the access indicators
that need one (:func:`network_access`): the rest of the commune, cumulative
opportunities, *gamme de proximité* coverage, 2SFCA, Huff and isochrones.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from .. import settings
from ..data.barriers import BARRIER_RAIL_MODES as HEAVY_RAIL_MODES
from ..indicators import access as accessibility
from ..indicators import fca, huff
from ..indicators.fca import FCA_CATEGORIES
from ..network import engine
from ..network.build import WalkNetwork, metres_per_minute, snap_points
from ..network.isochrones import isochrones
from .context import RunContext, empty_layer

#: catchment of the floating catchment methods: 15 minutes' walk at 4.5 km/h
FCA_CATCHMENT_MIN = 15.0
#: Huff model: stores within this walk of an origin are its choice set
HUFF_REACH_M = 2000.0
#: Huff "share nearby": stores within this distance of the QPV
HUFF_NEARBY_M = 300.0


def station_destinations(stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Heavy-rail stations (RER, Transilien, TER) as destinations of category ``gare``."""
    heavy = stations[stations["modes"].str.contains("|".join(HEAVY_RAIL_MODES), regex=True)]
    flags = dict.fromkeys(("is_commerce", "is_public_service", "is_food_retail"), False)
    return gpd.GeoDataFrame(
        {"category": "gare", "label_fr": "Gare", **flags},
        geometry=heavy.geometry.values,
        index=heavy.index,
        crs=settings.crs,
    )


def access_times(ctx: RunContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Walking time to the nearest equipment of each category, per origin and per QPV.

    Returns
    -------
    (per_qpv, per_origin)
        ``per_qpv`` indexed by ``code_qp`` with the summaries of
        :func:`qpvgeo.indicators.access.summarise_by_zone` and ``access_method``;
        ``per_origin`` indexed like the origins. QPV without a network get NaN
        values and ``access_method`` empty, unless ``ctx.crowfly_fallback``.
    """
    origins, categories = ctx.origins, ctx.categories + ["gare"]
    per_origin, on_network = [], []
    methods, disconnected = {}, {}
    for code in tqdm(list(ctx.qpv.index), desc="accessibilité", leave=False, disable=None):
        o = origins[origins["code_qp"] == code]
        net = ctx.networks.network_of(code)
        if net is not None:
            snap = snap_points(net, o)
            edges = snap["edge"].to_numpy()
            disconnected[code] = 100.0 * engine.connected_components_report(net, edges)
            t = accessibility.network_time_to_nearest(net, o, ctx.destinations, categories)
            on = snap["on_network"]
            methods[code] = (
                accessibility.METHOD_NETWORK
                if net.kind == "walk"
                else accessibility.METHOD_DRIVE_PROXY
            )
        elif ctx.crowfly_fallback:
            t = accessibility.crowfly_time_to_nearest(o, ctx.destinations, categories)
            on = pd.Series(True, index=o.index)
            methods[code] = f"{accessibility.METHOD_CROWFLY} {settings.detour_factor}"
        else:
            t = pd.DataFrame(np.nan, index=o.index, columns=[f"walk_min_{c}" for c in categories])
            on = pd.Series(False, index=o.index)
            methods[code] = ""
        per_origin.append(t)
        on_network.append(on)
    times = pd.concat(per_origin)
    summary = accessibility.summarise_by_zone(
        times, origins.loc[times.index], on_network=pd.concat(on_network).loc[times.index]
    )
    computed = pd.Series(methods).reindex(summary.index)
    summary.insert(0, "access_method", computed)
    summary["share_origins_disconnected_pct"] = pd.Series(disconnected, dtype=float)
    summary["n_origins_without_population"] = (
        origins.loc[times.index, "population"]
        .isna()
        .groupby(origins.loc[times.index, "code_qp"])
        .sum()
    )
    no_net = summary["access_method"] == ""
    summary.loc[no_net, "n_origins_off_network"] = summary.loc[no_net, "n_origins"]
    return summary, times


@dataclass
class NetworkAccess:
    """What :func:`network_access` returns."""

    per_qpv: pd.DataFrame
    per_origin: pd.DataFrame
    #: food retail stores with ``huff_expected_residents`` and ``huff_expected_qpv_residents``
    shops: gpd.GeoDataFrame
    #: 5 / 10 / 15 min polygons per QPV
    isochrones: gpd.GeoDataFrame


def network_access(ctx: RunContext) -> NetworkAccess:
    """The network-based access indicators beyond time-to-nearest, for QPV with a network.

    Demand is everyone living inside the network's extent, across commune
    borders: the residents of every QPV of the département and those outside
    every QPV (:meth:`RunContext.residents`). Per QPV (population-weighted over
    its origins): cumulative opportunities
    ``n_<cat>_within_<t>min``; INSEE proximity-range coverage
    ``gamme_proximite_within_10min_pct``; ``fca2_<cat>_per_1000`` and
    ``g2sfca_<cat>_per_1000`` (classic and Gaussian-kernel 2SFCA, Dai 2010: supply per
    1,000 residents in reach);
    ``huff_share_nearby_pct`` (expected share of the QPV residents' food
    shopping done within 300 m of the QPV); the same median times for the rest of the commune
    (``walk_min_median_<cat>_rest_commune``).
    """
    rows, per_origin, shop_frames, iso_frames = [], [], [], []
    for name, codes in ctx.network_groups().items():
        net = ctx.networks.networks[name]
        q = ctx.qpv.loc[codes]
        # everyone in the network's extent, the residents of these QPV first (rows 0..len(o)-1)
        demand_pts = ctx.residents(name, first=codes)
        o = pd.concat([ctx.origins[ctx.origins["code_qp"] == code] for code in codes])
        rows.extend(_rest_of_commune(ctx, net, q, ctx.area_origins(name)))
        rows.extend(_catchment_cut(ctx.iris, net, q))
        per = _opportunities_and_gamme(ctx, net, o)
        d_snap = snap_points(net, demand_pts)
        demand = demand_pts["population"]
        for column, values in _fca(ctx.destinations, net, d_snap, demand, len(o)).items():
            per[column] = values
        per["huff_share_nearby_pct"], shops = _huff(
            ctx.destinations, net, q, d_snap, demand_pts, o["code_qp"].to_numpy()
        )
        shop_frames.append(shops)
        per.index = o.index
        per_origin.append(per)
        for code in codes:
            iso = isochrones(net, snap_points(net, o[o["code_qp"] == code]))
            iso.insert(0, "code_qp", code)
            iso_frames.append(iso)
    if not per_origin:
        empty = empty_layer("code_qp")
        return NetworkAccess(pd.DataFrame(index=ctx.qpv.index), pd.DataFrame(), empty, empty)
    per_origin_df = pd.concat(per_origin)
    o_all = ctx.origins.loc[per_origin_df.index]
    per_qpv = weighted_mean(per_origin_df, o_all["population"], o_all["code_qp"])
    per_qpv = per_qpv.join(pd.DataFrame(rows).groupby(level=0).first())
    shops = gpd.GeoDataFrame(pd.concat(shop_frames), crs=settings.crs)
    shops = shops[~shops.index.duplicated()]
    return NetworkAccess(
        per_qpv.reindex(ctx.qpv.index),
        per_origin_df,
        shops,
        gpd.GeoDataFrame(pd.concat(iso_frames, ignore_index=True), crs=settings.crs),
    )


def weighted_mean(values: pd.DataFrame, weights: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Weighted mean of each column per group, over the rows where the value is known."""
    w = weights.fillna(0.0)
    ok = values.notna()
    num = values.fillna(0.0).mul(w, axis=0).groupby(groups).sum()
    den = ok.mul(w, axis=0).groupby(groups).sum()
    return num / den.where(den > 0)


def _rest_of_commune(
    ctx: RunContext, net: WalkNetwork, q: gpd.GeoDataFrame, area: gpd.GeoDataFrame
) -> list[pd.Series]:
    """Median times of the rest of each QPV's communes, one row (Series named ``code_qp``) per QPV."""
    rest_times = accessibility.network_time_to_nearest(net, area, ctx.destinations, ctx.categories)
    rest = accessibility.summarise_by_zone(
        rest_times, area, zone="zone", on_network=snap_points(net, area)["on_network"]
    )
    medians = rest[[c for c in rest.columns if c.startswith("walk_min_median_")]]
    rows = []
    for code in q.index:
        coms = [c for c in str(q.at[code, "insee_com"]).split(",") if c in medians.index]
        row = (
            medians.loc[coms].mean().add_suffix("_rest_commune") if coms else pd.Series(dtype=float)
        )
        row.name = code
        rows.append(row)
    return rows


def _catchment_cut(iris: gpd.GeoDataFrame, net: WalkNetwork, q: gpd.GeoDataFrame) -> list[pd.Series]:
    """Share of the residents within the 2SFCA catchment of each QPV who live beyond the network.

    ``fca_catchment_outside_network_pct``: residents (IRIS population spread
    over each IRIS's area) within :data:`FCA_CATCHMENT_MIN` of walk, as the
    crow flies, from the QPV, living outside the network's extent: their
    demand is missing from the 2SFCA and Huff figures. Residents beyond the
    département (no IRIS loaded) are not counted in either term.
    """
    radius = FCA_CATCHMENT_MIN * metres_per_minute()
    pop = iris["population"].to_numpy(dtype=float)
    known = np.isfinite(pop)
    geoms, area, pop = iris.geometry.values[known], iris.area.to_numpy()[known], pop[known]
    rows = []
    for code in q.index:
        ring = q.at[code, "geometry"].buffer(radius)
        inside = shapely.intersection(geoms, ring)
        total = (pop * shapely.area(inside) / area).sum()
        beyond = (pop * shapely.area(shapely.difference(inside, net.extent)) / area).sum()
        value = 100.0 * beyond / total if total > 0 else np.nan
        rows.append(pd.Series({"fca_catchment_outside_network_pct": value}, name=code))
    return rows


def _opportunities_and_gamme(
    ctx: RunContext, net: WalkNetwork, o: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Cumulative opportunities and *gamme de proximité* coverage of the QPV origins."""
    equipments, groups = ctx.destinations, ctx.groups
    opp = accessibility.opportunities_within(net, o, equipments, ctx.categories)
    present = set(equipments["category"])
    gamme_categories = {c for cats in groups["categories"] for c in cats if c in present}
    times = accessibility.network_time_to_nearest(
        net, o, equipments, sorted(gamme_categories | set(ctx.categories))
    )
    cov, _ = accessibility.gamme_coverage(times, groups)
    return opp.join(cov)


def _on_network(
    net: WalkNetwork, points: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge, offset and on-network mask of the points snapped to the network."""
    snap = snap_points(net, points)
    on = snap["on_network"].to_numpy()
    return snap["edge"].to_numpy()[on], snap["offset_m"].to_numpy()[on], on


def _fca(
    equipments: gpd.GeoDataFrame,
    net: WalkNetwork,
    d_snap: pd.DataFrame,
    demand: pd.Series,
    n_qpv: int,
) -> dict[str, np.ndarray]:
    """Classic 2SFCA and Gaussian-kernel 2SFCA (Dai, 2010) per 1,000 residents for the first ``n_qpv`` demand points."""
    catchment = FCA_CATCHMENT_MIN * metres_per_minute()
    out = {}
    for cat in FCA_CATEGORIES:
        sup = (
            equipments[equipments["is_food_retail"]]
            if cat == "alimentaire"
            else equipments[equipments["category"] == cat]
        )
        s_edge, s_offset, on = _on_network(net, sup)
        cost = engine.distances_within(
            net, d_snap["edge"].to_numpy(), d_snap["offset_m"].to_numpy(), s_edge, s_offset,
            cutoff_m=catchment,
        )  # fmt: skip
        supply = pd.Series(1.0, index=range(int(on.sum())))
        for label, decay in (("fca2", None), ("g2sfca", fca.gaussian_decay(catchment / 2))):
            ratio = fca.two_step_fca(cost, demand, supply, catchment_m=catchment, decay=decay)
            values = 1000.0 * ratio.to_numpy()[:n_qpv]
            values[~d_snap["on_network"].to_numpy()[:n_qpv]] = np.nan
            out[f"{label}_{cat}_per_1000"] = values
    return out


def _huff(
    equipments: gpd.GeoDataFrame,
    net: WalkNetwork,
    q: gpd.GeoDataFrame,
    d_snap: pd.DataFrame,
    residents: gpd.GeoDataFrame,
    qpv_of: np.ndarray,
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Huff share of food shopping near its own QPV per QPV origin (%), and the stores' expected customers.

    The first ``len(qpv_of)`` demand points are the origins of the QPV ``qpv_of``;
    "near" is within :data:`HUFF_NEARBY_M` of *that* QPV, so a QPV's share does
    not depend on which other QPV are in the run. Expected customers per store:
    from every resident (``huff_expected_residents``) and from the residents
    of every QPV (``huff_expected_qpv_residents``).
    """
    demand = residents["population"]
    food = equipments[equipments["category"].isin(huff.HUFF_ATTRACTIVENESS)]
    f_edge, f_offset, on = _on_network(net, food)
    food_on = food[on]
    cost = engine.distances_within(
        net, d_snap["edge"].to_numpy(), d_snap["offset_m"].to_numpy(), f_edge, f_offset,
        cutoff_m=HUFF_REACH_M,
    )  # fmt: skip
    attract = pd.Series(food_on["category"].map(huff.HUFF_ATTRACTIVENESS).to_numpy())
    probs = huff.huff_probabilities(cost, attract)
    n_qpv = len(qpv_of)
    qpv_probs = probs[probs["origin"] < n_qpv]
    near_own = np.zeros(len(qpv_probs), dtype=bool)
    x, y = food_on.geometry.x.to_numpy(), food_on.geometry.y.to_numpy()
    for code in q.index:
        nearby = shapely.contains_xy(q.at[code, "geometry"].buffer(HUFF_NEARBY_M), x, y)
        rows = qpv_of[qpv_probs["origin"].to_numpy()] == code
        near_own |= rows & nearby[qpv_probs["target"].to_numpy()]
    local = qpv_probs[near_own].groupby("origin")["p"].sum()
    share = np.full(n_qpv, np.nan)
    share[qpv_probs["origin"].unique()] = 0.0
    share[local.index.to_numpy()] = local.to_numpy()
    shops = food_on[["category", "label_fr", "geometry"]].copy()
    from_qpv = probs[residents["code_qp"].notna().to_numpy()[probs["origin"].to_numpy()]]
    for column, p in (("huff_expected_residents", probs), ("huff_expected_qpv_residents", from_qpv)):
        shops[column] = (
            huff.huff_expected_customers(p, demand)
            .reindex(range(len(food_on)), fill_value=0.0)
            .to_numpy()
        )
    return 100.0 * share, shops
