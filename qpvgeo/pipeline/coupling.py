"""Stage 6: coupling of shops with public services around each QPV with a network."""

from __future__ import annotations

import zlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..indicators import coupling
from .context import RunContext, concat_layers

#: places within this distance of a QPV enter its co-location reading
COUPLING_BUFFER_M = 800.0


def network_coupling(ctx: RunContext) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Coupling of shops with public services around each QPV with a network.

    Per QPV: ``clq_commerce_services`` (global co-location quotient of shops
    towards public services among the places within 800 m of the QPV, network
    neighbourhoods, Gaussian 200 m), ``clq_p_colocation`` (permutation
    p-value, 999 permutations seeded by the QPV code, :func:`qpv_seed`) and ``share_shops_service_5min_pct``
    (shops within 300 m of the QPV whose nearest public service is ≤ 5 min
    away). Also the shop → nearest service pairs and the polarités, with
    the QPV residents within 400 m and their shops' footfall potential.
    """
    qpv, equipments, networks = ctx.qpv, ctx.equipments, ctx.networks
    rows, pair_frames, pol_frames = {}, [], []
    places_all = coupling.unique_sites(
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
            glob, local, _ = coupling.colocation_quotients(labels, d, seed=qpv_seed(code))
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
                # residents of every QPV of the département, so the figure does not depend on the run
                near = ctx.origins_all.geometry.values
                pop = ctx.origins_all["population"].to_numpy(dtype=float)
                pols["qpv_residents_within_400m"] = [
                    float(np.nansum(pop[shapely.dwithin(near, g, 400)])) for g in pols.geometry
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
    pairs_gdf = concat_layers(pair_frames)
    pols_gdf = concat_layers(pol_frames)
    return per_qpv, pairs_gdf, pols_gdf


def qpv_seed(code_qp: str) -> int:
    """A seed derived from the QPV code (CRC-32), so a QPV's permutations do not depend on the run."""
    return zlib.crc32(code_qp.encode("ascii"))
