"""The dependency view: a networkx MultiDiGraph built from the RDF through named queries.

An edge ``u → v`` means *v depends on u*: a shock to ``u`` reaches ``v``. Which party depends on
which is decided per channel of the relationship's kind (``kg:channel``), as documented in
docs/analysis.md:

=============  ==============================================  =====================
channel        who depends on whom                             edge (kind's roles)
=============  ==============================================  =====================
funding        the investee on its investors' funding          from → to
equity         the investor on the value of its investee       to → from
revenue        the supplier / payee on its customer / payer    from → to
supply         the customer on its supplier                    to → from
licence        the licensee on its licensor                    to → from
api            the API dependent on its provider               to → from
acquisition    the acquirer takes on the acquiree's losses     to → from
competition    the substitute gains when the incumbent falls   to → from
analogy        a comparison (no distress)                      to → from
membership     a group on its members (kg:memberOf)            member → group
=============  ==============================================  =====================
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterable

from kg.fx import usd_amount
from kg.queries import load_query

__all__ = [
    "CHANNELS", "DISTRESS_CHANNELS", "FORWARD", "AMOUNT_CHANNELS", "build_view", "build_money_graph", "parse_channels",
    "actor_sizes", "read_relationships",
]

#: Every channel the view knows, in the order of the table above.
CHANNELS = ("funding", "equity", "revenue", "supply", "licence", "api", "acquisition", "competition",
            "analogy", "membership")
#: The channels that carry distress (the default of :func:`build_view`).
DISTRESS_CHANNELS = ("funding", "equity", "revenue", "supply", "licence", "api", "acquisition", "membership")
#: True where the dependent is the kind's to-party (the edge runs from → to).
FORWARD = {"funding": True, "revenue": True, "equity": False, "supply": False, "licence": False, "api": False,
           "acquisition": False, "competition": False, "analogy": False}

#: Channels on which a stated amount measures what the dependent stands to lose (the payments a
#: supplier loses, the funding an investee loses, the stake an investor writes down). On the
#: others (a customer losing a supplier, a licensee its licensor, a dependent its API) the amount
#: is what the dependent pays, not what it loses, so the qualitative weight is used.
AMOUNT_CHANNELS = frozenset({"funding", "equity", "revenue", "acquisition"})

_LAYERS = {"ArticleLayer": "article", "ContextLayer": "context", "UserLayer": "user"}


def _local(iri: str | None) -> str:
    return "" if not iri else iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _layer_name(iri: str | None) -> str | None:
    return _LAYERS.get(_local(iri), _local(iri).removesuffix("Layer").lower() or None) if iri else None


@contextmanager
def _bulk():
    """Pause the cyclic garbage collector while building large graphs: the millions of small
    dicts made here are not garbage, and scanning them again and again costs more than the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_channels(value: str | Iterable[str] | None, allowed: Iterable[str] = CHANNELS) -> tuple[str, ...] | None:
    """``"funding,revenue"`` → ``("funding", "revenue")``; raises ``ValueError`` naming the
    unknown ones. ``None`` or an empty value → ``None`` (the default channels)."""
    if value is None:
        return None
    items = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    if not items:
        return None
    allowed = tuple(allowed)
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise ValueError(f"unknown channel(s) {', '.join(unknown)}; expected some of {', '.join(allowed)}")
    return tuple(dict.fromkeys(items))


def _layer_binding(layer: str | None) -> dict:
    from kg.explore import layer_iri

    return {"layer": layer_iri(layer)}


