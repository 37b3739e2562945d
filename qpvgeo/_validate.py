"""Entry-point checks: files, CRS, columns, keys and geometries.

Each check builds one message that names the file, the column or value and
the fix, then raises a :mod:`qpvgeo._errors` exception. Repairs (invalid
geometries) and drops are announced by one warning that counts them.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import warnings
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._errors import (
    CRSError,
    DataNotFoundError,
    EmptyLayerError,
    MissingColumnError,
    QpvgeoWarning,
    UnknownCodeError,
    ValidationError,
    plain,
)

_ENCODINGS = ("utf-8-sig", "cp1252")
_ARCHIVES = {b"PK\x03\x04": "zip archive", b"\x1f\x8b": "gzip archive", b"7z\xbc\xaf": "7z archive"}


def read_csv(path: Path, *, dtype: object = str) -> pd.DataFrame:
    """Read a CSV whatever its separator (``,`` ``;`` tab ``|``) and encoding (UTF-8 or Latin-1).

    INSEE has published both ``;``-separated Latin-1 files and ``,``-separated
    UTF-8 files; both are read. A file that decodes in neither encoding, or
    whose separator cannot be told, gets a clear error.
    """
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise EmptyLayerError(f"{str(path)!r} is empty; download it again")
    _refuse_html(raw, path, "a CSV file")
    for magic, kind in _ARCHIVES.items():
        if raw.startswith(magic):
            raise ValidationError(
                f"{str(path)!r} is a {kind}, not a CSV file; extract the CSV from it and save "
                "that under this name"
            )
    if b"\x00" in raw[:20000]:
        raise ValidationError(
            f"{str(path)!r} is a binary file, not CSV text; download the CSV again "
            "(or re-save it as UTF-8 CSV)"
        )
    text = None
    for enc in _ENCODINGS:
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:  # cp1252 leaves a few bytes undefined
        raise ValidationError(
            f"{str(path)!r} is neither UTF-8 nor Windows-1252/Latin-1 text; "
            "re-save it as UTF-8 CSV"
        )
    head = text[:20000]
    try:
        sep = csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        raise ValidationError(
            f"{str(path)!r}: cannot tell the column separator from its header line "
            f"{head.splitlines()[0][:120]!r}; expected ',' or ';' separated columns"
        ) from None
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=dtype, keep_default_na=True)


def pick_columns(
    df: pd.DataFrame, aliases: dict[str, tuple[str, ...]], *, source: str, optional: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Rename the first alias present of each wanted column to its canonical name.

    ``aliases`` maps the canonical name to the accepted spellings (compared
    case-insensitively). Every missing required column is reported at once,
    under its official spelling (the first alias).
    """
    lower = {c.lower(): c for c in df.columns}
    rename, missing = {}, []
    for canonical, names in aliases.items():
        hit = next((lower[n.lower()] for n in (canonical, *names) if n.lower() in lower), None)
        if hit is None:
            if canonical not in optional:
                # official spellings first; matching ignores case, so list each name once
                accepted: list[str] = []
                for n in (*names, canonical):
                    if n.lower() not in {a.lower() for a in accepted}:
                        accepted.append(n)
                others = ", ".join(repr(n) for n in accepted[1:])
                missing.append(repr(accepted[0]) + (f" (or {others})" if others else ""))
        else:
            rename[hit] = canonical
    if missing:
        raise MissingColumnError(
            f"{source}: missing column(s) {', '.join(missing)}; the file has "
            f"{list(df.columns)[:25]!r}. Check that it is the right file, or rename the columns"
        )
    return df.rename(columns=rename)


def _refuse_html(raw: bytes, path: Path, what: str, source: str = "") -> None:
    """An HTML page (an error or login page saved under the data file's name) is not data."""
    head = raw[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        head.startswith(b"<") and b"<html" in head
    ):
        raise ValidationError(
            f"{source + ': ' if source else ''}{str(path)!r} is an HTML page (an error or login page "
            "saved in place of the data?), "
            f"not {what}; download the file again (see `qpvgeo data` for its address)"
        )


