"""Stage 4: pedestrian flows and localised street centrality around the QPV with a network."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..indicators import flows
from ..network.centrality import local_centrality
from .context import RunContext, concat_layers
from .networks import NETWORK_BUFFER_M

#: radii of the localised street centrality (m)
CENTRALITY_RADII_M = (400, 800, 1200)


def network_flows(
    ctx: RunContext,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """Pedestrian flows around the QPV that have a network (see :mod:`qpvgeo.indicators.flows`).

    Trips go from everyone living inside the network's extent (the residents
    of every QPV and those outside the QPV, :meth:`RunContext.residents`) to
    the shops and public services, so a QPV's values do not depend on which
    other QPV are in the run. Returns per-QPV figures
    (``n_candidate_segments``, ``flow_p90_trips_qpv``, and
    ``betweenness_800m_ratio_qpv``: mean localised betweenness (800 m) of the
    QPV's street nodes over that of the nodes within 1.5 km of *this* QPV, see
    :mod:`qpvgeo.network.centrality`), the street segments within 1.5 km of a QPV with
    their flow and localised betweenness and closeness at 400 / 800 / 1,200 m
    (``streets``), the candidate
    segments (``candidates``, with ``code_qp``) and each shop's footfall
    potential.
    """
    qpv, equipments, networks = ctx.qpv, ctx.destinations, ctx.networks
    rows, street_frames, cand_frames, footfall = {}, [], [], []
    dest = equipments[equipments["is_commerce"] | equipments["is_public_service"]]
    shops = equipments[equipments["is_commerce"]]
    for name, codes in networks.groups(qpv.index).items():
        net = networks.networks[name]
        q = qpv.loc[codes]
        residents = ctx.residents(name, first=codes)
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
        street_frames.append(streets[streets.intersects(near)])
        local_shops = shops[shops.geometry.within(near)]
        footfall.append(
            flows.footfall_potential(
                net, local_shops, edge_flow, trips_to.reindex(local_shops.index)
            )
        )
        betweenness = central["betweenness_800m"].to_numpy()
        for code in codes:
            geom = q.at[code, "geometry"]
            cand = flows.candidate_segments(net, edge_flow, local_shops, area=geom.buffer(300))
            cand["code_qp"] = code
            cand_frames.append(cand)
            inside = streets[streets.intersects(geom)]["flow_trips"]
            rows[code] = {
                "n_candidate_segments": len(cand),
                "flow_p90_trips_qpv": float(inside.quantile(0.9)) if len(inside) else np.nan,
                "betweenness_800m_ratio_qpv": _betweenness_ratio(net, betweenness, geom),
            }
    per_qpv = pd.DataFrame.from_dict(rows, orient="index").reindex(qpv.index)
    streets = concat_layers(street_frames, "flow_trips")
    cands = concat_layers(cand_frames, "flow_trips")
    foot = (
        pd.concat(footfall) if footfall else pd.Series(dtype=float, name="footfall_potential_trips")
    )
    # a shop near QPV with overlapping networks (one walk network per QPV) is read on each: it
    # keeps the largest potential, that of the network seeing most of the trips past it
    foot = foot.groupby(level=0, sort=False).max().rename(foot.name)
    return per_qpv, streets, cands, foot


def _betweenness_ratio(net, betweenness: np.ndarray, geom) -> float:
    """Mean betweenness of the QPV's street nodes ÷ that of the nodes within 1.5 km of the QPV.

    > 1: the QPV's streets carry more through-movement than those around it.
    The reference ring is the QPV's own, so the ratio does not depend on the run.
    """
    in_qpv = shapely.contains_xy(geom, net.node_x, net.node_y)
    ring = shapely.contains_xy(geom.buffer(NETWORK_BUFFER_M), net.node_x, net.node_y)
    mean_ring = betweenness[ring].mean() if ring.any() else np.nan
    if not in_qpv.any() or not mean_ring > 0:
        return np.nan
    return float(betweenness[in_qpv].mean() / mean_ring)
