"""Users' files: loaded in two phases (order-independent), restated deals counted once, new
actors that cannot merge by accident, figures for new actors, non-USD amounts never summed."""

from __future__ import annotations

import json
import shutil

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA
from kg.errors import InputError
from kg.store import load_store

KG = "https://w3id.org/ai-capital-kg/ontology#"
KGR = "https://w3id.org/ai-capital-kg/resource/"
REL = KGR + "rel/"
USER = "https://w3id.org/ai-capital-kg/graph/user/"
HEAD = "from,to,kind,amount,currency,qualifier,date,source_title,source_url,status"


def _leg(kg, payer: str, payee: str):
    """The amount of the money leg payer → payee of ``kg cycles`` (its relationships summed)."""
    from kg.analysis.cycles import collapse_legs
    from kg.analysis.view import build_money_graph

    legs = collapse_legs(build_money_graph(kg))
    return legs[(KGR + payer, KGR + payee)]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- restated deals ------------------------------------------------------------------------------
def test_documented_example_restating_ft_deal_gives_a_40b_leg(invoke):
    """tests/data/deals.csv row 2 (line 2) restates the FT report's deal (Oracle buys about
    US$40B of GB200 chips from Nvidia, rel:context-oracle-nvidia-gb200). Counted once, the
    cycle Nvidia → OpenAI → Oracle → Nvidia has an Oracle → Nvidia leg of US$40B (it was
    40 + 40 = US$80B when the row was added as a second deal)."""
    res = invoke("--data", DATA / "deals.csv", "cycles", "--format", "json")
    assert res.exit_code == 0, res.output
    cycle = next(c for c in json.loads(res.stdout)
                 if [n.rsplit("/", 1)[-1] for n in c["nodes"]] == ["Nvidia", "OpenAI", "Oracle", "Nvidia"])
    leg = cycle["legs"][2]
    assert leg["amount"] == 40e9
    warnings = [l for l in res.stderr.splitlines() if l.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: ") and "deals.csv:2: restates rel:context-oracle-nvidia-gb200 (" in warnings[0]
    assert "same_deal_as=none" in warnings[0]


def test_restated_row_is_linked_same_deal_in_its_own_graph():
    kg = load_store([DATA / "deals.csv"])
    rows = kg.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{REL}deals-1> <{KG}sameDealAs> <{REL}context-oracle-nvidia-gb200> }} }}")
    assert [r["g"] for r in rows] == ["https://w3id.org/ai-capital-kg/graph/user/deals"]


def test_row_marked_separate_is_a_second_deal(tmp_path):
    """same_deal_as=none: the user says it is another deal; the leg is 40 + 40 = US$80B, no warning."""
    f = _write(tmp_path, "d.csv", HEAD + ",same_deal_as\n"
               "Oracle,Nvidia,chip-supply,40000000000,USD,about,2025-06,Desk,,committed,none\n")
    kg = load_store([f])
    assert _leg(kg, "Oracle", "Nvidia")["amount"] == 80e9
    assert kg.warnings == []


def test_amount_outside_the_qualifier_is_not_a_restatement(tmp_path):
    """FT's 'about US$40B' allows 36–44B (±10%); an exact US$50B is another deal: 40 + 50 = 90B."""
    f = _write(tmp_path, "d.csv", HEAD + "\nOracle,Nvidia,chip-supply,50000000000,USD,exact,2025-06,Desk,,committed\n")
    kg = load_store([f])
    assert _leg(kg, "Oracle", "Nvidia")["amount"] == 90e9
    assert kg.warnings == []


def test_amount_within_about_is_a_restatement(tmp_path):
    """US$43B exact lies within 'about US$40B' (36–44B): counted once, the leg stays 40B (the
    analysis keeps one node of a same-deal cluster, the first IRI with a USD amount)."""
    f = _write(tmp_path, "d.csv", HEAD + "\nOracle,Nvidia,chip-supply,43000000000,USD,exact,2025-06,Desk,,committed\n")
    kg = load_store([f])
    assert _leg(kg, "Oracle", "Nvidia")["amount"] == 40e9
    assert len(kg.warnings) == 1 and "d.csv:2: restates rel:context-oracle-nvidia-gb200" in kg.warnings[0]


