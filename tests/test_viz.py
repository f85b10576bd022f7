"""kg viz: the view graph, the page's self-containment and escaping, exports, the command."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import DATA

T = "https://example.org/test/"
KGR = "https://w3id.org/ai-capital-kg/resource/"
PAYLOAD = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def mini():
    from kg.store import load_store

    return load_store([DATA / "mini.trig"], bundled=False)


def evil_file(folder: Path) -> Path:
    """A user file whose labels, titles, amounts and claims carry HTML and script payloads.

    Its graph is .../graph/user/evil, so its source (added by the loader) is src:user-evil.
    """
    path = folder / "evil.ttl"
    path.write_text(f"""
@prefix kg: <https://w3id.org/ai-capital-kg/ontology#> .
@prefix kgr: <https://w3id.org/ai-capital-kg/resource/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
kgr:Evil a kg:Company ; rdfs:label "{PAYLOAD}"@en , "</script><script>alert(2)</script>"@zh-Hant ;
    rdfs:comment "\\"href\\" <a href=\\"javascript:alert(3)\\">x</a>"@en .
<https://example.org/rel/evil> a kg:Relationship ; kg:kind kg:EquityInvestment ;
    kg:investor kgr:Evil ; kg:investee kgr:OpenAI ;
    rdfs:label "{PAYLOAD} \\"href\\""@en ; kg:amountText "<b onmouseover=alert(5)>x</b>"@en .
<https://example.org/claim/evil> a kg:Claim ; kg:excerpt "<svg onload=alert(6)>"@zh-Hant ;
    kg:text "<script>alert(7)</script> \\"href\\""@en ; kg:claimKind kg:Fact ; kg:section kg:UserSection ;
    kg:about kgr:Evil ; kg:supports <https://example.org/rel/evil> ;
    dcterms:source <https://w3id.org/ai-capital-kg/resource/source/user-evil> .
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def evil_store(tmp_path_factory):
    from kg.store import load_store

    return load_store([evil_file(tmp_path_factory.mktemp("evil"))], validate=False)


# -- the view graph ---------------------------------------------------------------------------
def test_mini_graph_is_exact(mini):
    """mini.trig: Alpha invests 10 in Beta (money Alpha → Beta); Beta buys cloud from Alpha for
    about 4, reported (money Beta → Alpha); Beta is a member of the group; claim-1 is about both
    and supports the investment."""
    from kg.viz import build_graph

    g = build_graph(mini)
    assert sorted(g.nodes) == [T + "Alpha", T + "Beta", T + "Group"]
    edges = {(u[len(T):], v[len(T):], d["kind"], d["amount"], frozenset((d["qualifier"] or "").split(",")) - {""},
              d["layer"]) for u, v, d in g.edges(data=True)}
    assert edges == {
        ("Alpha", "Beta", "equity-investment", 10.0, frozenset({"exact"}), "user"),
        ("Beta", "Alpha", "cloud-services", 4.0, frozenset({"about", "reported"}), "user"),
        ("Beta", "Group", "member-of", None, frozenset(), "user"),
    }
    assert g.edges[T + "Alpha", T + "Beta", T + "alpha-invests-beta"]["claims"] == [T + "claim-1"]
    assert g.nodes[T + "Alpha"]["claims"] == [T + "claim-1"]
    assert g.nodes[T + "Group"]["type"] == "ActorGroup" and g.nodes[T + "Group"]["group"] is True
    assert g.graph["claims"][T + "claim-1"]["excerpt"] == "阿爾法投資貝塔"


def test_labels_follow_the_language(mini):
    from kg.viz import build_graph

    assert build_graph(mini, lang="zh-Hant").nodes[T + "Beta"]["label"] == "貝塔"
    assert build_graph(mini).nodes[T + "Beta"]["label"] == "Beta"


def test_every_relationship_is_an_edge(kg_store):
    from kg.queries import load_query
    from kg.viz import build_graph

    g = build_graph(kg_store)
    rels = {r["rel"] for r in kg_store.select(load_query("relationships").text)}
    keys = {k for *_, k in g.edges(keys=True)}
    assert rels <= keys
    assert {d["kind"] for *_, d in g.edges(data=True)} - {"member-of"} <= {
        k["notation"] for k in g.graph["kinds"].values()}


