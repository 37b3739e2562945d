"""Residents' answers: reading CSV and GeoJSON, matching messy French labels, keeping answers
append-only across imports, the template."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from qpvgeo import cli
from qpvgeo._errors import CRSError, ValidationError
from qpvgeo.data import besoins
from qpvgeo.outputs import export

HEADER = "code_qp;type;categorie;frein;commentaire;lon;lat;source;date;nombre\n"
ROWS = [
    "QN09106M;besoin;Boucheries;;;;;atelier;02/05/2026;3\n",
    "qn09106m;;DISTRIBUTEURS DE BILLETS;;;;;atelier;2026-05-02;\n",
    "QN09106M;Besoin;boulengerie;;;;;questionnaire;;2\n",
    "QN09106M;besoin;Boulangerie;;;;;questionnaire;;\n",
    "QN09106M;besoin;Boulangerie;;;;;questionnaire;;\n",
    ";frein;;Insécurité;le soir;2,1650;48,6800;atelier;2026-05-02;1\n",
    ";Lieu évité;;traversée difficile;sous le pont;2.1700;48.6830;atelier;;\n",
    "QN09106M;besoin;truc introuvable;;;;;atelier;;\n",
]


def write(path, rows, header=HEADER, encoding="utf-8"):
    path.write_text(header + "".join(rows), encoding=encoding)
    return path


def read(path):
    """Read a file that has an unmatched label: the warning is part of the contract."""
    with pytest.warns(besoins.BesoinsWarning, match="truc introuvable"):
        return besoins.read_besoins(path)


@pytest.mark.parametrize(
    ("label", "category", "how"),
    [
        ("Boucheries", "boucherie", besoins.MATCH_CODE),
        ("  BOULANGERIES ", "boulangerie", besoins.MATCH_CODE),
        ("une boulangerie", "boulangerie", besoins.MATCH_CODE),
        ("Épiceries", "epicerie", besoins.MATCH_CODE),
        ("epicerie", "epicerie", besoins.MATCH_CODE),
        ("médecin_generaliste", "medecin_generaliste", besoins.MATCH_CODE),
        ("Médecins généralistes", "medecin_generaliste", besoins.MATCH_CODE),
        ("un médecin", "medecin_generaliste", besoins.MATCH_SYNONYM),
        ("Charcuterie", "boucherie", besoins.MATCH_LABEL),
        ("La Poste", "bureau_poste", besoins.MATCH_SYNONYM),
        ("bureaux de poste", "bureau_poste", besoins.MATCH_LABEL),
        ("Distributeurs de billets", "distributeur_billets", besoins.MATCH_SYNONYM),
        ("DAB", "distributeur_billets", besoins.MATCH_SYNONYM),
        ("kinés", "kinesitherapeute", besoins.MATCH_SYNONYM),
        ("Supérette", "superette", besoins.MATCH_CODE),
        ("tabac-presse", "tabac_presse", besoins.MATCH_CODE),
        ("boulengerie", "boulangerie", besoins.MATCH_CLOSE),  # a typo: matched, to be checked
        ("pharmarcie", "pharmacie", besoins.MATCH_CLOSE),
        ("truc introuvable", "", besoins.MATCH_NONE),
        ("cordonnerie", "", besoins.MATCH_NONE),
    ],
)
def test_messy_labels(label, category, how):
    import pandas as pd

    got = besoins.match_categories(pd.Series([label])).iloc[0]
    assert (got["category"], got["category_match"]) == (category, how)
    if how == besoins.MATCH_NONE:
        assert got["category_label_fr"] == label.strip()  # kept as written, never dropped


def test_close_spelling_does_not_confuse_categories():
    import pandas as pd

    got = besoins.match_categories(pd.Series(["boucherie", "boulangerie"]))
    assert got["category"].tolist() == ["boucherie", "boulangerie"]


def test_read_csv_and_report(tmp_path):
    answers = read(write(tmp_path / "a.csv", ROWS))
    assert len(answers) == len(ROWS)  # nothing dropped, the unmatched label included
    assert answers.crs == "EPSG:2154"
    assert answers["code_qp"].tolist()[:2] == ["QN09106M", "QN09106M"]
    assert answers["type"].tolist() == ["besoin"] * 5 + ["frein", "lieu_evite", "besoin"]
    assert answers["nombre"].tolist() == [3, 1, 2, 1, 1, 1, 1, 1]
    assert answers.at[0, "date"] == "2026-05-02"
    assert answers["frein_code"].tolist()[5:7] == ["insecurite", "traversee_difficile"]
    assert answers.at[6, "frein"] == "traversée difficile"  # free text kept as written
    # the decimal comma is read; the point lands in Lambert-93 where pyproj puts it
    expected = gpd.GeoSeries.from_xy([2.165], [48.68], crs=4326).to_crs(2154).iloc[0]
    assert answers.geometry.iloc[5].distance(expected) < 0.01
    assert answers.geometry.iloc[0] is None
    # two identical rows are two answers
    assert answers["answer_id"].is_unique
    report = besoins.label_report(answers)
    assert report.iloc[0]["categorie"] == "truc introuvable"
    assert report.iloc[0]["category_match"] == besoins.MATCH_NONE
    assert report.iloc[1]["category_match"] == besoins.MATCH_CLOSE
    assert report.set_index("categorie").at["Boulangerie", "n_answers"] == 2


def test_latin1_csv_with_x_y(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes("code_qp,categorie,x,y\n,épicerie,638500,6842700\n".encode("cp1252"))
    answers = besoins.read_besoins(path)
    assert answers.at[0, "category"] == "epicerie"
    assert (answers.geometry.iloc[0].x, answers.geometry.iloc[0].y) == (638500, 6842700)


def test_reimport_adds_nothing_and_one_more_adds_one(tmp_path):
    first = read(write(tmp_path / "a.csv", ROWS))
    kept, added = besoins.merge_answers(None, [first])
    assert added == len(ROWS) == len(kept)
    # the same file again, in another run: nothing added, nothing changed
    again, added = besoins.merge_answers(kept, [read(tmp_path / "a.csv")])
    assert added == 0
    assert again["answer_id"].tolist() == kept["answer_id"].tolist()
    assert again["imported_utc"].tolist() == kept["imported_utc"].tolist()
    # one more answer, identical to an existing one: exactly one added
    more = read(write(tmp_path / "a2.csv", [*ROWS, ROWS[3]]))
    grown, added = besoins.merge_answers(again, [more])
    assert added == 1 and len(grown) == len(ROWS) + 1
    assert grown["answer_id"].tolist()[: len(ROWS)] == kept["answer_id"].tolist()
    # an answer dropped from a later file is not lost
    fewer = read(write(tmp_path / "a3.csv", ROWS[2:]))
    same, added = besoins.merge_answers(grown, [fewer])
    assert added == 0 and len(same) == len(grown)


def test_answers_survive_the_geopackage(tmp_path):
    answers, _ = besoins.merge_answers(None, [read(write(tmp_path / "a.csv", ROWS))])
    gpkg = export.write_geopackage({"besoins": answers}, tmp_path / "q.gpkg")
    back = besoins.read_answers_layer(gpkg)
    merged, added = besoins.merge_answers(back, [read(tmp_path / "a.csv")])
    assert added == 0 and len(merged) == len(ROWS)
    assert merged["answer_id"].tolist() == answers["answer_id"].tolist()
    assert besoins.read_answers_layer(tmp_path / "none.gpkg") is None
    (tmp_path / "bad.gpkg").write_text("not a geopackage")
    with pytest.raises(ValidationError, match="would be lost"):
        besoins.read_answers_layer(tmp_path / "bad.gpkg")


def test_geojson_crs_checked(tmp_path):
    def collection(coords, crs=None, **props):
        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
             "properties": {"type": "lieu_evite", "frein": "insécurité", **props}}]}  # fmt: skip
        if crs:
            doc["crs"] = {"type": "name", "properties": {"name": crs}}
        return doc

    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(collection([2.17, 48.68])))
    assert besoins.read_besoins(path).crs == "EPSG:2154"
    path.write_text(json.dumps(collection([638500, 6842700], "urn:ogc:def:crs:EPSG::2154")))
    assert besoins.read_besoins(path).geometry.iloc[0].x == pytest.approx(638500)
    path.write_text(json.dumps(collection([638500, 6842700])))  # metres said to be degrees
    with pytest.raises(CRSError, match="Lambert-93"):
        besoins.read_besoins(path)
    path.write_text(json.dumps(collection([2.17, 48.68], "urn:ogc:def:crs:EPSG::3857")))
    with pytest.raises(CRSError, match="3857"):
        besoins.read_besoins(path)


def test_bad_rows_reported_at_once(tmp_path):
    rows = [
        "QN9;besoin;boulangerie;;;;;atelier;;\n",  # bad code
        ";besoin;boulangerie;;;;;atelier;;\n",  # neither code nor point
        "QN09106M;souhait urgent;boulangerie;;;;;atelier;;\n",  # unknown type
        "QN09106M;besoin;boulangerie;;;;;atelier;32/13/2026;\n",  # bad date
        "QN09106M;besoin;boulangerie;;;;;atelier;;zéro\n",  # bad count
    ]
    with pytest.raises(ValidationError) as err:
        besoins.read_besoins(write(tmp_path / "bad.csv", rows))
    text = str(err.value)
    assert "5 problem(s)" in text
    for part in ("'QN9'", "neither a code_qp nor a point", "'souhait urgent'", "'32/13/2026'", "'zéro'"):
        assert part in text
    with pytest.raises(ValidationError, match="does not exist"):
        besoins.read_besoins(tmp_path / "missing.csv")


def test_template(tmp_path, capsys):
    csv_path = tmp_path / "modele.csv"
    assert cli.main(["besoins", "template", "--out", str(csv_path)]) == 0
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbfcode_qp;type;categorie;")
    # never overwritten without --overwrite
    assert cli.main(["besoins", "template", "--out", str(csv_path)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(["besoins", "template", "--out", str(csv_path), "--overwrite"]) == 0
    # the template, filled in, is read back
    text = csv_path.read_text(encoding="utf-8-sig") + "QN09106M;besoin;Boucherie;;;;;atelier;;\n"
    csv_path.write_text(text, encoding="utf-8")
    assert besoins.read_besoins(csv_path).at[0, "category"] == "boucherie"
    geo = tmp_path / "modele.geojson"
    assert cli.main(["besoins", "template", "--out", str(geo)]) == 0
    doc = json.loads(geo.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and doc["features"] == []
    assert cli.main(["besoins", "template", "--format", "csv", "--out", str(tmp_path)]) == 2


def test_csv_columns_and_coordinates_checked(tmp_path):
    path = tmp_path / "c.csv"
    # French spellings of the column names are accepted
    path.write_text("Quartier;Catégorie;Longitude;Latitude;Nombre\n;pain;2.17;48.68;2\n", encoding="utf-8")
    got = besoins.read_besoins(path)
    assert (got.at[0, "category"], got.at[0, "nombre"]) == ("boulangerie", 2)
    assert got.geometry.iloc[0] is not None
    path.write_text("categorie;lon;lat\npain;638500;6842700\n", encoding="utf-8")
    with pytest.raises(CRSError, match="Lambert-93"):
        besoins.read_besoins(path)
    path.write_text("categorie;lon;lat;x;y\npain;2.17;48.68;1;2\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="keep one pair"):
        besoins.read_besoins(path)
    path.write_text("categorie;lon;lat\npain;2.17;\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="both filled or both empty"):
        besoins.read_besoins(path)
    path.write_text("nom;age\nx;3\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="neither a `categorie` nor a `frein`"):
        besoins.read_besoins(path)
    path.write_text(besoins.template_text("csv"), encoding="utf-8")
    with pytest.raises(ValidationError, match="no answer"):
        besoins.read_besoins(path)
