"""The Overpass download path, end to end, against a local Overpass-like server.

The server (:mod:`tests.network.overpass_server`) answers osmnx's queries from the
mirror's raw OSM extract of Palaiseau; osmnx's ``overpass_url`` points at it and any
connection to another host fails the test (no internet is ever used).
"""

from __future__ import annotations

import logging
import socket

import geopandas as gpd
import numpy as np
import osmnx as ox
import pytest
import shapely
from shapely.geometry import box

from qpvgeo import settings
from qpvgeo._errors import DownloadError
from qpvgeo.data import barriers, sources
from qpvgeo.outputs import export, labels_fr
from qpvgeo.pipeline import networks

from .overpass_server import Extract, OverpassServer

pytestmark = pytest.mark.mirror

EXTRACT = "osm/essonne_palaiseau-orsay-saclay_2026-01-08.osm.bz2"
OSM_BASE = "2026-01-08T06:25:44Z"  # the extract's <meta osm_base>
#: a small perimeter in Palaiseau, inside the extract (EPSG:2154)
PERIMETER = shapely.Point(2.2045, 48.7128)
CODE = "PALAIS01"
#: highway values osmnx's "walk" filter leaves out (its documented network type)
NOT_WALK = {"abandoned", "bus_guideway", "construction", "cycleway", "motorway", "motorway_link",
            "no", "planned", "platform", "proposed", "raceway", "razed", "rest_area", "services"}  # fmt: skip


@pytest.fixture(scope="session")
def extract(data_dir) -> Extract:
    return Extract.read(data_dir / EXTRACT)


@pytest.fixture(scope="session")
def server(extract):
    srv = OverpassServer(extract)
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Any connection to a host other than this machine fails the test."""
    contacted = []
    real = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        contacted.append(host)
        if host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"a test tried to reach {address!r}: tests use no internet")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield contacted
    assert set(contacted) <= {"127.0.0.1"}


@pytest.fixture
def overpass(server, monkeypatch, tmp_path):
    """osmnx pointed at the local server (no rate-limit status requests, cache in tmp), and
    qpvgeo's retries with tiny pauses."""
    server.reset()
    monkeypatch.setattr(ox.settings, "overpass_url", server.url)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "cache_folder", str(tmp_path / "osmnx_cache"))
    monkeypatch.setattr(ox.settings, "requests_timeout", 10)
    monkeypatch.setattr(settings, "download_retries", 3)
    monkeypatch.setattr(settings, "download_backoff_s", 0.01)
    assert ox.settings.overpass_rate_limit is False
    sources.reset_used()
    yield server
    assert not (tmp_path / "osmnx_cache").exists()  # qpvgeo's saved files are the cache
    sources.reset_used()


def interpreter_requests(server) -> int:
    return sum(p.endswith("/interpreter") for p in server.requests)


def perimeter(radius_m: float = 150.0):
    """One perimeter (a disc in Palaiseau) and a grid of residents' origins inside it."""
    centre = gpd.GeoSeries([PERIMETER], crs=4326).to_crs(settings.crs).iloc[0]
    geom = centre.buffer(radius_m)
    qpv = gpd.GeoDataFrame({"lib_qp": ["Palaiseau centre"]}, geometry=[geom], crs=settings.crs)
    qpv.index = [CODE]
    x0, y0, x1, y1 = geom.bounds
    pts = [shapely.Point(x, y) for x in np.arange(x0, x1, 50) for y in np.arange(y0, y1, 50)]
    pts = [p for p in pts if geom.contains(p)]
    origins = gpd.GeoDataFrame(
        {"code_qp": [CODE] * len(pts), "population": 1.0}, geometry=pts, crs=settings.crs
    )
    return qpv, origins


@pytest.fixture
def small_buffer(monkeypatch):
    monkeypatch.setattr(networks, "NETWORK_BUFFER_M", 200.0)  # a small download, fast


def _flat(values) -> set[int]:
    out = set()
    for v in values:
        out.update(int(x) for x in (v if isinstance(v, list) else [v]))
    return out


