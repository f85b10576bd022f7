"""Validate loaded graphs: SHACL shapes (pyshacl) and the vocabulary (every term declared).

pyshacl gets the graph term by term (:func:`_rdflib_graph`). It used to get it as N-Triples text
for rdflib's parser, whose line pattern made long literals cost dearly: ``kg --data F info`` with a
1 MiB ``rdfs:comment`` took 5.04 s CPU (rdflib's parse of that one line alone 4.25 s), and 10 MiB
did not finish in 15 minutes. Term by term, 1 MiB takes 1.08 s, 10 MiB 0.96 s and 15 MiB 0.94 s:
the 1.05 s of a file without long literals (``tests/data/deals.csv``). Literals need no bound of
their own: the parsers stop at 16 MiB per token, the CSV reader at 128 KiB per field. Measured with
``/usr/bin/time -f %U+%S kg --data F info`` on files made by hand (one ``kgr:Oracle rdfs:comment``
of N bytes), before and after this change.
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.errors import InputError, ValidationError
from kg.resources import ontology_dir
from kg.vocab import KG, KGR

__all__ = ["validate_store", "undeclared_terms", "untyped_references", "check_numbers", "MAX_NUMBER"]

#: Amounts and quantities are below this in absolute value (as the CSV format requires).
MAX_NUMBER = 10 ** 18

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


_UNUSABLE_NUMBER = """
PREFIX schema: <https://schema.org/>
SELECT ?g ?node ?p ?v ?owner WHERE {
  GRAPH ?g { VALUES ?p { schema:value schema:minValue schema:maxValue } ?node ?p ?v }
  FILTER(!isNumeric(?v) || ?v != ?v || ABS(?v) >= 1e18)
  OPTIONAL { GRAPH ?g { ?owner ?has ?node } FILTER(isIRI(?owner)) }
} LIMIT 1"""


def check_numbers(kg, files) -> None:
    """Raise :class:`InputError` naming the file when an amount or quantity (``schema:value``,
    ``schema:minValue``, ``schema:maxValue``) in one of ``files`` (:class:`kg.store.LoadedFile`)
    is not a finite number below :data:`MAX_NUMBER`.

    Run on every load, with or without SHACL validation: every page and table reads these as
    numbers ("lots" stopped ``kg viz`` with a ValueError, "INF" with an OverflowError)."""
    for f in files:
        for g in f.graphs:
            for _, node, p, v, owner in kg.select_terms(_UNUSABLE_NUMBER, {"g": g})[1]:
                where = _short(node.value) if isinstance(node, ox.NamedNode) else (
                    f"the amount of {_short(owner.value)}" if owner is not None else "a blank node")
                raise InputError(f"{f.path}: {_short(p.value)} {_value(v)} of {where} is not a number "
                                 "below 10^18 (write a plain decimal such as 300000000000)")


def _value(v) -> str:
    text = v.value if isinstance(v, ox.Literal) else str(v)
    return repr(text if len(text) <= 40 else text[:40] + "…")


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
    import rdflib
    from pyshacl import validate

    problems = undeclared_terms(kg) + untyped_references(kg)
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in kg.store}
    data = _rdflib_graph(triples)
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


_XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")


def _rdflib_graph(triples) -> "rdflib.Graph":
    """The triples as an rdflib graph, term by term (no N-Triples text in between: rdflib's
    N-Triples parser took 10 s for one line holding a 1 MiB literal)."""
    import pyoxigraph as ox
    import rdflib

    cache: dict = {}

    def term(t):
        got = cache.get(t)
        if got is None:
            if isinstance(t, ox.NamedNode):
                got = rdflib.URIRef(t.value)
            elif isinstance(t, ox.BlankNode):
                got = rdflib.BNode(t.value)
            elif t.language:
                got = rdflib.Literal(t.value, lang=t.language)
            elif t.datatype == _XSD_STRING:  # a simple literal, as rdflib's parsers make it
                got = rdflib.Literal(t.value)
            else:
                got = rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))
            cache[t] = got
        return got

    graph = rdflib.Graph()
    add = graph.add
    for t in triples:
        add((term(t.subject), term(t.predicate), term(t.object)))
    return graph


def _short(term) -> str:
    text = str(term)
    for prefix, ns in (("kg:", str(KG)), ("kgr:", str(KGR)), ("schema:", "https://schema.org/")):
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return f"<{text}>" if "://" in text else text
