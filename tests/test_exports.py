"""kg export of every format loads back: the same graph from dataset formats, the same triples
from triple formats, the same actor graph from GraphML/GEXF; files written with the user's umask."""

from __future__ import annotations

import os

import pyoxigraph as ox
import pytest

from conftest import DATA
from kg.errors import InputError
from kg.store import load_store
from kg.vocab import DERIVED_GRAPH, USER_GRAPH_BASE

DATASET_FORMATS = {"trig": "trig", "nquads": "nq", "jsonld": "jsonld"}
TRIPLE_FORMATS = {"turtle": "ttl", "nt": "nt", "rdfxml": "rdf"}


def canonical(quads) -> list[str]:
    """Sorted canonical N-Quads (blank nodes relabelled by RDFC-1.0), derived graph left out."""
    ds = ox.Dataset([q for q in quads if not (isinstance(q.graph_name, ox.NamedNode)
                                              and q.graph_name.value == DERIVED_GRAPH)])
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in ds)


def as_triples(quads) -> list[ox.Quad]:
    return [ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in
            {ox.Triple(q.subject, q.predicate, q.object) for q in quads}]


@pytest.fixture(scope="module")
def original():
    """The bundled graph with the documented CSV file (a user graph of new actors and a deal)."""
    return load_store([DATA / "deals.csv"])


@pytest.fixture(scope="module")
def exported(original, tmp_path_factory):
    from kg.export import export_store

    d = tmp_path_factory.mktemp("exports")
    out = {}
    for fmt, suffix in {**DATASET_FORMATS, **TRIPLE_FORMATS}.items():
        out[fmt] = d / f"export.{suffix}"
        out[fmt].write_bytes(export_store(original, fmt))
    return out


@pytest.mark.parametrize("fmt", sorted(DATASET_FORMATS))
@pytest.mark.parametrize("bundled", [True, False])
def test_dataset_export_loads_back_as_the_same_graph(original, exported, fmt, bundled):
    """A dataset export keeps every graph's name; loaded back, with or without the bundled
    graph, its copies replace the bundled graphs: the dataset is the original's, quad for quad
    (blank nodes canonicalised), not the bundled graph twice."""
    again = load_store([exported[fmt]], bundled=bundled)
    assert canonical(again.store) == canonical(original.store)
    if bundled:
        assert any("a kg export" in w and "replace them" in w for w in again.warnings)


@pytest.mark.parametrize("fmt", sorted(TRIPLE_FORMATS))
def test_triple_export_loads_back_as_the_same_triples_without_bundled(original, exported, fmt):
    """A triple export is the union of the graphs (names lost: lossy). With --no-bundled it
    loads into one user graph whose triples, less the 4 of the source node kg gives a file
    without one, are the original's union."""
    again = load_store([exported[fmt]], bundled=False, validate=False)
    info = again.files[-1]
    assert info.graphs == [USER_GRAPH_BASE + "export"] and len(info.added) == 4
    graph = ox.NamedNode(USER_GRAPH_BASE + "export")
    mine = [q for q in again.store.quads_for_pattern(None, None, None, graph) if q not in set(info.added)]
    assert canonical(as_triples(mine)) == canonical(as_triples(
        q for q in original.store if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == DERIVED_GRAPH)))


@pytest.mark.parametrize("fmt", sorted(TRIPLE_FORMATS))
def test_triple_export_beside_the_bundled_graph_is_an_error(exported, fmt):
    with pytest.raises(InputError, match=r"a kg export in a triple format .* load it with --no-bundled"):
        load_store([exported[fmt]])


