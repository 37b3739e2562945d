"""The map kit shared by every page of :mod:`qpvgeo.outputs`.

HTML escaping and the Jinja2 templates (``templates/``) and static files
(``static/``) of the package; the legend lines and the legend / title boxes;
the colours shared by several maps; the checks of the input layers; the base
map, panes, framing, display geometries, one-layer groups; the Leaflet files,
:func:`save_map` and atomic writes. Every map is built from these, so that
every map has the same look (one legend style: 300 px wide, 64 px from the
bottom).
"""

from __future__ import annotations

import base64
import functools
import html
import math
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement

from .._errors import MissingColumnError, ValidationError
from .._validate import assert_project_crs

#: where the maps load Leaflet from when it is not copied into the page
LEAFLET_JS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"

#: geometries are simplified by this much (metres, before reprojecting) before being drawn
DISPLAY_TOLERANCE_M = 2.0
#: coordinate decimals in the pages (5 decimals of a degree ≈ 1 m)
COORD_DECIMALS = 5

# ---------------------------------------------------------------------------
# escaping, templates, static files


def esc(text: object) -> str:
    """HTML-escaped text (quotes left as they are); ``""`` for None and NaN."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return html.escape(str(text), quote=False)


#: the templates of ``templates/``. Escaping is explicit, as it has always been in
#: these pages: ``|esc`` (:func:`esc`) in text, ``|esc_attr`` (quotes too) in attributes;
#: what a template is given ready-made (legend lines, JSON) goes in as it is.
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("qpvgeo.outputs", "templates"), autoescape=False
)
TEMPLATES.filters["esc"] = esc
TEMPLATES.filters["esc_attr"] = html.escape


def render(template: str, **context: object) -> str:
    """The page ``templates/<template>`` filled with ``context``."""
    return TEMPLATES.get_template(template).render(**context)


@functools.cache
def static_text(name: str) -> str:
    """The text of ``static/<name>`` (JavaScript, CSS), as shipped with the package."""
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# legend lines (HTML from ``templates/legend_lines.html.j2``); ``text`` is escaped

_LINES = TEMPLATES.get_template("legend_lines.html.j2").module


def case(
    colour: str, text: str, style: str = "", *, border: tuple[float, str, str] | None = None
) -> str:
    """Legend line of an area: a small filled box.

    ``style`` adds CSS (e.g. ``"opacity:0.35;"``); ``border`` is (width in px,
    CSS border style, colour).
    """
    return str(_LINES.case(colour, text, style, border))


def point(colour: str, text: str, style: str = "") -> str:
    """Legend line of a marker: a small disc."""
    return str(_LINES.point(colour, text, style))


def line(colour: str, text: str, *, weight: float = 4, dashed: bool = False) -> str:
    """Legend line of a line layer (at least 1.5 px thick, to stay visible)."""
    return str(_LINES.line(colour, text, max(weight, 1.5), dashed))


def note(text: str) -> str:
    """Grey explanatory line of a legend."""
    return str(_LINES.note(text))


def no_value(text: str) -> str:
    """Legend line of the QPV without a value (grey box, dashed outline: class ``sans``)."""
    return str(_LINES.no_value(text))


def heading(text: str) -> str:
    """Bold sub-title inside a legend block."""
    return str(_LINES.heading(text))


def warning_line(text: str) -> str:
    """Legend line saying what is not evaluated (class ``ne``)."""
    return str(_LINES.warning(text))


def details(summary: str, lines: Sequence[str]) -> str:
    """A folded legend block: ``summary`` (escaped) opens ``lines`` (HTML) on a click."""
    return str(_LINES.details(summary, list(lines)))


def points_inline(items: Sequence[tuple[str, str]]) -> str:
    """One legend line of several markers, ``items`` being (colour, text) pairs."""
    return str(_LINES.points_inline(list(items)))


def polarite_tooltip(kind: str, places: str, composition: str, residents: str) -> str:
    """HTML tooltip of a polarité on a fiche map (texts already escaped)."""
    return str(_LINES.polarite_tooltip(kind, places, composition, residents))


# ---------------------------------------------------------------------------
# boxes drawn over the map


class Legend(MacroElement):
    """French legend box (bottom left) made of titled blocks of pre-rendered lines.

    ``blocks`` is a list of (title, lines): the title is escaped here, the
    lines are HTML from :func:`case`, :func:`point`, :func:`line`,
    :func:`note` and :func:`no_value`. Its CSS is ``static/map_legend.css``.
    """

    _template = TEMPLATES.get_template("map_legend.html.j2")

    def __init__(self, blocks: list[tuple[str, list[str]]]) -> None:
        super().__init__()
        self._name = "QpvgeoLegend"
        self.css = static_text("map_legend.css")
        self.blocks = [(html.escape(t, quote=False), lines) for t, lines in blocks]


class MetricScale(MacroElement):
    """A metric-only scale bar (Leaflet's shows miles and feet too by default)."""

    _template = TEMPLATES.get_template("map_scale.html.j2")

    def __init__(self) -> None:
        super().__init__()
        self._name = "QpvgeoMetricScale"


class Title(MacroElement):
    """Title and subtitle of a map (top left, beside the zoom buttons)."""

    _template = TEMPLATES.get_template("map_title.html.j2")

    def __init__(self, title: str, subtitle: str) -> None:
        super().__init__()
        self._name = "QpvgeoTitle"
        self.title = html.escape(title)
        self.subtitle = html.escape(subtitle)
        #: a line of HTML under the subtitle (date, link back to the index), set by
        #: :func:`qpvgeo.outputs.maps.context.decorate`
        self.meta = ""


# ---------------------------------------------------------------------------
# colours shared by several maps, fiches and slides

#: fill and outline of a QPV whose indicator could not be computed
NO_VALUE_STYLE = {
    "fillColor": "#9e9e9e",
    "color": "#616161",
    "weight": 2,
    "dashArray": "5 4",
    "fillOpacity": 0.45,
    "opacity": 0.9,
}

#: fixed colours of the everyday categories, the same on every map
CATEGORY_COLOURS: dict[str, str] = {
    "supermarche": "#1f78b4",
    "superette": "#a6cee3",
    "epicerie": "#33a02c",
    "boulangerie": "#b15928",
    "boucherie": "#e31a1c",
    "marche": "#fb9a99",
    "tabac_presse": "#ff7f00",
    "banque": "#b2df8a",
    "pharmacie": "#00a087",
    "medecin_generaliste": "#6a3d9a",
    "bureau_poste": "#ffd92f",
    "ecole_maternelle": "#e7298a",
    "ecole_elementaire": "#cab2d6",
    "bibliotheque": "#1b3a5c",
}
#: colours handed, in order, to the other categories
_EXTRA_COLOURS = (
    "#8dd3c7", "#bebada", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
    "#bc80bd", "#ccebc5", "#66c2a5", "#e78ac3", "#a6d854", "#e5c494",
)  # fmt: skip

#: colours of the isochrones (5, 10, 15 min): the nearer, the darker
ISOCHRONE_COLOURS = {5: "#3f007d", 10: "#6a51a3", 15: "#9e9ac8"}

#: barrier lines (the slide images use their colours too)
BARRIER_STYLES = {
    "rail": {"color": "#252525", "weight": 4, "opacity": 0.9, "dashArray": "10 4"},
    "water": {"color": "#1f78b4", "weight": 4.5, "opacity": 0.9},
    "road": {"color": "#e6550d", "weight": 4.5, "opacity": 0.9},
}


def category_colours(categories: Sequence[str]) -> dict[str, str]:
    """One colour per category: fixed ones for everyday categories, then a qualitative palette."""
    out: dict[str, str] = {}
    spare = iter(c for c in _EXTRA_COLOURS if c not in CATEGORY_COLOURS.values())
    for cat in categories:
        out[cat] = CATEGORY_COLOURS.get(cat) or next(spare, "#555555")
    return out


def step_colour(value: float, bounds: Sequence[float], colours: Sequence[str]) -> str:
    """Colour of the class holding ``value`` (``""`` for NaN); values beyond the ends clip."""
    if value is None or not math.isfinite(value):
        return ""
    i = int(np.searchsorted(np.asarray(bounds[1:-1]), value, side="right"))
    return colours[min(max(i, 0), len(colours) - 1)]


# ---------------------------------------------------------------------------
# checks of the layers


def check_qpv(qpv: gpd.GeoDataFrame) -> None:
    """Raise unless ``qpv`` is in EPSG:2154 and holds at least one QPV."""
    assert_project_crs(qpv, "qpv")
    if len(qpv) == 0:
        raise ValidationError("`qpv` holds no QPV: nothing to map")


def check_layer(
    gdf: gpd.GeoDataFrame, name: str, columns: Sequence[str] = (), *, even_empty: bool = False
) -> None:
    """Raise unless ``gdf`` is in EPSG:2154 and has ``columns``.

    The columns are not asked of an empty layer (an empty result may be built
    without them) unless ``even_empty``.
    """
    assert_project_crs(gdf, name)
    if len(gdf) or even_empty:
        missing = [c for c in columns if c not in gdf.columns]
        if missing:
            raise MissingColumnError(f"`{name}` has no column {missing[0]!r}")


def network_status(indicators: pd.DataFrame, code: str) -> str:
    """``network_status`` of a QPV: ``couvert``, ``partiel`` or ``absent`` (also when unknown)."""
    if code not in indicators.index or "network_status" not in indicators.columns:
        return "absent"
    st = indicators.at[code, "network_status"]
    return st if isinstance(st, str) else "absent"


def numeric(table: pd.DataFrame, column: str) -> pd.Series:
    """``table[column]`` as floats (NaN where not a number, all NaN when there is no column)."""
    if column in table.columns:
        return pd.to_numeric(table[column], errors="coerce")
    return pd.Series(np.nan, index=table.index, dtype=float)


# ---------------------------------------------------------------------------
# the map and its layers


def new_map(attribution: str) -> folium.Map:
    """Empty map on a muted OpenStreetMap background, loading Leaflet only.

    No jQuery, Bootstrap or icon fonts to fetch; a muted background leaves
    the QPV colours readable.
    """
    m = folium.Map(tiles=None, control_scale=False, zoom_snap=0.25)
    MetricScale().add_to(m)
    m.default_js = [("leaflet", LEAFLET_JS_URL)]
    m.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    folium.TileLayer(
        "OpenStreetMap", name="Fond de carte OpenStreetMap", attr=attribution, opacity=0.6
    ).add_to(m)
    return m


def pane(m: folium.Map, name: str, z_index: int, *, events: bool = True) -> str:
    """Add a pane (it fixes the drawing order whatever the order layers are switched on)."""
    folium.map.CustomPane(name, z_index=z_index, pointer_events=events).add_to(m)
    return name


def finish(m: folium.Map, blocks: list[tuple[str, list[str]]], title: str, subtitle: str) -> None:
    """Add the layer control (top right), the legend (bottom left) and the title (top left)."""
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    Legend(blocks).add_to(m)
    Title(title, subtitle).add_to(m)


def select(qpv: gpd.GeoDataFrame, codes: Sequence[str] | None, what: str = "codes"):
    """The rows of ``codes`` (all of ``qpv`` for None); ``what`` names them in the error."""
    if codes is None:
        return qpv
    unknown = [c for c in codes if c not in qpv.index]
    if unknown:
        raise ValidationError(f"{what} not in `qpv`: {unknown!r}")
    return qpv.loc[list(codes)]


def fit(m: folium.Map, gdf: gpd.GeoDataFrame) -> None:
    """Open the map on ``gdf``, clear of the legend (left), title (top), layer control (right)."""
    xmin, ymin, xmax, ymax = gdf.to_crs(4326).total_bounds
    m.fit_bounds(
        [[ymin, xmin], [ymax, xmax]], padding_top_left=(360, 80), padding_bottom_right=(350, 20)
    )


def to_wgs84(gdf: gpd.GeoDataFrame, decimals: int = COORD_DECIMALS) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326, coordinates rounded (5 decimals ≈ 1 m) to keep the page light."""
    out = gdf.to_crs(4326)
    geoms = shapely.transform(out.geometry.values, lambda xy: np.round(xy, decimals))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=4326))


def display(gdf: gpd.GeoDataFrame, tolerance: float = DISPLAY_TOLERANCE_M) -> gpd.GeoDataFrame:
    """Simplified (in metres), reprojected to WGS84, coordinates rounded."""
    if len(gdf) == 0:
        return gdf.to_crs(4326)
    return to_wgs84(gdf.set_geometry(gdf.geometry.simplify(tolerance, preserve_topology=True)))


def near(gdf: gpd.GeoDataFrame, zone) -> gpd.GeoDataFrame:
    """The rows of ``gdf`` intersecting ``zone``, in their order."""
    if len(gdf) == 0:
        return gdf
    hit = gdf.sindex.query(zone, predicate="intersects")
    return gdf.iloc[np.sort(hit)]


def of_qpv(gdf: gpd.GeoDataFrame, codes) -> gpd.GeoDataFrame:
    """The rows of ``gdf`` whose ``code_qp`` is ``codes`` (one code or a collection of codes).

    An empty frame is returned as is (it may lack the ``code_qp`` column).
    """
    if len(gdf) == 0:
        return gdf
    if isinstance(codes, str):
        return gdf[gdf["code_qp"] == codes]
    return gdf[gdf["code_qp"].isin(list(codes))]


def geojson_group(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style,
    show: bool = True,
    pane: str | None = None,
    fields: list[str] | None = None,
    aliases: list[str] | None = None,
    interactive: bool = True,
    highlight: bool = False,
    marker: folium.CircleMarker | None = None,
) -> folium.FeatureGroup:
    """One FeatureGroup (a line of the layer control) holding one GeoJson layer (WGS84 ``gdf``)."""
    group = folium.FeatureGroup(name=name, show=show)
    if len(gdf) == 0:
        return group
    kwargs = {}
    if pane:
        kwargs["pane"] = pane
    if not interactive:
        kwargs["interactive"] = False
    folium.GeoJson(
        gdf.to_json(drop_id=True),
        style_function=style,
        highlight_function=(lambda f: {"weight": 4, "color": "#000000"}) if highlight else None,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True)
        if fields and interactive
        else None,
        marker=marker,
        control=False,
        **kwargs,
    ).add_to(group)
    return group


# ---------------------------------------------------------------------------
# files


def leaflet_files() -> tuple[str, str] | None:
    """Leaflet's JS and CSS (its images inlined as data URIs), from ``xstatic-leaflet``.

    None when that package is not installed (each caller says what it loses).
    """
    try:
        from xstatic.pkg import leaflet as xleaflet
    except ImportError:
        return None
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        img = base / match["path"]
        if not img.is_file():
            return match[0]
        return f"url(data:image/png;base64,{base64.b64encode(img.read_bytes()).decode('ascii')})"

    css = re.sub(r"url\((?P<path>images/[\w.-]+\.png)\)", data_uri, css)
    return js, css


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and :func:`os.replace`.

    An existing file is only ever replaced by a complete one. Missing parent
    folders are created; the file gets the ordinary permissions (umask).
    Text is written as UTF-8.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary, shareable file (mkstemp makes it private)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def save_map(
    m: folium.Map | Element, path: str | os.PathLike, *, self_contained: bool = True
) -> Path:
    """Write a map as one HTML page, atomically.

    The page is rendered in memory first, written to a temporary file in the
    target folder, then moved onto ``path`` with :func:`os.replace`: an
    existing file is only ever replaced by a complete page, never left
    half-written if rendering or writing fails.

    Parameters
    ----------
    m : folium.Map
        The map, e.g. from :func:`qpvgeo.outputs.maps.overview_map`.
    path : str or path-like
        Target file; missing parent folders are created.
    self_contained : bool
        Copy the Leaflet library into the page (from the ``xstatic-leaflet``
        package), so that it displays without internet access (background
        tiles excepted). If that package is missing, the page links to the
        CDN instead, with a warning.

    Returns
    -------
    Path
        The path written.
    """
    page = m.get_root().render()
    if self_contained:
        page = _inline_leaflet(page)
    return write_atomic(path, page)


_LEAFLET_SCRIPT = re.compile(
    r'<script src="https://cdn\.jsdelivr\.net/npm/leaflet@[\d.]+/dist/leaflet\.js">'
    r"\s*</script>"
)
_LEAFLET_LINK = re.compile(
    r'<link rel="stylesheet" href="https://cdn\.jsdelivr\.net/npm/leaflet@[\d.]+'
    r'/dist/leaflet\.css"\s*/?>'
)


def _inline_leaflet(page: str) -> str:
    assets = leaflet_files()
    if assets is None:
        warnings.warn(
            "xstatic-leaflet is not installed: the map page loads Leaflet from the internet and "
            "shows nothing offline; `pip install xstatic-leaflet` to make it self-contained",
            stacklevel=3,
        )
        return page
    js, css = assets
    js = js.replace("</script", "<\\/script")
    inline = TEMPLATES.get_template("inline_assets.html.j2").module
    page = _LEAFLET_SCRIPT.sub(lambda _: str(inline.script(js)), page, count=1)
    page = _LEAFLET_LINK.sub(lambda _: str(inline.style(css)), page, count=1)
    return page
