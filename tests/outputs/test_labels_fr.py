"""Tests of qpvgeo.outputs.labels_fr: French numbers, labels, class labels, missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qpvgeo.outputs import labels_fr as lf


def test_french_numbers() -> None:
    assert lf.fr_value(4.3049, "min") == "4,3 min"
    assert lf.fr_value(12590, "€", 0) == "12\u202f590 €"
    assert lf.fr_value(95.4, "%", 0) == "95 %"
    assert lf.fr_value(float("nan"), "%", 0) is None
    assert lf.fr_value(None) is None
    assert lf.fr_value(float("inf"), "min", missing="non calculé") == "non calculé"
    assert lf.fr_number(1234567.891, 2) == "1\u202f234\u202f567,89"
    assert np.isnan(lf.num("texte")) and lf.num("2.5") == 2.5


def test_indicator_label_french() -> None:
    assert lf.indicator_label("walk_min_median_boulangerie") == (
        "Temps de marche médian vers : Boulangerie (min)"
    )
    assert lf.indicator_label("share_within_10min_pharmacie_pct") == (
        "Part des habitants à moins de 10 min : Pharmacie (%)"
    )
    assert lf.indicator_label("network_coverage_pct").startswith("Part des habitants")
    assert lf.indicator_label("unknown_column") == "unknown_column"
    assert lf.indicator_category("share_within_5min_ecole_maternelle_pct") == "ecole_maternelle"
    assert lf.indicator_label("walk_min_median_boulangerie_rest_commune") == (
        "Temps de marche médian vers : Boulangerie, reste de la commune (min)"
    )
    assert lf.indicator_category("walk_min_median_boulangerie_rest_commune") == "boulangerie"
    assert lf.indicator_label("n_pharmacie_within_10min").startswith("Nombre d'équipements")
    assert lf.category_label("alimentaire") == "Commerces alimentaires"


def test_indicator_values() -> None:
    assert lf.indicator_value(4.25, "walk_min_median_boulangerie") == "4,2 min"
    assert lf.indicator_value(12.0, "walk_min_median_boulangerie") == "12 min"
    assert lf.indicator_value(95.4, "share_within_10min_pharmacie_pct") == "95 %"
    assert lf.indicator_value(float("nan"), "area_ha") == "non calculée"


def test_class_labels() -> None:
    assert lf.class_labels(["0", "5", "10"], "min") == ["de 0 à 5 min", "de 5 à 10 min"]
    assert lf.class_labels(["0", "5", "10", "30"], "min", open_ends=True) == [
        "moins de 5 min", "de 5 à 10 min", "10 min et plus",
    ]  # fmt: skip
    assert lf.class_labels(["0", "40", "120"], "trajets", above=True) == [
        "de 0 à 40 trajets", "de 40 à 120 trajets", "plus de 120 trajets",
    ]  # fmt: skip
    assert lf.class_labels(["0"], "trajets", above=True) == ["plus de 0 trajets"]


def test_missing_values_say_why() -> None:
    ind = pd.DataFrame({"x_pct": [12.0, np.nan]}, index=["A", "B"])
    assert lf.indicator_text(ind, "A", "x_pct", "%", 0, "couvert") == "12 %"
    assert lf.indicator_text(ind, "B", "x_pct", "%", 0, "absent") == (
        "non évalué (pas de réseau de rues dans les données)"
    )
    assert lf.indicator_text(ind, "B", "x_pct", "%", 0, "absent", network=False) == (
        "non évalué (aucune valeur calculée)"
    )
    assert lf.indicator_text(ind, "A", "absent_column", "", 0, "couvert", reason="r") == (
        "non évalué (r)"
    )
    table = pd.DataFrame(
        {"network_status": ["absent", "couvert", "couvert", "partiel"],
         "network_kind": [None, "drive", "walk", "drive"],
         "network_scope": [None, None, None, "habitants desservis seulement (73 %)"]},
        index=["A", "B", "C", "D"],
    )  # fmt: skip
    assert lf.status_long(table, "A") == "aucun (pas de réseau de rues dans les données)"
    # the wording comes from the network's kind in the data, not from the mirror
    assert "réseau routier" in lf.status_long(table, "B")
    assert lf.status_long(table, "C") == "couvert (réseau piéton OpenStreetMap (rues et cheminements))"
    assert "73 %" in lf.status_long(table, "D")
    assert lf.method_notes(table, "n", ["C"]) == [] and lf.method_notes(table, "n", ["B"]) == ["n"]
    assert lf.DRIVE_NOTE.startswith("Réseau de rues : réseau routier OpenStreetMap")
    assert lf.DRIVE_NOTE_MAPS.startswith("Réseau de rues : réseau routier OpenStreetMap")


def test_departement_label_comes_from_the_data() -> None:
    assert lf.departement_label({"dep": "94", "dep_name": "Val-de-Marne"}) == "Val-de-Marne (94)"
    assert lf.departement_label({"dep": "94", "dep_name": None}) == "département 94"
