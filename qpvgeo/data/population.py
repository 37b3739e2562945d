"""Residents' origins: where walking trips start.

INSEE publishes no population below the IRIS inside a QPV (the Filosofi 200 m
grid is not open for every cell), so origins are a regular grid of points laid
inside each zone, each carrying the population of its share of IRIS area
(areal interpolation: an IRIS's residents are spread evenly over its area).
The weights of a zone's origins add up to its estimated population.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import EmptyLayerError, QpvgeoWarning, ValidationError
from .._validate import assert_project_crs, check_frame, check_grid_size, check_number


def grid_origins(
    zones: gpd.GeoDataFrame,
    iris: gpd.GeoDataFrame | None = None,
    *,
    spacing_m: float | None = None,
    zone_name: str = "code_qp",
) -> gpd.GeoDataFrame:
    """A regular grid of origins inside each zone, weighted by IRIS population.

    Parameters
    ----------
    zones : GeoDataFrame
        Polygons (EPSG:2154), e.g. QPV from :func:`qpvgeo.loaders.load_qpv`.
    iris : GeoDataFrame, optional
        IRIS with a ``population`` column (:func:`qpvgeo.loaders.load_iris`).
        Without it every origin weighs 1.
    spacing_m : float, optional
        Grid spacing (default :data:`qpvgeo.settings.origin_spacing_m`). A zone
        smaller than a cell still gets one origin, at a point inside it.
    zone_name : str
        Name of the output column holding the zone's index value.

    Returns
    -------
    GeoDataFrame
        Indexed by ``origin_id`` (0..n-1): ``zone_name``, ``code_iris`` and
        ``population`` (estimated residents the origin stands for; NaN where
        the IRIS has no population figure).
    """
    check_frame(zones, "zones")
    spacing_m = settings.origin_spacing_m if spacing_m is None else spacing_m
    spacing_m = check_number(spacing_m, "spacing_m", low=0, low_open=True, unit="metres")
    if not isinstance(zone_name, str) or not zone_name:
        raise ValidationError(f"`zone_name` must be a column name, got {zone_name!r}")
    if len(zones) == 0:
        raise EmptyLayerError("`zones` is empty")
    if iris is not None:
        check_frame(iris, "iris", columns=("population",))
    bad = zones.geometry.isna() | zones.geometry.is_empty | ~zones.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        raise ValidationError(
            f"`zones`: {int(bad.sum())} zone(s) have no polygon (empty, missing, or a point or line: "
            f"first {list(zones.index[bad][:5])!r}); origins are laid inside polygons only"
        )
    extent = zones.geometry.bounds
    cells = np.ceil((extent["maxx"] - extent["minx"]) / spacing_m) * np.ceil(
        (extent["maxy"] - extent["miny"]) / spacing_m
    )
    check_grid_size(float(cells.sum()), "spacing_m", spacing_m)
    rows_zone, points = [], []
    for key, geom in zip(zones.index, zones.geometry.values, strict=True):
        xmin, ymin, xmax, ymax = geom.bounds
        xs = np.arange(xmin + spacing_m / 2, xmax, spacing_m)
        ys = np.arange(ymin + spacing_m / 2, ymax, spacing_m)
        gx, gy = np.meshgrid(xs, ys)
        pts = shapely.points(gx.ravel(), gy.ravel())
        pts = pts[shapely.contains_xy(geom, gx.ravel(), gy.ravel())]
        if len(pts) == 0:
            pts = np.array([geom.representative_point()])
        rows_zone.extend([key] * len(pts))
        points.extend(pts)
    out = gpd.GeoDataFrame({zone_name: rows_zone}, geometry=points, crs=settings.crs)
    out.index.name = "origin_id"
    if iris is None:
        out["code_iris"] = pd.NA
        out["population"] = 1.0
        return out
    assert_project_crs(iris, "iris")
    right = gpd.GeoDataFrame({"iris_key": iris.index}, geometry=iris.geometry.values, crs=iris.crs)
    joined = gpd.sjoin(out, right, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out["code_iris"] = joined["iris_key"].values
    # residents per origin: IRIS density × the cell's area (the cell area
    # inside the IRIS is approximated by the number of origins falling in it)
    n_in_iris = out.groupby("code_iris")["code_iris"].transform("size")
    iris_pop_in_zone = out["code_iris"].map(iris["population"])
    # share of the IRIS area covered by the grid cells of this zone
    cell_area = spacing_m**2
    iris_area = out["code_iris"].map(iris.area)
    share = np.minimum(n_in_iris * cell_area / iris_area, 1.0)
    out["population"] = (iris_pop_in_zone * share / n_in_iris).astype(float)
    return out


#: where ``population_qpv`` comes from, as written in the table
SOURCE_OFFICIAL = "INSEE, population municipale du QPV (SIG Ville, ANCT)"
SOURCE_IRIS = "estimation par les IRIS (répartition selon la surface)"


def qpv_origins(
    qpv: gpd.GeoDataFrame,
    iris: gpd.GeoDataFrame,
    official: pd.Series,
    *,
    spacing_m: float | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Origins inside each QPV carrying exactly its official population.

    The official population of a QPV (INSEE's *population municipale*,
    :func:`qpvgeo.data.loaders.load_qpv_figures`) is placed on a regular grid
    inside the QPV (:func:`grid_origins`) in proportion to the density of the
    IRIS each origin falls in (IRIS population ÷ IRIS area): denser IRIS parts
    of the QPV get more residents. Origins in an IRIS without a population
    figure take the mean density of the QPV's other origins (they are residents
    too, and the official figure counts them). Where the official figure is
    missing (statistical secrecy, a QPV absent from the file), the areal IRIS
    estimate of :func:`grid_origins` is kept, and the source says so.

    Returns
    -------
    (origins, source)
        ``origins`` as :func:`grid_origins` (``code_qp``, ``code_iris``,
        ``population``); ``source``: per QPV, where its population comes from
        (:data:`SOURCE_OFFICIAL` or :data:`SOURCE_IRIS`).
    """
    check_frame(iris, "iris", columns=("population",))
    if not isinstance(official, pd.Series):
        raise ValidationError(f"`official` must be a Series of populations by QPV code, got {type(official).__name__}")
    origins = grid_origins(qpv, iris, spacing_m=spacing_m)
    density = origins["code_iris"].map(iris["population"] / iris.area).astype(float)
    source = {}
    for code, idx in origins.groupby("code_qp").indices.items():
        target = float(official.get(code, np.nan))
        if not np.isfinite(target):
            source[code] = SOURCE_IRIS
            continue
        d = density.to_numpy()[idx]
        d = np.where(np.isfinite(d), d, np.nanmean(d) if np.isfinite(d).any() else 1.0)
        if d.sum() <= 0:
            d = np.ones(len(idx))
        origins.iloc[idx, origins.columns.get_loc("population")] = target * d / d.sum()
        source[code] = SOURCE_OFFICIAL
    return origins, pd.Series(source, name="population_source").rename_axis("code_qp")


