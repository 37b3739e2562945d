"""Every French text of the outputs: number formats, labels, units, status labels, notes.

The maps, fiches, index and slides are read by urban planners and workshop
presenters who do not use Python: what they read is written here, once.

Numbers follow French typography: a decimal comma, a narrow no-break space
(U+202F) between thousands, a space before the unit (``'12 590 €'``,
``'4,3 min'``, ``'95 %'``). A missing value is never a blank or a zero: it
reads « non calculé » (indicator maps) or « non évalué (raison) » (workshop
material).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import pandas as pd

from ..data import nomenclature, sources

# ---------------------------------------------------------------------------
# numbers


def fr_number(value: float, digits: int = 1) -> str:
    """``12590`` → ``'12 590'``, ``4.25`` → ``'4,3'`` (narrow no-break space for thousands)."""
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def num(value: object) -> float:
    """``value`` as a finite float, NaN for anything else (None, text, NaN, ±inf)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return v if math.isfinite(v) else float("nan")


def fr_value(
    value: object, unit: str = "", digits: int = 1, *, missing: str | None = None
) -> str | None:
    """French number with its unit (``'4,3 min'``, ``'12 590 €'``, ``'95 %'``).

    A missing value (not a finite number) gives ``missing`` (None by default).
    """
    v = num(value)
    if math.isnan(v):
        return missing
    return f"{fr_number(v, digits)} {unit}".rstrip()


def class_labels(
    bounds: Sequence[str], unit: str = "", *, open_ends: bool = False, above: bool = False
) -> list[str]:
    """French labels of the classes between consecutive ``bounds`` (already formatted).

    « de 5 à 10 min » for each class; with ``open_ends`` the first class
    reads « moins de 5 min » and the last « 20 min et plus »; with ``above``
    one more class follows the last bound, « plus de 100 trajets ».
    """
    suffix = f" {unit}" if unit else ""
    last = len(bounds) - 2
    out = []
    for i in range(len(bounds) - 1):
        if open_ends and i == 0:
            out.append(f"moins de {bounds[1]}{suffix}")
        elif open_ends and i == last:
            out.append(f"{bounds[i]}{suffix} et plus")
        else:
            out.append(f"de {bounds[i]} à {bounds[i + 1]}{suffix}")
    if above:
        out.append(f"plus de {bounds[-1]}{suffix}")
    return out


# ---------------------------------------------------------------------------
# missing values and the street network

#: a figure of the indicator maps that could not be computed
NOT_COMPUTED = "non calculé"
#: a figure that could not be evaluated (workshop material, enclavement tooltips)
NOT_EVALUATED = "non évalué"
#: a viability reading (« lecture ») that could not be evaluated, and its rank
READING_NOT_EVALUATED = "non évaluée"
NOT_RANKED = "non classé"
#: an indicator value (« valeur ») that could not be computed
VALUE_NOT_COMPUTED = "non calculée"
#: why a figure is missing, when it is not the street network
NO_VALUE = "aucune valeur calculée"
#: why a figure of the workshop material is missing, when the QPV has no street network
NO_NETWORK = "pas de réseau de rues dans les données"
#: why a QPV of an indicator map has no value (tooltip « Pourquoi »)
NO_NETWORK_REASON = "Pas de réseau de rues disponible : valeur non calculée"
NO_VALUE_REASON = (
    "Valeur non calculée : aucun habitant relié au réseau de rues, ou aucun équipement atteignable"
)
NOT_IN_TABLE_REASON = "Quartier absent du tableau d'indicateurs : valeur non calculée"

#: network status of a QPV (``network_status``), short (indicator maps, index) …
STATUS_SHORT = {"couvert": "couvert", "partiel": "partiel", "absent": "aucun"}
#: the street network's kind (``network_kind``), in words
NETWORK_KIND = {
    "walk": "réseau piéton OpenStreetMap (rues et cheminements)",
    "drive": "réseau routier OpenStreetMap, sans trottoirs ni cheminements piétons",
}


def status_long(indicators: pd.DataFrame, code: str) -> str:
    """The network status of a QPV in full words, with its network's kind as the data say it."""
    status = indicators.at[code, "network_status"] if code in indicators.index else None
    if not isinstance(status, str) or status == "absent":
        return f"aucun ({NO_NETWORK})"
    kind = indicators.at[code, "network_kind"] if "network_kind" in indicators else None
    words = NETWORK_KIND.get(kind, "réseau de rues")
    if dated := osm_dates(indicators, [code]):
        words = f"{words}, {dated}"
    if status == "partiel":
        scope = indicators.at[code, "network_scope"] if "network_scope" in indicators else None
        return f"partiel ({words} ; {scope if isinstance(scope, str) else 'une partie des habitants'})"
    return f"{status} ({words})"


