"""Static images for slides (matplotlib, no background tiles): one per QPV, one overview.

:func:`fiche_png` draws the map of one QPV as its fiche shows it (streets,
barriers, isochrones, polarités, shop → public service lines, places);
:func:`viability_png` the viability reading of every QPV of the run, ranked.
Both are :data:`PNG_SIZE` pixels with a French title and legend.
"""

from __future__ import annotations

import io
import math
import textwrap

import numpy as np
import pandas as pd
import shapely

from . import mapkit as mk
from .labels_fr import (
    BARRIER_LABELS,
    BARRIER_ONE_SLIDE,
    READING_NOT_EVALUATED,
    SLIDE_DRIVE_NOTE,
    SLIDE_NO_NETWORK_NOTE,
    SLIDE_WALK_NOTE,
    departement_label,
    fr_number,
    osm_dates,
    produced_line,
    short_credits,
    uses_drive_network,
)
from .maps.coupling import (
    NEAR_M,
    PAIR_CLASSES,
    POLARITE_STYLES,
    pair_class,
    place_colour,
    places_for_display,
)
from .maps.viability import NO_SCORE_COLOUR, score_texts, viability_colour, viability_labels

#: size of the slide images (pixels)
PNG_SIZE = (1600, 1000)
_DPI = 100
#: the body text of the slide images, in points (legible when projected: at least 14 pt)
BODY_PT = 14
#: dash pattern of the railway lines (matplotlib)
_RAIL_DASH = (0, (6, 2))


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(PNG_SIZE[0] / _DPI, PNG_SIZE[1] / _DPI), dpi=_DPI)
    FigureCanvasAgg(fig)  # a renderer to measure the names with (_declutter)
    return fig


def _png_bytes(fig) -> bytes:
    for ax in fig.axes:
        _declutter(ax, getattr(ax, "qpvgeo_names", []))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _scale_bar(ax, length_m: float, *, top: bool = False) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x0 + 0.03 * (x1 - x0)
    y = y1 - 0.06 * (y1 - y0) if top else y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="#111", lw=4, solid_capstyle="butt", zorder=20)
    label = f"{fr_number(length_m / 1000, 1)} km" if length_m >= 1000 else f"{int(length_m)} m"
    ax.text(x + length_m / 2, y + 0.012 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=BODY_PT, zorder=20)  # fmt: skip


def _north_arrow(ax) -> None:
    """A north arrow in the top right corner of the map (Lambert-93: north is up)."""
    ax.annotate("N", xy=(0.965, 0.975), xytext=(0.965, 0.875), xycoords="axes fraction",
                ha="center", va="center", fontsize=BODY_PT + 2, weight="bold", zorder=21,
                arrowprops={"arrowstyle": "-|>", "color": "#111", "lw": 2})  # fmt: skip


def _declutter(ax, texts: list) -> None:
    """Remove the names that would overlap one already drawn (first come, first kept)."""
    if not texts:
        return
    ax.figure.canvas.draw()  # places the texts at the axes' final limits
    renderer = ax.figure.canvas.get_renderer()
    kept = []
    for t in texts:
        box = t.get_window_extent(renderer).expanded(1.05, 1.1)
        if any(box.overlaps(k) for k in kept):
            t.remove()
        else:
            kept.append(box)