def read_layer(path: Path, *, source: str) -> gpd.GeoDataFrame:
    """Read a vector file (GeoJSON, GeoPackage, shapefile...) and check it has a CRS and features.

    An empty (0-byte) file or an HTML page saved under the layer's name gets one line saying so,
    not the GDAL driver's message.
    """
    path = Path(path)
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(2048)
        if not head.strip():
            raise EmptyLayerError(
                f"{source}: {str(path)!r} is empty ({path.stat().st_size} bytes); download it again"
            )
        _refuse_html(head, path, "a vector layer", source)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ValidationError(
            f"{source}: cannot read {str(path)!r} as a vector layer (GDAL: {detail}); download it "
            "again, or check that it is a GeoJSON/GeoPackage file"
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):  # GDAL reads a CSV without geometry as a table
        raise ValidationError(
            f"{source}: {str(path)!r} holds a table without geometries, not a vector layer; give "
            "a GeoPackage, GeoJSON or shapefile with the geometries"
        )
    if len(gdf) == 0:
        raise EmptyLayerError(f"{source}: {str(path)!r} has no feature; download it again")
    if gdf.crs is None:
        raise CRSError(
            f"{source}: {str(path)!r} has no CRS; set it (e.g. `gdf.set_crs(4326)` for lon/lat "
            "GeoJSON, or `ogr2ogr -a_srs EPSG:4326`) and save it again"
        )
    if gdf.crs.is_geographic:
        _check_degrees(gdf, path, source)
    return gdf


def _check_degrees(gdf: gpd.GeoDataFrame, path: Path, source: str) -> None:
    """A layer in longitude/latitude must have coordinates in [-180, 180] × [-90, 90].

    A GeoJSON without a ``crs`` member is read as EPSG:4326 (RFC 7946); a file
    saved with Lambert-93 metres but no ``crs`` member would be taken for degrees
    and fail much later (projection to infinite coordinates). It is refused here.
    """
    bounds = gdf.geometry.bounds
    xmin, ymin = bounds["minx"].min(), bounds["miny"].min()
    xmax, ymax = bounds["maxx"].max(), bounds["maxy"].max()
    if xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90:
        return
    metres = xmax > 1000 or ymax > 1000
    raise CRSError(
        f"{source}: {str(path)!r} is read as {gdf.crs.to_string()!r} (longitude/latitude in "
        "degrees; a GeoJSON without a `crs` member is always read so), but its coordinates run "
        f"from x={xmin:.6g} to {xmax:.6g} and y={ymin:.6g} to {ymax:.6g}, outside "
        "[-180, 180] × [-90, 90]"
        + (": they look like metres (Lambert-93?): set the CRS" if metres else "; set the right CRS")
        + " (e.g. `ogr2ogr -a_srs EPSG:2154 out.gpkg in.geojson`, or reproject it to "
        "longitude/latitude: `ogr2ogr -s_srs EPSG:2154 -t_srs EPSG:4326 out.geojson in.geojson`)"
    )


