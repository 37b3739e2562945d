"""Place context shared by every map, fiche and slide: where the reader is, what is counted.

- :func:`decorate` adds to a folium map of a run the commune boundaries and
  names, every other QPV of the département (« QPV voisins », drawn even when
  they are not in the run), a label (name and code) on each QPV, a click on a
  QPV (or its label) opening its fiche, the page's date and a link back to the
  index, the « ce qui est compté / pas compté » box and the sources with their
  vintages; on a map of many QPV, the shop and service markers wait for a
  closer zoom (:data:`POINTS_MIN_ZOOM`). Its JavaScript is
  ``static/map_context.js`` and ``static/tooltip_fit.js`` (tooltips kept
  inside the window), its CSS ``static/map_context.css``.
- :func:`inventory` lists the categories present in the data and those absent.
- :func:`locator_svg` draws the small locator map of a fiche (the département,
  its QPV, the one described).

Labels are shown by zoom: the QPV of the run and the communes holding a QPV
at every zoom, the other QPV from :data:`NEIGHBOUR_LABEL_ZOOM`, the other
communes from :data:`COMMUNE_LABEL_ZOOM`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement

from ...data import nomenclature
from .. import mapkit as mk
from ..labels_fr import produced_line, source_credits

#: below this zoom, the shop and service markers of a map of many QPV are hidden
POINTS_MIN_ZOOM = 14
#: zoom from which the QPV outside the run are labelled
NEIGHBOUR_LABEL_ZOOM = 13
#: zoom from which the communes without a QPV are labelled
COMMUNE_LABEL_ZOOM = 13
#: commune boundaries and neighbours are drawn this far around the QPV of the map (metres)
CONTEXT_RADIUS_M = 5000.0

#: French names of the domains of the nomenclature (``categories.csv``)
DOMAIN_LABELS = {
    "commerce_alimentaire": "Commerces alimentaires",
    "commerce": "Autres commerces",
    "service_marchand": "Services marchands",
    "sante": "Santé",
    "service_public": "Services publics et sociaux",
    "education": "Enseignement",
    "sport_loisirs_culture": "Sport, loisirs, culture",
    "transport": "Transport",
}


# ---------------------------------------------------------------------------
# what is counted


def inventory(result) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """(domain, category labels) present in the run's equipments; labels of those absent.

    Present: every category of the nomenclature with at least one equipment
    in ``result.equipments``, grouped by domain. Absent: the categories of the
    nomenclature with none (``result.categories_absent`` among them), so a
    reader knows that, e.g., cafés or post offices are not on the maps.
    """
    cats = nomenclature.categories()
    eq = result.equipments
    have = set(eq["category"]) if len(eq) and "category" in eq.columns else set()
    present: list[tuple[str, list[str]]] = []
    for domain, rows in cats.groupby("domain", sort=False):
        labels = [str(rows.at[c, "label_fr"]) for c in rows.index if c in have]
        if labels:
            present.append((DOMAIN_LABELS.get(domain, str(domain)), labels))
    absent_codes = [c for c in cats.index if c not in have]
    absent_codes += [c for c in getattr(result, "categories_absent", []) if c not in absent_codes]
    absent = [nomenclature.label(c) for c in absent_codes if c in cats.index]
    return present, absent


def inventory_lines(result) -> list[str]:
    """The « ce qui est compté / ce qui n'est pas compté » box as legend lines."""
    present, absent = inventory(result)
    lines = [mk.heading("Compté (présent dans les données INSEE BPE)")]
    lines += [mk.note(f"{dom} : {', '.join(labs)}.") for dom, labs in present]
    lines.append(mk.heading("Pas compté (absent des données)"))
    if absent:
        lines.append(mk.note(", ".join(absent) + "."))
    lines.append(mk.note(
        "Les autres commerces (habillement, restauration hors liste, etc.) ne sont pas "
        "dans la liste suivie par qpvgeo."
    ))  # fmt: skip
    return lines


def sources_lines(result) -> list[str]:
    """The sources with their vintages (data catalogue) and the producer line."""
    lines = [mk.note(f"{what[:1].upper()}{what[1:]} : {who} ({when}).") for what, who, when in source_credits()]
    lines.append(mk.note(produced_line(result) + "."))
    return lines


# ---------------------------------------------------------------------------
# the layers of the context


def _wgs_point(geom) -> tuple[float, float]:
    p = gpd.GeoSeries([geom], crs=2154).to_crs(4326).iloc[0]
    return round(p.y, 5), round(p.x, 5)


