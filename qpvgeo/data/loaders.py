"""Loaders: official files → one schema, EPSG:2154, validated, indexed by the official key.

=====================  =============  ==============================================
loader                 index          main columns
=====================  =============  ==============================================
:func:`load_qpv`       ``code_qp``    lib_qp, insee_com, lib_com, insee_dep
:func:`load_communes`  ``insee_com``  nom, insee_dep
:func:`load_iris`      ``code_iris``  nom_iris, typ_iris, insee_com, population,
                                      median_income_eur, low_income_rate_pct
:func:`load_equipments`  ``equipment_id``  source, code, category, label_fr, domain,
                                      is_commerce, is_public_service, is_food_retail,
                                      insee_com, in_dep, site_id, n_at_site
:func:`load_stations`  ``station_id`` name, modes, lines
=====================  =============  ==============================================

Each reads the official publication format as well as the reference
mirror's layout (see :mod:`qpvgeo.sources`).
"""

from __future__ import annotations

import logging
import re
import warnings
from os import PathLike

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import CRSError, EmptyLayerError, QpvgeoWarning, UnknownCodeError, ValidationError
from .._validate import (
    pick_columns,
    read_csv,
    read_layer,
    repair_geometries,
    to_project_crs,
    unique_key,
)
from . import nomenclature, sources

log = logging.getLogger(__name__)

DataDir = str | PathLike | None

_DEP_RE = re.compile(r"^(\d{2}|2[AB]|97\d)$")
_QPV_RE = re.compile(r"^Q[NP]\d{5,6}[A-Z]?$")
#: CRS the official vector layers are published in (lon/lat WGS84 or RGF93, Lambert-93)
_PUBLISHED_CRS = (4326, 4171, 2154)

# Plausibility checks at load: qpvgeo's own thresholds, each with its reasoning (README,
# "Working offline: the data directory"). They catch a wrong file that would otherwise give
# wrong figures without a word.

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
#: a QPV lies outside its département when less than half its area is within this distance of
#: the département's outline (the communes are simplified to 100 m; QPV edges follow streets)
QPV_OUTSIDE_TOLERANCE_M = 250.0


def _check_dep(dep: str) -> str:
    given = dep
    dep = str(dep).strip().upper()
    if not _DEP_RE.match(dep):
        raise UnknownCodeError(
            f"département {given!r} is not a département code; give two digits "
            "('91'), '2A'/'2B', or three for overseas ('974')"
        )
    return dep


def _dep_of(insee_com: pd.Series) -> pd.Series:
    """Département of commune codes: 3 characters overseas (97x), else 2."""
    com = insee_com.astype(str).str.strip()
    return com.str[:2].where(~com.str.startswith("97"), com.str[:3])


def _unknown_dep(src: str, dep: str, what: str, insee_com: pd.Series) -> UnknownCodeError:
    available = sorted(_dep_of(insee_com.dropna()).unique())
    return UnknownCodeError(
        f"{src} has no {what} in département {dep!r}; it covers département(s) "
        f"{', '.join(available)}: give one of these, or put a file covering {dep} in the data "
        "directory"
    )


def _to_number(values: pd.Series) -> pd.Series:
    """Numbers from official CSV text, decimal commas understood; blanks, 's', 'nd'... → NaN."""
    text = values.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")


# --------------------------------------------------------------------------- QPV


def _check_qpv_codes(codes) -> list[str]:
    """The QPV codes, upper-cased; an error names those that are not QPV 2024 codes."""
    codes = [str(c).strip().upper() for c in codes]
    bad_form = [c for c in codes if not _QPV_RE.match(c)]
    if bad_form:
        verb = "is not a QPV code" if len(bad_form) == 1 else "are not QPV codes"
        raise UnknownCodeError(
            f"{bad_form!r} {verb}; "
            "a QPV 2024 code is 'QN' + département + number + letter, e.g. 'QN09106M'"
        )
    return codes


