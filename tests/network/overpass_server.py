"""A local Overpass-like HTTP server for tests, answering from a raw OSM XML extract.

It understands the queries osmnx sends: statements ``node|way|relation`` with tag
filters (``["k"]``, ``["k"="v"]``, ``["k"!="v"]``, ``["k"~"re"]``, ``["k"!~"re"]``)
and a ``(poly:'lat lon …')`` filter, each recursed down (``>`` / ``(._;>;)``),
answered as Overpass JSON with ``osm3s.timestamp_osm_base`` taken from the
extract's ``<meta osm_base=…>``. Anything else is answered HTTP 400.

A test scripts failures with :attr:`OverpassServer.script`: a list of actions
consumed one per request (``429``, ``504``: that status; ``"truncate"``: the first
half of the answer in a complete HTTP answer; ``"cut"``: the connection closes half way
through the body; ``"remark"``: half the elements and the remark of an Overpass
runtime error (status 200); ``("sleep", s)``: answer after ``s`` seconds), and
:attr:`OverpassServer.always`, used once the script is spent (None: answer).
"""

from __future__ import annotations

import bz2
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import shapely
from shapely.geometry import LineString, Point, Polygon

STATEMENT = re.compile(r"\b(node|way|relation)((?:\[[^\]]*\])*)\(poly:(['\"])([-0-9. ]+)\3\)")
FILTER = re.compile(r"""\[\s*(["'])(.+?)\1\s*(?:(!=|!~|=|~)\s*(["'])(.*?)\4)?\s*\]""")


@dataclass
class Extract:
    """Nodes, ways and relations of an OSM XML file, and its OSM base timestamp."""

    osm_base: str
    nodes: dict[int, tuple[float, float, dict]] = field(default_factory=dict)
    ways: dict[int, tuple[list[int], dict]] = field(default_factory=dict)
    relations: dict[int, tuple[list[tuple[str, int, str]], dict]] = field(default_factory=dict)

    @classmethod
    def read(cls, path) -> Extract:
        out = cls(osm_base="")
        opener = bz2.open if str(path).endswith(".bz2") else open
        with opener(path, "rb") as fh:
            for _, el in ET.iterparse(fh, events=("end",)):
                tag = el.tag
                if tag == "meta":
                    out.osm_base = el.get("osm_base", "")
                elif tag in ("node", "way", "relation"):
                    tags = {t.get("k"): t.get("v") for t in el.iter("tag")}
                    oid = int(el.get("id"))
                    if tag == "node":
                        out.nodes[oid] = (float(el.get("lat")), float(el.get("lon")), tags)
                    elif tag == "way":
                        out.ways[oid] = ([int(n.get("ref")) for n in el.iter("nd")], tags)
                    else:
                        members = [
                            (m.get("type"), int(m.get("ref")), m.get("role", ""))
                            for m in el.iter("member")
                        ]
                        out.relations[oid] = (members, tags)
                    el.clear()
        out._index()
        return out

    def _index(self) -> None:
        self.way_ids, lines = [], []
        for wid, (refs, _) in self.ways.items():
            coords = [(self.nodes[n][1], self.nodes[n][0]) for n in refs if n in self.nodes]
            if len(coords) >= 2:
                self.way_ids.append(wid)
                lines.append(LineString(coords))
        self.tree = shapely.STRtree(lines)
        self.tagged_nodes = {k: v for k, v in self.nodes.items() if v[2]}

    def answer(self, query: str) -> dict:
        """The Overpass JSON answer to a query of the shapes osmnx sends."""
        if "[out:json]" not in query:
            raise ValueError("only [out:json] queries are answered")
        statements = STATEMENT.findall(query)
        if not statements:
            raise ValueError(f"no statement with a poly filter in {query[:200]!r}")
        nodes, ways, relations = set(), set(), set()
        for kind, filters, _, poly in statements:
            conds = [(k, op, v) for _, k, op, _, v in FILTER.findall(filters)]
            nums = [float(x) for x in poly.split()]
            area = Polygon(list(zip(nums[1::2], nums[0::2], strict=True)))
            if kind == "node":
                found = {n for n, (la, lo, t) in self.tagged_nodes.items()
                         if _match(t, conds) and area.intersects(Point(lo, la))}  # fmt: skip
                nodes |= found
            elif kind == "way":
                hits = self.tree.query(area, predicate="intersects")
                found = {
                    self.way_ids[i] for i in hits if _match(self.ways[self.way_ids[i]][1], conds)
                }
                ways |= found
            else:
                found = {r for r, (members, t) in self.relations.items()
                         if _match(t, conds) and self._relation_in(members, area)}  # fmt: skip
                relations |= found
        for r in relations:  # recurse down: members, and the nodes of member ways
            for mtype, ref, _ in self.relations[r][0]:
                if mtype == "way" and ref in self.ways:
                    ways.add(ref)
                elif mtype == "node" and ref in self.nodes:
                    nodes.add(ref)
        for w in ways:
            nodes.update(n for n in self.ways[w][0] if n in self.nodes)
        elements = [self._node(n) for n in sorted(nodes)]
        elements += [self._way(w) for w in sorted(ways)]
        elements += [self._relation(r) for r in sorted(relations)]
        return {
            "version": 0.6,
            "generator": "qpvgeo test Overpass server",
            "osm3s": {"timestamp_osm_base": self.osm_base, "copyright": "OpenStreetMap (ODbL)"},
            "elements": elements,
        }

    def _relation_in(self, members, area) -> bool:
        for mtype, ref, _ in members:
            if mtype == "node" and ref in self.nodes:
                la, lo, _t = self.nodes[ref]
                if area.intersects(Point(lo, la)):
                    return True
            if mtype == "way" and ref in self.ways:
                coords = [
                    (self.nodes[n][1], self.nodes[n][0])
                    for n in self.ways[ref][0]
                    if n in self.nodes
                ]
                if len(coords) >= 2 and area.intersects(LineString(coords)):
                    return True
        return False

    def _node(self, n: int) -> dict:
        lat, lon, tags = self.nodes[n]
        return {"type": "node", "id": n, "lat": lat, "lon": lon, **({"tags": tags} if tags else {})}

    def _way(self, w: int) -> dict:
        refs, tags = self.ways[w]
        return {"type": "way", "id": w, "nodes": [n for n in refs if n in self.nodes], "tags": tags}

    def _relation(self, r: int) -> dict:
        members, tags = self.relations[r]
        return {
            "type": "relation",
            "id": r,
            "members": [{"type": t, "ref": ref, "role": role} for t, ref, role in members],
            "tags": tags,
        }


