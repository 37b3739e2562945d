"""Scenario files: « et si… » changes to try on the street network and the equipments.

A scenario is a GeoJSON file (or any vector file GDAL reads, with a CRS;
GeoJSON without a ``crs`` member is longitude/latitude), one feature per
change, with the property ``action``:

``add_link`` (LineString)
    a footbridge, a crossing, a path through a fence: both ends are placed on
    the nearest street within 50 m (:data:`qpvgeo.network.edit.LINK_SNAP_M`),
    walkable both ways, with its own length.
``remove_link`` (LineString or Point)
    a street closed: the street edges the line follows (half their length or
    more within ``tolerance_m``, default 15 m), or the edge nearest to a short
    stroke across the street or to a Point (within ``tolerance_m``); see
    :func:`qpvgeo.network.edit.edges_along`. The residents who lived along a
    closed street are placed on the next nearest street.
``add_equipment`` (Point, ``category``)
    a shop or a service opening: ``category`` is a code of the nomenclature
    (``qpvgeo/data/categories.csv``: ``boulangerie``, ``pharmacie``...);
    ``label`` optional.
``remove_equipment`` (Point, or the property ``id``)
    a shop or a service closing: the equipment ``id`` (``equipment_id`` of
    the equipments layer), or the equipment nearest to the Point within
    ``tolerance_m`` (default 25 m), of ``category`` when given.

Every feature may have a ``name`` (« Passerelle sur le RER C »), used in
messages, tables and maps. :func:`read_scenario` checks every feature and
raises one :class:`~qpvgeo.ValidationError` listing every problem, each
naming the feature.
"""

from __future__ import annotations

import difflib
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import CRSError, EmptyLayerError, MissingColumnError, ValidationError
from .._validate import _check_degrees, to_project_crs
from . import nomenclature

#: the actions of a scenario feature and the geometries each accepts
ACTIONS = {
    "add_link": ("LineString",),
    "remove_link": ("LineString", "Point"),
    "add_equipment": ("Point",),
    "remove_equipment": ("Point", None),
}
#: French names of the actions (tables, maps, fiches)
ACTION_LABELS = {
    "add_link": "lien ajouté",
    "remove_link": "rue fermée",
    "add_equipment": "équipement ajouté",
    "remove_equipment": "équipement retiré",
}
#: default matching tolerance (m) of ``remove_link`` and ``remove_equipment``
DEFAULT_TOLERANCE_M = {"remove_link": 15.0, "remove_equipment": 25.0}
#: largest ``tolerance_m`` accepted (m): beyond, a closure or a removal would be a guess
MAX_TOLERANCE_M = 200.0

COLUMNS = ["feature", "action", "name", "category", "label", "equipment_id", "tolerance_m", "geometry"]


