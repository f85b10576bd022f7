"""The SPARQL 1.1 Service Description served at the endpoint's URL when no query is given."""

from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from kg.server.negotiate import GRAPH_FORMATS, RESULT_FORMATS

__all__ = ["service_description"]

SD = "http://www.w3.org/ns/sparql-service-description#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML,
}


def _sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(SD + term)


@lru_cache(maxsize=64)
def service_description(endpoint: str, fmt: str, graphs: tuple[str, ...], update: bool, limits: str) -> bytes:
    """The description of the service at ``endpoint`` as ``fmt`` (a key of GRAPH_FORMATS).

    It names the endpoint, the languages (SPARQL 1.1 Query, and Update when enabled), the result
    formats, the union default graph, every named graph, and the limits in a comment.
    """
    svc = ox.NamedNode(endpoint)
    dataset, default = ox.BlankNode("dataset"), ox.BlankNode("defaultGraph")
    triples = [
        (svc, _RDF_TYPE, _sd("Service")),
        (svc, _sd("endpoint"), svc),
        (svc, _TITLE, ox.Literal("ai-capital-kg SPARQL endpoint")),
        (svc, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        (svc, _sd("feature"), _sd("UnionDefaultGraph")),
        (svc, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        (svc, _sd("defaultDataset"), dataset),
        (svc, _COMMENT, ox.Literal(limits)),
        (dataset, _RDF_TYPE, _sd("Dataset")),
        (dataset, _sd("defaultGraph"), default),
        (default, _RDF_TYPE, _sd("Graph")),
        (default, _COMMENT, ox.Literal("the union of all named graphs")),
    ]
    if update:
        triples.append((svc, _sd("supportedLanguage"), _sd("SPARQL11Update")))
    for f in RESULT_FORMATS + GRAPH_FORMATS:
        triples.append((svc, _sd("resultFormat"), ox.NamedNode(f.w3c)))
    for i, g in enumerate(graphs):
        node = ox.BlankNode(f"g{i}")
        triples += [(dataset, _sd("namedGraph"), node), (node, _RDF_TYPE, _sd("NamedGraph")),
                    (node, _sd("name"), ox.NamedNode(g))]
    prefixes = {"sd": SD, "dcterms": "http://purl.org/dc/terms/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
    target = _FORMATS[fmt]
    use = prefixes if target in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    return ox.serialize([ox.Triple(*t) for t in triples], format=target, prefixes=use)

