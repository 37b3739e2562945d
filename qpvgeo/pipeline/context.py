"""What the stages of one run share (:class:`RunContext`) and what a run returns (:class:`RunResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike

import geopandas as gpd
import pandas as pd
import shapely

from .. import settings
from ..data import barriers
from ..data.population import grid_origins
from ..network.build import WalkNetwork
from .networks import QpvNetworks

#: area origins (demand around the QPV, rest of the commune) are laid on this grid
AREA_SPACING_M = 100.0


@dataclass
class RunContext:
    """The inputs of one run, loaded once and passed from stage to stage.

    Filled by :func:`qpvgeo.pipeline.load.load_inputs` (data),
    :func:`qpvgeo.pipeline.networks.build_networks` (``networks``) and
    :func:`qpvgeo.data.population.grid_origins` (``origins``).
    """

    dep: str
    codes: list[str] | None
    data_dir: str | PathLike | None
    offline: bool
    crowfly_fallback: bool
    qpv: gpd.GeoDataFrame
    iris: gpd.GeoDataFrame
    equipments: gpd.GeoDataFrame
    destinations: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    groups: pd.DataFrame
    categories: list[str]
    categories_absent: list[str]
    networks: QpvNetworks = field(default_factory=QpvNetworks)
    origins: gpd.GeoDataFrame | None = None
    _areas: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    def network_groups(self) -> dict[str, list[str]]:
        """The QPV of the run that have a network, grouped by network name."""
        return self.networks.groups(self.qpv.index)

    def area_origins(self, name: str) -> gpd.GeoDataFrame:
        """Residents of the rest of the communes of the QPV on network ``name`` (computed once)."""
        if name not in self._areas:
            codes = self.network_groups()[name]
            self._areas[name] = area_origins(
                self.qpv.loc[codes], self.communes, self.iris, self.networks.networks[name]
            )
        return self._areas[name]


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


def empty_layer(column: str) -> gpd.GeoDataFrame:
    """An empty layer (EPSG:2154) with one attribute column."""
    return gpd.GeoDataFrame({column: []}, geometry=[], crs=settings.crs)


def concat_layers(frames: list, empty_column: str = "code_qp") -> gpd.GeoDataFrame:
    """The frames stacked into one layer (EPSG:2154), or an empty layer when there are none."""
    if not frames:
        return empty_layer(empty_column)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.crs)


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