def test_walk_network_downloaded_saved_and_dated(overpass, small_buffer, tmp_path, extract):
    qpv, origins = perimeter()
    result = networks.build_networks(qpv, origins, data_dir=tmp_path, offline=False)
    row = result.table.loc[CODE]
    assert row["network_kind"] == "walk" and row["network_status"] == "couvert"
    assert row["network_source"] == f"{CODE}.graphml"
    assert row["network_osm_date"] == "2026-01-08"
    assert interpreter_requests(overpass) == 1
    assert '(way["highway"]' in overpass.queries[0] and '["foot"!~"no"]' in overpass.queries[0]
    # the saved network keeps the OSM date of the answer
    saved = tmp_path / networks.walk_network_file(CODE)
    G = ox.load_graphml(saved)
    assert G.graph["osm_base"] == OSM_BASE
    # checked against the raw extract: every edge is a walkable OSM way ...
    ways = _flat(d["osmid"] for _, _, d in G.edges(data=True))
    assert ways and ways <= set(extract.ways)
    for w in ways:
        tags = extract.ways[w][1]
        assert tags["highway"] not in NOT_WALK and tags.get("foot") != "no", (w, tags)
    assert any(extract.ways[w][1]["highway"] in ("footway", "path", "pedestrian") for w in ways)
    # ... and every walkable way lying wholly inside the perimeter is in the network
    area = gpd.GeoSeries([qpv.geometry.iloc[0]], crs=settings.crs).to_crs(4326).iloc[0]
    inside = {
        w for w, (refs, tags) in extract.ways.items()
        if tags.get("highway") and tags["highway"] not in NOT_WALK and tags.get("foot") != "no"
        and tags.get("access") != "private" and tags.get("service") != "private"
        and tags.get("area") != "yes" and "separate" not in (tags.get("sidewalk"), tags.get("sidewalk:both"))
        and all(n in extract.nodes for n in refs)
        and all(area.contains(shapely.Point(extract.nodes[n][1::-1])) for n in refs)
    }  # fmt: skip
    assert len(inside) > 10 and inside <= ways
    # provenance: the OSM date of the answer; outputs: « OSM au 08/01/2026 »
    record = export.provenance({}, [])
    assert record["osm_data"] == [
        {"what": f"walk network {CODE}", "source": f"Overpass API {overpass.url}",
         "osm_base": OSM_BASE, "file": str(saved)}
    ]  # fmt: skip
    text = labels_fr.status_long(result.table, CODE)
    assert text == "couvert (réseau piéton OpenStreetMap (rues et cheminements), OSM au 08/01/2026)"


def test_second_run_sends_no_request(overpass, small_buffer, tmp_path):
    qpv, origins = perimeter()
    first = networks.build_networks(qpv, origins, data_dir=tmp_path, offline=False)
    assert interpreter_requests(overpass) == 1
    sources.reset_used()
    overpass.reset()
    again = networks.build_networks(qpv, origins, data_dir=tmp_path, offline=False)
    assert overpass.requests == []
    assert again.table.equals(first.table)
    assert sources.osm_used()[0]["osm_base"] == OSM_BASE  # read back from the saved file


@pytest.mark.parametrize("failure", [429, "truncate"])
def test_one_failure_is_retried(overpass, small_buffer, tmp_path, caplog, failure):
    overpass.script = [failure]
    qpv, origins = perimeter()
    with caplog.at_level(logging.WARNING, logger="qpvgeo.network.overpass"):
        result = networks.build_networks(qpv, origins, data_dir=tmp_path, offline=False)
    assert interpreter_requests(overpass) == 2
    assert result.table.at[CODE, "network_kind"] == "walk"
    assert result.table.at[CODE, "network_osm_date"] == "2026-01-08"
    [retry] = [r.getMessage() for r in caplog.records]
    assert f"QPV {CODE}" in retry and "retry 1/3 in 0.01 s" in retry


def _drive_network_in(tmp_path, data_dir):
    """The data directory holds the mirror's drive network that covers Palaiseau (linked)."""
    name = sources.CATALOGUE["network_saclay"].files[0]
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).symlink_to(data_dir / name)


@pytest.mark.parametrize(
    ("always", "said"),
    [
        (504, "failed after 4 attempt(s): the server answered HTTP 504"),
        ("cut", "failed after 4 attempt(s): the answer is truncated: the connection closed"),
        (
            "remark",
            "failed after 4 attempt(s): the answer is incomplete (Overpass remark: "
            "'runtime error: Query timed out",
        ),  # fmt: skip
    ],
)
def test_a_failed_download_is_one_clear_error_never_a_fallback(
    overpass, small_buffer, tmp_path, data_dir, always, said
):
    if always == 504:  # a drive network is there: it must not stand in
        _drive_network_in(tmp_path, data_dir)
    overpass.always = always
    qpv, origins = perimeter()
    with pytest.raises(DownloadError) as err:
        networks.build_networks(qpv, origins, data_dir=tmp_path, offline=False)
    message = str(err.value)
    assert message.startswith(f"download of the OpenStreetMap walk network of QPV {CODE} ")
    assert said in message and overpass.url in message
    assert "Retry later" in message and "--osm-extract FILE" in message
    assert f"'osm/walk/{CODE}.graphml'" in message and "--offline" in message
    assert interpreter_requests(overpass) == 4  # 1 + settings.download_retries
    assert not (tmp_path / networks.walk_network_file(CODE)).exists()


