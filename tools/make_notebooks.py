"""Write the notebooks from their cell sources (stripped of outputs).

Run ``python tools/make_notebooks.py`` after editing a notebook's cells here;
notebooks are committed without outputs and executed by the test suite.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "notebooks"

PARAMETERS = """# Parameters: change them to run another territory
DEP = "91"            # département code
QPV = None            # None for every QPV of the département, or a list of codes
DATA_DIR = None       # None: $QPVGEO_DATA_DIR, else ./data
OFFLINE = True        # True: never download, use the data directory only
CROWFLY_FALLBACK = False  # where a QPV has no street network, estimate crow-fly times (labelled)"""

NOTEBOOKS = {
    "01-overview-access.ipynb": [
        new_markdown_cell(
            "# Essonne QPV: walking access to everyday shops and services\n\n"
            "Loads the official data for a département (ANCT QPV 2024, INSEE BPE 2024, IRIS "
            "population), puts residents and equipments on the street network, and reports per QPV "
            "the walking time to the nearest equipment of each everyday category. QPV without a "
            "street network in the data directory are flagged, not filled."
        ),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "import pandas as pd\n\n"
            "from qpvgeo import pipeline\nfrom qpvgeo.outputs import maps\n\n"
            "result = pipeline.run(DEP, QPV, data_dir=DATA_DIR, offline=OFFLINE, "
            "crowfly_fallback=CROWFLY_FALLBACK)\n"
            "for message in result.messages:\n"
            "    print('note:', message)"
        ),
        new_markdown_cell("## Street network available for each QPV"),
        new_code_cell("result.indicators['network_status'].value_counts()"),
        new_markdown_cell("## Indicator table (one row per QPV)"),
        new_code_cell(
            "cols = ['lib_qp', 'lib_com', 'network_status', 'access_method', 'population_qpv', 'poverty_rate_qpv_pct']\n"
            "cols += [c for c in result.indicators.columns if c.startswith('walk_min_median_')]\n"
            "result.indicators[cols].round(1)"
        ),
        new_markdown_cell("## Overview map"),
        new_code_cell("maps.overview_map(result.qpv, result.indicators, result.equipments)"),
    ],
    "02-access.ipynb": [
        new_markdown_cell(
            "# Walking access: nearest equipment, opportunities, competition, isochrones\n\n"
            "For each QPV with a street network: walking time to each everyday category (compared "
            "with the rest of the commune), equipments within 5 / 10 / 15 min, coverage of INSEE's "
            "*gamme de proximité*, competition-aware supply (2SFCA and Gaussian-kernel 2SFCA, per 1,000 residents, "
            "demand from the QPV and its surroundings), and the Huff share of food shopping done "
            "near the QPV."
        ),
        new_code_cell(PARAMETERS + '\nCATEGORY = "pharmacie"  # category of the access map', metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from qpvgeo import pipeline\nfrom qpvgeo.outputs import maps\n\n"
            "result = pipeline.run(DEP, QPV, data_dir=DATA_DIR, offline=OFFLINE, "
            "crowfly_fallback=CROWFLY_FALLBACK)\n"
            "covered = result.indicators['network_status'] != 'absent'\n"
            "print(f'{covered.sum()} QPV with a street network out of {len(covered)}')"
        ),
        new_markdown_cell("## Time to the nearest equipment: QPV vs rest of the commune (minutes)"),
        new_code_cell(
            "cats = ['boulangerie', 'pharmacie', 'medecin_generaliste', 'supermarche', 'gare']\n"
            "cols = ['lib_qp']\n"
            "for c in cats:\n"
            "    cols += [f'walk_min_median_{c}', f'walk_min_median_{c}_rest_commune']\n"
            "result.indicators.loc[covered, [c for c in cols if c in result.indicators]].round(1)"
        ),
        new_markdown_cell("## Opportunities within 10 min, gamme de proximité coverage"),
        new_code_cell(
            "cols = ['lib_qp', 'gamme_proximite_within_10min_pct'] + [c for c in result.indicators "
            "if c.startswith('n_') and c.endswith('_within_10min')]\n"
            "result.indicators.loc[covered, cols].round(1)"
        ),
        new_markdown_cell("## Competition-aware supply (per 1,000 residents) and Huff share"),
        new_code_cell(
            "cols = ['lib_qp'] + [c for c in result.indicators if c.startswith(('fca2_', 'g2sfca_'))]\n"
            "cols += ['huff_share_nearby_pct']\n"
            "result.indicators.loc[covered, cols].round(2)"
        ),
        new_markdown_cell("## Where QPV residents are expected to buy food (Huff), the busiest stores"),
        new_code_cell(
            "result.food_stores.sort_values('huff_expected_qpv_residents', ascending=False)"
            ".drop(columns='geometry').head(10).round(0)"
        ),
        new_markdown_cell("## Access map: isochrones over the equipments, Gaussian-kernel 2SFCA"),
        new_code_cell(
            "maps.access_map(result.qpv, result.indicators, result.equipments, result.isochrones, "
            "category=CATEGORY, focus=list(result.indicators.index[covered]))"
        ),
    ],
    "03-enclavement-flows.ipynb": [
        new_markdown_cell(
            "# Enclavement and pedestrian flows\n\n"
            "Barriers lining each QPV boundary (rail lines, the Seine; motorways when OSM data is "
            "available), crossings of the boundary by streets, internal street structure, detours "
            "to the station and the supermarket, a composite index with a CEREMA-like typology, "
            "and expected pedestrian flows with candidate shop locations."
        ),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from qpvgeo import pipeline\nfrom qpvgeo.indicators import enclavement\nfrom qpvgeo.outputs import maps\n\n"
            "result = pipeline.run(DEP, QPV, data_dir=DATA_DIR, offline=OFFLINE, "
            "crowfly_fallback=CROWFLY_FALLBACK)\n"
            "print('barriers assessed:', result.barriers.assessed)\n"
            "for note in result.barriers.notes:\n"
            "    print('note:', note)"
        ),
        new_markdown_cell("## Barriers for every QPV (no street network needed)"),
        new_code_cell(
            "cols = ['lib_qp', 'lib_com', 'share_perimeter_rail_pct', 'share_perimeter_water_pct', "
            "'share_perimeter_road_pct', 'share_ring200m_barrier_pct', 'main_barrier', 'enclavement_type']\n"
            "result.indicators[cols].sort_values('share_perimeter_rail_pct', ascending=False).round(1)"
        ),
        new_markdown_cell("## Crossings, street structure, detours and the composite index"),
        new_code_cell(
            "cols = ['lib_qp', 'network_status', 'n_crossings', 'crossings_per_km', "
            "'longest_without_crossing_m', 'intersection_density_per_km2', 'dead_end_share_pct', "
            "'mean_block_size_ha', 'detour_gare', 'detour_gare_p90', 'detour_supermarche', 'barrier_index', 'enclavement_index', "
            "'enclavement_components']\n"
            "result.indicators.loc[result.indicators['n_crossings'].notna(), cols].round(2)"
        ),
        new_markdown_cell("Weights and scales of the composite index (documented, changeable):"),
        new_code_cell("enclavement.COMPOSITE_COMPONENTS, enclavement.COMPOSITE_WEIGHTS"),
        new_markdown_cell("## Pedestrian flows and candidate locations"),
        new_code_cell(
            "cols = ['lib_qp', 'flow_p90_trips_qpv', 'n_candidate_segments']\n"
            "result.indicators.loc[result.indicators['flow_p90_trips_qpv'].notna(), cols].round(0)"
        ),
        new_code_cell(
            "maps.enclavement_map(result.qpv, result.indicators, result.barriers, result.streets, "
            "result.candidates, result.crossings, result.detours, result.equipments, "
            "focus=list(result.indicators.index[result.indicators['network_status'] != 'absent']))"
        ),
    ],
    "04-coupling.ipynb": [
        new_markdown_cell(
            "# Coupling of shops with public services\n\n"
            "Do shops and public services sit together, so that each brings footfall to the "
            "other? Co-location quotient of shops towards public services on walking-network "
            "neighbourhoods, with a seeded permutation test; each shop's nearest public service "
            "and the walking time to it; *polarités*, clusters of shops and services within a short "
            "walk of each other."
        ),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from qpvgeo import pipeline\nfrom qpvgeo.outputs import workshop\n\n"
            "result = pipeline.run(DEP, QPV, data_dir=DATA_DIR, offline=OFFLINE, "
            "crowfly_fallback=CROWFLY_FALLBACK)\n"
            "read = result.indicators['clq_commerce_services'].notna()\n"
            "print(f'coupling read for {read.sum()} QPV (those with a street network)')"
        ),
        new_markdown_cell(
            "## Co-location quotient per QPV\n\n"
            "Above 1: public services are over-represented around shops (within a few hundred "
            "metres' walk); `clq_p_colocation` is the permutation p-value."
        ),
        new_code_cell(
            "cols = ['lib_qp', 'clq_commerce_services', 'clq_p_colocation', "
            "'share_shops_service_5min_pct', 'n_polarites']\n"
            "result.indicators.loc[read, cols].round(3)"
        ),
        new_markdown_cell("## Shops farthest from a public service"),
        new_code_cell(
            "result.service_pairs.drop(columns='geometry').sort_values('walk_min', ascending=False)"
            ".head(10).round(1)"
        ),
        new_markdown_cell("## Polarités and their composition"),
        new_code_cell(
            "result.polarites.drop(columns='geometry').sort_values(['code_qp', 'n_places'], "
            "ascending=[True, False]).round(0)"
        ),
        new_code_cell(
            "workshop.coupling_map(result.qpv, result.equipments, result.service_pairs, "
            "result.polarites, codes=list(result.indicators.index[read]), indicators=result.indicators)"
        ),
    ],
    "05-viability.ipynb": [
        new_markdown_cell(
            "# Viability reading per QPV\n\n"
            "Each component is shown as it is, scored by its rank among the QPV of the run; the "
            "reading is their weighted mean over the components available. Change `WEIGHTS` to "
            "see how the reading moves; the sensitivity check gives the range of ranks under "
            "±50 % random weight changes."
        ),
        new_code_cell(
            PARAMETERS + "\nWEIGHTS = None  # e.g. {'demande': 2.0, 'ouverture': 2.0, 'couplage': 1.0}",
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell(
            "import pandas as pd\n\n"
            "from qpvgeo import pipeline\nfrom qpvgeo.indicators import viability\nfrom qpvgeo.outputs import workshop\n\n"
            "result = pipeline.run(DEP, QPV, data_dir=DATA_DIR, offline=OFFLINE, "
            "crowfly_fallback=CROWFLY_FALLBACK)\n"
            "pd.DataFrame(viability.COMPONENTS, index=['column', 'score 0 at', 'score 1 at', 'needs a network', 'label']).T"
            ".assign(weight=pd.Series(viability.WEIGHTS))"
        ),
        new_markdown_cell("## Reading with the chosen weights"),
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
        new_markdown_cell("## In plain words"),
        new_code_cell(
            "for line in updated.sort_values('lib_com')['viability_text']:\n"
            "    print(line)"
        ),
        new_code_cell("workshop.viability_map(result.qpv, updated)"),
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
