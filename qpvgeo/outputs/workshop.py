"""Workshop material: coupling and viability maps, one fiche per QPV, slide images, an index.

Made for the working group « commerces & services de proximité »: workshop
presenters show where shops and public services sit together or apart and
why; planners read a viability reading they can explain. Everything the
reader sees is in French and opens as plain HTML files without Python,
offline included (only the background tiles need internet):

``maps/qpv_couplage.html``
    :func:`~qpvgeo.outputs.maps.coupling_map`: shops (warm colours) and
    public services (cool colours), each shop linked to its nearest public
    service on the street network (coloured by walking time), the polarités
    (mixed ones solid, single-kind ones dashed).
``maps/qpv_viabilite.html``
    :func:`~qpvgeo.outputs.maps.viability_map`: the QPV coloured by their
    viability reading.
``maps/fiches/<code_qp>.html``
    :func:`~qpvgeo.outputs.fiche.fiche_html`: one page per QPV (viability
    text, key figures in French with units, a small map). The fiches load
    Leaflet from ``maps/lib/`` (written once, :func:`write_leaflet_lib`)
    instead of each carrying ~150 kB of it: copy the whole ``maps/`` folder
    and they still work offline.
``maps/png/<code_qp>.png``, ``maps/png/viabilite.png``
    Static images for slides (:mod:`qpvgeo.outputs.slides`, no background tiles).
``maps/index.html``
    :func:`~qpvgeo.outputs.index.index_html`: links to every map and fiche.

:func:`export_workshop` writes all of it; every file is written atomically
(a temporary file in the target folder, then :func:`os.replace`).

Only five QPV of the mirror have a street network, and it is a drive network
(no footways): every network-based figure says so, and the QPV without one
show « non évalué (pas de réseau de rues dans les données) », never a blank.

The builders named above were defined here in qpvgeo 0.1; they stay
importable from this module for one release.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .. import settings
from . import mapkit as mk
from . import maps
from .fiche import fiche_html, key_figures
from .index import MAP_TITLES, index_html
from .labels_fr import DRIVE_NOTE, NO_NETWORK, fr_number, fr_value
from .mapkit import COORD_DECIMALS, ISOCHRONE_COLOURS, write_atomic
from .maps.coupling import (
    COMMERCE_COLOURS,
    NEAR_M,
    OTHER_COMMERCE,
    PAIR_CLASSES,
    POLARITE_STYLES,
    SERVICE_COLOURS,
    coupling_map,
    pair_class,
)
from .maps.viability import VIABILITY_BINS, VIABILITY_COLOURS, viability_labels, viability_map
from .slides import PNG_SIZE, fiche_png, viability_png

#: size budget of one fiche page. The fiche carries its text, its table and the
#: GeoJSON of the features within :data:`NEAR_M` of the QPV (a few hundred
#: points, a few polygons, simplified and rounded: typically 20–80 kB); Leaflet
#: (~150 kB) is *not* in it but in ``maps/lib/``. 300 kB leaves room for the
#: densest QPV while 47 fiches stay under ~15 MB, light enough to e-mail the folder.
FICHE_MAX_BYTES = 300_000
#: size budget of the index page (a table of links, no map library)
INDEX_MAX_BYTES = 100_000
#: size budget of the coupling and viability maps of a few-QPV run (Leaflet inlined)
MAP_MAX_BYTES = 1_500_000

#: the shared Leaflet files, relative to the output folder
LEAFLET_JS = "maps/lib/leaflet.js"
LEAFLET_CSS = "maps/lib/leaflet.css"
FICHE_JS = "maps/lib/fiche.js"
TOOLTIP_JS = "maps/lib/tooltip_fit.js"

COUPLING_MAP = "maps/qpv_couplage.html"
VIABILITY_MAP = "maps/qpv_viabilite.html"
INDEX = "maps/index.html"
FICHES_DIR = "maps/fiches"
PNG_DIR = "maps/png"
VIABILITY_PNG = "maps/png/viabilite.png"
#: the files `qpvgeo run` checks before replacing an earlier run's outputs
OUTPUTS = (COUPLING_MAP, VIABILITY_MAP, INDEX, VIABILITY_PNG)


def write_leaflet_lib(out_dir: str | os.PathLike) -> list[Path]:
    """Write ``maps/lib/leaflet.js``, ``leaflet.css``, ``fiche.js`` and ``tooltip_fit.js``
    (shared by the fiches)."""
    out = Path(out_dir)
    files = mk.leaflet_files()
    if files is None:  # pragma: no cover - a dependency of qpvgeo[maps]
        raise ImportError(
            "xstatic-leaflet is needed to write the offline fiches: "
            "`pip install xstatic-leaflet` (part of qpvgeo[maps])"
        )
    js, css = files
    return [
        write_atomic(out / LEAFLET_JS, js),
        write_atomic(out / LEAFLET_CSS, css),
        write_atomic(out / FICHE_JS, mk.static_text("fiche.js")),
        write_atomic(out / TOOLTIP_JS, mk.static_text("tooltip_fit.js")),
    ]


def write_fiches(
    result, out_dir: str | os.PathLike, codes: Sequence[str] | None = None
) -> list[Path]:
    """Write the fiche of every QPV (or of ``codes``) to ``maps/fiches/<code_qp>.html``.

    The shared Leaflet files are written to ``maps/lib/`` too. Returns the
    fiche paths, in the order of ``result.qpv``.
    """
    out = Path(out_dir)
    write_leaflet_lib(out)
    wanted = list(result.qpv.index) if codes is None else list(codes)
    return [write_atomic(out / FICHES_DIR / f"{c}.html", fiche_html(c, result)) for c in wanted]


def write_pngs(result, out_dir: str | os.PathLike, codes: Sequence[str] | None = None) -> list[Path]:
    """Write ``maps/png/<code_qp>.png`` for each QPV and ``maps/png/viabilite.png``."""
    out = Path(out_dir)
    wanted = list(result.qpv.index) if codes is None else list(codes)
    images = _render_pngs(result, wanted)
    paths = [write_atomic(out / PNG_DIR / f"{c}.png", png) for c, png in zip(wanted, images, strict=True)]
    paths.append(write_atomic(out / VIABILITY_PNG, viability_png(result)))
    return paths


#: the run whose slide images forked workers draw (set just before the pool starts)
_FORKED_RESULT = None


def _fiche_png_forked(code: str) -> bytes:
    return fiche_png(code, _FORKED_RESULT)


def _render_pngs(result, codes: list[str]) -> list[bytes]:
    """The slide image of each QPV, drawn by :data:`qpvgeo.settings.workers` processes.

    Drawing is the slow part of the export (about 0.25 s an image); the workers
    are forked, so they share the run without copying it. One worker, a
    platform without ``fork`` or a handful of QPV: drawn here, one by one.
    """
    global _FORKED_RESULT
    workers = min(settings.worker_count(), len(codes))
    if workers < 2 or len(codes) < 8 or "fork" not in mp.get_all_start_methods():
        return [fiche_png(c, result) for c in codes]
    _FORKED_RESULT = result
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            return list(pool.map(_fiche_png_forked, codes, chunksize=4))
    finally:
        _FORKED_RESULT = None


def write_index(
    result, out_dir: str | os.PathLike, map_files: Sequence[str | os.PathLike]
) -> Path:
    """Write ``maps/index.html``: links to ``map_files`` and to every fiche, in French, no Leaflet.

    Map files that do not exist are left out (the index never links to a
    missing page); fiches and images are linked when present under
    ``maps/fiches/`` and ``maps/png/``.
    """
    maps_dir = Path(out_dir) / "maps"
    existing = [Path(f) for f in map_files if Path(f).is_file()]
    return write_atomic(maps_dir / "index.html", index_html(result, existing, maps_dir))


def export_workshop(
    result, out_dir: str | os.PathLike, *, indicator_maps: bool = True
) -> list[Path]:
    """Write all the workshop material of a run under ``out_dir/maps/``.

    The coupling map (``maps/qpv_couplage.html``) and the viability map
    (``maps/qpv_viabilite.html``), self-contained (Leaflet inlined by
    :func:`qpvgeo.outputs.maps.save_map`); with ``indicator_maps``, the maps of
    :data:`qpvgeo.outputs.maps.MAPS` too (overview, access, enclavement); the
    shared Leaflet files and one fiche per QPV; the slide images; the index.

    Returns
    -------
    list of Path
        Every file written, the index last.
    """
    out = Path(out_dir)
    map_files: list[Path] = []
    if indicator_maps:
        map_files += maps.export_maps(result, out)
    coupling = coupling_map(
        result.qpv, result.equipments, result.service_pairs, result.polarites,
        indicators=result.indicators,
    )  # fmt: skip
    maps.decorate(coupling, result, points_pane="points")
    map_files.append(maps.save_map(coupling, out / COUPLING_MAP, self_contained=True))
    viability = maps.decorate(viability_map(result.qpv, result.indicators), result)
    map_files.append(maps.save_map(viability, out / VIABILITY_MAP, self_contained=True))
    written = [*map_files]
    written += write_leaflet_lib(out)
    written += write_fiches(result, out)
    written += write_pngs(result, out)
    written.append(write_index(result, out, map_files))
    return written


# the names of qpvgeo 0.1, kept importable from here for one release
SIMPLIFY_M = mk.DISPLAY_TOLERANCE_M
_pair_class = pair_class
_OTHER_COMMERCE = OTHER_COMMERCE

__all__ = [
    "COUPLING_MAP",
    "FICHES_DIR",
    "FICHE_JS",
    "FICHE_MAX_BYTES",
    "INDEX",
    "INDEX_MAX_BYTES",
    "LEAFLET_CSS",
    "LEAFLET_JS",
    "MAP_MAX_BYTES",
    "OUTPUTS",
    "PNG_DIR",
    "VIABILITY_MAP",
    "VIABILITY_PNG",
    "export_workshop",
    "write_fiches",
    "write_index",
    "write_leaflet_lib",
    "write_pngs",
    # re-exported from their new modules (qpvgeo 0.1 names)
    "COMMERCE_COLOURS",
    "COORD_DECIMALS",
    "DRIVE_NOTE",
    "ISOCHRONE_COLOURS",
    "MAP_TITLES",
    "NEAR_M",
    "NO_NETWORK",
    "PAIR_CLASSES",
    "PNG_SIZE",
    "POLARITE_STYLES",
    "SERVICE_COLOURS",
    "SIMPLIFY_M",
    "VIABILITY_BINS",
    "VIABILITY_COLOURS",
    "coupling_map",
    "fiche_html",
    "fiche_png",
    "fr_number",
    "fr_value",
    "index_html",
    "key_figures",
    "viability_labels",
    "viability_map",
    "viability_png",
    "write_atomic",
]