def _check_known(codes: list[str], available: pd.Series, where: str) -> None:
    """An error naming the codes not in ``available``, listing those that are."""
    known = sorted(available)
    missing = [c for c in codes if c not in set(known)]
    if not missing:
        return
    listed = ", ".join(known[:80])
    if len(known) > 80:
        listed += f" and {len(known) - 80} more"
    old = [c for c in missing if c.startswith("QP")]
    hint = f" ({old!r}: 'QP' codes are 2015 QPV; 2024 codes start with 'QN')" if old else ""
    raise UnknownCodeError(
        f"unknown QPV code(s) {missing!r} in {where}{hint}"
        + f"; the {len(known)} QPV 2024 codes there are {listed}"
    )


def load_qpv(
    dep: str | None = None,
    codes: list[str] | tuple[str, ...] | None = None,
    *,
    data_dir: DataDir = None,
    offline: bool | None = None,
) -> gpd.GeoDataFrame:
    """QPV 2024 perimeters (ANCT), for a département and/or a list of QPV codes.

    Parameters
    ----------
    dep : str, optional
        Département code (``"91"``).
    codes : list of str, optional
        QPV codes (``"QN09106M"``); all must exist (in ``dep`` if given).
    data_dir, offline
        See :func:`qpvgeo.sources.fetch`.

    Returns
    -------
    GeoDataFrame
        Indexed by ``code_qp``, EPSG:2154: ``lib_qp``, ``insee_com`` (several
        communes joined by ``,``), ``lib_com``, ``insee_dep``, ``area_ha``.
    """
    if dep is None and not codes:
        raise ValidationError("give a département (`dep`) or QPV codes (`codes`)")
    if dep is not None:
        dep = _check_dep(dep)
    if codes:
        codes = _check_qpv_codes(codes)
    path = sources.fetch("qpv", data_dir, offline=offline)
    src = f"QPV file {path.name!r}"
    gdf = read_layer(path, source=src)
    gdf = pick_columns(
        gdf,
        {
            "code_qp": ("CODE_QP", "code_quartier"),
            "lib_qp": ("LIB_QP", "nom_qp"),
            "insee_com": ("INSEE_COM", "insee_com_list"),
            "lib_com": ("LIB_COM", "nom_com"),
            "insee_dep": ("INSEE_DEP", "dep", "code_dep"),
            "geometry": (),
        },
        source=src,
        optional=("lib_com", "insee_dep"),
    )
    if "insee_dep" not in gdf.columns:
        gdf["insee_dep"] = _dep_of(gdf["insee_com"])
    if "lib_com" not in gdf.columns:
        gdf["lib_com"] = ""
    gdf["insee_com"] = gdf["insee_com"].astype(str).str.replace("|", ",", regex=False)
    unique_key(gdf, "code_qp", source=src)
    available = sorted(gdf["insee_dep"].dropna().astype(str).unique())
    if dep is not None:
        if dep not in available:
            raise UnknownCodeError(
                f"département {dep!r} has no QPV in {str(path)!r}, which covers "
                f"{', '.join(available)}; give one of these, or put the national ANCT file "
                f"({sources.dataset('qpv').files[0]!r}) in the data directory"
            )
        gdf = gdf[gdf["insee_dep"] == dep]
    if codes:
        _check_known(codes, gdf["code_qp"], f"département {dep}" if dep else f"{str(path)!r}")
        gdf = gdf[gdf["code_qp"].isin(codes)]
    if len(gdf) == 0:
        raise EmptyLayerError(f"{src}: no QPV selected")
    gdf = to_project_crs(
        gdf[["code_qp", "lib_qp", "insee_com", "lib_com", "insee_dep", "geometry"]],
        source=src, expected=_PUBLISHED_CRS,
    )
    gdf = repair_geometries(gdf.set_index("code_qp"), source=src, polygonal=True)
    _check_qpv_inside(gdf, src, data_dir=data_dir, offline=offline)
    gdf["area_ha"] = gdf.area / 1e4
    log.info("loaded %d QPV from %s", len(gdf), path.name)
    return gdf.sort_index()