def test_timeout(overpass, small_buffer, tmp_path, monkeypatch):
    monkeypatch.setattr(ox.settings, "requests_timeout", 0.3)
    monkeypatch.setattr(settings, "download_retries", 1)
    overpass.always = ("sleep", 1.0)
    qpv, origins = perimeter()
    with pytest.raises(DownloadError, match=rf"QPV {CODE} .*failed after 2 attempt\(s\): no answer "
                       r"within 0.3 s \(timeout\)\. Retry later"):  # fmt: skip
        networks.build_networks(qpv, origins, data_dir=tmp_path, offline=False)
    assert interpreter_requests(overpass) == 2


def test_offline_sends_nothing_and_says_non_evalue(overpass, small_buffer, tmp_path):
    qpv, origins = perimeter()
    result = networks.build_networks(qpv, origins, data_dir=tmp_path, offline=True)
    assert overpass.requests == []
    assert result.table.at[CODE, "network_status"] == "absent"
    assert result.table.at[CODE, "network_scope"] == "non évalué (pas de réseau de rues)"


# --- barriers -------------------------------------------------------------------------------

BARRIER_FILES = ("communes", "rail_lines")


@pytest.fixture
def barrier_dir(tmp_path, data_dir):
    """A data directory with the communes and rail lines of the mirror, and no Seine file."""
    root = tmp_path / "data"
    for key in BARRIER_FILES:
        name = sources.CATALOGUE[key].files[-1]
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(data_dir / name)
    return root


def test_barriers_downloaded_saved_and_dated(overpass, barrier_dir, extract):
    got = barriers.load_barriers("91", data_dir=barrier_dir, offline=False)
    assert got.assessed == {"rail": "yes", "water": "yes", "road": "yes"}
    assert interpreter_requests(overpass) >= 1
    osm = got.lines[got.lines["source"] == "OSM"]
    # against the raw extract: the motorway and trunk ways (and links) not in a tunnel
    roads = {
        w for w, (refs, tags) in extract.ways.items()
        if tags.get("highway") in ("motorway", "motorway_link", "trunk", "trunk_link")
        and tags.get("tunnel") not in ("yes", "building_passage", "culvert")
        and sum(n in extract.nodes for n in refs) >= 2
    }  # fmt: skip
    assert len(roads) > 5
    assert (osm["kind"] == "road").sum() == len(roads)
    assert {"N 118", "A 126"} <= set(osm.loc[osm["kind"] == "road", "name"])
    rails = sum(t.get("railway") == "rail" for _, t in extract.ways.values())
    assert (osm["kind"] == "rail").sum() == rails > 0
    assert "L'Yvette" in set(osm.loc[osm["kind"] == "water", "name"])
    saved = barrier_dir / barriers.OSM_BARRIERS_FILE.format(dep="91")
    assert set(gpd.read_file(saved)["osm_base"]) == {OSM_BASE}
    assert {"what": "barriers 91", "source": f"Overpass API {overpass.url}", "osm_base": OSM_BASE,
            "file": str(saved)} in sources.osm_used()  # fmt: skip
    # a second run reads the saved file: no request, the same lines, the same OSM date
    overpass.reset()
    sources.reset_used()
    again = barriers.load_barriers("91", data_dir=barrier_dir, offline=False)
    assert overpass.requests == []
    assert len(again.lines) == len(got.lines)
    assert sources.osm_used()[0]["osm_base"] == OSM_BASE


def test_barrier_download_failure_is_one_clear_error(overpass, barrier_dir):
    overpass.always = 504
    with pytest.raises(DownloadError, match=r"OpenStreetMap barriers around département 91 .*"
                       r"HTTP 504 Gateway Timeout\. Retry later .*--osm-extract FILE.*osm_barriers_91\.gpkg"):  # fmt: skip
        barriers.load_barriers("91", data_dir=barrier_dir, offline=False)
    assert not (barrier_dir / barriers.OSM_BARRIERS_FILE.format(dep="91")).exists()


