"""Benchmark kg on production triple stores: push, every named query and the analysis, on the
embedded store, Oxigraph server and Virtuoso, with the synthetic industry of kg/synthetic.py.

Usage:
    python benchmarks/bench_stores.py                        # 10^4 companies (a few minutes)
    python benchmarks/bench_stores.py --sizes 100000 --stores virtuoso --push-only
                                                             # 10^5 (manual: ~30 min, ~10 GB)
    python benchmarks/bench_stores.py --sizes 100000 --stores virtuoso --remote-only
                                                             # 10^5 queries on Virtuoso (manual: hours)
    KG_VIRTUOSO_MAX_ROWS=1000000 python benchmarks/bench_stores.py --sizes 100000 \
        --stores virtuoso,oxigraph --remote-only --one-write --page-size 1000000
                        # 10^5: one kg push per store, then every named query and kg exposure,
                        # chains and cycles in pages of 10^6 rows (manual: ~1.5 h); --no-queries
                        # leaves out the named queries
    python benchmarks/bench_stores.py --sizes 1000000        # 10^6: manual only (hours, >24 GB)
    python benchmarks/bench_stores.py --stores embedded,oxigraph

Stores come from KG_TEST_OXIGRAPH_URL / KG_TEST_VIRTUOSO_URL (as .ci/stores/start.sh exports
them); when those are unset the benchmark starts its own with .ci/stores/start.sh and stops
them afterwards. It prints one Markdown table row per measurement, with the targets as ratios
measured in the same run:

* ``kg push`` within 1.5× of a plain Graph Store PUT of the same file with curl;
* the embedded load (kg.store.load_store) within 2× of pyoxigraph's own load of the file;
* each named query on the embedded store within 1.5× of the same text run directly on pyoxigraph.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import timed  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # this checkout's kg, whatever else is installed

STORE_PATHS = {
    "oxigraph": ("KG_TEST_OXIGRAPH_URL", "/query", "/update", "/store", None),
    "virtuoso": ("KG_TEST_VIRTUOSO_URL", "/sparql", "/sparql-auth", "/sparql-graph-crud-auth", "dba"),
}


#: Seconds to wait after dropping graphs before the next write is timed: stores go on freeing
#: space in the background (Virtuoso for several seconds), which would slow the next write.
SETTLE = 10


def start_stores(names, workdir):
    """Use the stores of the environment, or start each with .ci/stores/start.sh in a folder of
    its own (so that it can be restarted empty alone); returns {name: environment} of those started."""
    started = {}
    for name in names:
        if os.environ.get(STORE_PATHS[name][0]):
            continue
        started[name] = dict(os.environ, KG_STORES_DIR=str(workdir / f"stores-{name}"))
        _start(name, started[name])
    return started


def _start(name, env):
    out = subprocess.run(["bash", str(REPO / ".ci/stores/start.sh"), name], env=env, check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        os.environ[key] = value


def empty_store(name, started):
    """Before a timed write: restart the store with an empty database when this benchmark started
    it (a store that has loaded and dropped graphs loads the next ones slower: a Virtuoso PUT of
    the 10^4 file took 4–5 s fresh and 9–14 s after a few loads and drops); otherwise drop the
    project's graphs and let the store settle."""
    if name in started:
        subprocess.run(["bash", str(REPO / ".ci/stores/stop.sh")], env=started[name], check=False,
                       capture_output=True)
        _start(name, started[name])
        time.sleep(2)
        return "fresh"
    import pyoxigraph as ox

    from kg.remote import RemoteStore

    query, update, graph_store, user, password = endpoints(name)
    remote = RemoteStore(query, update_endpoint=update, user=user, password=password, check_union=False, timeout=3600)
    for g in remote.graphs():
        remote.update(f"DROP SILENT GRAPH {ox.NamedNode(g)}")
    time.sleep(SETTLE)
    return "dropped"