def test_edges_point_the_way_money_flows(kg_store):
    """The article's Oracle contract: OpenAI (customer) pays Oracle (supplier) US$300B, so the
    arrow goes OpenAI → Oracle. Microsoft's stake carries no money: investor → investee."""
    from kg.viz import build_graph

    g = build_graph(kg_store)
    contract = g.edges[KGR + "OpenAI", KGR + "Oracle", KGR + "rel/article-oracle-openai-contract"]
    assert contract["money"] and contract["amount"] == 3e11 and contract["kind"] == "compute-contract"
    assert contract["claims"], "the article's claims about the contract are attached"
    stake = g.edges[KGR + "Microsoft", KGR + "OpenAI", KGR + "rel/article-msft-openai-stake"]
    assert stake["money"] is False


def test_layer_keeps_only_its_relationships(kg_store):
    from kg.viz import build_graph

    g = build_graph(kg_store, layer="article")
    assert g.number_of_edges() > 0
    assert {d["layer"] for *_, d in g.edges(data=True)} == {"article"}
    assert all(c["layer"] == "article" for c in g.graph["claims"].values())


def test_focus_keeps_the_neighbourhood(kg_store):
    from kg.viz import build_graph

    full = build_graph(kg_store)
    oracle = KGR + "Oracle"
    g = build_graph(kg_store, focus="甲骨文", depth=1)
    assert set(g) == {oracle} | set(full.successors(oracle)) | set(full.predecessors(oracle))
    assert g.nodes[oracle]["focus"] is True
    one = build_graph(kg_store, focus="ORCL", depth=0)
    assert list(one) == [oracle] and one.number_of_edges() == 0


#: Relationship edges as the ontology defines them, read without the page's code: payer → payee
#: where money flows, else the kind's kg:fromRole → kg:toRole (optionally of the given kinds).
PARTIES = """PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?a ?b ?notation WHERE {
  ?r a kg:Relationship ; kg:kind ?k . ?k skos:notation ?notation .
  { ?r kg:payer ?a ; kg:payee ?b } UNION { ?k kg:fromRole ?fr ; kg:toRole ?tr . ?r ?fr ?a ; ?tr ?b } }"""


def _hops(kg_store, source, depth, kinds=None):
    """Actors within ``depth`` relationships of ``source``, by networkx over PARTIES's rows."""
    import networkx as nx

    h = nx.Graph((r["a"], r["b"]) for r in kg_store.select(PARTIES) if kinds is None or r["notation"] in kinds)
    h.add_node(source)
    return set(nx.single_source_shortest_path_length(h, source, cutoff=depth))


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_focus_depth_counts_relationships_not_memberships(kg_store, depth):
    """The actors within ``depth`` relationships of Oracle, counted without the page's code: SPARQL
    over the relationships' roles, then networkx (in the bundled graph at the time of writing:
    Oracle with OpenAI, Nvidia and the hardware supply chain at depth 1 — 4 actors — and 31 of
    the 42 at depth 2, because OpenAI is party to 36 edges)."""
    from kg.viz import build_graph

    oracle = KGR + "Oracle"
    reached = _hops(kg_store, oracle, depth)
    assert len(reached) == 1 if depth == 0 else len(reached) > len(_hops(kg_store, oracle, depth - 1))
    g = build_graph(kg_store, focus="Oracle", depth=depth)
    assert set(g) == reached
    assert g.graph["focus_counts"] == [len(_hops(kg_store, oracle, d)) for d in range(depth + 1)]
    assert all(g.nodes[n]["hops"] <= depth for n in g) and g.nodes[oracle]["hops"] == 0
    assert {KGR + "OpenAI", KGR + "Nvidia"} <= set(g) or depth == 0  # Oracle's compute and chip deals


def test_focus_default_depth_is_one(kg_store):
    from kg.viz import build_graph

    assert set(build_graph(kg_store, focus="Oracle")) == _hops(kg_store, KGR + "Oracle", 1)


