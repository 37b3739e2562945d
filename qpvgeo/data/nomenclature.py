"""One nomenclature of shops and services, from BPE codes (2021 and 2024) and OSM tags.

Two tables ship with qpvgeo (``qpvgeo/data``):

``categories.csv``
    one row per category: ``category`` (snake_case ASCII), ``label_fr`` (the
    label users see), ``domain``, and the flags ``is_commerce`` (a shop or a
    market service residents walk to), ``is_public_service`` (a service run by
    or for the public authorities: school, post office, PMI, library...),
    ``is_food_retail`` (food shops, the Huff model's retail set) and
    ``proximity`` (the everyday categories whose walking time is reported).
``equipment_codes.csv``
    ``source`` (``bpe`` or ``osm``), ``code`` (a BPE ``TYPEQU``, or an OSM
    ``key=value`` tag), ``vintage`` (BPE vintages the code belongs to),
    ``category``, and ``typequ_2021``: the BPE 2021 code INSEE's *gammes*
    table uses for it, so that 2024 codes (B207 boulangerie, D265 médecin
    généraliste...) join the 2021 gammes.

Rules worth knowing: OSM ``shop=convenience`` becomes *épicerie* (OSM does not
tell an épicerie from a supérette); ``amenity=doctors`` becomes *médecin
généraliste* (OSM rarely tags the speciality); ``amenity=school`` becomes
*école élémentaire* (collèges and lycées are rarely told apart in OSM).
"""

from __future__ import annotations

import functools
import warnings
from importlib import resources

import pandas as pd

from .._errors import MissingColumnError, QpvgeoWarning, UnknownCodeError, ValidationError, plain
from .._validate import check_frame, check_series, name_list

UNCLASSIFIED = "non_classe"

#: OSM keys read for classification, in order of precedence
OSM_KEYS = ("shop", "amenity")


