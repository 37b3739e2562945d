"""The catalogue, the data directory, downloads (against a local HTTP server) and provenance."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import json
import re
import threading
from pathlib import Path

import pytest

from qpvgeo import settings
from qpvgeo._errors import ChecksumError, DataNotFoundError, DownloadError, QpvgeoWarning
from qpvgeo.data import sources

PAYLOAD = b'{"type": "FeatureCollection", "features": []}\n'


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- data directory


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "data_dir", None)
    monkeypatch.delenv("QPVGEO_DATA_DIR", raising=False)
    assert sources.data_dir() == tmp_path / "data"
    monkeypatch.setenv("QPVGEO_DATA_DIR", str(tmp_path / "env"))
    assert sources.data_dir() == tmp_path / "env"
    monkeypatch.setattr(settings, "data_dir", str(tmp_path / "settings"))
    assert sources.data_dir() == tmp_path / "settings"
    assert sources.data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert sources.data_dir(str(tmp_path / "arg")) == tmp_path / "arg"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sources.data_dir("~/d") == tmp_path / "home" / "d"


def test_relative_data_dir_found_from_a_notebook_folder(tmp_path, monkeypatch):
    # the layout of the README: project/ with notebooks/, and shared/data beside the project
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "project" / "notebooks").mkdir(parents=True)
    (tmp_path / "project" / "pyproject.toml").write_text("")
    monkeypatch.setattr(settings, "data_dir", None)
    monkeypatch.setenv("QPVGEO_DATA_DIR", "../shared/data")
    monkeypatch.chdir(tmp_path / "project")
    assert sources.data_dir() == tmp_path / "shared" / "data"
    monkeypatch.chdir(tmp_path / "project" / "notebooks")
    assert sources.data_dir() == tmp_path / "shared" / "data"
    # never beyond the project folder; the absolute path from here is what an error will name
    monkeypatch.setenv("QPVGEO_DATA_DIR", "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    assert sources.data_dir() == tmp_path / "project" / "notebooks" / "elsewhere"


def test_find_takes_the_first_present_file(tmp_path):
    files = sources.CATALOGUE["qpv"].files
    assert sources.find("qpv", tmp_path) is None
    for name in files[1:]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    assert sources.find("qpv", tmp_path) == tmp_path / files[1]
    (tmp_path / files[0]).write_text("{}")
    assert sources.find("qpv", tmp_path) == tmp_path / files[0]


def test_unknown_dataset_key():
    with pytest.raises(
        DataNotFoundError, match=r"unknown dataset 'qpvs'; known datasets: bpe, bpe_gammes"
    ):
        sources.fetch("qpvs")


def test_catalogue_is_complete():
    for key, ds in sources.CATALOGUE.items():
        assert ds.key == key and ds.files and ds.page.startswith("https://")
        assert ds.licence and ds.vintage and ds.publisher
        assert set(ds.sha256) <= set(ds.files), key
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in ds.sha256.values())
    assert set(sources.NETWORK_DATASETS) <= set(sources.CATALOGUE)


# --------------------------------------------------------------------------- offline, status


def test_fetch_offline_names_dataset_file_and_address(tmp_path):
    ds = sources.CATALOGUE["qpv"]
    with pytest.raises(DataNotFoundError) as info:
        sources.fetch("qpv", tmp_path, offline=True)
    message = str(info.value)
    assert message.startswith("dataset 'qpv' (Quartiers prioritaires")
    assert f"data directory {str(tmp_path)!r} (offline)" in message
    assert f"expected {ds.files[0]!r}" in message and repr(ds.files[1]) in message
    assert f"download {ds.download}" in message
    assert f"extract {ds.unzip_member!r} from the zip" in message
    assert ds.page in message and "--data-dir / QPVGEO_DATA_DIR" in message
    assert "\n" not in message
    assert not any(tmp_path.iterdir())  # nothing written


def test_fetch_offline_from_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "offline", True)
    with pytest.raises(
        DataNotFoundError, match=r"communes-100m.geojson.gz, decompress it \(gunzip\)"
    ):
        sources.fetch("communes", tmp_path)


def test_fetch_without_download_address_names_the_page(tmp_path):
    """IRIS outlines have no direct address: the page is given, even online."""
    with pytest.raises(
        DataNotFoundError,
        match=r"dataset 'iris' .*\(no direct download address, manual download\): expected "
        r"'admin/iris_idf.geojson'.*get it from https://geoservices.ign.fr/contoursiris.* "
        r"\(Manual download: IGN publishes 7z archives",
    ) as online:
        sources.fetch("iris", tmp_path, offline=False)
    # a manual download is missing the same way offline and online
    with pytest.raises(DataNotFoundError) as offline:
        sources.fetch("iris", tmp_path, offline=True)
    assert str(offline.value) == str(online.value)


@pytest.mark.mirror
def test_status_on_the_mirror(data_dir):
    rows = [r for r in sources.status(data_dir) if not r["optional"]]
    assert [r["dataset"] for r in rows] == list(sources.CATALOGUE)
    assert all(r["present"] for r in rows)
    by_key = {r["dataset"]: r for r in rows}
    assert by_key["qpv"]["file"] == "qpv/qpv2024_idf.geojson"
    assert by_key["bpe"]["file"] == "insee/bpe2024_essonne_equipements_selection.csv"
    assert all(r["licence"] and r["vintage"] for r in rows)
    # every dataset says where to get it: its download address, or the page of a manual download
    for r in rows:
        ds = sources.CATALOGUE[r["dataset"]]
        want = ds.download or f"téléchargement manuel : {ds.page}"
        assert r["source"] == want and re.search(r"(^| )https://\S+$", want), r


def test_every_catalogue_entry_has_an_address_or_a_manual_page():
    for key, ds in sources.CATALOGUE.items():
        assert ds.page.startswith("https://"), key
        if ds.download is None:  # a manual download says so, and how
            assert ds.note.startswith("Manual"), key
        else:
            assert ds.download.startswith("https://") and " " not in ds.download, key
            archive = ds.download.endswith(".zip")
            assert archive == (ds.unzip_member is not None), key
    # the publishers' addresses (from their pages; qpv, communes, IDFM exports already tested)
    assert {k for k, d in sources.CATALOGUE.items() if d.download} == {
        "qpv", "communes", "iris_population", "iris_income", "bpe", "stations", "rail_lines"
    }


def test_status_on_an_empty_directory(tmp_path):
    every = sources.status(tmp_path)
    rows = [r for r in every if not r["optional"]]
    assert len(rows) == len(sources.CATALOGUE)
    assert not any(r["present"] for r in every)
    # a saved OSM file counts as present
    (tmp_path / "osm" / "walk").mkdir(parents=True)
    (tmp_path / "osm" / "walk" / "QN09106M.graphml").write_text("")
    saved = {r["dataset"]: r["present"] for r in sources.status(tmp_path) if r["optional"]}
    assert saved == {"osm_barriers": 0, "osm_walk_networks": 1}
    assert {r["dataset"]: r["file"] for r in rows} == {
        k: d.files[0] for k, d in sources.CATALOGUE.items()
    }


# --------------------------------------------------------------------------- provenance


@pytest.mark.mirror
def test_used_files_sha256_matches_the_mirror_readme(data_dir):
    sources.reset_used()
    path = sources.fetch("qpv", data_dir, offline=True)
    sources.fetch("bpe_gammes", data_dir, offline=True)
    rows = {r["dataset"]: r for r in sources.used_files()}
    assert set(rows) == {"qpv", "bpe_gammes"}
    readme = (data_dir / "README.md").read_text(encoding="utf-8")
    rel = path.relative_to(data_dir).as_posix()
    published = re.search(rf"^([0-9a-f]{{64}})  {re.escape(rel)}$", readme, re.M).group(1)
    assert rows["qpv"]["sha256"] == published
    assert rows["qpv"]["checksum_ok"] is True and rows["bpe_gammes"]["checksum_ok"] is True
    assert rows["qpv"]["file"] == str(path) and rows["qpv"]["licence"].startswith("Licence Ouverte")
    sources.reset_used()
    assert sources.used_files() == []


def test_used_files_flags_a_changed_file(tmp_path, data_dir, monkeypatch):
    """A changed file stops the run; accepted, it is flagged in the provenance, with a note."""
    rel = "insee/bpe_gammes_2021_par_typequ.csv"
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_bytes((data_dir / rel).read_bytes() + b"\n")
    sources.reset_used()
    with pytest.raises(ChecksumError, match=r"has changed"):
        sources.fetch("bpe_gammes", tmp_path, offline=True)
    monkeypatch.setattr(settings, "accept_changed_data", True)
    with pytest.warns(QpvgeoWarning, match=r"used as it is \(--accept-changed-data\)"):
        sources.fetch("bpe_gammes", tmp_path, offline=True)
    (row,) = sources.used_files()
    assert row["checksum_ok"] is False
    assert row["checksum_note"].startswith(f"data file {rel!r} (dataset 'bpe_gammes') differs")
    sources.reset_used()


# --------------------------------------------------------------------------- integrity


BPE_91 = "insee/bpe2024_essonne_equipements_selection.csv"


def altered_copy(tmp: Path, data_dir: Path, rel: str, change) -> Path:
    """A data directory in ``tmp`` holding a copy of the mirror's ``rel`` passed through ``change``."""
    target = tmp / "data" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(change((data_dir / rel).read_bytes()))
    return tmp / "data"