def to_project_crs(gdf: gpd.GeoDataFrame, *, source: str, expected: tuple[int, ...] = ()) -> gpd.GeoDataFrame:
    """Project to :data:`qpvgeo.settings.crs`, refusing a CRS that is not one of ``expected``.

    ``OGC:CRS84`` (lon/lat, what GeoJSON files often declare) counts as EPSG:4326.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{source}: the layer has no CRS; set it (e.g. `gdf.set_crs(4326)` for lon/lat) "
            "and save it again"
        )
    epsg = gdf.crs.to_epsg()
    if epsg is None and gdf.crs.equals("OGC:CRS84", ignore_axis_order=True):
        epsg = 4326
    if expected and epsg not in expected:
        raise CRSError(
            f"{source}: CRS {gdf.crs.to_string()!r} ({gdf.crs.name}) is not one this dataset is "
            f"published in (EPSG:{', EPSG:'.join(map(str, expected))}); check that it is the right "
            "file, or reproject it to one of them "
            f"(e.g. `ogr2ogr -t_srs EPSG:{expected[0]} out in`)"
        )
    return gdf.to_crs(settings.crs)


def assert_project_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> None:
    """Indicator functions refuse a layer that is not in the project CRS.

    Not converted on the quiet: a layer in degrees given where metres are expected is a
    mistake upstream (an area of 0.0 instead of 1.0), and the fix is one call.
    """
    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries):
        raise ValidationError(f"`{name}` must be a GeoDataFrame or GeoSeries, got {type(gdf).__name__}")
    if gdf.crs is None or not gdf.crs.equals(settings.crs):
        got = None if gdf.crs is None else gdf.crs.to_string()
        raise CRSError(
            f"`{name}` has CRS {got!r}; load it with a qpvgeo loader or call `.to_crs({settings.crs!r})`"
        )


#: smallest area of a perimeter (QPV, IRIS, commune) qpvgeo accepts, in m² (a qpvgeo threshold):
#: a 30 m square. The smallest QPV 2024 of Île-de-France covers 1.4 ha, the smallest IRIS 0.9 ha;
#: a polygon of less is a flat or collapsed ring (points on a line, a coordinate typo) whose
#: residents and equipments would silently count for nothing.
MIN_POLYGON_AREA_M2 = 1000.0


def repair_geometries(gdf: gpd.GeoDataFrame, *, source: str, polygonal: bool = False) -> gpd.GeoDataFrame:
    """Repair invalid geometries (with one counted warning); refuse empty or missing ones."""
    geoms = gdf.geometry
    empty = geoms.isna() | geoms.is_empty
    if empty.any():
        ids = list(gdf.index[empty][:10])
        raise ValidationError(
            f"{source}: {int(empty.sum())} feature(s) have an empty or missing geometry "
            f"(first: {ids!r}); fix or remove them in the file"
        )
    if polygonal:
        other = ~geoms.geom_type.isin(["Polygon", "MultiPolygon"])
        if other.any():
            raise ValidationError(
                f"{source}: {int(other.sum())} feature(s) are not polygons "
                f"({', '.join(sorted(set(geoms[other].geom_type)))}; first: {list(gdf.index[other][:10])!r}); "
                "a perimeter must be a polygon: fix or remove them in the file"
            )
    invalid = ~geoms.is_valid
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid].values)
        if polygonal:
            fixed = [_polygonal_part(g) for g in fixed]
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = fixed
        warnings.warn(
            f"{source}: repaired {int(invalid.sum())} invalid geometrie(s) with shapely.make_valid "
            f"(first: {list(gdf.index[invalid][:5])!r})",
            category=QpvgeoWarning, stacklevel=3,
        )
    if polygonal:
        geoms = gdf.geometry
        flat = geoms.is_empty | ~geoms.geom_type.isin(["Polygon", "MultiPolygon"])
        flat |= ~(geoms.area >= MIN_POLYGON_AREA_M2)
        if flat.any():
            raise ValidationError(
                f"{source}: {int(flat.sum())} polygon(s) are flat or degenerate, with less than "
                f"{MIN_POLYGON_AREA_M2:.0f} m² (first: {list(gdf.index[flat][:10])!r}); fix or "
                "remove them in the file"
            )
    return gdf


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    if isinstance(geom, shapely.GeometryCollection):
        parts = [g for g in geom.geoms if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
        return shapely.union_all(parts)
    if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return shapely.Polygon()  # a polygon repaired into a line or point has no area left
    return geom


def unique_key(df: pd.DataFrame, key: str, *, source: str) -> None:
    """Refuse duplicated official keys."""
    dup = df[key].duplicated(keep=False)
    if dup.any():
        raise ValidationError(
            f"{source}: {int(dup.sum())} rows share a `{key}` (e.g. {df.loc[dup, key].iloc[0]!r}); "
            "each key must appear once"
        )


# --------------------------------------------------------------------------- arguments of public functions
# osmnx's `_validate` style: one line at the top of each public function, one qpvgeo error with
# the argument's name, the value received and what is accepted.

#: most grid points (origins) qpvgeo lays in one call: a qpvgeo limit. 5 million points hold
#: every QPV of France at the default 50 m spacing several times over (the 1 609 QPV 2024 cover
#: about 62 000 ha, 250 000 cells of 50 m), and cost about 1 GB in shapely points; a larger
#: grid is a spacing given in the wrong unit (km for m), not a study.
MAX_GRID_CELLS = 5_000_000


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    integer: bool = False,
    allow_inf: bool = False,
    unit: str = "",
) -> float:
    """``value`` as a float (or int with ``integer``), refusing non-numbers, NaN and values
    outside ``[low, high]`` (``(low, high]`` with ``low_open``) with one :class:`ValidationError`."""
    what = f"a number{' of ' + unit if unit else ''}"
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        raise ValidationError(f"`{name}` must be {what}, got {plain(value)!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"`{name}` must be {what}, got {plain(value)!r}") from None
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '≥'} {low:g}")
    if high is not None:
        bounds.append(f"≤ {high:g}")
    rule = f"{what}{' ' + ' and '.join(bounds) if bounds else ''}"
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ValidationError(f"`{name}` must be a finite {rule.removeprefix('a ')}, got {plain(value)!r}")
    if (low is not None and (number < low or (low_open and number == low))) or (
        high is not None and number > high
    ):
        raise ValidationError(f"`{name}` must be {rule}, got {plain(value)!r}")
    if integer:
        if not number.is_integer():
            raise ValidationError(f"`{name}` must be a whole number, got {plain(value)!r}")
        return int(number)
    return number


def check_choice(value: object, name: str, allowed: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``allowed``, else one :class:`ValidationError` listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(
            f"`{name}` must be one of {', '.join(map(repr, allowed))}, got {plain(value)!r}"
        )
    return value


def name_list(
    values: object, name: str, *, known: object = None, what: str = "name"
) -> list[str]:
    """A non-empty list of names from a list, tuple, Series or a single string.

    A single string is one name (``"pharmacie"`` → ``["pharmacie"]``), never its letters. With
    ``known``, every name must be one of them: an :class:`UnknownCodeError` names the unknown
    ones, suggests the nearest known names and lists them all.
    """
    if isinstance(values, str):
        names = [values]
    elif values is None or isinstance(values, bytes | dict) or not hasattr(values, "__iter__"):
        raise ValidationError(
            f"`{name}` must be a list of {what}s (or one {what} as a string), got {plain(values)!r}"
        )
    else:
        names = list(values)  # type: ignore[call-overload]
    if not names:
        raise ValidationError(f"`{name}` is empty; give at least one {what}")
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise ValidationError(f"`{name}` must hold {what}s as strings, got {plain(bad[:5])!r}")
    if known is not None:
        valid = sorted(set(map(str, known)))  # type: ignore[call-overload]
        unknown = [n for n in names if n not in set(valid)]
        if unknown:
            hints = [
                f"{n!r} → {close[0]!r}?"
                for n in unknown
                if (close := difflib.get_close_matches(n, valid, n=1, cutoff=0.6))
            ]
            raise UnknownCodeError(
                f"unknown {what}(s) {unknown!r} in `{name}`"
                + (f" ({'; '.join(hints)})" if hints else "")
                + f"; the {len(valid)} valid {what}s are {', '.join(valid)}"
            )
    return names


def check_frame(
    obj: object,
    name: str,
    *,
    columns: tuple[str, ...] = (),
    geo: bool = True,
    series: bool = False,
    crs: bool = True,
) -> None:
    """``obj`` must be a GeoDataFrame (or GeoSeries with ``series``; a DataFrame when not
    ``geo``), hold ``columns`` and, for geometries, be in the project CRS (:class:`CRSError`)."""
    if geo:
        kinds: tuple[type, ...] = (gpd.GeoDataFrame, gpd.GeoSeries) if series else (gpd.GeoDataFrame,)
        wanted = " or ".join(k.__name__ for k in kinds)
    else:
        kinds, wanted = (pd.DataFrame,), "DataFrame"
    if not isinstance(obj, kinds):
        raise ValidationError(f"`{name}` must be a {wanted}, got {type(obj).__name__}")
    missing = [c for c in columns if c not in obj.columns]  # type: ignore[union-attr]
    if missing:
        raise MissingColumnError(
            f"`{name}` lacks the column(s) {missing!r}; it has {list(obj.columns)[:20]!r}"  # type: ignore[union-attr]
        )
    if geo and crs:
        assert_project_crs(obj, name)  # type: ignore[arg-type]


def check_network(net: object, name: str = "network") -> None:
    """``net`` must be a compiled :class:`~qpvgeo.network.build.WalkNetwork`."""
    from .network.build import WalkNetwork

    if not isinstance(net, WalkNetwork):
        raise ValidationError(
            f"`{name}` must be a WalkNetwork (from `qpvgeo.network.load_network` or "
            f"`compile_network`), got {type(net).__name__}"
        )


def check_grid_size(n_cells: float, name: str, spacing_m: float) -> None:
    """Refuse a grid of more than :data:`MAX_GRID_CELLS` cells before it is allocated."""
    if not n_cells <= MAX_GRID_CELLS:
        raise ValidationError(
            f"`{name}` = {plain(spacing_m)!r} m would lay about {n_cells:.3g} grid points, more "
            f"than qpvgeo's cap of {MAX_GRID_CELLS:,} (a spacing in the wrong unit?); give a "
            "spacing in metres, e.g. 50"
        )


def check_series(obj: object, name: str) -> None:
    """``obj`` must be a pandas Series."""
    if not isinstance(obj, pd.Series):
        raise ValidationError(f"`{name}` must be a pandas Series, got {type(obj).__name__}")


def check_instance(obj: object, name: str, kind: type, how: str) -> None:
    """``obj`` must be a ``kind``; ``how`` says where one comes from."""
    if not isinstance(obj, kind):
        raise ValidationError(f"`{name}` must be a {kind.__name__} ({how}), got {type(obj).__name__}")


def check_path(path: object, name: str = "path", *, exists: bool = False) -> Path:
    """``path`` as a :class:`~pathlib.Path` (from a string or path-like object); with ``exists``,
    a :class:`DataNotFoundError` when it is not a file."""
    if not isinstance(path, str | PathLike) or (isinstance(path, str) and not path):
        raise ValidationError(f"`{name}` must be a file path (str or Path), got {plain(path)!r}")
    path = Path(path)
    if exists and not path.is_file():
        raise DataNotFoundError(
            f"{str(path)!r} " + ("is a directory, not a file" if path.is_dir() else "does not exist")
        )
    return path


def check_geometries(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str, *, kind: str, allow_missing: bool = False
) -> None:
    """Every geometry of ``gdf`` must be a point (``kind="point"``) with finite coordinates, or
    a polygon with an area (``kind="polygon"``); missing or empty ones are refused unless
    ``allow_missing`` (they are then the caller's to report, e.g. as off the network)."""
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    arr = np.asarray(geoms.values, dtype=object)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    types = ("Point",) if kind == "point" else ("Polygon", "MultiPolygon")
    wrong = ~missing & ~np.isin(shapely.get_type_id(arr), [_TYPE_IDS[t] for t in types])
    if kind == "point":
        coords = np.where(missing | wrong, 0.0, shapely.get_x(np.where(missing | wrong, None, arr)))
        ys = np.where(missing | wrong, 0.0, shapely.get_y(np.where(missing | wrong, None, arr)))
        wrong |= ~(np.isfinite(coords.astype(float)) & np.isfinite(ys.astype(float)))
    else:
        wrong |= ~missing & ~(shapely.area(np.where(missing, None, arr)) > 0)
    bad = wrong | (missing & (not allow_missing))
    if bad.any():
        first = list(plain(geoms.index[bad][:5].tolist()))
        what = "points with finite coordinates" if kind == "point" else "polygons with an area"
        raise ValidationError(
            f"`{name}`: {int(bad.sum())} of its {len(arr)} geometries are not {what} "
            f"({int((missing & bad).sum())} missing or empty; first: {first!r}); fix or drop them"
        )


_TYPE_IDS = {"Point": 0, "Polygon": 3, "MultiPolygon": 6}


def check_unique_index(df: pd.DataFrame, name: str) -> None:
    """One row per key: results are indexed like ``df``."""
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()][:5].tolist()
        raise ValidationError(f"`{name}` has a duplicated index (e.g. {plain(dup)!r}); give each row its own key")
