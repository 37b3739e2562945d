"""The nomenclature tables shipped with qpvgeo: BPE codes, OSM tags and INSEE gammes."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from qpvgeo._errors import MissingColumnError, UnknownCodeError
from qpvgeo.data import loaders, nomenclature


@pytest.fixture(scope="module")
def gammes(data_dir):
    return loaders.load_gammes(data_dir=data_dir, offline=True)


def test_tables_are_consistent():
    cats = nomenclature.categories()
    codes = nomenclature.equipment_codes()
    assert cats.index.is_unique
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in cats.index)
    assert cats["label_fr"].notna().all() and cats["domain"].notna().all()
    for flag in ("is_commerce", "is_public_service", "is_food_retail", "proximity"):
        assert cats[flag].dtype == bool, flag
    assert set(codes["category"]) <= set(cats.index)
    assert set(codes["source"]) == {"bpe", "osm"}
    assert not codes.duplicated(["source", "code"]).any()
    osm = codes[codes["source"] == "osm"]["code"]
    assert osm.str.fullmatch(r"(shop|amenity)=[a-z_]+").all()
    assert nomenclature.UNCLASSIFIED not in cats.index
    # food retail shops are commerces
    assert cats.loc[cats["is_food_retail"], "is_commerce"].all()


def test_bpe_category_2024_and_2021_codes():
    codes = pd.Series(
        ["B207", "D265", "B105", "B104", "B201", "B202", "D307", "B203", "D201", "B102"]
    )
    got = list(nomenclature.bpe_category(codes))
    assert got == [
        "boulangerie",
        "medecin_generaliste",
        "supermarche",
        "hypermarche",
        "superette",
        "epicerie",
        "pharmacie",
        "boulangerie",
        "medecin_generaliste",
        "supermarche",
    ]


def test_bpe_typequ_2021():
    got = nomenclature.bpe_typequ_2021(
        pd.Series(["B207", "D265", "D281", "D277", "B104", "B105", "B201"])
    )
    assert list(got) == ["B203", "D201", "D232", "D221", "B101", "B102", "B201"]


def test_unknown_bpe_codes_warn_and_are_kept():
    codes = pd.Series(["B207", "ZZ99", "ZZ99", "Q000", None], index=[10, 11, 12, 13, 14])
    with pytest.warns(
        UserWarning,
        match=r"BPE 24: 4 equipments have a TYPEQU outside qpvgeo's nomenclature: "
        r"ZZ99 \(2\), .*; they are kept with category 'non_classe'.*equipment_codes.csv",
    ) as rec:
        got = nomenclature.bpe_category(codes, source="BPE 24")
    assert "Q000 (1)" in str(rec[0].message) and "(empty) (1)" in str(rec[0].message)
    assert list(got.index) == [10, 11, 12, 13, 14]
    assert list(got) == ["boulangerie"] + [nomenclature.UNCLASSIFIED] * 4


def test_many_unknown_codes_are_summarised():
    codes = pd.Series([f"Z{i:03d}" for i in range(20)])
    with pytest.warns(UserWarning, match=r"20 equipments .*Z011 \(1\) and 8 more;"):
        nomenclature.bpe_category(codes)


def test_osm_category_rules():
    tags = pd.DataFrame(
        {
            "shop": ["convenience", "bakery", None, "supermarket", None],
            "amenity": [None, "pharmacy", "doctors", "pharmacy", "school"],
        }
    )
    got = list(nomenclature.osm_category(tags))
    # convenience → épicerie; shop wins over amenity; doctors → généraliste; school → élémentaire
    assert got == [
        "epicerie",
        "boulangerie",
        "medecin_generaliste",
        "supermarche",
        "ecole_elementaire",
    ]
    only_amenity = nomenclature.osm_category(pd.DataFrame({"amenity": ["pharmacy"]}))
    assert list(only_amenity) == ["pharmacie"]


def test_osm_unknown_tags_warn():
    tags = pd.DataFrame({"shop": ["frobnicator", "bakery"], "amenity": ["spaceport", None]})
    with pytest.warns(
        UserWarning, match=r"OSM: 1 equipments have a tag outside .*shop=frobnicator \(1\)"
    ):
        got = nomenclature.osm_category(tags)
    assert list(got) == [nomenclature.UNCLASSIFIED, "boulangerie"]


def test_osm_without_tag_columns():
    with pytest.raises(MissingColumnError, match=r"features need a `shop` or `amenity` column"):
        nomenclature.osm_category(pd.DataFrame({"name": ["x"]}))


def test_labels_and_categories():
    assert nomenclature.label("boulangerie") == "Boulangerie"
    assert nomenclature.label("epicerie") == "Épicerie"
    assert nomenclature.label("inconnue") == "inconnue"
    nomenclature.check_categories(["boulangerie", "pharmacie"])
    with pytest.raises(
        UnknownCodeError, match=r"unknown categories \['boulangeries'\]; known: .*boulangerie"
    ):
        nomenclature.check_categories(["boulangerie", "boulangeries"])
    prox = nomenclature.proximity_categories()
    assert {"boulangerie", "epicerie", "superette", "supermarche", "pharmacie"} <= set(prox)
    assert "hypermarche" not in prox


@pytest.mark.mirror
def test_gamme_proximite(gammes):
    prox = nomenclature.gamme_proximite(gammes)
    assert len(prox) == 28  # README: 28 proximity groupings
    assert list(prox.columns) == ["code_equipement", "libelle_equipement", "categories"]
    assert prox["code_equipement"].is_unique
    by_code = prox.set_index("code_equipement")["categories"]
    assert by_code["BR01"] == ("epicerie", "superette")
    assert by_code["B203"] == ("boulangerie",)
    assert by_code["D201"] == ("medecin_generaliste",)
    assert by_code["D307"] == ("pharmacie",)
    assert by_code["AR03"] == ("bureau_poste",)
    assert by_code["CR02"] == ("ecole_elementaire",)
    assert by_code["A401"] == ()  # masons: no qpvgeo category
    # every category of a proximity group exists
    assert {c for cs in by_code for c in cs} <= set(nomenclature.categories().index)


@pytest.mark.mirror
def test_gamme_proximite_missing_column(gammes):
    with pytest.raises(MissingColumnError, match=r"gammes table: missing column `gamme`"):
        nomenclature.gamme_proximite(gammes.drop(columns="gamme"))
