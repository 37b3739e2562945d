"""Write the notebooks from their cell sources (stripped of outputs).

Run ``python tools/make_notebooks.py`` after editing a notebook's cells here;
notebooks are committed without outputs and executed by the test suite.

The notebooks speak French (they are read by the analysts of the working group);
each starts from the run that ``qpvgeo run`` saved in ``OUT``
(:func:`qpvgeo.pipeline.load_or_run`), and computes it only when there is none
that matches.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "notebooks"

PARAMETERS = """# Paramètres : changez-les pour étudier un autre territoire
DEP = "91"                # code du département
QPV = None                # None : tous les QPV du département ; sinon une liste de codes, ex. ["QN09106M"]
DATA_DIR = None           # dossier de données ; None : $QPVGEO_DATA_DIR, sinon ./data
OFFLINE = True            # True : ne rien télécharger, n'utiliser que le dossier de données
CROWFLY_FALLBACK = False  # QPV sans réseau de rues : estimer les temps à vol d'oiseau (signalés comme tels)
OUT = ".."                # dossier où `qpvgeo run` a écrit (son --out) ; ".." : le dossier du projet"""

LOAD = (
    "result = pipeline.load_or_run(\n"
    "    DEP, QPV, out=OUT, data_dir=DATA_DIR, offline=OFFLINE, crowfly_fallback=CROWFLY_FALLBACK\n"
    ")"
)

#: how a notebook gets its result, said at the top of each one
FROM_A_RUN = (
    "**D'où viennent les résultats.** Le carnet ne refait pas le calcul à chaque ouverture. "
    "Si le dossier `OUT` contient le résultat enregistré par `qpvgeo run` (`tables/run.pkl`) "
    "et que ce résultat a été calculé avec les mêmes paramètres, sur des fichiers de données "
    "identiques (même empreinte SHA-256) et avec le même code de qpvgeo, il le recharge en une ou "
    "deux secondes. Sinon, il relance le calcul (de quelques secondes à une vingtaine pour "
    "l'Essonne) et en affiche l'avancement étape par étape. La première ligne affichée dit lequel des deux "
    "s'est produit, et pourquoi. Pour ne plus attendre, lancez une fois, depuis le dossier du "
    "projet, `qpvgeo run --dep 91 --offline` (avec les mêmes paramètres que ce carnet)."
)

#: how to read an empty cell, said at the top of each notebook
EMPTY_CELLS = (
    "**Lire une cellule vide.** Une cellule vide (`NaN`) signifie « non évalué », jamais zéro. "
    "La raison figure dans une colonne d'état (`network_status`, `network_scope`, "
    "`access_method`, `enclavement_missing`, `viability_missing`) ou dans les notes de "
    "l'exécution. Chaque colonne est définie, avec sa formule, ses sources et ses limites, dans "
    "`docs/methods.md`."
)

#: the street networks of the offline data mirror
DRIVE_NETWORKS = (
    "`network_kind` vaut `walk` pour un réseau piéton et `drive` pour un réseau routier utilisé "
    "faute de mieux. **Les réseaux du miroir de données hors ligne sont tous des réseaux "
    "routiers** : sans trottoirs séparés ni chemins piétons, les trajets à pied y sont approchés "
    "sur les rues (souvent un peu trop longs), les entrées piétonnes dans un quartier sont "
    "sous-comptées et les détours surestimés."
)


def intro(title: str, text: str) -> nbformat.NotebookNode:
    """The first cell of a notebook: its title, what it shows, where its results come from."""
    return new_markdown_cell(f"# {title}\n\n{text}\n\n{FROM_A_RUN}\n\n{EMPTY_CELLS}")


def parameters(extra: str = "") -> nbformat.NotebookNode:
    return new_code_cell(PARAMETERS + extra, metadata={"tags": ["parameters"]})