def test_a_missing_seine_file_is_the_same_note_offline_and_online(overpass, barrier_dir):
    seine = sources.CATALOGUE["seine"].files[-1]
    note = f"no water barrier file ({seine!r}): not assessed"
    off = barriers.load_barriers("91", data_dir=barrier_dir, offline=True)
    assert overpass.requests == []
    on = barriers.load_barriers("91", data_dir=barrier_dir, offline=False)
    assert note in off.notes and note in on.notes
    # offline the OSM layers are not assessed either; online they come from the download
    assert off.assessed == {"rail": "yes", "water": "no", "road": "no"}
    assert on.assessed == {"rail": "yes", "water": "yes", "road": "yes"}


def test_rail_file_missing_online_is_downloaded_offline_is_a_note(
    overpass, tmp_path, data_dir, monkeypatch
):
    """A file with a download address: offline a note, online the (monkeypatched) download."""
    root = tmp_path / "data"
    name = sources.CATALOGUE["communes"].files[-1]
    (root / name).parent.mkdir(parents=True)
    (root / name).symlink_to(data_dir / name)
    off = barriers.load_barriers("91", data_dir=root, offline=True)
    rail = sources.CATALOGUE["rail_lines"]
    assert f"no rail barrier file ({rail.files[-1]!r}): not assessed" in off.notes
    fetched = []

    def download(ds, root_):
        fetched.append(ds.key)
        target = root_ / ds.files[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(data_dir / ds.files[-1])
        return target

    monkeypatch.setattr(sources, "_download", download)
    monkeypatch.setattr(sources, "_check_integrity", lambda *a, **k: None)
    on = barriers.load_barriers("91", data_dir=root, offline=False)
    assert fetched == ["rail_lines"] and on.assessed["rail"] == "yes"
    assert box(*on.lines.total_bounds).area > 0


def test_a_refused_query_or_an_empty_answer_is_not_retried(overpass, small_buffer, tmp_path):
    """HTTP 400 (a query the server refuses) and an answer with no way are errors at once."""
    qpv, origins = perimeter()
    overpass.always = 400
    with pytest.raises(DownloadError, match=rf"walk network of QPV {CODE} .* failed: "
                       r"ResponseStatusCodeError: .*400.*--osm-extract FILE"):  # fmt: skip
        networks.build_networks(qpv, origins, data_dir=tmp_path, offline=False)
    assert interpreter_requests(overpass) == 1
    overpass.reset()
    far = qpv.set_geometry(qpv.geometry.translate(30_000, 0))  # 30 km east: outside the extract
    with pytest.raises(DownloadError, match=rf"walk network of QPV {CODE} .* failed: "
                       r"InsufficientResponseError: "):  # fmt: skip
        networks.build_networks(far, origins, data_dir=tmp_path, offline=False)
    assert interpreter_requests(overpass) == 1
    assert not (tmp_path / networks.walk_network_file(CODE)).exists()


# --- the whole run -------------------------------------------------------------------------


def test_an_online_run_downloads_from_the_server_and_records_the_osm_date(
    overpass, tmp_path, data_dir
):
    """``pipeline.run`` on a connected machine: a walk network per QPV and the barriers of the
    département from the (local) Overpass server, dated in the provenance; no drive network."""
    from qpvgeo import pipeline

    root = tmp_path / "data"
    for f in data_dir.rglob("*"):
        if f.is_file():
            (root / f.relative_to(data_dir)).parent.mkdir(parents=True, exist_ok=True)
            (root / f.relative_to(data_dir)).symlink_to(f)
    code = "QN09140N"  # Les Ulis Est: the extract's nearest way is 1.4 km away (mirror README)
    result = pipeline.run("91", [code], data_dir=root, offline=False)
    assert interpreter_requests(overpass) == 2  # its walk network, the barriers of 91
    # downloaded and saved, but no street of the extract reaches its residents: non évalué
    assert (root / networks.walk_network_file(code)).is_file()
    row = result.indicators.loc[code]
    assert row["network_status"] == "absent" and row["network_source"] is None
    assert (
        f"1 QPV have no street network reaching their residents in OpenStreetMap: {code}; "
        "their access values are left empty" in result.messages
    )
    assert result.barriers.assessed == {"rail": "yes", "water": "yes", "road": "yes"}
    assert not np.isnan(row["share_perimeter_road_pct"])
    record = export.provenance(result.parameters, result.messages)
    assert [(r["what"], r["osm_base"]) for r in record["osm_data"]] == [
        ("barriers 91", OSM_BASE), (f"walk network {code}", OSM_BASE)
    ]  # fmt: skip
    assert not any(f["dataset"].startswith("network_") for f in record["data_files"])
