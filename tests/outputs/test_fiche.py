"""Tests of qpvgeo.outputs.fiche: the key figures and the page of one QPV (real data).

Three QPV: two in Les Ulis with a street network, QN09101M without one.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qpvgeo._errors import ValidationError
from qpvgeo.outputs import fiche
from qpvgeo.outputs.labels_fr import fr_number, fr_value

from .conftest import dump_dom

WITH_NETWORK, WITHOUT_NETWORK = "QN09106M", "QN09101M"

#: the French message a fiche shows in place of its map when Leaflet is missing
_NO_MAP = r'<div id="carte"[^>]*><p class="sans-carte">Carte indisponible'


#: the link from a key-figure label to its glossary entry
_GLOSSARY_LINK = re.compile(r' <a class="gl" href="#g-[a-z0-9]+" title="Voir le glossaire">\?</a>$')


def _table(page: str) -> dict[str, str]:
    """Key-figure label (without its glossary link) → value, as the page shows them."""
    rows = re.findall(r'<tr><td>(.*?)</td><td class="[^"]*">(.*?)</td></tr>', page)
    return {_GLOSSARY_LINK.sub("", label): value for label, value in rows}


@pytest.mark.mirror
def test_fiche_key_figures_in_french(small_run) -> None:
    run = small_run
    ind = run.indicators
    table = _table(fiche.fiche_html(WITH_NETWORK, run))
    pop = fr_number(ind.at[WITH_NETWORK, "population_qpv"], 0)
    assert table["Population (INSEE, population municipale du quartier)"] == f"{pop} habitants"
    poverty = fr_number(ind.at[WITH_NETWORK, "poverty_rate_qpv_pct"], 0)
    poverty_label = "Taux de pauvreté du quartier (chiffre officiel, INSEE Filosofi 2021, seuil de 60 %)"
    assert table[poverty_label] == f"{poverty} %"
    income = table["Contexte : revenu médian déclaré des IRIS du quartier (Filosofi 2021)"]
    assert re.fullmatch(r"\d{1,2}\u202f\d{3} €", income), income
    t = table["Boulangerie : temps médian (quartier / reste de la commune)"]
    assert re.fullmatch(r"\d+,\d min / \d+,\d min", t), t
    assert t.startswith(fr_value(ind.at[WITH_NETWORK, "walk_min_median_boulangerie"], "min"))
    assert re.fullmatch(r"\d{1,3} %", table["Pharmacie : habitants à moins de 10 min"])
    assert re.fullmatch(r"\d{1,3} %", table["Gamme de proximité INSEE couverte à moins de 10 min"])
    assert re.fullmatch(r"\d+,\d\d", table[
        "Pharmacies accessibles pour 1 000 habitants à 15 min à pied "
        "(estimation 2SFCA à noyau gaussien)"])  # fmt: skip
    huff = fr_number(ind.at[WITH_NETWORK, "huff_share_nearby_pct"], 0)
    assert table["D'après le modèle de Huff, part des achats alimentaires faits près du "
                 "quartier (estimation)"] == f"environ {huff} %"  # fmt: skip
    assert table["Co-localisation des services publics autour des commerces (CLQ)"].startswith(
        fr_number(ind.at[WITH_NETWORK, "clq_commerce_services"], 2) + " (p = "
    )
    assert not any(v.startswith("non évalué") for k, v in table.items() if "temps" in k)
    for key in ("Indice d'enclavement par les rues (traversées, détours)", "Coupure principale", "Commerces à 5 min ou moins d'un "
                "service public", "Passage piéton potentiel (rues les plus passantes du "
                "quartier, 90e centile)"):  # fmt: skip
        assert key in table and table[key], key


@pytest.mark.mirror
def test_key_figures_rows_match_the_page(small_run) -> None:
    rows = fiche.key_figures(WITH_NETWORK, small_run.indicators)
    table = _table(fiche.fiche_html(WITH_NETWORK, small_run))
    assert [(label, value) for _, label, value in rows] == list(table.items())
    groups = list(dict.fromkeys(g for g, _, _ in rows))
    assert groups == ["Population et revenus",
                      "Accès à pied (temps médian des habitants, par les rues)",
                      "Offre de proximité", "Passage et enclavement",
                      "Couplage commerces – services publics"]  # fmt: skip


@pytest.mark.mirror
def test_fiche_without_network_says_not_evaluated(small_run) -> None:
    page = fiche.fiche_html(WITHOUT_NETWORK, small_run)
    table = _table(page)
    not_eval = "non évalué (pas de réseau de rues dans les données)"
    for key in ("Boulangerie", "Pharmacie", "Médecin généraliste", "Supermarché",
                "Gamme de proximité INSEE couverte à moins de 10 min",
                "D'après le modèle de Huff, part des achats alimentaires faits près du "
                "quartier (estimation)",
                "Co-localisation des services publics autour des commerces (CLQ)",
                "Commerces à 5 min ou moins d'un service public"):  # fmt: skip
        assert table[key] == not_eval, key
    # what does not need a network is still there, and nothing is blank
    assert table["Population (INSEE, population municipale du quartier)"].endswith("habitants")
    assert table["Indice d'enclavement par les rues (traversées, détours)"] == not_eval
    assert all(v.strip() for v in table.values())
    assert "Pas de réseau de rues dans les données pour ce quartier." in page
    # read on its market size alone (poverty rate not published): no reading, and why
    score_box = page.split('<div class="valeur">', 1)[1].split("</div>\n</div>", 1)[0]
    assert score_box.startswith("non évaluée</div>")
    assert "une seule composante lue : il en faut au moins 2" in score_box
    assert "sur 1 (1 = le plus favorable)" not in score_box and "viabilité nan" not in page


@pytest.mark.mirror
def test_fiche_of_an_unknown_qpv(small_run) -> None:
    with pytest.raises(ValidationError, match="QN09999X"):
        fiche.fiche_html("QN09999X", small_run)


@pytest.mark.browser
@pytest.mark.mirror
def test_fiche_says_so_when_leaflet_is_missing(exported, tmp_path: Path) -> None:
    """A fiche copied without ``maps/lib/`` shows a French message instead of a blank map."""
    out, _ = exported
    page = tmp_path / "seule" / f"{WITH_NETWORK}.html"
    page.parent.mkdir()
    shutil.copy(out / "maps" / "fiches" / page.name, page)
    dom = dump_dom(page, tmp_path / "profil")
    assert re.search(_NO_MAP, dom)
