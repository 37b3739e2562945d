"""The profile of a QPV in plain French (strengths and levers) and the glossary of the fiches.

A workshop page shows a QPV's profile, not its rank: each component of the
viability reading (:data:`qpvgeo.indicators.viability.COMPONENTS`) is said in
plain words with its value, which way is favourable and the reference it is
read against (the anchors of the fixed scale: for population and poverty,
the 10th and 90th percentiles of the QPV of France). A component scored at
least :data:`STRENGTH_MIN` is an « atout », at most :data:`LEVER_MAX` a
« levier » (a point to work on); wording speaks of the local market and
purchasing power, never of the residents' weaknesses. Model outputs read as
estimates (« d'après le modèle de Huff, environ … »).
"""

from __future__ import annotations

import math

import pandas as pd

from ..indicators import viability
from .labels_fr import fr_number, num

#: a component scored at least this is a strength (scores run from 0 to 1, 1 favourable)
STRENGTH_MIN = 0.6
#: a component scored at most this is a lever
LEVER_MAX = 0.4


def _pct(v: float) -> str:
    return f"{fr_number(v, 0)} %"


def _phrase(component: str, value: float) -> tuple[str, str]:
    """(what the value says, the reference it is read against) for one component."""
    col, lo, hi, _, _ = viability.COMPONENTS[component]
    if component == "demande":
        return (f"{fr_number(value, 0)} habitants dans le quartier",
                f"8 QPV de France sur 10 comptent entre {fr_number(lo, 0)} et {fr_number(hi, 0)} "
                "habitants")  # fmt: skip
    if component == "pouvoir_achat":
        return (f"taux de pauvreté de {_pct(value)} (chiffre officiel, INSEE)",
                f"8 QPV de France sur 10 sont entre {_pct(hi)} et {_pct(lo)} ; plus le taux "
                "est bas, plus le marché local dépense")  # fmt: skip
    if component == "captation":
        return (f"d'après le modèle de Huff, environ {_pct(value)} des achats alimentaires des "
                "habitants se feraient près du quartier (estimation)",
                "plus la part est haute, plus les commerces proches captent la dépense locale")  # fmt: skip
    if component == "offre_proximite":
        return (f"{_pct(value)} de la gamme de proximité INSEE à moins de 10 min à pied",
                "100 % : toute la gamme à portée")
    if component == "passage":
        return (f"passage dans les rues du quartier : {fr_number(value, 2)} fois celui des "
                "rues alentour (estimation par le réseau)",
                "1 : autant de passage qu'alentour ; au-dessus, plus de passants devant les vitrines")  # fmt: skip
    if component == "ouverture":
        return (f"indice d'enclavement de {fr_number(value, 2)} (0 = quartier ouvert, "
                "1 = très enclavé)",
                "plus l'indice est bas, plus le quartier s'ouvre sur les rues voisines")  # fmt: skip
    if component == "couplage":
        return (f"{_pct(value)} des commerces à 5 min ou moins d'un service public",
                "plus la part est haute, plus commerces et services se renforcent")  # fmt: skip
    return (f"{col} : {fr_number(value, 2)}", "")


def profile(ind: pd.DataFrame, code: str) -> dict[str, list[dict[str, str]]]:
    """The strengths (``atouts``), levers (``leviers``) and middling components (``moyens``).

    Each item: ``titre`` (the component, as in the methods page), ``texte``
    (the value in plain words), ``reference`` (what it is read against),
    ``score`` (« 0,72 sur 1 », 1 always favourable). Components without a
    value are left out (the fiche lists them as « non évaluées »).
    """
    out: dict[str, list[dict[str, str]]] = {"atouts": [], "leviers": [], "moyens": []}
    for comp, (col, *_, label) in viability.COMPONENTS.items():
        score = num(ind.at[code, f"score_{comp}"]) if f"score_{comp}" in ind.columns else math.nan
        value = num(ind.at[code, col]) if col in ind.columns else math.nan
        if math.isnan(score) or math.isnan(value):
            continue
        texte, reference = _phrase(comp, value)
        item = {"titre": label[0].upper() + label[1:], "texte": texte, "reference": reference,
                "score": f"{fr_number(score, 2)} sur 1"}  # fmt: skip
        key = "atouts" if score >= STRENGTH_MIN else "leviers" if score <= LEVER_MAX else "moyens"
        out[key].append(item)
    return out


#: the glossary of the fiches: (anchor, term, one-line French explanation)
GLOSSARY: tuple[tuple[str, str, str], ...] = (
    ("g-2sfca", "2SFCA, E2SFCA (offre pour 1 000 habitants)",
     "Méthode « à deux étapes » : chaque équipement partage sa capacité entre les habitants qui "
     "l'atteignent à pied en 15 min, puis on additionne ce que chaque habitant peut atteindre. "
     "La version « à noyau gaussien » compte moins les équipements plus éloignés."),
    ("g-huff", "Modèle de Huff",
     "Modèle classique de géographie du commerce : chaque habitant répartit ses achats entre les "
     "magasins selon leur taille et leur distance. Il donne une estimation, pas une mesure."),
    ("g-clq", "CLQ (quotient de co-localisation)",
     "Compare le nombre de services publics proches des commerces à ce qu'on attendrait si les "
     "lieux étaient placés au hasard : au-dessus de 1, ils sont plus souvent ensemble."),
    ("g-p", "p (valeur p)",
     "Probabilité d'obtenir un tel écart par le seul hasard : sous 0,05, l'écart est jugé net."),
    ("g-isochrone", "Zone atteinte à pied (isochrone)",
     "Espace que l'on peut atteindre en marchant par les rues en 5, 10 ou 15 min."),
    ("g-polarite", "Polarité",
     "Groupe d'au moins 3 lieux (commerces, services publics) reliés de proche en proche par "
     "moins de 150 m de marche."),
    ("g-enclavement", "Indice d'enclavement",
     "De 0 (quartier ouvert) à 1 (très enclavé) : peu de traversées des coupures, longs détours."),
    ("g-lecture", "Lecture de viabilité",
     "De 0 à 1, moyenne pondérée des composantes évaluées, chacune sur une échelle fixe : une "
     "aide à la discussion, pas un classement des quartiers."),
)  # fmt: skip

#: words of a key-figure label → the glossary entry it links to
GLOSSARY_LINKS = {
    "2SFCA": "g-2sfca",
    "Huff": "g-huff",
    "(CLQ)": "g-clq",
    "enclavement": "g-enclavement",
    "polarités": "g-polarite",
}


def glossary_anchor(label: str) -> str:
    """The glossary anchor a key-figure label links to (``""`` for none)."""
    return next((a for word, a in GLOSSARY_LINKS.items() if word in label), "")
