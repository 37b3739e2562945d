"""What residents say: wishes (besoins), brakes (freins) and avoided places, from a workshop or a survey.

One row (CSV) or one feature (GeoJSON) per answer or post-it:

``code_qp``
    The QPV the answer is about (``QN09106M``); optional when a point is given.
``lon``, ``lat`` (CSV, EPSG:4326) or ``x``, ``y`` (CSV, Lambert-93 EPSG:2154), or the geometry
    (GeoJSON, a Point in EPSG:4326 or EPSG:2154): where the wish, the brake or the avoided
    place is; optional when ``code_qp`` is given.
``type``
    ``besoin`` (a shop or service wished), ``frein`` (a brake: something that keeps residents
    from going) or ``lieu_evite`` (a place residents avoid). Default: ``besoin`` when
    ``categorie`` is filled, else ``frein``.
``categorie``
    The wished category: a nomenclature code (``boulangerie``, see
    ``qpvgeo/data/categories.csv``) or a French label (« Boucheries », « distributeur de
    billets »), matched whatever the accents, the case, the plural and the common synonyms
    (``qpvgeo/data/besoins_labels.csv``). A label that matches nothing is kept as written and
    listed in the report (:func:`label_report`), never dropped.
``frein``
    « insécurité », « prix », « horaires », « traversée difficile », « offre inadaptée »,
    « trop loin », or free text (kept as written; matched labels get ``frein_code``).
``commentaire``, ``source`` (``atelier``, ``questionnaire``…), ``date`` (``AAAA-MM-JJ`` or
``JJ/MM/AAAA``), ``nombre`` (how many residents said it; default 1), ``id`` (an identifier,
e.g. the one the workshop page gives each pin)
    Optional.

Each answer is keyed by a hash of its content (:func:`answer_ids`), so that importing the same
file again adds nothing (:func:`merge_answers`), and two identical rows of one file stay two
answers.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
import tempfile
import unicodedata
import warnings
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import CRSError, EmptyLayerError, QpvgeoError, QpvgeoWarning, ValidationError
from .._validate import read_csv
from . import nomenclature

#: the columns of the template, in order (CSV; the GeoJSON template has them as properties)
TEMPLATE_COLUMNS = (
    "code_qp", "type", "categorie", "frein", "commentaire", "lon", "lat", "source", "date",
    "nombre", "id",
)  # fmt: skip
#: the raw columns of an answer, as kept in the GeoPackage layer ``besoins``
RAW_COLUMNS = (
    "code_qp", "type", "categorie", "frein", "commentaire", "source", "date", "nombre", "id",
)  # fmt: skip
#: the columns qpvgeo adds: the key, where and when it was first imported, and the readings
ADDED_COLUMNS = (
    "answer_id", "fichier", "imported_utc", "category", "category_label_fr", "category_match",
    "frein_code",
)  # fmt: skip
TYPES = ("besoin", "frein", "lieu_evite")
TYPE_LABELS = {"besoin": "Besoin", "frein": "Frein", "lieu_evite": "Lieu évité"}
#: the brakes named in the template, code → French label
FREINS = {
    "insecurite": "Insécurité", "prix": "Prix", "horaires": "Horaires",
    "traversee_difficile": "Traversée difficile", "offre_inadaptee": "Offre inadaptée",
    "distance": "Trop loin",
}  # fmt: skip
#: how a label was matched (column ``category_match``)
MATCH_CODE, MATCH_LABEL, MATCH_SYNONYM, MATCH_CLOSE, MATCH_NONE = (
    "code", "libellé", "synonyme", "approché", "non reconnu",
)  # fmt: skip
#: a close (misspelt) label matches when difflib's ratio reaches this (a qpvgeo choice: « boulengerie »
#: matches « boulangerie », « boucherie » does not match « boulangerie »)
CLOSE_RATIO = 0.88
#: the QPV code pattern (``QN`` + département on 3 digits + 2 digits + a letter)
CODE_QP = re.compile(r"^QN\d{5}[A-Z]$")
#: bounds of Lambert-93 coordinates over metropolitan France (m)
L93_BOUNDS = (0.0, 1_300_000.0, 6_000_000.0, 7_200_000.0)
_ARTICLES = {"un", "une", "des", "le", "la", "les", "l", "du", "de", "d", "au", "aux"}
_COLUMN_ALIASES = {
    "code_qp": ("code_qpv", "qpv", "quartier"), "categorie": ("catégorie", "category"),
    "commentaire": ("comment", "remarque"), "lon": ("longitude",), "lat": ("latitude",),
    "nombre": ("count", "nb"), "date": ("jour",), "type": ("nature",),
}  # fmt: skip


class BesoinsWarning(QpvgeoWarning):
    """Labels of a besoins file that match no category (kept, listed in the report)."""


# ---------------------------------------------------------------------------
# labels


def normalise_label(text: object) -> str:
    """A label compared whatever its accents, case, punctuation, leading article and plural.

    « Les Boucheries » → ``boucherie``; « Distributeurs de billets » → ``distributeur de billet``;
    ``medecin_generaliste`` → ``medecin generaliste``. Empty for a missing value.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", plain.lower()).split()
    while len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in words)