def test_cli_export_then_data_reproduces_the_counts(invoke, tmp_path):
    """kg --data deals.csv export -o x.trig, then kg --data x.trig info: the same triples."""
    out = tmp_path / "x.trig"
    assert invoke("--data", DATA / "deals.csv", "export", "-o", out).exit_code == 0
    before = invoke("--data", DATA / "deals.csv", "info", "--format", "json")
    after = invoke("--data", out, "info", "--format", "json")
    import json

    assert json.loads(after.stdout)["triples"] == json.loads(before.stdout)["triples"]
    assert invoke("validate", out).exit_code == 0


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_export_round_trips_the_actor_graph(invoke, tmp_path, fmt):
    """GraphML/GEXF hold the actor graph of kg viz: networkx reads back its edges with their
    relationship, kind and amount (the RDF graph is not in it); kg --data refuses the file."""
    import networkx as nx

    from kg.viz.graph import build_graph

    out = tmp_path / f"g.{fmt}"
    res = invoke("export", "-o", out)
    assert res.exit_code == 0, res.output
    back = (nx.read_graphml if fmt == "graphml" else nx.read_gexf)(out)
    view = build_graph(load_store())
    want = sorted((u, v, d.get("rel") or "", d.get("kind") or "", d.get("amount") or 0) for u, v, d in view.edges(data=True))
    got = sorted((u, v, d.get("rel") or "", d.get("kind") or "", d.get("amount") or 0) for u, v, d in back.edges(data=True))
    assert got == want and len(got) > 50
    res = invoke("--data", out, "info")
    assert res.exit_code == 1
    assert "cannot be loaded back; export trig, nquads or jsonld" in res.stderr


def test_turtle_suffix_loads_as_turtle(tmp_path):
    f = tmp_path / "mine.turtle"
    f.write_text('<https://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "a" .\n', encoding="utf-8")
    kg = load_store([f], bundled=False, validate=False)
    assert kg.files[-1].format == "turtle"


@pytest.mark.parametrize("output, fmt, expected", [
    ("g.turtle", None, "turtle"), ("g.ttl", None, "turtle"), ("g.graphml", None, "graphml"), ("g.nq", None, "nquads"),
    ("g.out", None, "trig"), (None, None, "trig"), ("g.out", "nt", "nt"), ("g.trig", "nt", "nt"), ("g.nq", "nt", "nt"),
])
def test_export_format_from_suffix(output, fmt, expected):
    from kg.exports import export_format

    assert export_format(fmt, output) == expected


def test_export_format_and_suffix_that_disagree_exit_2(invoke, tmp_path):
    res = invoke("export", "--format", "jsonld", "-o", tmp_path / "g.ttl")
    assert res.exit_code == 2 and "--format jsonld does not match the suffix" in res.stderr
    assert not (tmp_path / "g.ttl").exists()


def test_new_file_gets_the_umask(invoke, tmp_path):
    """umask 022: a new file is 0666 & ~022 = 0644 (it was 0600, mkstemp's mode)."""
    old = os.umask(0o022)
    try:
        assert invoke("export", "--format", "nt", "-o", tmp_path / "a.nt").exit_code == 0
        os.umask(0o077)
        assert invoke("export", "--format", "nt", "-o", tmp_path / "b.nt").exit_code == 0
    finally:
        os.umask(old)
    assert oct((tmp_path / "a.nt").stat().st_mode & 0o777) == oct(0o644)
    assert oct((tmp_path / "b.nt").stat().st_mode & 0o777) == oct(0o600)


def test_force_keeps_the_permissions_of_the_file_it_replaces(invoke, tmp_path):
    """An existing 0640 file stays 0640 when --force replaces it (it became 0600)."""
    f = tmp_path / "a.nt"
    f.write_text("old\n", encoding="utf-8")
    f.chmod(0o640)
    assert invoke("export", "--format", "nt", "-o", f, "--force").exit_code == 0
    assert oct(f.stat().st_mode & 0o777) == oct(0o640)
    assert f.read_text(encoding="utf-8") != "old\n"


def test_two_exports_add_up_instead_of_replacing_each_other(original, exported):
    """trig and nquads of one graph, loaded together: the first replaces the bundled graphs, the
    second adds its copy to the first's (the same quads, so the same dataset but for the blank
    amount nodes, which each file brings its own of)."""
    again = load_store([exported["trig"], exported["nquads"]], validate=False)
    triples = {(q.subject, q.predicate, q.object, q.graph_name) for q in again.store if not isinstance(q.subject, ox.BlankNode)
               and not isinstance(q.object, ox.BlankNode)}
    want = {(q.subject, q.predicate, q.object, q.graph_name) for q in original.store if not isinstance(q.subject, ox.BlankNode)
            and not isinstance(q.object, ox.BlankNode)}
    assert triples == want
    blank = lambda kg: sum(1 for q in kg.store if isinstance(q.subject, ox.BlankNode))  # noqa: E731
    assert blank(again) == 2 * blank(original)
