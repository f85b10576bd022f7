"""Dependency chains and circular money flows on hand-worked graphs and on the bundled graph."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.analysis.chains import find_chains
from kg.analysis.cycles import find_cycles

K = "https://w3id.org/ai-capital-kg/resource/"


def diamond():
    """S → X (0.5) → T (0.4); S → Y (0.9) → T (0.1); S → T (0.05); X → Y (1.0).
    Chains S⇝T: S-X-T 0.5·0.4 = 0.2; S-X-Y-T 0.5·1·0.1 = 0.05; S-Y-T 0.9·0.1 = 0.09; S-T 0.05."""
    g = nx.MultiDiGraph()
    for u, v, w in [("S", "X", 0.5), ("X", "T", 0.4), ("S", "Y", 0.9), ("Y", "T", 0.1), ("S", "T", 0.05),
                    ("X", "Y", 1.0)]:
        g.add_edge(u, v, weight=w, rel=f"rel/{u}{v}", kind="K", channel="revenue", sources=["src"])
    return g


def test_every_chain_ranked_by_strength():
    res = find_chains(diamond(), "S", "T")
    assert [(c.nodes, round(c.strength, 6)) for c in res.chains] == [
        (["S", "X", "T"], 0.2), (["S", "Y", "T"], 0.09), (["S", "T"], 0.05), (["S", "X", "Y", "T"], 0.05)]
    assert res.chains[0].hops[0]["rel"] == "rel/SX" and not res.capped


def test_max_depth_bounds_the_chains():
    assert [c.nodes for c in find_chains(diamond(), "S", "T", max_depth=1).chains] == [["S", "T"]]


def test_cap_stops_the_enumeration():
    res = find_chains(diamond(), "S", "T", cap=2)
    assert res.capped and len(res.chains) == 2


def test_dependents_with_distance_and_strongest_chain():
    """Without a target: X at 1 hop (0.5), Y at 1 hop (best 0.9 direct; S-X-Y gives 0.5),
    T at 1 hop but its strongest chain is S-X-T (0.2)."""
    res = find_chains(diamond(), "S")
    got = {c.target: (res.distance[c.target], round(c.strength, 6), c.nodes) for c in res.chains}
    assert got == {"Y": (1, 0.9, ["S", "Y"]), "X": (1, 0.5, ["S", "X"]), "T": (1, 0.2, ["S", "X", "T"])}


def test_empty_and_one_node_graphs():
    assert find_chains(nx.MultiDiGraph(), "S").chains == []
    g = nx.MultiDiGraph()
    g.add_node("S")
    assert find_chains(g, "S").chains == [] and find_chains(g, "S", "S").chains == []


def test_bundled_oracle_then_nvidia(kg_store):
    from kg.analysis.view import build_view

    res = find_chains(build_view(kg_store, layer="article"), K + "OpenAI", K + "Nvidia")
    assert [K + "OpenAI", K + "Oracle", K + "Nvidia"] in [c.nodes for c in res.chains]
    hop = res.chains[0].hops[0]
    assert hop["rel"] and hop["sources"]


# -- cycles ------------------------------------------------------------------------------------
def money(edges):
    g = nx.MultiDiGraph()
    for u, v, amount in edges:
        g.add_edge(u, v, rel=f"rel/{u}{v}{amount}", kind="K", amount=amount, sources=["src"])
    return g


def test_cycles_with_round_trip_amounts():
    """A→B 10, B→A 3 (round trip 3); A→B→C→A with C→A unknown (round trip unknown); B→C 7."""
    res = find_cycles(money([("A", "B", 10.0), ("B", "A", 3.0), ("B", "C", 7.0), ("C", "A", None)]))
    assert [(c.nodes, c.round_trip) for c in res.cycles] == [(["A", "B", "A"], 3.0), (["A", "B", "C", "A"], None)]
    assert [leg["amount"] for leg in res.cycles[0].legs] == [10.0, 3.0]


def test_parallel_legs_add_up_and_min_amount_filters():
    """A→B 4 + 6 = 10, B→A 5; with --min-amount 6 the 5 leg goes and so does the cycle."""
    g = money([("A", "B", 4.0), ("A", "B", 6.0), ("B", "A", 5.0)])
    assert find_cycles(g).cycles[0].round_trip == 5.0
    assert find_cycles(g, min_amount=6).cycles == []


def test_cycle_length_bound_and_cap():
    ring = money([(i, (i + 1) % 5, 1.0) for i in range(5)])
    assert find_cycles(ring, max_length=4).cycles == []
    complete = money([(i, j, 1.0) for i in range(6) for j in range(6) if i != j])
    res = find_cycles(complete, cap=10)
    assert res.capped and len(res.cycles) == 10


def test_cycles_on_empty_and_one_node_graphs():
    assert find_cycles(nx.MultiDiGraph()).cycles == []
    assert [c.nodes for c in find_cycles(money([("A", "A", 1.0)])).cycles] == [["A", "A"]]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=30), st.integers(2, 6))
def test_returned_cycles_are_real_cycles(pairs, max_length):
    g = money([(u, v, 1.0) for u, v in pairs if u != v])
    res = find_cycles(g, max_length=max_length)
    seen = set()
    for c in res.cycles:
        assert c.nodes[0] == c.nodes[-1] and len(c.legs) <= max_length
        assert len(set(c.nodes[:-1])) == len(c.nodes) - 1            # simple
        assert all(g.has_edge(a, b) for a, b in zip(c.nodes, c.nodes[1:]))
        key = frozenset(zip(c.nodes, c.nodes[1:]))
        assert key not in seen                                        # each cycle once
        seen.add(key)
    expected = {frozenset(zip(cy + cy[:1], cy[1:] + cy[:1])) for cy in nx.simple_cycles(nx.DiGraph(g))
                if len(cy) <= max_length}
    assert seen == expected


def test_bundled_article_microsoft_openai_loop(kg_store):
    from kg.analysis.view import build_money_graph

    res = find_cycles(build_money_graph(kg_store, layer="article"))
    assert [K + "Microsoft", K + "OpenAI", K + "Microsoft"] in [c.nodes for c in res.cycles]


def test_bundled_context_loops_through_nvidia_and_oracle(kg_store):
    from kg.analysis.view import build_money_graph

    res = find_cycles(build_money_graph(kg_store, layer="all"))
    through = lambda name: [c for c in res.cycles if K + name in c.nodes]  # noqa: E731
    assert through("Nvidia") and through("Oracle")
    loop = next(c for c in res.cycles if set(c.nodes) == {K + "Nvidia", K + "OpenAI", K + "Oracle"})
    assert loop.round_trip and loop.round_trip > 0
