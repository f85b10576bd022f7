"""Circular money flows: bounded enumeration of the simple cycles of the money-flow graph."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Cycle", "CyclesResult", "find_cycles", "collapse_legs"]


@dataclass
class Cycle:
    """A circular flow ``nodes[0] → nodes[1] → … → nodes[0]``.

    ``legs`` give, per hop, the relationships (IRI, kind, amount, status, sources) and the leg's
    amount (the sum of its known amounts, None when none is known); ``round_trip`` is the
    smallest leg, the money that can go round (None unless every leg has an amount).
    """

    nodes: list[str]
    legs: list[dict]
    round_trip: float | None

    def as_dict(self) -> dict:
        return {"nodes": self.nodes, "round_trip": self.round_trip, "legs": self.legs}


@dataclass
class CyclesResult:
    cycles: list[Cycle] = field(default_factory=list)
    max_length: int = 6
    cap: int = 1000
    capped: bool = False
    budget_hit: bool = False


def collapse_legs(graph, min_amount: float | None = None) -> dict[tuple[str, str], dict]:
    """One leg per ordered pair (u, v) of a MultiDiGraph, with its relationships and amount.

    With ``min_amount``, legs whose amount is unknown or smaller are left out. A leg's
    relationships come in the order of their keys (the relationships' IRIs), not in the order
    the store returned the rows in, which SPARQL leaves open.
    """
    legs: dict[tuple[str, str], dict] = {}
    for u, v, _, d in sorted(graph.edges(keys=True, data=True), key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
        leg = legs.setdefault((u, v), {"from": u, "to": v, "rels": [], "amount": None})
        leg["rels"].append({"rel": d.get("rel"), "kind": d.get("kind"), "amount": d.get("amount"),
                            "qualifiers": list(d.get("qualifiers") or []), "status": d.get("status"), "sources": list(d.get("sources") or []),
                            "also": list(d.get("also") or []), "fx": d.get("fx")})
        if d.get("amount") is not None:
            leg["amount"] = (leg["amount"] or 0.0) + float(d["amount"])
    if min_amount is not None:
        legs = {k: leg for k, leg in legs.items() if leg["amount"] is not None and leg["amount"] >= min_amount}
    return legs


def find_cycles(graph, min_amount: float | None = None, max_length: int = 6, cap: int = 1000,
                max_steps: int = 2_000_000) -> CyclesResult:
    """Simple cycles of at most ``max_length`` legs, at most ``cap`` of them.

    Enumeration is bounded three ways: cycles are searched only inside strongly connected
    components; each cycle is found once, from its smallest node, by a depth-first search that
    stops at ``max_length``; and the search stops after ``cap`` cycles (``capped``) or
    ``max_steps`` search steps (``budget_hit``). Cycles are ranked by round-trip amount (unknown
    last), then length. networkx's ``simple_cycles(length_bound=…)`` enumerates the same
    cycles but has no cap and was measured very slow on large graphs.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.MultiDiGraph()
    >>> _ = g.add_edge("MSFT", "OAI", amount=13.0); _ = g.add_edge("OAI", "MSFT", amount=250.0)
    >>> res = find_cycles(g)
    >>> res.cycles[0].nodes, res.cycles[0].round_trip
    (['MSFT', 'OAI', 'MSFT'], 13.0)
    """
    import networkx as nx

    result = CyclesResult(max_length=max_length, cap=cap)
    legs = collapse_legs(graph, min_amount)
    simple = nx.DiGraph()
    simple.add_edges_from(legs)
    order = {n: k for k, n in enumerate(sorted(simple.nodes, key=str))}
    found: list[list[str]] = []
    steps = 0
    for comp in nx.strongly_connected_components(simple):
        if len(comp) == 1:
            (n,) = comp
            if simple.has_edge(n, n):
                found.append([n, n])
            continue
        succ = {u: sorted((v for v in simple.successors(u) if v in comp), key=order.get) for u in comp}
        for start in sorted(comp, key=order.get):
            rank = order[start]
            path, on_path = [start], {start}
            stack = [iter(succ[start])]
            while stack and not result.capped and not result.budget_hit:
                v = next(stack[-1], None)
                if v is None:
                    stack.pop()
                    on_path.discard(path.pop())
                    continue
                steps += 1
                if steps > max_steps:
                    result.budget_hit = True
                    break
                if v == start:
                    found.append(path + [start])
                    if len(found) >= cap:
                        result.capped = True
                    continue
                if order[v] < rank or v in on_path or len(path) >= max_length:
                    continue
                path.append(v)
                on_path.add(v)
                stack.append(iter(succ[v]))
            if result.capped or result.budget_hit:
                break
        if result.capped or result.budget_hit:
            break
    for nodes in found:
        cyc_legs = [legs[(a, b)] for a, b in zip(nodes, nodes[1:])]
        amounts = [leg["amount"] for leg in cyc_legs]
        round_trip = min(amounts) if all(a is not None for a in amounts) else None
        result.cycles.append(Cycle(nodes, [dict(leg) for leg in cyc_legs], round_trip))
    result.cycles.sort(key=lambda c: (c.round_trip is None, -(c.round_trip or 0.0), len(c.nodes), c.nodes))
    return result
