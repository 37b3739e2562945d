"""The « mode atelier » of the fiches, in headless Chromium driven over the DevTools protocol:
real mouse clicks switch it on and pin answers on the map, the pins survive a reload
(localStorage), the export button downloads a GeoJSON file, and `--besoins` reads that file."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from qpvgeo.data import besoins as data
from qpvgeo.indicators import besoins as ind
from qpvgeo.outputs import workshop
from qpvgeo.outputs.fiche import fiche_html

from ..conftest import CHROMIUM_FLAGS, chromium

CODE = "QN09106M"


class Cdp:
    """A minimal DevTools-protocol client over one websocket."""

    def __init__(self, url: str) -> None:
        import websocket  # websocket-client, a test dependency

        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.n = 0

    def call(self, method: str, **params) -> dict:
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                assert "error" not in msg, msg["error"]
                return msg.get("result", {})

    def js(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in res, res["exceptionDetails"]
        return res["result"].get("value")

    def wait(self, expression: str, timeout_s: float = 30.0):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")

    def click_at(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        rect = self.wait(
            f"(function(){{var e=document.querySelector({json.dumps(selector)}); if(!e) return null;"
            "var r=e.getBoundingClientRect(); return r.width ? [r.x+r.width/2, r.y+r.height/2] : null;})()"
        )
        self.click_at(*rect)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with its DevTools port open: (browser client, page client)."""
    log = tmp_path / "chromium.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profil'}",
             "--remote-debugging-port=0", "--window-size=1366,1000", "about:blank"],
            stderr=err, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    clients: list[Cdp] = []
    try:
        port, end = None, time.monotonic() + 60
        while port is None and time.monotonic() < end and proc.poll() is None:
            if m := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", log.read_text()):
                port = int(m.group(1))
            time.sleep(0.1)
        assert port, f"Chromium did not open its DevTools port: {log.read_text()[-2000:]}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=30) as r:
            browser_ws = json.load(r)["webSocketDebuggerUrl"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
            page_ws = next(t for t in json.load(r) if t["type"] == "page")["webSocketDebuggerUrl"]
        clients += [Cdp(browser_ws), Cdp(page_ws)]
        yield tuple(clients)
    finally:
        for c in clients:
            c.ws.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def add_pin(page: Cdp, dx: float, dy: float, values: dict) -> None:
    """Click the map at (dx, dy) from its centre, fill the form, click « Ajouter »."""
    x, y = page.js(
        "(function(){var r=document.getElementById('carte').getBoundingClientRect();"
        "return [r.x+r.width/2, r.y+r.height/2];})()"
    )
    page.click_at(x + dx, y + dy)
    page.wait("!!document.querySelector('.atelier-form .ajouter')")
    time.sleep(0.5)  # the popup fades in and pans the map to show itself
    for name, value in values.items():  # what a presenter picks in the lists
        page.js(
            f"(function(){{var e=document.querySelector('.atelier-form [name=\"{name}\"]');"
            f"e.value={json.dumps(value)}; e.dispatchEvent(new Event('change'));}})()"
        )
    page.click(".atelier-form .ajouter")


@pytest.mark.browser
@pytest.mark.mirror
def test_workshop_pins_export_and_import(small_run, browser, tmp_path: Path) -> None:
    out = tmp_path / "atelier"
    workshop.write_leaflet_lib(out)
    page_path = out / workshop.FICHES_DIR / f"{CODE}.html"
    page_path.parent.mkdir(parents=True)
    page_path.write_text(fiche_html(CODE, small_run), encoding="utf-8")
    downloads = tmp_path / "telechargements"
    downloads.mkdir()
    top, page = browser
    top.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
    page.call("Page.enable")
    page.call("Page.navigate", url=page_path.as_uri())
    page.wait("!!window.qpvgeoAtelier && !!document.querySelector('.qpvgeo-atelier .bascule')")
    page.js("document.getElementById('carte').scrollIntoView()")

    # off: a click on the map adds nothing
    add_x, add_y = 40, -30
    x, y = page.js(
        "(function(){var r=document.getElementById('carte').getBoundingClientRect();"
        "return [r.x+r.width/2, r.y+r.height/2];})()"
    )
    page.click_at(x + add_x, y + add_y)
    assert not page.js("!!document.querySelector('.atelier-form')")
    page.click(".qpvgeo-atelier .bascule")
    assert page.js("document.querySelector('.qpvgeo-atelier .bascule').getAttribute('aria-pressed')") == "true"
    add_pin(page, add_x, add_y, {"type": "besoin", "categorie": "boucherie", "nombre": "3"})
    add_pin(page, 120, 80, {"type": "lieu_evite", "frein": "insecurite", "commentaire": "le soir"})
    pins = page.js("window.qpvgeoAtelier.pins()")
    assert [p["type"] for p in pins] == ["besoin", "lieu_evite"]
    assert pins[0]["categorie"] == "boucherie" and pins[0]["nombre"] == 3

    # kept in the browser: a reload shows them again
    page.call("Page.reload")
    page.wait("!!window.qpvgeoAtelier && window.qpvgeoAtelier.pins().length === 2")
    page.click(".qpvgeo-atelier .bascule")
    page.click(".qpvgeo-atelier .exporter")
    end = time.monotonic() + 30
    files: list[Path] = []
    while time.monotonic() < end and not files:
        files = [p for p in downloads.glob("*.geojson")]
        time.sleep(0.2)
    assert len(files) == 1, list(downloads.iterdir())
    assert files[0].name.startswith(f"besoins_atelier_{CODE}_")
    shown = page.js("document.querySelector('.qpvgeo-atelier .texte').value")
    assert json.loads(shown) == json.loads(files[0].read_text(encoding="utf-8"))

    # the export imports with the loader, as `qpvgeo run --besoins` reads it
    answers = data.read_besoins(files[0])
    assert answers["type"].tolist() == ["besoin", "lieu_evite"]
    assert answers["category"].tolist() == ["boucherie", ""]
    assert answers["frein_code"].tolist() == ["", "insecurite"]
    assert answers["nombre"].tolist() == [3, 1] and set(answers["source"]) == {"atelier"}
    where = ind.answer_qpv(answers, small_run.qpv)
    assert where["code_qp_lu"].tolist() == [CODE, CODE]
    # the pins lie where they were clicked: inside the map's view of the QPV (a few hundred m)
    qpv = small_run.qpv.at[CODE, "geometry"]
    assert all(qpv.distance(g) < 1000 for g in answers.geometry)
    kept, added = data.merge_answers(None, [answers])
    assert added == 2
    assert data.merge_answers(kept, [data.read_besoins(files[0])])[1] == 0
