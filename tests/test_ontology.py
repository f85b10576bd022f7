"""The TBox is documented in both languages and the kinds are fully configured."""

import pyoxigraph as ox
import pytest

from kg.resources import ontology_dir

PREFIX = """PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


@pytest.fixture(scope="module")
def tbox():
    store = ox.Store()
    for name in ("ai-capital-kg.ttl", "concepts.ttl"):
        store.load(path=str(ontology_dir() / name), format=ox.RdfFormat.TURTLE)
    return store


def _missing(tbox, query):
    return sorted(r["x"].value for r in tbox.query(PREFIX + query))


def test_every_class_and_property_has_labels_and_comments_in_both_languages(tbox):
    for prop in ("rdfs:label", "rdfs:comment"):
        for lang in ("en", "zh-hant"):
            missing = _missing(tbox, f"""SELECT ?x WHERE {{
                ?x a ?t . FILTER(?t IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty))
                FILTER(STRSTARTS(STR(?x), STR(kg:)))
                FILTER NOT EXISTS {{ ?x {prop} ?l FILTER(LANG(?l) = "{lang}") }} }}""")
            assert missing == [], f"{prop}@{lang} missing on {missing}"


def test_every_concept_has_a_notation_and_labels_in_both_languages(tbox):
    for lang in ("en", "zh-hant"):
        missing = _missing(tbox, f"""SELECT ?x WHERE {{ ?x skos:inScheme ?s .
            FILTER NOT EXISTS {{ ?x skos:prefLabel ?l FILTER(LANG(?l) = "{lang}") }} }}""")
        assert missing == []
    assert _missing(tbox, "SELECT ?x WHERE { ?x skos:inScheme ?s FILTER NOT EXISTS { ?x skos:notation ?n } }") == []


def test_every_relationship_kind_names_roles_shortcut_and_channel(tbox):
    for prop in ("kg:fromRole", "kg:toRole", "kg:shortcut", "kg:channel"):
        assert _missing(tbox, f"SELECT ?x WHERE {{ ?x a kg:RelationshipKind FILTER NOT EXISTS {{ ?x {prop} ?v }} }}") == []
    # Shortcuts are sub-properties of kg:relatedTo; roles are sub-properties of kg:party.
    assert _missing(tbox, "SELECT ?x WHERE { ?k kg:shortcut ?x FILTER NOT EXISTS { ?x rdfs:subPropertyOf kg:relatedTo } }") == []
    assert _missing(tbox, """SELECT ?x WHERE { { ?k kg:fromRole ?x } UNION { ?k kg:toRole ?x }
        FILTER NOT EXISTS { ?x rdfs:subPropertyOf kg:party } }""") == []


def test_the_issue_relationship_kinds_exist(tbox):
    kinds = {r["n"].value for r in tbox.query(PREFIX + "SELECT ?n WHERE { ?k a kg:RelationshipKind ; skos:notation ?n }")}
    assert {"equity-investment", "stake", "cloud-services", "chip-supply", "compute-contract", "licence",
            "revenue-share", "api-dependence", "competition", "acquisition", "analogy"} <= kinds


def test_shapes_parse_with_rdflib():
    import rdflib

    g = rdflib.Graph().parse(ontology_dir() / "shapes.ttl", format="turtle")
    assert len(g) > 50
