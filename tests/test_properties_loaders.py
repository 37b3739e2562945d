"""Property-based tests of the loaders (hypothesis), on small samples of real mirror rows.

Each generated file either reads as the canonical file does (the same equipments, QPV,
coordinates) or stops with a qpvgeo error: never a foreign exception, never a silent change.
Files are written in a temporary folder per example (hypothesis runs many examples per test).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qpvgeo._errors import QpvgeoError, QpvgeoWarning, ValidationError
from qpvgeo.data import loaders, sources

BPE_91 = "insee/bpe2024_essonne_equipements_selection.csv"
QPV_91 = "qpv/qpv2024_essonne_91.geojson"
#: accepted spellings of the BPE columns qpvgeo reads: the mirror's and the official file's
SPELLINGS = {
    "typequ_derive": ("typequ_derive", "TYPEQU", "typequ"),
    "commune": ("commune", "DEPCOM", "depcom"),
    "lambert_x": ("lambert_x", "LAMBERT_X"),
    "lambert_y": ("lambert_y", "LAMBERT_Y"),
}
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def bpe_rows(data_dir) -> pd.DataFrame:
    """40 distinct rows of the Essonne BPE (various codes, accented labels), as text."""
    df = pd.read_csv(data_dir / BPE_91, dtype=str).drop_duplicates()
    df = df[df["label"].map(lambda s: _encodable(s, "latin-1"))]
    return df.groupby("typequ_derive").head(1).head(40).reset_index(drop=True)


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def canonical(rows: pd.DataFrame) -> pd.DataFrame:
    """What the rows mean, computed without qpvgeo: code, commune, x, y."""
    return pd.DataFrame(
        {
            "code": rows["typequ_derive"].str.strip().to_numpy(),
            "insee_com": rows["commune"].to_numpy(),
            "x": rows["lambert_x"].astype(float).to_numpy(),
            "y": rows["lambert_y"].astype(float).to_numpy(),
        }
    )


def parsed(bpe: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": bpe["code"].to_numpy(),
            "insee_com": bpe["insee_com"].to_numpy(),
            "x": bpe.geometry.x.to_numpy(),
            "y": bpe.geometry.y.to_numpy(),
        }
    )


@st.composite
def csv_format(draw):
    """How a BPE file may be written: separator, encoding, line ends, decimal mark, column names
    and order."""
    sep = draw(st.sampled_from([";", ","]))
    return {
        "sep": sep,
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"])),
        "lineterminator": draw(st.sampled_from(["\n", "\r\n"])),
        "decimal_comma": draw(st.booleans()),
        "names": {c: draw(st.sampled_from(names)) for c, names in SPELLINGS.items()},
        "order": draw(st.permutations(range(11))),
    }


def write_bpe(rows: pd.DataFrame, fmt: dict, path: Path) -> Path:
    out = rows.copy()
    if fmt["decimal_comma"]:
        for col in ("lambert_x", "lambert_y", "longitude", "latitude"):
            out[col] = out[col].str.replace(".", ",", regex=False)
    out = out.rename(columns=fmt["names"])
    out = out[[out.columns[i] for i in fmt["order"]]]
    out.to_csv(path, sep=fmt["sep"], encoding=fmt["encoding"], lineterminator=fmt["lineterminator"], index=False)
    return path


def read(path: Path) -> tuple[gpd.GeoDataFrame | None, list[str], QpvgeoError | None]:
    """read_bpe's result, its qpvgeo warnings, or its qpvgeo error (anything else propagates)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            bpe = loaders.read_bpe(path)
        except QpvgeoError as exc:
            return None, [], exc
    foreign = [w for w in caught if not issubclass(w.category, QpvgeoWarning)]
    assert not foreign, [str(w.message) for w in foreign]
    return bpe, [str(w.message) for w in caught], None


