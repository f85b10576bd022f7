"""Load test of ``kg serve`` beside the Oxigraph server, same data, same queries, same run.

    python benchmarks/bench_server.py [--requests 3000] [--clients 8] [--out benchmarks/out/server.json]
    python benchmarks/bench_server.py --stacks      # only: stdlib HTTP server vs kg's h11 layer vs Flask, same answer

Bounded: a fixed number of requests per server (and a wall-clock cap), loopback only, and it
stops both servers itself. What it does:

1. exports the loaded graph with ``kg export --format nquads`` and loads it into an Oxigraph
   store (``oxigraph load``), applying ontology/rules/derive.ru as ``kg`` does on load;
2. starts ``kg serve`` and ``oxigraph serve --union-default-graph`` on free loopback ports;
3. checks that both give the same number of rows for every query of the mix;
4. runs the mix from N concurrent keep-alive clients against ``/queries/NAME`` (parameters
   bound), against ``/sparql`` with the same text Oxigraph gets, and against Oxigraph's /query;
5. sends a slow query with ``timeout=2`` during a second run of the mix, and reports that it
   got 503 and what latency the other clients saw meanwhile.

Prints a Markdown report (docs/benchmarks-server.md is made from it) and writes JSON to --out.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
KG = "https://w3id.org/ai-capital-kg/resource/"
LAYER = "https://w3id.org/ai-capital-kg/ontology#"
#: The mix: (named query, parameters). Entities as IRIs so both servers get identical work.
MIX = [
    ("entities", {}),
    ("relationships", {}),
    ("relationships", {"layer": "article"}),
    ("entity", {"id": KG + "OpenAI"}),
    ("entity", {"id": KG + "Oracle"}),
    ("entity-relationships", {"id": KG + "OpenAI"}),
    ("entity-relationships", {"id": KG + "Nvidia"}),
    ("entity-groups", {"id": KG + "Microsoft"}),
    ("claims-about", {"about": KG + "Oracle"}),
    ("impact-assessments", {}),
    ("info-counts", {}),
    ("coverage", {}),
]
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
WALL_CLOCK_CAP = 600.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            u = urlsplit(url)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
            c.request("GET", u.path + "?query=ASK%7B%7D")
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def bound_text(name: str, params: dict) -> str:
    """The named query's text with its parameters as a VALUES block at the top of WHERE.

    For Oxigraph's server, which cannot bind protocol parameters; the values are IRIs and
    layer names mapped to IRIs, serialised by Oxigraph's terms.
    """
    import pyoxigraph as ox

    from kg.queries import load_query

    text = load_query(name).text
    if not params:
        return text
    rows = []
    for key, value in params.items():
        iri = LAYER + {"article": "ArticleLayer", "context": "ContextLayer"}[value] if key == "layer" else value
        rows.append(f"VALUES ?{key} {{ {ox.NamedNode(iri)} }}")
    head, sep, tail = text.partition("WHERE {")
    return head + sep + " " + " ".join(rows) + tail


class Client:
    """A keep-alive HTTP client measuring each request."""

    def __init__(self, base: str):
        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def requests_for(target: str, base: str) -> list[tuple[str, str, bytes | None, dict]]:
    """(method, path, body, headers) for each query of the mix, for one way of asking."""
    accept = {"Accept": "application/sparql-results+json"}
    out = []
    for name, params in MIX:
        if target == "kg-named":
            out.append(("GET", f"/queries/{name}?{urlencode(params)}", None, accept))
        else:
            path = "/sparql" if target == "kg-sparql" else "/query"
            out.append(("POST", path, bound_text(name, params).encode("utf-8"),
                        {**accept, "Content-Type": "application/sparql-query"}))
    return out


def load(base: str, target: str, total: int, clients: int, deadline: float, during=None) -> dict:
    """Send ``total`` requests of the mix from ``clients`` threads; latencies per query."""
    reqs = requests_for(target, base)
    counter = iter(range(total))
    lock = threading.Lock()
    latencies: list[tuple[int, float, float, int]] = []  # (mix index, start, seconds, status)

    def worker():
        client = Client(base)
        mine = []
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            k = i % len(reqs)
            method, path, body, headers = reqs[k]
            t0 = time.perf_counter()
            status, _ = client.send(method, path, body, headers)
            mine.append((k, t0, time.perf_counter() - t0, status))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    side = during(start) if during else None
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if side:
        side.join()
    return summarise(latencies, elapsed)


def summarise(latencies, elapsed) -> dict:
    lat = sorted(s for _, _, s, _ in latencies)
    errors = sum(1 for *_, status in latencies if status != 200)
    per_query = {}
    for k, (name, params) in enumerate(MIX):
        xs = sorted(s for i, _, s, _ in latencies if i == k)
        if xs:
            per_query[f"{name} {urlencode(params)}".strip()] = pct(xs, 50)
    return {"requests": len(lat), "errors": errors, "seconds": elapsed, "throughput": len(lat) / elapsed,
            "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "p99_ms": pct(lat, 99), "per_query_p50_ms": per_query,
            "raw": latencies}


def merge(parts: list[dict]) -> dict:
    raw = [x for p in parts for x in p["raw"]]
    return summarise(raw, sum(p["seconds"] for p in parts))


def pct(sorted_seconds: list[float], p: float) -> float:
    if not sorted_seconds:
        return float("nan")
    i = min(len(sorted_seconds) - 1, max(0, round(p / 100 * len(sorted_seconds)) - 1))
    return sorted_seconds[i] * 1000


def check_same_rows(kg_base: str, ox_base: str) -> list[str]:
    """Both servers must give the same number of rows for each query of the mix."""
    problems = []
    kg, ox_ = Client(kg_base), Client(ox_base)
    for (m1, p1, b1, h1), (m2, p2, b2, h2), (name, params) in zip(
            requests_for("kg-named", kg_base), requests_for("oxigraph", ox_base), MIX, strict=True):
        s1, d1 = kg.send(m1, p1, b1, h1)
        s2, d2 = ox_.send(m2, p2, b2, h2)
        n1 = len(json.loads(d1)["results"]["bindings"]) if s1 == 200 else f"status {s1}"
        n2 = len(json.loads(d2)["results"]["bindings"]) if s2 == 200 else f"status {s2}"
        if n1 != n2 or not isinstance(n1, int):
            problems.append(f"{name} {params}: kg {n1} rows, oxigraph {n2} rows")
    return problems


def start_servers(tmp: Path, kg_args: list[str]):
    nquads = tmp / "kg.nq"
    kg_cmd = [sys.executable, "-c", "from kg.cli import main; main()"]
    subprocess.run(kg_cmd + ["export", "--format", "nquads", "-o", str(nquads)], check=True, cwd=REPO)
    oxigraph = shutil.which("oxigraph")
    if not oxigraph:
        raise SystemExit("the oxigraph binary is missing: pip install oxigraph")
    location = tmp / "oxigraph"
    subprocess.run([oxigraph, "load", "--location", str(location), "--file", str(nquads)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ox_port, mem_port, kg_port = free_port(), free_port(), free_port()
    common = ["--union-default-graph"]
    ox_proc = subprocess.Popen([oxigraph, "serve", "--location", str(location), "--bind", f"127.0.0.1:{ox_port}",
                                *common], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mem_proc = subprocess.Popen([oxigraph, "serve", "--bind", f"127.0.0.1:{mem_port}", *common],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kg_proc = subprocess.Popen(kg_cmd + ["serve", "--port", str(kg_port), "--quiet", *kg_args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    ox_base, mem_base = f"http://127.0.0.1:{ox_port}", f"http://127.0.0.1:{mem_port}"
    kg_base = f"http://127.0.0.1:{kg_port}"
    for url in (ox_base + "/query", mem_base + "/query", kg_base + "/sparql"):
        wait_for(url)
    status, body = Client(mem_base).send("POST", "/store", nquads.read_bytes(), {"Content-Type": "application/n-quads"})
    if status // 100 != 2:
        raise RuntimeError(f"oxigraph (in memory) did not load the data: {status} {body[:200]!r}")
    # kg applies the derivation rule on every load and leaves its graph out of exports.
    rule = (REPO / "ontology" / "rules" / "derive.ru").read_bytes()
    for base in (ox_base, mem_base):
        status, body = Client(base).send("POST", "/update", rule, {"Content-Type": "application/sparql-update"})
        if status // 100 != 2:
            raise RuntimeError(f"oxigraph refused the derivation rule: {status} {body[:200]!r}")
    return (kg_proc, kg_base), (ox_proc, ox_base), (mem_proc, mem_base)


def slow_query_during(kg_base: str, result: dict):
    """A thread sending the slow query (timeout=2) once the load is under way."""
    def run(start):
        time.sleep(0.5)
        client = Client(kg_base)
        t0 = time.perf_counter()
        status, body = client.send("POST", "/sparql?timeout=2", SLOW.encode(),
                                   {"Content-Type": "application/sparql-query"})
        t1 = time.perf_counter()
        result.update(status=status, seconds=t1 - t0, body=body[:300].decode("utf-8", "replace"), window=(t0, t1))

    def start(t_start):
        t = threading.Thread(target=run, args=(t_start,))
        t.start()
        return t

    return start


_STACKS = {
    "stdlib ThreadingHTTPServer (keep-alive, TCP_NODELAY)": """
import sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        body = b'{"head":{},"boolean":true}'
        self.send_response(200); self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
""",
    "kg.server.http (h11 parsing, this server's layer)": """
import sys
from kg.server.app import Response, ServerConfig
from kg.server.http import make_http_server
class App:
    config = ServerConfig(quiet=True)
    def handle(self, req):
        return Response(200, b'{"head":{},"boolean":true}', "application/sparql-results+json")
make_http_server(App(), "127.0.0.1", int(sys.argv[1])).serve_forever()
""",
    "Flask 3 on Werkzeug's threaded server": """
import sys, logging
from flask import Flask, Response
from werkzeug.serving import run_simple
app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)
@app.get("/sparql")
def ask(): return Response(b'{"head":{},"boolean":true}', mimetype="application/sparql-results+json")
run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
""",
}


def _hammer(base: str, requests: int, clients: int) -> tuple[list[float], float]:
    """``requests`` GETs of a fixed path from ``clients`` keep-alive threads: (latencies, seconds)."""
    latencies, lock, count = [], threading.Lock(), iter(range(requests))

    def worker():
        client, mine = Client(base), []
        while True:
            with lock:
                if next(count, None) is None:
                    break
            t0 = time.perf_counter()
            client.send("GET", "/sparql?query=ASK%7B%7D")
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - t0


def compare_stacks(requests: int, clients: int, rounds: int = 5) -> str:
    """The same fixed answer from each HTTP stack: the stack's own cost per request.

    Every stack runs at once and the rounds alternate between them, so that whatever else the
    machine does falls on each alike; the table gives the median round.
    """
    procs, bases = {}, {}
    lines = ["| HTTP stack (fixed 26-byte answer) | req/s (median round) | rounds | p50 ms | p99 ms |",
             "|---|---:|---|---:|---:|"]
    try:
        for name, code in _STACKS.items():
            port = free_port()
            procs[name] = subprocess.Popen([sys.executable, "-c", code, str(port)], stderr=subprocess.DEVNULL)
            bases[name] = f"http://127.0.0.1:{port}"
        time.sleep(1)
        for name in list(bases):
            if procs[name].poll() is not None:  # e.g. Flask is not installed: pip install flask
                del bases[name]
                continue
            wait_for(bases[name] + "/sparql")
            _hammer(bases[name], max(100, requests // 10), clients)  # warm up
        runs = {name: [] for name in bases}
        for _ in range(rounds):
            for name, base in bases.items():
                latencies, elapsed = _hammer(base, requests // rounds, clients)
                runs[name].append((len(latencies) / elapsed, latencies))
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(10)
    for name in _STACKS:
        if name not in runs:
            lines.append(f"| {name} | not installed | | | |")
            continue
        rates = [r for r, _ in runs[name]]
        lat = sorted(x for _, xs in runs[name] for x in xs)
        lines.append(f"| {name} | {sorted(rates)[len(rates) // 2]:.0f} | {', '.join(f'{r:.0f}' for r in rates)} | "
                     f"{pct(lat, 50):.2f} | {pct(lat, 99):.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Load test of kg serve beside the Oxigraph server.")
    parser.add_argument("--requests", type=int, default=3000, help="requests per server and way of asking")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=None, help="kg serve --workers")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each sending requests/rounds to every server")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "server.json")
    parser.add_argument("--stacks", action="store_true", help="only compare the HTTP stacks (stdlib vs Flask)")
    args = parser.parse_args(argv)
    if args.stacks:
        print(compare_stacks(args.requests, args.clients, args.rounds))
        return 0
    deadline = time.monotonic() + WALL_CLOCK_CAP
    kg_args = ["--client-limit", str(args.clients * 2)] + (["--workers", str(args.workers)] if args.workers else [])
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        (kg_proc, kg_base), (ox_proc, ox_base), (mem_proc, mem_base) = start_servers(Path(tmp), kg_args)
        try:
            problems = check_same_rows(kg_base, ox_base) + check_same_rows(kg_base, mem_base)
            if problems:
                print("row counts differ:\n  " + "\n  ".join(problems), file=sys.stderr)
                return 1
            targets = (("kg-named", "kg-named", kg_base), ("kg-sparql", "kg-sparql", kg_base),
                       ("oxigraph", "oxigraph", ox_base), ("oxigraph-mem", "oxigraph", mem_base))
            for _, target, base in targets:  # warm up
                load(base, target, max(len(MIX) * 4, args.requests // 10), args.clients, deadline)
            # Rounds in turn, so that whatever else the machine does falls on every server alike.
            rounds = {key: [] for key, _, _ in targets}
            for _ in range(args.rounds):
                for key, target, base in targets:
                    rounds[key].append(load(base, target, args.requests // args.rounds, args.clients, deadline))
            results = {key: merge(parts) for key, parts in rounds.items()}
            slow: dict = {}
            results["kg-named+slow"] = load(kg_base, "kg-named", args.requests, args.clients, deadline,
                                            during=slow_query_during(kg_base, slow))
        finally:
            for proc in (kg_proc, ox_proc, mem_proc):
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    lo, hi = slow["window"]
    overlapping = [s for _, t, s, _ in results["kg-named+slow"]["raw"] if lo <= t <= hi]
    slow["requests_meanwhile"] = len(overlapping)
    slow["p99_meanwhile_ms"] = pct(sorted(overlapping), 99)
    report = render(results, slow, args)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for r in results.values():
        r.pop("raw", None)
    args.out.write_text(json.dumps({"results": results, "slow": slow, "machine": machine()}, indent=2))
    failed = any(r["errors"] for r in results.values()) or slow.get("status") != 503
    return 1 if failed else 0


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def render(results: dict, slow: dict, args) -> str:
    kg, ox_, mem = results["kg-named"], results["oxigraph"], results["oxigraph-mem"]
    lines = [
        f"Machine: {machine()}. {args.clients} concurrent keep-alive clients, {args.requests} requests per row, "
        f"the mix of {len(MIX)} named queries in turn, in {args.rounds} rounds alternating between the servers.",
        "",
        "| server, way of asking | requests | errors | req/s | p50 ms | p90 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"kg-named": "kg serve, /queries/NAME (bound)", "kg-sparql": "kg serve, /sparql (same text)",
             "oxigraph": "oxigraph serve --location DIR, /query",
             "oxigraph-mem": "oxigraph serve (in memory), /query",
             "kg-named+slow": "kg serve, /queries/NAME, slow query running"}
    for key, r in results.items():
        lines.append(f"| {names[key]} | {r['requests']} | {r['errors']} | {r['throughput']:.0f} | "
                     f"{r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} |")
    sparql = results["kg-sparql"]
    lines += ["", "p50 ratio, kg serve / Oxigraph (lower is better): "
                  f"/queries/NAME vs Oxigraph on disk **{kg['p50_ms'] / ox_['p50_ms']:.2f}**, "
                  f"vs Oxigraph in memory **{kg['p50_ms'] / mem['p50_ms']:.2f}**; "
                  f"/sparql vs on disk **{sparql['p50_ms'] / ox_['p50_ms']:.2f}**, "
                  f"vs in memory **{sparql['p50_ms'] / mem['p50_ms']:.2f}**.", "",
              "| query | kg /queries/NAME | kg /sparql | Oxigraph on disk | Oxigraph in memory |",
              "|---|---:|---:|---:|---:|"]
    for q, v in kg["per_query_p50_ms"].items():
        short = q.replace("https%3A%2F%2Fw3id.org%2Fai-capital-kg%2Fresource%2F", "")
        lines.append(f"| {short} | {v:.1f} | {sparql['per_query_p50_ms'][q]:.1f} | "
                     f"{ox_['per_query_p50_ms'][q]:.1f} | {mem['per_query_p50_ms'][q]:.1f} |")
    lines.append("(p50 per query, ms)")
    lines += ["", f"Slow query (`{SLOW}`, `timeout=2`): "
                  f"status {slow.get('status')} after {slow.get('seconds', 0):.2f} s; "
                  f"meanwhile the other clients completed {slow['requests_meanwhile']} requests, "
                  f"p99 {slow['p99_meanwhile_ms']:.1f} ms."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
