"""The notes of a run: what was dropped, not assessed or approximate, in plain words.

They are printed by the command, kept in the provenance and shown in notebooks.
"""

from __future__ import annotations

import pandas as pd

from .. import settings
from ..data.barriers import Barriers
from ..indicators import access as accessibility
from ..network.build import snap_points
from .context import RunContext
from .networks import NONE, PARTIAL


def run_notes(
    ctx: RunContext, warnings_caught: list, summary: pd.DataFrame, barrier_lines: Barriers
) -> list[str]:
    """The notes of one run, in order: warnings, barriers, networks, origins, categories."""
    messages = [str(w.message) for w in warnings_caught]
    messages.extend(barrier_lines.notes)
    messages.extend(_extract_notes(ctx))
    messages.extend(_network_notes(ctx))
    messages.extend(_origin_notes(summary))
    messages.extend(_off_network_notes(ctx))
    messages.extend(_partial_notes(ctx))
    messages.extend(_unknown_resident_notes(ctx))
    messages.extend(_category_notes(ctx))
    return messages


def _extract_notes(ctx: RunContext) -> list[str]:
    """Which OSM extract each walk network was cut from, and its date (« OSM au … »)."""
    out = []
    sources = ctx.networks.table.get("network_source", pd.Series(dtype=object)).dropna()
    for data in ctx.extracts.data:
        x = data.extract
        n = int(sources.astype(str).str.startswith(f"{x.name} [").sum())
        out.append(
            f"OSM extract {x.name} ({x.label_fr}, date from {x.timestamp_source}; SHA-256 "
            f"{x.sha256[:16]}…): walk networks of {n} of {len(ctx.qpv)} study areas cut from it"
        )
    return out


def _network_notes(ctx: RunContext) -> list[str]:
    table = ctx.networks.table
    no_net = table.index[table["network_status"] == NONE]
    if not len(no_net):
        return []
    return [
        f"{len(no_net)} QPV have no street network in the data directory: "
        f"{', '.join(no_net)}; their access values are "
        + ("crow-fly estimates (labelled)" if ctx.crowfly_fallback else "left empty")
    ]


def _origin_notes(summary: pd.DataFrame) -> list[str]:
    out = []
    for code, row in summary.iterrows():
        if row["n_origins_without_population"] > 0:
            out.append(
                f"QPV {code}: {int(row['n_origins_without_population'])} of {int(row['n_origins'])} "
                "origins fall in no IRIS with a population figure; they weigh nothing"
            )
        if row["share_origins_disconnected_pct"] > 0:
            out.append(
                f"QPV {code}: {row['share_origins_disconnected_pct']:.1f} % of its origins sit on street "
                "pieces cut off from the main network; their times to the rest are NaN"
            )
    return out


def _off_network_notes(ctx: RunContext) -> list[str]:
    out = []
    for name in ctx.network_groups():
        net = ctx.networks.networks[name]
        inside = ctx.destinations[ctx.destinations.geometry.within(net.extent)]
        off = ~snap_points(net, inside)["on_network"]
        if off.any():
            examples = ", ".join(inside.loc[off, "label_fr"].astype(str).value_counts().index[:3])
            out.append(
                f"network {name}: {int(off.sum())} of {len(inside)} equipments inside its extent lie "
                f"more than {settings.max_snap_m:.0f} m from any street (e.g. {examples}); they are "
                "not destinations"
            )
    return out


def _partial_notes(ctx: RunContext) -> list[str]:
    table = ctx.networks.table
    return [
        f"QPV {code}: the street network reaches only {table.at[code, 'network_coverage_pct']} % "
        "of its residents; access, flows and coupling describe those residents only "
        "(network_scope), crossings and street structure are not computed, and the viability "
        "reading leaves the network components out"
        for code in table.index[table["network_status"] == PARTIAL]
    ]


def _unknown_resident_notes(ctx: RunContext) -> list[str]:
    return [
        f"network {name}: {n} residents' origins inside its extent have no population figure "
        "(an IRIS without one, or beyond the département); they are left out of the demand "
        "(2SFCA, Huff, flows)"
        for name, n in ctx.unknown_residents.items()
        if n
    ]


def _category_notes(ctx: RunContext) -> list[str]:
    out = []
    if ctx.categories_absent:
        out.append(
            "categories absent from the equipment data (not counted as missing): "
            f"{', '.join(ctx.categories_absent)}"
        )
    present = set(ctx.equipments["category"])
    _, gamme_absent = accessibility.gamme_coverage(
        pd.DataFrame(columns=[f"walk_min_{c}" for c in present]), ctx.groups
    )
    if gamme_absent:
        out.append(
            "INSEE proximity groups absent from the equipment data, left out of the "
            f"gamme_proximite coverage (not counted as missing): {'; '.join(gamme_absent)}"
        )
    return out
