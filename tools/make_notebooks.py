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
            "from qpvgeo import maps, pipeline\n\n"
            "result = pipeline.run(DEP, QPV, data_dir=DATA_DIR, offline=OFFLINE, "
            "crowfly_fallback=CROWFLY_FALLBACK)\n"
            "for message in result.messages:\n"
            "    print('note:', message)"
        ),
        new_markdown_cell("## Street network available for each QPV"),
        new_code_cell("result.indicators['network_status'].value_counts()"),
        new_markdown_cell("## Indicator table (one row per QPV)"),
        new_code_cell(
            "cols = ['lib_qp', 'lib_com', 'network_status', 'access_method', 'population_est']\n"
            "cols += [c for c in result.indicators.columns if c.startswith('walk_min_median_')]\n"
            "result.indicators[cols].round(1)"
        ),
        new_markdown_cell("## Overview map"),
        new_code_cell("maps.overview_map(result.qpv, result.indicators, result.equipments)"),
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