def _context(ax, result, zone, *, focus: str | None = None, labels: str = "all") -> list:
    """Commune boundaries and names, and the other QPV, inside ``zone``; their legend handles.

    ``labels``: ``"all"`` names every commune in ``zone``, ``"qpv"`` only those holding
    a QPV of the run.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    communes = getattr(result, "communes", None)
    if communes is not None and len(communes):
        near_c = mk.near(communes.to_crs(result.qpv.crs), zone)
        if len(near_c):
            near_c.boundary.plot(ax=ax, color="#666", linewidth=1.2, linestyle=(0, (5, 3)),
                                 zorder=1.5)  # fmt: skip
            handles.append(Line2D([], [], color="#666", lw=1.5, ls="--",
                                  label="Limite de commune"))  # fmt: skip
            named = near_c
            if labels == "qpv":
                named = near_c[near_c.index.isin(set(result.qpv["insee_com"]))]
            if len(named):
                inside = named.geometry.intersection(zone.envelope).representative_point()
                texts = [
                    ax.text(p.x, p.y, str(name).upper(), fontsize=BODY_PT - 1, color="#555",
                            ha="center", va="center", zorder=3.5, clip_on=True)
                    for name, p in zip(named["nom"], inside.values, strict=True)
                ]  # fmt: skip
                ax.qpvgeo_names = texts  # decluttered once the view is set (_png_bytes)
    qpv_all = getattr(result, "qpv_all", None)
    if qpv_all is not None and len(qpv_all):
        others = mk.near(qpv_all[qpv_all.index != focus].to_crs(result.qpv.crs), zone)
        if focus is None:
            others = others[~others.index.isin(result.qpv.index)]
        if len(others):
            others.plot(ax=ax, facecolor="#c7c7c7", edgecolor="#6b6b6b", linewidth=1,
                        linestyle="--", alpha=0.6, zorder=1.6)  # fmt: skip
            handles.append(Patch(facecolor="#c7c7c7", edgecolor="#6b6b6b", linestyle="--",
                                 label="Autre QPV du département"))  # fmt: skip
    return handles


def _locator(fig, result, code: str | None, rect) -> None:
    """Inset map of the département: its communes, every QPV in grey, ``code`` in red."""
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    communes = getattr(result, "communes", None)
    qpv_all = getattr(result, "qpv_all", None)
    qpv_all = result.qpv if qpv_all is None or not len(qpv_all) else qpv_all.to_crs(result.qpv.crs)
    if communes is not None and len(communes):
        dep = shapely.union_all(communes.to_crs(result.qpv.crs).geometry.values)
        import geopandas as gpd

        gpd.GeoSeries([dep], crs=result.qpv.crs).plot(ax=ax, facecolor="#f2f2ef",
                                                      edgecolor="#777", linewidth=1)  # fmt: skip
    qpv_all.plot(ax=ax, color="#9e9e9e", linewidth=0)
    if code is not None:
        geom = result.qpv.at[code, "geometry"]
        c = geom.centroid
        ax.scatter([c.x], [c.y], s=260, facecolor="none", edgecolor="#d7301f", linewidth=2.5)
    else:
        result.qpv.plot(ax=ax, color="#d7301f", linewidth=0)
    ax.set_aspect("equal")
    ax.set_title("Localisation", fontsize=BODY_PT - 2, color="#444")


# ---------------------------------------------------------------------------
# one QPV


def fiche_png(code_qp: str, result) -> bytes:
    """Slide image (PNG, :data:`PNG_SIZE`) of the map of one QPV, French title and legend."""
    code = code_qp
    zone = result.qpv.at[code, "geometry"].buffer(NEAR_M)
    fig = _figure()
    ax = fig.add_axes(_MAP_RECT)
    ax.set_axis_off()
    _frame(ax, zone.bounds)
    view = shapely.box(ax.get_xlim()[0], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1])
    handles = _context(ax, result, view, focus=code)
    handles += _draw_background(ax, result, code, zone)
    handles += _draw_coupling(ax, result, code, zone)
    _frame(ax, zone.bounds)
    p = result.qpv.at[code, "geometry"].representative_point()
    ax.text(p.x, p.y, str(result.qpv.at[code, "lib_qp"]), fontsize=BODY_PT + 1, weight="bold",
            ha="center", va="center", zorder=12,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 2})  # fmt: skip
    _scale_bar(ax, 500.0)
    _north_arrow(ax)
    _locator(fig, result, code, (0.535, 0.10, 0.13, 0.2))
    _fiche_texts(fig, result, code, handles)
    return _png_bytes(fig)


#: where the map of a QPV image sits (figure fractions: left, bottom, width, height)
_MAP_RECT = (0.01, 0.09, 0.66, 0.79)


def _draw_background(ax, result, code: str, zone) -> list:
    """Streets, barriers, isochrones and the QPV perimeter; their legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    streets = mk.near(result.streets, zone) if len(result.streets) else result.streets
    if len(streets):
        streets.plot(ax=ax, color="#c8c8c8", linewidth=0.8, zorder=1)
        handles.append(Line2D([], [], color="#c8c8c8", lw=1.5, label="Rues (réseau routier)"))
    lines = getattr(result.barriers, "lines", None)
    if lines is not None and len(lines):
        near_b = mk.near(lines, zone.buffer(500))
        for kind in ("rail", "water", "road"):
            colour = mk.BARRIER_STYLES[kind]["color"]
            dash = _RAIL_DASH if kind == "rail" else "solid"
            sub = near_b[near_b["kind"] == kind] if len(near_b) else near_b
            if len(sub):
                sub.plot(ax=ax, color=colour, linewidth=2.5, linestyle=dash, zorder=2)
                handles.append(Line2D([], [], color=colour, lw=2.5, ls=dash,
                                      label=BARRIER_ONE_SLIDE[kind]))  # fmt: skip
    iso = mk.of_qpv(result.isochrones, code)
    for minutes in sorted(mk.ISOCHRONE_COLOURS, reverse=True):
        sub = iso[iso["minutes"] == minutes] if len(iso) else iso
        if len(sub):
            c = mk.ISOCHRONE_COLOURS[minutes]
            sub.plot(ax=ax, facecolor=c, alpha=0.08, edgecolor=c, linewidth=1, zorder=3)
            handles.append(Patch(facecolor=c, alpha=0.3, edgecolor=c,
                                 label=f"Atteint à pied en {minutes} min"))  # fmt: skip
    result.qpv.loc[[code]].plot(ax=ax, facecolor="none", edgecolor="#111", linewidth=3, zorder=5)
    handles.append(Patch(facecolor="none", edgecolor="#111", linewidth=3, label="Périmètre du QPV"))
    return handles


