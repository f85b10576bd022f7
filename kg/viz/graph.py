"""The view a page or an export shows: actors, relationships, claims, memberships, overlays."""

from __future__ import annotations

from kg.analysis.debtrank import DEFAULT_METHOD
from kg.entities import label_of, labels, resolve
from kg.explore import layer_iri, local_name
from kg.queries import load_query

__all__ = ["build_graph", "TYPE_ORDER", "MEMBER_KIND"]

#: Node types, most specific first: an actor with several types is drawn as the first it has.
TYPE_ORDER = ("ActorGroup", "Platform", "Product", "Company", "Actor")
#: The kind given to group-membership edges (member → group), which are not relationships.
MEMBER_KIND = "member-of"
_LAYER_NAMES = {"ArticleLayer": "article", "ContextLayer": "context", "UserLayer": "user"}


def build_graph(kg, *, focus=None, depth=1, exposure=None, chain=None, cycles=False, layer="all",
                lang="en", severity=1.0, method=DEFAULT_METHOD, kinds=None):
    """The graph a page shows, as a networkx ``MultiDiGraph`` keyed by relationship IRI.

    Parameters
    ----------
    kg : the loaded store (:class:`kg.store.KGStore`).
    focus : name of an actor (any label, ticker, IRI); keep only its neighbourhood.
    depth : radius of that neighbourhood: the actors reached from ``focus`` over at most
        ``depth`` relationships of the shown kinds, either way. Group memberships are drawn
        between the actors kept but are not hops (a group's members are not one another's
        counterparties). Each kept actor gets ``hops``; ``graph.graph["focus_counts"]`` lists
        how many actors lie within 0, 1, …, ``depth`` hops.
    exposure : name of the actor that fails; actors get ``impact``, ``loss`` and ``round`` from
        :func:`kg.analysis.exposure.rank_exposure` with ``severity`` and ``method``.
    chain : ``(FROM, TO)`` names (or one string ``"FROM,TO"``, as a URL parameter gives it); the
        edges of the dependency chains between them get ``highlight="chain"``.
    cycles : mark the edges of circular flows with ``highlight="cycle"``.
    layer : ``article``, ``context``, ``user`` or ``all``.
    lang : ``en`` or ``zh-Hant``, the language of ``label`` attributes.
    kinds : only relationships of these kinds (notations such as ``compute-contract``, or
        ``member-of`` for memberships; a list or one comma-separated string).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes are actor IRIs with ``label``, ``label_en``, ``label_zh``, ``type``, ``ticker``,
        ``claims``; edges run in the direction of the money where money flows (payer → payee),
        otherwise from the kind's from-role to its to-role, with ``rel``, ``kind``,
        ``kind_label``, ``money``, ``amount``, ``currency``, ``qualifier``, ``amount_text``,
        ``status``, ``layer``, ``source``, ``claims``. Group memberships are edges of kind
        ``member-of``. ``graph.graph`` holds ``claims`` (id → claim), ``kinds`` and ``overlays``.

    Raises
    ------
    kg.errors.UnknownEntityError
        When a name matches no actor (the message lists the nearest names).

    Examples
    --------
    >>> from kg.store import load_store
    >>> g = build_graph(load_store(), focus="Oracle", depth=1)
    >>> g.nodes["https://w3id.org/ai-capital-kg/resource/Oracle"]["label_zh"]
    '甲骨文'
    """
    import networkx as nx

    from kg.errors import InputError

    if depth < 0:
        raise InputError(f"depth must be 0 or more, got {depth}")
    if isinstance(chain, str):
        chain = [part.strip() for part in chain.split(",")]
    if chain is not None and len(chain) != 2:
        raise InputError(f"chain needs two names, FROM and TO; got {list(chain)!r}")
    bindings = {"layer": layer_iri(layer)}
    graph = nx.MultiDiGraph(lang=lang, layer=layer, claims={}, kinds=_kinds(kg), overlays={})
    actors = _actors(kg)
    by_target = _claims(kg, bindings, lang, graph.graph["claims"])
    _add_relationships(graph, kg, bindings, actors, by_target, lang)
    _add_memberships(graph, kg, bindings, actors, lang)
    if kinds is not None:
        _keep_kinds(graph, kinds)
    focus_iri = resolve(kg, focus) if focus else None
    shock_iri = resolve(kg, exposure) if exposure else None
    ends = (resolve(kg, chain[0]), resolve(kg, chain[1])) if chain else None
    for iri in filter(None, (focus_iri, shock_iri, *(ends or ()))):
        _add_node(graph, iri, actors, lang)
    for iri, data in graph.nodes(data=True):
        data["claims"] = by_target.get(iri, [])
    if shock_iri:
        from kg.viz.overlays import mark_exposure

        mark_exposure(graph, kg, shock_iri, severity=severity, method=method, layer=layer)
    if ends:
        from kg.viz.overlays import mark_chains

        mark_chains(graph, kg, *ends, layer=layer)
    if cycles:
        from kg.viz.overlays import mark_cycles

        mark_cycles(graph, kg, layer=layer)
    if focus_iri:
        graph = _neighbourhood(graph, focus_iri, depth)
    return graph


