"""The ``qpvgeo`` command.

``qpvgeo run --dep 91 [--qpv CODE ...] [--data-dir DIR] [--out DIR] [--offline]``
    computes the indicators and writes ``OUT/tables/indicators_qpv.csv``,
    ``OUT/tables/qpvgeo.gpkg``, ``OUT/tables/provenance.json``, the reloadable
    result ``OUT/tables/run.pkl`` with its key ``OUT/tables/run.json`` and
    ``OUT/maps/*.html``.
    With ``--besoins FILE [FILE ...]`` (CSV or GeoJSON: what residents say they lack or
    avoid), the answers join the GeoPackage layer ``besoins`` of ``OUT``, append-only
    across runs, and are read against the run (``OUT/tables/besoins_qpv.csv``, the fiches).
    ``--osm-extract FILE`` (repeatable) cuts the walk networks and barrier lines from a
    local OSM extract; ``--perimeters FILE [--id-col COL --name-col COL]`` runs on study
    areas that are not QPV.
``qpvgeo scenario FILE --dep 91 --qpv CODE ... [--data-dir DIR] [--offline] --out DIR``
    applies a scenario file (:mod:`qpvgeo.data.scenarios`) to the QPV and writes
    ``OUT/tables/scenario_diff.csv``, ``OUT/maps/scenario.html`` and a fiche per QPV
    (:mod:`qpvgeo.outputs.scenario`).
``qpvgeo data [--data-dir DIR]``
    lists each dataset: present or missing, file, source, licence, vintage; and the OSM
    extracts of ``osm/``.
``qpvgeo besoins template [--format csv|geojson] --out FILE [--overwrite]``
    writes an empty besoins file, its columns in French.

Errors print one line naming the problem and the fix, and exit with status 2
(bad input) or 1 (anything else), without a traceback (``--debug`` shows it).
Stopped by Ctrl+C (SIGINT) or SIGTERM (``timeout``, a scheduler, ``docker
stop``), a run says so in one line, leaves the outputs as they were and exits
with 130 or 143 (128 + the signal's number, as a shell reports a process the
signal killed). When the reader of its output goes away (``qpvgeo data | head
-1``), the command stops quietly with status 141 (128 + SIGPIPE), as ``cat`` or
``grep`` do: a pipeline under ``set -o pipefail`` sees that the listing was cut.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import __version__, settings
from ._errors import QpvgeoError
from .data import osm_extract, sources

log = logging.getLogger("qpvgeo")


class Terminated(BaseException):
    """SIGTERM arrived during a command.

    A :class:`BaseException`, as :class:`KeyboardInterrupt` is, so that no ``except Exception``
    on the way swallows it and every ``finally`` (the removal of the staging folder) runs.
    """


def _raise_terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM does not cut the clean-up
    raise Terminated


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated`; the previous handler after.

    Signal handlers can only be set from the main thread: elsewhere (a command started from a
    thread) SIGTERM keeps its handler.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _what_changed(args: argparse.Namespace) -> str:
    """After a stop: the outputs are either all old or all new (never a mix)."""
    return "the outputs were written" if getattr(args, "written", False) else "no output was changed"


def _quiet_stdout() -> None:
    """The reader of stdout is gone: send what is left to /dev/null, so that Python's own flush
    at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (tests capture it)
        pass


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--debug``, ``--quiet``, ``--verbose``: accepted before or after the command's name."""
    default = False if top else argparse.SUPPRESS
    parser.add_argument(
        "--debug", action="store_true", default=default, help="show tracebacks and debug logs"
    )
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument(
        "-q", "--quiet", action="store_true", default=default,
        help="print only the summary, the notes and errors (no progress lines)",
    )
    loud.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="print debug logs too"
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qpvgeo",
        description="Proximity commerce, access and enclavement of priority neighbourhoods (QPV).",
    )
    parser.add_argument("--version", action="version", version=f"qpvgeo {__version__}")
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="compute the indicators, tables and maps")
    _global_options(run, top=False)
    run.add_argument("--dep", required=True, help="département code, e.g. 91")
    run.add_argument(
        "--qpv", nargs="+", metavar="CODE", help="only these QPV (codes such as QN09106M)"
    )
    run.add_argument("--data-dir", help="data directory (default: $QPVGEO_DATA_DIR, else ./data)")
    run.add_argument("--out", default=".", help="output folder (default: the current folder)")
    run.add_argument(
        "--offline", action="store_true", help="never download; use the data directory only"
    )
    run.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier run")
    run.add_argument(
        "--accept-changed-data",
        action="store_true",
        help="use data files whose SHA-256 differs from the published or recorded one "
        "(by default such a file stops the run); the provenance records it",
    )
    run.add_argument(
        "--crowfly-fallback",
        action="store_true",
        help=f"where a QPV has no street network, estimate times as straight-line distance × "
        f"{settings.detour_factor} (labelled as such); by default they stay empty",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes drawing the slide images (default: one per core; 1: no parallelism)",
    )
    run.add_argument(
        "--osm-extract",
        action="append",
        dest="osm_extracts",
        metavar="FILE",
        help="OSM extract (.osm.pbf, .osm, .osm.bz2, e.g. Geofabrik's Île-de-France) to cut the "
        "walk networks and barriers from (repeatable; the data directory's osm/*.osm.pbf too)",
    )
    run.add_argument(
        "--perimeters",
        metavar="FILE",
        help="study areas to use instead of the QPV: a polygon layer (GeoPackage, GeoJSON, "
        "shapefile) with an id and a name column; --qpv then selects ids",
    )
    run.add_argument("--id-col", metavar="COL", help="the id column of --perimeters")
    run.add_argument("--name-col", metavar="COL", help="the name column of --perimeters")
    run.add_argument(
        "--walk-speed",
        type=float,
        default=None,
        metavar="KMH",
        help=f"walking speed in km/h (default {settings.walk_speed_kmh})",
    )

    scen = sub.add_parser(
        "scenario",
        help="try a scenario (a link added or closed, a shop opened or closed) on some QPV",
        description="Apply a scenario file (GeoJSON, one feature per change, property `action`: "
        "add_link, remove_link, add_equipment, remove_equipment) to the QPV and write what it "
        "changes: OUT/tables/scenario_diff.csv, OUT/maps/scenario.html and a fiche per QPV.",
    )
    _global_options(scen, top=False)
    scen.add_argument("file", help="scenario file (GeoJSON)")
    scen.add_argument("--dep", required=True, help="département code, e.g. 91")
    scen.add_argument(
        "--qpv", nargs="+", required=True, metavar="CODE", help="the QPV concerned (e.g. QN09137M)"
    )
    scen.add_argument("--data-dir", help="data directory (default: $QPVGEO_DATA_DIR, else ./data)")
    scen.add_argument("--out", default=".", help="output folder (default: the current folder)")
    scen.add_argument(
        "--offline", action="store_true", help="never download; use the data directory only"
    )
    scen.add_argument("--overwrite", action="store_true", help="replace outputs of an earlier scenario")
    run.add_argument(
        "--besoins",
        nargs="+",
        action="extend",
        metavar="FILE",
        help="what residents say (CSV or GeoJSON, see `qpvgeo besoins template`): added to the "
        "GeoPackage layer `besoins` of --out (answers of earlier runs are kept) and read "
        "against the run",
    )
    _besoins_parser(sub)

    data = sub.add_parser("data", help="list the datasets: present or missing, source, licence")
    _global_options(data, top=False)
    data.add_argument("--data-dir", help="data directory (default: $QPVGEO_DATA_DIR, else ./data)")
    return parser