def test_focus_over_chosen_kinds(kg_store):
    """Over compute contracts and cloud-services purchases only, Oracle's neighbourhood at depth 2."""
    from kg.viz import build_graph

    kinds = {"compute-contract", "cloud-services"}
    g = build_graph(kg_store, focus="Oracle", depth=2, kinds=",".join(sorted(kinds)))
    assert set(g) == _hops(kg_store, KGR + "Oracle", 2, kinds) and len(g) > 2
    assert {d["kind"] for *_, d in g.edges(data=True)} <= kinds


def test_unknown_kind_names_the_nearest(kg_store):
    from kg.errors import InputError
    from kg.viz import build_graph

    with pytest.raises(InputError, match="unknown relationship kind 'compute-contrat'; nearest: compute-contract"):
        build_graph(kg_store, kinds=["compute-contrat"])


def test_focus_counts_are_in_the_subtitle(kg_store):
    from kg.viz import build_graph, render_page

    one, two = (len(_hops(kg_store, KGR + "Oracle", d)) for d in (1, 2))
    total = build_graph(kg_store).number_of_nodes()
    text = render_page(kg_store, focus="Oracle", depth=2)
    assert f"{one} actors within 1 relationship, {two} within 2 (of {total})" in text
    text = render_page(kg_store, focus="Oracle", depth=2, lang="zh-Hant")
    assert f"1 層關係內 {one} 個行動者、2 層內 {two} 個(共 {total} 個)" in text


def test_width_legend_gives_the_widths_edges_get(kg_store):
    """edge_width: 1 px up to US$10M, +1.5 px per factor of ten: US$1B → 1 + 1.5·2 = 4 px,
    US$100B → 7 px; the page's legend carries exactly these, in both languages."""
    from kg.viz.style import edge_style, width_legend

    assert [(x["label"], x["width"]) for x in width_legend("en")] == [
        ("unknown or ≤ US$10M", 1.0), ("US$1B", 4.0), ("US$10B", 5.5), ("US$100B", 7.0), ("US$1T", 8.5)]
    assert width_legend("zh-Hant")[0]["label"] == "金額不明或 ≤ US$10M"
    assert edge_style({"amount": 1e11, "currency": "USD"}, False)["width"] == 7.0
    assert edge_style({"amount": 1e11, "currency": "EUR"}, False)["width"] == 1.0  # the legend is in USD


def test_unknown_focus_suggests_nearest(kg_store):
    from kg.errors import UnknownEntityError
    from kg.viz import build_graph

    with pytest.raises(UnknownEntityError, match="Oracle"):
        build_graph(kg_store, focus="Oracel")


def test_empty_graph_renders_a_page():
    import networkx as nx

    from kg.viz import page_from_graph

    html = page_from_graph(nx.MultiDiGraph(claims={}, overlays={}))
    assert '"nodes":[]' in html and '"edges":[]' in html


# -- analysis overlays ------------------------------------------------------------------------
def test_exposure_gives_every_actor_an_impact(kg_store):
    from kg.viz import build_graph

    g = build_graph(kg_store, exposure="OpenAI")
    openai = g.nodes[KGR + "OpenAI"]
    assert openai["shock"] and openai["impact"] == 1.0
    assert all(0.0 <= d["impact"] <= 1.0 for _, d in g.nodes(data=True))
    assert g.nodes[KGR + "Oracle"]["impact"] > 0 and g.nodes[KGR + "Oracle"]["round"] >= 2
    assert g.graph["overlays"]["exposure"]["method"] == "linear"  # kg exposure's default
    gainers = {n for n, d in g.nodes(data=True) if d.get("gain")}
    assert KGR + "OpenSourceModelCamp" in gainers and KGR + "Oracle" not in gainers  # substitution, not loss


def test_cycles_highlight_the_microsoft_openai_loop(kg_store):
    """The article's loop: Microsoft invests in OpenAI, OpenAI pays Microsoft for Azure."""
    from kg.viz import build_graph

    g = build_graph(kg_store, cycles=True)
    tagged = {(u, v) for u, v, d in g.edges(data=True) if d.get("highlight") == "cycle"}
    assert (KGR + "Microsoft", KGR + "OpenAI") in tagged and (KGR + "OpenAI", KGR + "Microsoft") in tagged
    assert g.graph["overlays"]["cycles"]["count"] >= 1


