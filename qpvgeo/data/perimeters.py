"""Study areas that are not QPV: any polygon layer, loaded into the QPV schema.

``qpvgeo run --perimeters FILE`` (library: ``pipeline.run(dep, perimeters=...)``)
runs the whole pipeline on a town centre, a QPV 2015 perimeter, a neighbourhood
a city is studying… The layer (GeoPackage, GeoJSON, shapefile, or a
GeoDataFrame) needs an id and a name column; they are found by name when only
one column can be each (:data:`ID_COLUMN_RE`, :data:`NAME_COLUMN_RE`), else
given with ``--id-col`` / ``--name-col``.

The perimeters take the place of the QPV everywhere: the key column keeps the
name ``code_qp`` (it holds the perimeter's id, so the tables, layers and maps
read the same), ``lib_qp`` holds its name. The communes (``insee_com``,
``lib_com``) are those the perimeter overlaps. There are no official figures
for such areas: their population is estimated from the IRIS (areal share,
:func:`qpvgeo.data.population.grid_origins`), and ``population_source`` says so.
"""

from __future__ import annotations

import logging
import re
import warnings
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._errors import CRSError, EmptyLayerError, MissingColumnError, QpvgeoWarning, ValidationError
from .._validate import read_layer, repair_geometries, to_project_crs
from .loaders import QPV_OUTSIDE_TOLERANCE_M, departement_outline

log = logging.getLogger(__name__)

#: column names taken for the perimeter id when it is the only such column (case-insensitive)
ID_COLUMN_RE = re.compile(r"^(id|ident|identifiant|code)(_.+)?$|^.+_(id|code)$", re.IGNORECASE)
#: column names taken for the perimeter name when it is the only such column (case-insensitive)
NAME_COLUMN_RE = re.compile(r"^(name|nom|label|libelle|lib)(_.+)?$|^.+_(name|nom)$", re.IGNORECASE)
#: ids become file names (fiches, slides): letters, digits, ``_``, ``-``, ``.``
SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: a commune counts among a perimeter's communes when it holds this share of its area
COMMUNE_MIN_SHARE = 0.05


def _pick(columns: list[str], given: str | None, pattern: re.Pattern, what: str, option: str,
          source: str) -> str:  # fmt: skip
    if given is not None:
        if given not in columns:
            raise MissingColumnError(
                f"{source}: no column {given!r} ({option}); its columns are {columns!r}"
            )
        return given
    found = [c for c in columns if pattern.match(c)]
    if len(found) == 1:
        return found[0]
    why = "no column looks like" if not found else f"several columns could be ({found!r})"
    raise MissingColumnError(
        f"{source}: {why} the perimeter {what}; its columns are {columns!r}: name it with {option} COL"
    )


