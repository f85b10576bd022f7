"""What the query editor completes: the project's prefixes and the ontology's classes and properties.

Read once from ``ontology/*.ttl`` (the TBox the store loads) and served at ``/vocabulary`` as JSON.
"""

from __future__ import annotations

import json
from functools import cache

from kg.vocab import PREFIXES

__all__ = ["vocabulary", "vocabulary_json"]

_KINDS = {
    "http://www.w3.org/2002/07/owl#Class": "class",
    "http://www.w3.org/2000/01/rdf-schema#Class": "class",
    "http://www.w3.org/2002/07/owl#ObjectProperty": "property",
    "http://www.w3.org/2002/07/owl#DatatypeProperty": "property",
    "http://www.w3.org/2002/07/owl#AnnotationProperty": "property",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property": "property",
    "http://www.w3.org/2004/02/skos/core#Concept": "concept",
}
_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
_ORDER = {"class": 0, "property": 1, "concept": 2}


@cache
def vocabulary() -> dict:
    """``{"prefixes": {prefix: IRI}, "terms": [{iri, name, kind, label, label_zh, comment}]}``.

    ``name`` is the prefixed name (``kg:Company``); terms are ordered classes, properties, then
    SKOS concepts, each by name.
    """
    import pyoxigraph as ox

    from kg.resources import ontology_dir

    store = ox.Store()
    for path in sorted(ontology_dir().glob("*.ttl")):
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
    terms: dict[str, dict] = {}
    for q in store.quads_for_pattern(None, ox.NamedNode(_TYPE), None):
        kind = _KINDS.get(q.object.value)
        if kind is None or not isinstance(q.subject, ox.NamedNode):
            continue
        iri = q.subject.value
        name = _prefixed(iri)
        if name is None:
            continue
        entry = terms.setdefault(iri, {"iri": iri, "name": name, "kind": kind})
        if _ORDER[kind] < _ORDER[entry["kind"]]:
            entry["kind"] = kind
    for iri, entry in terms.items():
        for key, predicates in (("label", (_LABEL, _PREF)), ("comment", (_COMMENT,))):
            for pred in predicates:
                for q in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(pred), None):
                    lang = (getattr(q.object, "language", None) or "").lower()
                    slot = key + ("_zh" if lang == "zh-hant" else "")
                    if lang in ("", "en", "zh-hant"):
                        entry.setdefault(slot, q.object.value)
    ordered = sorted(terms.values(), key=lambda t: (_ORDER[t["kind"]], t["name"]))
    return {"prefixes": dict(PREFIXES), "terms": ordered}


@cache
def vocabulary_json() -> bytes:
    return json.dumps(vocabulary(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _prefixed(iri: str) -> str | None:
    """The prefixed name of ``iri`` with the longest matching namespace, if its local part is a
    plain SPARQL local name."""
    best = max((p for p, ns in PREFIXES.items() if iri.startswith(ns)), key=lambda p: len(PREFIXES[p]), default=None)
    if best is None:
        return None
    local = iri[len(PREFIXES[best]):]
    return f"{best}:{local}" if local and all(c.isalnum() or c in "_-" for c in local) else None
