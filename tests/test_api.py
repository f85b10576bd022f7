"""The notebook API (kg.open → Graph): queries to rows and frames, rdflib and networkx views,
exposure, the inline page, its errors, and the examples of docs/python.md run as doctests."""

from __future__ import annotations

import doctest
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import DATA, REPO

KGR = "https://w3id.org/ai-capital-kg/resource/"
T = "https://example.org/test/"


@pytest.fixture(scope="module")
def g():
    import kg

    return kg.open()


@pytest.fixture(scope="module")
def mini():
    import kg

    return kg.open(data=[DATA / "mini.trig"], bundled=False)


def test_open_loads_the_same_quads_as_load_store(g, kg_store):
    import kg
    from kg.api import Graph

    assert isinstance(g, Graph) and isinstance(g, kg.Graph)
    assert len(g.store) == len(kg_store) and g.store.graphs() == kg_store.graphs()


def test_open_takes_one_path_or_a_list(mini):
    import kg

    one = kg.open(DATA / "mini.trig", bundled=False)
    assert one.store.graphs() == mini.store.graphs()
    assert "https://example.org/graph/mini" in mini.store.graphs()
    assert not any("/graph/article" in x for x in mini.store.graphs())  # bundled=False


def test_query_binds_an_entity_by_any_name(g):
    """Nvidia's ticker is NVDA and its Chinese label 輝達 (data/entities.trig)."""
    for name in ("輝達", "Nvidia", "NVDA", KGR + "Nvidia"):
        rows = g.query("entity", id=name)
        assert [(r["id"], r["ticker"]) for r in rows] == [(KGR + "Nvidia", "NVDA")]


def test_query_rows_of_the_mini_graph(mini):
    """mini.trig has two relationships: Alpha invests 10 USD in Beta; Beta buys cloud from Alpha for 4."""
    from kg.api import Rows

    rows = mini.query("relationships")
    assert isinstance(rows, Rows) and len(rows) == 2
    assert sorted((r["from"], r["to"], r["value"]) for r in rows) == [
        (T + "Alpha", T + "Beta", 10), (T + "Beta", T + "Alpha", 4)]
    assert rows.columns[:3] == ["layer", "rel", "kind"]
    frame = rows.to_frame()
    assert list(frame.columns) == rows.columns and frame.shape == (2, len(rows.columns))
    assert sorted(frame["value"].tolist()) == [4, 10]


def test_query_with_a_layer_parameter_filters(g):
    """Each row's layer is the one asked for, and the two layers together give every row."""
    article = g.query("relationships", layer="article")
    context = g.query("relationships", layer="context")
    every = g.query("relationships")
    assert {r["layer"] for r in article} == {"https://w3id.org/ai-capital-kg/ontology#ArticleLayer"}
    assert len(article) + len(context) == len(every) > 0


