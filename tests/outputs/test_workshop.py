"""Tests of qpvgeo.workshop: coupling and viability maps, fiches, slide images, index.

Real data (three QPV: two in Les Ulis with a street network, QN09101M
without one), one pipeline run and one export shared by the module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import folium
import pytest

from qpvgeo.outputs import workshop

from ..conftest import CHROMIUM_FLAGS, SMALL_RUN_CODES, chromium

CODES = SMALL_RUN_CODES
WITH_NETWORK, WITHOUT_NETWORK = "QN09106M", "QN09101M"

_ONERROR = (
    "<script>window.onerror = function (msg) { document.documentElement.setAttribute("
    "'data-js-errors', (document.documentElement.getAttribute('data-js-errors') || '') + msg + "
    "' | '); };</script>"
)

#: the French message a fiche shows in place of its map when Leaflet is missing
_NO_MAP = r'<div id="carte"[^>]*><p class="sans-carte">Carte indisponible'


@pytest.fixture(scope="module")
def run(small_run):
    return small_run


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("atelier")
    return out, workshop.export_workshop(run, out)


def _groups(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.FeatureGroup)}


def _legend(m: folium.Map) -> str:
    return m.get_root().render()


def _features(group: folium.FeatureGroup) -> list[dict]:
    import json

    out = []
    for child in group._children.values():
        if isinstance(child, folium.GeoJson):
            data = child.data if isinstance(child.data, dict) else json.loads(child.data)
            out.extend(data["features"])
    return out


# ---------------------------------------------------------------------------
# maps


@pytest.mark.mirror
def test_coupling_map_layers_and_legend(run) -> None:
    m = workshop.coupling_map(
        run.qpv, run.equipments, run.service_pairs, run.polarites, indicators=run.indicators
    )
    names = list(_groups(m))
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
    groups = _groups(m)
    pairs = next(g for n, g in groups.items() if n.startswith("Trajets"))
    feats = _features(pairs)
    assert feats, "no shop → service line"
    for f in feats:  # the class matches the walking time written in the tooltip
        minutes = float(f["properties"]["temps"].split()[0].replace(",", "."))
        assert f["properties"]["_k"] == workshop._pair_class(minutes)
    shops = _features(next(g for n, g in groups.items() if n.startswith("Commerces (")))
    warm = {c for c, _ in workshop.COMMERCE_COLOURS.values()} | {workshop._OTHER_COMMERCE[0]}
    assert shops and {f["properties"]["_c"] for f in shops} <= warm
    qpv = _features(groups["Périmètres des QPV (3)"])
    no_net = next(f for f in qpv if f["properties"]["code"] == WITHOUT_NETWORK)["properties"]
    assert no_net["clq"] == "non évalué (pas de réseau de rues dans les données)"
    page = _legend(m)
    for text in ("moins de 2 min", "de 2 à 5 min", "de 5 à 10 min", "10 min et plus",
                 "couleurs chaudes", "couleurs froides", "ni cheminements piétons",
                 "QPV sans réseau de rues dans les données (1)",
                 "Commerces et services publics : ensemble ou séparés ?",
                 "Source : ANCT"):  # fmt: skip
        assert text in page, text


@pytest.mark.mirror
def test_viability_map_layers_and_tooltips(run) -> None:
    m = workshop.viability_map(run.qpv, run.indicators)
    groups = _groups(m)
    assert "QPV : lecture de viabilité (3)" in groups
    feats = {f["properties"]["code"]: f["properties"] for f in _features(
        groups["QPV : lecture de viabilité (3)"])}  # fmt: skip
    ulis, other = feats[WITH_NETWORK], feats[WITHOUT_NETWORK]
    assert re.fullmatch(r"0,\d\d|1,00", ulis["score"])
    assert re.fullmatch(r"[123] sur 3 QPV", ulis["rang"])
    assert "tirages" in ulis["fourchette"]
    assert ulis["texte"].startswith(str(run.qpv.at[WITH_NETWORK, "lib_qp"]))
    assert "pas de réseau de rues dans les données" in other["manquantes"]
    assert "couplage commerces – services publics" in other["manquantes"]
    assert other["_partiel"] and other["_fill"] in workshop.VIABILITY_COLOURS
    page = _legend(m)
    for colour, text in workshop.viability_labels():
        assert text in page and colour in page
    tooltip = next(
        t
        for c in groups["QPV : lecture de viabilité (3)"]._children.values()
        if isinstance(c, folium.GeoJson)
        for t in c._children.values()
        if isinstance(t, folium.GeoJsonTooltip)
    )
    for alias in ("Lecture de viabilité (0 à 1)", "Rang", "Rang selon les pondérations",
                  "En bref", "Composantes prises en compte", "Composantes non évaluées"):  # fmt: skip
        assert alias in tooltip.aliases, alias


# ---------------------------------------------------------------------------
# fiches


def _table(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr><td>(.*?)</td><td class="[^"]*">(.*?)</td></tr>', page)
    return dict(rows)


@pytest.mark.mirror
def test_fiche_key_figures_in_french(run) -> None:
    ind = run.indicators
    table = _table(workshop.fiche_html(WITH_NETWORK, run))
    pop = workshop.fr_number(ind.at[WITH_NETWORK, "population_est"], 0)
    assert table["Population estimée"] == f"{pop} habitants"
    income = table["Revenu médian déclaré par unité de consommation (Filosofi 2021, IRIS du quartier)"]
    assert re.fullmatch(r"\d{1,2}\u202f\d{3} €", income), income
    t = table["Boulangerie : temps médian (quartier / reste de la commune)"]
    assert re.fullmatch(r"\d+,\d min / \d+,\d min", t), t
    assert t.startswith(workshop.fr_value(ind.at[WITH_NETWORK, "walk_min_median_boulangerie"],
                                          "min"))  # fmt: skip
    assert re.fullmatch(r"\d{1,3} %", table["Pharmacie : habitants à moins de 10 min"])
    assert re.fullmatch(r"\d{1,3} %", table["Gamme de proximité INSEE couverte à moins de 10 min"])
    assert re.fullmatch(r"\d+,\d\d", table[
        "Pharmacies pour 1 000 habitants à 15 min (E2SFCA, partage entre habitants)"])  # fmt: skip
    assert table["Co-localisation des services publics autour des commerces (CLQ)"].startswith(
        workshop.fr_number(ind.at[WITH_NETWORK, "clq_commerce_services"], 2) + " (p = "
    )
    assert not any(v.startswith("non évalué") for k, v in table.items() if "temps" in k)
    for key in ("Indice d'enclavement", "Coupure principale", "Commerces à 5 min ou moins d'un "
                "service public", "Passage piéton potentiel (rues les plus passantes du "
                "quartier, 90e centile)"):  # fmt: skip
        assert key in table and table[key], key


@pytest.mark.mirror
def test_fiche_without_network_says_not_evaluated(run) -> None:
    page = workshop.fiche_html(WITHOUT_NETWORK, run)
    table = _table(page)
    not_eval = "non évalué (pas de réseau de rues dans les données)"
    for key in ("Boulangerie", "Pharmacie", "Médecin généraliste", "Supermarché",
                "Gamme de proximité INSEE couverte à moins de 10 min",
                "Part des achats alimentaires faits près du quartier (modèle de Huff)",
                "Co-localisation des services publics autour des commerces (CLQ)",
                "Commerces à 5 min ou moins d'un service public"):  # fmt: skip
        assert table[key] == not_eval, key
    # what does not need a network is still there, and nothing is blank
    assert table["Population estimée"].endswith("habitants")
    assert "indice partiel" in table["Indice d'enclavement"]
    assert all(v.strip() for v in table.values())
    assert "Pas de réseau de rues dans les données pour ce quartier." in page


# ---------------------------------------------------------------------------
# the export: sizes, links, images, atomic writes


@pytest.mark.mirror
def test_export_writes_everything_within_budget(run, exported) -> None:
    out, paths = exported
    assert all(p.is_file() for p in paths)
    mapsdir = out / "maps"
    fiches = sorted((mapsdir / "fiches").glob("*.html"))
    assert [f.stem for f in fiches] == sorted(CODES)
    for f in fiches:
        size = f.stat().st_size
        assert size <= workshop.FICHE_MAX_BYTES, (f.name, size)
        text = f.read_text(encoding="utf-8")
        assert 'src="../lib/leaflet.js"' in text and "Leaflet 1.9" not in text  # not inlined
    assert (mapsdir / "lib" / "leaflet.js").stat().st_size > 100_000
    assert (mapsdir / "index.html").stat().st_size <= workshop.INDEX_MAX_BYTES
    for name in ("qpv_couplage.html", "qpv_viabilite.html"):
        page = mapsdir / name
        assert page.stat().st_size <= workshop.MAP_MAX_BYTES, (name, page.stat().st_size)
        assert "cdn.jsdelivr.net/npm/leaflet" not in page.read_text(encoding="utf-8")
    assert not list(out.rglob("*.tmp")), "temporary files left behind"
    assert paths[-1] == mapsdir / "index.html"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self.links.extend(v for k, v in attrs if k == "href" and v)


@pytest.mark.mirror
def test_index_links_resolve(run, exported) -> None:
    out, _ = exported
    index = out / "maps" / "index.html"
    parser = _Links()
    parser.feed(index.read_text(encoding="utf-8"))
    assert parser.links
    for link in parser.links:
        assert (index.parent / link).is_file(), link
    linked = set(parser.links)
    for name in ("qpv_overview.html", "qpv_acces.html", "qpv_enclavement.html",
                 "qpv_couplage.html", "qpv_viabilite.html", "png/viabilite.png"):  # fmt: skip
        assert name in linked, name
    assert {f"fiches/{c}.html" for c in CODES} <= linked
    # and every fiche links back to the index and to its image
    fiche = _Links()
    fiche.feed((out / "maps" / "fiches" / f"{WITH_NETWORK}.html").read_text(encoding="utf-8"))
    for link in fiche.links:
        assert (out / "maps" / "fiches" / link).is_file(), link


@pytest.mark.mirror
def test_pngs_are_images_of_the_expected_size(run, exported) -> None:
    from PIL import Image

    out, _ = exported
    for name in [*CODES, "viabilite"]:
        path = out / "maps" / "png" / f"{name}.png"
        with Image.open(path) as img:
            assert img.format == "PNG"
            assert img.size == workshop.PNG_SIZE, (name, img.size)
            img.verify()


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "sous" / "page.html"
    workshop.write_atomic(target, "première")
    assert target.read_text(encoding="utf-8") == "première"

    def boom(src, dst):
        raise OSError("disque plein")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        workshop.write_atomic(target, "seconde")
    assert target.read_text(encoding="utf-8") == "première"
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]


def test_french_numbers() -> None:
    assert workshop.fr_value(4.3049, "min") == "4,3 min"
    assert workshop.fr_value(12590, "€", 0) == "12\u202f590 €"
    assert workshop.fr_value(95.4, "%", 0) == "95 %"
    assert workshop.fr_value(float("nan"), "%", 0) is None
    assert workshop.fr_value(None) is None


# ---------------------------------------------------------------------------
# a real browser


def _dump_dom(page: Path, profile: Path) -> str:
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.browser
@pytest.mark.mirror
def test_browser_renders_fiches_and_index(exported, tmp_path: Path) -> None:
    out, _ = exported
    # a copy of the maps/ folder alone, as handed to a presenter
    copy = tmp_path / "copie" / "maps"
    shutil.copytree(out / "maps", copy)
    for page in [copy / "fiches" / f"{c}.html" for c in (WITH_NETWORK, WITHOUT_NETWORK)]:
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace("<head>", "<head>" + _ONERROR, 1), encoding="utf-8")
        dom = _dump_dom(page, tmp_path / f"profil-{page.stem}")
        errors = re.search(r'data-js-errors="[^"]*"', dom)
        assert errors is None, errors[0]
        assert 'class="leaflet-pane leaflet-map-pane"' in dom, page.name
        assert not re.search(_NO_MAP, dom)
        n_paths = len(re.findall(r'<path[^>]*class="[^"]*leaflet-interactive', dom))
        assert n_paths >= 10, (page.name, n_paths)  # perimeter + shops and services at least
        assert "leaflet-control-layers" in dom
    index = copy / "index.html"
    index.write_text(
        index.read_text(encoding="utf-8").replace("<head>", "<head>" + _ONERROR, 1),
        encoding="utf-8",
    )
    dom = _dump_dom(index, tmp_path / "profil-index")
    assert re.search(r'data-js-errors="[^"]*"', dom) is None
    assert dom.count("<tr>") >= len(CODES) + 1
    assert "Couplage commerces – services publics" in dom


@pytest.mark.browser
@pytest.mark.mirror
def test_fiche_says_so_when_leaflet_is_missing(exported, tmp_path: Path) -> None:
    """A fiche copied without ``maps/lib/`` shows a French message instead of a blank map."""
    out, _ = exported
    page = tmp_path / "seule" / f"{WITH_NETWORK}.html"
    page.parent.mkdir()
    shutil.copy(out / "maps" / "fiches" / page.name, page)
    dom = _dump_dom(page, tmp_path / "profil")
    assert re.search(_NO_MAP, dom)
