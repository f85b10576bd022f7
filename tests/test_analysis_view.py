"""The dependency view and the money-flow graph built from a small hand-made graph."""

from __future__ import annotations

import pytest


K = "https://w3id.org/ai-capital-kg/resource/"
A, B, C, D, E, G = (K + x for x in ("TA", "TB", "TC", "TD", "TE", "TG"))


def _edges(view):
    return {(u, v, d["channel"]): d for u, v, d in view.edges(data=True)}


def test_directions_and_weights_per_channel(small):
    """See tests/data/analysis/small.trig: B's size is its largest revenue (10, not the quarterly 3)."""
    from kg.analysis.view import build_view

    e = _edges(build_view(small))
    assert e[(A, B, "revenue")]["weight"] == pytest.approx(5 / 10)      # supplier B on customer A
    assert e[(B, A, "supply")]["weight"] == pytest.approx(0.2)           # customer A on supplier B (qualitative)
    assert e[(C, B, "equity")]["weight"] == pytest.approx(4 / 10)       # investor B on investee C
    assert e[(C, A, "revenue")]["weight"] == pytest.approx(2 / 10)      # payee A on payer C
    assert e[(B, G, "membership")]["weight"] == pytest.approx(1 / 2)    # group on its 2 members
    assert e[(A, B, "revenue")]["rel"] == K + "rel/test-a-b-compute"
    assert e[(A, B, "revenue")]["sources"] == [K + "source/test-context"]


def test_same_deal_counted_once_preferring_the_amount(small):
    from kg.analysis.view import build_view

    stakes = [d for u, v, d in build_view(small).edges(data=True) if d["kind"] == "Stake"]
    assert len(stakes) == 1
    assert stakes[0]["amount"] == 4.0 and stakes[0]["also"] == [K + "rel/test-b-c-stake-article"]
    assert set(stakes[0]["sources"]) == {K + "source/test-context", K + "source/test-article"}


def test_hypothetical_relationships_carry_no_distress_unless_included(small):
    from kg.analysis.view import build_view

    assert not any(d["channel"] == "acquisition" for _, _, d in build_view(small).edges(data=True))
    e = _edges(build_view(small, include=[K + "rel/test-d-acquires-a"]))
    assert e[(A, D, "acquisition")]["weight"] == pytest.approx(0.5)     # acquirer D takes on A's losses


def test_layer_filter(small):
    """The article layer has the amount-less stake (qualitative 0.3) and no sizes."""
    from kg.analysis.view import build_view

    e = _edges(build_view(small, layer="article"))
    assert set(k[2] for k in e) == {"equity", "membership"}
    assert e[(C, B, "equity")]["basis"] == "qualitative" and e[(C, B, "equity")]["weight"] == pytest.approx(0.3)


def test_channel_selection(small):
    from kg.analysis.view import build_view, parse_channels

    view = build_view(small, channels=parse_channels("revenue"))
    assert {d["channel"] for _, _, d in view.edges(data=True)} == {"revenue"}
    with pytest.raises(ValueError, match="unknown channel"):
        parse_channels("revenue,bogus")


def test_node_attributes(small):
    from kg.analysis.view import build_view

    view = build_view(small)
    assert view.nodes[A]["label"] == "Test A" and view.nodes[A]["label_zh"] == "測試甲"
    assert view.nodes[A]["types"] == ["Company"] and view.nodes[C]["size"] == 8.0
    assert view.nodes[D]["size"] is None


def test_money_graph(small):
    from kg.analysis.view import build_money_graph

    g = build_money_graph(small)
    assert {(u, v, d["amount"]) for u, v, d in g.edges(data=True)} == {(A, B, 5.0), (C, A, 2.0), (B, A, 1.0)}


def test_empty_store_gives_an_empty_view():
    from kg.analysis.view import build_money_graph, build_view
    from kg.store import load_store

    empty = load_store(bundled=False)
    assert build_view(empty).number_of_edges() == 0
    assert build_money_graph(empty).number_of_edges() == 0


def test_bundled_article_view_has_the_articles_dependencies(kg_store):
    from kg.analysis.view import build_view

    view = build_view(kg_store, layer="article")
    assert view.has_edge(K + "OpenAI", K + "Oracle")       # Oracle depends on OpenAI's compute purchases
    assert view.has_edge(K + "OpenAI", K + "APIBoundStartups")
    assert view.has_edge(K + "OpenAI", K + "Microsoft")
    assert all(d["status"] != "hypothetical" for _, _, d in view.edges(data=True))


def test_reachability_query_matches_the_views_reach(kg_store):
    """queries/analysis-reachable.rq (a property path) reaches what the view reaches, and may reach
    more (it ignores status)."""
    import networkx as nx

    from kg.analysis.view import build_view
    from kg.queries import load_query

    rows = kg_store.select(load_query("analysis-reachable").text, {"source": K + "OpenAI"})
    sparql = {r["actor"] for r in rows}
    view = build_view(kg_store, channels=("funding", "equity", "revenue", "supply", "licence", "api", "membership"))
    assert nx.descendants(view, K + "OpenAI") - {K + "OpenAI"} <= sparql