def test_query_ask_and_construct_forms(g, tmp_path):
    import rdflib

    ask = tmp_path / "ask.rq"
    ask.write_text("# param ?x entity  an actor\nASK { ?x a ?t }\n", encoding="utf-8")
    assert g.query(str(ask), x="Oracle") is True
    con = tmp_path / "con.rq"
    con.write_text("# param ?x entity  an actor\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                   "CONSTRUCT { ?x rdfs:label ?l } WHERE { ?x rdfs:label ?l }\n", encoding="utf-8")
    graph = g.query(str(con), x="Oracle")
    assert isinstance(graph, rdflib.Graph)
    assert {(str(o), o.language) for o in graph.objects()} == {("Oracle", "en"), ("甲骨文", "zh-hant")}


def test_sparql_binds_values(mini):
    """Alpha's label in mini.trig is "Alpha"@en and "阿爾法"@zh-Hant; the IRI is bound, not pasted."""
    rows = mini.sparql("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                       "SELECT ?label WHERE { ?x rdfs:label ?label } ORDER BY ?label", x=T + "Alpha")
    assert [r["label"] for r in rows] == ["Alpha", "阿爾法"] and rows.columns == ["label"]
    assert mini.sparql("SELECT ?x WHERE { ?x ?p ?o } LIMIT 0") == []


def test_query_errors_are_kgerrors_with_the_nearest_names(g):
    from kg.errors import KGError, QueryError, UnknownEntityError

    with pytest.raises(QueryError, match="nearest: claims-about"):
        g.query("claims-abuot", about="Oracle")
    with pytest.raises(QueryError, match="its parameters: about, section, kind, layer"):
        g.query("claims-about", company="Oracle")
    with pytest.raises(QueryError, match="needs parameter"):
        g.query("claims-about")
    with pytest.raises(UnknownEntityError, match="Oracle"):
        g.query("claims-about", about="Oracel")
    assert issubclass(QueryError, KGError) and issubclass(UnknownEntityError, KGError)


def test_to_frame_without_pandas_says_what_to_install(mini, monkeypatch):
    from kg.api import MissingDependencyError
    from kg.errors import KGError

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas → ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'ai-capital-kg\[pandas\]'") as info:
        mini.query("relationships").to_frame()
    assert isinstance(info.value, KGError)


def test_rdflib_dataset_has_the_same_quads_in_the_same_graphs(g):
    """The Dataset, written out by rdflib as N-Quads and read back by Oxigraph, is the store's
    set of quads exactly; the per-graph counts are recomputed by rdflib's own SPARQL engine."""
    import pyoxigraph as ox
    import rdflib

    ds = g.rdflib()
    assert isinstance(ds, rdflib.Dataset)
    back = list(ox.parse(ds.serialize(format="nquads").encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    assert len(back) == len(g.store)

    def ground(quads):  # blank nodes get new labels on the way: compare them as "_"
        from collections import Counter

        blank = (lambda t: "_" if isinstance(t, ox.BlankNode) else str(t))
        return Counter((blank(q.subject), str(q.predicate), blank(q.object), str(q.graph_name)) for q in quads)

    assert ground(back) == ground(g.store.store)
    per_graph = {str(r[0]): int(r[1]) for r in ds.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    expected = {gr: len(list(g.store.store.quads_for_pattern(None, None, None, ox.NamedNode(gr))))
                for gr in g.store.graphs()}
    assert per_graph == expected
    assert per_graph["https://w3id.org/ai-capital-kg/graph/article"] > 100


def test_networkx_is_the_dependency_view(g, kg_store):
    from kg.analysis.view import build_view

    view = g.networkx(layer="article")
    ref = build_view(kg_store, "article")
    assert sorted(view.edges(keys=True)) == sorted(ref.edges(keys=True))
    assert view.has_edge(KGR + "OpenAI", KGR + "Oracle")  # Oracle depends on OpenAI's payments


def test_exposure_wraps_rank_exposure(g, kg_store):
    from kg.analysis.exposure import rank_exposure

    e = g.exposure("OpenAI", layer="article")
    ref = rank_exposure(kg_store, KGR + "OpenAI", layer="article")  # the model's own defaults
    assert [r["id"] for r in e.rows] == [r.id for r in ref.rows]
    assert [r["h"] for r in e.rows] == [r.h for r in ref.rows]
    assert e.rows[0]["label"] == "OpenAI" and e.rows[0]["shocked"] is True
    assert e.R == ref.R and e.method == ref.method and len(e) == len(ref.rows)
    frame = e.to_frame()
    assert frame.index[0] == KGR + "OpenAI" and "chain" not in frame.columns
    assert frame.loc[KGR + "OpenAI", "h"] == pytest.approx(1.0)
    assert list(frame["h"]) == [r.h for r in ref.rows]
    assert e.bands is None  # no sampled runs asked for
    # any name of the actor works: its IRI too; options go through unchanged
    assert [r["id"] for r in g.exposure(KGR + "OpenAI", layer="article").rows] == [r.id for r in ref.rows]
    assert g.exposure("OpenAI", layer="article", method="direct").method == "direct"


def test_exposure_bands_of_sampled_runs(g, kg_store):
    """With samples, each row's bands are the model's own (same seed, same numbers), and the frame
    has one column per quantile."""
    from kg.analysis.exposure import rank_exposure

    e = g.exposure("OpenAI", layer="article", samples=16, seed=3)
    ref = rank_exposure(kg_store, KGR + "OpenAI", layer="article", samples=16, seed=3)
    assert e.bands == {r.id: r.bands for r in ref.rows if r.bands} and e.bands
    band = ref.rows[1].bands["h"]
    frame = e.to_frame()
    for q in ("p5", "p50", "p95"):
        assert frame.loc[ref.rows[1].id, f"h_{q}"] == band[q]


def test_exposure_of_an_unknown_actor_names_the_nearest(g):
    from kg.errors import UnknownEntityError

    with pytest.raises(UnknownEntityError, match="nearest"):
        g.exposure("OpenAl")


class _Frames(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_repr_html_is_one_sandboxed_iframe_holding_the_page(g):
    """Parsing the markup gives exactly one element, an iframe, whose srcdoc (unescaped by the
    parser) is the page itself, byte for byte."""
    from kg.viz import render_page

    markup = g._repr_html_()
    parser = _Frames()
    parser.feed(markup)
    assert [t for t, _ in parser.tags] == ["iframe"]
    attrs = parser.tags[0][1]
    assert attrs["srcdoc"] == render_page(g.store)
    assert attrs["sandbox"] == "allow-scripts"


def test_repr_html_escapes_injected_markup(evil_store):
    """Labels carrying "</iframe>", quotes and <script> stay inside the srcdoc attribute."""
    from kg.api import Graph

    markup = Graph(evil_store).page(focus="Evil", depth=1)._repr_html_()
    parser = _Frames()
    parser.feed(markup)
    assert [t for t, _ in parser.tags] == ["iframe"]
    assert "<script" not in markup and '"' not in markup[len('<iframe srcdoc="'):markup.index('" sandbox')]


def test_page_save_keeps_an_existing_file(g, tmp_path):
    from kg.errors import InputError

    page = g.page(focus="Oracle", depth=1)
    target = page.save(tmp_path / "p.html")
    assert target.read_text(encoding="utf-8") == page.html
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="exists"):
        page.save(target)
    assert target.read_text(encoding="utf-8") == "mine"
    page.save(target, force=True)
    assert target.read_text(encoding="utf-8") == page.html


def test_python_md_examples_run(monkeypatch):
    """docs/python.md's examples, run as doctests from the repository's root."""
    pytest.importorskip("pandas")
    monkeypatch.chdir(REPO)
    result = doctest.testfile(str(REPO / "docs" / "python.md"), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 25 and result.failed == 0


from test_viz import evil_store  # noqa: E402,F401  (a fixture)


def test_api_docstring_examples_run():
    import kg
    import kg.api

    for module in (kg.api, kg):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__


@pytest.mark.slow
def test_repr_html_shows_the_page_inline_in_a_browser(g, tmp_path, browser):
    """A notebook cell's output, as Jupyter inserts it: the iframe's page lays out and draws the
    focus view (as many actors as test_viz's independent count gives), with no error and no request."""
    from test_viz import _hops

    path = tmp_path / "cell.html"
    path.write_text("<!DOCTYPE html><meta charset=utf-8><div class=output>"
                    + g.page(focus="Oracle", depth=1)._repr_html_() + "</div>", encoding="utf-8")
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        page = context.new_page()
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        frame = page.frame_locator("iframe")
        frame.locator("body[data-stable=true]").wait_for(timeout=60_000)
        assert "neighbourhood of Oracle" in frame.locator("#subtitle").inner_text()
        actors = len(_hops(g.store, KGR + "Oracle", 1))
        assert frame.locator("#counts").inner_text().startswith(f"{actors} actors")
        assert errors == [] and [u for u in requests if not u.startswith(("file:", "data:", "about:"))] == []
    finally:
        context.close()


from test_viz_browser import browser  # noqa: E402,F401  (a fixture)
