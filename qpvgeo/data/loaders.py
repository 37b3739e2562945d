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
from .._errors import EmptyLayerError, QpvgeoWarning, UnknownCodeError, ValidationError, plain
from .._validate import (
    check_frame,
    check_number,
    name_list,
    pick_columns,
    read_csv,
    read_layer,
    repair_geometries,
    to_project_crs,
    unique_key,
)
from . import sources

log = logging.getLogger(__name__)

DataDir = str | PathLike | None

_DEP_RE = re.compile(r"^(\d{2}|2[AB]|97\d)$")
_QPV_RE = re.compile(r"^Q[NP]\d{5,6}[A-Z]?$")
#: CRS the official vector layers are published in (lon/lat WGS84 or RGF93, Lambert-93)
_PUBLISHED_CRS = (4326, 4171, 2154)

# Plausibility checks at load: qpvgeo's own thresholds, each with its reasoning (README,
# "Working offline: the data directory"). They catch a wrong file that would otherwise give
# wrong figures without a word.

#: a QPV lies outside its département when less than half its area is within this distance of
#: the département's outline (the communes are simplified to 100 m; QPV edges follow streets)
QPV_OUTSIDE_TOLERANCE_M = 250.0


def _check_dep(dep: str) -> str:
    given = dep
    dep = str(dep).strip().upper()
    if not isinstance(given, str | int | np.integer) or isinstance(given, bool) or not _DEP_RE.match(dep):
        raise UnknownCodeError(
            f"département {plain(given)!r} is not a département code; give two digits "
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
    """The QPV codes, upper-cased; an error names those that are not QPV 2024 codes. One code
    as a string is one code, as elsewhere in qpvgeo (never its letters)."""
    codes = [str(c).strip().upper() for c in name_list(codes, "codes", what="QPV code")]
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
        Indexed by ``code_qp`` (the ``codes`` given, in order): ``lib_dep`` (the
        département's name, when the file has it), ``population_qpv``
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
        read_csv(path, dtype=str),
        {"code_qp": ("CODE_QP", "codeQPV"), "lib_dep": ("LIB_DEP",), **QPV_FIGURES},
        source=src,
        optional=("lib_dep",),
    )
    df["code_qp"] = df["code_qp"].str.strip().str.upper()
    unique_key(df, "code_qp", source=src)
    if "lib_dep" not in df.columns:
        df["lib_dep"] = pd.NA
    df = df.set_index("code_qp")[["lib_dep", *QPV_FIGURES]]
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
    check_frame(communes, "communes")
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
    if not gdf.index.isin(inc.index).any():
        # Filosofi covers the IRIS of every commune of 5 000 inhabitants or more, and every
        # département has such communes: none of its IRIS in the file is another file
        held = ", ".join(sorted(_dep_of(inc.index.to_series().astype(str).str[:5]).unique())[:10])
        raise ValidationError(
            f"{isrc}: none of the {len(gdf)} IRIS of département {dep} is in it (it holds IRIS of "
            f"{held}): it is another département's file, not statistical secrecy; get the national "
            f"file ({sources.dataset('iris_income').files[0]!r}, see `qpvgeo data`)"
        )
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
    buffer_m = check_number(buffer_m, "buffer_m", low=0, high=50_000, unit="metres")
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


# the equipment loaders live in their own module; their names stay importable from here
from .equipments import (  # noqa: E402
    MAX_BPE_DUPLICATE_SHARE,
    MAX_BPE_OUTSIDE_SHARE,
    MIN_BPE_COMMUNE_COVERAGE,
    equipments_from_osm,
    load_equipments,
    load_gammes,
    read_bpe,
)

__all__ = [
    "MAX_BPE_DUPLICATE_SHARE",
    "MAX_BPE_OUTSIDE_SHARE",
    "MIN_BPE_COMMUNE_COVERAGE",
    "QPV_FIGURES",
    "QPV_OUTSIDE_TOLERANCE_M",
    "departement_outline",
    "equipments_from_osm",
    "load_communes",
    "load_equipments",
    "load_gammes",
    "load_iris",
    "load_qpv",
    "load_qpv_figures",
    "load_stations",
    "read_bpe",
]