def read_relationships(kg, query: str, layer: str = "all", from_key: str = "from", to_key: str = "to") -> dict[str, dict]:
    """Run an analysis query and merge its rows into one record per relationship, then count
    deals linked by ``kg:sameDealAs`` once: the kept record is the one with a USD amount (then
    the first IRI), and it carries the others' sources and IRIs (``also``)."""
    names, rows = kg.select_terms(load_query(query).text, _layer_binding(layer))
    col = {n: k for k, n in enumerate(names)}
    i_rel, i_kind, i_from, i_to = col["rel"], col["kind"], col[from_key], col[to_key]
    i_val, i_cur, i_q, i_st = col["value"], col["currency"], col["qualifier"], col["status"]
    i_same, i_src, i_layer, i_ch = col["same"], col["source"], col["layer"], col.get("channel")
    rels: dict[str, dict] = {}
    for r in rows:
        rel = r[i_rel].value
        rec = rels.get(rel)
        if rec is None:
            value, cur = r[i_val], r[i_cur]
            amount, fx = usd_amount(kg, rel, None if value is None else value.value, None if cur is None else cur.value)  # non-USD: --fx or an error
            rec = rels[rel] = {
                "rel": rel, "kind": _local(r[i_kind].value), "from": r[i_from].value, "to": r[i_to].value,
                "channels": [], "amount": amount, "currency": cur.value if cur is not None else None,
                "raw_amount": value.value if value is not None else None, "qualifiers": [],
                "status": r[i_st].value if r[i_st] is not None else None, "same": set(), "sources": [],
                "layer": _layer_name(r[i_layer].value), "also": [], "fx": fx,
            }
        if i_ch is not None and r[i_ch] is not None and r[i_ch].value not in rec["channels"]:
            rec["channels"].append(r[i_ch].value)
        q = r[i_q]
        if q is not None and q.value not in rec["qualifiers"]:
            rec["qualifiers"].append(q.value)
        if r[i_same] is not None:
            rec["same"].add(r[i_same].value)
        src = r[i_src]
        if src is not None and src.value not in rec["sources"]:
            rec["sources"].append(src.value)
    return _merge_same_deals(rels)


def _merge_same_deals(rels: dict[str, dict]) -> dict[str, dict]:
    if not any(rec["same"] for rec in rels.values()):
        return rels
    parent = {r: r for r in rels}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r, rec in rels.items():
        for other in rec["same"]:
            if other in rels:
                parent[find(other)] = find(r)
    clusters: dict[str, list[str]] = {}
    for r in rels:
        clusters.setdefault(find(r), []).append(r)
    out = {}
    for members in clusters.values():
        members.sort(key=lambda r: (rels[r]["amount"] is None, r))
        keep = dict(rels[members[0]])
        for other in members[1:]:
            keep["also"] = keep["also"] + [other]
            keep["sources"] = keep["sources"] + [s for s in rels[other]["sources"] if s not in keep["sources"]]
        out[keep["rel"]] = keep
    return out


def actor_sizes(kg, layer: str = "all", model=None) -> dict[str, dict]:
    """Each actor's capacity E_i: the first metric of ``model.size_metrics`` for which it has a
    USD figure, the largest figure of that metric; ``{iri: {size, metric, figure, source}}``."""
    from kg.analysis.model import load_model

    model = model or load_model(kg)
    rank = {m: i for i, m in enumerate(model.size_metrics)}
    best: dict[str, tuple] = {}
    names, rows = kg.select_terms(load_query("analysis-sizes").text, _layer_binding(layer))
    col = {n: k for k, n in enumerate(names)}
    for r in rows:
        metric, value, currency = r[col["metric"]], r[col["value"]], r[col["currency"]]
        if currency is None or metric.value not in rank or value is None:
            continue
        amount, fx = usd_amount(kg, r[col["figure"]].value, value.value, currency.value)  # --fx or an error
        if amount is None:
            continue
        actor = r[col["actor"]].value
        key = (rank[metric.value], -amount)
        if actor not in best or key < best[actor][0]:
            period = r[col["period"]]
            best[actor] = (key, {"size": amount, "metric": metric.value, "figure": r[col["figure"]].value,
                                 "source": r[col["source"]].value, "period": period.value if period else None,
                                 "fx": fx})
    return {a: info for a, (_, info) in best.items()}


