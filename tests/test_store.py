"""Loading: the bundled graph, users' files into their own graphs, errors with file and line."""

import hashlib
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATA
from kg.errors import InputError, ParseError, ValidationError
from kg.store import load_store
from kg.vocab import DERIVED_GRAPH, SRC, USER_GRAPH_BASE

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


# -- kg push --no-validate: only the triples the derivation rule reads -------------------------
_K = "https://w3id.org/ai-capital-kg/ontology#"


def _graph_lines(kg, graph: str) -> list[str]:
    """The graph's triples as N-Triples lines with every blank node written ``_:b`` (each load
    names blank nodes afresh), sorted: a multiset to compare two loads of one file by."""
    import re

    import pyoxigraph as ox

    return sorted(re.sub(r"_:\w+", "_:b", str(ox.Triple(q.subject, q.predicate, q.object)))
                  for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def test_rule_input_of_the_synthetic_industry_derives_what_the_whole_file_derives(tmp_path):
    from kg.synthetic import write

    path = tmp_path / "industry.nt"
    write(path, 300, 1)
    graph = USER_GRAPH_BASE + "industry"
    whole = load_store([path], validate=False)
    part = load_store((), validate=False, derive=False)
    info = part.load_rule_input(path, graph)
    part.derive()
    assert info.partial and info.graphs == [graph]
    assert info.quads == whole.graph_sizes([graph])[graph]  # lines + the source node: no repeats here
    assert _graph_lines(part, DERIVED_GRAPH) == _graph_lines(whole, DERIVED_GRAPH)
    wanted = {f"<{p}>" for p in part.rule_predicates()}
    source = f"<{SRC}user-industry> "  # the source node kg adds to a graph that names none
    kept = [line for line in _graph_lines(whole, graph) if line.split(" ", 2)[1] in wanted or line.startswith(source)]
    assert _graph_lines(part, graph) == kept and 0 < len(kept) < info.quads


def test_rule_predicates_are_what_the_rule_reads():
    """Every term of the data the rule matches (outside the ontology graph's configuration),
    and every role the configuration names, read by hand from derive.ru and concepts.ttl."""
    import re

    from kg.resources import ontology_dir
    from kg.store import RULE_READS

    rule = (ontology_dir() / "rules" / "derive.ru").read_text(encoding="utf-8")
    bodies = re.findall(r"GRAPH \?\w+ \{([^}]*)\}", rule)  # the data's patterns, not the configuration's
    read = {_K + name for body in bodies for name in re.findall(r"kg:(\w+)", body)}
    assert read == {_K + n for n in ("kind", "payer", "payee", "memberOf")}
    assert set(RULE_READS) == read | {_K + "namedGraph"}
    concepts = (ontology_dir() / "concepts.ttl").read_text(encoding="utf-8")
    roles = {_K + r for r in re.findall(r"kg:(?:from|to|moneyFrom|moneyTo)Role kg:(\w+)", concepts)}
    assert {"investor", "supplier", "licensee"} <= {r.rsplit("#", 1)[1] for r in roles}
    assert set(load_store((), validate=False).rule_predicates()) == roles | set(RULE_READS)


# Lines of every shape N-Triples allows: which ones kg may leave unparsed is decided by hand.
_LINES = [
    # (line, the rule reads it)
    (f'<https://example.org/r> <{_K}kind> <{_K}ChipSupply> .', True),
    (f'<https://example.org/r>\t<{_K}supplier>\t<https://example.org/a>\t.', True),
    (f'_:rel <{_K}customer> <https://example.org/b> .', True),
    (f'<https://example.org/r><{_K}payer><https://example.org/a>.', True),  # no whitespace
    (f"<https://example.org/r2> <{_K}k\\u0069nd> <{_K}ChipSupply> .", True),  # an escaped predicate
    (f'   <https://example.org/b> <{_K}memberOf> <https://example.org/g> . # a comment', True),
    ('<https://example.org/r> <http://www.w3.org/2000/01/rdf-schema#label> "a <kg> . \\"x\\"" .', False),
    ('_:n <https://schema.org/value> "10"^^<http://www.w3.org/2001/XMLSchema#decimal> .', False),
    (f'<https://example.org/r> <https://example.org/p> <{_K}kind> .', False),  # a rule IRI as object
]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_rule_input_keeps_every_line_the_rule_reads(tmp_path, ending):
    path = tmp_path / "shapes.nt"
    body = ["# a file of every shape", ""] + [line for line, _ in _LINES]
    path.write_bytes(ending.join(body).encode("utf-8"))  # and no line break after the last
    kg = load_store((), validate=False, derive=False)
    info = kg.load_rule_input(path, USER_GRAPH_BASE + "shapes")
    assert info.quads == len(_LINES) + 4  # the comment and the blank line are not triples
    assert len(_graph_lines(kg, USER_GRAPH_BASE + "shapes")) == sum(read for _, read in _LINES) + 4


def test_rule_input_with_cr_line_ends_parses_the_run_of_lines(tmp_path):
    """A file whose lines end with CR alone reads as one line: kg parses it all."""
    path = tmp_path / "mac.nt"
    first = _LINES[6][0]  # a line the rule does not read comes first
    path.write_bytes("\r".join([first] + [line for line, _ in _LINES if line != first]).encode("utf-8") + b"\r")
    kg = load_store((), validate=False, derive=False)
    kg.load_rule_input(path, USER_GRAPH_BASE + "mac")
    assert len(_graph_lines(kg, USER_GRAPH_BASE + "mac")) == len(_LINES) + 4


def test_rule_input_names_the_bad_line_of_the_file(tmp_path):
    path = tmp_path / "bad.nt"
    path.write_text("\n".join(["# x", _LINES[6][0], _LINES[0][0], f"<https://example.org/r> <{_K}kind> ."]) + "\n",
                    encoding="utf-8")
    kg = load_store((), validate=False, derive=False)
    with pytest.raises(ParseError) as info:
        kg.load_rule_input(path, USER_GRAPH_BASE + "bad")
    assert info.value.path == str(path) and info.value.line == 4


def test_count_triples_counts_a_repeated_line_once(tmp_path):
    from kg.store import count_triples

    path = tmp_path / "twice.nt"
    path.write_text("\n".join([_LINES[0][0], _LINES[6][0], _LINES[0][0]]) + "\n", encoding="utf-8")
    assert count_triples(path, USER_GRAPH_BASE + "twice") == 2
    path.write_text(_LINES[0][0] + "\n<https://example.org/r> <https://example.org/p> .\n", encoding="utf-8")
    with pytest.raises(ParseError) as info:
        count_triples(path, USER_GRAPH_BASE + "twice")
    assert info.value.line == 2


_IRIS = ["<https://example.org/r>", "<https://example.org/a>"]
_TERMS = {
    "subject": st.sampled_from(_IRIS + ["_:b1", "_:rel"]),
    "predicate": st.sampled_from([f"<{_K}kind>", f"<{_K}investor>", f"<{_K}memberOf>", f"<{_K}k\\u0069nd>",
                                  "<https://example.org/p>", "<http://www.w3.org/2000/01/rdf-schema#label>"]),
    "object": st.sampled_from(_IRIS + ["_:b2", f"<{_K}kind>", '"a . <b> # c"', '"x\\"y"@en',
                                       '"1"^^<http://www.w3.org/2001/XMLSchema#integer>']),
}


@st.composite
def _ntriples_line(draw) -> str:
    terms = [draw(_TERMS[role]) for role in ("subject", "predicate", "object")]
    gaps = [draw(st.sampled_from([" ", "\t", "  ", ""])) if terms[i].endswith(">") else draw(st.sampled_from([" ", "\t"]))
            for i in range(3)]  # no space needed after an IRI
    lead = draw(st.sampled_from(["", " ", "\t"]))
    tail = draw(st.sampled_from(["", " # note", "\t"]))
    return lead + terms[0] + gaps[0] + terms[1] + gaps[1] + terms[2] + gaps[2] + "." + tail


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.one_of(_ntriples_line(), st.sampled_from(["", "# a comment", "  "])), min_size=1, max_size=12),
       ending=st.sampled_from(["\n", "\r\n"]))
