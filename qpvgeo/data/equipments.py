"""Equipments: INSEE's BPE (official ``;``-separated files or the mirror's) and OSM shops and
amenities, in qpvgeo's nomenclature, with the plausibility checks that stop a wrong file.

Part of :mod:`qpvgeo.data.loaders` (its names are importable from there too).
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import CRSError, EmptyLayerError, QpvgeoWarning, ValidationError
from .._validate import check_frame, check_number, check_path, pick_columns, read_csv
from . import nomenclature, sources
from .loaders import DataDir, _check_dep, _dep_of, _to_number, departement_outline, load_communes

log = logging.getLogger(__name__)

# Plausibility checks of the BPE: qpvgeo's own thresholds, each with its reasoning (README,
# "Working offline: the data directory").

#: smallest share of the département's communes holding at least one BPE equipment (by its
#: commune code, or by its point). The mirror's 53-type selection covers 181 of the 194 communes
#: of Essonne (93 %), and the national BPE, with its 200-odd types, nearly all communes; a file
#: of another département only reaches the communes of its border ring (the Essonne file and
#: its ring cover 21 of the 47 communes of Val-de-Marne, 45 %, and 9 of the 36 of
#: Hauts-de-Seine). 70 % leaves room for rural départements with many tiny communes.
MIN_BPE_COMMUNE_COVERAGE = 0.70
#: largest share of a BPE file's rows that repeat another row exactly. Exact repeats are
#: legitimate (several equipments of one code at one address, such as the doctors of a
#: practice: 16 % of the mirror's Essonne rows, 17 % of its ring file's), and are kept; a file
#: appended to itself has at least 50 %, which would double every count.
MAX_BPE_DUPLICATE_SHARE = 0.30
#: share of the département's BPE points (by commune code) lying farther than the ring
#: (``settings.equipment_buffer_m``) outside its bounding box above which the coordinates are
#: wrong as a whole (another projection, swapped axes) rather than a few misplaced points
#: (left out, with a counted warning).
MAX_BPE_OUTSIDE_SHARE = 0.5

#: widest ring of equipments around a département (``buffer_m``): 50 km, a qpvgeo limit. The
#: ring is for edge effects of walking (15 minutes is about 1.1 km; the default is 3 km); a
#: larger value is a distance in the wrong unit and would load half of France.
MAX_BUFFER_M = 50_000.0

_BPE_COLUMNS = {
    "code": ("TYPEQU", "typequ_derive", "typequ"),
    "insee_com": ("DEPCOM", "commune", "depcom"),
    "x": ("LAMBERT_X", "lambert_x"),
    "y": ("LAMBERT_Y", "lambert_y"),
}


def read_bpe(path, *, source: str | None = None) -> gpd.GeoDataFrame:
    """Read a BPE point file (official ``BPE24.csv``, or the mirror's selection).

    Coordinates are Lambert-93 (``LAMBERT_X``/``LAMBERT_Y``). Rows without
    coordinates are left out with a counted warning (INSEE does not geolocate
    every equipment).
    """
    path = check_path(path, exists=True)
    src = source or f"BPE file {getattr(path, 'name', path)!r}"
    raw = read_csv(path)
    header = _header_like_rows(raw)
    if header.any():
        lines = [i + 2 for i in raw.index[header][:5]]  # line numbers: the header is line 1
        warnings.warn(
            f"{src}: {int(header.sum())} rows repeat the header line (line(s) {lines}) and are "
            "left out; was the file put together from several?",
            category=QpvgeoWarning, stacklevel=2,
        )
        raw = raw[~header].reset_index(drop=True)
    _check_duplicate_rows(raw, src)
    df = pick_columns(raw, _BPE_COLUMNS, source=src)
    if len(df) == 0:
        raise EmptyLayerError(f"{src}: no row")
    x, y = _to_number(df["x"]), _to_number(df["y"])
    no_xy = x.isna() | y.isna()
    if no_xy.all():
        raise ValidationError(
            f"{src}: no row has numeric `LAMBERT_X`/`LAMBERT_Y`; check the separator and the "
            "decimal mark of the file"
        )
    if no_xy.any():
        warnings.warn(
            f"{src}: {int(no_xy.sum())} equipments have no coordinates and are left out "
            f"(codes: {df.loc[no_xy, 'code'].value_counts().head(5).to_dict()!r})",
            category=QpvgeoWarning, stacklevel=2,
        )
    df = df[~no_xy]
    # Lambert-93 sanity: metropolitan France lies within these bounds
    out = ~(x[~no_xy].between(0, 1_300_000) & y[~no_xy].between(6_000_000, 7_200_000))
    if out.any():
        ox, oy = x[~no_xy][out], y[~no_xy][out]
        lonlat = bool((ox.abs() <= 180).all() and (oy.abs() <= 90).all())
        raise ValidationError(
            f"{src}: {int(out.sum())} equipments have coordinates outside Lambert-93 France "
            f"(e.g. x={ox.iloc[0]!r}, y={oy.iloc[0]!r})"
            + ("; they look like longitude/latitude (EPSG:4326)" if lonlat else "")
            + "; the file must give LAMBERT_X/LAMBERT_Y in Lambert-93 metres (EPSG:2154) "
            "(overseas départements are not supported yet)"
        )
    gdf = gpd.GeoDataFrame(
        {"code": df["code"].str.strip().values, "insee_com": df["insee_com"].values},
        geometry=gpd.points_from_xy(x[~no_xy], y[~no_xy]),
        crs=settings.crs,
    )
    gdf["source"] = "BPE"
    return gdf


def _header_like_rows(df: pd.DataFrame) -> pd.Series:
    """Rows where at least half the cells (and two) hold their own column's name."""
    same = pd.DataFrame(
        {
            i: (df[c].astype("string").str.strip().str.lower() == str(c).strip().lower()).fillna(False)
            for i, c in enumerate(df.columns)
        },
        index=df.index,
    )
    return same.sum(axis=1) >= max(2, (len(df.columns) + 1) // 2)


def _check_duplicate_rows(df: pd.DataFrame, src: str) -> None:
    """Count the rows repeating another exactly; refuse a file made mostly of repeats.

    A few repeats are several equipments at one address (kept: see :func:`load_equipments`);
    more than :data:`MAX_BPE_DUPLICATE_SHARE` of the rows, or a file whose second half repeats
    the first, is a file appended to itself.
    """
    n = len(df)
    if n == 0:
        return
    repeats = int(df.duplicated().sum())
    half = n // 2
    doubled = n % 2 == 0 and n > 0 and df.iloc[:half].reset_index(drop=True).equals(
        df.iloc[half:].reset_index(drop=True)
    )
    if doubled or repeats > MAX_BPE_DUPLICATE_SHARE * n:
        raise ValidationError(
            f"{src}: {repeats} of its {n} rows ({repeats / n:.0%}) repeat another row exactly"
            + ("; its second half repeats the first: the file was appended to itself" if doubled
               else f", more than qpvgeo accepts ({MAX_BPE_DUPLICATE_SHARE:.0%}: several "
               "equipments at one address make about 16% in the BPE 2024)")
            + "; every count would be inflated. Get the file again (see `qpvgeo data`)"
        )  # fmt: skip
    log.info("%s: %d rows, %d repeating another exactly (kept)", src, n, repeats)


def equipments_from_osm(features: gpd.GeoDataFrame, *, source: str = "OSM") -> gpd.GeoDataFrame:
    """Harmonise OSM ``shop``/``amenity`` features (e.g. from :func:`osmnx.features_from_polygon`).

    Polygons become representative points. Returns the same columns as
    :func:`load_equipments` (``code`` is the ``key=value`` tag that classified the feature).
    """
    check_frame(features, "features", crs=False)
    if features.crs is None:
        raise CRSError(f"{source}: features have no CRS; set it (e.g. `features.set_crs(4326)`)")
    feats = features.to_crs(settings.crs)
    cats = nomenclature.osm_category(feats, source=source)
    codes = nomenclature.equipment_codes()
    known = set(codes.loc[codes["source"] == "osm", "code"])
    # the tag that classified the feature (shop before amenity), else its first tag
    classifying = pd.Series(pd.NA, index=feats.index, dtype=object)
    first = pd.Series(pd.NA, index=feats.index, dtype=object)
    for key in nomenclature.OSM_KEYS:
        if key in feats.columns:
            tag = (key + "=" + feats[key].astype("string")).astype(object)
            classifying = classifying.where(classifying.notna() | ~tag.isin(known), tag)
            first = first.where(first.notna() | feats[key].isna(), tag)
    code = classifying.fillna(first).fillna("")
    gdf = gpd.GeoDataFrame(
        {"code": code.values, "insee_com": pd.NA, "source": source},
        geometry=feats.geometry.representative_point().values,
        crs=settings.crs,
    )
    gdf["category"] = cats.values
    return gdf


def load_equipments(
    dep: str,
    *,
    buffer_m: float | None = None,
    osm_features: gpd.GeoDataFrame | None = None,
    data_dir: DataDir = None,
    offline: bool | None = None,
) -> gpd.GeoDataFrame:
    """Shops and services of a département and of a ring around it (edge effects).

    BPE equipments of the département and those of the neighbouring
    départements within ``buffer_m`` of its outline are read (from the national
    BPE, or from the mirror's département file plus its border-ring file), and
    optional OSM features are added, all classified into qpvgeo's nomenclature.

    Duplicates rule: BPE rows that repeat another exactly (same code, same
    point) are several equipments at one address (several doctors in a
    practice): they are **kept** (supply counts them) and share a ``site_id``;
    ``n_at_site`` tells how many equipments of that code stand there. Use
    ``drop_duplicates("site_id")`` to count places. A file made mostly of repeats
    (more than :data:`MAX_BPE_DUPLICATE_SHARE`, or appended to itself) is refused.
    BPE and OSM are not merged: pass OSM features only for categories the BPE lacks.

    Plausibility: the BPE must hold equipments in at least
    :data:`MIN_BPE_COMMUNE_COVERAGE` of the département's communes (else it is
    another département's file); a file with the national name holding a single
    département is read as an extract, with the ring file; equipments of the
    département lying farther than ``buffer_m`` outside it are left out with a
    counted warning, or refused when they are most of them
    (:data:`MAX_BPE_OUTSIDE_SHARE`).

    Returns
    -------
    GeoDataFrame
        Indexed by ``equipment_id``, EPSG:2154.
    """
    dep = _check_dep(dep)
    buffer_m = settings.equipment_buffer_m if buffer_m is None else buffer_m
    buffer_m = check_number(buffer_m, "buffer_m", low=0, high=MAX_BUFFER_M, unit="metres")
    if osm_features is not None:
        check_frame(osm_features, "osm_features", crs=False)
    communes = load_communes(dep, data_dir=data_dir, offline=offline)
    outline = departement_outline(communes)
    zone = outline.buffer(buffer_m)

    main = sources.fetch("bpe", data_dir, offline=offline)
    parts, files = _read_bpe_files(main, dep, data_dir, offline)
    bpe = pd.concat(parts, ignore_index=True)
    bpe = _drop_far_points(bpe, dep, outline, buffer_m, files)
    in_zone = bpe.geometry.within(zone) | bpe["insee_com"].astype(str).str.startswith(dep)
    bpe = bpe[in_zone.values]
    if len(bpe) == 0:
        raise EmptyLayerError(f"BPE: no equipment in or around département {dep}")
    _check_bpe_coverage(bpe, communes, dep, files)
    bpe["category"] = nomenclature.bpe_category(bpe["code"], source=f"BPE file {main.name!r}").values
    frames = [bpe]
    if osm_features is not None:
        osm = equipments_from_osm(osm_features)
        frames.append(osm[osm.geometry.within(zone).values])
    eq = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.crs)
    eq["typequ_2021"] = nomenclature.bpe_typequ_2021(eq["code"]).values
    eq["in_dep"] = eq["insee_com"].astype(str).str.startswith(dep).values | eq.geometry.within(outline).values
    xy = np.round(np.column_stack([eq.geometry.x, eq.geometry.y]), 1)
    site = pd.Series([f"{c}@{a:.1f},{b:.1f}" for c, (a, b) in zip(eq["code"], xy, strict=True)])
    eq["site_id"] = pd.factorize(site)[0]
    eq["n_at_site"] = eq.groupby("site_id")["site_id"].transform("size").values
    cats = nomenclature.categories()
    for col in ("label_fr", "domain", "is_commerce", "is_public_service", "is_food_retail"):
        default = nomenclature.UNCLASSIFIED if col in ("label_fr", "domain") else False
        eq[col] = eq["category"].map(cats[col]).fillna(default)
        if col.startswith("is_"):
            eq[col] = eq[col].astype(bool)
    eq.index = pd.Index([f"{s}{i:06d}" for s, i in zip(eq["source"], range(len(eq)), strict=True)], name="equipment_id")
    cols = ["source", "code", "category", "label_fr", "domain", "is_commerce", "is_public_service",
            "is_food_retail", "typequ_2021", "insee_com", "in_dep", "site_id", "n_at_site", "geometry"]
    log.info("loaded %d equipments (%d in %s)", len(eq), int(eq["in_dep"].sum()), dep)
    return eq[cols]


def _read_bpe_files(main, dep: str, data_dir: DataDir, offline: bool | None) -> tuple[list, list[str]]:
    """The BPE file, and the border-ring file when the first is a départemental extract (by its
    name, or a national-named file holding one département)."""
    parts = [read_bpe(main)]
    files = [main.name]
    national = sources.dataset("bpe").files[0]
    extract = not main.as_posix().endswith(national)
    held = sorted(_dep_of(parts[0]["insee_com"].dropna()).unique())
    if not extract and len(held) == 1:
        # a national-named file holding one département is an extract: never drop the ring
        extract = True
        warnings.warn(
            f"BPE file {main.name!r} has the national file's name but holds only département "
            f"{held[0]}: it is read as a départemental extract, with the border-ring file "
            f"({sources.dataset('bpe_ring').files[0]!r}) when present",
            category=QpvgeoWarning, stacklevel=3,
        )
    if extract:  # a départemental extract: add the ring
        ring = sources.find("bpe_ring", data_dir)
        if ring is None:
            warnings.warn(
                f"no BPE file for the ring outside département {dep} "
                f"({sources.dataset('bpe_ring').files[0]!r}); equipments just across the border "
                "are not counted (edge effects)",
                category=QpvgeoWarning, stacklevel=3,
            )
        else:
            ring = sources.fetch("bpe_ring", data_dir, offline=offline)
            parts.append(read_bpe(ring))
            files.append(ring.name)
    return parts, files


def _drop_far_points(
    bpe: gpd.GeoDataFrame, dep: str, outline: shapely.Geometry, buffer_m: float, files: list[str]
) -> gpd.GeoDataFrame:
    """Leave out equipments of ``dep`` (by commune code) whose point lies farther than
    ``buffer_m`` outside the département's bounding box; an error when most do."""
    of_dep = bpe["insee_com"].astype(str).str.startswith(dep).to_numpy()
    x0, y0, x1, y1 = outline.bounds
    x, y = bpe.geometry.x.to_numpy(), bpe.geometry.y.to_numpy()
    inside = (x >= x0 - buffer_m) & (x <= x1 + buffer_m) & (y >= y0 - buffer_m) & (y <= y1 + buffer_m)
    far = of_dep & ~inside
    if not far.any():
        return bpe
    src = f"BPE file(s) {', '.join(map(repr, files))}"
    example = f"e.g. x={x[far][0]:.0f}, y={y[far][0]:.0f} for commune {bpe['insee_com'][far].iloc[0]}"
    box = f"x {x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}"
    if far.sum() > MAX_BPE_OUTSIDE_SHARE * of_dep.sum():
        raise ValidationError(
            f"{src}: {int(far.sum())} of the {int(of_dep.sum())} equipments of département {dep} "
            f"lie more than {buffer_m:.0f} m outside it ({box}; {example}): LAMBERT_X/LAMBERT_Y "
            "look swapped or in another projection; they must be Lambert-93 metres (EPSG:2154)"
        )
    warnings.warn(
        f"{src}: {int(far.sum())} equipments of département {dep} lie more than {buffer_m:.0f} m "
        f"outside it ({example}) and are left out (misplaced coordinates)",
        category=QpvgeoWarning, stacklevel=3,
    )
    return bpe[~far]


def _check_bpe_coverage(
    bpe: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, dep: str, files: list[str]
) -> None:
    """Refuse BPE files holding equipments in too few of the département's communes
    (:data:`MIN_BPE_COMMUNE_COVERAGE`): a file of another département."""
    by_code = communes.index.isin(bpe["insee_com"].astype(str))
    hits = gpd.sjoin(communes[["geometry"]], bpe[["geometry"]], predicate="intersects")
    covered = by_code | communes.index.isin(hits.index)
    share = covered.mean()
    if share >= MIN_BPE_COMMUNE_COVERAGE:
        return
    held = ", ".join(sorted(_dep_of(bpe["insee_com"].dropna()).unique()))
    names = ", ".join(map(repr, files))
    raise ValidationError(
        f"BPE file(s) {names} cover {int(covered.sum())} of the {len(communes)} communes of "
        f"{dep} ({share:.0%}; qpvgeo expects at least {MIN_BPE_COMMUNE_COVERAGE:.0%}): "
        f"{'it looks like a file' if len(files) == 1 else 'they look like files'} for another "
        f"département (equipments of {held}); get the national BPE "
        f"({sources.dataset('bpe').files[0]!r}, {sources.dataset('bpe').page}) and save it in "
        "the data directory"
    )


def load_gammes(*, data_dir: DataDir = None, offline: bool | None = None) -> pd.DataFrame:
    """INSEE's BPE gammes table (2021 codes), one row per TYPEQU."""
    path = sources.fetch("bpe_gammes", data_dir, offline=offline)
    src = f"gammes file {path.name!r}"
    return pick_columns(
        read_csv(path),
        {"typequ": ("TYPEQU",), "code_equipement": (), "libelle_equipement": (), "gamme": ("GAMME",)},
        source=src,
    )
