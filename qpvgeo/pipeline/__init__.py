"""The main job, stage after stage: load → networks → access → flows → enclavement →
coupling → viability; :func:`run` reads as that list."""

from .job import *  # noqa: F403  (split into stages below)
from .job import RunResult, run