def outside_qpv_iris(
    iris: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame, qpv_origins: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The IRIS with their part outside every QPV and the residents who live there.

    Residents outside the QPV = IRIS population − the QPV residents placed in
    that IRIS by :func:`qpv_origins` (``qpv`` must hold *every* QPV of the
    territory, so that nobody is counted twice). Where that difference is
    negative (the QPV figure and the IRIS figure are of different years), it is
    set to 0 and a warning counts those IRIS.

    Returns
    -------
    GeoDataFrame
        Indexed like ``iris``: the geometry outside every QPV and ``population``.
    """
    check_frame(iris, "iris", columns=("population",))
    check_frame(qpv, "qpv")
    check_frame(qpv_origins, "qpv_origins", columns=("code_iris", "population"), geo=False)
    in_qpv = qpv_origins.groupby("code_iris")["population"].sum()
    outside = iris["population"] - in_qpv.reindex(iris.index).fillna(0.0)
    negative = outside < -0.5
    if negative.any():
        warnings.warn(
            f"{int(negative.sum())} IRIS hold fewer residents (RP) than the QPV residents placed in "
            f"them (e.g. {list(iris.index[negative][:3])!r}); none is counted outside the QPV there",
            category=QpvgeoWarning, stacklevel=2,
        )
    geometry = iris.geometry.difference(shapely.union_all(qpv.geometry.values))
    return gpd.GeoDataFrame(
        {"population": outside.clip(lower=0.0)}, geometry=geometry, crs=iris.crs, index=iris.index
    )
