"""Shared pieces of the folium maps of :mod:`qpvgeo.maps` and :mod:`qpvgeo.workshop`.

Private: French number formatting, HTML escaping, legend lines and the
legend / title boxes, the checks of the input layers, the base map, panes,
framing, display geometries, one-layer groups, the Leaflet files and atomic
writes. Both modules build their pages from these, so that every map has the
same look (one legend style: 300 px wide, 64 px from the bottom).
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

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
# French text


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


def esc(text: object) -> str:
    """HTML-escaped text; ``""`` for None and NaN."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return html.escape(str(text), quote=False)


# ---------------------------------------------------------------------------
# legend lines (pre-rendered HTML, for :class:`Legend`); ``text`` is escaped


def case(colour: str, text: str, style: str = "") -> str:
    """Legend line of an area: a small filled box (``style`` adds CSS, e.g. a border)."""
    return f'<div><span class="case" style="background:{colour};{style}"></span>{esc(text)}</div>'


def point(colour: str, text: str, style: str = "") -> str:
    """Legend line of a marker: a small disc."""
    return f'<div><span class="point" style="background:{colour};{style}"></span>{esc(text)}</div>'


def line(colour: str, text: str, *, weight: float = 4, dashed: bool = False) -> str:
    """Legend line of a line layer (at least 1.5 px thick, to stay visible)."""
    style = f"border-top: {max(weight, 1.5):.1f}px {'dashed' if dashed else 'solid'} {colour};"
    return f'<div><span class="ligne" style="{style}"></span>{esc(text)}</div>'


def note(text: str) -> str:
    """Grey explanatory line of a legend."""
    return f'<div class="aide">{esc(text)}</div>'


def no_value(text: str) -> str:
    """Legend line of the QPV without a value (grey box, dashed outline: class ``sans``)."""
    return f'<div><span class="case sans"></span>{esc(text)}</div>'


# ---------------------------------------------------------------------------
# boxes drawn over the map


class Legend(MacroElement):
    """French legend box (bottom left) made of titled blocks of pre-rendered lines.

    ``blocks`` is a list of (title, lines): the title is escaped here, the
    lines are HTML from :func:`case`, :func:`point`, :func:`line`,
    :func:`note` and :func:`no_value`.
    """

    _template = Template(
        """
{% macro header(this, kwargs) %}
<style>
  .leaflet-container .leaflet-control-attribution { font-size: 11px; }
  .leaflet-container .leaflet-control-layers { font-size: 13px; max-width: 330px; }
  .leaflet-control-layers label { white-space: normal; margin-bottom: 2px; }
  .leaflet-container .leaflet-tooltip { font-size: 13px; max-width: 420px; white-space: normal; }
  .leaflet-container .leaflet-popup { font-size: 13px; }
  .qpvgeo-legend { position: fixed; bottom: 64px; left: 10px; z-index: 1000; color: #222;
    background: rgba(255,255,255,0.94); padding: 8px 10px; border-radius: 6px;
    box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 12px/1.35 Arial, Helvetica, sans-serif;
    width: 300px; max-height: calc(100vh - 150px); overflow-y: auto; }
  .qpvgeo-legend .titre { font-weight: bold; margin: 8px 0 3px; }
  .qpvgeo-legend .titre:first-child { margin-top: 0; }
  .qpvgeo-legend .case { display: inline-block; width: 16px; height: 11px; margin-right: 6px;
    vertical-align: middle; border: 1px solid #333; }
  .qpvgeo-legend .sans { background: #9e9e9e; opacity: 0.8; border: 1.5px dashed #424242; }
  .qpvgeo-legend .ligne { display: inline-block; width: 24px; height: 0; margin-right: 6px;
    vertical-align: middle; }
  .qpvgeo-legend .point { display: inline-block; width: 10px; height: 10px; margin: 0 9px 0 3px;
    border-radius: 50%; vertical-align: middle; border: 1px solid #fff;
    box-shadow: 0 0 0 1px #555; }
  .qpvgeo-legend .aide { margin-top: 3px; color: #555; }
  .qpvgeo-legend .en-ligne { display: inline-block; margin-right: 8px; white-space: nowrap; }
</style>
{% endmacro %}
{% macro html(this, kwargs) %}
<div class="qpvgeo-legend">
  {% for title, lines in this.blocks %}
  <div class="titre">{{ title }}</div>
  {% for line in lines %}{{ line }}
  {% endfor %}
  {% endfor %}
</div>
{% endmacro %}
"""
    )

    def __init__(self, blocks: list[tuple[str, list[str]]]) -> None:
        super().__init__()
        self._name = "QpvgeoLegend"
        self.blocks = [(html.escape(t, quote=False), lines) for t, lines in blocks]


class Title(MacroElement):
    """Title and subtitle of a map (top left, beside the zoom buttons)."""

    _template = Template(
        """
{% macro html(this, kwargs) %}
<div class="qpvgeo-title" style="position: fixed; top: 10px; left: 60px; z-index: 1000;
     max-width: calc(100% - 420px); background: rgba(255,255,255,0.94); padding: 6px 12px;
     border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.35);
     font: 15px/1.3 Arial, Helvetica, sans-serif; color: #222;">
  <div style="font-weight: bold;">{{ this.title }}</div>
  <div style="font-size: 12px; color: #444;">{{ this.subtitle }}</div>
</div>
{% endmacro %}
"""
    )

    def __init__(self, title: str, subtitle: str) -> None:
        super().__init__()
        self._name = "QpvgeoTitle"
        self.title = html.escape(title)
        self.subtitle = html.escape(subtitle)


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


# ---------------------------------------------------------------------------
# the map and its layers


def new_map(attribution: str) -> folium.Map:
    """Empty map on a muted OpenStreetMap background, loading Leaflet only.

    No jQuery, Bootstrap or icon fonts to fetch; a muted background leaves
    the QPV colours readable.
    """
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
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
        [[ymin, xmin], [ymax, xmax]], padding_top_left=(340, 70), padding_bottom_right=(350, 20)
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


def step_colour(value: float, bounds: Sequence[float], colours: Sequence[str]) -> str:
    """Colour of the class holding ``value`` (``""`` for NaN); values beyond the ends clip."""
    if value is None or not math.isfinite(value):
        return ""
    i = int(np.searchsorted(np.asarray(bounds[1:-1]), value, side="right"))
    return colours[min(max(i, 0), len(colours) - 1)]


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
