"""Global settings of qpvgeo.

Plain module variables, read at call time, so that changing them
(``qpvgeo.settings.walk_speed_kmh = 4.0``) affects later calls.

Attributes
----------
crs : str
    Projected CRS of every layer qpvgeo returns: Lambert-93 (EPSG:2154), metres.
walk_speed_kmh : float
    Walking speed used to turn network distances into minutes (4.5 km/h,
    a usual value for urban pedestrians of all ages). Values outside 2–7 km/h
    are refused (:data:`qpvgeo.network.build.WALK_SPEED_RANGE_KMH`).
max_snap_m : float
    Largest distance a point (resident origin, shop) may be moved to reach the
    nearest street edge. Farther points are reported, never silently moved.
detour_factor : float
    Ratio of network to straight-line distance used by the *opt-in*
    crow-fly fallback where a QPV has no street network (1.3: the median
    pedestrian detour index reported for French urban areas is 1.2 to 1.4).
origin_spacing_m : float
    Spacing of the regular grid of residents' origins laid inside each QPV.
equipment_buffer_m : float
    Equipments up to this distance outside the département still count
    (edge effects): residents of a border QPV shop on both sides.
time_thresholds_min : tuple of int
    Walking-time thresholds (minutes) of the "share within" summaries.
data_dir : str or None
    Data directory; ``None`` means ``$QPVGEO_DATA_DIR`` or else ``./data``.
offline : bool
    When True, a missing file is an error instead of a download.
accept_changed_data : bool
    When True, a data file whose SHA-256 differs from the one published in the
    catalogue or recorded in ``checksums.json`` is used anyway, with a note in
    the run and ``checksum_ok: false`` in the provenance (``qpvgeo run
    --accept-changed-data``). By default such a file stops the run.
workers : int or None
    Processes that draw the slide images in parallel; ``None`` means one per
    core (``os.cpu_count()``), 1 draws them one by one.
download_retries : int
    How many times a failed OpenStreetMap (Overpass) download is retried: an
    answer HTTP 429 or 504 (busy server), a timeout, a cut or truncated answer.
    Then the run stops with one error saying what to do.
download_backoff_s : float
    Pause before the first retry (s), doubled at each following retry
    (10, 20, 40 s by default).
cache_dir : str or None
    Where compiled street networks are kept between runs; ``None`` means
    ``$QPVGEO_CACHE_DIR``, else ``$XDG_CACHE_HOME/qpvgeo``, else ``~/.cache/qpvgeo``.
"""

from __future__ import annotations

crs: str = "EPSG:2154"
walk_speed_kmh: float = 4.5
max_snap_m: float = 150.0
detour_factor: float = 1.3
origin_spacing_m: float = 50.0
equipment_buffer_m: float = 3000.0
time_thresholds_min: tuple[int, ...] = (5, 10, 15)
data_dir: str | None = None
offline: bool = False
accept_changed_data: bool = False
cache_dir: str | None = None
download_retries: int = 3
download_backoff_s: float = 10.0
workers: int | None = None


def worker_count() -> int:
    """:data:`workers`, or the number of cores when it is ``None``."""
    import os

    return max(1, int(workers)) if workers is not None else (os.cpu_count() or 1)