def _besoins_parser(sub) -> None:
    besoins = sub.add_parser("besoins", help="residents' answers: write an empty template")
    _global_options(besoins, top=False)
    what = besoins.add_subparsers(dest="besoins_command", required=True)
    template = what.add_parser("template", help="write an empty besoins file (French columns)")
    _global_options(template, top=False)
    template.add_argument("--format", choices=("csv", "geojson"), default=None,
                          help="csv (default, or from the --out suffix) or geojson")
    template.add_argument("--out", required=True, help="file to write")
    template.add_argument("--overwrite", action="store_true", help="replace an existing file")


def _cmd_besoins(args: argparse.Namespace) -> int:
    from .data import besoins

    path, fmt = besoins.write_template(args.out, args.format, overwrite=args.overwrite)
    print(f"qpvgeo: wrote an empty besoins template ({fmt}) to {path}")
    return 0


def _setup_logging(args: argparse.Namespace) -> None:
    """Stage lines (logger ``qpvgeo.progress``) on stderr unless ``--quiet``; every debug log
    with ``--verbose`` or ``--debug``; warnings otherwise."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("qpvgeo: %(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if args.debug or args.verbose else logging.WARNING)
    progress = logging.getLogger("qpvgeo.progress")
    progress.setLevel(logging.WARNING if args.quiet else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args)
    try:
        with _sigterm_raises():
            commands = {
                "data": _cmd_data, "besoins": _cmd_besoins, "run": _cmd_run,
                "scenario": _cmd_scenario,
            }  # fmt: skip
            code = commands[args.command](args)
            sys.stdout.flush()  # a closed pipe is reported here, not at exit
            return code
    except QpvgeoError as exc:
        if args.debug:
            raise
        print(f"qpvgeo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qpvgeo: interrupted; {_what_changed(args)}", file=sys.stderr)
        return 130
    except Terminated:
        print(f"qpvgeo: stopped (SIGTERM); {_what_changed(args)}", file=sys.stderr)
        return 128 + signal.SIGTERM
    except BrokenPipeError:
        _quiet_stdout()
        return 128 + signal.SIGPIPE
    except Exception as exc:  # last resort: one line, not a traceback
        if args.debug:
            raise
        print(
            f"qpvgeo: unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
            file=sys.stderr,
        )
        return 1


def _data_dir(args: argparse.Namespace) -> Path:
    """The data directory the command will read, as an absolute path; an error when it is not a
    folder (rather than one "dataset missing" per file, with download instructions)."""
    root = sources.data_dir(args.data_dir)
    if root.is_dir():
        return root
    if args.data_dir:
        given = f"--data-dir {args.data_dir}"
    elif settings.data_dir:
        given = f"settings.data_dir = {settings.data_dir!r}"
    elif os.environ.get("QPVGEO_DATA_DIR"):
        given = f"QPVGEO_DATA_DIR={os.environ['QPVGEO_DATA_DIR']}"
    else:
        given = "the default, ./data"
    state = "is a file, not a folder" if root.exists() else "does not exist"
    raise QpvgeoError(
        f"the data directory {str(root)!r} ({given}) {state}; give the folder holding the "
        "datasets with --data-dir DIR or QPVGEO_DATA_DIR=DIR (`qpvgeo data --data-dir DIR` "
        "lists what it holds and where to get what it lacks)"
    )


def _cmd_data(args: argparse.Namespace) -> int:
    root = _data_dir(args)
    print(f"data directory: {root}")
    for row in sources.status(args.data_dir):
        if row["optional"]:
            mark = f"{row['present']} saved" if row["present"] else "optional"
        else:
            mark = "present" if row["present"] else "MISSING"
        print(f"{mark:8} {row['dataset']:<16} {row['file']}")
        print(f"{'':8} {row['publisher']} — {row['licence']} — {row['vintage']}")
        print(f"{'':8} {row['source']}")
    for row in osm_extract.extract_rows(args.data_dir):
        print(f"{row['mark']:8} {'osm_extract':<16} {row['file']}")
        print(f"{'':8} {row['publisher']} — {row['licence']} — {row['vintage']}")
        print(f"{'':8} {row['source']}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from . import pipeline
    from .data import loaders
    from .network.build import walk_speed_problem
    from .outputs import export, maps, workshop

    if args.walk_speed is not None and (problem := walk_speed_problem(args.walk_speed)):
        raise QpvgeoError(f"--walk-speed {problem}")

    out = Path(args.out)
    names = [
        export.TABLE, export.GEOPACKAGE, export.PROVENANCE, pipeline.saved.RESULT,
        pipeline.saved.KEY, *maps.MAPS, *workshop.OUTPUTS,
    ]  # fmt: skip
    if args.workers is not None and args.workers < 1:
        raise QpvgeoError(f"--workers must be 1 or more, got {args.workers!r}")
    if (args.id_col or args.name_col) and not args.perimeters:
        raise QpvgeoError("--id-col and --name-col name columns of --perimeters FILE: give it too")
    for path in args.osm_extracts or []:  # a wrong name fails now, not after loading the data
        osm_extract.checked_path(path)
    loaders._check_dep(args.dep)  # a malformed code before a missing folder
    _data_dir(args)
    earlier, new_answers = _read_besoins(args, out / export.GEOPACKAGE)  # bad files before the run
    speed, workers = settings.walk_speed_kmh, settings.workers
    accept = settings.accept_changed_data
    try:
        settings.workers = args.workers if args.workers is not None else workers
        settings.accept_changed_data = args.accept_changed_data or accept
        if args.walk_speed is not None:
            settings.walk_speed_kmh = args.walk_speed
        with export.staged_outputs(out, names, overwrite=args.overwrite) as stage:
            result = pipeline.run(
                args.dep,
                args.qpv,
                data_dir=args.data_dir,
                offline=args.offline,
                crowfly_fallback=args.crowfly_fallback,
                osm_extracts=args.osm_extracts,
                perimeters=args.perimeters,
                id_col=args.id_col,
                name_col=args.name_col,
            )
            # reloadable by the notebooks (pipeline.load_or_run) while nothing it read has changed
            pipeline.save_result(result, stage, data_dir=args.data_dir)
            besoins_files = _add_besoins(result, earlier, new_answers, stage)
            export.write_table(result.indicators, stage / export.TABLE)
            export.write_geopackage(_geopackage_layers(result), stage / export.GEOPACKAGE)
            written = workshop.export_workshop(result, stage)  # maps, fiches, slide images, index
            extra = [p for p in written if p.relative_to(stage).as_posix() not in names]
            parameters = {**result.parameters, "besoins_files": [str(f) for f in args.besoins or []]}
            export.write_provenance(
                export.provenance(parameters, result.messages), stage / export.PROVENANCE
            )
        args.written = True  # swapped in: a signal from here on no longer undoes anything
    finally:
        settings.walk_speed_kmh, settings.workers = speed, workers
        settings.accept_changed_data = accept
    table = result.indicators
    n_net = int((table["network_status"] != pipeline.NONE).sum())
    what = "study areas (--perimeters)" if args.perimeters else "QPV"
    print(
        f"qpvgeo: {len(table)} {what} of département {args.dep}; street network for {n_net}, "
        f"none for {len(table) - n_net} (values left empty{' or crow-fly' if args.crowfly_fallback else ''})"
    )
    if result.besoins is not None:
        kept = result.besoins
        print(
            f"  besoins: {int(len(kept.answers))} answers kept in the layer `besoins` "
            f"({kept.n_added} added by this run)"
        )
    for msg in result.messages:
        print(f"  note: {msg}")
    for row in sources.used_files():  # integrity notes (a file without a known SHA-256), as in the provenance
        if row["checksum_note"] and row["checksum_note"] not in result.messages:
            print(f"  note: {row['checksum_note']}")
    for name in names:
        print(f"  wrote {out / name}")
    for name in besoins_files:
        print(f"  wrote {out / name}")
    extra = [p for p in extra if p.relative_to(stage).as_posix() not in besoins_files]
    print(f"  and {len(extra)} more files in {out / 'maps'} (a fiche and a slide image per QPV)")
    return 0


def _cmd_scenario(args: argparse.Namespace) -> int:
    from .data import loaders
    from .data.scenarios import read_scenario
    from .outputs import export
    from .outputs import scenario as outputs
    from .pipeline import scenario

    changes = read_scenario(args.file)  # a bad file fails before any data is loaded
    loaders._check_dep(args.dep)
    _data_dir(args)
    out = Path(args.out)
    names = [*outputs.OUTPUTS, *(f"{outputs.FICHES_DIR}/{c}.html" for c in args.qpv)]
    with export.staged_outputs(out, names, overwrite=args.overwrite) as stage:
        base = scenario.baseline(args.dep, args.qpv, data_dir=args.data_dir, offline=args.offline)
        result = scenario.run_scenario(base, changes)
        outputs.write_scenario(result, stage)
    args.written = True
    for _, change in result.changes.iterrows():
        print(f"qpvgeo: {scenario.describe(change)}: {change['effect']}")
    diff = result.diff
    for code in result.after.qpv.index:
        mine = diff[diff["code_qp"] == code]
        if (mine["note"] != "").any():
            print(f"  {code}: {scenario.NOT_EVALUATED}")
            continue
        moved = mine[(mine["change"].abs() > 1e-9) | (mine["before"].isna() != mine["after"].isna())]
        print(f"  {code}: {len(moved)} indicators change")
        for _, row in moved[moved["indicator"].isin(scenario.HEADLINE)].iterrows():
            print(f"    {row['indicator']}: {row['before']:.2f} -> {row['after']:.2f} {row['unit']}")
    for name in names:
        print(f"  wrote {out / name}")
    print(f"  in {result.seconds:.1f} s (scenario applied and indicators recomputed)")
    return 0
def _read_besoins(args: argparse.Namespace, gpkg: Path) -> tuple:
    """The answers kept by an earlier run in ``gpkg`` and those of the ``--besoins`` files.

    Read before the run, so that a bad file stops it at once; an earlier layer that cannot be
    read stops it too (replacing the GeoPackage would lose those answers).
    """
    import warnings

    from .data import besoins

    earlier = besoins.read_answers_layer(gpkg)
    new = []
    with warnings.catch_warnings():  # the unmatched labels become notes of the run
        warnings.simplefilter("ignore", besoins.BesoinsWarning)
        for path in args.besoins or []:
            new.append(besoins.read_besoins(path))
    return earlier, new


def _add_besoins(result, earlier, new: list, stage: Path) -> list[str]:
    """Merge the answers (append-only), read them against the run, write their two tables."""
    from .data import besoins
    from .pipeline.besoins import add_besoins

    answers, n_added = besoins.merge_answers(earlier, new)
    if not len(answers):
        return []
    add_besoins(result, answers, n_added=n_added)
    names = ["tables/besoins_qpv.csv", "tables/besoins_labels.csv"]
    for name, table in zip(names, (result.besoins.per_category, result.besoins.labels), strict=True):
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(stage / name, index=False, float_format="%.3f")
    return names


def _geopackage_layers(result) -> dict:
    """The layers of ``tables/qpvgeo.gpkg``; with residents' answers, ``besoins`` (every answer
    kept) and ``besoins_freins``."""
    layers = {
        "qpv": result.qpv[["geometry"]].join(result.indicators),
        "equipments": result.equipments,
        "origins": result.origins,
        "isochrones": result.isochrones,
        "street_flows": result.streets,
        "candidate_segments": result.candidates,
        "food_stores_huff": result.food_stores,
        "barriers": result.barriers.lines,
        "boundary_crossings": result.crossings,
        "detour_paths": result.detours,
        "shop_service_pairs": result.service_pairs,
        "polarites": result.polarites,
    }
    if result.besoins is not None:
        layers |= {"besoins": result.besoins.answers, "besoins_freins": result.besoins.felt}
    return layers


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