def _check_qpv_inside(
    qpv: gpd.GeoDataFrame, src: str, *, data_dir: DataDir, offline: bool | None
) -> None:
    """Refuse QPV whose geometry lies outside their département (misplaced coordinates).

    Each QPV must have at least half its area within :data:`QPV_OUTSIDE_TOLERANCE_M` of the
    outline of its département (``insee_dep``), from the communes layer. Skipped when the data
    directory has no communes layer (the run itself needs one and says so).
    """
    if sources.find("communes", data_dir) is None:
        return
    outside: list[str] = []
    for dep, group in qpv.groupby("insee_dep"):
        try:
            communes = load_communes(str(dep), data_dir=data_dir, offline=offline)
        except UnknownCodeError:
            continue  # no commune of that département: the communes loader says so in the run
        zone = departement_outline(communes).buffer(QPV_OUTSIDE_TOLERANCE_M)
        finite = np.isfinite(group.geometry.bounds.to_numpy()).all(axis=1)
        share = pd.Series(0.0, index=group.index)
        inner = group.geometry[finite]
        share[finite] = (inner.intersection(zone).area / inner.area).to_numpy()
        outside += [f"{code} ({group.at[code, 'lib_qp']}, {dep})" for code in group.index[~(share >= 0.5)]]
    if outside:
        raise ValidationError(
            f"{src}: {len(outside)} QPV lie outside their département (less than half their area "
            f"within {QPV_OUTSIDE_TOLERANCE_M:.0f} m of its communes): {', '.join(outside[:10])}"
            + (f" and {len(outside) - 10} more" if len(outside) > 10 else "")
            + "; their coordinates are misplaced (longitude and latitude swapped? a wrong CRS?): "
            "check the file, or get it again from ANCT (see `qpvgeo data`)"
        )


#: official QPV figures (SIG Ville export) -> qpvgeo columns
QPV_FIGURES: dict[str, tuple[str, ...]] = {
    "population_qpv": ("popMuniQPV",),
    "households_qpv": ("nombre_menages",),
    "share_households_1p_pct": ("partMen1p",),
    "share_households_2p_pct": ("partMen2p",),
    "share_households_3p_pct": ("partMen3p",),
    "share_households_4_5p_pct": ("partMen45p",),
    "share_households_6pp_pct": ("partMen6pp",),
    "employment_rate_qpv_pct": ("taux_d_emploi",),
    "poverty_rate_qpv_pct": ("taux_pauvrete_60%", "taux_pauvrete_60"),
}


def load_qpv_figures(
    codes: list[str] | tuple[str, ...] | pd.Index,
    *,
    data_dir: DataDir = None,
    offline: bool | None = None,
) -> pd.DataFrame:
    """Official key figures of each QPV (ANCT SIG Ville, from INSEE and CNAF).

    Returns
    -------
    DataFrame
        Indexed by ``code_qp`` (the ``codes`` given, in order): ``population_qpv``
        (population municipale, INSEE), ``households_qpv``, the shares of
        households of 1, 2, 3, 4–5 and 6+ persons (``share_households_<n>p_pct``),
        ``employment_rate_qpv_pct`` (15–64 in employment) and
        ``poverty_rate_qpv_pct`` (below 60 % of the median standard of living,
        Filosofi). A figure under statistical secrecy is NaN; a QPV missing
        from the file is all NaN, with a warning that names it.
    """
    path = sources.fetch("qpv_figures", data_dir, offline=offline)
    src = f"QPV key figures file {path.name!r}"
    df = pick_columns(
        read_csv(path, dtype=str), {"code_qp": ("CODE_QP", "codeQPV"), **QPV_FIGURES}, source=src
    )
    df["code_qp"] = df["code_qp"].str.strip().str.upper()
    unique_key(df, "code_qp", source=src)
    df = df.set_index("code_qp")[list(QPV_FIGURES)]
    for col in QPV_FIGURES:
        df[col] = _to_number(df[col])
    out = df.reindex(pd.Index(list(codes), name="code_qp"))
    absent = out.index[~out.index.isin(df.index)]
    if len(absent):
        warnings.warn(
            f"{src}: {len(absent)} QPV are not in it ({', '.join(absent[:10])}); their official "
            "figures are left empty. Get the current SIG Ville export (see `qpvgeo data`)",
            category=QpvgeoWarning, stacklevel=2,
        )
    return out