def expected_mismatch(root: Path, rel: str, known: str) -> str:
    actual = digest((root / rel).read_bytes())
    return (
        rf"^data file {re.escape(repr(str(root / rel)))} \(dataset 'bpe'\) has changed: "
        rf"SHA-256 {actual}, expected {known} \(.*\); .*or rerun with --accept-changed-data"
    )


def truncated_mid_line(raw: bytes) -> bytes:
    half = raw[: len(raw) // 2]
    assert not half.endswith(b"\n")
    return half


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(truncated_mid_line, id="truncated-mid-line"),
        pytest.param(lambda raw: raw.replace(b"B207", b"B208", 1), id="edited"),
    ],
)
def test_a_changed_file_stops_naming_both_sha256(tmp_path, data_dir, change):
    root = altered_copy(tmp_path, data_dir, BPE_91, change)
    known = sources.CATALOGUE["bpe"].sha256[BPE_91]
    with pytest.raises(ChecksumError, match=expected_mismatch(root, BPE_91, known)) as info:
        sources.fetch("bpe", root, offline=True)
    assert "qpvgeo's catalogue publishes" in str(info.value) and "\n" not in str(info.value)


def test_accept_changed_data_goes_on_and_is_recorded(tmp_path, data_dir):
    root = altered_copy(tmp_path, data_dir, BPE_91, lambda raw: raw + raw.splitlines(True)[1])
    sources.reset_used()
    with pytest.warns(QpvgeoWarning, match=r"differs from the SHA-256 qpvgeo's catalogue") as got:
        assert sources.fetch("bpe", root, offline=True, accept_changed_data=True) == root / BPE_91
        sources.fetch("bpe", root, offline=True, accept_changed_data=True)  # once per run
    assert len(got) == 1
    (row,) = sources.used_files()
    assert row["checksum_ok"] is False and row["sha256"] == digest((root / BPE_91).read_bytes())
    assert row["checksum_note"] == str(got[0].message)
    sources.reset_used()


