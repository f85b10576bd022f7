"""Recognise kg's own exports when they are loaded back, so that the bundled graph is not doubled."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError, ParseError
from kg.vocab import BASE, ONTOLOGY_GRAPH

__all__ = ["replace_bundled_graphs", "export_format", "check_loadable", "file_mode", "ONTOLOGY_IRI", "EXPORT_SUFFIXES"]

#: The ontology's IRI: a triple-format export (the union of every graph) declares it.
ONTOLOGY_IRI = BASE + "ontology"


def replace_bundled_graphs(kg, path: Path, replaced: set[str] | None = None) -> tuple[list[str], list[str]]:
    """Before ``path`` is loaded into ``kg``: drop the bundled graphs (and the ontology graph)
    that the file holds too, so that its copies replace them instead of doubling their blank
    nodes; returns ``(the graphs dropped, a warning line when any was)``. Graphs in ``replaced``
    (dropped already for another of the user's files) are kept: the files' copies then add up.

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
        return [], []
    scratch = ox.Store()
    try:
        scratch.bulk_load(path=str(path), format=fmt)
    except (SyntaxError, MemoryError):  # MemoryError: a token over Oxigraph's 16 MiB
        return [], []  # load_file reports the error with its line
    except (OSError, ValueError) as exc:
        raise ParseError(path, None, str(exc)) from None
    bundled = {g for f in kg.files if f.bundled for g in f.graphs} - (replaced or set())
    held = sorted(g.value for g in scratch.named_graphs() if g.value in bundled)
    for g in held:
        kg.store.remove_graph(ox.NamedNode(g))
    if held:
        kg._invalidate()
        return held, [f"{path}: holds {len(held)} graph(s) kg loads from its bundled files (a kg export); "
                      "the file's copies replace them"]
    return [], []


def _declares_ontology(path: Path, fmt) -> bool:
    target = (ox.NamedNode(ONTOLOGY_IRI), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
              ox.NamedNode("http://www.w3.org/2002/07/owl#Ontology"))
    try:
        if fmt == ox.RdfFormat.RDF_XML:  # never Oxigraph's RDF/XML parser: it expands DTD entities (kg.rdfxml)
            from kg.rdfxml import parse_rdfxml

            triples = parse_rdfxml(path, ox.DefaultGraph())
        else:
            triples = ox.parse(path=str(path), format=fmt)
        for t in triples:
            if (t.subject, t.predicate, t.object) == target:
                return True
    except (SyntaxError, OSError, ValueError, MemoryError, ParseError):
        return False  # load_file reports it (MemoryError: a token over Oxigraph's 16 MiB)
    return False


#: ``kg export -o FILE``: the format a file's suffix names (used when --format is not given).
EXPORT_SUFFIXES = {
    ".trig": "trig", ".nq": "nquads", ".jsonld": "jsonld", ".json": "jsonld", ".ttl": "turtle", ".turtle": "turtle",
    ".nt": "nt", ".rdf": "rdfxml", ".owl": "rdfxml", ".xml": "rdfxml", ".graphml": "graphml", ".gexf": "gexf",
}
#: Formats kg writes for other tools only; the loader names them instead of failing on the suffix.
NOT_LOADABLE = {".graphml": "GraphML", ".gexf": "GEXF"}


def export_format(fmt: str | None, output: str | None) -> str:
    """The format of ``kg export``: ``fmt`` if given, else the one the suffix of ``output`` names,
    else TriG. Raises ``ValueError`` when a file of ``fmt`` would not parse as the format its
    known suffix names (N-Triples in a ``.trig`` file does).

    Examples
    --------
    >>> export_format(None, "graph.turtle"), export_format(None, "g.graphml"), export_format("nt", None)
    ('turtle', 'graphml', 'nt')
    """
    by_suffix = EXPORT_SUFFIXES.get(Path(output).suffix.lower()) if output else None
    if fmt and by_suffix and fmt not in _READS.get(by_suffix, {by_suffix}):
        raise ValueError(f"--format {fmt} does not match the suffix of {output} ({by_suffix}), so the file would "
                         "not load back; change one of them")
    return fmt or by_suffix or "trig"


#: The formats a file of a suffix's format still parses as (N-Triples is Turtle, TriG and N-Quads).
_READS = {"trig": {"trig", "turtle", "nt", "nquads"}, "turtle": {"turtle", "nt"}, "nquads": {"nquads", "nt"}}


def check_loadable(path: Path) -> None:
    """Raise :class:`InputError` for a file kg exports but cannot load back (GraphML, GEXF)."""
    name = NOT_LOADABLE.get(Path(path).suffix.lower())
    if name:
        raise InputError(f"{path}: {name} is written for Gephi and Cytoscape (the actor graph of kg viz) and cannot "
                         "be loaded back; export trig, nquads or jsonld to reload the graph")


def file_mode(path: Path) -> int:
    """The permission bits a file written at ``path`` gets: an existing file's own (an overwrite
    keeps them, as editors do), else ``0o666`` less the process's umask (as ``open`` would)."""
    import os
    import stat

    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    import os

    try:  # Linux ≥ 4.7 states it without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