def test_part_of_counts_the_total_through_its_part(tmp_path):
    """part_of names the FT deal: the row is one part (US$10B) of it. The total is then counted
    through its parts (dcterms:hasPart), as the bundled data's totals are: the leg is US$10B."""
    f = _write(tmp_path, "d.csv", HEAD + ",part_of\n"
               "Oracle,Nvidia,chip-supply,10000000000,USD,exact,2025-06,Desk,,committed,rel:context-oracle-nvidia-gb200\n")
    kg = load_store([f])
    assert _leg(kg, "Oracle", "Nvidia")["amount"] == 10e9
    assert kg.ask(f"ASK {{ <{REL}context-oracle-nvidia-gb200> <http://purl.org/dc/terms/hasPart> <{REL}d-1> }}")
    assert kg.warnings == []


def test_same_deal_as_a_row_id_of_the_file(tmp_path):
    """Two rows of one file about one new deal, the second naming the first by its id: one deal
    (US$5B), not 5 + 5."""
    f = _write(tmp_path, "d.csv", HEAD + ",id,same_deal_as\n"
               "Zeta Labs,Oracle,cloud-services,5000000000,USD,,2025,Desk,,committed,z1,\n"
               "Zeta Labs,Oracle,cloud-services,5000000000,USD,,2025,Desk 2,,committed,z2,z1\n")
    kg = load_store([f])
    assert kg.ask(f"ASK {{ <{REL}d-2> <{KG}sameDealAs> <{REL}d-1> }}")
    assert _leg(kg, "user/Zeta-Labs", "Oracle")["amount"] == 5e9
    assert kg.warnings == []


def test_two_rows_restating_each_other_warn_once(tmp_path):
    f = _write(tmp_path, "d.csv", HEAD + "\nZeta Labs,Oracle,cloud-services,5000000000,USD,,2025,Desk,,committed\n"
               "Zeta Labs,Oracle,cloud-services,5000000000,USD,,2025,Desk 2,,committed\n")
    kg = load_store([f])
    assert len(kg.warnings) == 1 and "d.csv:2: restates" in kg.warnings[0] and "d.csv:3" in kg.warnings[0]
    assert _leg(kg, "user/Zeta-Labs", "Oracle")["amount"] == 5e9


@pytest.mark.parametrize("cell, message", [
    ("z9", r"d.csv:2: same_deal_as 'z9' is not an IRI, a prefixed name \(rel:…\) or the id of a row"),
    ("rel:no-such-deal", r"d.csv:2: same_deal_as rel:no-such-deal is not a relationship in the loaded graph"),
])
def test_bad_same_deal_as_names_file_and_line(tmp_path, cell, message):
    f = _write(tmp_path, "d.csv", HEAD + ",same_deal_as\nZeta Labs,Oracle,cloud-services,5,USD,,2025,Desk,,committed," + cell + "\n")
    with pytest.raises(InputError, match=message):
        load_store([f])


# -- names of new actors ---------------------------------------------------------------------------
def test_names_that_make_one_slug_are_an_error_naming_both_rows(tmp_path):
    f = _write(tmp_path, "d.csv", HEAD + "\nA B,Oracle,stake,,,,,Desk,,\nA-B,Oracle,stake,,,,,Desk,,\n")
    with pytest.raises(InputError, match=r"d.csv:3: 'A-B' and 'A B' \(.*d.csv:2\) are different names that make "
                                         r"one actor IRI kgr:user/A-B"):
        load_store([f], validate=False)


def test_names_that_make_one_slug_across_two_files(tmp_path):
    a = _write(tmp_path, "a.csv", HEAD + "\nA B,Oracle,stake,,,,,Desk,,\n")
    b = _write(tmp_path, "b.csv", HEAD + "\na-b,Oracle,stake,,,,,Desk,,\n")
    for order in ([a, b], [b, a]):
        with pytest.raises(InputError, match=r"b.csv:2: 'a-b' and 'A B' \(.*a.csv:2\)"):
            load_store(order, validate=False)


