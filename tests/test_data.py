"""The bundled graph says what the sources say: complete, verbatim, qualified, and valid."""

import re

import pytest

from conftest import CONTEXT_FACTS
from kg.vocab import ARTICLE_GRAPH, KG, KGR

P = """PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX kgr: <https://w3id.org/ai-capital-kg/resource/>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


def test_bundled_graph_passes_shacl_and_vocabulary_checks(kg_store):
    from kg.validate import validate_store

    report = validate_store(kg_store)
    assert report["triples"] > 4000


def test_every_article_excerpt_is_verbatim_in_its_own_line(kg_store, article_lines):
    rows = kg_store.select(P + """SELECT ?claim ?excerpt ?line WHERE {
        GRAPH <https://w3id.org/ai-capital-kg/graph/article> { ?claim a kg:Claim ; kg:excerpt ?excerpt ; kg:inParagraph ?p }
        ?p kg:lineNumber ?line }""")
    assert len(rows) >= 100
    wrong = [r["claim"] for r in rows if r["excerpt"] not in article_lines[r["line"] - 1]]
    assert wrong == []


def test_every_paragraph_and_bullet_of_the_article_has_a_claim(kg_store, article_lines):
    rows = kg_store.select(P + """SELECT ?line ?kind (COUNT(?c) AS ?n) WHERE {
        ?p a kg:Paragraph ; dcterms:isPartOf <https://w3id.org/ai-capital-kg/resource/source/article> ;
           kg:lineNumber ?line ; kg:paragraphKind/skos:notation ?kind .
        OPTIONAL { ?c kg:inParagraph ?p } } GROUP BY ?line ?kind ORDER BY ?line""")
    assert [r["line"] for r in rows] == list(range(1, len(article_lines) + 1))
    bullets = {i + 1 for i, line in enumerate(article_lines) if line.startswith("- ")}
    assert {r["line"] for r in rows if r["kind"] == "bullet"} == bullets
    uncovered = [r["line"] for r in rows if r["n"] == 0 and r["kind"] != "metadata"]
    assert uncovered == []
    # Only the byline and the footnote URL are metadata.
    assert [r["line"] for r in rows if r["kind"] == "metadata"] == [1, 4]


def test_the_project_ships_excerpts_not_the_article(article_lines):
    from kg.resources import data_dir

    text = "".join(p.read_text(encoding="utf-8") for p in data_dir().glob("*.trig"))
    body = [line for line in article_lines if len(line) > 80]
    assert body, "expected long paragraphs in the article"
    assert not any(line in text for line in body), "a whole paragraph of the article is shipped"


def test_every_context_fact_has_a_verbatim_claim(kg_store):
    if not CONTEXT_FACTS.exists():
        pytest.skip(f"context facts not found at {CONTEXT_FACTS}: set KG_SHARED_DIR to a folder holding seed/context-facts.md")
    text = CONTEXT_FACTS.read_text(encoding="utf-8")
    bullets = [re.sub(r"\s+", " ", b).strip() for b in re.split(r"\n(?=- )", text) if b.startswith("- ")]
    facts = [b[2:].split(" — ")[0] for b in bullets]
    excerpts = [r["e"] for r in kg_store.select(P + """SELECT ?e WHERE {
        ?src kg:layer kg:ContextLayer ; kg:namedGraph ?g . GRAPH ?g { ?c a kg:Claim ; kg:excerpt ?e } }""")]
    assert excerpts and all(any(e in re.sub(r"\s+", " ", f) for f in facts) for e in excerpts)
    uncovered = [f for f in facts if not any(e in f for e in excerpts)]
    assert uncovered == []


def test_article_and_context_layers_stay_apart(kg_store):
    mixed = kg_store.select(P + """SELECT ?c ?src WHERE {
        GRAPH <https://w3id.org/ai-capital-kg/graph/article> { ?c a kg:Claim ; dcterms:source ?src }
        FILTER(?src != <https://w3id.org/ai-capital-kg/resource/source/article>) }""")
    assert mixed == []
    layers = {r["l"] for r in kg_store.select(P + """SELECT DISTINCT ?l WHERE {
        ?src kg:namedGraph ?g ; kg:layer ?l . FILTER(STRSTARTS(STR(?g), "https://w3id.org/ai-capital-kg/graph/context/")) }""")}
    assert layers == {KG.ContextLayer}


def _amount(kg_store, rel_where: str) -> list[dict]:
    return kg_store.select(P + f"""SELECT ?rel ?value ?q ?status WHERE {{ {rel_where}
        ?rel kg:amount ?a . ?a schema:value ?value ; kg:qualifier/skos:notation ?q .
        OPTIONAL {{ ?rel kg:status/skos:notation ?status }} }}""")


def test_article_oracle_contract_is_300_billion_as_stated(kg_store):
    rows = _amount(kg_store, """GRAPH <https://w3id.org/ai-capital-kg/graph/article> {
        ?rel kg:kind kg:ComputeContract ; kg:supplier kgr:Oracle ; kg:customer kgr:OpenAI }""")
    assert [(r["value"], r["q"]) for r in rows] == [(300_000_000_000, "exact")]


def test_article_valuation_keeps_as_high_as(kg_store):
    rows = kg_store.select(P + """SELECT ?v ?q WHERE { GRAPH <https://w3id.org/ai-capital-kg/graph/article> {
        ?f a kg:FinancialFigure ; kg:figureOf kgr:OpenAI ; kg:metric kg:Valuation ; kg:amount ?a }
        ?a schema:value ?v ; kg:qualifier/skos:notation ?q }""")
    assert (500_000_000_000, "as-high-as") in {(r["v"], r["q"]) for r in rows}


def test_context_qualifiers_are_kept(kg_store):
    nvidia = _amount(kg_store, "?rel kg:investor kgr:Nvidia ; kg:investee kgr:OpenAI .")
    assert {(r["value"], r["q"], r["status"]) for r in nvidia} == {(100_000_000_000, "up-to", "intended")}
    oracle = _amount(kg_store, """?src kg:layer kg:ContextLayer ; kg:namedGraph ?g .
        GRAPH ?g { ?rel kg:supplier kgr:Oracle ; kg:customer kgr:OpenAI }""")
    assert {(r["value"], r["q"]) for r in oracle} == {(300_000_000_000, "about")}
    share = kg_store.select(P + """SELECT ?v (GROUP_CONCAT(?n; separator=",") AS ?qs) WHERE {
        ?rel kg:kind kg:RevenueShare ; kg:payer kgr:OpenAI ; kg:payee kgr:Microsoft ; kg:quantity ?x .
        ?x schema:value ?v ; kg:qualifier/skos:notation ?n } GROUP BY ?v""")
    assert len(share) == 1 and share[0]["v"] == 20 and set(share[0]["qs"].split(",")) == {"about", "reported"}


def test_microsoft_openai_money_loop_is_in_the_article_layer(kg_store):
    rows = kg_store.select(P + """SELECT ?k1 ?k2 WHERE { GRAPH <https://w3id.org/ai-capital-kg/graph/article> {
        ?r1 kg:kind ?k1 . ?r2 kg:kind ?k2 . }
        ?r1 kg:payer kgr:Microsoft ; kg:payee kgr:OpenAI . ?r2 kg:payer kgr:OpenAI ; kg:payee kgr:Microsoft . }""")
    back = {r["k2"] for r in rows}
    assert {KG.CloudServicesPurchase, KG.TechnologyLicence, KG.RevenueShare} <= back
    assert KG.EquityInvestment in {r["k1"] for r in rows}


def test_group_membership_is_explicit(kg_store):
    members = {r["m"] for r in kg_store.select(P + "SELECT ?m WHERE { kgr:OtherFoundationModelProviders kg:hasMember ?m }")}
    assert members == {KGR.Anthropic, KGR.Google, KGR.Meta}
    assert kg_store.ask(P + "ASK { kgr:Llama kg:memberOf kgr:OpenSourceModelCamp }")
    assert kg_store.ask(P + "ASK { kgr:AWS kg:memberOf kgr:MultiModelCloudPlatforms . kgr:GoogleCloud kg:memberOf kgr:MultiModelCloudPlatforms }")


def test_three_domino_stages_in_order(kg_store):
    rows = kg_store.select(P + """SELECT ?order (GROUP_CONCAT(STR(?a); separator=" ") AS ?actors) WHERE {
        kgr:DominoOpenAI kg:hasStage ?s . ?s kg:order ?order ; kg:affects ?a } GROUP BY ?order ORDER BY ?order""")
    assert [r["order"] for r in rows] == [1, 2, 3]
    assert KGR.Microsoft in rows[0]["actors"].split()
    assert {KGR.Oracle, KGR.Nvidia, KGR.TaiwaneseSuppliers} <= set(rows[1]["actors"].split())


def test_impact_assessments_match_the_article(kg_store):
    rows = kg_store.select(P + """SELECT ?actor ?v ?s ?l WHERE { ?a a kg:ImpactAssessment ; kg:assessedActor ?actor ;
        kg:verdict/skos:notation ?v . OPTIONAL { ?a kg:shortTermEffect/skos:notation ?s } OPTIONAL { ?a kg:longTermEffect/skos:notation ?l } }""")
    by = {r["actor"]: r for r in rows}
    assert (by[KGR.Nvidia]["v"], by[KGR.Nvidia]["s"], by[KGR.Nvidia]["l"]) == ("mixed", "negative", "positive")
    assert by[KGR.Microsoft]["v"] == "mixed"
    losers = {a for a, r in by.items() if r["v"] == "loser"}
    winners = {a for a, r in by.items() if r["v"] == "winner"}
    assert {KGR.APIBoundStartups, KGR.CapitalPartnersBettingOnOpenAI, KGR.SingleBetCapital} <= losers
    assert {KGR.OtherFoundationModelProviders, KGR.OpenSourceModelCamp, KGR.MultiModelCloudPlatforms,
            KGR.VerticalAIApplicationCompanies, KGR.LargeEnterpriseCustomers, KGR.RegulatorsAndRiskControl,
            KGR.ValueCreatingEnterprises} <= winners


def test_four_futures_and_the_closed_feedback_loop(kg_store):
    assert [r["o"] for r in kg_store.select(P + "SELECT ?o WHERE { ?f a kg:Future ; kg:order ?o } ORDER BY ?o")] == [1, 2, 3, 4]
    steps = kg_store.select(P + "SELECT ?a ?b WHERE { kgr:AIBoomFeedbackLoop kg:hasStep ?a . ?a kg:leadsTo ?b }")
    nxt = {r["a"]: r["b"] for r in steps}
    assert len(nxt) == 3
    start = next(iter(nxt))
    assert nxt[nxt[nxt[start]]] == start


def test_wikidata_ids_are_only_the_certain_ones(kg_store):
    rows = kg_store.select(P + "SELECT ?e ?q WHERE { ?e kg:wikidata ?q }")
    assert {(r["e"].rsplit("/", 1)[-1], r["q"]) for r in rows} == {
        ("OpenAI", "Q21708200"), ("Microsoft", "Q2283"), ("Nvidia", "Q182477"), ("Oracle", "Q19900"),
        ("AMD", "Q128896"), ("Google", "Q95"), ("Meta", "Q380"), ("Amazon", "Q3884"), ("AWS", "Q456157"),
        ("Cisco", "Q173395"), ("TSMC", "Q713418"), ("SoftBank", "Q201653")}


def test_tickers_of_listed_companies(kg_store):
    rows = {r["e"].rsplit("/", 1)[-1]: r["t"] for r in kg_store.select(P + "SELECT ?e ?t WHERE { ?e schema:tickerSymbol ?t }")}
    for name, ticker in {"Microsoft": "MSFT", "Nvidia": "NVDA", "Oracle": "ORCL", "AMD": "AMD", "Google": "GOOGL",
                         "Meta": "META", "Amazon": "AMZN", "Cisco": "CSCO", "Broadcom": "AVGO", "CoreWeave": "CRWV",
                         "TSMC": "2330.TW", "SoftBank": "9984.T"}.items():
        assert rows[name] == ticker


def test_shortcuts_are_derived_not_written(kg_store):
    from kg.vocab import DERIVED_GRAPH

    hand = kg_store.select(P + f"""SELECT ?g ?p WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
        FILTER(?p IN (kg:investsIn, kg:buysFrom, kg:paysTo, kg:hasMember, kg:sharesRevenueWith, kg:licensesFrom))
        FILTER(?g != <{DERIVED_GRAPH}>) }} LIMIT 5""")
    assert hand == []
    assert kg_store.ask(P + "ASK { GRAPH <%s> { kgr:Microsoft kg:investsIn kgr:OpenAI } }" % DERIVED_GRAPH)
