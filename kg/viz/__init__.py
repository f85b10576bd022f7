"""Interactive, self-contained HTML pages of the graph, and GraphML/GEXF exports of the same view.

``build_graph`` reads the view (actors, relationships, claims, memberships, and the analysis
overlays) through named queries into a networkx ``MultiDiGraph``; ``render_page`` turns it into
one HTML file that needs no network; ``export_graph`` writes it for Gephi and Cytoscape.
"""

from __future__ import annotations

from kg.viz.export import EXPORT_FORMATS, export_graph
from kg.viz.graph import build_graph
from kg.viz.page import MAX_EDGES, MAX_NODES, PageTooLargeError, page_from_graph, render_page

__all__ = [
    "build_graph", "render_page", "page_from_graph", "export_graph",
    "EXPORT_FORMATS", "MAX_NODES", "MAX_EDGES", "PageTooLargeError",
]