_DRIVE_NETWORK = f"Réseau de rues : {NETWORK_KIND['drive']}"
#: « Méthode » note of the access and enclavement maps, when a drive network stands in
DRIVE_NOTE_MAPS = f"{_DRIVE_NETWORK} : temps et flux sont approchés sur les rues."
#: « Méthode » note of the workshop maps and fiches, when a drive network stands in
DRIVE_NOTE = (
    f"{_DRIVE_NETWORK} ; les temps à pied, les trajets et le passage sont approchés sur les rues."
)


def uses_drive_network(indicators: pd.DataFrame, codes=None) -> bool:
    """Whether a drive network stands in for the walking network for any of these QPV."""
    if "network_kind" not in indicators.columns:
        return False
    kinds = indicators["network_kind"] if codes is None else indicators["network_kind"].reindex(codes)
    return bool((kinds == "drive").any())


def method_notes(indicators: pd.DataFrame, note: str, codes=None) -> list[str]:
    """``[note]`` when a drive network was used, else nothing: wording derived from the data."""
    return [note] if uses_drive_network(indicators, codes) else []


#: appended to an ``access_method`` on the drive network, or without a network (tooltips)
DRIVE_METHOD_NOTE = " : temps approchés sur les rues, faute de cheminements piétons dans les données"
CROW_FLIES_METHOD_NOTE = " : estimation sans réseau de rues"
#: notes of the slide images (their line breaks fit the legend column)
SLIDE_NO_NETWORK_NOTE = (
    "Pas de réseau de rues dans les données : trajets, polarités,\nisochrones et couplage "
    "non évalués pour ce quartier."
)
SLIDE_WALK_NOTE = "Réseau piéton OpenStreetMap :\ntemps à pied sur les rues et cheminements."
SLIDE_DRIVE_NOTE = (
    "Réseau routier OpenStreetMap, sans cheminements piétons :\ntemps à pied approchés sur les rues."
)


def not_evaluated(reason: str) -> str:
    """« non évalué (reason) »."""
    return f"{NOT_EVALUATED} ({reason})"


def reading_text(score: float) -> str:
    """A viability reading (0 to 1): « 0,52 », or « non évaluée »."""
    return READING_NOT_EVALUATED if math.isnan(score) else fr_number(score, 2)


def indicator_text(
    ind: pd.DataFrame, code: str, column: str, unit: str, digits: int, status: str,
    *, network: bool = True, reason: str | None = None,
) -> str:  # fmt: skip
    """French value of ``ind.at[code, column]``, or « non évalué (reason) ».

    The default reason is :data:`NO_NETWORK` for a network-based figure
    (``network``) of a QPV whose ``status`` is ``absent``, else :data:`NO_VALUE`.
    """
    value = ind.at[code, column] if column in ind.columns else math.nan
    text = fr_value(value, unit, digits)
    if text is not None:
        return text
    if reason is None:
        reason = NO_NETWORK if network and status == "absent" else NO_VALUE
    return not_evaluated(reason)


# ---------------------------------------------------------------------------
# indicator columns and categories

MEDIAN_COLUMN = re.compile(r"^walk_min_median_(?P<cat>.+)$")
SHARE_COLUMN = re.compile(r"^share_within_(?P<t>\d+)min_(?P<cat>.+)_pct$")
COUNT_COLUMN = re.compile(r"^n_(?P<cat>.+)_within_(?P<t>\d+)min$")
_GENERIC_LABELS = {
    "network_coverage_pct": "Part des habitants à moins de 150 m d'une rue du réseau (%)",
    "population_qpv": "Population (INSEE, habitants)",
    "n_origins": "Nombre de points de départ des habitants",
    "n_origins_off_network": "Points de départ hors du réseau de rues",
    "area_ha": "Surface (ha)",
}
_SUFFIXES = {"_rest_commune": ", reste de la commune"}
_PSEUDO_LABELS = {"alimentaire": "Commerces alimentaires"}


def category_label(category: str) -> str:
    """French label of a category, ``alimentaire`` (all food retail) included."""
    return _PSEUDO_LABELS.get(category) or nomenclature.label(category)


def _split_category(raw: str) -> tuple[str, str]:
    """``boulangerie_rest_commune`` → (``boulangerie``, French suffix of the label)."""
    for suffix, text in _SUFFIXES.items():
        if raw.endswith(suffix) and raw.removesuffix(suffix) in nomenclature.categories().index:
            return raw.removesuffix(suffix), text
    return raw, ""


def indicator_category(column: str) -> str | None:
    """Category an indicator column is about (``None`` for a column about no category).

    Examples
    --------
    >>> indicator_category("share_within_10min_ecole_maternelle_pct")
    'ecole_maternelle'
    """
    for pattern in (MEDIAN_COLUMN, SHARE_COLUMN, COUNT_COLUMN):
        hit = pattern.match(column)
        if hit:
            return _split_category(hit["cat"])[0]
    return None


