"""Exposure on graphs, gains, the domino, scenarios, the audit and CSV networks."""

from __future__ import annotations

import pytest


K = "https://w3id.org/ai-capital-kg/resource/"
A, B, C, D, E, G = (K + x for x in ("TA", "TB", "TC", "TD", "TE", "TG"))


def test_rank_exposure_on_the_small_graph(small):
    """A fails (ψ = 1). small.trig gives revenue figures but no equity, no cash needs and no
    actor with both (so no equity can be imputed): no actor has a capacity, and every h rests
    on the qualitative weights of data/model/model.trig. B sells compute to A (revenue channel,
    weight 0.3): h_B = 0.3, USD at risk 0.34 (default margin) × 5 = 1.7 but no USD loss (no
    capacity). G, the group of B and C, takes the mean: 0.3 / 2 = 0.15. C depends on nobody.
    A's own h stays 1 (capped) whatever its counterparties pass back."""
    from kg.analysis.exposure import rank_exposure

    res = rank_exposure(small, A)
    got = {r.id: (round(r.h, 9), r.loss_usd, r.round) for r in res.rows}
    assert got == {A: (1.0, None, 1), B: (0.3, None, 2), G: (0.15, None, 3)}
    assert res.row(B).usd_at_risk == pytest.approx(0.34 * 5) and res.row(B).basis == "assumption"
    chain = res.row(G).chain
    assert [(h["from"], h["to"]) for h in chain] == [(A, B), (B, G)]
    assert chain[0]["rel"] == K + "rel/test-a-b-compute"
    assert res.R == 0.0  # R counts the actors with a stated equity only; none is hit


def test_gains_on_the_small_graph(small):
    """E substitutes A (hypothetical competition): it wins substitution-share 0.5 × h_A 1 of A's
    revenue (10 a year) = 5 a year; as a share, 0.5; E has no capacity, so net = 0.5 − 0 = 0.5."""
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.gains import rank_gains

    gains = rank_gains(small, rank_exposure(small, A))
    assert [(g.id, g.gain, g.gain_usd_per_year, g.net) for g in gains] == [(E, 0.5, 5.0, 0.5)]
    assert gains[0].via[0]["rel"] == K + "rel/test-e-substitutes-a"


def test_weights_file_overrides_qualitative_weights(small, tmp_path):
    """With supply weight 0: W[A,B] = 0.1 only; the result for B is unchanged (B is hit by A)."""
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    f = tmp_path / "w.csv"
    f.write_text("channel,kind,weight\nsupply,,0\n", encoding="utf-8")
    model = load_model(small, f)
    assert model.weight("supply") == 0.0
    assert not any(d["channel"] == "supply" and d["weight"] > 0
                   for _, _, d in build_view(small, model=model).edges(data=True))


def test_bad_weights_file(small, tmp_path):
    from kg.analysis.model import load_model
    from kg.errors import InputError

    f = tmp_path / "w.csv"
    f.write_text("channel,kind,weight\nsuply,,0.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown channel"):
        load_model(small, f)
    f.write_text("channel,kind,weight\nsupply,,1.5\n", encoding="utf-8")
    with pytest.raises(InputError, match="outside"):
        load_model(small, f)


def test_model_parameters_live_in_data():
    from kg.analysis.model import load_model

    m = load_model()
    assert m.factor("hypothetical") == 0.0 and m.factor("in-force") == 1.0
    assert [s.order for s in m.scenarios] == [0, 1, 2, 3, 4]
    assert m.size_metrics[0] == "revenue"


def test_csv_network_reproduces_the_worked_example(tmp_path):
    """edges: B loses 5 if A fails, C 4 if B, A 2 if C; sizes 10, 10, 8 → h = (1, 0.5, 0.25)."""
    from kg.analysis.csvnet import read_csv_network
    from kg.analysis.exposure import exposure_on_view

    e, s = tmp_path / "edges.csv", tmp_path / "sizes.csv"
    e.write_text("exposed,counterparty,amount\nB,A,5\nC,B,4\nA,C,2\n", encoding="utf-8")
    s.write_text("entity,size\nA,10\nB,10\nC,8\n", encoding="utf-8")
    res = exposure_on_view(read_csv_network(e, s), "A")
    assert {r.id: r.h for r in res.rows} == pytest.approx({"A": 1.0, "B": 0.5, "C": 0.25})
    assert res.row("B").loss_usd == pytest.approx(5.0) and res.row("C").loss_usd == pytest.approx(2.0)