def test_one_name_in_two_cases_is_one_actor(tmp_path):
    """Names compare as kg resolves them (case and width ignored): 'Acme AI' and 'ACME AI' are
    one actor, labelled with the first spelling in sorted order ('ACME AI' < 'Acme AI')."""
    f = _write(tmp_path, "d.csv", HEAD + "\nAcme AI,Oracle,stake,,,,,Desk,,\nACME AI,Nvidia,stake,,,,,Desk,,\n")
    kg = load_store([f])
    rows = kg.select(f"SELECT DISTINCT ?a WHERE {{ GRAPH <{USER}d> {{ ?r <{KG}investor> ?a }} }}")
    assert [r["a"] for r in rows] == [KGR + "user/ACME-AI"]


def test_chinese_names_are_two_actors_not_one(tmp_path):
    f = _write(tmp_path, "d.csv", HEAD + "\n甲公司,Oracle,stake,,,,,Desk,,\n乙公司,Oracle,stake,,,,,Desk,,\n")
    kg = load_store([f])
    rows = kg.select(f"SELECT DISTINCT ?a WHERE {{ GRAPH <{USER}d> {{ ?r <{KG}investor> ?a }} }}")
    assert sorted(r["a"] for r in rows) == sorted([KGR + "user/甲公司", KGR + "user/乙公司"])


def test_file_given_twice_is_an_error(tmp_path):
    f = _write(tmp_path, "d.csv", HEAD + "\nA,Oracle,stake,,,,,Desk,,\n")
    with pytest.raises(InputError, match="given twice"):
        load_store([f, f])


# -- order independence --------------------------------------------------------------------------
ZETA_TTL = """@prefix kg: <https://w3id.org/ai-capital-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://example.org/Zeta> a kg:Company ; rdfs:label "Zeta Labs"@en .
"""
ZETA_CSV = HEAD + "\nZeta Labs,Oracle,cloud-services,1000000,USD,,2025,Desk,,committed\n"
MORE_TRIG = """@prefix kg: <https://w3id.org/ai-capital-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
<https://example.org/g> {
  <https://example.org/Yota> a kg:Company ; rdfs:label "Yota"@en .
  <https://example.org/rel/y> a kg:Relationship ; kg:kind kg:Stake ; kg:investor <https://example.org/Yota> ;
      kg:investee <https://example.org/Zeta> ;
      kg:amount [ a schema:MonetaryAmount ; schema:value 5.0 ; schema:currency "USD" ] .
}
"""


@pytest.fixture(scope="module")
def three_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("three")
    return [_write(d, "a.csv", ZETA_CSV), _write(d, "b.ttl", ZETA_TTL), _write(d, "c.trig", MORE_TRIG)]


def canonical(kg) -> list[str]:
    """The whole dataset as sorted canonical N-Quads (blank nodes relabelled canonically)."""
    ds = ox.Dataset(list(kg.store))
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in ds)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_csv_name_resolves_to_the_rdf_file_in_either_order(three_files, order):
    """The CSV's 'Zeta Labs' is the Turtle file's <https://example.org/Zeta> whichever comes
    first (it was kgr:user/Zeta-Labs when the CSV came first)."""
    files = [three_files[i] for i in order]
    kg = load_store(files, bundled=False, validate=False)
    rows = kg.select(f"SELECT ?c WHERE {{ ?r <{KG}customer> ?c }}")
    assert [r["c"] for r in rows] == ["https://example.org/Zeta"]
    assert [f.path for f in kg.files if not f.bundled] == [str(f) for f in files]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations([0, 1, 2]))
def test_every_order_of_three_files_gives_one_graph(three_files, order):
    files = [three_files[i] for i in order]
    expected = canonical(load_store(three_files, bundled=False, validate=False))
    assert canonical(load_store(files, bundled=False, validate=False)) == expected


