"""Linear barriers to walking: railways, rivers, motorways and trunk roads.

:func:`load_barriers` gathers them for a département from the data directory
(IDFM rail lines, the Seine) and, on a connected machine, from OpenStreetMap
(``highway=motorway|trunk``, ``waterway=river|canal``, ``railway=rail``).
Each kind is *assessed* or *not assessed*: a kind with no data is reported as
not assessed, never taken as "no barrier".

Rail lines: only heavy rail is a barrier (RER, Transilien, TER and other
trains). Tram lines (T6, T7, T10 and the street-running part of T12) are
crossed at grade and Orlyval runs on a viaduct: they are left out.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from os import PathLike

import geopandas as gpd
import pandas as pd
import shapely

from .. import settings
from .._errors import QpvgeoWarning, ValidationError
from .._validate import pick_columns, read_layer, to_project_crs
from . import sources
from .loaders import departement_outline, load_communes

log = logging.getLogger(__name__)

KINDS = ("rail", "water", "road")
KIND_LABELS_FR = {"rail": "voie ferrée", "water": "cours d'eau", "road": "autoroute ou voie rapide"}
#: rail modes that are barriers (IDFM `mode`)
BARRIER_RAIL_MODES = ("RER", "TER", "TRAIN")
#: local file of OSM barriers (motorways, trunk roads, rivers) saved after a download
OSM_BARRIERS_FILE = sources.SAVED_FILES["osm_barriers"][0]


@dataclass
class Barriers:
    """Barrier lines and what was assessed.

    Attributes
    ----------
    lines : GeoDataFrame
        EPSG:2154, columns ``kind`` (rail / water / road), ``name``, ``source``.
    assessed : dict
        ``{kind: status}`` with status ``"yes"`` (data for that kind),
        ``"partial"`` (e.g. the Seine only, no other river) or ``"no"``.
    notes : list of str
        What is missing and why.
    extent : shapely geometry or None
        Where ``assessed`` holds when it does not hold everywhere (EPSG:2154): the
        extent of the OSM extracts (:mod:`qpvgeo.data.osm_extract`) that alone
        assess some kinds; outside it, ``assessed_outside`` holds.
    assessed_outside : dict or None
        ``{kind: status}`` outside ``extent``.
    """

    lines: gpd.GeoDataFrame
    assessed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extent: shapely.Geometry | None = None
    assessed_outside: dict[str, str] | None = None


def _rail(data_dir, offline) -> gpd.GeoDataFrame:
    path = sources.fetch("rail_lines", data_dir, offline=offline)
    src = f"rail lines file {path.name!r}"
    gdf = pick_columns(
        read_layer(path, source=src), {"mode": (), "name": ("res_com", "indice_lig")}, source=src
    )
    gdf = to_project_crs(gdf, source=src)
    gdf = gdf[gdf["mode"].isin(BARRIER_RAIL_MODES)]
    return gpd.GeoDataFrame(
        {"kind": "rail", "name": gdf["name"].astype(str).values, "source": "IDFM"},
        geometry=gdf.geometry.values,
        index=range(len(gdf)),
        crs=settings.crs,
    )


def _seine(data_dir, offline) -> gpd.GeoDataFrame:
    path = sources.fetch("seine", data_dir, offline=offline)
    gdf = to_project_crs(read_layer(path, source=f"waterway file {path.name!r}"), source=path.name)
    return gpd.GeoDataFrame(
        {"kind": "water", "name": "Seine", "source": "OSM"},
        geometry=gdf.geometry.values,
        index=range(len(gdf)),
        crs=settings.crs,
    )


def _osm_barriers(zone, dep: str, data_dir, offline: bool) -> gpd.GeoDataFrame | None:
    """Motorways, trunk roads, rivers and canals from OSM (saved file, or download)."""
    path = sources.data_dir(data_dir) / OSM_BARRIERS_FILE.format(dep=dep)
    if path.is_file():
        return to_project_crs(read_layer(path, source=str(path)), source=str(path))
    if offline:
        return None
    import osmnx as ox

    ox.settings.cache_folder = str(sources.osmnx_cache_dir(data_dir))
    poly = gpd.GeoSeries([zone], crs=settings.crs).to_crs(4326).iloc[0]
    try:
        feats = ox.features_from_polygon(
            poly, tags={"highway": ["motorway", "trunk"], "waterway": ["river", "canal"]}
        )
    except Exception as exc:  # no network, Overpass errors
        warnings.warn(
            f"OSM barriers could not be downloaded ({exc}); roads and rivers not assessed",
            category=QpvgeoWarning, stacklevel=3,
        )
        return None
    feats = feats[feats.geom_type.isin(["LineString", "MultiLineString"])].to_crs(settings.crs)
    kind = feats.get("highway").notna().map({True: "road", False: "water"})
    name = feats.get("ref", pd.Series(index=feats.index, dtype=object)).fillna(feats.get("name"))
    out = gpd.GeoDataFrame(
        {"kind": kind, "name": name.astype(str), "source": "OSM"},
        geometry=feats.geometry.values,
        crs=settings.crs,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.gpkg")
    out.to_file(tmp, driver="GPKG")
    tmp.replace(path)
    return out


def load_barriers(
    dep: str,
    *,
    buffer_m: float = 2000.0,
    data_dir: str | PathLike | None = None,
    offline: bool | None = None,
    extracts: list | None = None,
) -> Barriers:
    """Barrier lines in and around a département (within ``buffer_m`` of its outline).

    ``extracts``: what was read from OSM extracts (:class:`qpvgeo.data.osm_extract.ExtractData`);
    their motorways, trunk roads, railway lines, rivers and canals are added, and every kind is
    assessed inside their extent (:attr:`Barriers.extent`).
    """
    offline = settings.offline if offline is None else offline
    zone = departement_outline(load_communes(dep, data_dir=data_dir, offline=offline)).buffer(
        buffer_m
    )
    parts, assessed, notes = [], dict.fromkeys(KINDS, "no"), []
    for kind, key, loader in (("rail", "rail_lines", _rail), ("water", "seine", _seine)):
        if sources.find(key, data_dir) is None and offline:
            notes.append(
                f"no {kind} barrier file ({sources.dataset(key).files[-1]!r}): not assessed"
            )
            continue
        parts.append(loader(data_dir, offline))
        assessed[kind] = "yes" if kind == "rail" else "partial"
    extent = shapely.union_all([d.extent for d in extracts]) if extracts else None
    whole = extent is not None and zone.within(extent)  # the extracts hold the whole zone
    osm = None if whole else _osm_barriers(zone, dep, data_dir, offline)
    if osm is None and not whole:
        notes.append(
            "motorways, trunk roads and rivers other than the Seine: no OpenStreetMap data "
            f"({OSM_BARRIERS_FILE.format(dep=dep)!r} missing, offline): not assessed"
            + (" outside the OSM extract(s)" if extracts else "")
        )
    elif osm is not None:
        parts.append(osm)
        assessed["road"] = "yes"
        assessed["water"] = "yes"
    outside = None
    if extracts:
        parts += [d.barriers for d in extracts if len(d.barriers)]
        if whole or all(v == "yes" for v in assessed.values()):
            extent = None
        else:
            outside = dict(assessed)
            labels = ", ".join(f"{d.extract.name} ({d.extract.label_fr})" for d in extracts)
            notes.append(
                f"barriers ({', '.join(k for k, v in assessed.items() if v != 'yes')}) assessed "
                f"from the OSM extract(s) {labels} inside their extent only"
            )
        assessed = dict.fromkeys(KINDS, "yes")
    lines = (
        gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=settings.crs)
        if parts
        else gpd.GeoDataFrame({"kind": [], "name": [], "source": []}, geometry=[], crs=settings.crs)
    )
    lines = lines[lines.intersects(zone)]
    if lines.geometry.is_empty.any():
        raise ValidationError("barrier lines with empty geometries")
    return Barriers(
        lines=lines.reset_index(drop=True), assessed=assessed, notes=notes, extent=extent,
        assessed_outside=outside,
    )  # fmt: skip