def read_scenario(source: str | PathLike | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Read and check a scenario: a file, or a GeoDataFrame with a CRS.

    Returns
    -------
    GeoDataFrame
        EPSG:2154, one row per change in the file's order, columns
        ``feature`` (1-based number in the file), ``action``, ``name``,
        ``category``, ``label``, ``equipment_id``, ``tolerance_m`` (NaN
        where not used) and geometry.

    Raises
    ------
    ValidationError
        The file is missing or unreadable, has no feature or no CRS, or a
        feature is wrong (unknown action, wrong geometry, missing or unknown
        category, bad tolerance...); the message lists every problem.
    """
    what, where = "scenario", Path("GeoDataFrame")
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source.copy()
        if gdf.crs is None:
            raise CRSError("scenario: the GeoDataFrame has no CRS; set it (e.g. `.set_crs(4326)`)")
    else:
        path = where = Path(source)
        what = f"scenario file {str(path)!r}"
        if not path.is_file():
            raise ValidationError(f"{what} does not exist; give a GeoJSON file, one feature per change")
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises DataSourceError and friends
            raise ValidationError(f"{what}: cannot read it as a vector layer: {exc}") from exc
        if gdf.crs is None:
            raise CRSError(f"{what} has no CRS; save it as GeoJSON (longitude/latitude) or set its CRS")
    if len(gdf) == 0:
        raise EmptyLayerError(f"{what} has no feature: add one feature per change")
    located = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.crs.is_geographic and len(located):
        _check_degrees(located, where, "scenario")
    if "action" not in gdf.columns:
        raise MissingColumnError(
            f"{what}: no property `action`; give each feature one of {', '.join(ACTIONS)}"
        )
    gdf = to_project_crs(gdf, source=what).reset_index(drop=True)
    rows, problems = [], []
    for i, feature in gdf.iterrows():
        row, errors = _check_feature(int(i) + 1, feature)
        rows.append(row)
        problems.extend(errors)
    if problems:
        raise ValidationError(f"{what}: " + "; ".join(problems))
    return gpd.GeoDataFrame(rows, columns=COLUMNS, geometry="geometry", crs=settings.crs)


def describe(change: pd.Series) -> str:
    """« feature 2 'Passerelle' (add_link) »: how messages name a change."""
    name = change.get("name")
    named = f" {name!r}" if isinstance(name, str) and name else ""
    return f"feature {int(change['feature'])}{named} ({change['action']})"


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _check_feature(number: int, f: pd.Series) -> tuple[dict, list[str]]:
    """One feature as a row of :func:`read_scenario`, and its problems."""
    action = _text(f.get("action"))
    name = _text(f.get("name"))
    who = f"feature {number}" + (f" {name!r}" if name else "")
    geom = f.geometry if isinstance(f.geometry, shapely.Geometry) else None
    row = dict.fromkeys(COLUMNS)
    row.update(feature=number, action=action, name=name, geometry=geom, tolerance_m=np.nan)
    if action not in ACTIONS:
        close = difflib.get_close_matches(str(action), ACTIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return row, [f"{who}: unknown action {action!r}{hint}; use one of {', '.join(ACTIONS)}"]
    errors = []
    if isinstance(geom, shapely.MultiLineString) and len(geom.geoms) == 1:
        geom = row["geometry"] = geom.geoms[0]
    kind = None if geom is None or geom.is_empty else geom.geom_type
    if kind not in ACTIONS[action]:
        wanted = " or ".join("no geometry with an `id`" if k is None else k for k in ACTIONS[action])
        errors.append(f"{who} ({action}): the geometry is {kind or 'empty'}; give a {wanted}")
    if kind == "LineString" and geom.length <= 0:
        errors.append(f"{who} ({action}): the line has no length")
    if action == "add_equipment":
        errors.extend(_check_category(who, f, row, required=True))
        row["label"] = _text(f.get("label"))
    if action == "remove_equipment":
        row["equipment_id"] = _text(f.get("id"))
        errors.extend(_check_category(who, f, row, required=False))
        if kind is None and row["equipment_id"] is None:
            errors.append(f"{who} (remove_equipment): give a Point or the property `id`")
    if action in DEFAULT_TOLERANCE_M:
        errors.extend(_check_tolerance(who, action, f, row))
    return row, errors


def _check_category(who: str, f: pd.Series, row: dict, *, required: bool) -> list[str]:
    category = _text(f.get("category"))
    row["category"] = category
    if category is None:
        if required:
            return [f"{who} (add_equipment): no `category`; give a code of qpvgeo/data/categories.csv "
                    "such as boulangerie, pharmacie, supermarche"]  # fmt: skip
        return []
    known = nomenclature.categories().index
    if category not in known:
        close = difflib.get_close_matches(category, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return [f"{who}: unknown category {category!r}{hint}; the codes are those of "
                "qpvgeo/data/categories.csv"]  # fmt: skip
    if category == "gare":
        return [f"{who}: category 'gare' cannot be added or removed (the stations come from IDFM)"]
    return []


def _check_tolerance(who: str, action: str, f: pd.Series, row: dict) -> list[str]:
    raw = f.get("tolerance_m")
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        row["tolerance_m"] = DEFAULT_TOLERANCE_M[action]
        return []
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = np.nan
    if not 0 < value <= MAX_TOLERANCE_M:
        return [f"{who} ({action}): `tolerance_m` must be a distance in metres above 0 and at most "
                f"{MAX_TOLERANCE_M:g}, got {raw!r}"]  # fmt: skip
    row["tolerance_m"] = value
    return []