@functools.cache
def categories() -> pd.DataFrame:
    """The category table, indexed by ``category``."""
    with resources.files("qpvgeo.data").joinpath("categories.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"category": str, "label_fr": str, "domain": str})
    return table.set_index("category")


@functools.cache
def equipment_codes() -> pd.DataFrame:
    """The code table (BPE TYPEQU and OSM tags → category)."""
    with resources.files("qpvgeo.data").joinpath("equipment_codes.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def label(category: str) -> str:
    """French label of a category (the category itself if unknown)."""
    if not isinstance(category, str):
        raise ValidationError(f"`category` must be a category name (str), got {plain(category)!r}")
    table = categories()
    return str(table.at[category, "label_fr"]) if category in table.index else category


def bpe_category(typequ: pd.Series, *, source: str = "BPE") -> pd.Series:
    """Category of each BPE ``TYPEQU`` code (2021 or 2024 vintage).

    Codes outside the nomenclature get :data:`UNCLASSIFIED`, with one warning
    that counts them and lists the codes (they stay in the layer, and no
    indicator uses them).
    """
    check_series(typequ, "typequ")
    codes = equipment_codes()
    bpe = codes[codes["source"] == "bpe"].set_index("code")["category"]
    out = typequ.map(bpe)
    _warn_unknown(typequ[out.isna()].fillna("(empty)"), source, "TYPEQU")
    return out.fillna(UNCLASSIFIED).rename("category")


def bpe_typequ_2021(typequ: pd.Series) -> pd.Series:
    """The BPE 2021 code (the one INSEE's gammes use) of each BPE code."""
    check_series(typequ, "typequ")
    codes = equipment_codes()
    table = codes[(codes["source"] == "bpe") & (codes["typequ_2021"] != "")]
    return typequ.map(table.set_index("code")["typequ_2021"]).rename("typequ_2021")


def osm_category(tags: pd.DataFrame, *, source: str = "OSM") -> pd.Series:
    """Category of each OSM feature from its ``shop`` / ``amenity`` tags.

    ``tags`` must have at least one of the columns ``shop`` and ``amenity``.
    ``shop`` wins over ``amenity`` when both classify. Features whose tags are
    outside the nomenclature get :data:`UNCLASSIFIED`, with a counted warning.
    """
    check_frame(tags, "tags", geo=False)
    present = [k for k in OSM_KEYS if k in tags.columns]
    if not present:
        raise MissingColumnError(
            f"{source}: features need a `shop` or `amenity` column (OSM tags); "
            f"got {list(tags.columns)!r}"
        )
    codes = equipment_codes()
    table = codes[codes["source"] == "osm"].set_index("code")["category"]
    out = pd.Series(pd.NA, index=tags.index, dtype=object)
    raw = pd.Series(pd.NA, index=tags.index, dtype=object)
    for key in reversed(present):  # shop last, so it wins
        tag = key + "=" + tags[key].astype("string")
        hit = tag.map(table)
        out = out.where(hit.isna(), hit)
        raw = raw.where(tags[key].isna(), tag)
    raw = raw.fillna(f"no {'/'.join(present)} tag")
    _warn_unknown(raw[out.isna()], source, "tag")
    return out.fillna(UNCLASSIFIED).rename("category")


def _warn_unknown(codes: pd.Series, source: str, what: str) -> None:
    codes = codes.dropna()
    if len(codes):
        counts = codes.value_counts()
        listed = ", ".join(f"{c!s} ({n})" for c, n in counts.head(12).items())
        more = f" and {len(counts) - 12} more" if len(counts) > 12 else ""
        warnings.warn(
            f"{source}: {len(codes)} equipments have a {what} outside qpvgeo's nomenclature: "
            f"{listed}{more}; they are kept with category {UNCLASSIFIED!r} and no indicator uses "
            "them (add them to qpvgeo/data/equipment_codes.csv to classify them)",
            category=QpvgeoWarning, stacklevel=3,
        )


def check_categories(names: list[str] | tuple[str, ...]) -> None:
    """Raise :class:`UnknownCodeError` for names that are not categories."""
    names = name_list(names, "names", what="category")
    unknown = [n for n in names if n not in categories().index]
    if unknown:
        raise UnknownCodeError(
            f"unknown categories {unknown!r}; known: {', '.join(categories().index)}"
        )


def proximity_categories() -> list[str]:
    """Everyday categories whose walking time qpvgeo reports by default."""
    table = categories()
    return list(table.index[table["proximity"]])


def gamme_proximite(gammes: pd.DataFrame) -> pd.DataFrame:
    """INSEE's *gamme de proximité* groups mapped onto qpvgeo categories.

    Parameters
    ----------
    gammes : DataFrame
        INSEE gammes table, one row per 2021 TYPEQU, with columns ``typequ``,
        ``code_equipement``, ``libelle_equipement``, ``gamme`` (see
        :func:`qpvgeo.loaders.load_gammes`).

    Returns
    -------
    DataFrame
        One row per proximity group: ``code_equipement``, ``libelle_equipement``
        and ``categories`` (tuple of the qpvgeo categories whose codes fall in
        the group; empty when qpvgeo has no category for it).
    """
    check_frame(gammes, "gammes", geo=False)
    for col in ("typequ", "code_equipement", "libelle_equipement", "gamme"):
        if col not in gammes.columns:
            raise MissingColumnError(f"gammes table: missing column `{col}`")
    prox = gammes[gammes["gamme"].str.startswith("proximit")]
    codes = equipment_codes()
    by_2021 = (
        codes[(codes["source"] == "bpe") & (codes["typequ_2021"] != "")]
        .groupby("typequ_2021")["category"]
        .agg(lambda s: tuple(sorted(set(s))))
    )
    rows = []
    for (code, lib), group in prox.groupby(["code_equipement", "libelle_equipement"], sort=True):
        cats = sorted({c for t in group["typequ"] for c in by_2021.get(t, ())})
        rows.append({"code_equipement": code, "libelle_equipement": lib, "categories": tuple(cats)})
    return pd.DataFrame(rows)