def _neighbourhood(graph, focus: str, depth: int):
    """The actors within ``depth`` relationships of ``focus`` (memberships are not hops), with
    every edge between them; nodes get ``hops``, the graph ``focus_counts``."""
    import networkx as nx

    hops_graph = nx.Graph()
    hops_graph.add_nodes_from(graph)
    hops_graph.add_edges_from((u, v) for u, v, kind in graph.edges(data="kind") if kind != MEMBER_KIND)
    hops = nx.single_source_shortest_path_length(hops_graph, focus, cutoff=depth)
    sub = graph.subgraph(hops).copy()
    sub.graph.update(graph.graph)
    for iri, n in hops.items():
        sub.nodes[iri]["hops"] = n
    sub.nodes[focus]["focus"] = True
    sub.graph["focus"] = focus
    sub.graph["depth"] = depth
    sub.graph["focus_counts"] = [sum(1 for n in hops.values() if n <= d) for d in range(depth + 1)]
    sub.graph["actors_in_view"] = graph.number_of_nodes()
    return sub


def _keep_kinds(graph, kinds) -> None:
    """Drop the edges of other kinds, then the actors left without an edge."""
    import difflib

    from kg.errors import InputError

    if isinstance(kinds, str):
        kinds = [k.strip() for k in kinds.split(",") if k.strip()]
    known = sorted({v["notation"] for v in graph.graph["kinds"].values() if v.get("notation")} | {MEMBER_KIND})
    for kind in kinds:
        if kind not in known:
            near = difflib.get_close_matches(kind, known, n=3, cutoff=0.5)
            raise InputError(f"unknown relationship kind {kind!r}; "
                             + (f"nearest: {', '.join(near)}" if near else f"known: {', '.join(known)}"))
    wanted = set(kinds)
    graph.remove_edges_from([(u, v, k) for u, v, k, kind in graph.edges(keys=True, data="kind") if kind not in wanted])
    graph.remove_nodes_from([n for n in list(graph) if graph.degree(n) == 0])
    graph.graph["shown_kinds"] = sorted(wanted)


def _kinds(kg) -> dict[str, dict]:
    """kind IRI → notation, labels in both languages, whether money flows, channels."""
    return {
        r["kind"]: {
            "notation": r["notation"], "label": r["label"] or r["notation"], "label_zh": r["label_zh"] or r["label"],
            "money": bool(r["money"]), "channels": [c for c in (r["channels"] or "").split(",") if c],
        }
        for r in kg.select(load_query("viz-kinds").text)
    }


def _actors(kg) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in kg.select(load_query("viz-actors").text):
        entry = out.setdefault(r["id"], {"types": set(), "label_en": r["label"], "label_zh": r["label_zh"],
                                         "ticker": r["ticker"], "comment": r["comment"]})
        entry["types"].add(local_name(r["type"]))
    for entry in out.values():
        entry["type"] = next((t for t in TYPE_ORDER if t in entry["types"]), "Actor")
        entry["types"] = sorted(entry["types"])
    return out


