"""Tests of qpvgeo.outputs.maps.coupling (real data, QN09101M has no street network)."""

from __future__ import annotations

import pytest

from qpvgeo.outputs.maps import coupling

from ..conftest import group_features, groups, page_html

WITHOUT_NETWORK = "QN09101M"


def test_pair_classes_and_styles() -> None:
    assert [coupling.pair_class(v) for v in (0.0, 1.9, 2.0, 4.9, 5.0, 9.9, 10.0, 45.0)] == [
        0, 0, 1, 1, 2, 2, 3, 3,
    ]  # fmt: skip
    assert "dashArray" not in coupling.pair_style(0)
    assert coupling.pair_style(len(coupling.PAIR_CLASSES) - 1)["dashArray"]
    assert coupling.place_colour("commerce", "inconnu") == coupling.OTHER_COMMERCE
    assert coupling.place_colour("service", "education")[0] == "#4292c6"
    assert '<div><span class="case" style="background:#ffe66d;border:2px solid #111111;">' in (
        coupling.polarite_case(True, "mixte", weight=2)
    )


@pytest.mark.mirror
def test_coupling_map_layers_and_legend(small_run) -> None:
    run = small_run
    m = coupling.coupling_map(
        run.qpv, run.equipments, run.service_pairs, run.polarites, indicators=run.indicators
    )
    names = list(groups(m))
    prefixes = [
        "Périmètres des QPV (3)",
        "Polarités mixtes : commerces et services publics (",
        "Polarités d'un seul type (commerces ou services publics) (",
        "Trajets commerce → service public le plus proche (",
        "Commerces (",
        "Services publics (",
    ]
    for prefix in prefixes:
        assert any(n.startswith(prefix) for n in names), (prefix, names)
    by_name = groups(m)
    pairs = next(g for n, g in by_name.items() if n.startswith("Trajets"))
    feats = group_features(pairs)
    assert feats, "no shop → service line"
    for f in feats:  # the class matches the walking time written in the tooltip
        minutes = float(f["properties"]["temps"].split()[0].replace(",", "."))
        assert f["properties"]["_k"] == coupling.pair_class(minutes)
    shops = group_features(next(g for n, g in by_name.items() if n.startswith("Commerces (")))
    warm = {c for c, _ in coupling.COMMERCE_COLOURS.values()} | {coupling.OTHER_COMMERCE[0]}
    assert shops and {f["properties"]["_c"] for f in shops} <= warm
    qpv = group_features(by_name["Périmètres des QPV (3)"])
    no_net = next(f for f in qpv if f["properties"]["code"] == WITHOUT_NETWORK)["properties"]
    assert no_net["clq"] == "non évalué (pas de réseau de rues dans les données)"
    page = page_html(m)
    for text in ("moins de 2 min", "de 2 à 5 min", "de 5 à 10 min", "10 min et plus",
                 "couleurs chaudes", "couleurs froides", "ni cheminements piétons",
                 "QPV sans réseau de rues dans les données (1)",
                 "Commerces et services publics : ensemble ou séparés ?",
                 "Source : ANCT"):  # fmt: skip
        assert text in page, text
