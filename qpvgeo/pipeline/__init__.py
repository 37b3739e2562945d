"""The main job, one module per stage; :func:`~qpvgeo.pipeline.job.run` reads as their list.

1. :mod:`~qpvgeo.pipeline.load`: the official data, into a :class:`RunContext`;
2. :mod:`~qpvgeo.pipeline.networks`: the street network of each QPV and its coverage (cut
   from local OSM extracts by :mod:`~qpvgeo.pipeline.extracts` when there are some);
3. :mod:`~qpvgeo.pipeline.access`: walking access, 2SFCA, Huff, isochrones;
4. :mod:`~qpvgeo.pipeline.flows`: pedestrian flows and localised centrality;
5. :mod:`~qpvgeo.pipeline.enclavement`: barriers, crossings, street structure, detours;
6. :mod:`~qpvgeo.pipeline.coupling`: shops with public services;
7. :mod:`~qpvgeo.pipeline.job`: the viability reading, the table and the notes
   (:mod:`~qpvgeo.pipeline.notes`).

:mod:`~qpvgeo.pipeline.saved` keeps a run for later: :func:`save_result` writes it beside the
outputs (``tables/run.pkl`` and its key ``tables/run.json``), :func:`load_or_run` reloads it
while its parameters, data files and code are unchanged, and runs the pipeline otherwise.
"""

from .context import RunContext, RunResult
from .job import run
from .networks import COVERED, NONE, PARTIAL, QpvNetworks, build_networks, walk_network_file
from .saved import load_or_run, save_result

__all__ = [
    "COVERED",
    "NONE",
    "PARTIAL",
    "QpvNetworks",
    "RunContext",
    "RunResult",
    "build_networks",
    "load_or_run",
    "run",
    "save_result",
    "walk_network_file",
]
