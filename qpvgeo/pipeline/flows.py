"""Stage 4: pedestrian flows and localised street centrality around the QPV with a network."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
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

    Trips go from the residents of the QPV and of the rest of their communes
    to the shops and public services. Returns per-QPV figures
    (``n_candidate_segments``, ``flow_p90_trips_qpv``, and
    ``betweenness_800m_ratio_qpv``: mean localised betweenness (800 m) of the
    QPV's street nodes over that of the nodes within 1.5 km, see
    :mod:`qpvgeo.network.centrality`), the street segments within 1.5 km of a QPV with
    their flow and localised betweenness and closeness at 400 / 800 / 1,200 m
    (``streets``), the candidate
    segments (``candidates``, with ``code_qp``) and each shop's footfall
    potential.
    """
    qpv, origins, equipments, networks = ctx.qpv, ctx.origins, ctx.destinations, ctx.networks
    rows, street_frames, cand_frames, footfall = {}, [], [], []
    dest = equipments[equipments["is_commerce"] | equipments["is_public_service"]]
    shops = equipments[equipments["is_commerce"]]
    for name, codes in networks.groups(qpv.index).items():
        net = networks.networks[name]
        q = qpv.loc[codes]
        area = ctx.area_origins(name)
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
    streets = concat_layers(street_frames, "flow_trips")
    cands = concat_layers(cand_frames, "flow_trips")
    foot = (
        pd.concat(footfall) if footfall else pd.Series(dtype=float, name="footfall_potential_trips")
    )
    return per_qpv, streets, cands, foot