# --------------------------------------------------------------------------- communes, IRIS


def load_communes(
    dep: str, *, data_dir: DataDir = None, offline: bool | None = None
) -> gpd.GeoDataFrame:
    """Commune outlines (Etalab 2024) of a département, indexed by ``insee_com``."""
    dep = _check_dep(dep)
    path = sources.fetch("communes", data_dir, offline=offline)
    src = f"communes file {path.name!r}"
    gdf = pick_columns(
        read_layer(path, source=src), {"insee_com": ("code", "INSEE_COM"), "nom": ("NOM", "nom_com")}, source=src
    )
    gdf["insee_com"] = gdf["insee_com"].astype(str)
    every = gdf["insee_com"]
    gdf = gdf[_dep_of(gdf["insee_com"]) == dep]
    if len(gdf) == 0:
        raise _unknown_dep(src, dep, "commune", every)
    unique_key(gdf, "insee_com", source=src)
    gdf = to_project_crs(gdf[["insee_com", "nom", "geometry"]], source=src, expected=_PUBLISHED_CRS)
    gdf = repair_geometries(gdf.set_index("insee_com"), source=src, polygonal=True)
    gdf["insee_dep"] = dep
    return gdf.sort_index()


def departement_outline(communes: gpd.GeoDataFrame) -> shapely.Geometry:
    """Outline of a département: the union of its communes."""
    return shapely.union_all(communes.geometry.values)


def load_iris(
    dep: str, *, data_dir: DataDir = None, offline: bool | None = None
) -> gpd.GeoDataFrame:
    """IRIS of a département with RP 2021 population and Filosofi 2021 income.

    Returns
    -------
    GeoDataFrame
        Indexed by ``code_iris``, EPSG:2154: ``nom_iris``, ``typ_iris``,
        ``insee_com``, ``population`` (RP 2021, persons), ``median_income_eur``
        (Filosofi 2021 declared median income per consumption unit) and
        ``low_income_rate_pct`` (declared income below 60 % of the median: a low-income rate,
        not the poverty rate of disposable income). Income is NaN
        where INSEE publishes none (small communes, statistical secrecy): a
        warning counts them.
    """
    dep = _check_dep(dep)
    path = sources.fetch("iris", data_dir, offline=offline)
    src = f"IRIS file {path.name!r}"
    gdf = pick_columns(
        read_layer(path, source=src),
        {
            "code_iris": ("CODE_IRIS", "iris"),
            "nom_iris": ("NOM_IRIS",),
            "typ_iris": ("TYP_IRIS",),
            "insee_com": ("INSEE_COM", "com", "depcom"),
        },
        source=src,
    )
    gdf["code_iris"] = gdf["code_iris"].astype(str)
    every = gdf["insee_com"]
    gdf = gdf[_dep_of(gdf["insee_com"]) == dep]
    if len(gdf) == 0:
        raise _unknown_dep(src, dep, "IRIS", every)
    unique_key(gdf, "code_iris", source=src)
    gdf = to_project_crs(
        gdf[["code_iris", "nom_iris", "typ_iris", "insee_com", "geometry"]],
        source=src, expected=_PUBLISHED_CRS,
    )
    gdf = repair_geometries(gdf.set_index("code_iris"), source=src, polygonal=True)

    pop_path = sources.fetch("iris_population", data_dir, offline=offline)
    psrc = f"IRIS population file {pop_path.name!r}"
    pop = pick_columns(read_csv(pop_path), {"code_iris": ("IRIS", "iris"), "population": ("P21_POP", "pop")}, source=psrc)
    pop = pop.drop_duplicates("code_iris").set_index("code_iris")["population"]
    gdf["population"] = _to_number(pd.Series(gdf.index.map(pop), index=gdf.index))
    missing = gdf["population"].isna()
    if missing.all():
        raise ValidationError(
            f"{psrc}: no IRIS code of département {dep} found in it; is it the right vintage?"
        )
    if missing.any():
        warnings.warn(
            f"{psrc}: {int(missing.sum())} IRIS of {dep} have no population "
            f"(e.g. {list(gdf.index[missing][:3])!r}); their residents are not counted",
            category=QpvgeoWarning, stacklevel=2,
        )

    inc_path = sources.fetch("iris_income", data_dir, offline=offline)
    isrc = f"Filosofi file {inc_path.name!r}"
    inc = pick_columns(
        read_csv(inc_path),
        {"code_iris": ("IRIS",), "median_income_eur": ("DEC_MED21",), "low_income_rate_pct": ("DEC_TP6021",)},
        source=isrc,
    ).drop_duplicates("code_iris").set_index("code_iris")
    for col in ("median_income_eur", "low_income_rate_pct"):
        gdf[col] = _to_number(pd.Series(gdf.index.map(inc[col]), index=gdf.index))
    no_income = gdf["median_income_eur"].isna()
    if no_income.any():
        warnings.warn(
            f"{isrc}: {int(no_income.sum())} of {len(gdf)} IRIS of {dep} have no income figure "
            "(INSEE publishes none for small communes or under statistical secrecy)",
            category=QpvgeoWarning, stacklevel=2,
        )
    return gdf.sort_index()


