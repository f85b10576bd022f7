"""Start-up cost of the CLI and the choice of store, measured on the bundled graph.

Run:  python benchmarks/bench_startup.py [--runs 15]

Prints two tables:
1. wall time of `kg show OpenAI` (and a few other commands) against a bare `python -c "import rdflib"`
   (the issue's target: within 2x);
2. loading the bundled graph and running the named query `relationships` with rdflib's memory
   store, rdflib on the Oxigraph store (oxrdflib) and pyoxigraph directly.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def startup_table(runs: int) -> None:
    kg = [sys.executable, "-m", "kg.cli"]
    base = wall([sys.executable, "-c", "import rdflib"], runs)
    rows = [("python -c 'import rdflib' (reference)", base)]
    for args in (["show", "OpenAI"], ["info"], ["claims", "--about", "Oracle"], ["--help"]):
        rows.append(("kg " + " ".join(args), wall(kg + args, runs)))
    print(f"{'command':45} {'median s':>9} {'x rdflib':>9}")
    for name, t in rows:
        print(f"{name:45} {t:9.3f} {t / base:9.2f}")


def store_table(runs: int) -> None:
    import pyoxigraph as ox
    import rdflib

    from kg.queries import load_query

    files = sorted((REPO / "data").glob("*.trig"))
    onto = [REPO / "ontology" / "ai-capital-kg.ttl", REPO / "ontology" / "concepts.ttl"]

    def rdflib_dataset(query, store="default", prefix=""):
        """rdflib's API on its memory store, or on Oxigraph (oxrdflib: store "Oxigraph", formats "ox-…")."""
        ds = rdflib.Dataset(store=store, default_union=True)
        for f in files:
            ds.parse(f, format=prefix + "trig")
        for f in onto:
            ds.graph(rdflib.URIRef("urn:onto")).parse(f, format=prefix + "turtle")
        t = time.perf_counter()
        n = len(list(ds.query(query)))
        return time.perf_counter() - t, n

    def rdflib_memory(query):
        return rdflib_dataset(query)

    def oxrdflib_store(query):
        return rdflib_dataset(query, store="Oxigraph", prefix="ox-")

    def pyoxigraph_store(query):
        s = ox.Store()
        for f in files:
            s.load(path=str(f), format=ox.RdfFormat.TRIG)
        for f in onto:
            s.load(path=str(f), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:onto"))
        t = time.perf_counter()
        n = len(list(s.query(query, use_default_graph_as_union=True)))
        return time.perf_counter() - t, n

    print()
    print(f"{'store':28} {'query':14} {'load+query s':>12} {'query s':>9} {'rows':>5}")
    for qname in ("relationships", "entities", "coverage"):
        query = load_query(qname).text
        _store_rows(qname, query, rdflib_memory, oxrdflib_store, pyoxigraph_store, runs)


def _store_rows(qname, query, *fns_and_runs):
    *fns, runs = fns_and_runs
    names = ("rdflib memory", "rdflib + oxrdflib", "pyoxigraph")
    for name, fn in zip(names, fns):
        totals, queries = [], []
        rows = 0
        for _ in range(max(3, runs // 3)):
            t = time.perf_counter()
            try:
                q, rows = fn(query)
            except Exception as exc:  # a store that cannot run the query is reported, not hidden
                print(f"{name:28} {qname:14} failed: {type(exc).__name__}: {exc}")
                break
            totals.append(time.perf_counter() - t)
            queries.append(q)
        else:
            print(f"{name:28} {qname:14} {statistics.median(totals):12.3f} {statistics.median(queries):9.3f} {rows:5d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    startup_table(args.runs)
    store_table(args.runs)


if __name__ == "__main__":
    main()
