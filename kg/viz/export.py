"""The page's view as GraphML or GEXF, for Gephi and Cytoscape."""

from __future__ import annotations

import io

from kg.errors import InputError

__all__ = ["export_graph", "graph_bytes", "EXPORT_FORMATS"]

EXPORT_FORMATS = ("graphml", "gexf")
_NODE_ATTRS = ("label", "label_en", "label_zh", "type", "ticker", "group", "impact", "loss", "round", "shock",
               "gain", "net", "focus", "highlight")
_RENAME = {"start": "start_date", "end": "end_date"}
_EDGE_ATTRS = ("rel", "label", "kind", "kind_label", "money", "amount", "currency", "qualifier", "amount_text",
               "quantity", "unit", "status", "layer", "source", "source_label", "start", "end", "period", "date",
               "highlight")


def export_graph(kg, fmt: str, **view_options) -> bytes:
    """The view :func:`kg.viz.build_graph` makes from ``view_options``, serialised as ``fmt``.

    Nodes carry ``label``, ``label_en``, ``label_zh``, ``type`` (and ``impact``, ``loss``,
    ``round`` with ``exposure=``); edges carry ``kind``, ``amount``, ``currency``, ``qualifier``,
    ``status``, ``layer``, ``source``, the relationship IRI ``rel`` and the number of ``claims``.

    Examples
    --------
    >>> from kg.store import load_store
    >>> export_graph(load_store(), "graphml", focus="Oracle", depth=1)[:38]
    b"<?xml version='1.0' encoding='utf-8'?>"
    """
    from kg.viz.graph import build_graph

    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown graph format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    return graph_bytes(build_graph(kg, **view_options), fmt)


def graph_bytes(graph, fmt: str) -> bytes:
    """A view graph as GraphML or GEXF bytes (UTF-8), with scalar attributes only."""
    import networkx as nx

    exposure = "exposure" in graph.graph.get("overlays", {})
    flat = nx.MultiDiGraph()
    for iri, d in graph.nodes(data=True):
        attrs = {k: d[k] for k in _NODE_ATTRS if d.get(k) is not None}
        if exposure:
            attrs.setdefault("impact", 0.0)
        flat.add_node(iri, **attrs)
    for u, v, key, d in graph.edges(keys=True, data=True):
        # "start" and "end" would make networkx write a dynamic (time-sliced) GEXF graph
        attrs = {_RENAME.get(k, k): d[k] for k in _EDGE_ATTRS if d.get(k) is not None}
        flat.add_edge(u, v, key=key, claims=len(d.get("claims") or []), **attrs)
    writers = {"graphml": nx.write_graphml, "gexf": nx.write_gexf}
    if fmt not in writers:
        raise InputError(f"unknown graph format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    buf = io.BytesIO()
    # the writers (unlike generate_*) keep non-ASCII text as UTF-8 rather than character references
    writers[fmt](flat, buf, encoding="utf-8", prettyprint=True)
    return buf.getvalue()