@functools.cache
def label_table() -> pd.DataFrame:
    """The synonyms shipped with qpvgeo (``besoins_labels.csv``): ``kind``, ``label``, ``code``, ``label_fr``."""
    path = resources.files("qpvgeo.data").joinpath("besoins_labels.csv")
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@functools.cache
def _category_keys() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """normalised key → (category, how), and the labels of the categories outside the nomenclature."""
    keys: dict[str, tuple[str, str]] = {}
    extra: dict[str, str] = {}
    syn = label_table()
    for row in syn[syn["kind"] == "categorie"].itertuples():
        keys[normalise_label(row.label)] = (row.code, MATCH_SYNONYM)
        if row.label_fr:
            extra[row.code] = row.label_fr
    for code, label in nomenclature.categories()["label_fr"].items():
        for part in [label, *label.split(",")]:
            keys[normalise_label(part)] = (code, MATCH_LABEL)
        keys[normalise_label(code)] = (code, MATCH_CODE)
    return keys, extra


def category_label_fr(code: str) -> str:
    """French label of a wished category (nomenclature or one of the synonyms table's own)."""
    extra = _category_keys()[1]
    return extra.get(code) or nomenclature.label(code)


def in_nomenclature(code: str) -> bool:
    """Whether a wished category is one of qpvgeo's nomenclature (and so can be in the data)."""
    return code in nomenclature.categories().index


def match_categories(labels: pd.Series) -> pd.DataFrame:
    """The category of each label: ``category`` (empty when none), ``category_label_fr``, ``category_match``.

    Tried in order: a nomenclature code, a nomenclature label (or one part of it: « Boucherie,
    charcuterie » gives « boucherie » and « charcuterie »), a synonym of
    ``besoins_labels.csv``, then a close spelling (difflib ratio ≥ :data:`CLOSE_RATIO`,
    ``category_match`` « approché », listed in the report to be checked). Comparison
    goes through :func:`normalise_label`.
    """
    keys, _ = _category_keys()
    names = list(keys)
    rows = []
    for raw in labels:
        key = normalise_label(raw)
        if not key:
            rows.append(("", "", ""))
            continue
        hit = keys.get(key)
        if hit is None:
            close = difflib.get_close_matches(key, names, n=1, cutoff=CLOSE_RATIO)
            hit = (keys[close[0]][0], MATCH_CLOSE) if close else None
        if hit is None:
            rows.append(("", str(raw).strip(), MATCH_NONE))
        else:
            rows.append((hit[0], category_label_fr(hit[0]), hit[1]))
    return pd.DataFrame(
        rows, index=labels.index, columns=["category", "category_label_fr", "category_match"]
    )


def _kind_code(text: object, kind: str) -> str:
    """The code of a ``type`` or ``frein`` label (empty when it matches none)."""
    key = normalise_label(text)
    return _kind_table(kind).get(key, "") if key else ""


@functools.cache
def _kind_table(kind: str) -> dict[str, str]:
    syn = label_table()
    table = {normalise_label(r.label): r.code for r in syn[syn["kind"] == kind].itertuples()}
    table.update({normalise_label(c): c for c in syn.loc[syn["kind"] == kind, "code"]})
    return table


# ---------------------------------------------------------------------------
# reading


