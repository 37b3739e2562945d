"""« Ce que disent les habitants » on the fiche and the overview map (the session's run)."""

from __future__ import annotations

import dataclasses
import html
import warnings

import pytest

from qpvgeo.data import besoins as data
from qpvgeo.outputs import habitants, maps
from qpvgeo.outputs.fiche import fiche_html
from qpvgeo.pipeline import besoins as pb

from .conftest import groups, page_html

HEADER = "code_qp;type;categorie;frein;commentaire;lon;lat;source;date;nombre\n"
ROWS = [
    "QN09106M;besoin;supérettes;;;;;atelier;;2\n",
    "QN09106M;besoin;boucherie;;;;;atelier;;3\n",
    "QN09101M;besoin;boulangerie;;;;;atelier;;\n",
    ";lieu_evite;;insécurité;<script>alert('x')</script> & co;2.1700;48.6830;atelier;;\n",
    ";besoin;pharmacie;;ici;2.1660;48.6810;questionnaire;;\n",
]


@pytest.fixture
def run(small_run, tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.BesoinsWarning)
        answers = data.read_besoins(path)
    return pb.add_besoins(dataclasses.replace(small_run), answers)


@pytest.mark.mirror
def test_fiche_section(run):
    page = fiche_html("QN09106M", run)
    section = page[page.index('<section class="habitants"') :]
    assert "Ce que disent les habitants" in section
    headline = run.indicators.at["QN09106M", "besoins_absent_10min"]
    assert f"Demandé mais absent à moins de 10 min à pied :</b>\n{html.escape(headline, quote=False)}" in section
    assert pb.STATUS_NOT_IN_DATA in section  # boucherie: « non évaluable », not « absent »
    # the free text of residents is escaped, on the page and in the map's tooltips
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; co" in section
    assert "Coupures ressenties et coupures mesurées" in section
    # the points of the QPV on its map, one colour per type
    assert "Ce que disent les habitants (2 points)" in page


@pytest.mark.mirror
def test_fiche_without_network_or_answers(run, small_run):
    page = fiche_html("QN09101M", run)
    section = page[page.index('<section class="habitants"') :]
    assert f"Demandé mais absent à moins de 10 min à pied :</b>\n{pb.STATUS_NO_NETWORK}" in section
    assert section.count(pb.STATUS_NO_NETWORK) >= 2  # the headline and the boulangerie row
    quiet = fiche_html("QN09140N", run)
    assert "Aucune réponse d'habitants enregistrée pour ce quartier" in quiet
    # a run without answers: the section invites to the workshop mode, the page still has it
    assert "Aucune réponse d'habitants" in fiche_html("QN09106M", small_run)
    assert "window.QPVGEO_ATELIER" in quiet


@pytest.mark.mirror
def test_overview_layer(run, small_run):
    m = maps.MAPS["maps/qpv_overview.html"](run)
    names = list(groups(m))
    assert "Habitants : lieu évité (1)" in names and "Habitants : besoin (1)" in names
    assert "<script>alert" not in page_html(m)
    assert not any(n.startswith("Habitants") for n in groups(maps.MAPS["maps/qpv_overview.html"](small_run)))


def test_atelier_payload_is_script_safe():
    text = habitants.atelier_payload("QN09106M")
    assert "</" not in text and '"code":"QN09106M"' in text
    assert '["boucherie","Boucherie, charcuterie"]' in text
