"""Parity: every named query, and `kg exposure`, `kg chains` and `kg cycles`, give the same
results on the embedded store, on Oxigraph server and on Virtuoso.

The bundled graph is pushed to each store once per module (see tests/test_remote.py for how
the stores are found; skipped without them, failing under CI=true). Term forms that the stores
are free to choose are normalised, nothing else:

* GROUP_CONCAT joins its values in any order: such columns compare as sorted lists, and an
  empty one is "" on Virtuoso but unbound on Oxigraph;
* Virtuoso returns the value of a boolean expression as 0/1;
* numbers compare as numbers (``300000000000`` = ``3.0E11``), blank nodes by kind only;
* language tags compare case-insensitively (Oxigraph lower-cases them; Virtuoso keeps them).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal

import pyoxigraph as ox
import pytest

from kg.queries import list_queries
from test_remote import STORES, bindings_for, comparable, push_fresh, remote_store, store_name  # noqa: F401

QUERIES = list_queries()


@pytest.fixture(scope="module", params=list(STORES))
def pushed(request):
    """(store name, RemoteStore) with exactly the bundled graph in it."""
    remote = remote_store(request.param)
    push_fresh(remote)
    return request.param, remote


def concat_columns(text: str) -> dict[str, str]:
    """``?var`` → separator, for each ``(GROUP_CONCAT(… ; separator="X") AS ?var)`` of a query."""
    out = {}
    for m in re.finditer(r'GROUP_CONCAT\s*\((?:[^()]|\([^()]*\))*?(?:separator\s*=\s*"([^"]*)")?\s*\)\s*AS\s*\?(\w+)',
                         text, re.I | re.S):
        out[m.group(2)] = m.group(1) if m.group(1) is not None else " "
    return out


def normal_row(row: dict, concat: dict[str, str]):
    out = []
    for key, value in sorted(row.items()):
        if key in concat:
            value = tuple(sorted(v for v in (value or "").split(concat[key]) if v)) if value not in (None, "") else ()
        elif isinstance(value, bool):
            value = int(value)
        elif isinstance(value, (int, float, Decimal)):
            value = Decimal(str(value)).normalize()
        elif isinstance(value, str) and value.startswith("_:"):
            value = "_:"
        out.append((key, value))
    return tuple(out)


def cases():
    for name, q in QUERIES.items():
        if q.form != "SELECT":
            continue
        required = [p for p in q.params if not p.optional]
        if not required:
            yield pytest.param(name, False, id=f"{name}-unbound")
        if q.params:
            yield pytest.param(name, True, id=f"{name}-bound")


@pytest.mark.parametrize("name, bound", list(cases()))
def test_named_query_gives_the_same_rows(pushed, kg_store, name, bound):
    store, remote = pushed
    query = QUERIES[name]
    bindings = bindings_for(query) if bound else {}
    if not bound:
        bindings = {}
    concat = concat_columns(query.text)
    expected = Counter(normal_row(r, concat) for r in kg_store.select(query.text, bindings))
    got = Counter(normal_row(r, concat) for r in remote.select(query.text, bindings))
    assert got == expected, f"{name} on {store}: only embedded {list(expected - got)[:3]}; only remote {list(got - expected)[:3]}"


def test_every_named_query_has_a_parity_case():
    names = {c.values[0] for c in cases()}
    assert names == {n for n, q in QUERIES.items() if q.form == "SELECT"}


ANALYSIS = [
    ("exposure", "--shock", "OpenAI"),
    ("exposure", "--shock", "Oracle", "--method", "linear", "--layer", "context"),
    ("chains", "OpenAI"),
    ("chains", "Nvidia", "Oracle", "--max-depth", "4"),
    ("cycles",),
    ("cycles", "--max-length", "4", "--layer", "article"),
]


@pytest.mark.parametrize("args", ANALYSIS, ids=lambda a: "-".join(a))
def test_analysis_gives_the_same_results(pushed, invoke, args):
    from kg.cli import cli

    if args[0] not in cli.commands:
        pytest.fail(f"kg {args[0]} does not exist yet")
    store, remote = pushed
    here = invoke(*args, "--format", "json")
    there = invoke("--endpoint", remote.endpoint, *args, "--format", "json")
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    a, b = json.loads(here.stdout), json.loads(there.stdout)
    if args[0] == "exposure":
        # The ranking itself: who is hurt, in order, with the same impact.
        assert [(r["id"], round(r["h"], 9)) for r in b["losses"]] == [(r["id"], round(r["h"], 9)) for r in a["losses"]]
    # the analyses read rows in a canonical order, never the store's (tests/test_analysis_row_order.py)
    assert comparable(b) == comparable(a)


def test_dialect_forms_take_the_same_parameters():
    """queries/dialects/virtuoso/ rewrites only named queries, with the same parameters."""
    from kg.queries import dialect_texts, parse_query_file
    from kg.resources import queries_dir

    texts = dialect_texts("virtuoso")
    assert QUERIES["analysis-reachable"].text in texts
    for path in (queries_dir() / "dialects" / "virtuoso").glob("*.rq"):
        assert parse_query_file(path).params == QUERIES[path.stem].params, path.name


def test_reachable_over_a_synthetic_industry(store_name, tmp_path):
    """analysis-reachable over 300 synthetic companies: the `+` path Virtuoso cannot evaluate
    at this size (its transitive memory runs out) gives the same rows through kg's Virtuoso
    form as embedded and on Oxigraph server."""
    from kg.store import load_store
    from kg.synthetic import write

    path = tmp_path / "industry.nt"
    write(path, 300, 1)
    local = load_store([path], validate=False)
    remote = remote_store(store_name)
    push_fresh(remote, [path])
    text = QUERIES["analysis-reachable"].text
    for source in ("https://w3id.org/ai-capital-kg/resource/synth/C0000001",
                   "https://w3id.org/ai-capital-kg/resource/OpenAI"):
        here = local.select(text, {"source": ox.NamedNode(source)})
        there = remote.select(text, {"source": ox.NamedNode(source)})
        assert len(here) > 20
        assert Counter(map(repr, there)) == Counter(map(repr, here)), source
    push_fresh(remote)  # the bundled graph again, for the module's other tests


def test_a_users_query_file_behaves_the_same_on_the_remote_store(pushed, invoke, tmp_path):
    """A remote store knows nothing of kg's prefixes, of its SELECT * order or of its way of
    binding a parameter the query does not select: `kg --endpoint … query FILE.rq` gives what
    the embedded store gives, and the same one-line message for an undeclared prefix."""
    store, remote = pushed
    files = {
        "star.rq": "SELECT * WHERE { ?s rdfs:label ?label ; a ?type . FILTER(?s = kgr:Oracle) }\n",
        "count.rq": "# param ?kind iri  a kind\nSELECT (COUNT(?r) AS ?n) WHERE { ?r a kg:Relationship ; kg:kind ?kind }\n",
        "bad.rq": "SELECT ?s WHERE {\n  ?s x:name ?n }\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name, extra in (("star.rq", ()), ("count.rq", ("--param", "kind=kg:CloudServicesPurchase"))):
        here = invoke("query", tmp_path / name, *extra, "--format", "csv")
        there = invoke("--endpoint", remote.endpoint, "query", tmp_path / name, *extra, "--format", "csv")
        assert here.exit_code == 0 and there.exit_code == 0, there.stderr
        assert there.stdout.splitlines()[0] == here.stdout.splitlines()[0]
        assert sorted(there.stdout.lower().splitlines()[1:]) == sorted(here.stdout.lower().splitlines()[1:])
    here, there = invoke("query", tmp_path / "bad.rq"), invoke("--endpoint", remote.endpoint, "query", tmp_path / "bad.rq")
    assert there.exit_code == here.exit_code == 1
    assert there.stderr == here.stderr and "unknown prefix `x:` at line 2" in here.stderr
