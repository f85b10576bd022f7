"""One self-contained HTML page of a graph view: pyvis builds the network, the page inlines the rest."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path

from kg.analysis.debtrank import DEFAULT_METHOD
from kg.errors import InputError, PageTooLargeError  # noqa: F401  (re-exported)
from kg.viz import cjkfont, style

__all__ = ["render_page", "page_from_graph", "network_of", "vis_options", "MAX_NODES", "MAX_EDGES",
           "PageTooLargeError", "json_for_script"]

#: Above these sizes a page takes too long to lay out and is too dense to read (see
#: docs/benchmarks-viz.md): the command proposes ``--focus`` instead.
MAX_NODES = 2500
MAX_EDGES = 15000
#: Up to this size the layout gets every refinement (improved initial layout, long stabilisation).
SMALL_NODES = 300

_PACKAGE = Path(__file__).resolve().parent.parent
_VIS_JS = ("templates", "lib", "vis-9.1.2", "vis-network.min.js")


def render_page(kg, *, focus=None, depth=1, exposure=None, chain=None, cycles=False, layer="all", lang="en",
                severity=1.0, method=DEFAULT_METHOD, kinds=None, max_nodes=MAX_NODES, max_edges=MAX_EDGES) -> str:
    """A complete, self-contained UTF-8 HTML page of the graph (no network needed to view it).

    Parameters are those of :func:`kg.viz.build_graph`; ``max_nodes`` and ``max_edges`` bound
    the view (:class:`PageTooLargeError` above them, naming the best actors to ``--focus`` on).

    Examples
    --------
    >>> from kg.store import load_store
    >>> html = render_page(load_store(), focus="Oracle", depth=1)
    >>> html.startswith("<!DOCTYPE html>") and "vis.Network" in html
    True
    """
    from kg.viz.graph import build_graph

    graph = build_graph(kg, focus=focus, depth=depth, exposure=exposure, chain=chain, cycles=cycles,
                        layer=layer, lang=lang, severity=severity, method=method, kinds=kinds)
    return page_from_graph(graph, lang=lang, max_nodes=max_nodes, max_edges=max_edges)


def page_from_graph(graph, *, lang="en", title=None, max_nodes=MAX_NODES, max_edges=MAX_EDGES) -> str:
    """The page of a graph made by :func:`kg.viz.build_graph` (or any graph with its attributes)."""
    if graph.number_of_nodes() > max_nodes or graph.number_of_edges() > max_edges:
        raise PageTooLargeError(_too_large(graph, max_nodes, max_edges))
    w = style.words(lang)
    title = title or w["title"]
    subtitle = _subtitle(graph, w, lang)
    net = network_of(graph, lang, heading=title)
    nodes, edges, heading, _, _, options = net.get_network_data()
    kinds = _legend_kinds(graph)
    types = sorted({d.get("type", "Actor") for _, d in graph.nodes(data=True)}, key=list(style.NODE_STYLE).index)
    layers = sorted({d["layer"] for *_, d in graph.edges(data=True) if d.get("layer")})
    payload = {
        "nodes": nodes, "edges": edges, "options": json.loads(options), "claims": graph.graph.get("claims", {}),
        "kinds": kinds, "layers": [{"id": x, "label": style.layer_label(x, lang)} for x in layers],
        "types": [{"id": t, "label": style.type_label(t, lang), **{k: v for k, v in style.NODE_STYLE[t].items()
                                                                  if k in ("color", "border", "shape")}}
                  for t in types],
        "words": w, "lang": lang, "statuses": {s: style.status_label(s, lang) for s in
                                               {d.get("status") for *_, d in graph.edges(data=True)} if s},
        "overlays": _jsonable(graph.graph.get("overlays", {})), "gain_colour": style.GAIN,
        "widths": style.width_legend(lang), "separate": graph.number_of_nodes() <= SMALL_NODES,
    }
    assets = _assets()
    scripts = [assets["vis"], assets["js"]]
    data = json_for_script(payload)
    counts = _counts(graph, w)
    # the glyphs of every CJK character the page can show: data, labels, UI words, headings
    font_css = cjkfont.font_face_css("".join((data, heading, subtitle, counts)))
    csp = ("default-src 'none'; script-src " + " ".join(_sha256(s) for s in scripts)
           + "; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
           "base-uri 'none'; form-action 'none'")
    return _template().render(
        lang=lang, title=heading, subtitle=subtitle, counts=counts, words=w, csp=csp, font_css=_markup(font_css),
        css=_markup(assets["css"]), vis_js=_markup(assets["vis"]), page_js=_markup(assets["js"]), data=_markup(data),
    )


def network_of(graph, lang: str = "en", heading: str = ""):
    """The pyvis ``Network`` of a view: styled nodes and edges, plain-text hover titles."""
    from pyvis.edge import Edge
    from pyvis.network import Network

    net = Network(height="100%", width="100%", directed=True, heading=heading, cdn_resources="in_line")
    claims = graph.graph.get("claims", {})
    exposure = "exposure" in graph.graph.get("overlays", {})
    highlighting = any(d.get("highlight") for *_, d in graph.edges(data=True))
    degree = dict(graph.degree())
    big = graph.number_of_nodes() > SMALL_NODES
    for iri, d in graph.nodes(data=True):
        net.add_node(iri, label=d.get("label") or iri, title=style.node_title(d, degree[iri], lang, claims),
                     **style.node_style(d, degree[iri], exposure, big), kg=_node_record(iri, d, degree[iri]))
    parallel = _parallel_index(graph)
    for i, (u, v, key, d) in enumerate(graph.edges(keys=True, data=True)):
        opts = style.edge_style(d, highlighting)
        rank, total = parallel[(u, v, key)]
        if total > 1:
            opts["smooth"] = {"enabled": True, "type": "curvedCW", "roundness": round(0.12 + 0.14 * rank, 2)}
        title = style.edge_title(d, graph.nodes[u].get("label") or u, graph.nodes[v].get("label") or v, lang, claims)
        # pyvis's add_edge checks both ends against a list (quadratic on big graphs); the nodes
        # are known to exist, so the Edge records are appended directly (arrows come from the
        # global options rather than from each record).
        net.edges.append(Edge(u, v, False, id=f"e{i}", title=title, **opts, kg=_edge_record(key, d)).options)
    net.options = vis_options(graph.number_of_nodes(), graph.number_of_edges())
    return net


def vis_options(n_nodes: int, n_edges: int) -> dict:
    """vis-network options by size: small views get a refined layout, big ones a bounded one.

    Physics is switched off by the page once stabilisation ends, so a laid-out graph stays put.
    """
    small = n_nodes <= SMALL_NODES
    # a budget of stabilisation work: ~100 iterations at 2,000 actors and 10,000 relationships
    iterations = 1000 if small else max(60, min(300, int(1_200_000 / max(1, n_nodes + n_edges))))
    if small:
        # forceAtlas2 spreads the hubs (OpenAI, Nvidia, Microsoft) and their many leaves apart
        physics = {"solver": "forceAtlas2Based",
                   "forceAtlas2Based": {"gravitationalConstant": -150, "centralGravity": 0.01, "springLength": 160,
                                        "springConstant": 0.05, "damping": 0.5, "avoidOverlap": 0.8}}
    else:
        physics = {"solver": "barnesHut",
                   "barnesHut": {"gravitationalConstant": -4000, "centralGravity": 0.25, "springLength": 110,
                                 "springConstant": 0.03, "damping": 0.4, "avoidOverlap": 0.0, "theta": 0.9}}
    return {
        "autoResize": True,
        "layout": {"improvedLayout": small, "randomSeed": 7},
        # big views draw labels only once zoomed in far enough to read them
        "nodes": {"font": {"size": 20 if small else 14, "face": style.FONT, "strokeWidth": 3, "strokeColor": "#ffffff"},
                  "scaling": {"label": {"drawThreshold": 5 if small else 10}}},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}}, "selectionWidth": 2,
                  "hoverWidth": 0.5, "arrowStrikethrough": False},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": not small, "hideEdgesOnZoom": not small,
                        "navigationButtons": False, "keyboard": False, "multiselect": False},
        "physics": {
            "enabled": True, **physics, "maxVelocity": 60, "minVelocity": 0.75, "timestep": 0.5,
            "stabilization": {"enabled": True, "iterations": iterations, "updateInterval": 25, "fit": True},
        },
    }


def json_for_script(value) -> str:
    """JSON that is safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and the JavaScript
    line separators are escaped, so no data can close the element or open a comment."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