def test_rule_input_is_the_rule_triples_of_the_whole_file(tmp_path_factory, lines, ending):
    """Property: whatever the spacing, escapes, comments or line ends, the rule input holds
    every triple of the file with a predicate the rule reads (and the source node kg adds),
    nothing the file does not hold, and counts one triple per line that holds one."""
    path = tmp_path_factory.mktemp("nt") / "random.nt"
    path.write_bytes(ending.join(lines).encode("utf-8"))
    graph = USER_GRAPH_BASE + "random"
    whole = load_store((), validate=False, derive=False)
    whole.load_file(path, graph=graph)
    part = load_store((), validate=False, derive=False)
    info = part.load_rule_input(path, graph)
    wanted = {f"<{p}>" for p in part.rule_predicates()}
    source = f"<{SRC}user-random> "

    def rule(lines):
        return [line for line in lines if line.split(" ", 2)[1] in wanted or line.startswith(source)]

    # Every triple the rule reads, and the source node; an unusual line may be parsed as well.
    assert rule(_graph_lines(part, graph)) == rule(_graph_lines(whole, graph))
    assert not Counter(_graph_lines(part, graph)) - Counter(_graph_lines(whole, graph))
    assert info.quads == sum(1 for line in lines if line.strip() and not line.strip().startswith("#")) + 4