def test_files_of_one_name_get_graphs_by_name_not_by_order(tmp_path):
    (tmp_path / "x").mkdir()
    a = shutil.copy(DATA / "deals.csv", tmp_path / "deals.csv")
    b = _write(tmp_path / "x", "deals.ttl", ZETA_TTL)
    for order in ([a, b], [b, a]):
        kg = load_store(order, validate=False)
        graphs = {f.path.rsplit("/", 1)[-1]: f.graphs for f in kg.files if not f.bundled}
        assert graphs == {"deals.csv": ["https://w3id.org/ai-capital-kg/graph/user/deals"],
                          "deals.ttl": ["https://w3id.org/ai-capital-kg/graph/user/deals-2"]}


# -- figures for new actors ------------------------------------------------------------------------
FIG_HEAD = "actor,metric,amount,currency,qualifier,date,period,source_title,source_url"


def test_figures_file_sizes_a_new_actor(tmp_path):
    """Zeta Labs is new (from the relationship CSV); the figures file gives it revenue US$2B
    (FY2024) and operating income US$0.3B. Its size in the analysis is the revenue, the model's
    first size metric (data/model/model.trig: revenue rank 1), read from the user layer."""
    from kg.analysis.view import actor_sizes

    rels = _write(tmp_path, "deals.csv", ZETA_CSV)
    figs = _write(tmp_path, "sizes.csv", FIG_HEAD + "\n"
                  "Zeta Labs,revenue,2000000000,USD,,,FY2024,Zeta annual report,https://example.org/ar\n"
                  "Zeta Labs,operating-income,300000000,USD,about,2024-12-31,,Zeta annual report,https://example.org/ar\n")
    kg = load_store([figs, rels])
    size = actor_sizes(kg)[KGR + "user/Zeta-Labs"]
    assert (size["size"], size["metric"], size["period"]) == (2e9, "revenue", "FY2024")
    rows = kg.select(f"""PREFIX kg: <{KG}> PREFIX schema: <https://schema.org/>
        SELECT ?m ?v WHERE {{ ?f a kg:FinancialFigure ; kg:figureOf <{KGR}user/Zeta-Labs> ; kg:metric ?m ;
        kg:amount/schema:value ?v }} ORDER BY ?m""")
    assert [(r["m"].rsplit("#", 1)[-1], r["v"]) for r in rows] == [("OperatingIncome", 300000000), ("Revenue", 2000000000)]


@pytest.mark.parametrize("row, message", [
    ("Zeta Labs,turnover,5,USD,,2024,,S,", r"sizes.csv:2: unknown metric 'turnover'"),
    ("Zeta Labs,revenue,5,USD,,,,S,", r"sizes.csv:2: a figure needs a date .* or a period"),
    ("Zeta Labs,revenue,,USD,,2024,,S,", r"sizes.csv:2: column 'amount' is empty"),
])
def test_bad_figure_row_names_file_and_line(tmp_path, row, message):
    figs = _write(tmp_path, "sizes.csv", FIG_HEAD + "\n" + row + "\n")
    rels = _write(tmp_path, "deals.csv", ZETA_CSV)
    with pytest.raises(InputError, match=message):
        load_store([figs, rels])


# -- currencies --------------------------------------------------------------------------------
EUR_CSV = HEAD + "\nZeta Labs,Oracle,cloud-services,1000000000,EUR,,2025,Desk,,committed\n"


def test_non_usd_amount_without_rates_is_an_error_in_the_analysis(invoke, tmp_path):
    f = _write(tmp_path, "eur.csv", EUR_CSV)
    res = invoke("--data", f, "cycles")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-1] == (
        f"Error: <{REL}eur-1> states 1000000000 EUR, which cannot be summed with US dollars; pass --fx FILE "
        "with a EUR rate (columns currency,usd_per_unit,date,source), or state it in USD")
    assert res.stdout == ""