# -- helpers ---------------------------------------------------------------------------------
def _node_record(iri: str, d: dict, degree: int) -> dict:
    keys = ("label_en", "label_zh", "type", "ticker", "comment", "claims", "impact", "loss", "loss_text", "round",
            "impact_chain", "gain", "net", "focus", "shock", "highlight", "group", "hops")
    return {"iri": iri, "degree": degree, **{k: d[k] for k in keys if _present(d.get(k))}}


def _edge_record(key: str, d: dict) -> dict:
    """What the details panel and the filters need; the kind's label is in the page's legend."""
    out = {k: d[k] for k in ("rel", "label", "kind", "layer", "status", "source_label", "amount_text", "highlight",
                               "start", "end", "period", "date", "claims", "money")
           if _present(d.get(k))}
    amount = style.amount_text(d)
    if amount:
        out["amount"] = amount
    if key != d.get("rel"):
        out["key"] = key
    return out


def _present(value) -> bool:
    return value is not None and value is not False and not (isinstance(value, (list, str)) and not value)


def _parallel_index(graph) -> dict:
    """(u, v, key) → (rank among the edges joining u and v either way, their number)."""
    groups: dict[frozenset, list] = {}
    for u, v, key in graph.edges(keys=True):
        groups.setdefault(frozenset((u, v)), []).append((u, v, key))
    return {e: (i, len(es)) for es in groups.values() for i, e in enumerate(es)}


