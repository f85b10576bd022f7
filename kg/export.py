"""Serialise the loaded graph (or a query's triples) as RDF."""

from __future__ import annotations

import pyoxigraph as ox

from kg.explore import layer_iri
from kg.vocab import ONTOLOGY_GRAPH, ENTITIES_GRAPH, DERIVED_GRAPH

__all__ = ["export_store", "serialize_triples", "EXPORT_FORMATS"]

EXPORT_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


def _graphs_of_layer(kg, layer: str | None) -> list[str] | None:
    if layer is None:
        return None
    rows = kg.select(
        "PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> SELECT ?layer ?g WHERE { ?s kg:layer ?layer ; kg:namedGraph ?g }",
        {"layer": layer_iri(layer)},
    )
    # The vocabulary and the actors' identities go with every layer.
    return [r["g"] for r in rows] + [ONTOLOGY_GRAPH, ENTITIES_GRAPH]


def export_store(kg, fmt: str, layer: str | None = None) -> bytes:
    """The dataset as ``fmt`` bytes; triple formats get the de-duplicated union of the graphs.

    The derived graph (shortcut triples) is left out: it is rebuilt on every load.
    """
    from kg.vocab import PREFIXES

    keep = _graphs_of_layer(kg, layer)
    quads = [
        q for q in kg.store
        if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == DERIVED_GRAPH)
        and (keep is None or (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in keep))
    ]
    target = EXPORT_FORMATS[fmt]
    if target.supports_datasets:
        return ox.serialize(quads, format=target, prefixes=PREFIXES if target == ox.RdfFormat.TRIG else None)
    triples = list({ox.Triple(q.subject, q.predicate, q.object) for q in quads})
    return ox.serialize(triples, format=target, prefixes=PREFIXES if target == ox.RdfFormat.TURTLE else None)


def serialize_triples(triples, fmt: str) -> str:
    target = EXPORT_FORMATS.get(fmt, ox.RdfFormat.TURTLE)
    from kg.vocab import PREFIXES

    return ox.serialize(list(triples), format=target, prefixes=PREFIXES if target == ox.RdfFormat.TURTLE else None).decode("utf-8")