def _label_points(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    if len(gdf) == 0:
        return []
    pts = gpd.GeoSeries(gdf.geometry.representative_point().values, crs=gdf.crs).to_crs(4326)
    return [(round(p.y, 5), round(p.x, 5)) for p in pts]


def _communes(result) -> gpd.GeoDataFrame:
    communes = getattr(result, "communes", None)
    if communes is None or len(communes) == 0:
        return gpd.GeoDataFrame({"nom": []}, geometry=[], crs=2154)
    return communes.to_crs(2154)


def _all_qpv(result) -> gpd.GeoDataFrame:
    qpv_all = getattr(result, "qpv_all", None)
    return result.qpv if qpv_all is None or len(qpv_all) == 0 else qpv_all.to_crs(2154)


def context_data(
    result,
    view: Sequence[str] | None = None,
    *,
    fiche_prefix: str | None = "fiches/",
    radius_m: float = CONTEXT_RADIUS_M,
    focus: str | None = None,
) -> dict:
    """The JSON the context script draws: commune lines, neighbour QPV, labels, fiche links.

    ``view``: the QPV the map opens on (default: all of the run); the
    communes and neighbours within ``radius_m`` of them are drawn.
    ``fiche_prefix``: where the fiches are, relative to the page (None: no
    links). ``focus``: a fiche's own QPV (not drawn again as a neighbour).
    """
    qpv = result.qpv
    shown = qpv if view is None else qpv.loc[list(view)]
    zone = shapely.union_all(shown.geometry.values).buffer(radius_m)
    communes = mk.near(_communes(result), zone)
    qpv_all = _all_qpv(result)
    in_run = set(qpv.index)
    others = mk.near(qpv_all[~qpv_all.index.isin([focus] if focus else in_run)], zone)
    if focus is None:
        others = others[~others.index.isin(in_run)]
    has_qpv = set(qpv_all["insee_com"]) if "insee_com" in qpv_all.columns else set()
    labels = []
    # a commune's name sits inside the part of it that is on the map
    seen = communes.assign(geometry=communes.geometry.intersection(zone.envelope).values)
    for (lat, lon), code in zip(_label_points(seen), seen.index, strict=True):
        name = mk.esc(communes.at[code, "nom"]) if "nom" in communes.columns else ""
        if name:
            z = 0 if code in has_qpv else COMMUNE_LABEL_ZOOM
            labels.append({"lat": lat, "lon": lon, "h": name, "k": "commune", "z": z})
    fiches = {}
    if fiche_prefix is not None:
        fiches = {c: f"{fiche_prefix}{c}.html" for c in qpv.index}
    for frame, kind in ((shown, "qpv"), (others, "voisin")):
        for (lat, lon), code in zip(_label_points(frame), frame.index, strict=True):
            name = mk.esc(frame.at[code, "lib_qp"]) if "lib_qp" in frame.columns else ""
            z = 0 if kind == "qpv" or focus else NEIGHBOUR_LABEL_ZOOM
            labels.append({"lat": lat, "lon": lon, "h": f"{name}<small>{mk.esc(code)}</small>",
                           "k": kind, "z": z, "href": fiches.get(code)})  # fmt: skip
    voisins = mk.display(others[["geometry"]].assign(
        t=[f"<b>{mk.esc(others.at[c, 'lib_qp'])}</b> ({mk.esc(c)}) – "
           f"{mk.esc(others.at[c, 'lib_com']) if 'lib_com' in others else ''}<br>"
           + ("QPV voisin : cliquez pour sa fiche" if c in fiches
              else "QPV voisin, hors de cette étude") for c in others.index],
        code=[c if c in fiches else "" for c in others.index],
    ), 5.0)  # fmt: skip
    lines = mk.display(communes[["geometry"]].assign(
        geometry=communes.geometry.boundary.values), 10.0)  # fmt: skip
    return {
        "communes": json.loads(lines.to_json(drop_id=True)) if len(lines) else None,
        "voisins": json.loads(voisins.to_json(drop_id=True)) if len(voisins) else None,
        "labels": labels,
        "fiches": fiches,
    }


class PlaceContext(MacroElement):
    """The context layers, fiche links and tooltip fitting of a map (``static/map_context.js``)."""

    _template = mk.TEMPLATES.get_template("map_context.html.j2")

    def __init__(self, data: dict) -> None:
        super().__init__()
        self._name = "QpvgeoContext"
        self.css = mk.static_text("map_context.css")
        self.js = mk.static_text("tooltip_fit.js") + mk.static_text("map_context.js")
        self.data = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace(
            "</", "<\\/"
        )


def decorate(
    m: folium.Map,
    result,
    *,
    view: Sequence[str] | None = None,
    fiche_prefix: str | None = "fiches/",
    index_href: str | None = "index.html",
    points_pane: str | None = None,
) -> folium.Map:
    """Add the place context, the date, the back link, the inventory and the sources to ``m``.

    Parameters
    ----------
    m : folium.Map
        A map built by :mod:`qpvgeo.outputs.maps` (its legend and title are
        completed here).
    result : qpvgeo.pipeline.RunResult
        The run mapped (``communes`` and ``qpv_all`` give the context).
    view : sequence of str, optional
        The QPV the map opens on (default: all of the run).
    fiche_prefix, index_href : str or None
        The fiches and the index relative to the page (None: no link).
    points_pane : str, optional
        A pane of markers hidden below :data:`POINTS_MIN_ZOOM` when the map
        shows more than :data:`~qpvgeo.outputs.maps.overview.SHOW_EQUIPMENTS_MAX_QPV`
        QPV (thousands of markers would hide the QPV at the scale of a département).
    """
    from .overview import few_qpv

    data = context_data(result, view, fiche_prefix=fiche_prefix)
    if points_pane and not few_qpv(result.qpv, view):
        data["hide"] = {
            "pane": points_pane, "zoom": POINTS_MIN_ZOOM,
            "text": "Zoomez sur un quartier pour afficher les commerces et services "
                    "(trop nombreux à cette échelle).",
        }  # fmt: skip
    PlaceContext(data).add_to(m)
    for child in m._children.values():
        if isinstance(child, mk.Title):
            child.meta = _meta_html(result, index_href)
        elif isinstance(child, mk.Legend):
            child.blocks += _context_blocks(result, bool(data["voisins"]), fiche_prefix)
    return m


def _meta_html(result, index_href: str | None) -> str:
    back = f'<a href="{index_href}">← Index des cartes et fiches</a> · ' if index_href else ""
    return back + mk.esc(produced_line(result))


def _context_blocks(result, neighbours: bool, fiche_prefix: str | None) -> list:
    lines = [mk.line("#555555", "Limite de commune (nom en gris)", weight=1.5, dashed=True)]
    if neighbours:
        lines.append(mk.case("#c7c7c7", "Autre QPV du département (hors de cette étude)",
                             border=(1.5, "dashed", "#6b6b6b")))  # fmt: skip
    if fiche_prefix is not None:
        lines.append(mk.note("Cliquez sur un QPV ou sur son nom pour ouvrir sa fiche."))
    return [
        ("Repères", lines),
        ("", [mk.details("Ce qui est compté / ce qui n'est pas compté", inventory_lines(result))]),
        ("", [mk.details("Sources, millésimes et date", sources_lines(result))]),
    ]


# ---------------------------------------------------------------------------
# the locator of a fiche


def locator_svg(result, code: str, *, width: int = 220) -> str:
    """A small SVG map of the département: its communes' outline, every QPV, ``code`` in red."""
    communes = _communes(result)
    qpv_all = _all_qpv(result)
    dep = shapely.union_all(communes.geometry.values) if len(communes) else None
    frame = dep if dep is not None and not dep.is_empty else shapely.union_all(
        qpv_all.geometry.values).buffer(3000)  # fmt: skip
    xmin, ymin, xmax, ymax = frame.bounds
    scale = (width - 8) / max(xmax - xmin, ymax - ymin)
    height = int((ymax - ymin) * scale) + 8

    def path(geom) -> str:
        geom = geom.simplify(1.5 / scale)
        parts = []
        polys = getattr(geom, "geoms", [geom])
        for poly in polys:
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                px = (xy[:, 0] - xmin) * scale + 4
                py = (ymax - xy[:, 1]) * scale + 4
                parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True)) + "Z")
        return "".join(parts)

    out = [f'<svg class="localisation" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="Localisation du quartier dans le département">']
    if dep is not None and not dep.is_empty:
        out.append(f'<path d="{path(dep)}" fill="#f2f2ef" stroke="#777" stroke-width="1"/>')
    others = qpv_all[qpv_all.index != code]
    if len(others):
        out.append(f'<path d="{path(shapely.union_all(others.geometry.values))}" fill="#9e9e9e"/>')
    if code in qpv_all.index or code in result.qpv.index:
        geom = (qpv_all if code in qpv_all.index else result.qpv).at[code, "geometry"]
        c = geom.centroid
        cx, cy = (c.x - xmin) * scale + 4, (ymax - c.y) * scale + 4
        out.append(f'<path d="{path(geom)}" fill="#d7301f"/>')
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none" stroke="#d7301f" '
                   'stroke-width="2.5"/>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)

