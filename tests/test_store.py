"""Loading: the bundled graph, users' files into their own graphs, errors with file and line."""

import hashlib

import pytest

from conftest import DATA
from kg.errors import InputError, ParseError, ValidationError
from kg.store import load_store
from kg.vocab import DERIVED_GRAPH, KG, USER_GRAPH_BASE

GOOD_TTL = """@prefix kg: <https://w3id.org/ai-capital-kg/ontology#> .
@prefix kgr: <https://w3id.org/ai-capital-kg/resource/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix u: <https://example.org/u/> .
u:src a kg:Source ; dcterms:title "My desk notes" ; kg:layer kg:UserLayer .
u:rel a kg:Relationship ; kg:kind kg:ChipSupply ; kg:customer kgr:Oracle ; kg:supplier kgr:AMD ; dcterms:source u:src .
"""


def test_bundled_graph_has_one_named_graph_per_source(kg_store):
    graphs = kg_store.graphs()
    assert "https://w3id.org/ai-capital-kg/graph/article" in graphs
    context = [g for g in graphs if "/graph/context/" in g]
    assert len(context) >= 25
    sources = kg_store.select("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> SELECT ?g WHERE { ?s kg:namedGraph ?g }")
    assert set(context) <= {r["g"] for r in sources}


def test_user_turtle_goes_into_its_own_graph_and_joins_the_union(tmp_path):
    f = tmp_path / "my notes.ttl"
    f.write_text(GOOD_TTL, encoding="utf-8")
    kg = load_store([f])
    info = kg.files[-1]
    assert info.graphs == [USER_GRAPH_BASE + "my-notes"]
    assert kg.ask("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/> "
                  "ASK { kgr:Oracle kg:buysFrom kgr:AMD }")


def test_user_file_is_not_modified(tmp_path):
    f = tmp_path / "notes.ttl"
    f.write_text(GOOD_TTL, encoding="utf-8")
    before = hashlib.sha256(f.read_bytes()).hexdigest()
    load_store([f])
    assert hashlib.sha256(f.read_bytes()).hexdigest() == before


def test_malformed_turtle_names_file_and_line(tmp_path):
    f = tmp_path / "bad.ttl"
    f.write_text(GOOD_TTL + 'u:x u:y "unterminated .\n', encoding="utf-8")
    with pytest.raises(ParseError) as err:
        load_store([f])
    assert err.value.line == 8
    assert str(err.value).startswith(f"{f}:8:")


def test_unknown_file_type_lists_the_formats(tmp_path):
    f = tmp_path / "x.xlsx"
    f.write_text("x")
    with pytest.raises(InputError, match=r"unknown file type '.xlsx'.*\.ttl"):
        load_store([f])


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_store([tmp_path / "nope.ttl"])


def test_shacl_violation_lists_each_node_and_constraint(tmp_path):
    f = tmp_path / "invalid.ttl"
    f.write_text(GOOD_TTL.replace("dcterms:source u:src .", ".").replace(
        "kg:supplier kgr:AMD", "kg:supplier kgr:AMD ; kg:amount [ a <https://schema.org/MonetaryAmount> ; "
        "<https://schema.org/value> \"lots\" ; kg:qualifier kg:About ]"), encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        load_store([f])
    lines = err.value.violations
    assert any("<https://example.org/u/rel>" in v and "dcterms:source" in v for v in lines)
    assert any("currency" in v for v in lines)
    assert any("xsd:decimal" in v for v in lines)


def test_undeclared_term_is_reported(tmp_path):
    f = tmp_path / "typo.ttl"
    f.write_text(GOOD_TTL.replace("kg:customer", "kg:custmer"), encoding="utf-8")
    with pytest.raises(ValidationError, match="custmer"):
        load_store([f])


def test_trig_default_graph_goes_to_the_user_graph(tmp_path):
    f = tmp_path / "mixed.trig"
    f.write_text(GOOD_TTL + "\nGRAPH <https://example.org/g2> { u:a u:b u:c }\n", encoding="utf-8")
    kg = load_store([f], validate=False)
    assert sorted(kg.files[-1].graphs) == ["https://example.org/g2", USER_GRAPH_BASE + "mixed"]


def test_two_files_with_one_name_get_two_graphs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "notes.ttl").write_text(GOOD_TTL.replace("u:rel", f"u:rel-{d}"), encoding="utf-8")
    kg = load_store([tmp_path / "a" / "notes.ttl", tmp_path / "b" / "notes.ttl"])
    assert [f.graphs for f in kg.files[-2:]] == [[USER_GRAPH_BASE + "notes"], [USER_GRAPH_BASE + "notes-2"]]