def read_besoins(path: str | Path) -> gpd.GeoDataFrame:
    """Read a besoins file (CSV or GeoJSON) into one row per answer, in EPSG:2154.

    Returns the raw columns (:data:`RAW_COLUMNS`, strings; ``nombre`` an integer), the
    geometry (a Point, or empty when the answer names only a QPV) and the added columns
    (:data:`ADDED_COLUMNS`: ``answer_id``, ``fichier``, ``imported_utc``, the matched category,
    the brake code). Labels that match no category are kept and announced by one
    :class:`BesoinsWarning`; see :func:`label_report`.

    Raises
    ------
    ValidationError
        One error listing every bad row (unknown type, bad date or count, bad QPV code, a row
        with neither a QPV code nor a point, a point outside the CRS's range…).
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError(
            f"besoins file {str(path)!r} does not exist; give a CSV or GeoJSON file "
            "(`qpvgeo besoins template --out FILE` writes an empty one)"
        )
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        table, geom = _read_geojson(path)
    elif suffix in (".csv", ".txt"):
        table, geom = _read_csv(path)
    else:
        raise ValidationError(
            f"besoins file {str(path)!r}: unknown kind {suffix!r}; give a .csv or .geojson file"
        )
    answers = _clean(table, geom, path)
    _warn_unmatched(answers, path)
    return answers


def _read_csv(path: Path) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    table = _rename(read_csv(path), path)
    table = table.dropna(how="all").reset_index(drop=True)
    if not len(table):
        raise EmptyLayerError(
            f"besoins file {str(path)!r} has no answer (only its header); fill one row per answer"
        )
    has_ll, has_xy = {"lon", "lat"} <= set(table), {"x", "y"} <= set(table)
    if has_ll and has_xy:
        raise ValidationError(
            f"besoins file {str(path)!r} has both lon/lat and x/y columns; keep one pair "
            "(lon/lat in degrees, EPSG:4326, or x/y in Lambert-93 metres, EPSG:2154)"
        )
    xcol, ycol, epsg = ("x", "y", 2154) if has_xy else ("lon", "lat", 4326)
    if xcol not in table:
        return table, gpd.GeoSeries([None] * len(table), crs=settings.crs)
    x, y = _numbers(table[xcol], path, xcol), _numbers(table[ycol], path, ycol)
    if x.isna().ne(y.isna()).any():
        row = int(np.flatnonzero(x.isna().ne(y.isna()))[0]) + 2
        raise ValidationError(
            f"besoins file {str(path)!r}, line {row}: {xcol} and {ycol} must be both filled or both empty"
        )
    _check_range(x, y, epsg, path)
    pts = [None if np.isnan(a) else shapely.Point(a, b) for a, b in zip(x, y, strict=True)]
    return table, gpd.GeoSeries(pts, crs=epsg).to_crs(settings.crs)


def _read_geojson(path: Path) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(
            f"besoins file {str(path)!r} is not GeoJSON (JSON text): {exc}"
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationError(
            f"besoins file {str(path)!r} is not a GeoJSON FeatureCollection; export it again "
            "(the workshop page's « Exporter » button writes one)"
        )
    feats = data.get("features") or []
    if not feats:
        raise EmptyLayerError(f"besoins file {str(path)!r} has no feature (no answer)")
    epsg = _geojson_epsg(data, path)
    table = _rename(pd.DataFrame([f.get("properties") or {} for f in feats], dtype=object), path)
    geoms = []
    for i, f in enumerate(feats):
        g = f.get("geometry")
        if g is None:
            geoms.append(None)
            continue
        if g.get("type") != "Point":
            raise ValidationError(
                f"besoins file {str(path)!r}, feature {i}: geometry {g.get('type')!r}; an answer's "
                "place is a Point (or no geometry, with `code_qp` filled)"
            )
        geoms.append(shapely.geometry.shape(g))
    xy = np.array([(g.x, g.y) if g is not None else (np.nan, np.nan) for g in geoms], dtype=float)
    _check_range(pd.Series(xy[:, 0]), pd.Series(xy[:, 1]), epsg, path)
    return table, gpd.GeoSeries(geoms, crs=epsg).to_crs(settings.crs)


def _geojson_epsg(data: dict, path: Path) -> int:
    """4326 (RFC 7946, no ``crs`` member or CRS84), or 2154; anything else is refused."""
    name = str(((data.get("crs") or {}).get("properties") or {}).get("name", "EPSG:4326"))
    if name.endswith(("CRS84", ":4326", "EPSG::4326")) or name == "EPSG:4326":
        return 4326
    if name.endswith((":2154", "EPSG::2154")):
        return 2154
    raise CRSError(
        f"besoins file {str(path)!r} has CRS {name!r}; give longitude/latitude (EPSG:4326, no "
        "`crs` member) or Lambert-93 (EPSG:2154), e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in`"
    )


def _check_range(x: pd.Series, y: pd.Series, epsg: int, path: Path) -> None:
    ok = x.isna() | y.isna()
    if epsg == 4326:
        inside = ok | (x.between(-180, 180) & y.between(-90, 90))
        hint = (
            "they look like Lambert-93 metres: name the columns x and y (CSV) or declare EPSG:2154"
        )
    else:
        xmin, xmax, ymin, ymax = L93_BOUNDS
        inside = ok | (x.between(xmin, xmax) & y.between(ymin, ymax))
        hint = "they are not Lambert-93 metres over France: use lon/lat (EPSG:4326) for degrees"
    if not inside.all():
        k = int(np.flatnonzero(~inside.to_numpy())[0])
        raise CRSError(
            f"besoins file {str(path)!r}: point {k + 1} ({x.iloc[k]!r}, {y.iloc[k]!r}) is out of "
            f"range for EPSG:{epsg}; {hint}"
        )


def _rename(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    lower = {normalise_label(c).replace(" ", "_"): c for c in table.columns}
    rename = {}
    for canonical, aliases in _COLUMN_ALIASES.items():
        for name in (canonical, *aliases):
            key = normalise_label(name).replace(" ", "_")
            if key in lower and canonical not in rename.values():
                rename[lower[key]] = canonical
    for c in table.columns:
        key = normalise_label(c).replace(" ", "_")
        if c not in rename and key in (*RAW_COLUMNS, "x", "y"):
            rename[c] = key
    out = table.rename(columns=rename)
    if "categorie" not in out and "frein" not in out:
        raise ValidationError(
            f"besoins file {str(path)!r} has neither a `categorie` nor a `frein` column "
            f"(columns: {list(table.columns)[:20]!r}); start from `qpvgeo besoins template`"
        )
    return out


def _numbers(col: pd.Series, path: Path, name: str) -> pd.Series:
    """Numbers, a decimal comma accepted (« 2,35 »)."""
    text = col.astype("string").str.strip().str.replace(",", ".", regex=False)
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() & text.notna() & (text != "")
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(
            f"besoins file {str(path)!r}: column {name!r} holds {col.iloc[k]!r} (line {k + 2}), "
            "not a number"
        )
    return out.astype(float)


def _text(table: pd.DataFrame, col: str) -> pd.Series:
    if col not in table:
        return pd.Series("", index=table.index, dtype=object)
    return table[col].map(
        lambda v: (
            ""
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
            else str(v).strip()
        )
    )


def _clean(table: pd.DataFrame, geom: gpd.GeoSeries, path: Path) -> gpd.GeoDataFrame:
    """The raw columns as strings, checked; every problem reported at once."""
    out = pd.DataFrame({c: _text(table, c) for c in RAW_COLUMNS if c != "nombre"})
    problems: list[str] = []
    out["code_qp"] = out["code_qp"].str.upper()
    has_point = pd.Series([g is not None and not g.is_empty for g in geom], index=out.index)
    for i in out.index:
        line = f"answer {i + 1}"
        code = out.at[i, "code_qp"]
        if code and not CODE_QP.match(code):
            problems.append(f"{line}: code_qp {code!r} is not a QPV code (e.g. 'QN09106M')")
        if not code and not has_point[i]:
            problems.append(f"{line}: neither a code_qp nor a point; give one of them")
        kind = _kind_code(out.at[i, "type"], "type")
        if out.at[i, "type"] and not kind:
            problems.append(
                f"{line}: type {out.at[i, 'type']!r}; write besoin, frein or lieu_evite"
            )
        elif not kind:
            kind = "besoin" if out.at[i, "categorie"] else "frein"
        out.at[i, "type"] = kind
        if not out.at[i, "categorie"] and not out.at[i, "frein"] and kind == "besoin":
            problems.append(f"{line}: a besoin without `categorie`; say what is wished")
        try:
            out.at[i, "date"] = _iso_date(out.at[i, "date"])
        except ValueError:
            problems.append(f"{line}: date {out.at[i, 'date']!r}; write AAAA-MM-JJ or JJ/MM/AAAA")
    counts = _text(table, "nombre").replace("", "1")
    nombre = pd.to_numeric(counts.str.replace(",", ".", regex=False), errors="coerce")
    for i in np.flatnonzero(~((nombre >= 1) & (nombre == np.floor(nombre))).to_numpy()):
        problems.append(f"answer {i + 1}: nombre {counts.iloc[i]!r}; write a whole number ≥ 1")
    if problems:
        more = f" (and {len(problems) - 12} more)" if len(problems) > 12 else ""
        raise ValidationError(
            f"besoins file {str(path)!r}: {len(problems)} problem(s): "
            + "; ".join(problems[:12])
            + more
            + ". Fix them in the file and run again"
        )
    out["nombre"] = nombre.astype("int64")
    answers = gpd.GeoDataFrame(out, geometry=geom.values, crs=settings.crs)
    answers["answer_id"] = answer_ids(answers)
    answers["fichier"] = path.name
    answers["imported_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    return add_readings(answers)


def _iso_date(text: str) -> str:
    if not text:
        return ""
    text = text.strip()[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", text.strip()) else text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(text)


def add_readings(answers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """(Re)compute ``category``, ``category_label_fr``, ``category_match`` and ``frein_code``
    from the raw columns (so that answers kept from an earlier run get today's matching)."""
    out = answers.drop(columns=["category", "category_label_fr", "category_match", "frein_code"],
                       errors="ignore")  # fmt: skip
    out = out.join(match_categories(out["categorie"]))
    out["frein_code"] = out["frein"].map(lambda f: _kind_code(f, "frein"))
    return out


def answer_ids(answers: pd.DataFrame) -> pd.Series:
    """The key of each answer: SHA-256 (16 hex digits) of its raw content and its rank among
    the identical answers before it in the same file.

    The content is :data:`RAW_COLUMNS` and the point (EPSG:2154, to the centimetre). Two
    identical rows are two answers (ranks 0 and 1); the same file read again gives the same keys.
    """
    geom = answers.geometry
    where = ["" if g is None or g.is_empty else f"{g.x:.2f} {g.y:.2f}" for g in geom.values]
    content = answers[list(RAW_COLUMNS)].astype(str).agg("\x1f".join, axis=1) + "\x1f" + where
    rank = content.groupby(content).cumcount()
    keys = [
        hashlib.sha256(f"{c}\x1e{r}".encode()).hexdigest()[:16]
        for c, r in zip(content, rank, strict=True)
    ]
    return pd.Series(keys, index=answers.index, name="answer_id")


def _warn_unmatched(answers: pd.DataFrame, path: Path) -> None:
    bad = answers.loc[answers["category_match"] == MATCH_NONE, "categorie"]
    if len(bad):
        counts = bad.value_counts()
        listed = ", ".join(f"« {k} » ({n})" for k, n in counts.head(10).items())
        more = f" and {len(counts) - 10} more" if len(counts) > 10 else ""
        warnings.warn(
            f"besoins {path.name}: {len(bad)} answer(s) with a category label that matches no "
            f"category: {listed}{more}; they are kept as written (listed in "
            "tables/besoins_labels.csv); write a nomenclature code or add the label to "
            "qpvgeo/data/besoins_labels.csv",
            category=BesoinsWarning, stacklevel=3,
        )  # fmt: skip


def label_report(answers: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct category label: ``categorie`` (as written), ``n_answers``, ``category``,
    ``category_label_fr``, ``category_match`` (:data:`MATCH_NONE` first, then the approached ones)."""
    wished = answers[answers["categorie"] != ""]
    if not len(wished):
        return pd.DataFrame(columns=["categorie", "n_answers", "category", "category_label_fr",
                                     "category_match"])  # fmt: skip
    rep = (
        wished.groupby(["categorie", "category", "category_label_fr", "category_match"])["nombre"]
        .sum().rename("n_answers").reset_index()
    )  # fmt: skip
    order = {MATCH_NONE: 0, MATCH_CLOSE: 1}
    rep["_o"] = rep["category_match"].map(order).fillna(2)
    rep = rep.sort_values(["_o", "categorie"]).drop(columns="_o")
    return rep[["categorie", "n_answers", "category", "category_label_fr", "category_match"]]


# ---------------------------------------------------------------------------
# keeping answers across runs


def merge_answers(
    earlier: gpd.GeoDataFrame | None, new: list[gpd.GeoDataFrame]
) -> tuple[gpd.GeoDataFrame, int]:
    """Every earlier answer, then each new answer whose key is not there yet; and how many were added.

    Append-only: nothing earlier is dropped or changed (its ``imported_utc`` and ``fichier``
    stay those of its first import); the readings are recomputed (:func:`add_readings`).
    """
    frames = [f for f in ([earlier] if earlier is not None else []) + list(new) if len(f)]
    if not frames:
        return empty_answers(), 0
    columns = [*RAW_COLUMNS, "answer_id", "fichier", "imported_utc", "geometry"]
    stacked = pd.concat([f[columns] for f in frames], ignore_index=True)
    keep = ~stacked["answer_id"].duplicated()
    n_before = 0 if earlier is None else int((~earlier["answer_id"].duplicated()).sum())
    merged = gpd.GeoDataFrame(stacked[keep].reset_index(drop=True), crs=settings.crs)
    return add_readings(merged), int(keep.sum()) - n_before


def empty_answers() -> gpd.GeoDataFrame:
    """An answers layer without rows."""
    cols = {c: pd.Series(dtype=object) for c in (*RAW_COLUMNS, *ADDED_COLUMNS)}
    cols["nombre"] = pd.Series(dtype="int64")
    return gpd.GeoDataFrame(cols, geometry=[], crs=settings.crs)


def read_answers_layer(gpkg: str | Path, layer: str = "besoins") -> gpd.GeoDataFrame | None:
    """The answers kept in the GeoPackage of an earlier run, or None when it has none.

    Raises :class:`ValidationError` when the file exists but its layer cannot be read (the
    answers would be lost by a run that replaced it).
    """
    import pyogrio

    gpkg = Path(gpkg)
    if not gpkg.is_file():
        return None
    try:
        names = [n for n, _ in pyogrio.list_layers(gpkg)]
        if layer not in names:
            return None
        gdf = gpd.read_file(gpkg, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise ValidationError(
            f"cannot read the residents' answers (layer {layer!r}) of the earlier run in "
            f"{str(gpkg)!r}: {exc}; they would be lost: move that GeoPackage away, or repair it"
        ) from exc
    missing = [c for c in (*RAW_COLUMNS, "answer_id") if c not in gdf.columns]
    if missing:
        raise ValidationError(
            f"layer {layer!r} of {str(gpkg)!r} lacks the columns {missing!r}; it is not a qpvgeo "
            "besoins layer: move that GeoPackage away, or rename the layer"
        )
    gdf = gdf.to_crs(settings.crs) if gdf.crs is not None else gdf.set_crs(settings.crs)
    for c in (*RAW_COLUMNS, "answer_id", "fichier", "imported_utc"):
        if c == "nombre":
            continue
        gdf[c] = _text(gdf, c) if c in gdf else ""
    gdf["nombre"] = pd.to_numeric(gdf["nombre"]).astype("int64")
    return gdf


# ---------------------------------------------------------------------------
# template


def template_text(fmt: str = "csv") -> str:
    """An empty besoins file: the CSV header (``;``-separated) or an empty GeoJSON FeatureCollection."""
    if fmt == "csv":
        return ";".join(TEMPLATE_COLUMNS) + "\n"
    if fmt == "geojson":
        props = {c: "" for c in TEMPLATE_COLUMNS if c not in ("lon", "lat")}
        doc = {
            "type": "FeatureCollection",
            "name": "besoins",
            "qpvgeo_besoins": {
                "description": "Une réponse (post-it) par entité : un point (lon/lat, EPSG:4326) "
                "et/ou code_qp ; type = besoin, frein ou lieu_evite.",
                "proprietes": props,
                "exemple_categories": ["boulangerie", "boucherie", "distributeur de billets"],
                "exemple_freins": list(FREINS.values()),
            },
            "features": [],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    raise ValidationError(f"unknown template format {fmt!r}; choose csv or geojson")


class TemplateExistsError(QpvgeoError, FileExistsError):
    """The template's file exists and replacing it was not asked for."""


def write_template(
    path: str | Path, fmt: str | None = None, *, overwrite: bool = False
) -> tuple[Path, str]:
    """Write an empty besoins file (:func:`template_text`) to ``path``, atomically.

    ``fmt`` defaults to ``geojson`` for a ``.geojson``/``.json`` name, else ``csv`` (written with a
    UTF-8 byte-order mark, so that Excel shows the accents). An existing file is replaced only
    with ``overwrite``. Returns the path and the format.
    """
    path = Path(path)
    fmt = fmt or ("geojson" if path.suffix.lower() in (".geojson", ".json") else "csv")
    text = template_text(fmt)
    if path.is_dir():
        raise ValidationError(f"{str(path)!r} is a folder; give a file name, e.g. besoins.{fmt}")
    if path.exists() and not overwrite:
        raise TemplateExistsError(
            f"{str(path)!r} already exists; pass --overwrite to replace it, or choose another file"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write((("\ufeff" if fmt == "csv" else "") + text).encode("utf-8"))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path, fmt


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