def _match(tags: dict, conds) -> bool:
    for key, op, value in conds:
        have = tags.get(key)
        if op == "":
            ok = have is not None
        elif op == "=":
            ok = have == value
        elif op == "!=":
            ok = have != value
        elif op == "~":
            ok = have is not None and re.search(value, have) is not None
        else:  # !~
            ok = have is None or re.search(value, have) is None
        if not ok:
            return False
    return True


class OverpassServer:
    """The server, on 127.0.0.1 (a free port), in a daemon thread. ``url`` is the osmnx setting."""

    def __init__(self, extract: Extract):
        self.extract = extract
        self.requests: list[str] = []  # paths of the requests received
        self.queries: list[str] = []
        self.script: list = []
        self.always = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._serve(self, "")

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size).decode("utf-8")
                server._serve(self, parse_qs(body).get("data", [""])[0])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that gave up
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.queries.clear()
            self.script = []
            self.always = None

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler, query: str) -> None:
        with self._lock:
            self.requests.append(handler.path)
            self.queries.append(query)
            action = self.script.pop(0) if self.script else self.always
        if not handler.path.rstrip("/").endswith("/interpreter"):
            return self._send(handler, 404, b"not found", "text/plain")
        if isinstance(action, tuple) and action[0] == "sleep":
            time.sleep(action[1])
            action = None
        if isinstance(action, int):
            return self._send(handler, action, b"<html>busy</html>", "text/html")
        try:
            answer = self.extract.answer(query)
        except ValueError as exc:
            return self._send(handler, 400, str(exc).encode(), "text/plain")
        if action == "remark":  # Overpass ran out of time: what it found so far, and a remark
            answer["elements"] = answer["elements"][: len(answer["elements"]) // 2]
            answer["remark"] = (
                'runtime error: Query timed out in "query" at line 1 after 2 seconds.'
            )
        body = json.dumps(answer).encode()
        if action == "truncate":  # a complete HTTP answer whose JSON stops half way
            body = body[: len(body) // 2]
        if action == "cut":  # the connection closes half way through the announced body
            return self._send(handler, 200, body, "application/json", cut=True)
        self._send(handler, 200, body, "application/json")

    @staticmethod
    def _send(handler, status: int, body: bytes, ctype: str, cut: bool = False) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2] if cut else body)
            if cut:
                handler.wfile.flush()
                handler.close_connection = True
        except OSError:  # the client gave up (timeout test)
            pass
