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
from .extracts import RunExtracts
from .networks import QpvNetworks

#: area origins (demand around the QPV, rest of the commune) are laid on this grid
AREA_SPACING_M = 100.0


@dataclass
class RunContext:
    """The inputs of one run, loaded once and passed from stage to stage.

    ``qpv`` holds the QPV of the run; ``qpv_all`` every QPV of the département,
    so that the residents of the other QPV, and the rest of each commune
    outside *every* QPV, are the same whichever QPV are in the run. Filled by
    :func:`qpvgeo.pipeline.load.load_inputs` (data and residents) and
    :func:`qpvgeo.pipeline.networks.build_networks` (``networks``).
    """

    dep: str
    codes: list[str] | None
    data_dir: str | PathLike | None
    offline: bool
    crowfly_fallback: bool
    qpv: gpd.GeoDataFrame
    qpv_all: gpd.GeoDataFrame
    figures: pd.DataFrame
    iris: gpd.GeoDataFrame
    equipments: gpd.GeoDataFrame
    destinations: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    groups: pd.DataFrame
    categories: list[str]
    categories_absent: list[str]
    #: residents of every QPV of the département (official populations)
    origins_all: gpd.GeoDataFrame
    #: per QPV of the département: where its population comes from
    population_source: pd.Series
    #: the IRIS outside every QPV, with the residents who live there
    iris_outside: gpd.GeoDataFrame
    networks: QpvNetworks = field(default_factory=QpvNetworks)
    #: the OSM extracts of the run, as read for its area (:mod:`qpvgeo.pipeline.extracts`)
    extracts: RunExtracts = field(default_factory=RunExtracts)
    #: where the study areas come from when they are not the QPV (``perimeters``), else None
    perimeters_source: dict | None = None
    #: per network: residents' origins inside its extent left out of the demand (no population figure)
    unknown_residents: dict[str, int] = field(default_factory=dict)
    _areas: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    @property
    def origins(self) -> gpd.GeoDataFrame:
        """Residents' origins of the QPV of the run."""
        return self.origins_all[self.origins_all["code_qp"].isin(self.qpv.index)]

    def network_groups(self) -> dict[str, list[str]]:
        """The QPV of the run that a network covers, grouped by network name."""
        return self.networks.groups(self.qpv.index)

    def area_origins(self, name: str) -> gpd.GeoDataFrame:
        """Residents outside every QPV inside the extent of network ``name`` (computed once)."""
        if name not in self._areas:
            self._areas[name] = area_origins(
                self.qpv_all, self.communes, self.iris_outside, self.networks.networks[name]
            )
        return self._areas[name]

    def residents(self, name: str, first: list[str]) -> gpd.GeoDataFrame:
        """Everyone who lives inside the extent of network ``name``: the QPV in ``first`` first.

        The residents of the QPV ``first`` (in that order), then those of the
        other QPV of the département inside the extent, then the residents
        outside every QPV (:meth:`area_origins`); columns ``population``,
        ``code_qp`` (empty outside the QPV) and geometry, index 0..n-1.

        Origins of the other QPV and outside the QPV that have no population
        figure (an IRIS without one, or beyond the département) are left out
        and counted in :attr:`unknown_residents`; origins of the QPV ``first``
        without one (already reported per QPV) weigh 0.
        """
        net = self.networks.networks[name]
        o = self.origins_all
        mine = pd.concat([o[o["code_qp"] == code] for code in first])
        mine = mine.assign(population=mine["population"].fillna(0.0))
        others = o[~o["code_qp"].isin(first)]
        others = others[shapely.contains_xy(net.extent, others.geometry.x, others.geometry.y)]
        rest = pd.concat([others, self.area_origins(name).assign(code_qp=None)])
        known = rest["population"].notna()
        self.unknown_residents[name] = int((~known).sum())
        columns = ["code_qp", "population", "geometry"]
        return gpd.GeoDataFrame(
            pd.concat([mine[columns], rest.loc[known, columns]], ignore_index=True),
            crs=settings.crs,
        )


def area_origins(
    qpv_all: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    iris_outside: gpd.GeoDataFrame,
    net: WalkNetwork,
) -> gpd.GeoDataFrame:
    """Residents outside every QPV, inside the network's extent, on a 100 m grid.

    They are the demand around the QPV (2SFCA, Huff, flows), across commune
    borders, and, commune by commune, the "rest of the commune" each QPV is
    compared with. ``zone`` holds the commune code; ``population`` comes from
    ``iris_outside`` (:func:`qpvgeo.data.population.outside_qpv_iris`).
    """
    area = net.extent.difference(shapely.union_all(qpv_all.geometry.values))
    zones = gpd.GeoDataFrame({"zone": ["area"]}, geometry=[area], crs=settings.crs).set_index(
        "zone"
    )
    grid = grid_origins(zones, iris_outside, spacing_m=AREA_SPACING_M, zone_name="zone")
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