NOTEBOOKS = {
    "01-overview-access.ipynb": [
        intro(
            "Vue d'ensemble : l'accès à pied aux commerces et services du quotidien",
            "Pour chaque quartier prioritaire (QPV) d'un département, ce carnet donne le temps de "
            "marche des habitants jusqu'aux commerces et services du quotidien : boulangerie, "
            "supermarché, pharmacie, médecin généraliste, écoles, bibliothèque, gare… Les données "
            "sont officielles : périmètres des QPV 2024 (ANCT), chiffres clés des QPV (SIG Ville), "
            "équipements (INSEE, BPE 2024), population des IRIS (INSEE, RP 2021), gares "
            "(Île-de-France Mobilités) et rues (OpenStreetMap). Les QPV sans réseau de rues dans "
            "les données sont signalés, jamais complétés par une estimation cachée.",
        ),
        parameters(),
        new_code_cell(
            "import pandas as pd\n\n"
            "from qpvgeo import pipeline\nfrom qpvgeo.outputs import maps\n\n"
            f"{LOAD}\n"
            "for message in result.messages:\n"
            "    print('note :', message)"
        ),
        new_markdown_cell(
            "Les **notes** ci-dessus disent ce que l'exécution a écarté ou n'a pas pu évaluer : "
            "catégories d'équipements absentes des données, types de coupures sans données, "
            "habitants sans chiffre de population, QPV sans réseau de rues. Elles sont aussi "
            "enregistrées dans `tables/provenance.json`, avec les fichiers lus et leur millésime."
        ),
        new_markdown_cell(
            "## Le réseau de rues de chaque QPV\n\n"
            "Les indicateurs d'accès, de flux et d'enclavement se calculent sur un réseau de "
            "rues. Avant de lire un temps de marche, regardez sur quelle base il a été calculé.\n\n"
            "- `network_status` : `couvert` quand au moins 95 % des habitants du QPV sont à moins "
            "de 150 m d'une rue du réseau ; `partiel` en dessous (les indicateurs ne décrivent alors "
            "que les habitants desservis, dont la part est donnée par `network_scope`) ; `absent` "
            "quand aucun réseau n'atteint le QPV (les indicateurs sur réseau ne sont pas évalués).\n"
            f"- {DRIVE_NETWORKS}\n"
            "- `network_coverage_pct` : part des habitants du QPV (et non de sa surface) à moins de "
            "150 m d'une rue du réseau.\n\n"
            "Le premier tableau compte les QPV par statut et par type de réseau ; le second "
            "détaille les QPV qui ont un réseau."
        ),
        new_code_cell(
            "pd.crosstab(\n"
            "    result.indicators['network_status'],\n"
            "    result.indicators['network_kind'].fillna('aucun réseau'),\n"
            "    margins=True, margins_name='total',\n"
            ")"
        ),
        new_code_cell(
            "with_network = result.indicators['network_status'] != 'absent'\n"
            "cols = ['lib_qp', 'lib_com', 'network_status', 'network_kind', 'network_coverage_pct', "
            "'network_scope']\n"
            "result.indicators.loc[with_network, cols]"
        ),
        new_markdown_cell(
            "## Le tableau des indicateurs (une ligne par QPV)\n\n"
            "Un extrait de `tables/indicators_qpv.csv` :\n\n"
            "- `population_qpv` : population municipale officielle du QPV (INSEE, chiffres clés "
            "SIG Ville) ; `poverty_rate_qpv_pct` : taux de pauvreté du quartier, en %, vide sous "
            "secret statistique ;\n"
            "- `access_method` : comment les temps ont été calculés (réseau piéton ; réseau routier, "
            "faute de cheminements piétons ; ou vol d'oiseau × 1,3 si `CROWFLY_FALLBACK = True`). "
            "Vide quand rien n'a été calculé ;\n"
            "- `walk_min_median_<catégorie>` : temps de marche **médian**, en minutes, des habitants "
            "du QPV jusqu'à l'équipement le plus proche de la catégorie, porte à porte, à 4,5 km/h : "
            "la moitié des habitants en sont plus près, l'autre moitié plus loin. `gare` : gares "
            "RER, Transilien et TER.\n\n"
            "Un temps vide est « non évalué » : soit le QPV n'a pas de réseau de rues "
            "(`network_status` = `absent`), soit plus de la moitié de ses habitants ne peuvent "
            "atteindre aucun équipement de la catégorie sur le réseau (la médiane est alors "
            "« inatteignable » ; voir `share_unreachable_<catégorie>_pct`). Les catégories absentes "
            "des données (sur le miroir : banque, bureau de poste, boucherie, marché, tabac-presse) "
            "n'ont pas de colonne. Elles sont citées dans les notes et ne comptent pas comme un "
            "manque du quartier."
        ),
        new_code_cell(
            "cols = ['lib_qp', 'lib_com', 'network_status', 'access_method', 'population_qpv', "
            "'poverty_rate_qpv_pct']\n"
            "cols += [c for c in result.indicators.columns if c.startswith('walk_min_median_')]\n"
            "result.indicators[cols].round(1)"
        ),
        new_markdown_cell(
            "## Carte d'ensemble\n\n"
            "Les QPV sont colorés selon le temps de marche médian jusqu'à la boulangerie la plus "
            "proche (l'argument `indicator` de `maps.overview_map` choisit une autre colonne). "
            "Un QPV en gris n'a pas de valeur : son infobulle dit pourquoi (pas de réseau de rues, "
            "ou aucun habitant relié à un équipement). Chaque catégorie d'équipements est une "
            "couche, que l'on affiche dans le sélecteur de couches en haut à droite. Le fond de "
            "carte demande une connexion à internet. `qpvgeo run` exporte la même carte dans "
            "`maps/qpv_overview.html`."
        ),
        new_code_cell("maps.overview_map(result.qpv, result.indicators, result.equipments)"),
    ],
    "02-access.ipynb": [
        intro(
            "Accès à pied : équipement le plus proche, opportunités, concurrence, isochrones",
            "Pour chaque QPV qui a un réseau de rues, ce carnet détaille l'accès à pied : le temps "
            "jusqu'à l'équipement le plus proche de chaque catégorie, comparé à celui du reste de "
            "la commune ; le nombre d'équipements à 5, 10 et 15 minutes ; la couverture de la "
            "*gamme de proximité* de l'INSEE ; l'offre par habitant compte tenu de la concurrence "
            "entre habitants (2SFCA) ; et la part estimée des achats alimentaires faits près du "
            "quartier (modèle de Huff). Les QPV sans réseau n'apparaissent pas dans ces tableaux : "
            "leurs valeurs ne sont pas évaluées.",
        ),
        parameters('\nCATEGORY = "pharmacie"    # catégorie de la carte d\'accès'),
        new_code_cell(
            "from qpvgeo import pipeline\nfrom qpvgeo.outputs import maps\n\n"
            f"{LOAD}\n"
            "covered = result.indicators['network_status'] != 'absent'\n"
            "print(f'{covered.sum()} QPV avec un réseau de rues sur {len(covered)}')"
        ),
        new_markdown_cell(
            "## Temps jusqu'à l'équipement le plus proche : le QPV et le reste de la commune\n\n"
            "Pour chaque catégorie, deux colonnes en minutes :\n\n"
            "- `walk_min_median_<catégorie>` : temps de marche médian des habitants du QPV jusqu'à "
            "l'équipement le plus proche, porte à porte ;\n"
            "- `walk_min_median_<catégorie>_rest_commune` : le même temps pour les habitants de la "
            "commune qui vivent hors de tout QPV, dans l'emprise du réseau. Sur le miroir, cette "
            "emprise ne couvre souvent qu'une partie de la commune.\n\n"
            "Un temps du QPV plus long que celui du reste de la commune signale un quartier moins "
            "bien placé que ses voisins ; l'écart ne dit pas s'il tient au quartier ou à sa place "
            "dans la commune. La gare n'a pas de colonne « reste de la commune ». Une cellule vide "
            "est « non évaluée » : plus de la moitié des habitants ne peuvent atteindre la "
            "catégorie sur le réseau. Pour un QPV `partiel`, les temps ne portent que sur les "
            "habitants desservis (`network_scope`)."
        ),
        new_code_cell(
            "cats = ['boulangerie', 'pharmacie', 'medecin_generaliste', 'supermarche', 'gare']\n"
            "cols = ['lib_qp', 'network_scope']\n"
            "for c in cats:\n"
            "    cols += [f'walk_min_median_{c}', f'walk_min_median_{c}_rest_commune']\n"
            "result.indicators.loc[covered, [c for c in cols if c in result.indicators]].round(1)"
        ),
        new_markdown_cell(
            "## Opportunités à 10 minutes, gamme de proximité\n\n"
            "- `n_<catégorie>_within_10min` : nombre moyen d'équipements de la catégorie à "
            "10 minutes de marche au plus (750 m de rues), pour un habitant du QPV. Chaque ligne "
            "de la BPE compte : trois médecins à la même adresse comptent pour 3.\n"
            "- `gamme_proximite_within_10min_pct` : part des groupes de la *gamme de proximité* de "
            "l'INSEE présents dans les données qui sont atteints en 10 minutes. Les groupes absents "
            "des données ne comptent pas : 100 % sur le miroir ne veut pas dire que toute la gamme "
            "de l'INSEE est à portée."
        ),
        new_code_cell(
            "cols = ['lib_qp', 'gamme_proximite_within_10min_pct'] + [c for c in result.indicators "
            "if c.startswith('n_') and c.endswith('_within_10min')]\n"
            "result.indicators.loc[covered, cols].round(1)"
        ),
        new_markdown_cell(
            "## Offre compte tenu de la concurrence, part des achats faits près du QPV\n\n"
            "- `fca2_<catégorie>_per_1000` (2SFCA, Luo et Wang, 2003) : nombre d'équipements pour "
            "1 000 habitants, chaque équipement étant partagé entre tous les habitants qui l'ont à "
            "15 minutes ou moins, ceux des QPV comme les autres, de part et d'autre des limites "
            "communales. `g2sfca_<catégorie>_per_1000` (Dai, 2010) fait de même avec un poids qui "
            "décroît avec la distance (noyau gaussien). Chaque équipement vaut 1, quelle que soit "
            "sa taille.\n"
            "- `fca_catchment_outside_network_pct` : part des personnes vivant à 15 minutes du QPV "
            "qui sont hors de l'emprise du réseau. Leur demande manque : plus cette part est "
            "élevée, plus l'offre par habitant est surestimée.\n"
            "- `huff_share_nearby_pct` : part **estimée** des achats alimentaires des habitants "
            "faits dans les magasins à 300 m au plus du QPV (modèle de Huff, 1963). C'est une "
            "estimation de modèle, pas une observation des achats."
        ),
        new_code_cell(
            "cols = ['lib_qp'] + [c for c in result.indicators if c.startswith(('fca2_', 'g2sfca_'))]\n"
            "cols += ['fca_catchment_outside_network_pct', 'huff_share_nearby_pct']\n"
            "result.indicators.loc[covered, cols].round(2)"
        ),
        new_markdown_cell(
            "## Les magasins alimentaires où iraient le plus les habitants des QPV (modèle de Huff)\n\n"
            "`huff_expected_qpv_residents` : nombre attendu d'habitants des QPV clients du magasin ; "
            "`huff_expected_residents` : le même nombre sur tous les habitants de l'emprise du "
            "réseau. Ce sont des estimations du modèle, pas des fréquentations observées."
        ),
        new_code_cell(
            "result.food_stores.sort_values('huff_expected_qpv_residents', ascending=False)"
            ".drop(columns='geometry').head(10).round(0)"
        ),
        new_markdown_cell(
            "## Carte d'accès : isochrones, équipements et offre par habitant\n\n"
            "Les QPV sont colorés selon l'offre de la catégorie `CATEGORY` pour 1 000 habitants "
            "(2SFCA à noyau gaussien) ; le sélecteur de couches passe au temps de marche médian. "
            "Les isochrones de 5, 10 et 15 minutes sont les rues atteintes depuis le QPV, élargies "
            "de 25 m (et non une enveloppe convexe) : elles ne franchissent pas une voie ferrée "
            "qu'aucune rue ne traverse. L'infobulle de chaque QPV résume ses valeurs ; celles des "
            "QPV sans réseau sont « non calculées »."
        ),
        new_code_cell(
            "maps.access_map(result.qpv, result.indicators, result.equipments, result.isochrones, "
            "category=CATEGORY, focus=list(result.indicators.index[covered]))"
        ),
    ],
    "03-enclavement-flows.ipynb": [
        intro(
            "Enclavement et flux piétons",
            "Deux lectures de l'enclavement, **tenues séparées et jamais fusionnées** :\n\n"
            "- les **coupures** qui longent le périmètre de chaque QPV (voies ferrées lourdes, la "
            "Seine ; autoroutes et autres rivières quand OpenStreetMap est disponible). Elles ne "
            "demandent pas de réseau de rues et sont lues pour **tous** les QPV ;\n"
            "- la lecture **par le réseau** : entrées des rues dans le quartier, structure des "
            "rues, détours vers la gare et le supermarché. Elle n'est calculée que pour les QPV "
            "`couvert`, car un réseau partiel sous-compterait les entrées.\n\n"
            "Le carnet montre ensuite les flux piétons attendus dans les rues et les emplacements "
            "candidats pour un commerce.",
        ),
        parameters(),
        new_code_cell(
            "from qpvgeo import pipeline\nfrom qpvgeo.indicators import enclavement\n"
            "from qpvgeo.outputs import maps\n\n"
            f"{LOAD}\n"
            "print('coupures évaluées :', result.barriers.assessed)\n"
            "for note in result.barriers.notes:\n"
            "    print('note :', note)"
        ),
        new_markdown_cell(
            "Pour chaque type de coupure, `yes` veut dire évalué, `partial` évalué en partie (les "
            "cours d'eau réduits à la Seine sur le miroir) et `no` non évalué, faute de données "
            "(les autoroutes sur le miroir hors ligne)."
        ),
        new_markdown_cell(
            "## Coupures le long du périmètre (tous les QPV)\n\n"
            "- `share_perimeter_<rail, water, road>_pct` : part du périmètre longée par une voie "
            "ferrée lourde, un cours d'eau, une autoroute ou voie rapide. **Un type non évalué est "
            "vide, pas nul** : sur le miroir, `share_perimeter_road_pct` est vide partout, et un 0 % "
            "de cours d'eau ne dit rien des rivières autres que la Seine.\n"
            "- `share_ring200m_barrier_pct` : la même part, mesurée sur le contour tracé à 200 m "
            "autour du QPV ; `main_barrier` : la coupure qui longe la plus grande longueur.\n"
            "- `enclavement_type` : typologie propre à qpvgeo, « forte coupure » (au moins 25 % du "
            "périmètre), « coupure modérée », « pas de coupure ». Quand un type de coupure n'a pas "
            "pu être évalué, tout ce qui est en dessous de « forte coupure » devient « non évalué "
            "(… absentes des données) » : le quartier peut être longé par une autoroute que les "
            "données ne montrent pas.\n\n"
            "Une coupure longée n'est pas forcément infranchissable : ponts et passages souterrains "
            "ne sont pas lus ici, mais par le réseau (tableau suivant)."
        ),
        new_code_cell(
            "cols = ['lib_qp', 'lib_com', 'share_perimeter_rail_pct', 'share_perimeter_water_pct', "
            "'share_perimeter_road_pct', 'share_ring200m_barrier_pct', 'main_barrier', 'enclavement_type']\n"
            "result.indicators[cols].sort_values('share_perimeter_rail_pct', ascending=False).round(1)"
        ),
        new_markdown_cell(
            "## Entrées, structure des rues, détours et les deux indices\n\n"
            "Seuls les QPV `couvert` figurent ici.\n\n"
            "- `n_crossings`, `crossings_per_km` : lieux où une rue entre dans le quartier, et leur "
            "nombre par kilomètre de périmètre ; `longest_without_crossing_m` : la plus longue "
            "portion de périmètre sans entrée.\n"
            "- `intersection_density_per_km2`, `dead_end_share_pct`, `mean_block_size_ha` : "
            "carrefours par km², part d'impasses, taille moyenne des îlots.\n"
            "- `detour_gare`, `detour_supermarche` : indice de détour médian des habitants (la "
            "marche réelle divisée par la ligne droite, 1 ou plus) ; `_p90` : le 90ᵉ centile. Un "
            "rapport élevé vers une cible très proche peut ne représenter que quelques dizaines de "
            "mètres : lisez-le avec le temps de marche.\n"
            "- `barrier_index` (coupures) et `enclavement_index` (réseau) : deux lectures de 0 "
            "(ouvert) à 1 (coupé), jamais fusionnées. `enclavement_index` n'est calculé que si ses "
            "quatre composantes sont connues (`enclavement_components`).\n\n"
            f"{DRIVE_NETWORKS} L'indice réseau y est donc plutôt surestimé."
        ),
        new_code_cell(
            "cols = ['lib_qp', 'network_status', 'network_kind', 'n_crossings', 'crossings_per_km', "
            "'longest_without_crossing_m', 'intersection_density_per_km2', 'dead_end_share_pct', "
            "'mean_block_size_ha', 'detour_gare', 'detour_gare_p90', 'detour_supermarche', "
            "'barrier_index', 'enclavement_index', 'enclavement_components']\n"
            "result.indicators.loc[result.indicators['n_crossings'].notna(), cols].round(2)"
        ),
        new_markdown_cell(
            "Les ancrages de l'indice réseau (valeur lue comme 0, ouvert, et comme 1, coupé) et "
            "leurs poids. Ce sont des choix de qpvgeo, documentés et modifiables :"
        ),
        new_code_cell("enclavement.COMPOSITE_COMPONENTS, enclavement.COMPOSITE_WEIGHTS"),
        new_markdown_cell(
            "## Flux piétons et emplacements candidats\n\n"
            "- `flow_p90_trips_qpv` : 90ᵉ centile des flux piétons attendus sur les rues du QPV. "
            "Chaque habitant fait un trajet vers un commerce ou un service proche, par le plus "
            "court chemin. L'unité est relative (trajets-habitants) : **ce ne sont pas des "
            "comptages de passants**.\n"
            "- `n_candidate_segments` : tronçons à 300 m au plus du QPV parmi les plus passants "
            "(10 % du haut) et sans commerce à moins de 150 m. C'est un repère pour la discussion, "
            "pas une étude d'implantation : le modèle ne connaît ni les locaux ni les loyers.\n\n"
            "Ces valeurs existent pour les QPV qui ont un réseau (`couvert` ou `partiel`)."
        ),
        new_code_cell(
            "cols = ['lib_qp', 'network_status', 'flow_p90_trips_qpv', 'n_candidate_segments']\n"
            "result.indicators.loc[result.indicators['flow_p90_trips_qpv'].notna(), cols].round(0)"
        ),
        new_markdown_cell(
            "## Carte de l'enclavement et des flux\n\n"
            "Les QPV sont colorés selon l'indice d'enclavement (ou sa typologie, dans le sélecteur "
            "de couches) ; un contour en pointillés signale un QPV lu sur ses seules coupures, "
            "faute de réseau. Les autres couches : les coupures, les entrées des rues dans le "
            "quartier, le détour vers la gare (ligne droite en tirets, trajet par les rues en trait "
            "plein), les rues colorées et épaissies selon le flux attendu, les emplacements "
            "candidats. La légende dit quels types de coupures n'ont pas été évalués."
        ),
        new_code_cell(
            "maps.enclavement_map(result.qpv, result.indicators, result.barriers, result.streets, "
            "result.candidates, result.crossings, result.detours, result.equipments, "
            "focus=list(result.indicators.index[result.indicators['network_status'] != 'absent']))"
        ),
    ],
    "04-coupling.ipynb": [
        intro(
            "Couplage des commerces et des services publics",
            "Les commerces et les services publics (écoles, crèches, bibliothèques, équipements "
            "sportifs et culturels, centres sociaux…) sont-ils proches les uns des autres, de sorte "
            "que chacun amène du passage à l'autre ? Le carnet donne, pour chaque QPV qui a un "
            "réseau de rues : le quotient de co-localisation des commerces vers les services "
            "publics, le service public le plus proche de chaque commerce et le temps de marche "
            "pour l'atteindre, et les *polarités*, groupes de commerces et de services à quelques "
            "pas les uns des autres. Les médecins libéraux ne sont ni des commerces ni des "
            "services publics.",
        ),
        parameters(),
        new_code_cell(
            "from qpvgeo import pipeline\nfrom qpvgeo.outputs import workshop\n\n"
            f"{LOAD}\n"
            "read = result.indicators['clq_commerce_services'].notna()\n"
            "print(f'couplage lu pour {read.sum()} QPV (ceux qui ont un réseau de rues)')"
        ),
        new_markdown_cell(
            "## Quotient de co-localisation par QPV\n\n"
            "- `clq_commerce_services` (Leslie et Kronenfeld, 2011) : au-dessus de 1, les services "
            "publics sont plus nombreux autour des commerces (à quelques centaines de mètres de "
            "marche) que si les mêmes lieux avaient été étiquetés au hasard ; en dessous de 1, "
            "moins nombreux.\n"
            "- `clq_p_colocation` : p-valeur du test par permutation (999 tirages, graine tirée du "
            "code du QPV, donc reproductible). Une petite valeur (par exemple 0,05 ou moins) rend "
            "le rapprochement peu attribuable au hasard ; avec peu de lieux, le test manque de "
            "puissance et une valeur élevée ne prouve rien.\n"
            "- `share_shops_service_5min_pct` : part des commerces proches du QPV dont le service "
            "public le plus proche est à 5 minutes de marche au plus ; `n_polarites` : nombre de "
            "polarités autour du QPV.\n\n"
            "Une co-localisation ne prouve pas que les clients passent de l'un à l'autre."
        ),
        new_code_cell(
            "cols = ['lib_qp', 'network_status', 'clq_commerce_services', 'clq_p_colocation', "
            "'share_shops_service_5min_pct', 'n_polarites']\n"
            "result.indicators.loc[read, cols].round(3)"
        ),
        new_markdown_cell(
            "## Les commerces les plus éloignés d'un service public\n\n"
            "Une ligne par commerce proche d'un QPV : `shop_label`, le service public le plus "
            "proche (`service_label`) et le temps de marche entre les deux (`walk_min`, en "
            "minutes, entre leurs points de rattachement aux rues)."
        ),
        new_code_cell(
            "result.service_pairs.drop(columns='geometry').sort_values('walk_min', ascending=False)"
            ".head(10).round(1)"
        ),
        new_markdown_cell(
            "## Les polarités et leur composition\n\n"
            "Une polarité réunit au moins 3 lieux (commerces et services publics) reliés de proche "
            "en proche par des marches de 150 m au plus. `n_commerces` et `n_services_publics` "
            "donnent sa composition ; `mixte` dit si elle réunit les deux. Une polarité peut ne "
            "compter que des services publics (une école et des terrains de sport). "
            "`qpv_residents_within_400m` ne compte que les habitants des QPV de l'exécution."
        ),
        new_code_cell(
            "result.polarites.drop(columns='geometry').sort_values(['code_qp', 'n_places'], "
            "ascending=[True, False]).round(0)"
        ),
        new_markdown_cell(
            "## Carte du couplage\n\n"
            "Les commerces et les services publics, chaque commerce relié à son service public le "
            "plus proche (couleur selon le temps de marche), et les polarités. L'infobulle de "
            "chaque QPV donne son quotient de co-localisation et sa p-valeur."
        ),
        new_code_cell(
            "workshop.coupling_map(result.qpv, result.equipments, result.service_pairs, "
            "result.polarites, codes=list(result.indicators.index[read]), indicators=result.indicators)"
        ),
    ],
    "05-viability.ipynb": [
        intro(
            "Lecture de viabilité par QPV",
            "La lecture de viabilité combine sept composantes que le groupe de travail a nommées : "
            "la taille du marché local, le pouvoir d'achat, la part des achats alimentaires faite "
            "près du quartier, l'offre de proximité, le passage dans les rues, l'ouverture du "
            "quartier et le couplage des commerces avec les services publics. Chaque composante est "
            "placée sur une **échelle fixe** de 0 (le moins favorable) à 1 (le plus favorable), "
            "la même pour tous les QPV de France : le score d'un QPV ne dépend donc pas des autres "
            "QPV de l'exécution. La lecture est la moyenne pondérée des composantes disponibles ; "
            "une composante manquante ne compte jamais pour zéro. Modifiez `WEIGHTS` pour voir "
            "comment la lecture bouge. **Ce n'est ni une prévision de chiffre d'affaires ni un avis "
            "de faisabilité**, mais une lecture transparente d'indicateurs choisis.",
        ),
        parameters(
            "\nWEIGHTS = None            # None : poids par défaut ; ex. "
            "{'demande': 2.0, 'ouverture': 2.0, 'couplage': 1.0}"
        ),
        new_code_cell(
            "import pandas as pd\n\n"
            "from qpvgeo import pipeline\nfrom qpvgeo.indicators import viability\n"
            "from qpvgeo.outputs import workshop\n\n"
            f"{LOAD}\n"
            "pd.DataFrame(viability.COMPONENTS, index=['colonne lue', 'score 0 à', 'score 1 à', "
            "'demande un réseau', 'libellé']).T.assign(poids=pd.Series(viability.WEIGHTS))"
        ),
        new_markdown_cell(
            "Le tableau ci-dessus décrit les composantes : la colonne du tableau d'indicateurs "
            "qu'elle lit, la valeur lue comme 0 et celle lue comme 1 (entre les deux, le score est "
            "proportionnel ; au-delà, il reste à 0 ou à 1), si elle demande un réseau de rues, son "
            "libellé dans le texte et son poids par défaut. Les composantes qui demandent un "
            "réseau ne sont lues que pour un QPV `couvert` : un QPV `partiel` ou sans réseau n'est "
            "lu que sur la demande et le pouvoir d'achat."
        ),
        new_markdown_cell(
            "## La lecture avec les poids choisis\n\n"
            "- `viability_score` : la lecture, de 0 à 1 ; vide (« non évaluée ») quand aucune "
            "composante n'est lue ;\n"
            "- `viability_components` : les composantes lues ;\n"
            "- `viability_rank` : le rang (1 = le plus favorable) **parmi les seuls QPV lus sur "
            "exactement les mêmes composantes** ; `viability_rank_among` : le nombre de QPV de ce "
            "groupe. Un rang de 2 sur 3 ne se compare pas à un rang de 2 sur 40, et un QPV lu sur "
            "2 composantes ne se compare pas à un QPV lu sur 7. Le tableau est trié par groupe ;\n"
            "- `rank_p05`, `rank_p95` : l'intervalle où tombe le rang quand chaque poids varie au "
            "hasard de ±50 % (500 tirages). Un intervalle large signale un rang qui tient aux "
            "poids choisis.\n\n"
            "Les rangs dépendent des QPV présents dans l'exécution ; les scores, non."
        ),
        new_code_cell(
            "table = result.indicators\n"
            "reading = viability.viability(table, weights=WEIGHTS)\n"
            "sens = viability.sensitivity(table, weights=WEIGHTS)\n"
            "text = viability.summary_text(table, reading)\n"
            "replaced = [c for c in [*reading.columns, *sens.columns, text.name] if c in table.columns]\n"
            "updated = table.drop(columns=replaced).join(reading).join(sens).join(text)\n"
            "cols = ['lib_qp', 'lib_com', 'viability_score', 'viability_rank', "
            "'viability_rank_among', 'viability_components', 'rank_p05', 'rank_p95']\n"
            "updated[cols].sort_values(['viability_components', 'viability_rank']).round(2)"
        ),
        new_markdown_cell(
            "## En clair\n\n"
            "Pour chaque QPV, l'**Atout** est la composante au score le plus élevé et le **Frein** "
            "celle au score le plus bas, chacune avec sa valeur brute. Ils se lisent par rapport "
            "aux échelles fixes de qpvgeo : ce ne sont pas des jugements sur le quartier. Les "
            "composantes « non évaluées » sont citées à la fin."
        ),
        new_code_cell(
            "for line in updated.sort_values('lib_com')['viability_text']:\n"
            "    print(line)"
        ),
        new_markdown_cell(
            "## Carte de la lecture de viabilité\n\n"
            "Les QPV sont colorés selon leur lecture, par classes fixes ; l'infobulle donne le "
            "score, le rang et son intervalle, le texte, les composantes lues et celles qui "
            "manquent (avec la raison). Un contour en pointillés signale une lecture partielle, "
            "sans les composantes qui demandent un réseau : deux QPV lus sur des composantes "
            "différentes ne se comparent pas par la couleur seule."
        ),
        new_code_cell("workshop.viability_map(result.qpv, updated)"),
    ],
    "06-scenarios.ipynb": [
        intro(
            "Scénarios « et si… » : une passerelle, une rue fermée, un commerce qui ouvre",
            "Ce carnet essaie des changements sur un quartier et mesure ce qu'ils changent : une "
            "passerelle ou une traversée (`add_link`), une rue fermée (`remove_link`), un commerce "
            "ou un service qui ouvre (`add_equipment`) ou qui ferme (`remove_equipment`). Un "
            "scénario est un fichier GeoJSON, une entité par changement, dessiné par exemple dans "
            "QGIS ou sur geojson.io (format décrit dans `docs/methods.md`, section « Scénarios »). "
            "Tous les indicateurs du quartier sont recalculés avec le changement : temps de "
            "marche, parts d'habitants à moins de 5, 10 et 15 min, traversées et détours, offre "
            "par habitant (2SFCA), achats faits près du quartier (Huff), passage dans les rues, "
            "couplage et lecture de viabilité. L'exemple est une passerelle piétonne au-dessus du "
            "RER C, à l'est de La Croix de Vernailles (Étampes) : un tracé d'essai, pas un projet.",
        ),
        parameters(
            '\nSCENARIO = "../docs/scenarios/etampes-passerelle-rer-c.geojson"  # le fichier du scénario'
            '\nSCENARIO_QPV = ["QN09137M"]  # les QPV concernés (La Croix de Vernailles, Étampes)'
        ),
        new_code_cell(
            "import geopandas as gpd\n\n"
            "from qpvgeo import pipeline\nfrom qpvgeo.data.scenarios import read_scenario\n"
            "from qpvgeo.outputs.scenario import scenario_map\n"
            "from qpvgeo.pipeline import scenario\n\n"
            f"{LOAD}\n"
            "result.indicators.loc[SCENARIO_QPV, ['lib_qp', 'lib_com', 'network_status', "
            "'network_kind', 'walk_min_median_supermarche', 'n_crossings', 'detour_supermarche']]"
        ),
        new_markdown_cell(
            "Ci-dessus, la situation actuelle du quartier. Un QPV sans réseau de rues "
            "(`network_status` = `absent`) n'est pas évalué : le scénario le dit « non évalué » "
            "et n'invente aucune valeur. " + DRIVE_NETWORKS + "\n\n"
            "## Le scénario\n\n"
            "Chaque entité porte une propriété `action` et, au choix, un `name`. Le fichier est "
            "vérifié entièrement avant tout calcul : une action inconnue, une catégorie absente "
            "de la nomenclature ou un fichier sans système de coordonnées sont refusés avec un "
            "message qui nomme l'entité en cause."
        ),
        new_code_cell("changes = read_scenario(SCENARIO)\nchanges[['feature', 'action', 'name']]"),
        new_markdown_cell(
            "## Appliquer le scénario\n\n"
            "`scenario.baseline` charge les données et les réseaux des QPV concernés et calcule la "
            "situation de référence ; `scenario.run_scenario` applique les changements et "
            "recalcule tous les indicateurs, en quelques secondes : assez vite pour essayer des "
            "idées en atelier. Les extrémités d'une passerelle sont raccordées à la rue la plus "
            "proche (à 50 m au plus, sinon le scénario est refusé) ; personne n'habite sur la "
            "passerelle : les habitants la rejoignent par les rues. La colonne `effect` dit ce "
            "qui a été fait."
        ),
        new_code_cell(
            "base = scenario.baseline(DEP, SCENARIO_QPV, data_dir=DATA_DIR, offline=OFFLINE)\n"
            "footbridge = scenario.run_scenario(base, changes)\n"
            "footbridge.changes[['feature', 'action', 'effect']]"
        ),
        new_markdown_cell(
            "## Ce qui change\n\n"
            "Une ligne par quartier et par indicateur qui change : valeur `before` (avant), "
            "`after` (après), `change` (après − avant) et unité. C'est le contenu de "
            "`tables/scenario_diff.csv` qu'écrit la commande `qpvgeo scenario` (qui garde aussi "
            "les indicateurs inchangés). Un temps qui baisse, une part d'habitants à moins de "
            "10 min qui monte, un détour qui baisse : le quartier s'ouvre."
        ),
        new_code_cell(
            "diff = footbridge.diff\n"
            "diff[diff['change'].abs() > 1e-9].round(2)"
        ),
        new_markdown_cell(
            "## Qui y gagne\n\n"
            "Un point par lieu de résidence des habitants du quartier, coloré selon la variation "
            "de son temps de marche jusqu'à l'équipement le plus proche (vert : il gagne du "
            "temps ; gris : inchangé). Une couche par catégorie dans le menu en haut à droite. "
            "La passerelle ne sert qu'une partie du quartier : ceux dont le plus court chemin "
            "ne l'emprunte pas gardent exactement leur temps."
        ),
        new_code_cell("scenario_map(footbridge)"),
        new_markdown_cell(
            "## Un autre scénario : une boulangerie qui ouvre\n\n"
            "Un scénario peut aussi se construire directement dans le carnet. Ici, une "
            "boulangerie à côté du supermarché, de l'autre côté du RER C (coordonnées en "
            "Lambert-93, EPSG:2154). Seuls changent les temps des habitants dont elle devient la "
            "boulangerie la plus proche."
        ),
        new_code_cell(
            "bakery = gpd.GeoDataFrame(\n"
            "    {'action': ['add_equipment'], 'category': ['boulangerie'], "
            "'name': ['Boulangerie près du supermarché']},\n"
            "    geometry=gpd.points_from_xy([638640.0], [6816230.0]), crs=2154,\n"
            ")\n"
            "shop = scenario.run_scenario(base, bakery)\n"
            "times = shop.origins[['walk_min_boulangerie_before', 'walk_min_boulangerie_after', "
            "'walk_min_boulangerie_change']]\n"
            "print(f\"{int((times['walk_min_boulangerie_change'] < 0).sum())} lieux de résidence sur "
            "{len(times)} gagnent du temps\")\n"
            "times.describe().round(1)"
        ),
        new_markdown_cell(
            "## En atelier\n\n"
            "Depuis le dossier du projet, la commande écrit le tableau, la carte et la fiche du "
            "quartier avec une section « Scénario » :\n\n"
            "```bash\n"
            "qpvgeo scenario docs/scenarios/etampes-passerelle-rer-c.geojson --dep 91 "
            "--qpv QN09137M --offline --out atelier-passerelle\n"
            "```\n\n"
            "Elle écrit `atelier-passerelle/tables/scenario_diff.csv`, "
            "`atelier-passerelle/maps/scenario.html` et "
            "`atelier-passerelle/maps/fiches/QN09137M.html`."
        ),
    ],
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    main()