def test_non_usd_amount_is_kept_in_its_currency_in_the_graph(tmp_path):
    kg = load_store([_write(tmp_path, "eur.csv", EUR_CSV)])
    rows = kg.select(f"SELECT ?v ?c WHERE {{ <{REL}eur-1> <{KG}amount> ?a . ?a <https://schema.org/value> ?v ; "
                     "<https://schema.org/currency> ?c }")
    assert rows == [{"v": 1000000000, "c": "EUR"}]


def test_fx_table_converts_with_its_stated_rate(invoke, tmp_path):
    """EUR 1B at 1.08 USD per EUR = US$1.08B on the Oracle → ... leg Zeta Labs → Oracle."""
    f = _write(tmp_path, "eur.csv", EUR_CSV)
    fx = _write(tmp_path, "fx.csv", "currency,usd_per_unit,date,source\nEUR,1.08,2025-09-30,ECB reference rate\n")
    from kg.fx import read_fx

    kg = load_store([f])
    kg.fx = read_fx(fx)
    leg = _leg(kg, "user/Zeta-Labs", "Oracle")
    assert leg["amount"] == pytest.approx(1.08e9)
    res = invoke("--data", f, "--fx", fx, "cycles")
    assert res.exit_code == 0, res.output
    assert "fx: EUR at 1.08 USD per EUR (2025-09-30, ECB reference rate)" in res.stderr


@pytest.mark.parametrize("body, message", [
    ("EUR,,2025-09-30,ECB\n", r"fx.csv:2: column 'usd_per_unit' is empty"),
    ("EUR,nan,2025-09-30,ECB\n", r"fx.csv:2: usd_per_unit 'nan' is not a positive number"),
    ("EUR,1.1,2025-09-30,\n", r"fx.csv:2: column 'source' is empty"),
    ("USD,1,2025-09-30,ECB\n", r"fx.csv:2: currency 'USD'"),
    ("EUR,1.1,2025,ECB\nEUR,1.2,2025,ECB\n", r"fx.csv:3: a second rate for EUR"),
])
def test_bad_fx_row_names_file_and_line(tmp_path, body, message):
    from kg.fx import read_fx

    with pytest.raises(InputError, match=message):
        read_fx(_write(tmp_path, "fx.csv", "currency,usd_per_unit,date,source\n" + body))


def test_two_files_restating_each_other_link_in_one_graph_whatever_the_order(tmp_path):
    """a.csv and b.csv state one new deal: the link goes into the graph of the file whose graph
    sorts first (user/a), with one warning, in either order of --data."""
    a = _write(tmp_path, "a.csv", HEAD + "\nZeta Labs,Oracle,cloud-services,5000000000,USD,,2025,Desk,,committed\n")
    b = _write(tmp_path, "b.csv", HEAD + "\nZeta Labs,Oracle,cloud-services,5000000000,USD,,2025,Memo,,committed\n")
    results = []
    for order in ([a, b], [b, a]):
        kg = load_store(order)
        rows = kg.select(f"SELECT ?g ?x ?y WHERE {{ GRAPH ?g {{ ?x <{KG}sameDealAs> ?y }} "
                         f"FILTER(STRSTARTS(STR(?g), '{USER}')) }}")
        results.append((rows, kg.warnings))
        assert _leg(kg, "user/Zeta-Labs", "Oracle")["amount"] == 5e9
    assert results[0] == results[1]
    assert results[0][0] == [{"g": USER + "a", "x": REL + "a-1", "y": REL + "b-1"}]
    assert len(results[0][1]) == 1 and "a.csv:2: restates" in results[0][1][0] and "b.csv:2" in results[0][1][0]


def test_non_usd_figure_without_rates_is_an_error_in_the_analysis(tmp_path):
    from kg.analysis.view import actor_sizes

    rels = _write(tmp_path, "deals.csv", ZETA_CSV)
    figs = _write(tmp_path, "sizes.csv", FIG_HEAD + "\nZeta Labs,revenue,2000000000,EUR,,,FY2024,Zeta annual report,\n")
    kg = load_store([figs, rels])
    with pytest.raises(InputError, match=r"figure/user-sizes-1> states 2000000000 EUR, which cannot be summed"):
        actor_sizes(kg)


