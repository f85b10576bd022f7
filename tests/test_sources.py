"""kg sources and kg show SOURCE: every source, its publisher, title, date, URL, layer and counts;
the one spelling of layers and kinds in JSON; output that does not depend on the store's order."""

import csv
import io
import json

import pytest
from hypothesis import given, strategies as st

SRC = "https://w3id.org/ai-capital-kg/resource/source/"
P = """PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
"""


@pytest.fixture(scope="module")
def rows(kg_store):
    from kg.sources import list_sources

    return {r["slug"]: r for r in list_sources(kg_store)}


def test_every_source_is_listed_once(kg_store, rows):
    ids = {r["s"] for r in kg_store.select(P + "SELECT DISTINCT ?s WHERE { ?s a kg:Source }")}
    assert {r["id"] for r in rows.values()} == ids and len(rows) == len(ids)


@pytest.mark.parametrize("slug, claims, rels, figures, cited", [
    # Counted by hand in data/context.trig and data/article.trig.
    ("wsj-2025-09-10", 2, 1, 0, 0),           # the contract, and its term as quoted for the exposure model
    ("msft-2025-10-28", 2, 3, 0, 0),          # stake, incremental Azure, the ended right of first refusal
    ("reuters-2025-09-25", 2, 4, 0, 0),       # the total and its three parts
    ("oracle-q1-fy2026", 1, 0, 3, 0),         # RPO, RPO increase, revenue
    ("reuters-bloomberg-2025-10-02", 1, 0, 2, 0),  # the valuation and the employee share sale
    ("coreweave-s1-2025", 2, 2, 1, 0),
    ("bloomberg-2025-10-07", 0, 0, 0, 2),     # cited by the article and by claim L03-5
])
def test_counts_of_what_a_source_supports(rows, slug, claims, rels, figures, cited):
    r = rows[slug]
    assert (r["claims"], r["relationships"], r["figures"], r["cited_by"]) == (claims, rels, figures, cited)


def test_article_counts_match_an_independent_count_by_named_graph(kg_store, rows):
    """Every article claim, relationship and figure lives in the article's graph with the article as source."""
    n = {r["c"].rsplit("#", 1)[-1]: r["n"] for r in kg_store.select(P + """SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE {
        GRAPH <https://w3id.org/ai-capital-kg/graph/article> { ?x a ?c } FILTER(?c IN (kg:Claim, kg:Relationship, kg:FinancialFigure)) }
        GROUP BY ?c""")}
    a = rows["article"]
    assert (a["claims"], a["relationships"], a["figures"]) == (n["Claim"], n["Relationship"], n["FinancialFigure"])


def test_every_context_source_has_a_publisher_and_two_labels(rows):
    ctx = [r for r in rows.values() if r["layer"] == "context"]
    assert len(ctx) == 38   # 29 sources, and 9 the additional figures for relative exposure cite
    assert [r["slug"] for r in ctx if not r["publishers"]] == []
    assert [r["slug"] for r in ctx if not (r["label"] and r["label_zh"])] == []
    assert rows["wsj-2025-09-10"]["label_zh"] == "華爾街日報 2025-09-10:甲骨文與 OpenAI 雲端合約"


def test_urls_are_only_the_ones_the_seed_states(rows):
    """context-facts.md gives no URL; the seed README gives Bloomberg's. None is made up."""
    assert {s: r["url"] for s, r in rows.items() if r["url"]} == {
        "bloomberg-2025-10-07": "https://www.bloomberg.com/news/features/2025-10-07/"
                                "openai-s-nvidia-amd-deals-boost-1-trillion-ai-boom-with-circular-deals"}


def test_sources_table_shows_short_titles_not_slugs(invoke):
    r = invoke("sources", "--layer", "context")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].split()[0] == "source"
    assert any(line.startswith("WSJ, 2025-09-10: Oracle–OpenAI cloud contract") for line in lines)
    assert not any(line.startswith("wsj-2025-09-10") for line in lines)
    assert "article" not in {line.split()[0] for line in lines[2:]}


def test_sources_json_and_csv(invoke):
    data = json.loads(invoke("sources", "--format", "json").stdout)
    assert {r["layer"] for r in data} == {"article", "context", "reference"}
    wsj = next(r for r in data if r["slug"] == "wsj-2025-09-10")
    assert wsj["publishers"] == [{"id": "https://w3id.org/ai-capital-kg/resource/WallStreetJournal",
                                  "label": "The Wall Street Journal"}]
    assert wsj["date"] == "2025-09-10" and wsj["url"] is None
    table = list(csv.DictReader(io.StringIO(invoke("sources", "--format", "csv").stdout)))
    assert len(table) == len(data)
    row = next(r for r in table if r["slug"] == "ft-2025-05-23")
    assert (row["by"], row["date"], row["claims"], row["relationships"]) == ("Financial Times", "2025-05-23", "1", "1")


def test_sources_bad_layer_is_a_usage_error(invoke):
    r = invoke("sources", "--layer", "nope")
    assert r.exit_code == 2 and "nope" in r.stderr


