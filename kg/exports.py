"""Recognise kg's own exports when they are loaded back, so that the bundled graph is not doubled."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError, ParseError
from kg.vocab import BASE, ONTOLOGY_GRAPH

__all__ = ["replace_bundled_graphs", "ONTOLOGY_IRI"]

#: The ontology's IRI: a triple-format export (the union of every graph) declares it.
ONTOLOGY_IRI = BASE + "ontology"


def replace_bundled_graphs(kg, path: Path) -> list[str]:
    """Before ``path`` is loaded into ``kg``: drop the bundled graphs (and the ontology graph)
    that the file holds too, so that its copies replace them instead of doubling their blank
    nodes; returns a warning line when it did.

    A dataset file (TriG, N-Quads, JSON-LD) keeps its graphs' names, so a kg export of one
    replaces the graphs it holds. A triple file (Turtle, N-Triples, RDF/XML) that declares the
    ontology is an export of the union of the graphs: it cannot be loaded beside the bundled
    graph without doubling it, so that is an error unless the bundled graph is left out
    (``--no-bundled``).
    """
    from kg.store import rdf_format

    fmt = rdf_format(path)
    if not fmt.supports_datasets:
        bundled_data = [f for f in kg.files if f.bundled and f.graphs != [ONTOLOGY_GRAPH]]
        if bundled_data and _declares_ontology(path, fmt):
            raise InputError(f"{path}: a kg export in a triple format (the union of every graph); load it with "
                             "--no-bundled, or export trig or nquads to keep the graphs apart")
        return []
    scratch = ox.Store()
    try:
        scratch.bulk_load(path=str(path), format=fmt)
    except SyntaxError:
        return []  # load_file reports the error with its line
    except (OSError, ValueError) as exc:
        raise ParseError(path, None, str(exc)) from None
    bundled = {g for f in kg.files if f.bundled for g in f.graphs}
    held = sorted(g.value for g in scratch.named_graphs() if g.value in bundled)
    for g in held:
        kg.store.remove_graph(ox.NamedNode(g))
    if held:
        kg._invalidate()
        return [f"{path}: holds {len(held)} graph(s) kg loads from its bundled files (a kg export); "
                "the file's copies replace them"]
    return []


def _declares_ontology(path: Path, fmt) -> bool:
    target = (ox.NamedNode(ONTOLOGY_IRI), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
              ox.NamedNode("http://www.w3.org/2002/07/owl#Ontology"))
    try:
        for t in ox.parse(path=str(path), format=fmt):
            if (t.subject, t.predicate, t.object) == target:
                return True
    except (SyntaxError, OSError, ValueError):
        return False  # load_file reports it
    return False