def indicator_label(column: str) -> str:
    """French label of an indicator column, with its unit.

    Parameters
    ----------
    column : str
        A column of the indicator table, e.g. ``walk_min_median_boulangerie``
        or ``share_within_10min_pharmacie_pct``.

    Returns
    -------
    str
        « Temps de marche médian vers : Boulangerie (min) », « Part des
        habitants à moins de 10 min : Pharmacie (%) »; the column name itself
        for a column qpvgeo does not know.
    """
    hit = MEDIAN_COLUMN.match(column)
    if hit:
        cat, more = _split_category(hit["cat"])
        return f"Temps de marche médian vers : {nomenclature.label(cat)}{more} (min)"
    hit = SHARE_COLUMN.match(column)
    if hit:
        cat, more = _split_category(hit["cat"])
        return (
            f"Part des habitants à moins de {int(hit['t'])} min : "
            f"{nomenclature.label(cat)}{more} (%)"
        )
    hit = COUNT_COLUMN.match(column)
    if hit:
        cat, more = _split_category(hit["cat"])
        return (
            f"Nombre d'équipements à moins de {int(hit['t'])} min : {nomenclature.label(cat)}{more}"
        )
    return _GENERIC_LABELS.get(column, column)


def indicator_unit(column: str) -> str:
    """Unit of an indicator column, read from its name: ``'min'``, ``'%'`` or ``''``."""
    if MEDIAN_COLUMN.match(column):
        return "min"
    if SHARE_COLUMN.match(column) or column.endswith("_pct"):
        return "%"
    return ""


def indicator_value(value: float, column: str) -> str:
    """French value of an indicator column, its unit and digits read from the column name."""
    unit = indicator_unit(column)
    digits = 0 if unit == "%" or float(value).is_integer() else 1
    return fr_value(value, unit, digits, missing=VALUE_NOT_COMPUTED)


# ---------------------------------------------------------------------------
# barriers and enclavement

#: barrier kinds, all the lines of a kind (legend, layer names)
BARRIER_LABELS = {
    "rail": "voies ferrées",
    "water": "cours d'eau",
    "road": "autoroutes et voies rapides",
}
#: one barrier line (tooltips)
BARRIER_ONE = {"rail": "Voie ferrée", "water": "Cours d'eau", "road": "Autoroute ou voie rapide"}
#: one barrier line on a slide image
BARRIER_ONE_SLIDE = {**BARRIER_ONE, "road": "Autoroute, voie rapide"}
#: a barrier kind in a sentence (« Coupure principale : RN 20 (route) »)
BARRIER_WORDS = {"rail": "voie ferrée", "water": "cours d'eau", "road": "route"}
#: the components of the enclavement index (``enclavement_components``)
ENCLAVEMENT_COMPONENTS = {
    "crossings_per_km": "franchissements par km",
    "longest_without_crossing_m": "plus long tronçon sans franchissement",
    "detour_gare": "détour vers la gare",
    "detour_supermarche": "détour vers le supermarché",
}


# ---------------------------------------------------------------------------
# credits


def departement_label(parameters: dict) -> str:
    """« Essonne (91) » from a run's parameters (the name from the data), « département 91 »
    when the data do not name it."""
    dep, name = parameters.get("dep"), parameters.get("dep_name")
    return f"{name} ({dep})" if isinstance(name, str) and name else f"département {dep}"


def osm_dates(indicators: pd.DataFrame | None, codes=None) -> str:
    """« OSM au 08/01/2026 » when the street networks were cut from dated OSM extracts
    (``network_osm_date``), several dates joined; "" otherwise."""
    if indicators is None or "network_osm_date" not in indicators.columns:
        return ""
    dates = indicators["network_osm_date"] if codes is None else indicators["network_osm_date"].reindex(codes)
    dates = [d for d in dict.fromkeys(dates.dropna()) if isinstance(d, str) and d]
    return f"OSM au {', '.join(dates)}" if dates else ""


def attribution(indicators: pd.DataFrame | None = None) -> str:
    """Credit line of the maps: background, perimeters, equipments, population, streets (with
    the date of the OSM extract they were cut from, :func:`osm_dates`)."""
    dated = osm_dates(indicators)
    credits = [
        "Fond de carte " + sources.OSM_ATTRIBUTION.replace(" (ODbL)", ""),
        sources.CATALOGUE["qpv"].attribution + " (QPV 2024)",
        sources.CATALOGUE["bpe"].attribution,
        sources.CATALOGUE["iris_population"].attribution,
        sources.CATALOGUE["iris_income"].attribution,
        "réseau de rues " + sources.OSM_ATTRIBUTION + (f", {dated}" if dated else ""),
        "calculs qpvgeo",
    ]
    return " | ".join(credits)
