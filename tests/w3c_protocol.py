"""Run the W3C SPARQL 1.1 Protocol tests (a manifest.ttl of ht:Request records) against an endpoint.

Used by tests/test_server_w3c.py against ``kg serve``; also a script, to measure any server:

    python tests/w3c_protocol.py --query http://127.0.0.1:7878/sparql [--update URL] [--token T]
    oxigraph serve --location /tmp/ox --bind 127.0.0.1:7879 &
    python tests/w3c_protocol.py --query http://127.0.0.1:7879/query --update http://127.0.0.1:7879/update

The module also starts ``kg serve`` as a real subprocess for the tests of real clients
(:class:`KGServe`).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox

REPO = Path(__file__).resolve().parent.parent
SUITE = Path(os.environ.get("KG_SHARED_DIR", REPO.parent / "shared")) / "w3c" / "sparql11-protocol"

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"

RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"}
RDF_TYPES = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD,
             "application/n-quads": ox.RdfFormat.N_QUADS}  # a graph in N-Quads is N-Triples


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[int]  # acceptable status classes: 2, 3, 4
    format: str | None  # "boolean", "tabular", "RDF"
    boolean: bool | None

    @property
    def is_update(self) -> bool:
        ctype = self.headers.get("content-type", "")
        return ctype.startswith("application/sparql-update") or b"update=" in (self.body or b"") \
            or "update=" in self.path


@dataclass
class ProtocolTest:
    name: str
    title: str
    requests: list[HttpRequest]
    graph_data: list[tuple[str, Path]] = field(default_factory=list)  # (graph IRI, N-Triples file)

    @property
    def is_update(self) -> bool:
        """An update test: its first request is an update that should succeed."""
        first = self.requests[0]
        return first.is_update and 2 in first.statuses


def load_manifest(path: Path = SUITE / "manifest.ttl") -> list[ProtocolTest]:
    """The tests of a protocol manifest, in its order."""
    store = ox.Store()
    base = path.resolve().as_uri()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base)

    def one(s, p):
        for q in store.quads_for_pattern(s, ox.NamedNode(p), None):
            return q.object
        return None

    def every(s, p):
        return [q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None)]

    def items(head):
        out = []
        while head is not None and head != ox.NamedNode(RDF + "nil"):
            out.append(one(head, RDF + "first"))
            head = one(head, RDF + "rest")
        return out

    manifest = ox.NamedNode(base)
    tests = []
    for entry in items(one(manifest, MF + "entries")):
        requests = []
        for req in items(one(one(entry, MF + "action"), HT + "requests")):
            headers = {one(h, HT + "fieldName").value.lower(): one(h, HT + "fieldValue").value
                       for h in items(one(req, HT + "headers"))}
            body_node = one(req, HT + "body")
            body = None
            if body_node is not None:
                encoding = one(body_node, CNT + "characterEncoding")
                body = one(body_node, CNT + "chars").value.encode(encoding.value if encoding else "utf-8")
            resp = one(req, HT + "resp")
            statuses = {int(s.value[len(HTS)]) for s in every(resp, MF + "expectedStatus")}
            fmt = one(resp, MF + "expectedFormat")
            boolean = one(resp, MF + "expectedBoolean")
            requests.append(HttpRequest(one(req, HT + "methodName").value, one(req, HT + "absolutePath").value,
                                        headers, body, statuses, fmt.value if fmt else None,
                                        None if boolean is None else boolean.value == "true"))
        data = [(one(d, RDFS + "label").value, Path(urlsplit(one(d, UT + "graph").value).path))
                for d in every(entry, UT + "graphData")]
        name = entry.value.rsplit("#", 1)[-1]
        tests.append(ProtocolTest(name, one(entry, MF + "name").value, requests, sorted(data)))
    return tests


def graph_data_trig(tests: list[ProtocolTest]) -> str:
    """Every test's graph data as one TriG document (for a read-only server to load)."""
    graphs = dict(d for t in tests for d in t.graph_data)
    return "".join(f"<{iri}> {{\n{path.read_text(encoding='utf-8')}}}\n" for iri, path in sorted(graphs.items()))