def _add_actors(g, kg) -> None:
    names, rows = kg.select_terms(load_query("analysis-actors").text)
    col = {n: k for k, n in enumerate(names)}
    nodes = g._node
    for r in rows:
        iri = r[col["id"]].value
        attrs = nodes.get(iri)
        if attrs is None:
            label, label_zh = r[col["label"]], r[col["label_zh"]]
            g.add_node(iri, label=label.value if label is not None else _local(iri),
                       label_zh=label_zh.value if label_zh is not None else None, types=[])
            attrs = nodes[iri]
        t = _local(r[col["type"]].value)
        if t not in attrs["types"]:
            attrs["types"].append(t)


def _ensure_node(g, iri: str) -> None:
    if iri not in g:
        g.add_node(iri, label=_local(iri), label_zh=None, types=[])


def build_view(kg, layer: str = "all", channels=None, *, include: Iterable[str] = (), all_statuses: bool = False,
               model=None):
    """The dependency view of the graph as a ``networkx.MultiDiGraph``.

    Parameters
    ----------
    kg : the loaded :class:`kg.store.KGStore`.
    layer : ``article``, ``context``, ``user`` or ``all``: only relationships, figures and
        memberships stated by sources of this layer.
    channels : the channels to include (default :data:`DISTRESS_CHANNELS`).
    include : IRIs of relationships to count in full whatever their status (a scenario's
        hypothetical acquisition).
    all_statuses : keep relationships whose status counts for nothing (weight 0) too.
    model : the :class:`kg.analysis.model.Model` (default: data/model/model.trig).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes are actor IRIs with ``label``, ``label_zh``, ``types`` and ``size`` (capacity in
        USD or None). Edge ``u → v`` (v depends on u) has ``rel``, ``kind``, ``channel``,
        ``amount`` (USD or None), ``exposure_usd`` (amount × status factor), ``qualifiers``,
        ``status``, ``sources``, ``layer``, ``weight`` (W(v←u) of this edge alone, in [0, 1]),
        ``basis`` (``amount``, ``qualitative`` or ``membership``), ``also`` (same-deal IRIs) and
        ``fx`` (the ``--fx`` rate that converted a non-USD amount, or None).

    Examples
    --------
    >>> from kg.store import load_store
    >>> g = build_view(load_store(), layer="article")
    >>> KGR = "https://w3id.org/ai-capital-kg/resource/"
    >>> g.has_edge(KGR + "OpenAI", KGR + "Oracle")   # Oracle depends on OpenAI's payments
    True
    """
    with _bulk():
        return _build_view(kg, layer, channels, include=include, all_statuses=all_statuses, model=model)