# --------------------------------------------------------------------------- equipments

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
    communes = load_communes(dep, data_dir=data_dir, offline=offline)
    outline = departement_outline(communes)
    zone = outline.buffer(buffer_m)

    main = sources.fetch("bpe", data_dir, offline=offline)
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
            category=QpvgeoWarning, stacklevel=2,
        )
    if extract:  # a départemental extract: add the ring
        ring = sources.find("bpe_ring", data_dir)
        if ring is None:
            warnings.warn(
                f"no BPE file for the ring outside département {dep} "
                f"({sources.dataset('bpe_ring').files[0]!r}); equipments just across the border "
                "are not counted (edge effects)",
                category=QpvgeoWarning, stacklevel=2,
            )
        else:
            ring = sources.fetch("bpe_ring", data_dir, offline=offline)
            parts.append(read_bpe(ring))
            files.append(ring.name)
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


# --------------------------------------------------------------------------- stations


def load_stations(
    dep: str, *, buffer_m: float | None = None, data_dir: DataDir = None, offline: bool | None = None
) -> gpd.GeoDataFrame:
    """Rail stations (IDFM) in and around a département, one row per station (stop area).

    Returns
    -------
    GeoDataFrame
        Indexed by ``station_id`` (IDFM ``id_ref_zdc``), EPSG:2154: ``name``,
        ``modes`` (e.g. ``"RER, TRAIN"``), ``lines``.
    """
    dep = _check_dep(dep)
    buffer_m = settings.equipment_buffer_m if buffer_m is None else buffer_m
    path = sources.fetch("stations", data_dir, offline=offline)
    src = f"stations file {path.name!r}"
    gdf = pick_columns(
        read_layer(path, source=src),
        {"station_id": ("id_ref_zdc",), "name": ("nom_zdc", "nom_gares"), "mode": (), "line": ("res_com", "indice_lig")},
        source=src,
    )
    gdf = to_project_crs(gdf, source=src, expected=_PUBLISHED_CRS)
    zone = departement_outline(load_communes(dep, data_dir=data_dir, offline=offline)).buffer(buffer_m)
    gdf = gdf[gdf.geometry.within(zone)]
    if len(gdf) == 0:
        raise EmptyLayerError(f"{src}: no station in or around département {dep}")
    gdf["station_id"] = gdf["station_id"].astype(str)
    grouped = gdf.groupby("station_id")
    out = gpd.GeoDataFrame(
        {
            "name": grouped["name"].first(),
            "modes": grouped["mode"].agg(lambda s: ", ".join(sorted(set(map(str, s))))),
            "lines": grouped["line"].agg(lambda s: ", ".join(sorted(set(map(str, s))))),
        },
        geometry=gpd.GeoSeries(grouped.geometry.agg(lambda g: shapely.centroid(shapely.union_all(g.values))), crs=settings.crs),
        crs=settings.crs,
    )
    return out.sort_index()