def test_a_wrong_recorded_checksum_stops(tmp_path, data_dir, monkeypatch):
    """A file known only from checksums.json (recorded at download) is checked against it."""
    with_entry(monkeypatch, "bpe", sha256={})
    root = altered_copy(tmp_path, data_dir, BPE_91, lambda raw: raw)
    (root / "checksums.json").write_text(json.dumps({BPE_91: "a" * 64}))
    with pytest.raises(ChecksumError, match=expected_mismatch(root, BPE_91, "a" * 64)) as info:
        sources.fetch("bpe", root, offline=True)
    assert f"recorded at its download in {str(root / 'checksums.json')!r}" in str(info.value)
    assert f"delete the entry {BPE_91!r}" in str(info.value)
    # the right record passes
    (root / "checksums.json").write_text(json.dumps({BPE_91: digest((root / BPE_91).read_bytes())}))
    sources.reset_used()
    sources.fetch("bpe", root, offline=True)
    assert sources.used_files()[0]["checksum_ok"] is True
    sources.reset_used()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("{not json", r" \(Expecting"),
        ('["a", "b"]', r"expected an object of path → SHA-256, got a JSON list"),
        ('{"insee/x.csv": 12}', r"1 entrie\(s\) are not a 64-digit .*'insee/x.csv': 12"),
        ('{"insee/x.csv": "ABC"}', r"first: 'insee/x.csv': 'ABC'"),
    ],
)
def test_a_malformed_checksum_record_is_an_error(tmp_path, data_dir, record, message):
    root = altered_copy(tmp_path, data_dir, BPE_91, lambda raw: raw)
    (root / "checksums.json").write_text(record)
    with pytest.raises(DownloadError, match=rf"checksums.json' is not a valid JSON checksum record.*{message}.*; delete it \(the checksums"):
        sources.fetch("bpe", root, offline=True)


def test_a_file_without_published_checksum_is_read_with_a_note(tmp_path, data_dir):
    root = altered_copy(tmp_path, data_dir, BPE_91, lambda raw: raw)
    (root / BPE_91).rename(root / "insee/BPE24.csv")  # the national name: no published SHA-256
    sources.reset_used()
    sources.fetch("bpe", root, offline=True)
    (row,) = sources.used_files()
    assert row["checksum_ok"] is None
    assert row["checksum_note"] == (
        f"no published checksum for 'insee/BPE24.csv' (dataset 'bpe'); its SHA-256 "
        f"{row['sha256']} is recorded in the provenance"
    )
    sources.reset_used()


# --------------------------------------------------------------------------- downloads


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log on stderr
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "srv"``; yields (folder, base URL)."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "srv"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def with_entry(monkeypatch, key: str = "stations", **changes) -> sources.Dataset:
    ds = dataclasses.replace(sources.CATALOGUE[key], **changes)
    monkeypatch.setitem(sources.CATALOGUE, key, ds)
    return ds


