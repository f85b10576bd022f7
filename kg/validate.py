"""Validate loaded graphs: SHACL shapes (pyshacl) and the vocabulary (every term declared)."""

from __future__ import annotations

from kg.errors import ValidationError
from kg.resources import ontology_dir
from kg.vocab import KG, KGR

__all__ = ["validate_store", "undeclared_terms", "untyped_references"]

_UNDECLARED = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?term ?g WHERE {
  GRAPH ?g { { ?s ?term ?o } UNION { ?s a ?term } UNION { ?s ?p ?term } }
  FILTER(isIRI(?term) && STRSTARTS(STR(?term), "https://w3id.org/ai-capital-kg/ontology#"))
  FILTER NOT EXISTS { GRAPH <https://w3id.org/ai-capital-kg/graph/ontology> { ?term ?anyp ?anyo } }
}"""

_UNTYPED = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?o ?p ?g WHERE {
  GRAPH ?g { ?s ?p ?o }
  FILTER(isIRI(?o) && STRSTARTS(STR(?o), "https://w3id.org/ai-capital-kg/resource/") && ?p != rdf:type)
  FILTER NOT EXISTS { ?o rdf:type ?anyType }
}"""


def undeclared_terms(kg) -> list[str]:
    """Terms of the kg: namespace used in data graphs but not declared in the ontology."""
    from kg.vocab import ONTOLOGY_GRAPH

    out = []
    for r in kg.select(_UNDECLARED):
        if r["g"] != ONTOLOGY_GRAPH:
            out.append(f"{r['g']}: term <{r['term']}> is not declared in the ontology")
    return out


def untyped_references(kg) -> list[str]:
    """Resources of the project's namespace that are referenced but never described (typos)."""
    return [
        f"{r['g']}: <{r['o']}> is used as the object of <{r['p']}> but has no rdf:type"
        for r in kg.select(_UNTYPED)
    ]


def validate_store(kg, graphs: list[str] | None = None) -> dict:
    """Validate the loaded dataset; raise :class:`ValidationError` with one line per problem.

    ``graphs`` limits the reported SHACL results to focus nodes described in those graphs
    (the user's files); the shapes always see the union, so references across graphs resolve.
    """
    import pyoxigraph as ox
    import rdflib
    from pyshacl import validate

    problems = undeclared_terms(kg) + untyped_references(kg)
    data = rdflib.Graph()
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in kg.store}
    data.parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")
    shapes = rdflib.Graph().parse(ontology_dir() / "shapes.ttl", format="turtle")
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
    focus_in = None
    if graphs is not None:
        focus_in = {q.subject for g in graphs for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(g))}
        focus_in = {s.value if isinstance(s, ox.NamedNode) else "_:" + s.value for s in focus_in}
    SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        if focus_in is not None and str(focus) not in focus_in and not isinstance(focus, rdflib.BNode):
            continue
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        value = report.value(result, SH.value)
        where = _short(focus)
        problems.append(f"{where}: {message}" + (f" (path {_short(path)})" if path is not None and not isinstance(path, rdflib.BNode) else "")
                        + (f" [value {_short(value)}]" if value is not None else ""))
    if problems:
        raise ValidationError(sorted(set(problems)), "the loaded graphs" if graphs is None else "the user's files")
    return {"triples": len(triples), "graphs": len(kg.graphs()), "focus_nodes": len(set(data.subjects()))}


def _short(term) -> str:
    text = str(term)
    for prefix, ns in (("kg:", str(KG)), ("kgr:", str(KGR))):
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return f"<{text}>" if "://" in text else text
