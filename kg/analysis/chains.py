"""Dependency chains: every simple chain from one actor to another, or everything that depends on it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["Chain", "ChainsResult", "find_chains", "strongest_edges", "hop_of"]


@dataclass
class Chain:
    """A chain of dependence ``nodes[0] → … → nodes[-1]`` (each depends on the one before).

    ``strength`` is the product of the hops' weights; ``hops`` explain each hop with its
    relationship, kind, channel, amount, weight and sources.
    """

    nodes: list[str]
    hops: list[dict]
    strength: float

    @property
    def target(self) -> str:
        return self.nodes[-1]

    def as_dict(self) -> dict:
        return {"nodes": self.nodes, "strength": self.strength, "hops": self.hops}


@dataclass
class ChainsResult:
    """Chains ranked by strength; ``distance`` per dependent when no target was given;
    ``capped`` when the enumeration stopped at the cap."""

    source: str
    target: str | None
    max_depth: int
    cap: int
    chains: list[Chain] = field(default_factory=list)
    distance: dict[str, int] = field(default_factory=dict)
    capped: bool = False


def strongest_edges(view) -> dict[str, list[tuple[str, float, dict]]]:
    """Adjacency ``u → [(v, weight, edge)]`` keeping, of parallel edges, the one that weighs most
    (edges of weight 0 carry no dependence and are left out); of equally heavy ones, the one of
    the smallest key (the relationship's IRI), not the first in the order the store returned
    the rows in, which SPARQL leaves open."""
    best: dict[tuple[str, str], tuple[str, dict]] = {}
    for u, v, key, d in view.edges(keys=True, data=True):
        if d.get("weight", 0.0) <= 0.0 or u == v:
            continue
        kept = best.get((u, v))
        if kept is None or d["weight"] > kept[1]["weight"] or (d["weight"] == kept[1]["weight"] and str(key) < kept[0]):
            best[(u, v)] = (str(key), d)
    adj: dict[str, list[tuple[str, float, dict]]] = {}
    for (u, v), (_, d) in best.items():
        adj.setdefault(u, []).append((v, d["weight"], d))
    for items in adj.values():
        items.sort(key=lambda t: (-t[1], t[0]))
    return adj


def hop_of(view, u: str, v: str, d: dict) -> dict:
    """One hop u → v explained: labels, relationship IRI, kind, channel, amount (with its qualifiers and
    status), weight, sources."""
    return {"from": u, "from_label": view.nodes[u].get("label", u), "to": v, "to_label": view.nodes[v].get("label", v),
            "rel": d.get("rel"), "kind": d.get("kind"), "channel": d.get("channel"), "amount": d.get("amount"),
            "qualifiers": list(d.get("qualifiers") or []), "weight": d.get("weight"), "status": d.get("status"), "sources": list(d.get("sources") or []),
            "also": list(d.get("also") or [])}


def _distances_to(adj, target: str, max_depth: int) -> dict[str, int]:
    rev: dict[str, list[str]] = {}
    for u, items in adj.items():
        for v, _, _ in items:
            rev.setdefault(v, []).append(u)
    dist, queue = {target: 0}, deque([target])
    while queue:
        x = queue.popleft()
        if dist[x] >= max_depth:
            continue
        for u in rev.get(x, ()):
            if u not in dist:
                dist[u] = dist[x] + 1
                queue.append(u)
    return dist


def find_chains(view, source: str, target: str | None = None, max_depth: int = 5, cap: int = 1000) -> ChainsResult:
    """Dependency chains from ``source`` in a view (an edge u → v: v depends on u).

    With ``target``: every simple chain from source to target of at most ``max_depth`` hops,
    ranked by strength (the product of the hop weights). The depth-first enumeration only
    enters nodes from which the target is still within reach, and stops after ``cap`` chains
    (``capped`` is then true and the ranking covers the chains found).

    Without ``target``: everything that depends on source within ``max_depth`` hops, each with
    its distance (fewest hops) and its strongest chain (found by dynamic programming over chain
    lengths 1..max_depth); at most ``cap`` dependents, the strongest kept.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.MultiDiGraph()
    >>> g.add_edge("A", "B", weight=0.5); g.add_edge("B", "C", weight=0.5); g.add_edge("A", "C", weight=0.1)
    0
    0
    0
    >>> [(c.nodes, c.strength) for c in find_chains(g, "A", "C").chains]
    [(['A', 'B', 'C'], 0.25), (['A', 'C'], 0.1)]
    """
    result = ChainsResult(source, target, max_depth, cap)
    if source not in view:
        return result
    adj = strongest_edges(view)
    if target is not None:
        _paths_to(view, adj, source, target, max_depth, cap, result)
    else:
        _dependents(view, adj, source, max_depth, cap, result)
    return result


def _paths_to(view, adj, source, target, max_depth, cap, result) -> None:
    if target not in view or source == target:
        return
    dist = _distances_to(adj, target, max_depth)
    if source not in dist:
        return
    found: list[tuple[list[str], list[dict], float]] = []
    path, on_path = [source], {source}
    stack = [(iter(adj.get(source, ())), 1.0, [])]
    while stack:
        it, strength, hops = stack[-1]
        step = next(it, None)
        if step is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        v, w, d = step
        depth = len(path)
        if v in on_path or dist.get(v, max_depth + 1) > max_depth - depth:
            continue
        hop = hop_of(view, path[-1], v, d)
        if v == target:
            found.append((path + [v], hops + [hop], strength * w))
            if len(found) >= cap:
                result.capped = True
                break
            continue
        path.append(v)
        on_path.add(v)
        stack.append((iter(adj.get(v, ())), strength * w, hops + [hop]))
    found.sort(key=lambda t: (-t[2], len(t[0]), t[0]))
    result.chains = [Chain(p, h, s) for p, h, s in found]


def _dependents(view, adj, source, max_depth, cap, result) -> None:
    dist, queue = {source: 0}, deque([source])
    while queue:
        x = queue.popleft()
        if dist[x] >= max_depth:
            continue
        for v, _, _ in adj.get(x, ()):
            if v not in dist:
                dist[v] = dist[x] + 1
                queue.append(v)
    # best[v] = (strength, predecessor) over chains of at most k hops, for k = 1..max_depth;
    # with weights ≤ 1 a detour never strengthens a chain, so the best walk is a simple chain.
    best: dict[str, tuple[float, str | None]] = {source: (1.0, None)}
    frontier = {source}
    for _ in range(max_depth):
        changed: set[str] = set()
        prev = {u: best[u][0] for u in frontier}
        for u in sorted(frontier, key=str):  # a set's order changes from run to run (string hashing)
            su = prev[u]
            for v, w, _ in adj.get(u, ()):
                s = su * w
                if v != source and (v not in best or s > best[v][0] + 1e-15):
                    best[v] = (s, u)
                    changed.add(v)
        if not changed:
            break
        frontier = changed
    deps = sorted((v for v in best if v != source), key=lambda v: (-best[v][0], dist.get(v, 0), v))
    if len(deps) > cap:
        result.capped = True
        deps = deps[:cap]
    edges = {(u, v): d for u, items in adj.items() for v, _, d in items}
    for v in deps:
        nodes, x, seen = [v], v, {v}
        while best[x][1] is not None and best[x][1] not in seen:
            x = best[x][1]
            seen.add(x)
            nodes.append(x)
        nodes.reverse()
        hops = [hop_of(view, a, b, edges[(a, b)]) for a, b in zip(nodes, nodes[1:])]
        result.chains.append(Chain(nodes, hops, best[v][0]))
    result.distance = {v: dist[v] for v in deps if v in dist}