def all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_download_with_known_sha256(server, tmp_path, monkeypatch):
    srv, url = server
    (srv / "gares.geojson").write_bytes(PAYLOAD)
    rel = "osm/gares.geojson"
    with_entry(
        monkeypatch, files=(rel,), download=f"{url}/gares.geojson", sha256={rel: digest(PAYLOAD)}
    )
    data = tmp_path / "data"
    sources.reset_used()
    path = sources.fetch("stations", data, offline=False)
    assert path == data / rel
    assert path.read_bytes() == PAYLOAD
    assert all_files(data) == [rel]  # no temporary file, no checksum record needed
    (row,) = sources.used_files()
    assert row["checksum_ok"] is True and row["sha256"] == digest(PAYLOAD)
    sources.reset_used()
    # present now: no second download
    (srv / "gares.geojson").unlink()
    assert sources.fetch("stations", data, offline=True) == path


def test_download_with_wrong_sha256_leaves_nothing(server, tmp_path, monkeypatch):
    srv, url = server
    (srv / "gares.geojson").write_bytes(PAYLOAD)
    rel = "osm/gares.geojson"
    ds = with_entry(
        monkeypatch, files=(rel,), download=f"{url}/gares.geojson", sha256={rel: "0" * 64}
    )
    data = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        sources.fetch("stations", data, offline=False)
    message = str(info.value)
    assert (
        f"dataset 'stations': the file downloaded from {ds.download} has SHA-256 {digest(PAYLOAD)}"
        in message
    )
    assert f"expected {'0' * 64}; it was not kept" in message
    assert ds.page in message
    assert all_files(data) == []


def test_download_with_unknown_sha256_is_recorded_then_checked(server, tmp_path, monkeypatch):
    srv, url = server
    (srv / "gares.geojson").write_bytes(PAYLOAD)
    rel = "osm/gares.geojson"
    with_entry(monkeypatch, files=(rel,), download=f"{url}/gares.geojson", sha256={})
    data = tmp_path / "data"
    with pytest.warns(
        QpvgeoWarning,
        match=rf"no published checksum for '{rel}' \(dataset 'stations'\); recorded its SHA-256 "
        rf"{digest(PAYLOAD)} in '.*checksums.json': later runs check the file against it",
    ):
        path = sources.fetch("stations", data, offline=False)
    assert path.read_bytes() == PAYLOAD
    registry = json.loads((data / "checksums.json").read_text())
    assert registry == {rel: digest(PAYLOAD)}
    # the record serves as the known checksum in the provenance
    sources.reset_used()
    sources.fetch("stations", data)
    assert sources.used_files()[0]["checksum_ok"] is True
    sources.reset_used()
    # the publisher changes the file in place: the next download is refused
    path.unlink()
    (srv / "gares.geojson").write_bytes(PAYLOAD + b" ")
    with pytest.raises(
        DownloadError,
        match=r"expected [0-9a-f]{64}; it was not kept\. the publisher may have "
        r"released a new version: .*delete the entry 'osm/gares.geojson' from .*checksums.json",
    ):
        sources.fetch("stations", data, offline=False)
    assert all_files(data) == ["checksums.json"]


def test_download_gzip(server, tmp_path, monkeypatch):
    srv, url = server
    (srv / "communes.geojson.gz").write_bytes(gzip.compress(PAYLOAD))
    rel = "admin/communes.geojson"
    with_entry(
        monkeypatch,
        "communes",
        files=(rel,),
        download=f"{url}/communes.geojson.gz",
        sha256={rel: digest(PAYLOAD)},
    )
    path = sources.fetch("communes", tmp_path / "data", offline=False)
    assert path == tmp_path / "data" / rel and path.read_bytes() == PAYLOAD


def test_download_http_error(server, tmp_path, monkeypatch):
    _, url = server
    with_entry(monkeypatch, files=("osm/gares.geojson",), download=f"{url}/missing.geojson")
    with pytest.raises(
        DownloadError,
        match=rf"download of dataset 'stations' from {url}/missing.geojson "
        r"failed: .*404",
    ):
        sources.fetch("stations", tmp_path / "data", offline=False)
    assert not (tmp_path / "data" / "osm" / "gares.geojson").exists()


def test_corrupt_checksum_record(server, tmp_path, monkeypatch):
    srv, url = server
    (srv / "gares.geojson").write_bytes(PAYLOAD)
    with_entry(
        monkeypatch, files=("osm/gares.geojson",), download=f"{url}/gares.geojson", sha256={}
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "checksums.json").write_text("{not json")
    with pytest.raises(
        DownloadError, match=r"checksums.json' is not a valid JSON checksum record .*delete it"
    ):
        sources.fetch("stations", data, offline=False)


def test_osmnx_cache_inside_the_data_dir(tmp_path):
    assert sources.osmnx_cache_dir(tmp_path) == tmp_path / "osmnx_cache"
