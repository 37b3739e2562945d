"""Tests of qpvgeo.outputs.index: the index page of an export (real data, three QPV)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from ..conftest import SMALL_RUN_CODES

WITH_NETWORK = "QN09106M"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self.links.extend(v for k, v in attrs if k == "href" and v)


@pytest.mark.mirror
def test_index_links_resolve(exported) -> None:
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
    assert {f"fiches/{c}.html" for c in SMALL_RUN_CODES} <= linked
    # and every fiche links back to the index and to its image
    fiche = _Links()
    text = (out / "maps" / "fiches" / f"{WITH_NETWORK}.html").read_text(encoding="utf-8")
    fiche.feed(text)
    for link in fiche.links:
        if link.startswith("#"):  # the glossary, in the page itself
            assert f'id="{link[1:]}"' in text, link
        else:
            assert (out / "maps" / "fiches" / link).is_file(), link


@pytest.mark.mirror
def test_index_names_the_departement_from_the_data(exported, data_dir) -> None:
    import pandas as pd

    out, _ = exported
    page = (out / "maps" / "index.html").read_text(encoding="utf-8")
    figures = pd.read_csv(data_dir / "insee/qpv2024_chiffres_cles_sigville_france.csv", dtype=str)
    name = figures.loc[figures["insee_dep"] == "91", "lib_dep"].iloc[0]
    assert f"quartiers prioritaires — {name} (91)</h1>" in page