def test_derived_graph_is_rebuilt_not_accumulated(kg_store):
    before = len(list(kg_store.store.quads_for_pattern(None, None, None, __import__("pyoxigraph").NamedNode(DERIVED_GRAPH))))
    kg_store.derive()
    after = len(list(kg_store.store.quads_for_pattern(None, None, None, __import__("pyoxigraph").NamedNode(DERIVED_GRAPH))))
    assert before == after > 0


def test_json_ld_and_ntriples_load(tmp_path):
    import pyoxigraph as ox

    store = ox.Store()
    store.load(GOOD_TTL.encode(), format=ox.RdfFormat.TURTLE)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store]
    (tmp_path / "n.nt").write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    (tmp_path / "j.jsonld").write_bytes(ox.serialize(triples, format=ox.RdfFormat.JSON_LD))
    kg = load_store([tmp_path / "n.nt"])
    kg2 = load_store([tmp_path / "j.jsonld"])
    assert kg.files[-1].quads == kg2.files[-1].quads >= len(triples)


def test_csv_relationships_resolve_known_names(tmp_path):
    kg = load_store([DATA / "deals.csv"])
    rows = kg.select("""PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/>
        SELECT ?s ?o WHERE { GRAPH <https://w3id.org/ai-capital-kg/graph/user/deals> { ?r kg:customer ?s ; kg:supplier ?o } }""")
    pairs = {(r["s"].rsplit("/", 1)[-1], r["o"].rsplit("/", 1)[-1]) for r in rows}
    # "微軟" resolves to the bundled Microsoft; "Acme AI" is a new user actor.
    assert pairs == {("Oracle", "Nvidia"), ("Acme-AI", "Microsoft")}
    assert kg.ask("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> ASK { ?s kg:layer kg:UserLayer }")


# -- terms to Python values -------------------------------------------------------------------------
XSDNS = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.parametrize("term, value", [
    (None, None),
    ("iri", "https://example.org/a"),
    ("blank", "_:b1"),
    (("42", "integer"), 42),
    (("-7", "long"), -7),
    (("3", "positiveInteger"), 3),
    (("2.50", "decimal"), 2.5),
    (("300.0", "decimal"), 300),  # a whole decimal is an int (amounts in US$ bn)
    (("1E3", "double"), 1000),
    (("0.25", "float"), 0.25),
    (("true", "boolean"), True),
    (("false", "boolean"), False),
    (("2025-11-25", "date"), "2025-11-25"),
    (("hello", "string"), "hello"),
    (("微軟", "zh-Hant"), "微軟"),
])
def test_to_python(term, value):
    import pyoxigraph as ox

    from kg.store import to_python

    if term == "iri":
        term = ox.NamedNode("https://example.org/a")
    elif term == "blank":
        term = ox.BlankNode("b1")
    elif isinstance(term, tuple):
        text, kind = term
        term = (ox.Literal(text, language=kind) if kind == "zh-Hant"
                else ox.Literal(text, datatype=ox.NamedNode(XSDNS + kind)))
    result = to_python(term)
    assert result == value and type(result) is type(value)


def test_to_python_reads_back_what_to_term_wrote():
    from decimal import Decimal

    from hypothesis import given
    from hypothesis import strategies as st

    from kg.store import to_python, to_term

    @given(st.one_of(st.integers(), st.booleans(), st.text(),
                     st.decimals(allow_nan=False, allow_infinity=False, places=4).filter(lambda d: d != d.to_integral_value())))
    def check(value):
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return  # an IRI, read back as the same string
        back = to_python(to_term(value))
        assert back == (float(value) if isinstance(value, Decimal) else value)
        assert type(back) is (float if isinstance(value, Decimal) else type(value))

    check()


def test_graph_sizes_of_some_graphs(kg_store):
    import pyoxigraph as ox

    graphs = [DERIVED_GRAPH, "https://w3id.org/ai-capital-kg/graph/article", "https://example.org/not-loaded"]
    expected = [sum(1 for _ in kg_store.store.quads_for_pattern(None, None, None, ox.NamedNode(g))) for g in graphs]
    assert expected[0] > 0 and expected[1] > 0 and expected[2] == 0
    assert kg_store.graph_sizes(graphs) == dict(zip(graphs, expected))
    assert {g: n for g, n in kg_store.graph_sizes().items() if g in graphs} == dict(zip(graphs[:2], expected[:2]))
