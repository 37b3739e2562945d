"""Residents' origins: where walking trips start.

INSEE publishes no population below the IRIS inside a QPV (the Filosofi 200 m
grid is not open for every cell), so origins are a regular grid of points laid
inside each zone, each carrying the population of its share of IRIS area
(areal interpolation: an IRIS's residents are spread evenly over its area).
The weights of a zone's origins add up to its estimated population.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import EmptyLayerError, ValidationError
from .._validate import assert_project_crs


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
    assert_project_crs(zones, "zones")
    spacing_m = settings.origin_spacing_m if spacing_m is None else float(spacing_m)
    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise ValidationError(f"`spacing_m` must be a positive number of metres, got {spacing_m!r}")
    if len(zones) == 0:
        raise EmptyLayerError("`zones` is empty")
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