def test_chain_highlights_its_ends_and_hops(kg_store):
    from kg.viz import build_graph

    g = build_graph(kg_store, chain=("OpenAI", "Oracle"))
    assert g.nodes[KGR + "OpenAI"]["highlight"] == g.nodes[KGR + "Oracle"]["highlight"] == "chain"
    assert any(d.get("highlight") == "chain" for *_, d in g.edges(data=True))


# -- the page ---------------------------------------------------------------------------------
class _Resources(HTMLParser):
    """Every attribute of the page that could make the browser fetch something."""

    FETCHING = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background", "xlink:href"}

    def __init__(self):
        super().__init__()
        self.found, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in self.FETCHING:
                self.found.append((tag, name, value))


@pytest.fixture(scope="module")
def page(kg_store):
    from kg.viz import render_page

    return render_page(kg_store)


def test_page_references_no_remote_resource(page):
    """No script, style, font or image comes from anywhere: no src/href at all, no CSS url() or
    @import to another origin, no <link>; a CSP forbids any fetch."""
    parser = _Resources()
    parser.feed(page)
    assert parser.found == []
    assert "link" not in parser.tags and "iframe" not in parser.tags
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", page, re.I)
    # the one url() is the embedded CJK font's data: URL, and the CSP allows fonts from data: only
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", page, re.S))
    assert [m.group(1) for m in re.finditer(r"url\(([^;,)]{0,30})", styles)] == ["data:font/woff2"]
    assert not re.search(r"@import", page)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp and "http" not in csp
    assert "font-src data:;" in csp


def test_page_inlines_vis_network(page):
    parser = _Resources()
    parser.feed(page)
    assert "vis-network" in page and "new vis.Network" in page and "sourceMappingURL" not in page
    assert parser.tags.count("script") == 3  # the data (JSON), vis-network, the page's own script


