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
    # The licence returns value, not cash (a licensor does not pay its licensee): not a money leg.
    assert back == {KG.CloudServicesPurchase, KG.RevenueShare}
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
        ("Cisco", "Q173395"), ("TSMC", "Q713418"), ("SoftBank", "Q201653"), ("Alphabet", "Q20800404")}


def test_tickers_of_listed_companies(kg_store):
    rows = {r["e"].rsplit("/", 1)[-1]: r["t"] for r in kg_store.select(P + "SELECT ?e ?t WHERE { ?e schema:tickerSymbol ?t }")}
    for name, ticker in {"Microsoft": "MSFT", "Nvidia": "NVDA", "Oracle": "ORCL", "AMD": "AMD", "Alphabet": "GOOGL",
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


# ---- Fidelity fixes (issue 14): each pins the corrected triple and the absence of the wrong one ----

A = "https://w3id.org/ai-capital-kg/graph/article"
PX = P + """PREFIX rel: <https://w3id.org/ai-capital-kg/resource/rel/>
PREFIX claim: <https://w3id.org/ai-capital-kg/resource/claim/>
PREFIX fig: <https://w3id.org/ai-capital-kg/resource/figure/>
PREFIX src: <https://w3id.org/ai-capital-kg/resource/source/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def test_licence_has_no_payer_or_payee_and_is_no_money_leg(kg_store):
    """Line 9 says value (價值) returns through licensing; a licensor does not pay its licensee. The
    licence keeps its roles (OpenAI licensor, Microsoft licensee) but no payment roles in any graph,
    stated or derived; OpenAI → Microsoft money still flows through cloud spend and revenue share."""
    assert kg_store.ask(PX + "ASK { rel:article-openai-msft-licence kg:licensor kgr:OpenAI ; kg:licensee kgr:Microsoft }")
    assert not kg_store.ask(PX + "ASK { GRAPH ?g { rel:article-openai-msft-licence kg:payer|kg:payee ?x } }")
    back = {r["k"] for r in kg_store.select(PX + """SELECT ?k WHERE { GRAPH <%s> { ?r kg:kind ?k } ?r kg:payer kgr:OpenAI ;
        kg:payee kgr:Microsoft }""" % A)}
    assert back == {KG.CloudServicesPurchase, KG.RevenueShare}


def test_cycles_do_not_use_the_licence_as_a_money_leg(invoke):
    """Before the fix `kg cycles` listed the licence among the OpenAI → Microsoft leg's relationships
    of the Microsoft → OpenAI → Microsoft cycle; now that leg is the Azure and revenue-share deals."""
    import json

    result = invoke("cycles", "--format", "json")
    assert result.exit_code == 0
    legs = [leg for c in json.loads(result.stdout) for leg in c["legs"]]
    rels = {r["rel"] for leg in legs for r in leg["rels"]}
    assert REL_("article-openai-msft-licence") not in rels
    assert {REL_("article-openai-msft-revenue-share"), REL_("article-openai-azure-cloud")} <= rels


def REL_(name: str) -> str:
    return "https://w3id.org/ai-capital-kg/resource/rel/" + name


def test_ft_gb200_purchase_is_related_to_not_the_same_as_the_articles_supply(kg_store):
    assert kg_store.ask(PX + "ASK { rel:context-oracle-nvidia-gb200 dcterms:relation rel:article-nvidia-oracle-chip-supply }")
    assert not kg_store.ask(PX + "ASK { rel:context-oracle-nvidia-gb200 kg:sameDealAs ?x }")
    assert not kg_store.ask(PX + "ASK { ?x kg:sameDealAs rel:article-nvidia-oracle-chip-supply }")
    # The article's edge still states no amount of its own.
    assert not kg_store.ask(PX + "ASK { rel:article-nvidia-oracle-chip-supply kg:amount ?a }")


NEW_ARTICLE_RELS = {
    # relationship: (kind, from-party, to-party, status, claims that support it)
    "article-hardwaresupplychain-oracle-supply": ("HardwareSupply", "Oracle", "HardwareSupplyChain", "InForce",
                                                  {"article-L13-2", "article-L13-3", "article-L13-6"}),
    "article-taiwanesesuppliers-nvidia-supply": ("HardwareSupply", "Nvidia", "TaiwaneseSuppliers", "InForce",
                                                 {"article-L13-2", "article-L13-3", "article-L13-7"}),
    "article-enterprises-openai-model-services": ("ModelServicesPurchase", "EnterpriseCustomers", "OpenAI", "InForce",
                                                  {"article-L22-2", "article-L22-3"}),
    "article-enterprises-otherproviders-model-services": ("ModelServicesPurchase", "EnterpriseCustomers",
                                                          "OtherFoundationModelProviders", "Hypothetical",
                                                          {"article-L22-2", "article-L22-3"}),
    "article-largeenterprises-otherproviders-model-services": ("ModelServicesPurchase", "LargeEnterpriseCustomers",
                                                               "OtherFoundationModelProviders", "Hypothetical",
                                                               {"article-L26-1", "article-L26-2"}),
    "article-largeenterprises-multimodelclouds-cloud": ("CloudServicesPurchase", "LargeEnterpriseCustomers",
                                                        "MultiModelCloudPlatforms", "Hypothetical",
                                                        {"article-L26-1", "article-L26-2"}),
    "article-capital-foundation-to-application": ("CapitalReallocation", "ApplicationLayer", "FoundationModelLayer",
                                                  "Hypothetical", {"article-L14-3", "article-L25-1", "article-L39-3"}),
    "article-capitalpartners-openai-investment": ("Stake", "CapitalPartnersBettingOnOpenAI", "OpenAI", "InForce",
                                                  {"article-L19-1", "article-L19-2"}),
}


@pytest.mark.parametrize("name", sorted(NEW_ARTICLE_RELS))
def test_added_article_relationship_has_its_roles_status_and_claims(kg_store, article_lines, name):
    """Each relationship the article states or clearly implies (issue 14): its kind, its parties in the
    kind's from/to roles, its status, and the claims (line + verbatim excerpt) that support it."""
    kind, frm, to, status, claims = NEW_ARTICLE_RELS[name]
    rows = kg_store.select(PX + """SELECT ?r ?kind ?from ?to ?status WHERE { GRAPH <%s> { ?r kg:kind ?kind ; kg:status ?status } 
        ?kind kg:fromRole ?fr ; kg:toRole ?tr . ?r ?fr ?from ; ?tr ?to }""" % A, {"r": REL_(name)})
    assert [(r["kind"], r["from"], r["to"], r["status"]) for r in rows] == [(KG[kind], KGR[frm], KGR[to], KG[status])]
    sup = kg_store.select(PX + """SELECT ?r ?c ?e ?line WHERE { GRAPH <%s> { ?c kg:supports ?r ; kg:excerpt ?e ;
        kg:inParagraph/kg:lineNumber ?line } }""" % A, {"r": REL_(name)})
    assert {r["c"].rsplit("/", 1)[-1] for r in sup} == claims
    assert all(r["e"] in article_lines[r["line"] - 1] for r in sup)


def test_every_article_relationship_is_supported_by_a_verbatim_claim(kg_store, article_lines):
    rows = kg_store.select(PX + """SELECT ?r (COUNT(?c) AS ?n) WHERE { GRAPH <%s> { ?r a kg:Relationship .
        OPTIONAL { ?c kg:supports ?r ; kg:excerpt ?e } } } GROUP BY ?r""" % A)
    assert rows and [r["r"] for r in rows if r["n"] == 0] == []


def test_capital_partners_hold_an_investment_not_an_api_dependence(kg_store):
    assert not kg_store.ask(PX + "ASK { ?r kg:kind kg:APIDependence ; kg:dependent kgr:CapitalPartnersBettingOnOpenAI }")
    assert kg_store.ask(PX + "ASK { GRAPH <%s> { ?r kg:kind kg:Stake ; kg:investor kgr:CapitalPartnersBettingOnOpenAI ; kg:investee kgr:OpenAI } }" % A)


def test_nvidia_is_the_shovel_maker_inside_the_hardware_supply_chain(kg_store):
    assert kg_store.ask(PX + "ASK { GRAPH <%s> { kgr:Nvidia kg:memberOf kgr:HardwareSupplyChain } }" % A)
    assert kg_store.ask(PX + "ASK { GRAPH <%s> { kgr:TaiwaneseSuppliers kg:memberOf kgr:HardwareSupplyChain } }" % A)


def test_related_groups_are_linked(kg_store):
    """The conclusion's biggest loser and winner (line 40) take in the groups of truth 3 they sum up."""
    links = {(r["m"].rsplit("/", 1)[-1], r["g"].rsplit("/", 1)[-1]) for r in kg_store.select(PX + """SELECT ?m ?g WHERE {
        GRAPH <%s> { ?m kg:memberOf ?g } ?m a kg:ActorGroup }""" % A)}
    assert {("CapitalPartnersBettingOnOpenAI", "SingleBetCapital"), ("OpenAIEarlyShareholders", "SingleBetCapital"),
            ("VerticalAIApplicationCompanies", "ValueCreatingEnterprises"),
            ("LargeEnterpriseCustomers", "ValueCreatingEnterprises"),
            ("LargeEnterpriseCustomers", "EnterpriseCustomers")} <= links


def test_microsoft_absorbing_openai_is_one_hypothetical_deal_stated_twice(kg_store):
    assert kg_store.ask(PX + """ASK { rel:article-microsoft-acquires-openai-stage1 kg:sameDealAs rel:article-microsoft-absorbs-openai-future2 ;
        kg:status kg:Hypothetical . rel:article-microsoft-absorbs-openai-future2 kg:status kg:Hypothetical }""")


def test_biggest_loser_and_winner_keep_their_superlative(kg_store):
    rows = {r["a"].rsplit("/", 1)[-1]: (r["v"], r["s"]) for r in kg_store.select(PX + """SELECT ?a ?v ?s WHERE {
        ?x kg:assessedActor ?a ; kg:verdict/skos:notation ?v . OPTIONAL { ?x kg:superlative/skos:notation ?s } }""")}
    assert rows["SingleBetCapital"] == ("loser", "biggest-loser")
    assert rows["ValueCreatingEnterprises"] == ("winner", "biggest-winner")
    assert {a for a, (_, s) in rows.items() if s} == {"SingleBetCapital", "ValueCreatingEnterprises"}
    labels = {r["l"] for r in kg_store.select(PX + "SELECT ?l WHERE { ?x skos:inScheme kg:SuperlativeScheme ; skos:prefLabel ?l }")}
    assert {"最大的輸家", "最大的贏家"} <= labels


def test_futures_closing_and_domino_have_their_own_conditions(kg_store):
    """Four futures: 'never crosses the profitability threshold' (line 32); the closing: 'ultimately
    cannot break even' (line 40); the domino: 'if OpenAI falls' (line 10); truth 3: 'if it stalls' (line 15)."""
    rows = kg_store.select(PX + """SELECT ?x ?s ?c WHERE { ?x kg:inScenario ?s . ?s kg:condition ?c ; kg:shockedActor kgr:OpenAI .
        FILTER(LANGMATCHES(LANG(?c), "zh-Hant")) }""")
    by = {}
    for r in rows:
        by.setdefault(r["s"].rsplit("/", 1)[-1], (r["c"], set()))[1].add(r["x"].rsplit("/", 1)[-1])
    assert by["ScenarioOpenAINeverProfitable"] == ("如果OpenAI始終無法跨越獲利的門檻", {"Future1", "Future2", "Future3", "Future4"})
    assert by["ScenarioOpenAINeverBreaksEven"] == ("如果OpenAI最終無法損平", {"Impact-SingleBetCapital", "Impact-ValueCreatingEnterprises"})
    assert "DominoOpenAI" not in by  # nothing is filed under the domino that the domino does not condition
    assert len(by["ScenarioOpenAIStalls"][1]) == 12
    assert kg_store.ask(PX + """ASK { kgr:DominoOpenAI a kg:DominoScenario ; kg:condition "若OpenAI倒下(這顆引擎熄火)"@zh-Hant ;
        kg:hasStage kgr:DominoStage1 }""")


def test_claim_fixes_keep_frame_conjunction_and_kind(kg_store, article_lines):
    def claim(cid):
        r = kg_store.select(PX + """SELECT ?c ?e ?k ?line (GROUP_CONCAT(?h; separator=",") AS ?hs) WHERE { ?c kg:excerpt ?e ;
            kg:claimKind/skos:notation ?k ; kg:inParagraph/kg:lineNumber ?line . OPTIONAL { ?c kg:hedge/skos:notation ?h } }
            GROUP BY ?c ?e ?k ?line""", {"c": "https://w3id.org/ai-capital-kg/resource/claim/" + cid})
        assert len(r) == 1
        return r[0]
    l14 = claim("article-L14-2")
    assert l14["e"] == "當市場意識到「大模型軍備競賽」可能是一場燒錢無底洞" and l14["e"] in article_lines[13]
    assert set(l14["hs"].split(",")) == {"conditional", "possible"}
    l02 = claim("article-L02-1")
    assert l02["e"] == "矽谷最亮的星" and l02["e"] in article_lines[1]
    assert claim("article-L34-4")["k"] == "scenario" == claim("article-L36-3")["k"]
    assert claim("article-L08-6")["k"] == "opinion"


def test_domino_stage1_mechanism_stays_conditional(kg_store):
    zh = kg_store.select(PX + """SELECT ?m WHERE { kgr:DominoStage1 kg:mechanism ?m FILTER(LANGMATCHES(LANG(?m), "zh-Hant")) }""")
    assert len(zh) == 1
    m = zh[0]["m"]
    assert m.startswith("一旦外部創投資金因避險情緒而撤出") and "估值將面臨劇烈修正" in m


def test_right_of_first_refusal_is_an_ended_relationship(kg_store):
    rows = kg_store.select(PX + """SELECT ?end ?src WHERE { ?r kg:kind kg:RightOfFirstRefusal ; kg:grantor kgr:OpenAI ;
        kg:rightHolder kgr:Microsoft ; kg:status kg:Ended ; schema:endDate ?end ; dcterms:source ?src }""")
    assert [(str(r["end"]), r["src"].rsplit("/", 1)[-1]) for r in rows] == [("2025-10-28", "msft-2025-10-28")]
    assert kg_store.ask(PX + "ASK { claim:context-msft-2025-10-28-1 kg:supports ?r . ?r kg:kind kg:RightOfFirstRefusal }")


def test_employee_share_sale_is_a_figure_with_its_qualifier(kg_store):
    rows = kg_store.select(PX + """SELECT ?v ?q WHERE { ?f kg:figureOf kgr:OpenAI ; kg:metric kg:ShareSale ;
        kg:amount [ schema:value ?v ; kg:qualifier/skos:notation ?q ] ; dcterms:source src:reuters-bloomberg-2025-10-02 }""")
    assert [(r["v"], r["q"]) for r in rows] == [(6_600_000_000, "about")]


def test_article_valuation_is_related_to_the_contexts(kg_store):
    assert kg_store.ask(PX + "ASK { fig:context-openai-valuation-2025-10 dcterms:relation fig:article-openai-valuation-500b }")
    assert not kg_store.ask(PX + "ASK { fig:context-openai-valuation-2025-10 kg:sameDealAs ?x }")


def test_cisco_fall_is_a_share_price_decline_not_a_market_value(kg_store):
    assert kg_store.ask(PX + "ASK { fig:context-cisco-share-fall-2002 kg:metric kg:SharePriceDecline }")
    assert not kg_store.ask(PX + "ASK { fig:context-cisco-share-fall-2002 kg:metric kg:MarketValue }")
    # The peak is still a market value.
    assert kg_store.ask(PX + "ASK { fig:context-cisco-market-value-2000-03 kg:metric kg:MarketValue }")


def test_range_bounds_no_source_states_are_marked_as_interpretation(kg_store):
    rows = kg_store.select(PX + """SELECT ?x ?basis WHERE { GRAPH ?g { ?x kg:amount ?a } ?a schema:minValue ?lo .
        OPTIONAL { ?a kg:boundsBasis ?basis } }""")
    assert {r["x"].rsplit("/", 1)[-1]: r["basis"] for r in rows} == {
        "article-openai-valuation-hundreds-of-billions": KG.Interpretation,
        "context-anthropic-google-tpus": KG.Interpretation}


def test_google_and_alphabet_are_told_apart(kg_store):
    """GOOGL is Alphabet Inc.'s ticker; kgr:Google is Google LLC (wd:Q95), its subsidiary."""
    assert not kg_store.ask(PX + "ASK { kgr:Google schema:tickerSymbol ?t }")
    assert kg_store.ask(PX + """ASK { kgr:Google owl:sameAs wd:Q95 ; schema:parentOrganization kgr:Alphabet .
        kgr:Alphabet schema:tickerSymbol "GOOGL" ; owl:sameAs wd:Q20800404 }""")
