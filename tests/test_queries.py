"""Every named query parses, declares its parameters correctly, and returns exact rows."""

import re
from pathlib import Path

import pytest

from conftest import DATA
from kg.queries import list_queries, load_query, values_block

QUERIES = sorted(list_queries())
T = "https://example.org/test/"


@pytest.fixture(scope="module")
def mini():
    from kg.store import load_store

    return load_store([DATA / "mini.trig"], bundled=False)


@pytest.mark.parametrize("name", QUERIES)
def test_query_parses_and_projects_its_parameters(name):
    """Oxigraph substitutes a parameter only when it is projected and used in a triple pattern."""
    import pyoxigraph as ox

    q = load_query(name)
    ox.Store().query(q.text) if q.form != "SELECT" or not q.params else None
    head = q.text[q.text.upper().index(q.form):].split("WHERE")[0]
    body = q.text.split("WHERE", 1)[1]
    for p in q.params:
        assert f"?{p.name}" in head or "SELECT *" in head, f"?{p.name} not projected in {name}"
        assert re.search(rf"\?{p.name}\b(?!\s*\))", body), f"?{p.name} unused in {name}"


@pytest.mark.parametrize("name", QUERIES)
def test_query_runs_on_the_bundled_graph(kg_store, name):
    assert isinstance(kg_store.select(load_query(name).text) if load_query(name).form == "SELECT" else
                      kg_store.construct(load_query(name).text), list)


def test_relationships_rows_are_exact(mini):
    rows = mini.select(load_query("relationships").text)
    got = {(r["rel"][len(T):], r["from"][len(T):], r["to"][len(T):], r["value"], r["qualifiers"], r["status"]) for r in rows}
    assert got == {
        ("alpha-invests-beta", "Alpha", "Beta", 10, "exact", None),
        # customer → supplier; two qualifiers are kept.
        ("beta-buys-cloud", "Beta", "Alpha", 4, ",".join(sorted(["about", "reported"])), "committed"),
    } or got == {
        ("alpha-invests-beta", "Alpha", "Beta", 10, "exact", None),
        ("beta-buys-cloud", "Beta", "Alpha", 4, "reported,about", "committed"),
    }


def test_money_flows_both_ways_are_derived(mini):
    pays = {(r["a"][len(T):], r["b"][len(T):]) for r in mini.select(
        "PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> SELECT ?a ?b WHERE { ?a kg:paysTo ?b }")}
    assert pays == {("Alpha", "Beta"), ("Beta", "Alpha")}


def test_entity_relationships_in_and_out(mini):
    rows = mini.select(load_query("entity-relationships").text, {"id": T + "Alpha"})
    assert sorted((r["direction"], r["other"][len(T):], r["value"]) for r in rows) == [("in", "Beta", 4), ("out", "Beta", 10)]


def test_claims_about_binds_the_entity(mini):
    assert [r["id"][len(T):] for r in mini.select(load_query("claims-about").text, {"about": T + "Beta"})] == ["claim-1"]
    assert mini.select(load_query("claims-about").text, {"about": T + "Group"}) == []


def test_layer_parameter_filters(mini):
    from kg.vocab import KG

    assert len(mini.select(load_query("relationships").text, {"layer": KG.UserLayer})) == 2
    assert mini.select(load_query("relationships").text, {"layer": KG.ArticleLayer}) == []


def test_entity_groups(mini):
    rows = mini.select(load_query("entity-groups").text, {"id": T + "Group"})
    assert [(r["direction"], r["other"][len(T):]) for r in rows] == [("has member", "Beta")]


def test_values_block_serialises_terms_not_strings():
    import pyoxigraph as ox

    block = values_block("x", [ox.NamedNode("https://e.org/a"), ox.Literal('say "hi"')])
    assert block == 'VALUES ?x { <https://e.org/a> "say \\"hi\\"" }'
    with pytest.raises(Exception):
        values_block("x", ["} ; DROP ALL ; {"])
    with pytest.raises(Exception):
        values_block("x y", [])


def test_injection_through_a_parameter_is_just_a_value(kg_store):
    rows = kg_store.select(load_query("claims-about").text, {"about": '"> } DROP ALL { <x'})
    assert rows == []


def test_unknown_query_suggests_nearest():
    from kg.errors import QueryError

    with pytest.raises(QueryError, match="nearest: relationships"):
        load_query("relationship")


def test_header_parameters_are_read_from_the_file(tmp_path: Path):
    f = tmp_path / "q.rq"
    f.write_text("# Find things.\n# param ?x entity  the thing\n# param ?n decimal?  a number\nSELECT ?x ?n WHERE { ?x ?p ?n }\n")
    q = load_query(str(f))
    assert [(p.name, p.type, p.optional) for p in q.params] == [("x", "entity", False), ("n", "decimal", True)]
    assert q.description == "Find things."