def _build_view(kg, layer: str = "all", channels=None, *, include: Iterable[str] = (), all_statuses: bool = False,
                model=None):
    import networkx as nx

    from kg.analysis.model import load_model

    model = model or load_model(kg)
    chosen = tuple(channels) if channels else DISTRESS_CHANNELS
    include = set(include)
    g = nx.MultiDiGraph(layer=layer, channels=chosen, notes=[])
    _add_actors(g, kg)
    sizes = actor_sizes(kg, layer, model)
    other_currency = 0
    batch = []
    for rec in read_relationships(kg, "analysis-edges", layer).values():
        factor = 1.0 if rec["rel"] in include else model.factor(rec["status"])
        if factor == 0.0 and not all_statuses:
            continue
        if rec["amount"] is None and rec["raw_amount"] is not None:
            other_currency += 1
        for ch in rec["channels"]:
            if ch not in chosen or ch not in FORWARD:
                continue
            u, v = (rec["from"], rec["to"]) if FORWARD[ch] else (rec["to"], rec["from"])
            size = sizes.get(v, {}).get("size")
            exposure = rec["amount"] * factor if rec["amount"] is not None and ch in AMOUNT_CHANNELS else None
            if exposure is not None and size:
                weight, basis = min(1.0, exposure / size), "amount"
            else:
                weight, basis = model.weight(ch, rec["kind"]) * factor, "qualitative"
            batch.append((u, v, f"{rec['rel']}#{ch}", {
                "rel": rec["rel"], "kind": rec["kind"], "channel": ch, "amount": rec["amount"],
                "exposure_usd": exposure, "qualifiers": rec["qualifiers"], "status": rec["status"],
                "sources": rec["sources"], "layer": rec["layer"], "weight": weight, "basis": basis,
                "also": rec["also"], "fx": rec["fx"], "factor": factor, "included": rec["rel"] in include}))
    for u, v, _, _ in batch:
        _ensure_node(g, u)
        _ensure_node(g, v)
    g.add_edges_from(batch)
    if "membership" in chosen:
        _add_memberships(g, kg, layer, model)
    for iri, info in sizes.items():
        if iri in g:
            g.nodes[iri].update(size=info["size"], size_metric=info["metric"], size_source=info["source"],
                                size_figure=info["figure"])
    for n, attrs in g.nodes(data=True):
        attrs.setdefault("size", None)
    if other_currency:
        g.graph["notes"].append(f"{other_currency} relationship amount(s) not in USD were treated as unknown")
    return g


def _add_memberships(g, kg, layer: str, model) -> None:
    pairs: dict[tuple[str, str], dict] = {}
    for r in kg.select(load_query("analysis-members").text, _layer_binding(layer)):
        rec = pairs.setdefault((r["member"], r["group"]), {"sources": [], "layer": _layer_name(r["layer"])})
        if r["source"] not in rec["sources"]:
            rec["sources"].append(r["source"])
    size: dict[str, int] = {}
    for _, group in pairs:
        size[group] = size.get(group, 0) + 1
    w = model.weight("membership")
    for (member, group), rec in pairs.items():
        _ensure_node(g, member)
        _ensure_node(g, group)
        g.add_edge(member, group, key=f"memberOf#{member}", rel=None, kind="memberOf", channel="membership",
                   amount=None, exposure_usd=None, qualifiers=[], status=None, sources=rec["sources"],
                   layer=rec["layer"], weight=w / size[group], basis="membership", also=[])


def build_money_graph(kg, layer: str = "all", *, include: Iterable[str] = (), all_statuses: bool = False,
                      model=None):
    """The money-flow graph payer → payee (``kg:payer``/``kg:payee``) as a MultiDiGraph.

    Edges carry ``rel``, ``kind``, ``amount`` (USD or None), ``qualifiers``, ``status``,
    ``sources``, ``layer`` and ``also``; relationships whose status counts for nothing in the
    model (hypothetical, historical, ended) are left out unless ``all_statuses`` or ``include``.
    """
    with _bulk():
        return _build_money_graph(kg, layer, include=include, all_statuses=all_statuses, model=model)


def _build_money_graph(kg, layer: str = "all", *, include: Iterable[str] = (), all_statuses: bool = False,
                       model=None):
    import networkx as nx

    from kg.analysis.model import load_model

    model = model or load_model(kg)
    include = set(include)
    g = nx.MultiDiGraph(layer=layer, notes=[])
    _add_actors(g, kg)
    for rec in read_relationships(kg, "analysis-money-flows", layer, "payer", "payee").values():
        if model.factor(rec["status"]) == 0.0 and not all_statuses and rec["rel"] not in include:
            continue
        _ensure_node(g, rec["from"])
        _ensure_node(g, rec["to"])
        g.add_edge(rec["from"], rec["to"], key=rec["rel"], rel=rec["rel"], kind=rec["kind"], channel="money",
                   amount=rec["amount"], qualifiers=rec["qualifiers"], status=rec["status"],
                   sources=rec["sources"], layer=rec["layer"], also=rec["also"], weight=1.0, fx=rec["fx"])
    return g