def _draw_coupling(ax, result, code: str, zone) -> list:
    """Polarités, shop → public service lines and places; their legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    pols = mk.of_qpv(result.polarites, code)
    for flag, lab in ((True, "Polarité mixte (commerces + services)"),
                      (False, "Polarité d'un seul type")):  # fmt: skip
        sub = pols[pols["mixte"].astype(bool) == flag] if len(pols) else pols
        s = POLARITE_STYLES[flag]
        if len(sub):
            sub.plot(ax=ax, facecolor=s["fillColor"], alpha=0.35, zorder=6)
            sub.plot(ax=ax, facecolor="none", edgecolor=s["color"], linewidth=s["weight"],
                     linestyle="--" if s["dashArray"] else "-", zorder=6)  # fmt: skip
            handles.append(Patch(facecolor=s["fillColor"], edgecolor=s["color"],
                                 linestyle="--" if s["dashArray"] else "-", label=lab))  # fmt: skip
    pairs = mk.of_qpv(result.service_pairs, code)
    if len(pairs):
        k = np.array([pair_class(v) for v in pd.to_numeric(pairs["walk_min"])])
        for i, (_, text, colour) in enumerate(PAIR_CLASSES):
            sub = pairs[k == i]
            dash = "--" if i == len(PAIR_CLASSES) - 1 else "-"
            if len(sub):
                sub.plot(ax=ax, color=colour, linewidth=3, linestyle=dash, zorder=7)
            handles.append(Line2D([], [], color=colour, lw=3, ls=dash,
                                  label=f"Commerce → service public : {text}"))  # fmt: skip
    places = mk.near(places_for_display(result.equipments), zone)
    for famille, marker, edge in (("commerce", "o", "white"), ("service", "s", "#1a1a1a")):
        sub = places[places["famille"] == famille]
        if not len(sub):
            continue
        cols = [place_colour(famille, d) for d in sub["domain"]]
        sub.plot(ax=ax, color=[c for c, _ in cols], marker=marker, markersize=55,
                 edgecolor=edge, linewidth=0.7, zorder=8)  # fmt: skip
        for colour, lab in dict.fromkeys(cols):
            handles.append(Line2D([], [], marker=marker, color="none", markerfacecolor=colour,
                                  markeredgecolor=edge, markersize=10, label=lab))  # fmt: skip
    return handles


def _frame(ax, bounds: tuple[float, float, float, float]) -> None:
    """Frame ``bounds`` widened to the aspect of the axes (0.66 × 0.86 of a 16:10 figure)."""
    xmin, ymin, xmax, ymax = bounds
    aspect = (_MAP_RECT[2] * PNG_SIZE[0]) / (_MAP_RECT[3] * PNG_SIZE[1])
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    w, h = xmax - xmin, ymax - ymin
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal")


def _fiche_texts(fig, result, code: str, handles: list) -> None:
    """Title, subtitle (viability reading), legend, network note and sources of a QPV image."""
    qpv, ind = result.qpv, result.indicators
    name, commune = qpv.at[code, "lib_qp"], qpv.at[code, "lib_com"]
    fig.text(0.015, 0.975, f"{name} — {commune} ({code})", fontsize=24, weight="bold",
             va="top")  # fmt: skip
    sc = score_texts(ind, code)
    sub_title = "Commerces et services publics : ensemble ou séparés ?"
    reading = f"{sc['score']} ({sc['pourquoi']})" if sc["pourquoi"] else (
        f"{sc['score']} sur 1" if sc["score"] != READING_NOT_EVALUATED else sc["score"])
    sub_title += f"   Lecture de viabilité : {reading}"
    fig.text(0.015, 0.925, sub_title, fontsize=BODY_PT + 2, va="top", color="#333")
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.675, 0.90),
                        fontsize=BODY_PT, frameon=False, title="Légende",
                        title_fontsize=BODY_PT + 2, alignment="left", labelspacing=0.3,
                        handlelength=1.6)  # fmt: skip
    legend.get_title().set_weight("bold")
    absent = mk.network_status(ind, code) == "absent"
    note = (
        SLIDE_NO_NETWORK_NOTE if absent
        else SLIDE_DRIVE_NOTE if uses_drive_network(ind, [code]) else SLIDE_WALK_NOTE
    )  # fmt: skip
    note = textwrap.fill(note.replace("\n", " "), 46)
    fig.text(0.68, 0.085, note, fontsize=BODY_PT,
             color="#8a5a00" if absent else "#444", va="bottom")  # fmt: skip
    _credits(fig, result)


def _credits(fig, result) -> None:
    """Producer, date and every source with its vintage, across the bottom of an image."""
    dated = osm_dates(result.indicators)
    text = f"{produced_line(result)}. {short_credits()}" + (f" ; rues : {dated}" if dated else "")
    fig.text(0.012, 0.008, text, fontsize=BODY_PT - 2,
             color="#444", va="bottom")  # fmt: skip


# ---------------------------------------------------------------------------
# every QPV


def viability_png(result) -> bytes:
    """Slide image of the viability reading of every QPV of the run (département overview).

    The QPV are coloured by class and numbered by rank (a dotted ring when
    the reading is partial); the ranked list stands beside the map.
    """
    qpv, ind = result.qpv, result.indicators.reindex(result.qpv.index)
    scores = pd.to_numeric(ind["viability_score"], errors="coerce")
    partial = ind["viability_missing"].fillna("").astype(str).str.strip() != ""
    fig = _figure()
    ax = fig.add_axes((0.0, 0.07, 0.52, 0.79))
    ax.set_axis_off()
    order = list(qpv.sort_values(["lib_com", "lib_qp"]).index)
    _draw_viability(ax, result, scores, partial, order)
    _north_arrow(ax)
    dep = departement_label(result.parameters)
    fig.text(0.015, 0.975, f"Viabilité du commerce de proximité dans les QPV — {dep}",
             fontsize=24, weight="bold", va="top")  # fmt: skip
    fig.text(0.015, 0.928, "Lecture de 0 (le moins favorable) à 1 (le plus favorable), sur des "
             f"échelles fixes (classes : seuils fixes).\nLecture partielle pour "
             f"{int(partial.sum())} QPV sur {len(qpv)} : pas de réseau de rues dans les données.",
             fontsize=BODY_PT, va="top", color="#333")  # fmt: skip
    _listing(fig, qpv, scores, order)
    _credits(fig, result)
    return _png_bytes(fig)


def _draw_viability(ax, result, scores: pd.Series, partial: pd.Series, order: list) -> None:
    """The QPV coloured by class and numbered as in the listing (by commune, not by rank),
    communes and other QPV, muted barriers, scale bar, legend (classes: fixed thresholds)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    qpv = result.qpv
    handles = [Patch(facecolor=c, edgecolor="#222", label=t) for c, t in viability_labels()]
    xmin, ymin, xmax, ymax = qpv.total_bounds
    pad = 2500
    frame = shapely.box(xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    handles += _context(ax, result, frame, labels="qpv")
    lines = getattr(result.barriers, "lines", None)
    if lines is not None and len(lines):
        near_b = mk.near(lines, shapely.union_all(qpv.geometry.values).buffer(3000))
        for kind, colour, dash in (("rail", "#9a9a9a", _RAIL_DASH), ("water", "#9ecae1", "solid")):
            sub = near_b[near_b["kind"] == kind] if len(near_b) else near_b
            if len(sub):
                sub.plot(ax=ax, color=colour, linewidth=1.2, linestyle=dash, zorder=1)
                handles.append(Line2D([], [], color=colour, lw=1.5, ls=dash,
                                      label=BARRIER_LABELS[kind].capitalize()))  # fmt: skip
    colours = [viability_colour(v) or NO_SCORE_COLOUR for v in scores]
    qpv.plot(ax=ax, color=colours, edgecolor="#222", linewidth=0.6, zorder=3)
    pts = qpv.geometry.representative_point()
    number = {code: i + 1 for i, code in enumerate(order)}
    for code, p, colour, part in zip(qpv.index, pts.values, colours, partial, strict=True):
        ax.scatter([p.x], [p.y], s=420, color=colour, edgecolor="#222",
                   linewidth=1.1, linestyle=":" if part else "-", zorder=4)  # fmt: skip
        ax.text(p.x, p.y, str(number[code]), fontsize=BODY_PT - 3, ha="center", va="center",
                zorder=5, weight="bold")  # fmt: skip
    ring = {"marker": "o", "color": "none", "markeredgecolor": "#222", "markersize": 12,
            "linestyle": "none"}  # fmt: skip
    handles.append(Line2D([], [], markerfacecolor="#fee090", **ring,
                          label="QPV, contour plein : lecture complète"))  # fmt: skip
    if partial.any():
        handles.append(Line2D([], [], markerfacecolor="#ffffff", **ring,
                              label="contour pointillé : lecture partielle"))  # fmt: skip
    ax.set_aspect("equal")
    # room below the QPV for the legend, so that it never hides one
    low = ymin - pad - 0.75 * (ymax - ymin + 2 * pad)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(low, ymax + pad)
    _scale_bar(ax, 5000.0, top=True)
    leg = ax.legend(handles=handles, loc="lower left", fontsize=BODY_PT,
                    title="Lecture de viabilité (seuils fixes)", title_fontsize=BODY_PT,
                    framealpha=0.92, labelspacing=0.25)  # fmt: skip
    leg.get_title().set_weight("bold")


def _listing(fig, qpv, scores: pd.Series, order: list) -> None:
    """The QPV by commune (number on the map, quartier, commune, reading): not a ranking."""
    entries = []
    for i, code in enumerate(order):
        v = scores[code]
        label = f"{i + 1}. {qpv.at[code, 'lib_qp']} ({qpv.at[code, 'lib_com']})"
        entries.append((label, "n.é." if math.isnan(v) else fr_number(v, 2),
                        viability_colour(v) or NO_SCORE_COLOUR))  # fmt: skip
    two = len(entries) > 14
    per_col = math.ceil(len(entries) / 2) if two else len(entries)
    width = 28 if two else 46
    line_h = min(0.045, 0.76 / max(per_col, 1))
    x0, col_w = 0.53, (0.235 if two else 0.46)
    fig.text(x0, 0.86, "Quartiers par commune (lecture de viabilité)", fontsize=BODY_PT + 1,
             weight="bold", va="bottom")  # fmt: skip
    for i, (label, v, colour) in enumerate(entries):
        col, row = divmod(i, per_col)
        x, y = x0 + col * col_w, 0.845 - row * line_h
        short = label if len(label) <= width else label[: width - 1] + "…"
        fig.text(x, y, "■", color=colour, fontsize=BODY_PT, va="top")
        fig.text(x + 0.016, y, short, fontsize=BODY_PT, va="top")
        fig.text(x + col_w - 0.006, y, v, fontsize=BODY_PT, va="top", ha="right")