@pytest.mark.parametrize("name", ["msft-2025-10-28", "MSFT-2025-10-28",
                                  "The next chapter of the Microsoft–OpenAI partnership",
                                  "微軟 2025-10-28:微軟與 OpenAI 合作的新篇章",
                                  SRC + "msft-2025-10-28"])
def test_show_finds_a_source_by_slug_title_or_label(invoke, name):
    r = invoke("show", name, "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["id"] == SRC + "msft-2025-10-28" and data["layer"] == "context"
    items = {(i["what"], i["id"].rsplit("/", 1)[-1], i["kind"]) for i in data["items"]}
    assert items == {("claim", "context-msft-2025-10-28-1", "fact"), ("claim", "context-msft-2025-10-28-2", "fact"),
                     ("relationship", "context-msft-openai-stake", "stake"),
                     ("relationship", "context-openai-azure-incremental", "cloud-services"),
                     ("relationship", "context-msft-openai-rofr", "right-of-first-refusal")}


def test_show_source_table_and_csv(invoke):
    r = invoke("show", "ft-2025-05-23")
    assert r.exit_code == 0
    assert r.stdout.startswith("FT, 2025-05-23: Oracle's Nvidia chips for Abilene")
    assert "by: Financial Times" in r.stdout and "supports: 1 claims, 1 relationships, 0 figures" in r.stdout
    rows = list(csv.DictReader(io.StringIO(invoke("show", "article", "--format", "csv").stdout)))
    assert rows[0]["what"] == "claim" and rows[0]["line"] == "2"   # the title line; line 1 is the byline


def test_show_still_prefers_an_actor_and_reports_unknown_names(invoke):
    assert json.loads(invoke("show", "Oracle", "--format", "json").stdout)["id"].endswith("/Oracle")
    r = invoke("show", "no-such-source-or-actor")
    assert r.exit_code == 1 and "Traceback" not in r.stderr and r.stderr.count("\n") <= 3


def test_json_names_layers_and_kinds_one_way(invoke):
    """Layers are article/context/user everywhere; kinds are the CSV spelling with the label beside."""
    show = json.loads(invoke("show", "Oracle", "--format", "json").stdout)
    assert {r["layer"] for r in show["relationships"]} == {"article", "context"}
    assert {c["layer"] for c in show["claims"]} == {"article", "context"}
    kinds = {(r["kind"], r["kind_label"]) for r in show["relationships"]}
    assert ("compute-contract", "compute contract") in kinds and ("hardware-supply", "hardware supply") in kinds
    claims = json.loads(invoke("claims", "--about", "Oracle", "--format", "json").stdout)
    assert {c["layer"] for c in claims} == {"article", "context"}


class ReorderedStore:
    """The bundled store as another SPARQL store may answer: rows reversed and every aggregated list
    in another order (as Oxigraph server returned 14 claims' hedges and 50 `about` lists)."""

    LISTS = {"abouts": " ", "hedge": ",", "qualifiers": ",", "source": " ", "claims": " ", "types": " ",
             "altLabels": "; ", "publishers": " ", "creators": " ", "claim_ids": " "}

    def __init__(self, store):
        self._store = store

    def select(self, sparql, bindings=None):
        rows = self._store.select(sparql, bindings)
        out = []
        for r in reversed(rows):
            r = dict(r)
            for k, sep in self.LISTS.items():
                if isinstance(r.get(k), str) and sep in r[k]:
                    r[k] = sep.join(reversed(r[k].split(sep)))
            out.append(r)
        return out

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.mark.parametrize("name", ["OpenAI", "Microsoft", "Nvidia", "Oracle"])
def test_show_does_not_depend_on_the_stores_order(kg_store, name):
    from kg.explore import show_entity

    a = show_entity(kg_store, name)
    b = show_entity(ReorderedStore(kg_store), name)
    assert a == b
    assert any(c["hedge"] and "," in c["hedge"] for c in a["claims"])  # lists were there to reorder
    for c in a["claims"]:
        assert c["about"] == sorted(c["about"])
        assert c["hedge"] is None or c["hedge"].split(",") == sorted(c["hedge"].split(","))


def test_claims_and_sources_do_not_depend_on_the_stores_order(kg_store):
    from kg.explore import coverage, list_claims
    from kg.sources import list_sources

    assert list_claims(kg_store) == list_claims(ReorderedStore(kg_store))
    assert list_sources(kg_store) == list_sources(ReorderedStore(kg_store))
    assert coverage(kg_store) == sorted(coverage(ReorderedStore(kg_store)), key=lambda r: (r["source"], r["line"]))


@given(st.lists(st.sampled_from(["will", "possible", "conditional", "certain"]), unique=True))
def test_aggregated_lists_are_sorted_whatever_their_order(items):
    from kg.explore import _sorted_split

    assert _sorted_split(",".join(items), ",") == sorted(items)
    assert _sorted_split(",".join(reversed(items)), ",") == sorted(items)