def endpoints(name):
    var, q, u, s, user = STORE_PATHS[name]
    base = os.environ[var].rstrip("/")
    password = os.environ.get("KG_TEST_VIRTUOSO_PASSWORD", "dba") if user else None
    user = os.environ.get("KG_TEST_VIRTUOSO_USER", user) if user else None
    return base + q, base + u, base + s, user, password


def write_commands(name, path, graph):
    """The two writes compared: curl's Graph Store ``PUT`` of ``path`` into ``graph``, and
    ``kg push --no-validate`` of it (command and environment) into the store ``name``."""
    query, update, graph_store, user, password = endpoints(name)
    curl = ["curl", "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "-H", "Content-Type: application/n-triples",
            "--data-binary", f"@{path}", f"{graph_store}?graph={graph}"]
    env = dict(os.environ, KG_ENDPOINT_TIMEOUT="3600")
    if user:
        curl[1:1] = ["--digest", "-u", f"{user}:{password}"]
        env.update(KG_ENDPOINT_USER=user, KG_ENDPOINT_PASSWORD=password)
    push = [sys.executable, "-c", "from kg.cli import main; main()", "--data", str(path), "--no-validate",
            "--endpoint", query, "--graph-store", graph_store, "--update-endpoint", update, "push", "--format", "csv"]
    return curl, push, env


def local_work(path, graph, method):
    """In a child process: the ontology and bundled graph, then ``method`` of KGStore on the file
    (``load_file`` or ``load_rule_input``) and the derivation; (seconds, peak bytes, triples held)."""
    # The peak is the child's VmHWM: its ru_maxrss would count the parent's memory copied at fork.
    code = ("import re, sys, time; from pathlib import Path; from kg.store import load_store; "
            "kg = load_store((), validate=False, derive=False); "
            f"t = time.perf_counter(); kg.{method}(sys.argv[1], graph=sys.argv[2]); kg.derive(); "
            "print(time.perf_counter() - t, re.search(r'VmHWM:\\s*(\\d+)', Path('/proc/self/status').read_text())[1], "
            "kg.graph_sizes([sys.argv[2]])[sys.argv[2]])")
    out = subprocess.run([sys.executable, "-c", code, str(path), graph], check=True, capture_output=True,
                         text=True, cwd=REPO).stdout.split()
    return float(out[0]), int(out[1]) * 1024, int(out[2])  # VmHWM is in kB (KiB)


def bindings(query, hub):
    import pyoxigraph as ox

    from kg.vocab import KG, SRC

    values = {"entity": ox.NamedNode(hub), "layer": ox.NamedNode(KG.UserLayer)}
    named = {"section": KG.SectionTruth2, "kind": KG.Prediction, "type": KG.Company, "source": SRC + "synthetic-1"}
    out = {}
    for p in query.params:
        if p.optional and p.type != "entity":
            continue  # the whole graph: the largest result
        value = values.get(p.type) or named.get(p.name)
        out[p.name] = ox.NamedNode(value) if isinstance(value, str) else value
    return out


def direct(store, text, subs):
    """The same query run on pyoxigraph itself, every term of every row read."""
    import pyoxigraph as ox

    result = store.query(text, use_default_graph_as_union=True,
                         substitutions={ox.Variable(k): v for k, v in subs.items()} or None)
    names = [v.value for v in result.variables]
    return [[sol[n] for n in names] for sol in result]


def analysis(kg, hub):
    from kg.analysis.chains import find_chains
    from kg.analysis.cycles import find_cycles
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.view import build_money_graph, build_view

    out = {}
    out["kg exposure (rank_exposure: SPARQL + view + DebtRank)"] = timed(lambda: rank_exposure(kg, hub))[0]
    t_view, view = timed(lambda: build_view(kg))
    out["kg chains FROM (view + depth 5, cap 1000)"] = t_view + timed(lambda: find_chains(view, hub, max_depth=5, cap=1000))[0]
    t_money, money = timed(lambda: build_money_graph(kg))
    out["kg cycles (money graph + length ≤ 4, cap 1000)"] = t_money + timed(lambda: find_cycles(money, max_length=4, cap=1000))[0]
    return out