@FAST
@given(fmt=csv_format())
def test_any_official_layout_reads_like_the_canonical_file(bpe_rows, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        bpe, notes, error = read(write_bpe(bpe_rows, fmt, Path(tmp) / "BPE24.csv"))
    assert error is None and notes == []
    pd.testing.assert_frame_equal(parsed(bpe), canonical(bpe_rows))
    assert bpe.crs.to_epsg() == 2154


@FAST
@given(fmt=csv_format(), data=st.data())
def test_repeated_and_missing_rows(bpe_rows, fmt, data):
    """Rows left out are missing from the result, repeated rows are kept (several equipments at
    one address) up to the documented share, beyond which the file is refused."""
    n = len(bpe_rows)
    kept = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n), label="kept"))
    repeats = data.draw(st.lists(st.sampled_from(kept), max_size=n), label="repeated")
    rows = pd.concat([bpe_rows.iloc[kept], bpe_rows.iloc[repeats]], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        bpe, notes, error = read(write_bpe(rows, fmt, Path(tmp) / "bpe.csv"))
    share = len(repeats) / len(rows)
    doubled = len(rows) % 2 == 0 and rows.iloc[: len(rows) // 2].reset_index(drop=True).equals(
        rows.iloc[len(rows) // 2 :].reset_index(drop=True)
    )
    if share > loaders.MAX_BPE_DUPLICATE_SHARE or doubled:
        assert isinstance(error, ValidationError)
        assert f"{len(repeats)} of its {len(rows)} rows" in str(error)
        assert "repeat another row exactly" in str(error) and "Get the file again" in str(error)
    else:
        assert error is None and notes == []
        pd.testing.assert_frame_equal(parsed(bpe), canonical(rows))


@FAST
@given(fmt=csv_format(), data=st.data())
def test_header_lines_and_rows_without_coordinates_are_counted(bpe_rows, fmt, data):
    n = len(bpe_rows)
    blank = sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1), label="no xy"))
    headers = data.draw(st.lists(st.integers(1, n - 1), max_size=3, unique=True), label="header at")
    rows = bpe_rows.copy()
    rows.loc[blank, "lambert_x"] = data.draw(st.sampled_from(["", "nd", " "]), label="blank as")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_bpe(rows, fmt, Path(tmp) / "bpe.csv")
        lines = path.read_bytes().splitlines(keepends=True)
        for at in sorted(headers, reverse=True):
            lines.insert(at + 1, lines[0].removeprefix(b"\xef\xbb\xbf"))
        path.write_bytes(b"".join(lines))
        bpe, notes, error = read(path)
    assert error is None
    expected = []
    if headers:
        expected.append(f"{len(headers)} rows repeat the header line")
    if blank:
        expected.append(f"{len(blank)} equipments have no coordinates and are left out")
    assert len(notes) == len(expected) and all(e in m for e, m in zip(expected, notes, strict=True))
    pd.testing.assert_frame_equal(parsed(bpe), canonical(bpe_rows.drop(index=blank)))


@settings(max_examples=25, deadline=None)
@given(
    swap=st.booleans(),
    unit=st.sampled_from(["metres", "degrees", "kilometres"]),
    share=st.floats(0.05, 1.0),
)
def test_coordinates_in_another_unit_or_swapped_are_refused(bpe_rows, swap, unit, share):
    """Degrees, kilometres or swapped axes in LAMBERT_X/Y: an error naming the columns, never
    points elsewhere in France."""
    rows = bpe_rows.copy()
    k = max(1, int(share * len(rows)))
    if unit == "degrees":
        rows.loc[: k - 1, "lambert_x"] = rows.loc[: k - 1, "longitude"]
        rows.loc[: k - 1, "lambert_y"] = rows.loc[: k - 1, "latitude"]
    elif unit == "kilometres":
        for c in ("lambert_x", "lambert_y"):
            rows.loc[: k - 1, c] = (rows.loc[: k - 1, c].astype(float) / 1000).astype(str)
    if swap:
        rows.loc[: k - 1, ["lambert_x", "lambert_y"]] = rows.loc[: k - 1, ["lambert_y", "lambert_x"]].to_numpy()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bpe.csv"
        rows.to_csv(path, index=False)
        bpe, _, error = read(path)
    if unit == "metres" and not swap:
        assert error is None and len(bpe) == len(rows)
    else:
        assert isinstance(error, ValidationError)
        assert f"{k} equipments have coordinates outside Lambert-93 France" in str(error)
        assert ("look like longitude/latitude" in str(error)) == (unit == "degrees")


