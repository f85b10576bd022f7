"""kg/vocab.py and the ontology declare the same terms; namespaces fail on misspelt terms."""

import pyoxigraph as ox
import pytest

from kg.resources import ontology_dir
from kg.vocab import DCTERMS, KG, KGR, StrictNamespace


def _declared_terms() -> set[str]:
    store = ox.Store()
    for name in ("ai-capital-kg.ttl", "concepts.ttl"):
        store.load(path=str(ontology_dir() / name), format=ox.RdfFormat.TURTLE)
    ns = str(KG)
    return {q.subject.value[len(ns):] for q in store if isinstance(q.subject, ox.NamedNode)
            and q.subject.value.startswith(ns) and q.subject.value != ns}


def test_every_vocab_term_is_declared_in_the_ontology_and_the_reverse():
    declared = _declared_terms()
    assert KG.terms - declared == set(), "terms in kg/vocab.py missing from the ontology"
    assert declared - KG.terms == set(), "terms in the ontology missing from kg/vocab.py"


def test_misspelt_term_fails():
    with pytest.raises(AttributeError, match="investsin"):
        KG.investsin  # noqa: B018


def test_open_namespace_is_not_a_str_so_methods_do_not_shadow_terms():
    assert DCTERMS.title == "http://purl.org/dc/terms/title"
    assert KGR.OpenAI == "https://w3id.org/ai-capital-kg/resource/OpenAI"


def test_strict_namespace_items():
    ns = StrictNamespace("http://ex.org/#", "a b")
    assert ns["a"] == "http://ex.org/#a"
    with pytest.raises(AttributeError):
        ns["c"]


def test_data_uses_only_declared_terms(kg_store):
    from kg.validate import undeclared_terms, untyped_references

    assert undeclared_terms(kg_store) == []
    assert untyped_references(kg_store) == []