def _legend_kinds(graph) -> list[dict]:
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    for *_, d in graph.edges(data=True):
        counts[d["kind"]] = counts.get(d["kind"], 0) + 1
        labels.setdefault(d["kind"], d.get("kind_label") or d["kind"])
    order = list(style.KIND_STYLE)
    out = []
    for kind in sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k)):
        colour, dashes = style.kind_style(kind)
        out.append({"id": kind, "label": labels[kind], "count": counts[kind], "color": colour, "dashed": bool(dashes)})
    return out


def _counts(graph, w: dict) -> str:
    members = sum(1 for *_, kind in graph.edges(data="kind") if kind == "member-of")
    text = f"{graph.number_of_nodes()} {w['actors_count']} · {graph.number_of_edges() - members} {w['edges_count']}"
    return text + (f" · {members} {w['members_count']}" if members else "")


def _subtitle(graph, w: dict, lang: str) -> str:
    def name(iri):
        return graph.nodes[iri].get("label", iri) if iri in graph else iri

    parts = []
    if graph.graph.get("focus"):
        parts.append(f"{w['focus']} {name(graph.graph['focus'])} ({w['depth']} {graph.graph.get('depth')})"
                     + _focus_counts(graph, lang))
    overlays = graph.graph.get("overlays", {})
    if "exposure" in overlays:
        e = overlays["exposure"]
        parts.append(f"{w['exposure']}: {name(e['shock'])} ({e['method']}, ψ = {e['severity']:g})")
    if "chain" in overlays:
        c = overlays["chain"]
        parts.append(f"{w['chain']}: {name(c['from'])} → {name(c['to'])} ({c['count']})")
    if "cycles" in overlays:
        parts.append(f"{w['cycles']} ({overlays['cycles']['count']})")
    layer = graph.graph.get("layer", "all")
    if layer and layer != "all":
        parts.append(f"{w['layer']}: {style.layer_label(layer, lang)}")
    return " · ".join(parts)


def _focus_counts(graph, lang: str) -> str:
    """": 3 actors within 1 relationship, 28 within 2 (of 35)" (and in Chinese)."""
    counts = graph.graph.get("focus_counts") or []
    if len(counts) < 2:
        return ""
    total = graph.graph.get("actors_in_view")
    if lang == "zh-Hant":
        text = "、".join(f"{d} 層關係內 {n} 個行動者" if d == 1 else f"{d} 層內 {n} 個" for d, n in enumerate(counts) if d)
        return f":{text}" + (f"(共 {total} 個)" if total else "")
    text = ", ".join(f"{n} actors within {d} relationship{'s' if d > 1 else ''}" if d == 1 else f"{n} within {d}"
                     for d, n in enumerate(counts) if d)
    return f": {text}" + (f" (of {total})" if total else "")


def _too_large(graph, max_nodes: int, max_edges: int) -> str:
    import shlex

    top = sorted(graph.degree(), key=lambda x: -x[1])[:3]
    names = ", ".join(f"--focus {shlex.quote(graph.nodes[n].get('label_en') or n)} ({d} relationships)" for n, d in top)
    return (f"this view has {graph.number_of_nodes()} actors and {graph.number_of_edges()} relationships; a page "
            f"stays usable up to {max_nodes} actors and {max_edges} relationships. Narrow it with "
            f"--focus NAME --depth N (e.g. {names}) or --layer")


def _jsonable(value):
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value):
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value)
    return str(value)


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def _markup(text: str):
    from markupsafe import Markup

    return Markup(text)


@cache
def _assets() -> dict[str, str]:
    """The page's own CSS and script, and vis-network from the pinned pyvis package, as text."""
    from importlib.resources import files

    vis = files("pyvis").joinpath(*_VIS_JS).read_text(encoding="utf-8")
    # the source map is not shipped; a reference to it would be one more file to look for
    vis = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", vis)
    static = _PACKAGE / "static" / "viz"
    out = {"vis": vis, "js": (static / "page.js").read_text(encoding="utf-8"),
           "css": (static / "page.css").read_text(encoding="utf-8")}
    for name, text in out.items():
        if "</script" in text.lower() or "</style" in text.lower():
            raise RuntimeError(f"asset {name} would close its element early")
    return out


@cache
def _template():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(_PACKAGE / "templates")), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("viz.html")