# --------------------------------------------------------------------------- QPV layers


@pytest.fixture(scope="module")
def qpv_rows(data_dir) -> gpd.GeoDataFrame:
    return gpd.read_file(data_dir / QPV_91).sort_values("code_qp").head(5).reset_index(drop=True)


@pytest.fixture(scope="module")
def qpv_canonical(qpv_rows) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / sources.CATALOGUE["qpv"].files[0]
        path.parent.mkdir(parents=True)
        qpv_rows.to_file(path)
        return loaders.load_qpv("91", data_dir=tmp, offline=True)


def load_qpv_from(layer: gpd.GeoDataFrame):
    """load_qpv on ``layer`` saved as the national GeoJSON: (result, warnings, qpvgeo error)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / sources.CATALOGUE["qpv"].files[0]
        path.parent.mkdir(parents=True)
        layer.to_file(path, driver="GeoJSON")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return loaders.load_qpv("91", data_dir=tmp, offline=True), caught, None
            except QpvgeoError as exc:
                return None, caught, exc


@settings(max_examples=20, deadline=None)
@given(
    crs=st.sampled_from([4326, 2154, 4171, 3857]),
    order=st.permutations(range(11)),
    upper=st.booleans(),
)
def test_qpv_layer_in_any_published_crs_reads_the_same(qpv_rows, qpv_canonical, crs, order, upper):
    """The same QPV in any CRS the ANCT publishes in, columns in any order and case."""
    layer = qpv_rows.to_crs(crs)
    cols = [c for c in layer.columns if c != "geometry"]
    layer = layer[[cols[i] for i in order] + ["geometry"]]
    if upper:
        layer = layer.rename(columns={c: c.upper() for c in cols})
    qpv, caught, error = load_qpv_from(layer)
    if crs == 3857:  # not a CRS the ANCT publishes in: refused, naming the accepted ones
        assert error is not None and "EPSG:4326, EPSG:4171, EPSG:2154" in str(error)
        return
    assert error is None and not caught
    assert list(qpv.index) == list(qpv_canonical.index)
    pd.testing.assert_frame_equal(
        pd.DataFrame(qpv.drop(columns=["geometry", "area_ha"])),
        pd.DataFrame(qpv_canonical.drop(columns=["geometry", "area_ha"])),
    )
    # the same places to the centimetre, the same areas to 1 m² in 10 ha
    assert (qpv.geometry.hausdorff_distance(qpv_canonical.geometry) < 0.01).all()
    np.testing.assert_allclose(qpv["area_ha"], qpv_canonical["area_ha"], rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(
    which=st.integers(0, 4),
    kind=st.sampled_from(["empty", "missing", "flat", "bowtie", "point", "line"]),
)
def test_empty_or_degenerate_qpv_geometry(qpv_rows, which, kind):
    """An empty, missing, flat (no area) or non-polygonal geometry is refused naming the QPV; a
    self-crossing one is repaired with a counted warning and keeps its area."""
    layer = qpv_rows.copy()
    code = layer.at[which, "code_qp"]
    x, y = layer.geometry.iloc[which].representative_point().coords[0]
    layer.loc[which, "geometry"] = {
        "empty": shapely.Polygon(),
        "missing": None,
        "flat": shapely.Polygon([(x, y), (x + 0.001, y), (x + 0.002, y)]),
        "bowtie": shapely.Polygon([(x, y), (x + 0.01, y + 0.01), (x + 0.01, y), (x, y + 0.01)]),
        "point": shapely.Point(x, y),
        "line": shapely.LineString([(x, y), (x + 0.01, y)]),
    }[kind]
    qpv, caught, error = load_qpv_from(layer)
    if kind == "bowtie":
        assert error is None
        assert [str(w.message) for w in caught if "repaired 1 invalid" in str(w.message)]
        assert qpv.at[code, "area_ha"] > 0 and qpv.is_valid.all()
    else:
        assert isinstance(error, ValidationError), (kind, caught)
        assert code in str(error)


@settings(max_examples=10, deadline=None)
@given(lambert_in_degrees=st.booleans(), with_crs_member=st.booleans())
def test_metres_in_a_geojson_without_crs(qpv_rows, lambert_in_degrees, with_crs_member):
    """Lambert-93 numbers in a GeoJSON read as degrees are refused; with a `crs` member naming
    Lambert-93 they read as the canonical layer."""
    collection = json.loads(qpv_rows.to_crs(2154).to_json() if lambert_in_degrees else qpv_rows.to_json())
    if not with_crs_member:
        collection.pop("crs", None)
    elif lambert_in_degrees:
        collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / sources.CATALOGUE["qpv"].files[0]
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(collection))
        try:
            qpv = loaders.load_qpv("91", data_dir=tmp, offline=True)
            error = None
        except QpvgeoError as exc:
            error = exc
    if lambert_in_degrees and not with_crs_member:
        assert error is not None and "they look like metres (Lambert-93?)" in str(error)
    else:
        assert error is None and len(qpv) == 5


# --------------------------------------------------------------------------- QPV key figures (CSV)

FIGURES = "insee/qpv2024_chiffres_cles_sigville_france.csv"


@pytest.fixture(scope="module")
def figure_rows(data_dir) -> pd.DataFrame:
    df = pd.read_csv(data_dir / FIGURES, dtype=str)
    df = df[df["lib_qp"].map(lambda s: _encodable(s, "latin-1")) & df["code_qp"].str.startswith("QN091")]
    return df.head(20).reset_index(drop=True)


@settings(max_examples=30, deadline=None)
@given(
    sep=st.sampled_from([";", ","]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
    lineterminator=st.sampled_from(["\n", "\r\n"]),
    decimal_comma=st.booleans(),
    order=st.permutations(range(22)),
    absent=st.lists(st.integers(0, 19), max_size=3, unique=True),
)
def test_qpv_figures_in_any_csv_layout(figure_rows, sep, encoding, lineterminator, decimal_comma, order, absent):
    """The SIG Ville figures read the same whatever the CSV layout; QPV missing from the file are
    counted in one warning and left empty."""
    rows = figure_rows.drop(index=absent)
    out = rows.copy()
    if decimal_comma:
        for col in [c for names in loaders.QPV_FIGURES.values() for c in names if c in out.columns]:
            out[col] = out[col].str.replace(".", ",", regex=False)
    out = out[[out.columns[i] for i in order]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / sources.CATALOGUE["qpv_figures"].files[1]  # a name without published hash
        path.parent.mkdir(parents=True)
        out.to_csv(path, sep=sep, encoding=encoding, lineterminator=lineterminator, index=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = loaders.load_qpv_figures(figure_rows["code_qp"], data_dir=tmp, offline=True)
    assert list(got.index) == list(figure_rows["code_qp"])
    for column, (official, *_) in loaders.QPV_FIGURES.items():
        expected = pd.to_numeric(figure_rows.set_index("code_qp")[official], errors="coerce")
        expected[figure_rows.loc[absent, "code_qp"]] = np.nan
        np.testing.assert_array_equal(got[column].to_numpy(), expected.to_numpy(), err_msg=column)
    messages = [str(w.message) for w in caught]
    assert all(issubclass(w.category, QpvgeoWarning) for w in caught)
    if absent:
        (message,) = messages
        assert f"{len(absent)} QPV are not in it" in message
    else:
        assert messages == []
