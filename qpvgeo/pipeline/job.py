"""The main job: official data for a département → one table of indicators per QPV.

:func:`build_networks` finds, for each QPV, the street network that covers it
(a walk network saved in the data directory, downloaded with osmnx on a
connected machine, or a network file of the mirror), and says how well it
covers it. :func:`run_indicators` assembles the per-QPV table.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from .. import settings
from .._errors import QpvgeoError
from ..data import barriers, loaders, nomenclature, sources
from ..data.population import grid_origins
from ..indicators import access as accessibility
from ..indicators import enclavement, huff, viability
from ..indicators.fca import FCA_CATEGORIES
from ..network.build import (
    WalkNetwork,
    coverage_share,
    load_network,
    metres_per_minute,
    snap_points,
    walk_graph_from_polygon,
)
from ..network.centrality import local_centrality

log = logging.getLogger(__name__)

COVERED = "couvert"
PARTIAL = "partiel"
NONE = "absent"

#: a QPV is "covered" when at least this share of its area lies inside the network's extent
COVERED_SHARE = 0.95
#: walk networks are fetched this far around each QPV (15 min at 4.5 km/h, plus a margin)
NETWORK_BUFFER_M = 1500.0


def walk_network_file(code_qp: str) -> str:
    """Where the walk network of a QPV is saved in the data directory."""
    return f"osm/walk/{code_qp}.graphml"


@dataclass
class QpvNetworks:
    """The network chosen for each QPV and how well it covers it."""

    networks: dict[str, WalkNetwork] = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def groups(self, codes) -> dict[str, list[str]]:
        """The QPV among ``codes`` that have a network, grouped by network name."""
        out: dict[str, list[str]] = {}
        for code in codes:
            name = self.table.at[code, "network_source"]
            if isinstance(name, str):
                out.setdefault(name, []).append(code)
        return out

    def network_of(self, code_qp: str) -> WalkNetwork | None:
        name = self.table.at[code_qp, "network_source"]
        return self.networks.get(name) if isinstance(name, str) else None


def build_networks(
    qpv: gpd.GeoDataFrame, *, data_dir: str | PathLike | None = None, offline: bool | None = None
) -> QpvNetworks:
    """Find a street network for each QPV.

    In order: a walk network saved for the QPV in the data directory
    (``osm/walk/<code_qp>.graphml``); on a connected machine, the OSM walk
    network downloaded with osmnx around the QPV (and saved there for next
    time, osmnx's cache kept in the data directory); else the network files of
    the data directory (see :data:`qpvgeo.sources.NETWORK_DATASETS`),
    choosing the one whose extent covers most of the QPV.

    Returns
    -------
    QpvNetworks
        ``table`` indexed by ``code_qp``: ``network_source`` (file name or
        NaN), ``network_kind`` (walk/drive), ``network_coverage_pct`` (share of
        the QPV area inside the network's extent) and ``network_status``
        (couvert / partiel / absent).
    """
    offline = settings.offline if offline is None else offline
    root = sources.data_dir(data_dir)
    result = QpvNetworks()
    shared: dict[str, WalkNetwork] = {}
    for key in sources.NETWORK_DATASETS:
        path = sources.find(key, data_dir)
        if path is not None:
            sources.fetch(key, data_dir)  # recorded in the provenance
            shared[path.name] = load_network(path)
    rows = {}
    for code, geom in tqdm(
        list(zip(qpv.index, qpv.geometry, strict=True)), desc="réseaux", leave=False, disable=None
    ):
        own = root / walk_network_file(code)
        if not own.is_file() and not offline:
            _download_walk_network(code, geom, own, root)
        candidates = dict(shared)
        if own.is_file():
            candidates = {own.name: load_network(own, kind="walk")}
        best, best_share = None, 0.0
        one = gpd.GeoSeries([geom], crs=settings.crs)
        for name, net in candidates.items():
            share = float(coverage_share(net, one).iloc[0])
            if share > best_share:
                best, best_share = name, share
        if best is not None:
            result.networks[best] = candidates[best]
        status = NONE if best is None else COVERED if best_share >= COVERED_SHARE else PARTIAL
        rows[code] = {
            "network_source": best,
            "network_kind": candidates[best].kind if best else None,
            "network_coverage_pct": round(100 * best_share, 1),
            "network_status": status,
        }
    result.table = pd.DataFrame.from_dict(rows, orient="index")
    result.table.index.name = "code_qp"
    return result


def _download_walk_network(code: str, geom, target: Path, root: Path) -> None:
    import osmnx as ox

    ox.settings.cache_folder = str(sources.osmnx_cache_dir(root))
    ox.settings.use_cache = True
    try:
        G = walk_graph_from_polygon(geom.buffer(NETWORK_BUFFER_M))
    except Exception as exc:  # no network, Overpass errors: fall back to local files
        warnings.warn(
            f"QPV {code}: OSM walk network download failed ({exc}); using local files", stacklevel=3
        )
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.graphml")
    ox.save_graphml(G, tmp)
    tmp.replace(target)


#: catchment of the floating catchment methods: 15 minutes' walk at 4.5 km/h
FCA_CATCHMENT_MIN = 15.0
#: Huff model: stores within this walk of an origin are its choice set
HUFF_REACH_M = 2000.0
#: area origins (demand around the QPV, rest of the commune) are laid on this grid
AREA_SPACING_M = 100.0


def _concat(frames: list, empty: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frames stacked into one GeoDataFrame (EPSG:2154), or ``empty`` when there are none."""
    if not frames:
        return empty
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.crs)


def station_destinations(stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Heavy-rail stations (RER, Transilien, TER) as destinations of category ``gare``."""
    heavy = stations[stations["modes"].str.contains("RER|TRAIN|TER", regex=True)]
    flags = dict.fromkeys(("is_commerce", "is_public_service", "is_food_retail"), False)
    return gpd.GeoDataFrame(
        {"category": "gare", "label_fr": "Gare", **flags},
        geometry=heavy.geometry.values,
        index=heavy.index,
        crs=settings.crs,
    )


def area_origins(
    qpv: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, iris: gpd.GeoDataFrame, net: WalkNetwork
) -> gpd.GeoDataFrame:
    """Residents of the communes of these QPV, outside every QPV, inside the network's extent.

    They are the demand around the QPV (2SFCA, Huff) and the "rest of the
    commune" the QPV is compared with. ``zone`` holds the commune code.
    """
    codes = sorted(
        {c for cs in qpv["insee_com"] for c in str(cs).split(",") if c in communes.index}
    )
    area = shapely.intersection(shapely.union_all(communes.loc[codes].geometry.values), net.extent)
    area = area.difference(shapely.union_all(qpv.geometry.values))
    zones = gpd.GeoDataFrame({"zone": ["area"]}, geometry=[area], crs=settings.crs).set_index(
        "zone"
    )
    grid = grid_origins(zones, iris, spacing_m=AREA_SPACING_M, zone_name="zone")
    joined = gpd.sjoin(grid, communes[["geometry"]].reset_index(), how="left", predicate="within")
    grid["zone"] = joined[~joined.index.duplicated()]["insee_com"].values
    return grid


def access_indicators(
    qpv: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    networks: QpvNetworks,
    categories: list[str],
    *,
    crowfly_fallback: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Walking time to the nearest equipment of each category, per origin and per QPV.

    Returns
    -------
    (per_qpv, per_origin)
        ``per_qpv`` indexed by ``code_qp`` with the summaries of
        :func:`qpvgeo.accessibility.summarise_by_zone` and ``access_method``;
        ``per_origin`` indexed like ``origins``. QPV without a network get NaN
        values and ``access_method`` empty, unless ``crowfly_fallback``.
    """
    from ..network.engine import connected_components_report

    per_origin = []
    methods, disconnected = {}, {}
    for code in tqdm(list(qpv.index), desc="accessibilité", leave=False, disable=None):
        o = origins[origins["code_qp"] == code]
        net = networks.network_of(code)
        if net is not None:
            edges = snap_points(net, o)["edge"].to_numpy()
            disconnected[code] = 100.0 * connected_components_report(net, edges)
            t = accessibility.network_time_to_nearest(net, o, equipments, categories)
            methods[code] = (
                accessibility.METHOD_NETWORK
                if net.kind == "walk"
                else accessibility.METHOD_DRIVE_PROXY
            )
        elif crowfly_fallback:
            t = accessibility.crowfly_time_to_nearest(o, equipments, categories)
            methods[code] = f"{accessibility.METHOD_CROWFLY} {settings.detour_factor}"
        else:
            t = pd.DataFrame(np.nan, index=o.index, columns=[f"walk_min_{c}" for c in categories])
            methods[code] = ""
        per_origin.append(t)
    times = pd.concat(per_origin)
    summary = accessibility.summarise_by_zone(times, origins.loc[times.index])
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


def _weighted_mean(values: pd.DataFrame, weights: pd.Series, groups: pd.Series) -> pd.DataFrame:
    w = weights.fillna(0.0)
    ok = values.notna()
    num = values.fillna(0.0).mul(w, axis=0).groupby(groups).sum()
    den = ok.mul(w, axis=0).groupby(groups).sum()
    return num / den.where(den > 0)


def network_access(
    qpv: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    iris: gpd.GeoDataFrame,
    networks: QpvNetworks,
    categories: list[str],
    groups: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The network-based access indicators beyond time-to-nearest, for QPV with a network.

    Per QPV (population-weighted over its origins): cumulative opportunities
    ``n_<cat>_within_<t>min``; INSEE proximity-range coverage
    ``gamme_proximite_within_10min_pct``; ``fca2_<cat>_per_1000`` and
    ``e2sfca_<cat>_per_1000`` (supply per 1,000 residents in reach, demand
    from the QPV *and* the rest of its communes); ``huff_share_nearby_pct``
    (expected share of the QPV residents' food shopping done within 300 m of
    the QPV); the same median times for the rest of the commune
    (``walk_min_median_<cat>_rest_commune``).

    Returns
    -------
    (per_qpv, per_origin, shops, isochrones)
        ``shops``: food retail stores with ``huff_expected_residents`` and
        ``huff_expected_qpv_residents``; ``isochrones``: 5/10/15 min polygons per QPV.
    """
    from ..network import engine
    from ..indicators import fca
    from ..network.isochrones import isochrones

    rows, per_origin, shop_frames, iso_frames = [], [], [], []
    speed = metres_per_minute()
    catchment = FCA_CATCHMENT_MIN * speed
    for name, codes in networks.groups(qpv.index).items():
        net = networks.networks[name]
        q = qpv.loc[codes]
        o = origins[origins["code_qp"].isin(codes)]
        area = area_origins(q, communes, iris, net)
        # rest of the commune: times and the same summaries
        rest_times = accessibility.network_time_to_nearest(net, area, equipments, categories)
        rest = accessibility.summarise_by_zone(rest_times, area, zone="zone")
        medians = rest[[c for c in rest.columns if c.startswith("walk_min_median_")]]
        for code in codes:
            coms = [c for c in str(q.at[code, "insee_com"]).split(",") if c in medians.index]
            row = (
                medians.loc[coms].mean().add_suffix("_rest_commune")
                if coms
                else pd.Series(dtype=float)
            )
            row.name = code
            rows.append(row)
        # cumulative opportunities and gamme coverage for the QPV origins
        opp = accessibility.opportunities_within(net, o, equipments, categories)
        times = accessibility.network_time_to_nearest(
            net,
            o,
            equipments,
            sorted(
                {
                    c
                    for cats in groups["categories"]
                    for c in cats
                    if c in set(equipments["category"])
                }
                | set(categories)
            ),
        )
        cov, _ = accessibility.gamme_coverage(times, groups)
        per = opp.join(cov)
        # competition-aware access: demand = QPV origins + area origins
        demand_pts = pd.concat(
            [o[["population", "geometry"]], area[["population", "geometry"]]], ignore_index=True
        )
        demand_pts = gpd.GeoDataFrame(demand_pts, crs=settings.crs)
        d_snap = snap_points(net, demand_pts)
        demand = demand_pts["population"].fillna(0.0)
        for cat in FCA_CATEGORIES:
            sup = (
                equipments[equipments["is_food_retail"]]
                if cat == "alimentaire"
                else equipments[equipments["category"] == cat]
            )
            s_snap = snap_points(net, sup)
            on = s_snap["on_network"].to_numpy()
            cost = engine.distances_within(
                net, d_snap["edge"].to_numpy(), d_snap["offset_m"].to_numpy(),
                s_snap["edge"].to_numpy()[on], s_snap["offset_m"].to_numpy()[on], cutoff_m=catchment,
            )  # fmt: skip
            supply = pd.Series(1.0, index=range(int(on.sum())))
            for label, decay in (("fca2", None), ("e2sfca", fca.gaussian_decay(catchment / 2))):
                ratio = fca.two_step_fca(cost, demand, supply, catchment_m=catchment, decay=decay)
                values = 1000.0 * ratio.to_numpy()[: len(o)]
                values[~d_snap["on_network"].to_numpy()[: len(o)]] = np.nan
                per[f"{label}_{cat}_per_1000"] = values
        # Huff: food stores in reach of every resident around
        food = equipments[equipments["category"].isin(huff.HUFF_ATTRACTIVENESS)]
        f_snap = snap_points(net, food)
        on = f_snap["on_network"].to_numpy()
        food_on = food[on]
        cost = engine.distances_within(
            net, d_snap["edge"].to_numpy(), d_snap["offset_m"].to_numpy(),
            f_snap["edge"].to_numpy()[on], f_snap["offset_m"].to_numpy()[on], cutoff_m=HUFF_REACH_M,
        )  # fmt: skip
        attract = pd.Series(food_on["category"].map(huff.HUFF_ATTRACTIVENESS).to_numpy())
        probs = huff.huff_probabilities(cost, attract)
        nearby = shapely.union_all(q.geometry.buffer(300).values)
        store_nearby = shapely.contains_xy(
            nearby, food_on.geometry.x.to_numpy(), food_on.geometry.y.to_numpy()
        )
        qpv_probs = probs[probs["origin"] < len(o)]
        local = qpv_probs[store_nearby[qpv_probs["target"].to_numpy()]].groupby("origin")["p"].sum()
        share = np.full(len(o), np.nan)
        reached = qpv_probs["origin"].unique()
        share[reached] = 0.0
        share[local.index.to_numpy()] = local.to_numpy()
        per["huff_share_nearby_pct"] = 100.0 * share
        shops = food_on[["category", "label_fr", "geometry"]].copy()
        shops["huff_expected_residents"] = (
            huff.huff_expected_customers(probs, demand)
            .reindex(range(len(food_on)), fill_value=0.0)
            .to_numpy()
        )
        shops["huff_expected_qpv_residents"] = (
            huff.huff_expected_customers(qpv_probs, demand)
            .reindex(range(len(food_on)), fill_value=0.0)
            .to_numpy()
        )
        shop_frames.append(shops)
        per.index = o.index
        per_origin.append(per)
        for code in codes:
            iso = isochrones(net, snap_points(net, o[o["code_qp"] == code]))
            iso.insert(0, "code_qp", code)
            iso_frames.append(iso)
    if not per_origin:
        empty = gpd.GeoDataFrame({"code_qp": []}, geometry=[], crs=settings.crs)
        return pd.DataFrame(index=qpv.index), pd.DataFrame(), empty, empty
    per_origin_df = pd.concat(per_origin)
    o_all = origins.loc[per_origin_df.index]
    per_qpv = _weighted_mean(per_origin_df, o_all["population"], o_all["code_qp"])
    per_qpv = per_qpv.join(pd.DataFrame(rows))
    shops = gpd.GeoDataFrame(pd.concat(shop_frames), crs=settings.crs)
    shops = shops[~shops.index.duplicated()]
    return (
        per_qpv.reindex(qpv.index),
        per_origin_df,
        shops,
        gpd.GeoDataFrame(pd.concat(iso_frames, ignore_index=True), crs=settings.crs),
    )


#: radii of the localised street centrality (m)
CENTRALITY_RADII_M = (400, 800, 1200)


def network_flows(
    qpv: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    iris: gpd.GeoDataFrame,
    networks: QpvNetworks,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """Pedestrian flows around the QPV that have a network (see :mod:`qpvgeo.flows`).

    Trips go from the residents of the QPV and of the rest of their communes
    to the shops and public services. Returns per-QPV figures
    (``n_candidate_segments``, ``flow_p90_trips_qpv``, and
    ``betweenness_800m_ratio_qpv``: mean localised betweenness (800 m) of the
    QPV's street nodes over that of the nodes within 1.5 km, see
    :mod:`qpvgeo.centrality`), the street segments within 1.5 km of a QPV with
    their flow and localised betweenness and closeness at 400 / 800 / 1,200 m
    (``streets``), the candidate
    segments (``candidates``, with ``code_qp``) and each shop's footfall
    potential.
    """
    from ..indicators import flows

    rows, street_frames, cand_frames, footfall = {}, [], [], []
    dest = equipments[equipments["is_commerce"] | equipments["is_public_service"]]
    shops = equipments[equipments["is_commerce"]]
    for name, codes in networks.groups(qpv.index).items():
        net = networks.networks[name]
        q = qpv.loc[codes]
        area = area_origins(q, communes, iris, net)
        residents = gpd.GeoDataFrame(
            pd.concat(
                [
                    origins[origins["code_qp"].isin(codes)][["population", "geometry"]],
                    area[["population", "geometry"]],
                ],
                ignore_index=True,
            ),
            crs=settings.crs,
        )
        edge_flow, trips_to = flows.street_flows(net, residents, dest)
        near = shapely.union_all(q.geometry.buffer(NETWORK_BUFFER_M).values)
        streets = net.edges_gdf()
        streets["flow_trips"] = edge_flow.to_numpy()
        streets["network_source"] = name
        central = local_centrality(net, CENTRALITY_RADII_M, measures=("betweenness", "closeness"))
        for r in CENTRALITY_RADII_M:  # a street takes the mean of its two end nodes
            for col in (f"betweenness_{r}m", f"closeness_{r}m"):
                values = central[col].to_numpy()
                streets[col] = 0.5 * (values[net.edge_u] + values[net.edge_v])
        nodes_near = shapely.contains_xy(near, net.node_x, net.node_y)
        mean_near = central["betweenness_800m"].to_numpy()[nodes_near].mean()
        street_frames.append(streets[streets.intersects(near)])
        local_shops = shops[shops.geometry.within(near)]
        footfall.append(
            flows.footfall_potential(
                net, local_shops, edge_flow, trips_to.reindex(local_shops.index)
            )
        )
        for code in codes:
            around = q.at[code, "geometry"].buffer(300)
            cand = flows.candidate_segments(net, edge_flow, local_shops, area=around)
            cand["code_qp"] = code
            cand_frames.append(cand)
            inside = streets[streets.intersects(q.at[code, "geometry"])]["flow_trips"]
            in_qpv = shapely.contains_xy(q.at[code, "geometry"], net.node_x, net.node_y)
            bet = central["betweenness_800m"].to_numpy()[in_qpv]
            rows[code] = {
                "n_candidate_segments": len(cand),
                "flow_p90_trips_qpv": float(inside.quantile(0.9)) if len(inside) else np.nan,
                # > 1: the QPV's streets carry more through-movement than those around it
                "betweenness_800m_ratio_qpv": float(bet.mean() / mean_near)
                if len(bet) and mean_near > 0
                else np.nan,
            }
    per_qpv = pd.DataFrame.from_dict(rows, orient="index").reindex(qpv.index)
    empty = gpd.GeoDataFrame({"flow_trips": []}, geometry=[], crs=settings.crs)
    streets = _concat(street_frames, empty)
    cands = _concat(cand_frames, empty)
    foot = (
        pd.concat(footfall) if footfall else pd.Series(dtype=float, name="footfall_potential_trips")
    )
    return per_qpv, streets, cands, foot


#: places within this distance of a QPV enter its co-location reading
COUPLING_BUFFER_M = 800.0


def network_coupling(
    qpv: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    networks: QpvNetworks,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Coupling of shops with public services around each QPV with a network.

    Per QPV: ``clq_commerce_services`` (global co-location quotient of shops
    towards public services among the places within 800 m of the QPV, network
    neighbourhoods, Gaussian 200 m), ``clq_p_colocation`` (permutation
    p-value, 999 seeded permutations) and ``share_shops_service_5min_pct``
    (shops within 300 m of the QPV whose nearest public service is ≤ 5 min
    away). Also the shop → nearest service pairs and the polarités, with
    the QPV residents within 400 m and their shops' footfall potential.
    """
    from ..indicators import coupling

    rows, pair_frames, pol_frames = {}, [], []
    places_all = coupling._places(
        equipments[equipments["is_commerce"] | equipments["is_public_service"]]
    )
    for name, codes in networks.groups(qpv.index).items():
        net = networks.networks[name]
        for code in codes:
            geom = qpv.at[code, "geometry"]
            places = places_all[places_all.geometry.within(geom.buffer(COUPLING_BUFFER_M))]
            labels = np.where(
                places["is_commerce"], "A", np.where(places["is_public_service"], "B", "C")
            )
            d = coupling.network_distances(net, places, cutoff_m=600.0)
            glob, local, _ = coupling.colocation_quotients(labels, d)
            shops = places[
                places["is_commerce"] & places.geometry.within(geom.buffer(300)).to_numpy()
            ]
            services = places[places["is_public_service"]]
            pairs = coupling.nearest_service_pairs(net, shops, services)
            pairs["code_qp"] = code
            pair_frames.append(pairs)
            within5 = (pairs["walk_min"] <= 5).sum()
            _, pols = coupling.polarites(places, d)
            if len(pols):
                pols["code_qp"] = code
                near = origins.geometry.values
                pols["qpv_residents_within_400m"] = [
                    float(origins["population"].to_numpy()[shapely.dwithin(near, g, 400)].sum())
                    for g in pols.geometry
                ]
                if "footfall_potential_trips" in equipments.columns:
                    pols["footfall_potential_trips"] = [
                        float(
                            equipments.loc[
                                equipments.geometry.within(g), "footfall_potential_trips"
                            ].sum()
                        )
                        for g in pols.geometry
                    ]
                pol_frames.append(pols)
            rows[code] = {
                "clq_commerce_services": glob["clq"],
                "clq_p_colocation": glob["p_colocation"],
                "n_polarites": len(pols),
                "share_shops_service_5min_pct": 100.0 * within5 / len(shops)
                if len(shops)
                else np.nan,
            }
    per_qpv = pd.DataFrame.from_dict(rows, orient="index").reindex(qpv.index)
    empty = gpd.GeoDataFrame({"code_qp": []}, geometry=[], crs=settings.crs)
    pairs_gdf = _concat(pair_frames, empty)
    pols_gdf = _concat(pol_frames, empty)
    return per_qpv, pairs_gdf, pols_gdf


def income_by_qpv(origins: gpd.GeoDataFrame, iris: gpd.GeoDataFrame) -> pd.DataFrame:
    """Population-weighted median income and poverty rate of the IRIS the QPV origins fall in."""
    rows = {}
    inc = origins["code_iris"].map(iris["median_income_eur"]).to_numpy(dtype=float)
    pov = origins["code_iris"].map(iris["poverty_rate_pct"]).to_numpy(dtype=float)
    w = origins["population"].to_numpy(dtype=float)
    for code, idx in origins.groupby("code_qp").indices.items():
        rows[code] = {
            "median_income_eur": accessibility.weighted_median(inc[idx], w[idx]),
            "poverty_rate_pct": accessibility.weighted_median(pov[idx], w[idx]),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def network_enclavement(
    qpv: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    equipments: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    networks: QpvNetworks,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Crossings, street structure and detour indices for the QPV a network fully covers.

    QPV whose network is partial or absent get NaN: a partial network would
    undercount crossings and streets. Also returns the crossing points and
    the detour paths to the nearest station, for maps.
    """
    rows, crossings, detours = [], [], []
    covered = networks.table.index[networks.table["network_status"] == COVERED]
    supermarkets = equipments[equipments["category"].isin(["supermarche", "hypermarche"])]
    for code in covered:
        net = networks.network_of(code)
        one = qpv.loc[[code]]
        o = origins[origins["code_qp"] == code]
        part = enclavement.boundary_crossings(one, net).join(enclavement.street_structure(one, net))
        part["detour_gare"] = enclavement.detour_index(net, o, stations, name="detour_gare")
        part["detour_supermarche"] = enclavement.detour_index(
            net, o, supermarkets, name="detour_supermarche"
        )
        rows.append(part)
        crossings.append(enclavement.crossing_points(one, net))
        detours.append(enclavement.detour_paths(one, net, stations, label="gare"))
    columns = [
        "n_crossings",
        "crossings_per_km",
        "longest_without_crossing_m",
        "intersection_density_per_km2",
        "dead_end_share_pct",
        "mean_block_size_ha",
        "detour_gare",
        "detour_supermarche",
    ]
    out = pd.concat(rows) if rows else pd.DataFrame(columns=columns)
    empty = gpd.GeoDataFrame({"code_qp": []}, geometry=[], crs=settings.crs)
    crossings_gdf = _concat(crossings, empty)
    detours_gdf = _concat(detours, empty)
    return out.reindex(qpv.index)[columns], crossings_gdf, detours_gdf


def present_categories(
    equipments: gpd.GeoDataFrame, wanted: list[str]
) -> tuple[list[str], list[str]]:
    """Split the wanted categories into those present in the equipments and those absent."""
    have = set(equipments["category"])
    return [c for c in wanted if c in have], [c for c in wanted if c not in have]


@dataclass
class RunResult:
    """Everything one run produced, for export and maps."""

    qpv: gpd.GeoDataFrame
    indicators: pd.DataFrame
    equipments: gpd.GeoDataFrame
    origins: gpd.GeoDataFrame
    networks: QpvNetworks
    barriers: barriers.Barriers
    stations: gpd.GeoDataFrame
    food_stores: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    crossings: gpd.GeoDataFrame
    detours: gpd.GeoDataFrame
    service_pairs: gpd.GeoDataFrame
    polarites: gpd.GeoDataFrame
    categories: list[str]
    categories_absent: list[str]
    parameters: dict
    messages: list[str]


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
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        qpv = loaders.load_qpv(dep, codes, data_dir=data_dir, offline=offline)
        iris = loaders.load_iris(dep, data_dir=data_dir, offline=offline)
        equipments = loaders.load_equipments(dep, data_dir=data_dir, offline=offline)
        wanted = categories or nomenclature.proximity_categories()
        nomenclature.check_categories(wanted)
        present, absent = present_categories(equipments, wanted)
        if not present:
            raise QpvgeoError(f"none of the categories {wanted!r} is in the equipment data")
        stations = loaders.load_stations(dep, data_dir=data_dir, offline=offline)
        communes = loaders.load_communes(dep, data_dir=data_dir, offline=offline)
        groups = nomenclature.gamme_proximite(
            loaders.load_gammes(data_dir=data_dir, offline=offline)
        )
        # destinations: equipments, with IDFM heavy-rail stations standing for "gare"
        destinations = gpd.GeoDataFrame(
            pd.concat(
                [equipments[equipments["category"] != "gare"], station_destinations(stations)]
            ),
            crs=settings.crs,
        )
        networks = build_networks(qpv, data_dir=data_dir, offline=offline)
        origins = grid_origins(qpv, iris)
        summary, times = access_indicators(
            qpv,
            origins,
            destinations,
            networks,
            present + ["gare"],
            crowfly_fallback=crowfly_fallback,
        )
        more, per_origin, shops, isos = network_access(
            qpv, origins, destinations, communes, iris, networks, present, groups
        )
        flow_qpv, streets, candidates, footfall = network_flows(
            qpv, origins, destinations, communes, iris, networks
        )
        barrier_lines = barriers.load_barriers(dep, data_dir=data_dir, offline=offline)
        net_enclave, crossings, detours = network_enclavement(
            qpv, origins, equipments, stations, networks
        )
        enclave = enclavement.barrier_indicators(qpv, barrier_lines).join(net_enclave)
        enclave = enclave.join(enclavement.enclavement_index(enclave))
        equipments = equipments.join(footfall)
        couple, pairs, polarites = network_coupling(qpv, origins, equipments, networks)
    messages.extend(str(w.message) for w in caught)
    messages.extend(barrier_lines.notes)
    no_net = networks.table.index[networks.table["network_status"] == NONE]
    if len(no_net):
        messages.append(
            f"{len(no_net)} QPV have no street network in the data directory: "
            f"{', '.join(no_net)}; their access values are "
            + ("crow-fly estimates (labelled)" if crowfly_fallback else "left empty")
        )
    for code, row in summary.iterrows():
        if row["n_origins_without_population"] > 0:
            messages.append(
                f"QPV {code}: {int(row['n_origins_without_population'])} of {int(row['n_origins'])} "
                "origins fall in no IRIS with a population figure; they weigh nothing"
            )
        if row["share_origins_disconnected_pct"] > 0:
            messages.append(
                f"QPV {code}: {row['share_origins_disconnected_pct']:.1f} % of its origins sit on street "
                "pieces cut off from the main network; their times to the rest are NaN"
            )
    for name in networks.groups(qpv.index):
        net = networks.networks[name]
        inside = destinations[destinations.geometry.within(net.extent)]
        off = ~snap_points(net, inside)["on_network"]
        if off.any():
            examples = ", ".join(inside.loc[off, "label_fr"].astype(str).value_counts().index[:3])
            messages.append(
                f"network {name}: {int(off.sum())} of {len(inside)} equipments inside its extent lie "
                f"more than {settings.max_snap_m:.0f} m from any street (e.g. {examples}); they are "
                "not destinations"
            )
    partial = networks.table.index[networks.table["network_status"] == PARTIAL]
    for code in partial:
        messages.append(
            f"QPV {code}: the street network covers only "
            f"{networks.table.at[code, 'network_coverage_pct']} % of its area; origins beyond it are "
            "counted in n_origins_off_network"
        )
    if absent:
        messages.append(
            f"categories absent from the equipment data (not counted as missing): {', '.join(absent)}"
        )
    _, gamme_absent = accessibility.gamme_coverage(
        pd.DataFrame(columns=[f"walk_min_{c}" for c in set(equipments["category"])]), groups
    )
    if gamme_absent:
        messages.append(
            "INSEE proximity groups absent from the equipment data, left out of the "
            f"gamme_proximite coverage (not counted as missing): {'; '.join(gamme_absent)}"
        )
    table = (
        qpv[["lib_qp", "insee_com", "lib_com", "area_ha"]]
        .join(networks.table).join(income_by_qpv(origins, iris)).join(summary).join(more)
        .join(flow_qpv).join(enclave).join(couple)
    )  # fmt: skip
    reading = viability.viability(table)
    table = (
        table.join(reading)
        .join(viability.sensitivity(table))
        .join(viability.summary_text(table, reading))
    )
    table.insert(0, "code_qp", table.index)
    origins = origins.join(times).join(per_origin)
    params = {
        "dep": dep,
        "qpv": codes or "all",
        "walk_speed_kmh": settings.walk_speed_kmh,
        "max_snap_m": settings.max_snap_m,
        "origin_spacing_m": settings.origin_spacing_m,
        "equipment_buffer_m": settings.equipment_buffer_m,
        "crowfly_fallback": crowfly_fallback,
        "detour_factor": settings.detour_factor if crowfly_fallback else None,
        "offline": offline,
        "categories": present,
        "categories_absent": absent,
    }
    return RunResult(
        qpv, table, equipments, origins, networks, barrier_lines, stations, shops, isos,
        streets, candidates, crossings, detours, pairs, polarites,
        present, absent, params, messages,
    )  # fmt: skip