def run(n, seed, stores, started, workdir, rows, push_only=False, remote_only=False, remote_queries=True,
        page_size=None, one_write=False):
    import pyoxigraph as ox

    from kg.errors import KGError
    from kg.push import push_store
    from kg.queries import list_queries
    from kg.remote import RemoteStore
    from kg.store import load_store, user_graph_iri
    from kg.synthetic import write

    def add(store, what, secs, note=""):
        rows.append((n, store, what, secs, note))
        print(_row(rows[-1]), file=sys.stderr, flush=True)

    path = workdir / f"synthetic-{n}.nt"
    t_gen, triples = timed(lambda: write(path, n, seed))
    add("-", "generate the N-Triples file", t_gen, f"{triples:,} triples, {path.stat().st_size / 1e6:,.0f} MB")
    graph = user_graph_iri(path, set())
    repeat = 2 if n <= 10_000 else 1

    # -- embedded ---------------------------------------------------------------------------
    t_bulk, _ = timed(lambda: ox.Store().bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES,
                                                   to_graph=ox.NamedNode(graph)))
    t_plain, _ = timed(lambda: ox.Store().load(path=str(path), format=ox.RdfFormat.N_TRIPLES,
                                               to_graph=ox.NamedNode(graph)))
    t_kg, kg = timed(lambda: load_store([path], validate=False))
    add("embedded", "pyoxigraph Store.bulk_load of the file", t_bulk)
    add("embedded", "pyoxigraph Store.load of the file", t_plain)
    add("embedded", "kg load_store (+ bundled graph, derive)", t_kg,
        f"{t_kg / t_bulk:.2f}× bulk_load, {t_kg / t_plain:.2f}× load (target ≤ 2×)")
    hub = _hub(kg)
    queries = {name: q for name, q in list_queries().items() if q.form == "SELECT"}
    if not remote_only:
        # What kg push --no-validate reads of the file while it uploads, against a whole load of
        # it (each in a process of its own, for its peak memory).
        for what, method in (("the rule's lines only", "load_rule_input"), ("the whole file", "load_file")):
            secs, peak, held = local_work(path, graph, method)
            add("embedded", f"push's local work, {what}: read + derive", secs,
                f"{held:,} triples held; peak memory {peak / 2**30:.2f} GiB")
        for name, q in queries.items():
            b = bindings(q, hub)
            t_ox, raw = timed(lambda: direct(kg.store, q.text, b), repeat)
            t_sel, _ = timed(lambda: kg.select(q.text, b), repeat)
            add("embedded", f"query {name}", t_sel, f"{len(raw):,} rows; {t_sel / max(t_ox, 1e-6):.2f}× "
                                                     f"pyoxigraph ({t_ox:.3f} s) (target ≤ 1.5×)")
        for what, secs in analysis(kg, hub).items():
            add("embedded", what, secs)
    pushed = len(kg.store)

    # -- remote stores -------------------------------------------------------------------------
    for store in stores:
        def best_write(what):
            """The best of ``repeat`` timed writes, each into an empty store, and which store."""
            best = float("inf")
            for _ in range(repeat):
                state = empty_store(store, started)
                best = min(best, timed(what)[0])
            return best, "a freshly started, empty store" if state == "fresh" else "a dropped store"

        query, update, graph_store, user, password = endpoints(store)
        remote = lambda: RemoteStore(query, update_endpoint=update, graph_store=graph_store,  # noqa: E731
                                     user=user, password=password, check_union=False, timeout=3600)
        curl, cmd, env = write_commands(store, path, graph)
        if one_write:  # the data the reads below need, written once (kg push), without curl's rows
            t_push, into = best_write(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))
            add(store, "kg push --no-validate (whole command), the one write", t_push, f"into {into}")
        else:
            t_curl, into = best_write(lambda: subprocess.run(curl, check=True))
            t_upload, _ = best_write(lambda: push_store(kg, remote()))
            t_push, _ = best_write(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))
            add(store, "curl PUT of the file (Graph Store Protocol)", t_curl,
                f"{triples:,} triples; best of {repeat}, each into {into}")
            add(store, "push_store: PUT every graph + verify (loaded store given)", t_upload,
                f"{pushed:,} triples (file + bundled + derived); {t_upload / t_curl:.2f}× curl; "
                f"per triple {(t_upload / pushed) / (t_curl / triples):.2f}× curl")
            add(store, "kg push --no-validate (whole command: load and derive while uploading, verify)", t_push,
                f"{t_push / t_curl:.2f}× curl (target ≤ 1.5×)")
        if not (remote_only or one_write):  # at 10^5 Virtuoso once left this second push waiting on its locks
            t_again, _ = timed(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))
            add(store, "kg push again (replaces every graph; changes nothing)", t_again)
        if push_only:
            continue
        remote = RemoteStore(query, user=user, password=password, timeout=3600, page_size=page_size)
        paging = f"pages of {remote.page_size:,} rows"
        for name, q in queries.items() if remote_queries else ():
            b = bindings(q, hub)
            try:
                t_q, rows_ = timed(lambda: remote.select(q.text, b))
            except KGError as exc:
                add(store, f"query {name}", float("nan"), "failed: " + _first_words(exc))
                continue
            add(store, f"query {name}", t_q, f"{len(rows_):,} rows, {remote.requests} request(s) so far ({paging})")
        try:
            for what, secs in analysis(remote, hub).items():
                add(store, what, secs, paging)
        except KGError as exc:  # the next store still runs
            add(store, "kg exposure / chains / cycles", float("nan"), "failed: " + _first_words(exc))


