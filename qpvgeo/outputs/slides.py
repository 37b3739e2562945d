"""Static images for slides (matplotlib, no background tiles): one per QPV, one overview.

:func:`fiche_png` draws the map of one QPV as its fiche shows it (streets,
barriers, isochrones, polarités, shop → public service lines, places);
:func:`viability_png` the viability reading of every QPV of the run, ranked.
Both are :data:`PNG_SIZE` pixels with a French title and legend.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import shapely

from . import mapkit as mk
from .labels_fr import (
    BARRIER_LABELS,
    BARRIER_ONE_SLIDE,
    SLIDE_DRIVE_NOTE,
    SLIDE_NO_NETWORK_NOTE,
    SLIDE_WALK_NOTE,
    departement_label,
    fr_number,
    osm_dates,
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
#: dash pattern of the railway lines (matplotlib)
_RAIL_DASH = (0, (6, 2))


def _figure():
    from matplotlib.figure import Figure

    return Figure(figsize=(PNG_SIZE[0] / _DPI, PNG_SIZE[1] / _DPI), dpi=_DPI)


def _png_bytes(fig) -> bytes:
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
            fontsize=12, zorder=20)  # fmt: skip


# ---------------------------------------------------------------------------
# one QPV


def fiche_png(code_qp: str, result) -> bytes:
    """Slide image (PNG, :data:`PNG_SIZE`) of the map of one QPV, French title and legend."""
    code = code_qp
    zone = result.qpv.at[code, "geometry"].buffer(NEAR_M)
    fig = _figure()
    ax = fig.add_axes((0.01, 0.02, 0.66, 0.86))
    ax.set_axis_off()
    handles = _draw_background(ax, result, code, zone)
    handles += _draw_coupling(ax, result, code, zone)
    _frame(ax, zone.bounds)
    _scale_bar(ax, 500.0)
    _fiche_texts(fig, result, code, handles)
    return _png_bytes(fig)


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
    aspect = (0.66 * PNG_SIZE[0]) / (0.86 * PNG_SIZE[1])
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
    fig.text(0.015, 0.965, f"{name} — {commune} ({code})", fontsize=22, weight="bold",
             va="top")  # fmt: skip
    sc = score_texts(ind, code)
    sub_title = "Commerces et services publics : ensemble ou séparés ?"
    sub_title += f"   Lecture de viabilité : {sc['score']} (rang {sc['rang']})"
    fig.text(0.015, 0.915, sub_title, fontsize=14, va="top", color="#333")
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.68, 0.89),
                        fontsize=11, frameon=False, title="Légende", title_fontsize=13,
                        alignment="left")  # fmt: skip
    legend.get_title().set_weight("bold")
    absent = mk.network_status(ind, code) == "absent"
    note = (
        SLIDE_NO_NETWORK_NOTE if absent
        else SLIDE_DRIVE_NOTE if uses_drive_network(ind, [code]) else SLIDE_WALK_NOTE
    )  # fmt: skip
    fig.text(0.685, 0.10, note, fontsize=11,
             color="#8a5a00" if absent else "#444", va="bottom")  # fmt: skip
    dated = osm_dates(ind, [code])
    fig.text(0.685, 0.03, "Sources : ANCT (QPV 2024), INSEE (BPE 2024, Filosofi),\n"
             f"© contributeurs OpenStreetMap{f' ({dated})' if dated else ''} ; calculs qpvgeo",
             fontsize=9, color="#666")  # fmt: skip


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
    ax = fig.add_axes((0.0, 0.02, 0.52, 0.84))
    ax.set_axis_off()
    _draw_viability(ax, result, scores, partial)
    dep = departement_label(result.parameters)
    fig.text(0.015, 0.965, f"Viabilité du commerce de proximité dans les QPV — {dep}",
             fontsize=22, weight="bold", va="top")  # fmt: skip
    fig.text(0.015, 0.915, "Lecture de 0 (le moins favorable) à 1 (le plus favorable), sur des "
             f"échelles fixes.\nLecture partielle pour {int(partial.sum())} QPV sur {len(qpv)} : "
             "pas de réseau de rues dans les données.", fontsize=12,
             va="top", color="#333")  # fmt: skip
    _listing(fig, qpv, scores)
    dated = osm_dates(ind)
    fig.text(0.535, 0.012, "Sources : ANCT (QPV 2024), INSEE (BPE 2024, Filosofi, population), "
             f"© contributeurs OpenStreetMap{f' ({dated})' if dated else ''} ; calculs qpvgeo",
             fontsize=8, color="#666")  # fmt: skip
    return _png_bytes(fig)


def _draw_viability(ax, result, scores: pd.Series, partial: pd.Series) -> None:
    """The QPV coloured by class and numbered by rank, muted barriers, scale bar, legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    qpv = result.qpv
    handles = [Patch(facecolor=c, edgecolor="#222", label=t) for c, t in viability_labels()]
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
    for p, colour, part in zip(pts.values, colours, partial, strict=True):
        ax.scatter([p.x], [p.y], s=250, color=colour, edgecolor="#222",
                   linewidth=1.1, linestyle=":" if part else "-", zorder=4)  # fmt: skip
    ring = {"marker": "o", "color": "none", "markeredgecolor": "#222", "markersize": 12,
            "linestyle": "none"}  # fmt: skip
    handles.append(Line2D([], [], markerfacecolor="#fee090", **ring,
                          label="QPV, contour plein : lecture complète"))  # fmt: skip
    if partial.any():
        handles.append(Line2D([], [], markerfacecolor="#ffffff", **ring,
                              label="contour pointillé : lecture partielle"))  # fmt: skip
    ax.set_aspect("equal")
    xmin, ymin, xmax, ymax = qpv.total_bounds
    pad = 2500
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    _scale_bar(ax, 5000.0, top=True)
    leg = ax.legend(handles=handles, loc="lower right", fontsize=10, title="Lecture de viabilité",
                    title_fontsize=11, framealpha=0.92)  # fmt: skip
    leg.get_title().set_weight("bold")


def _listing(fig, qpv, scores: pd.Series) -> None:
    """The QPV by commune (commune, quartier, reading), in one or two columns: not a ranking."""
    order = qpv.sort_values(["lib_com", "lib_qp"]).index
    entries = []
    for code in order:
        v = scores[code]
        label = f"{qpv.at[code, 'lib_com']} : {qpv.at[code, 'lib_qp']}"
        if len(label) > 44:
            label = label[:43] + "…"
        entries.append((label, "n.é." if math.isnan(v) else fr_number(v, 2),
                        viability_colour(v) or NO_SCORE_COLOUR))  # fmt: skip
    per_col = math.ceil(len(entries) / 2) if len(entries) > 25 else len(entries)
    line_h = min(0.034, 0.80 / max(per_col, 1))
    x0, col_w = 0.535, 0.232
    fig.text(x0, 0.86, "Quartiers par commune (lecture de viabilité)", fontsize=12,
             weight="bold", va="bottom")  # fmt: skip
    for i, (label, v, colour) in enumerate(entries):
        col, row = divmod(i, per_col)
        x, y = x0 + col * col_w, 0.845 - row * line_h
        fig.text(x, y, "■", color=colour, fontsize=11, va="top")
        fig.text(x + 0.02, y, label, fontsize=8.5, va="top")
        fig.text(x + col_w - 0.008, y, v, fontsize=8.5, va="top", ha="right")