def test_csv_network_errors(tmp_path):
    from kg.analysis.csvnet import read_csv_network
    from kg.errors import InputError

    e, s = tmp_path / "edges.csv", tmp_path / "sizes.csv"
    s.write_text("entity,size\nA,10\n", encoding="utf-8")
    e.write_text("exposed,counterparty\nB,A\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_csv_network(e, s)
    e.write_text("exposed,counterparty,amount\nB,A,lots\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a number"):
        read_csv_network(e, s)
    e.write_text("exposed,counterparty,amount\nB,A,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="no positive size"):
        read_csv_network(e, s)


# -- the bundled graph ------------------------------------------------------------------------------
def test_article_layer_alone_gives_a_ranking(kg_store):
    from kg.analysis.exposure import rank_exposure

    res = rank_exposure(kg_store, K + "OpenAI", layer="article")
    ids = [r.id for r in res.rows]
    assert ids[0] == K + "OpenAI" and len(ids) > 5
    assert {K + "Microsoft", K + "Oracle", K + "APIBoundStartups"} <= set(ids)


def test_all_layers_give_usd_losses(kg_store):
    """Oracle, Microsoft and Nvidia have a capacity and stated amounts at risk: a USD loss. AMD
    has a capacity (its equity) but the graph gives no amount for its GPU supply to OpenAI: it
    is listed as unquantified, not given a guessed loss."""
    from kg.analysis.exposure import rank_exposure

    res = rank_exposure(kg_store, K + "OpenAI", layer="all")
    for name in ("Oracle", "Microsoft", "Nvidia"):
        row = res.row(K + name)
        assert row is not None and row.loss_usd and row.loss_usd > 0, name
    assert res.row(K + "CoreWeave") is not None
    assert res.row(K + "AMD") is None and K + "AMD" in {u["id"] for u in res.unquantified}


def test_domino_stages_beside_rounds(kg_store):
    from kg.analysis.domino import run_domino

    res = run_domino(kg_store, K + "OpenAI")
    assert res.rounds[1][0]["id"] == K + "OpenAI"
    placed = {(s["stage"], s["actor"]): s for s in res.stages}
    assert placed[(2, K + "Oracle")]["agreement"] == "agrees"
    assert placed[(2, K + "Oracle")]["model_round"] == 2 and placed[(2, K + "Oracle")]["model_stage"] == 2
    # Microsoft's loss is mostly the operating income lost on OpenAI's Azure commitment
    # (US$112.3B, the revenue channel: stage 2), not the US$13B it paid in for its stake
    # (equity, stage 1): the model places it in stage 2, after the article's stage 1
    ms = placed[(1, K + "Microsoft")]
    assert ms["model_stage"] == 2 and ms["agreement"] == "later"


def test_stage_agreement_rules():
    """The model's stage against the source's: equal agrees, otherwise earlier or later, so a
    stage-1 actor placed in stage 2 disagrees (the old "hit by round k + 1" rule could not tell)."""
    from kg.analysis.domino import stage_agreement

    assert stage_agreement(1, 1, 0.5, True, 0.01) == "agrees"
    assert stage_agreement(2, 1, 0.5, True, 0.01) == "earlier"
    assert stage_agreement(1, 2, 0.5, True, 0.01) == "later"
    assert stage_agreement(1, 1, 0.001, True, 0.01) == "not hit"
    assert stage_agreement(2, None, 0.0, True, 0.01) == "not hit"
    assert stage_agreement(2, None, 0.0, False, 0.01) == "cannot compute"


def test_model_stage_is_the_largest_channel_stage_along_the_chain():
    """Capital side 1, supply chain 2, demand side 3 (kgm:ChannelStage): a chain OpenAI →
    Oracle (revenue, 2) → Nvidia (revenue, 2) is stage 2; OpenAI → Microsoft (equity, 1) →
    Anthropic (supply, 3) is stage 3; a membership hop carries no stage of its own."""
    from types import SimpleNamespace

    from kg.analysis.domino import model_stage
    from kg.analysis.model import load_model

    stages = load_model().stages
    row = lambda *chs: SimpleNamespace(shocked=False, chain=[{"channel": c} for c in chs])  # noqa: E731
    assert model_stage(row("revenue", "revenue"), stages) == 2
    assert model_stage(row("equity", "supply"), stages) == 3
    assert model_stage(row("equity", "membership"), stages) == 1
    assert model_stage(SimpleNamespace(shocked=True, chain=[]), stages) == 1


def test_verdict_rules():
    from kg.analysis.audit import judge_verdict

    assert judge_verdict("loser", 0.5, 0.1, True, 0.01)[0] == "agrees"
    assert judge_verdict("loser", 0.1, 0.5, True, 0.01)[0] == "disagrees"
    assert judge_verdict("winner", 0.1, 0.5, True, 0.01)[0] == "agrees"
    assert judge_verdict("winner", 0.5, 0.1, True, 0.01)[0] == "disagrees"
    assert judge_verdict("mixed", 0.5, 0.1, True, 0.01)[0] == "agrees"
    assert judge_verdict("mixed", 0.5, 0.0, True, 0.01)[0] == "partly"
    assert judge_verdict("winner", 0.0, 0.0, False, 0.01)[0] == "cannot compute"
    assert judge_verdict("winner", 0.0, 0.0, False, 0.01, economic=False)[0] == "not an economic claim"


def test_audit_covers_every_assessment_and_stage(kg_store):
    from kg.analysis.audit import audit
    from kg.queries import load_query

    rows = audit(kg_store)
    n_assess = len(kg_store.select(load_query("analysis-assessments").text))
    n_stage = len(kg_store.select(load_query("analysis-domino-stages").text))
    assert len(rows) == n_assess + n_stage
    assert {r["result"] for r in rows} <= {"agrees", "disagrees", "partly", "cannot compute", "not an economic claim"}
    oracle = next(r for r in rows if r["actor"] == K + "Oracle")
    assert oracle["result"] == "agrees" and oracle["round"] == 2 and oracle["model_stage"] == 2
    regulators = next(r for r in rows if r["actor"] == K + "RegulatorsAndRiskControl")
    assert regulators["result"] == "not an economic claim"
    # no economic claim is left "cannot compute" (issue 13): the article places OpenAI and the
    # other foundation-model providers in the foundation-model layer (lines 12, 22) and the
    # market's capital in it (line 14). Neither group has a capacity, so by hand: the layer L
    # gets the mean of its two members, m = (1 + h_other) / 2, plus the funding weight 0.3 × the
    # market's h; the market M holds it, h_M = equity weight 0.3 × h_L. So h_L = m + 0.09 h_L,
    # h_L = m / 0.91, h_M = 0.3 h_L.
    assert "cannot compute" not in {r["result"] for r in rows}
    layer = [r for r in rows if r["actor"] == K + "FoundationModelLayer"]
    other = next(r for r in rows if r["actor"] == K + "OtherFoundationModelProviders")
    h_l = (1.0 + other["h"]) / 2 / 0.91
    assert len(layer) == 2 and all(r["h"] == pytest.approx(h_l, rel=1e-6) for r in layer)
    market = next(r for r in rows if r["actor"] == K + "CapitalMarkets")
    assert market["h"] == pytest.approx(0.3 * h_l, rel=1e-6) and market["model_stage"] == 1


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_each_future_runs_and_differs_from_the_base_case(kg_store, n):
    from kg.analysis.scenarios import run_scenario

    res = run_scenario(kg_store, n)
    assert res.rows and any(abs(r["delta_h"]) > 1e-9 or abs(r["delta_gain"]) > 1e-9 for r in res.rows)
    assert res.scenario.future == K + f"Future{n}"


def test_unknown_scenario(kg_store):
    from kg.analysis.scenarios import run_scenario
    from kg.errors import InputError

    with pytest.raises(InputError, match="no scenario 9"):
        run_scenario(kg_store, 9)


def test_model_vocabulary_matches_ontology_model_ttl():
    """Every kgm: term of kg/analysis/model.py is declared in ontology/model.ttl and the reverse;
    data/model/model.trig uses declared terms only."""
    import re

    from kg.analysis.model import KGM, model_path
    from kg.resources import ontology_dir

    ttl = (ontology_dir() / "model.ttl").read_text(encoding="utf-8")
    declared = set(re.findall(r"^kgm:(\w+) a ", ttl, flags=re.M))
    assert declared == set(KGM.terms)
    text = model_path().read_text(encoding="utf-8")
    instances = set(re.findall(r"^\s*kgm:([\w-]+)\s+a\s", text, flags=re.M))
    used = set(re.findall(r"kgm:([\w-]+)", text)) - instances
    assert used <= declared, used - declared


def test_model_files_parse():
    import pyoxigraph as ox

    from kg.analysis.model import model_path
    from kg.resources import ontology_dir

    ox.Store().load(path=str(ontology_dir() / "model.ttl"), format=ox.RdfFormat.TURTLE)
    ox.Store().load(path=str(model_path()), format=ox.RdfFormat.TRIG)


def test_scenario_mechanics_on_the_small_graph(small):
    """The levers a scenario pulls, worked by hand on tests/data/analysis/small.trig, A failing
    (no actor has a capacity, so the qualitative weights apply):
    * include the hypothetical acquisition of A by D: acquisition weight 0.5 → h_D = 0.5;
    * scale the revenue channel by 0.5: h_B = 0.5 × 0.3 = 0.15, h_G = 0.15 / 2 = 0.075;
    * only the equity channel: nothing depends on A through equity → only A is hit.
    """
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.view import build_view

    res = rank_exposure(small, A, include=[K + "rel/test-d-acquires-a"],
                        view=build_view(small, include=[K + "rel/test-d-acquires-a"]))
    assert res.h[D] == pytest.approx(0.5)
    res = rank_exposure(small, A, scale={"revenue": 0.5})
    assert res.h[B] == pytest.approx(0.15) and res.h[G] == pytest.approx(0.075)
    assert list(rank_exposure(small, A, channels=("equity",)).h) == [A]