def _add_node(graph, iri: str, actors: dict, lang: str) -> None:
    if iri in graph:
        return
    actor = actors.get(iri, {})
    en = actor.get("label_en") or local_name(iri)
    zh = actor.get("label_zh") or en
    graph.add_node(
        iri, label=zh if lang == "zh-Hant" else en, label_en=en, label_zh=zh, type=actor.get("type", "Actor"),
        types=actor.get("types", ["Actor"]), ticker=actor.get("ticker"), comment=actor.get("comment"),
        group=actor.get("type") == "ActorGroup",
    )


def _claims(kg, bindings: dict, lang: str, claims: dict) -> dict[str, list[str]]:
    """Fill ``claims`` (id → claim) and return target IRI → claim ids, in reading order."""
    by_target: dict[str, list[str]] = {}
    for r in kg.select(load_query("viz-claims").text, bindings):
        cid = r["claim"]
        if cid not in claims:
            claims[cid] = {
                "id": cid, "excerpt": r["excerpt"], "excerpt_lang": r["excerpt_lang"] or "", "text_en": r["text_en"],
                "kind": r["kind_name"], "hedge": r["hedge"], "line": r["line"], "source": r["source"],
                "source_label": label_of(kg, r["source"], lang), "layer": _layer_name(r["layer"]),
            }
        targets = by_target.setdefault(r["target"], [])
        if cid not in targets:
            targets.append(cid)
    return by_target


def _add_relationships(graph, kg, bindings, actors, by_target, lang) -> None:
    kinds = graph.graph["kinds"]
    for r in kg.select(load_query("relationships").text, bindings):
        # ``sources`` (space-separated) in the current query, ``source`` in its first version
        sources = (r.get("sources") or r.get("source") or "").split()
        money = bool(r["payer"] and r["payee"])
        u, v = (r["payer"], r["payee"]) if money else (r["from"], r["to"])
        if graph.has_edge(u, v, key=r["rel"]):
            continue  # one row per party combination; the first one carries the same facts
        kind = kinds.get(r["kind"], {})
        for iri in (u, v):
            _add_node(graph, iri, actors, lang)
        graph.add_edge(
            u, v, key=r["rel"], rel=r["rel"], label=_own_label(kg, r["rel"], lang),
            kind=kind.get("notation") or local_name(r["kind"]),
            kind_label=(kind.get("label_zh") if lang == "zh-Hant" else kind.get("label")) or r["kindLabel"],
            money=money, amount=_number(r["value"]), currency=r["currency"], qualifier=r["qualifiers"] or None,
            amount_text=r.get("amountText"), quantity=_number(r.get("quantity")), unit=r.get("unit"),
            status=r.get("status"), start=_text(r.get("start")), end=_text(r.get("end")), period=r.get("period"),
            date=_text(r.get("date")),
            layer=_layer_name(r["layer"]), source=" ".join(sources) or None,
            source_label="; ".join(label_of(kg, s, lang) for s in sources) or None, claims=by_target.get(r["rel"], []),
        )


def _add_memberships(graph, kg, bindings, actors, lang) -> None:
    for r in kg.select(load_query("viz-members").text, bindings):
        key = f"member:{r['member']}|{r['group']}|{r['source']}"
        for iri in (r["member"], r["group"]):
            _add_node(graph, iri, actors, lang)
        graph.add_edge(
            r["member"], r["group"], key=key, rel=None, label=None, kind=MEMBER_KIND,
            kind_label="成員" if lang == "zh-Hant" else "member of", money=False, amount=None, currency=None,
            qualifier=None, amount_text=None, quantity=None, unit=None, status=None, start=None, end=None,
            period=None, date=None, layer=_layer_name(r["layer"]), source=r["source"],
            source_label=label_of(kg, r["source"], lang), claims=[],
        )


def _own_label(kg, iri: str, lang: str) -> str | None:
    """The label of ``iri`` in ``lang`` (or the other language); None rather than its local name."""
    entry = labels(kg).get(iri, {})
    return entry.get(lang) or entry.get("en" if lang == "zh-Hant" else "zh-Hant")


def _layer_name(iri: str | None) -> str:
    name = local_name(iri)
    return _LAYER_NAMES.get(name, name)


def _number(value):
    return None if value is None else float(value)


def _text(value):
    return None if value is None else str(value)