def test_page_data_matches_the_graph(kg_store, page):
    from kg.viz import build_graph

    data = json.loads(re.search(r'<script id="kg-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    g = build_graph(kg_store)
    assert len(data["nodes"]) == g.number_of_nodes() and len(data["edges"]) == g.number_of_edges()
    groups = [n for n in data["nodes"] if n["kg"]["type"] == "ActorGroup"]
    companies = [n for n in data["nodes"] if n["kg"]["type"] == "Company"]
    assert groups and {n["shape"] for n in groups} == {"hexagon"} and {n["shape"] for n in companies} == {"dot"}
    assert all("shapeProperties" in n for n in groups)
    widths = {e["kg"].get("rel"): e["width"] for e in data["edges"]}
    assert widths[KGR + "rel/article-oracle-openai-contract"] > widths[KGR + "rel/article-msft-openai-stake"] == 1.0
    assert data["options"]["physics"]["stabilization"]["enabled"] is True


def test_edge_hover_shows_amount_claims_and_source(kg_store):
    from kg.viz.graph import build_graph
    from kg.viz.style import edge_title

    g = build_graph(kg_store)
    d = g.edges[KGR + "OpenAI", KGR + "Oracle", KGR + "rel/article-oracle-openai-contract"]
    title = edge_title(d, "OpenAI", "Oracle", "en", g.graph["claims"])
    assert "US$300B" in title and "Ben Tsai" in title
    assert "「" in title and "English:" in title  # the Chinese excerpt, then its English rendering


def test_json_in_script_cannot_close_the_element():
    from kg.viz.page import json_for_script

    text = json_for_script({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_payload_in_labels_titles_and_claims_is_escaped(evil_store):
    """Labels, titles ("href"), amounts and claims reach the page only as JSON text, never as markup."""
    from kg.viz import render_page

    for lang in ("en", "zh-Hant"):
        text = render_page(evil_store, focus="Evil", depth=1, lang=lang)
        for raw in (PAYLOAD, "<script>alert", "<svg onload", "<b onmouseover", '<a href="javascript'):
            assert raw not in text, raw
        assert "\\u003cimg src=x onerror=alert(1)\\u003e" in text
    parser = _Resources()
    parser.feed(text)
    assert parser.found == [] and "img" not in parser.tags and "svg" not in parser.tags


def test_focus_label_in_the_heading_is_escaped(evil_store):
    from kg.viz import render_page

    text = render_page(evil_store, focus=PAYLOAD)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and PAYLOAD not in text


def test_too_large_a_view_proposes_focus(kg_store):
    from kg.viz import PageTooLargeError, render_page

    with pytest.raises(PageTooLargeError, match=r"--focus") as info:
        render_page(kg_store, max_nodes=5)
    assert "OpenAI" in str(info.value)  # the best-connected actor is proposed


# -- exports ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_export_round_trips_with_attributes(kg_store, tmp_path, fmt):
    import networkx as nx

    from kg.viz import build_graph, export_graph

    data = export_graph(kg_store, fmt, exposure="OpenAI", layer="article")
    path = tmp_path / f"g.{fmt}"
    path.write_bytes(data)
    got = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    want = build_graph(kg_store, exposure="OpenAI", layer="article")
    assert got.number_of_nodes() == want.number_of_nodes() and got.number_of_edges() == want.number_of_edges()
    edge = next(d for *_, d in got.edges(data=True) if d.get("amount"))
    assert {"kind", "amount", "qualifier", "layer"} <= set(edge)
    assert all("impact" in d for _, d in got.nodes(data=True))
    assert "甲骨文" in data.decode("utf-8")


def test_export_without_exposure_has_no_impact(mini):
    from kg.viz import export_graph

    assert b"impact" not in export_graph(mini, "graphml")


def test_export_rejects_an_unknown_format(mini):
    from kg.errors import InputError
    from kg.viz import export_graph

    with pytest.raises(InputError, match="graphml"):
        export_graph(mini, "dot")


# -- the command ------------------------------------------------------------------------------
def test_viz_writes_one_utf8_file_atomically_and_no_lib_folder(invoke, runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("--lang", "zh-Hant", "viz", "-o", "graph.html")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.html"]  # no lib/, no temp file left
    text = (tmp_path / "graph.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="zh-Hant">' in text and "甲骨文" in text
    again = invoke("viz", "-o", "graph.html")
    assert again.exit_code == 1 and "--force" in again.output
    assert invoke("viz", "-o", "graph.html", "--force").exit_code == 0


def test_viz_unknown_name_exits_1_with_nearest(invoke, tmp_path):
    result = invoke("viz", "--exposure", "OpenAl", "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 1 and "OpenAI" in result.output
    assert not (tmp_path / "x.html").exists()


def test_viz_kind_option(invoke, kg_store, tmp_path):
    """The subtitle's "of N" is the number of actors party to a relationship of those kinds."""
    kinds = {"compute-contract", "cloud-services"}
    total = len({x for r in kg_store.select(PARTIES) if r["notation"] in kinds for x in (r["a"], r["b"])})
    out = tmp_path / "k.html"
    ok = invoke("viz", "--focus", "Oracle", "--depth", "2", "--kind", "compute-contract", "--kind", "cloud-services",
                "-o", str(out))
    assert ok.exit_code == 0 and f"(of {total})" in out.read_text(encoding="utf-8")
    bad = invoke("viz", "--kind", "compute-contrat", "-o", str(tmp_path / "x.html"))
    assert bad.exit_code == 1 and "nearest: compute-contract" in bad.output and not (tmp_path / "x.html").exists()


def test_viz_depth_without_focus_is_a_usage_error(invoke, tmp_path):
    assert invoke("viz", "--depth", "3", "-o", str(tmp_path / "x.html")).exit_code == 2


def test_viz_too_big_exits_1_proposing_focus(invoke, tmp_path):
    result = invoke("viz", "--max-nodes", "3", "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 1 and "--focus" in result.output


def test_viz_export_to_stdout(invoke):
    result = invoke("viz", "--export", "graphml", "--focus", "Oracle", "--depth", "1", "-o", "-")
    assert result.exit_code == 0 and result.stdout.startswith("<?xml") and "compute-contract" in result.stdout


def test_kg_start_up_does_not_load_the_page_machinery():
    code = "import sys, kg.cli; print([m for m in ('kg.viz', 'pyvis', 'jinja2') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- the named queries of the page ------------------------------------------------------------
def test_viz_actors_rows_are_exact(mini):
    from kg.queries import load_query

    rows = mini.select(load_query("viz-actors").text)
    assert {(r["id"][len(T):], r["type"].rsplit("#")[-1], r["label"], r["label_zh"]) for r in rows} == {
        ("Alpha", "Company", "Alpha", "阿爾法"), ("Beta", "Company", "Beta", "貝塔"),
        ("Group", "ActorGroup", "Greek letters", "希臘字母"),
    }


def test_viz_claims_rows_are_exact(mini):
    from kg.queries import load_query
    from kg.vocab import KG

    rows = mini.select(load_query("viz-claims").text)
    assert sorted((r["link"], r["target"][len(T):], r["excerpt_lang"], r["text_en"]) for r in rows) == [
        ("about", "Alpha", "zh-hant", "Alpha invests in Beta"), ("about", "Beta", "zh-hant", "Alpha invests in Beta"),
        ("supports", "alpha-invests-beta", "zh-hant", "Alpha invests in Beta"),
    ]
    assert mini.select(load_query("viz-claims").text, {"layer": KG.ArticleLayer}) == []


def test_viz_members_and_kinds(mini):
    from kg.queries import load_query

    members = mini.select(load_query("viz-members").text)
    assert [(r["member"][len(T):], r["group"][len(T):], r["source"][len(T):]) for r in members] == [
        ("Beta", "Group", "source")]
    kinds = {r["notation"]: r for r in mini.select(load_query("viz-kinds").text)}
    assert kinds["compute-contract"]["money"] is True and kinds["stake"]["money"] is False
    assert kinds["chip-supply"]["label_zh"] == "晶片供應"


# -- styles -----------------------------------------------------------------------------------
def test_edge_width_is_log_of_the_amount():
    """1 px up to US$10M, then +1.5 px per factor of ten: 1e8 → 2.5, 1e9 → 4, 3e11 → 1 + 1.5·log10(3e4) ≈ 7.72."""
    from kg.viz.style import edge_width

    assert [edge_width(a) for a in (None, 0, 5e6, 1e7, 1e8, 1e9)] == [1.0, 1.0, 1.0, 1.0, 2.5, 4.0]
    assert edge_width(3e11) == 7.72 and edge_width(1e20) == 10.0


def test_edge_width_grows_with_the_amount_and_stays_bounded():
    from hypothesis import given, strategies as st

    from kg.viz.style import edge_width

    @given(st.floats(0, 1e15), st.floats(0, 1e15))
    def check(a, b):
        lo, hi = sorted((a, b))
        assert 1.0 <= edge_width(lo) <= edge_width(hi) <= 10.0

    check()


def test_impact_colour_runs_from_pale_to_dark():
    from kg.viz.style import impact_colour

    assert impact_colour(0.0) == "#fff7bc" and impact_colour(1.0) == "#993404" and impact_colour(-0.2) == "#43a047"


def test_every_bundled_kind_has_its_own_colour_and_dashes_only_without_money(kg_store):
    """Each relationship kind of the bundled graph has a style of its own (not the grey kept for
    kinds of users' ontologies), no two kinds share one, and a kind's line is dashed exactly when
    no money flows in it (the page's legend says so)."""
    from kg.viz import build_graph
    from kg.viz.style import KIND_STYLE, kind_style

    g = build_graph(kg_store)
    money = {}
    for *_, d in g.edges(data=True):
        if d["kind"] != "member-of":
            money.setdefault(d["kind"], set()).add(d["money"])
    assert sorted(k for k in money if k not in KIND_STYLE) == []
    colours = [kind_style(k)[0] for k in money]
    assert len(set(colours)) == len(colours)
    assert {k: bool(kind_style(k)[1]) for k in money} == {k: not any(m) for k, m in money.items()}


def test_viz_exposure_and_the_viz_page_share_kg_exposures_default_method():
    """kg viz --exposure, the endpoint's /viz page (render_page's defaults) and kg exposure /
    kg domino use one default method: linear."""
    import inspect

    from kg.cli import cli
    from kg.viz import render_page

    def default(cmd):
        return next(p.default for p in cli.commands[cmd].params if p.name == "method")

    assert default("viz") == default("exposure") == default("domino") == "linear"
    assert inspect.signature(render_page).parameters["method"].default == "linear"
