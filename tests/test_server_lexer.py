"""The tokenizer that finds SERVICE, LOAD, FROM and USING, and adds the protocol's USING clauses."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.server.lexer import add_using, analyse, tokenize


def refs(text, base=None):
    return [(r.keyword, r.iri) for r in analyse(text, base).references]


@pytest.mark.parametrize("text, expected", [
    ("SELECT * { SERVICE <http://x/s> { ?s ?p ?o } }", [("SERVICE", "http://x/s")]),
    ("select * { service silent <http://x/s> { } }", [("SERVICE", "http://x/s")]),
    ("PREFIX e: <http://x/> SELECT * { SERVICE e:s { } }", [("SERVICE", "http://x/s")]),
    ("SELECT * { OPTIONAL { { SELECT * { SERVICE <http://x/s> {} } } } }", [("SERVICE", "http://x/s")]),
    ("SELECT * { FILTER EXISTS { SERVICE<http://x/s>{} } }", [("SERVICE", "http://x/s")]),
    ("SELECT * { VALUES ?e { <http://x/s> } SERVICE ?e { } }", [("SERVICE", None)]),
    ("BASE <http://x/a/> SELECT * FROM <g> FROM NAMED <../h> {}", [("FROM", "http://x/a/g"), ("FROM NAMED", "http://x/h")]),
    ("SELECT * FROM <g> {}", [("FROM", "http://endpoint/g")]),
    ("LOAD SILENT <http://x/d.ttl> INTO GRAPH <http://x/g>", [("LOAD", "http://x/d.ttl")]),
    ("WITH <http://x/g> DELETE { ?s ?p ?o } USING NAMED <http://x/h> WHERE { ?s ?p ?o }",
     [("WITH", "http://x/g"), ("USING NAMED", "http://x/h")]),
])
def test_references_are_found_wherever_they_are(text, expected):
    assert refs(text, "http://endpoint/sparql") == expected


@pytest.mark.parametrize("text", [
    'SELECT * { ?s ?p "SERVICE <http://x/s> {}" }',
    "SELECT * { ?s ?p '''LOAD <http://x/d>\nSERVICE <http://x/s> {}''' }",
    "SELECT * { ?s ?p ?o } # SERVICE <http://x/s> { }",
    "SELECT * { ?s <http://x/SERVICE> ?o . ?service ?p service:x }",
    "PREFIX from: <http://x/> SELECT * { ?s from:p ?o }",
])
def test_keywords_in_strings_comments_iris_and_names_are_not_references(text):
    assert refs(text) == []


def test_an_escape_inside_an_iri_does_not_hide_what_follows():
    """Oxigraph reads \\u escapes inside IRIs: ``<…\\u0041#>`` is one IRI, not an IRI cut short
    by a comment that would hide the SERVICE after it."""
    text = r"SELECT * FROM <http://x/\u0041#> { SERVICE <http://\u0031\u0032\u0037.0.0.1:9/> {} }"
    assert refs(text) == [("FROM", "http://x/A#"), ("SERVICE", "http://127.0.0.1:9/")]


def test_query_form_is_the_first_keyword_after_the_prologue():
    assert analyse("PREFIX s: <http://x/> # SELECT\nASK { { SELECT * {} } }").form == "ASK"
    assert analyse("CLEAR ALL").form is None


def test_every_named_query_is_analysed_with_its_form_and_no_references():
    from kg.queries import list_queries

    for q in list_queries().values():
        a = analyse(q.text)
        assert (a.form, a.references) == (q.form, ()), q.name


def test_using_clauses_go_before_each_where():
    text = "INSERT { ?s a <t> } WHERE { ?s a <u> { SELECT * WHERE { ?a ?b ?c } } } ; INSERT DATA { <a> <b> <c> }"
    out = add_using(text, analyse(text), ["http://x/d"], ["http://x/n"])
    assert out.startswith("INSERT { ?s a <t> } USING <http://x/d> USING NAMED <http://x/n> WHERE {")
    assert out.count("USING") == 2
    ox.Store().update(out, base_iri="http://x/")  # still a valid update


def test_delete_where_is_expanded_to_take_using():
    text = "DELETE WHERE { ?s ?p ?o }"
    out = add_using(text, analyse(text), ["http://x/d"], [])
    assert out == "DELETE { ?s ?p ?o } USING <http://x/d> WHERE { ?s ?p ?o }"
    ox.Store().update(out)


def test_using_iris_are_serialised_by_oxigraph_not_pasted():
    text = "INSERT { <a> <b> <c> } WHERE {}"
    with pytest.raises(ValueError):
        add_using(text, analyse(text), ["http://x/> } ; DROP ALL ; INSERT DATA { <a"], [])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("SERVICE service<>\"'#{}?$:/.\n _xyz0@^")), max_size=60))
def test_tokenizer_never_raises_and_covers_the_text(text):
    tokens = tokenize(text)
    assert all(text[t.start:].upper().startswith(t.text.upper()) for t in tokens)
    analyse(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\\n\r'), max_size=40))
def test_nothing_inside_a_string_literal_is_a_reference(content):
    assert refs(f'SELECT * {{ ?s ?p "{content}" }}') == []