def _first_words(exc, limit=160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _hub(kg) -> str:
    """The synthetic company with the most relationships."""
    rows = kg.select(
        "PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> SELECT ?c (COUNT(*) AS ?n) "
        "WHERE { ?r kg:kind ?k ; ?role ?c . ?c a kg:Company FILTER(CONTAINS(STR(?c), '/synth/')) } "
        "GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 1")
    return rows[0]["c"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000", help="comma-separated numbers of companies (default 10000)")
    p.add_argument("--stores", default="embedded,oxigraph,virtuoso", help="which stores (embedded always runs)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--push-only", action="store_true", help="on the remote stores, measure the push only")
    p.add_argument("--remote-only", action="store_true",
                   help="skip the embedded queries, analysis and local-work rows (the load still runs) and the "
                        "second push")
    p.add_argument("--no-queries", action="store_true",
                   help="on the remote stores, skip the named queries (the push and the analysis still run)")
    p.add_argument("--one-write", action="store_true",
                   help="on the remote stores, write the data once with kg push instead of the timed curl, "
                        "push_store and kg push writes (for runs that measure the reads)")
    p.add_argument("--page-size", type=int, default=None,
                   help="rows per page of the remote reads (default KG_ENDPOINT_PAGE_SIZE or 100000); above "
                        "100000 start Virtuoso with KG_VIRTUOSO_MAX_ROWS at least as large")
    args = p.parse_args()
    stores = [s for s in args.stores.split(",") if s in STORE_PATHS]
    workdir = Path(tempfile.mkdtemp(prefix="kg-bench-stores-"))
    started = start_stores(stores, workdir)
    rows: list[tuple] = []
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            t = time.perf_counter()
            run(n, args.seed, stores, started, workdir, rows, push_only=args.push_only, remote_only=args.remote_only,
                remote_queries=not args.no_queries, page_size=args.page_size, one_write=args.one_write)
            print(f"# {n:,} companies done in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    finally:
        for env in started.values():
            subprocess.run(["bash", str(REPO / ".ci/stores/stop.sh")], env=env, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print("| companies | store | measurement | seconds | notes |\n|---:|---|---|---:|---|")
    for row in rows:
        print(_row(row))


def _row(row) -> str:
    n, store, what, secs, note = row
    shown = "—" if secs != secs else f"{secs:.3f}"
    return f"| {n:,} | {store} | {what} | {shown} | {note} |"


if __name__ == "__main__":
    main()