class Endpoint:
    """Where to send the tests' requests: the query path, the update path, and a token."""

    def __init__(self, query_url: str, update_url: str | None = None, token: str | None = None):
        q = urlsplit(query_url)
        self.host, self.port = q.hostname, q.port or 80
        self.query_path = q.path
        self.update_path = urlsplit(update_url).path if update_url else q.path
        self.token = token

    def send(self, method: str, path: str, headers: dict, body: bytes | None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type") or "", resp.read()
        finally:
            conn.close()

    def preload(self, test: ProtocolTest) -> None:
        """Replace the store's content by the test's graph data (needs updates)."""
        if not test.graph_data:
            return
        inserts = " ".join(f"GRAPH <{iri}> {{ {path.read_text(encoding='utf-8')} }}" for iri, path in test.graph_data)
        status, _, body = self.send("POST", self.update_path, self._auth({"Content-Type": "application/sparql-update"}),
                                    f"DROP ALL ; INSERT DATA {{ {inserts} }}".encode("utf-8"))
        if status // 100 != 2:
            raise RuntimeError(f"could not load the graph data of {test.name}: {status} {body[:200]!r}")

    def _auth(self, headers: dict) -> dict:
        return {**headers, "Authorization": f"Bearer {self.token}"} if self.token else headers

    def run(self, test: ProtocolTest, *, preload: bool = True) -> tuple[bool, str, list[int]]:
        """Run ``test``; returns ``(passed, reason, statuses)``."""
        if preload and self.token is not None:
            self.preload(test)
        statuses = []
        for i, req in enumerate(test.requests):
            path = req.path
            if path.startswith("/sparql/"):
                rest = path[len("/sparql/"):]
                path = (self.update_path if req.is_update else self.query_path) + rest
            status, ctype, body = self.send(req.method, path, self._auth(dict(req.headers)), req.body)
            statuses.append(status)
            problem = check_response(req, status, ctype, body)
            if problem:
                return False, f"request {i + 1} ({req.method} {path[:80]}): {problem}", statuses
        return True, "", statuses


def check_response(req: HttpRequest, status: int, ctype: str, body: bytes) -> str | None:
    """What is wrong with a response, or ``None``."""
    if status // 100 not in req.statuses:
        return f"status {status}, expected {'/'.join(f'{s}xx' for s in sorted(req.statuses))}: {body[:200]!r}"
    media = ctype.split(";")[0].strip().lower()
    if req.format == "boolean":
        value = _boolean(media, body)
        if value is None:
            return f"expected a boolean result, got {media}: {body[:120]!r}"
        if req.boolean is not None and value != req.boolean:
            return f"expected {req.boolean}, got {value}"
    elif req.format == "tabular":
        if media not in RESULT_TYPES:
            return f"expected a result table, got {media}"
        if media == "application/sparql-results+json" and "results" not in json.loads(body):
            return "JSON results without 'results'"
    elif req.format == "RDF":
        if media not in RDF_TYPES:
            return f"expected RDF, got {media}"
        try:
            list(ox.parse(body, format=RDF_TYPES[media]))
        except (SyntaxError, ValueError) as exc:
            return f"unparseable {media}: {exc}"
    return None


def _boolean(media: str, body: bytes) -> bool | None:
    if media == "application/sparql-results+json":
        value = json.loads(body).get("boolean")
        return value if isinstance(value, bool) else None
    if media == "application/sparql-results+xml":
        text = body.decode("utf-8")
        if "<boolean>true</boolean>" in text:
            return True
        if "<boolean>false</boolean>" in text:
            return False
    return None


class KGServe:
    """``kg serve`` in a subprocess on a free loopback port; ``stop()`` always ends it."""

    def __init__(self, *args: str, global_args: tuple[str, ...] = (), env: dict | None = None, timeout: float = 120):
        cmd = [sys.executable, "-c", "from kg.cli import main; main()", *global_args,
               "serve", "--port", "0", "--quiet", *args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})}, text=True, cwd=REPO)
        self.log: list[str] = []
        self.url = None
        ready = threading.Event()

        def drain():
            for line in self.proc.stderr:
                self.log.append(line)
                if "SPARQL endpoint http" in line and self.url is None:
                    self.url = line.split("SPARQL endpoint ", 1)[1].split()[0].rsplit("/sparql", 1)[0]
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(timeout) or self.url is None:
            self.stop()
            raise RuntimeError("kg serve did not start:\n" + "".join(self.log))

    @property
    def endpoint(self) -> str:
        return self.url + "/sparql"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", required=True, help="query endpoint URL")
    parser.add_argument("--update", help="update endpoint URL (default: the query endpoint)")
    parser.add_argument("--token", help="bearer token for updates")
    parser.add_argument("--no-preload", action="store_true", help="do not load the tests' graph data by update")
    args = parser.parse_args(argv)
    endpoint = Endpoint(args.query, args.update, args.token)
    if args.token is None and args.update and not args.no_preload:
        endpoint.token = ""  # preload through an update endpoint without auth
    passed = failed = 0
    for test in load_manifest():
        start = time.perf_counter()
        try:
            ok, reason, statuses = endpoint.run(test, preload=not args.no_preload)
        except Exception as exc:  # a script's boundary: report and go on
            ok, reason, statuses = False, f"{type(exc).__name__}: {exc}", []
        passed, failed = passed + ok, failed + (not ok)
        print(f"{'PASS' if ok else 'FAIL'} {test.name} {statuses} {(time.perf_counter() - start) * 1000:.0f}ms"
              + (f"  {reason}" if reason else ""))
    print(f"{passed} passed, {failed} failed")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
