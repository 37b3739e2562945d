"""Stage 5: enclavement: barriers along every QPV, crossings, street structure and detours where a network covers it."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from ..indicators import enclavement
from .access import station_destinations
from .context import RunContext, concat_layers
from .networks import COVERED

#: the detour indices: per target, the median, the 90th percentile and the share disconnected
DETOUR_COLUMNS = [
    f"detour_{target}{suffix}"
    for target in ("gare", "supermarche")
    for suffix in ("", "_p90", "_disconnected_pct")
]


def network_enclavement(ctx: RunContext) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Crossings, street structure and detour indices for the QPV a network fully covers.

    QPV whose network is partial or absent get NaN: a partial network would
    undercount crossings and streets. Detours go to heavy-rail stations
    (:func:`qpvgeo.pipeline.access.station_destinations`, as ``walk_min_gare``)
    and to supermarkets and hypermarkets. Also returns the crossing places and
    the detour paths to the nearest station, for maps.
    """
    qpv, origins, equipments, stations, networks = (
        ctx.qpv,
        ctx.origins,
        ctx.equipments,
        ctx.stations,
        ctx.networks,
    )
    rows, crossings, detours = [], [], []
    covered = networks.table.index[networks.table["network_status"] == COVERED]
    supermarkets = equipments[equipments["category"].isin(["supermarche", "hypermarche"])]
    gares = station_destinations(stations)
    for code in covered:
        net = networks.network_of(code)
        one = qpv.loc[[code]]
        o = origins[origins["code_qp"] == code]
        part = (
            enclavement.boundary_crossings(one, net)
            .join(enclavement.street_structure(one, net))
            .join(enclavement.detour_index(net, o, gares, name="detour_gare"))
            .join(enclavement.detour_index(net, o, supermarkets, name="detour_supermarche"))
        )
        rows.append(part)
        crossings.append(enclavement.crossing_points(one, net))
        detours.append(enclavement.detour_paths(one, net, gares, label="gare"))
    columns = [
        "n_crossings",
        "crossings_per_km",
        "longest_without_crossing_m",
        "intersection_density_per_km2",
        "dead_end_share_pct",
        "mean_block_size_ha",
        *DETOUR_COLUMNS,
    ]
    out = pd.concat(rows) if rows else pd.DataFrame(columns=columns)
    crossings_gdf = concat_layers(crossings)
    detours_gdf = concat_layers(detours)
    return out.reindex(qpv.index)[columns], crossings_gdf, detours_gdf