def test_converted_leg_names_its_rate_in_json(invoke, tmp_path):
    """kg cycles --format json: the EUR relationship's record on its leg carries the basis of
    the conversion; a USD one carries none."""
    f = _write(tmp_path, "eur.csv", EUR_CSV + "Oracle,Zeta Labs,cloud-services,2000000000,USD,,2025,Desk,,committed\n")
    fx = _write(tmp_path, "fx.csv", "currency,usd_per_unit,date,source\nEUR,1.08,2025-09-30,ECB reference rate\n")
    res = invoke("--data", f, "--fx", fx, "cycles", "--format", "json")
    assert res.exit_code == 0, res.output
    cycle = next(c for c in json.loads(res.stdout) if KGR + "user/Zeta-Labs" in c["nodes"])
    rels = {r["rel"]: (r["amount"], r["fx"]) for leg in cycle["legs"] for r in leg["rels"]}
    assert rels[REL + "eur-1"] == (pytest.approx(1.08e9), "EUR at 1.08 USD per EUR (2025-09-30, ECB reference rate)")
    assert rels[REL + "eur-2"] == (2e9, None)
    assert cycle["round_trip"] == pytest.approx(1.08e9)


def test_economic_model_reads_a_non_usd_figure_through_the_fx_table(tmp_path):
    """The economic model's financials (kg.analysis.economic.read_financials): a EUR 2B
    revenue is an error without --fx and US$2.16B at 1.08 USD per EUR with it."""
    from kg.analysis.economic import read_financials
    from kg.fx import read_fx

    rels = _write(tmp_path, "deals.csv", ZETA_CSV)
    figs = _write(tmp_path, "sizes.csv", FIG_HEAD + "\nZeta Labs,revenue,2000000000,EUR,,,FY2024,Zeta annual report,\n")
    kg = load_store([figs, rels])
    with pytest.raises(InputError, match=r"states 2000000000 EUR, which cannot be summed with US dollars"):
        read_financials(kg)
    kg.fx = read_fx(_write(tmp_path, "fx.csv", "currency,usd_per_unit,date,source\nEUR,1.08,2024-12-31,ECB\n"))
    assert read_financials(kg)[KGR + "user/Zeta-Labs"].revenue.value == pytest.approx(2.16e9)


def test_new_actor_with_a_figures_file_is_not_on_defaults(invoke, tmp_path):
    """Oracle buys US$1B of cloud services from the new actor Zeta Labs (in force). Its figures
    file: equity US$5B, revenue US$2B, operating income US$0.4B (FY2025). If Oracle fails, the
    economic model has Zeta lose its margin on the payments: 0.4/2 = 0.2 × US$1B = US$0.2B,
    against its equity: h = 0.2/5 = 0.04 (basis amount, capacity from equity, nothing imputed)."""
    rels = _write(tmp_path, "zeta.csv", HEAD + "\nOracle,Zeta Labs,cloud-services,1000000000,USD,,2025,Desk,,in-force\n")
    figs = _write(tmp_path, "zsizes.csv", FIG_HEAD + "\nZeta Labs,equity,5000000000,USD,,2025-06-30,,Zeta report,\n"
                  "Zeta Labs,revenue,2000000000,USD,,,FY2025,Zeta report,\n"
                  "Zeta Labs,operating-income,400000000,USD,,,FY2025,Zeta report,\n")
    res = invoke("--data", rels, "--data", figs, "exposure", "--shock", "Oracle", "--format", "json")
    assert res.exit_code == 0, res.output
    zeta = next(r for r in json.loads(res.stdout)["losses"] if r["id"] == KGR + "user/Zeta-Labs")
    assert (zeta["capacity_usd"], zeta["capacity_basis"], zeta["margin"]) == (5e9, "equity", pytest.approx(0.2))
    assert zeta["loss_usd"] == pytest.approx(0.2e9) and zeta["h"] == pytest.approx(0.04)
    assert zeta["imputed"] is False and zeta["basis"] == "amount"
