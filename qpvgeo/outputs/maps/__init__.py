from ._old_maps import *  # noqa: F403  (temporary during the split)
from ._old_maps import MAPS, export_maps