def read_perimeters(
    perimeters: gpd.GeoDataFrame | str | PathLike,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
) -> gpd.GeoDataFrame:
    """The perimeters as ``code_qp`` (id, index), ``lib_qp`` (name), geometry, EPSG:2154.

    Raises :class:`~qpvgeo.ValidationError` (naming the file, the column or the ids) for a
    layer without CRS, non-polygon or empty geometries, ambiguous or missing id/name columns,
    duplicate ids or ids that cannot be file names.
    """
    if isinstance(perimeters, gpd.GeoDataFrame):
        source, gdf = "perimeters (GeoDataFrame)", perimeters.copy()
        if gdf.crs is None:
            raise CRSError(f"{source}: the layer has no CRS; set it (e.g. `gdf.set_crs(4326)`)")
        if len(gdf) == 0:
            raise EmptyLayerError(f"{source}: no feature")
    else:
        path = Path(perimeters).expanduser()
        source = f"perimeters file {str(path)!r}"
        if not path.exists():
            raise ValidationError(f"{source} does not exist")
        gdf = read_layer(path, source=source)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    ids = _pick(columns, id_col, ID_COLUMN_RE, "id", "--id-col", source)
    names = _pick(columns, name_col, NAME_COLUMN_RE, "name", "--name-col", source)
    if ids == names:
        raise ValidationError(
            f"{source}: the id and the name column are both {ids!r}; give two columns"
        )
    gdf = gpd.GeoDataFrame(
        {"code_qp": gdf[ids].astype("string").str.strip(), "lib_qp": gdf[names].astype("string")},
        geometry=gdf.geometry.values, crs=gdf.crs,
    )  # fmt: skip
    bad = gdf["code_qp"].isna() | ~gdf["code_qp"].fillna("").str.match(SAFE_ID_RE.pattern)
    if bad.any():
        raise ValidationError(
            f"{source}: {int(bad.sum())} id(s) in column {ids!r} are empty or not usable as file "
            f"names (e.g. {list(gdf.loc[bad, 'code_qp'].astype(object)[:3])!r}); ids must be 1 to 64 "
            "letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    dup = gdf["code_qp"].duplicated(keep=False)
    if dup.any():
        raise ValidationError(
            f"{source}: duplicate ids in column {ids!r}: {sorted(set(gdf.loc[dup, 'code_qp']))[:10]!r}; "
            "each perimeter needs its own id"
        )
    gdf["lib_qp"] = gdf["lib_qp"].fillna(gdf["code_qp"])
    gdf = gdf.set_index("code_qp")
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        raise ValidationError(
            f"{source}: {int(missing.sum())} perimeter(s) have an empty or missing geometry "
            f"({list(gdf.index[missing][:10])!r}); fix or remove them"
        )
    types = gdf.geom_type
    not_poly = ~types.isin(["Polygon", "MultiPolygon"])
    if not_poly.any():
        shown = ", ".join(f"{c} ({t})" for c, t in types[not_poly].head(10).items())
        raise ValidationError(
            f"{source}: perimeters must be polygons; {int(not_poly.sum())} are not: {shown}"
        )
    gdf = to_project_crs(gdf, source=source)
    return repair_geometries(gdf, source=source, polygonal=True)


def load_perimeters(
    perimeters: gpd.GeoDataFrame | str | PathLike,
    dep: str,
    communes: gpd.GeoDataFrame,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Perimeters in the schema of :func:`qpvgeo.data.loaders.load_qpv`.

    Parameters
    ----------
    perimeters : GeoDataFrame or path
        Any polygon layer with a CRS, an id and a name column.
    dep : str
        The département of the run; every perimeter must lie in it (at least half its
        area within :data:`~qpvgeo.data.loaders.QPV_OUTSIDE_TOLERANCE_M` of its communes).
    communes : GeoDataFrame
        The communes of ``dep`` (:func:`qpvgeo.data.loaders.load_communes`).

    Returns
    -------
    GeoDataFrame
        Indexed by ``code_qp`` (the perimeter id), EPSG:2154: ``lib_qp`` (name),
        ``insee_com``/``lib_com`` (the communes holding at least 5 % of it, largest first,
        joined by ``,``), ``insee_dep``, ``area_ha``.
    """
    gdf = read_perimeters(perimeters, id_col=id_col, name_col=name_col)
    source = (
        "perimeters"
        if isinstance(perimeters, gpd.GeoDataFrame)
        else f"perimeters file {str(perimeters)!r}"
    )
    zone = departement_outline(communes).buffer(QPV_OUTSIDE_TOLERANCE_M)
    share = gdf.geometry.intersection(zone).area / gdf.area
    outside = gdf.index[~(share >= 0.5)]
    if len(outside):
        raise ValidationError(
            f"{source}: {len(outside)} perimeter(s) lie outside département {dep}: "
            f"{', '.join(map(str, outside[:10]))}; give the département they are in (--dep), or "
            "check the layer's CRS"
        )
    gdf["insee_com"], gdf["lib_com"] = _communes_of(gdf, communes)
    gdf["insee_dep"] = dep
    gdf["area_ha"] = gdf.area / 1e4
    _warn_overlaps(gdf, source)
    log.info("loaded %d perimeters from %s", len(gdf), source)
    return gdf[["lib_qp", "insee_com", "lib_com", "insee_dep", "area_ha", "geometry"]].sort_index()


def _communes_of(gdf: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> tuple[list, list]:
    codes, names = [], []
    for geom in gdf.geometry.values:
        hit = communes[communes.intersects(geom)]
        share = hit.geometry.intersection(geom).area / geom.area
        share = share.sort_values(ascending=False)
        keep = share.index[(share >= COMMUNE_MIN_SHARE) | (share == share.max())]
        codes.append(",".join(keep))
        names.append(", ".join(communes.loc[keep, "nom"].astype(str)))
    return codes, names


def _warn_overlaps(gdf: gpd.GeoDataFrame, source: str) -> None:
    """Overlapping perimeters share residents: each counts them (said in a note)."""
    left, right = gdf.sindex.query(gdf.geometry, predicate="intersects")
    geoms = gdf.geometry.values
    pairs = [
        (gdf.index[i], gdf.index[j])
        for i, j in zip(left, right, strict=True)
        if i < j and geoms[i].intersection(geoms[j]).area > 1.0
    ]
    if pairs:
        shown = ", ".join(f"{a} & {b}" for a, b in pairs[:5])
        warnings.warn(
            f"{source}: {len(pairs)} pair(s) of perimeters overlap ({shown}); the residents of "
            "the overlap count in each, and the demand around them twice",
            category=QpvgeoWarning,
            stacklevel=3,
        )


def perimeter_figures(codes: pd.Index, dep_name: str | None) -> pd.DataFrame:
    """The official-figures frame of perimeters: every figure NaN (none is published for
    them), ``lib_dep`` the département's name."""
    from .loaders import QPV_FIGURES

    out = pd.DataFrame(
        index=pd.Index(list(codes), name="code_qp"), columns=list(QPV_FIGURES), dtype=float
    )
    out.insert(0, "lib_dep", dep_name if dep_name else pd.NA)
    return out
