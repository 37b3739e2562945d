"""Stage 1: the official data of the département, loaded once into a :class:`RunContext`."""

from __future__ import annotations

import warnings
from os import PathLike

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import settings
from .._errors import QpvgeoError, QpvgeoWarning, UnknownCodeError
from ..data import loaders, nomenclature, population
from ..data.perimeters import load_perimeters, perimeter_figures
from ..indicators.access import weighted_median
from .access import station_destinations
from .context import RunContext


def load_inputs(
    dep: str,
    codes: list[str] | None,
    *,
    data_dir: str | PathLike | None,
    offline: bool,
    categories: list[str] | None,
    crowfly_fallback: bool,
    perimeters=None,
    id_col: str | None = None,
    name_col: str | None = None,
) -> RunContext:
    """Load the QPV, IRIS, equipments, stations, communes and INSEE groups of ``dep``.

    Every QPV of the département is loaded, with its official figures and its
    residents (:func:`qpvgeo.data.population.qpv_origins`); ``codes`` selects
    those the run reports on. The destinations are the equipments, with IDFM heavy-rail stations standing
    for the category ``gare``. Raises :class:`~qpvgeo.QpvgeoError` when none of
    the wanted categories is in the equipment data.

    With ``perimeters`` (a polygon layer or its path, :mod:`qpvgeo.data.perimeters`), they
    take the place of the QPV: no official figures, residents estimated from the IRIS.
    """
    kw = {"data_dir": data_dir, "offline": offline}
    if perimeters is not None:
        qpv_all, figures = _perimeters(dep, perimeters, id_col, name_col, kw)
        qpv = qpv_all.loc[_known_ids(codes, qpv_all.index)] if codes else qpv_all
    else:
        qpv_all = loaders.load_qpv(dep, **kw)
        qpv = qpv_all.loc[loaders.load_qpv(dep, codes, **kw).index] if codes else qpv_all
        figures = loaders.load_qpv_figures(qpv_all.index, **kw)
    iris = loaders.load_iris(dep, **kw)
    equipments = loaders.load_equipments(dep, **kw)
    wanted = categories or nomenclature.proximity_categories()
    nomenclature.check_categories(wanted)
    present, absent = present_categories(equipments, wanted)
    if not present:
        raise QpvgeoError(f"none of the categories {wanted!r} is in the equipment data")
    stations = loaders.load_stations(dep, **kw)
    communes = loaders.load_communes(dep, **kw)
    groups = nomenclature.gamme_proximite(loaders.load_gammes(**kw))
    destinations = gpd.GeoDataFrame(
        pd.concat([equipments[equipments["category"] != "gare"], station_destinations(stations)]),
        crs=settings.crs,
    )
    origins_all, population_source = population.qpv_origins(
        qpv_all, iris, figures["population_qpv"]
    )
    return RunContext(
        dep=dep, codes=codes, data_dir=data_dir, offline=offline,
        crowfly_fallback=crowfly_fallback, qpv=qpv, qpv_all=qpv_all, figures=figures, iris=iris,
        equipments=equipments, destinations=destinations, stations=stations, communes=communes,
        groups=groups, categories=present, categories_absent=absent, origins_all=origins_all,
        population_source=population_source,
        iris_outside=population.outside_qpv_iris(iris, qpv_all, origins_all),
    )  # fmt: skip


def _perimeters(dep, source, id_col, name_col, kw) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Custom perimeters and their (empty) official figures, with the département's name."""
    communes = loaders.load_communes(dep, **kw)
    zones = load_perimeters(
        source, loaders._check_dep(dep), communes, id_col=id_col, name_col=name_col
    )
    dep_name = None
    try:  # the département's name, from the QPV key figures when the data directory has them
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QpvgeoWarning)
            codes = loaders.load_qpv(dep, **kw).index
            dep_name = next(iter(loaders.load_qpv_figures(codes, **kw)["lib_dep"].dropna()), None)
    except QpvgeoError:
        pass
    return zones, perimeter_figures(zones.index, dep_name)


def _known_ids(codes: list[str], ids: pd.Index) -> list[str]:
    missing = [c for c in codes if c not in ids]
    if missing:
        raise UnknownCodeError(
            f"unknown perimeter id(s) {missing!r}; the perimeters are {', '.join(ids[:50])}"
        )
    return list(codes)


def present_categories(
    equipments: gpd.GeoDataFrame, wanted: list[str]
) -> tuple[list[str], list[str]]:
    """Split the wanted categories into those present in the equipments and those absent."""
    have = set(equipments["category"])
    return [c for c in wanted if c in have], [c for c in wanted if c not in have]


def income_by_qpv(origins: gpd.GeoDataFrame, iris: gpd.GeoDataFrame) -> pd.DataFrame:
    """IRIS-level income context of each QPV, weighted by the QPV residents in each IRIS.

    ``median_income_iris_eur``: population-weighted median of the Filosofi median
    incomes of the IRIS the QPV residents live in; ``low_income_rate_iris_pct``:
    population-weighted *mean* of their low-income rates (declared income below 60 % of the
    median, Filosofi DEC_TP6021: not the poverty rate of disposable income). Both describe the IRIS,
    which are larger than the QPV: context, not the QPV's own figures (those are
    ``poverty_rate_qpv_pct`` and the other official QPV figures).
    """
    rows = {}
    inc = origins["code_iris"].map(iris["median_income_eur"]).to_numpy(dtype=float)
    pov = origins["code_iris"].map(iris["low_income_rate_pct"]).to_numpy(dtype=float)
    w = origins["population"].to_numpy(dtype=float)
    for code, idx in origins.groupby("code_qp").indices.items():
        known = np.isfinite(pov[idx]) & (w[idx] > 0)
        rows[code] = {
            "median_income_iris_eur": weighted_median(inc[idx], w[idx]),
            "low_income_rate_iris_pct": float(np.average(pov[idx][known], weights=w[idx][known]))
            if known.any()
            else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
