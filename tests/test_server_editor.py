"""The query page of ``kg serve`` in a real browser (headless Chromium, no network, the server's
own CSP in force): the editor runs a query and shows labels, loads examples (clearing old
results), completes the ontology's classes, draws CONSTRUCT results, never links javascript:."""

from __future__ import annotations

import re

import pytest

from kg.server import ServerConfig, running_server

expect = pytest.importorskip("playwright.sync_api").expect
from test_viz_browser import ARGS, CHROMIUM, _missing

pytestmark = pytest.mark.slow
KGR = "https://w3id.org/ai-capital-kg/resource/"


@pytest.fixture(scope="module")
def browser():
    """Chromium with every host name but this machine's loopback address unresolvable."""
    import os

    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    args = [a if not a.startswith("--host-resolver-rules") else a + ", EXCLUDE 127.0.0.1" for a in ARGS]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(kg_store):
    with running_server(kg_store, ServerConfig(port=0, workers=2, timeout=30, quiet=True)) as url:
        yield url


class Session:
    """The query page with what it logged, threw and requested; the CSP is not bypassed."""

    def __init__(self, browser, url: str, path: str = "/", ready: str = "body[data-ready=true]"):
        self.url = url
        self.context = browser.new_context(viewport={"width": 1300, "height": 900})
        self.page = self.context.new_page()
        self.console, self.errors, self.requests, self.dialogs = [], [], [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url + path)
        self.page.wait_for_selector(ready)

    def type_query(self, text: str) -> None:
        self.page.click(".cm-content")
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)  # as pasted: no auto-closed brackets

    def editor_text(self) -> str:
        lines = self.page.locator(".cm-line").all_inner_texts()
        return "\n".join(lines)

    def run(self) -> None:
        self.page.click("#run")
        # (Playwright's wait_for_function evaluates a string, which the page's CSP forbids: locators only)
        self.page.wait_for_selector("#status:has-text(' ms,'), #status.error")

    def check_clean(self) -> None:
        """Nothing fetched from anywhere but this server; no CSP violation, error or dialog."""
        outside = [r for r in self.requests if not r.startswith(self.url + "/")]
        assert not outside, outside
        assert all(r.startswith("http://127.0.0.1:") for r in self.requests)
        csp = [t for _, t in self.console if "Content Security Policy" in t or "Refused to" in t]
        assert not csp, csp
        assert not self.errors and not self.dialogs, (self.errors, self.dialogs)
        bad = [t for kind, t in self.console if kind == "error" and "favicon" not in t and "404" not in t]
        assert not bad, bad
        self.context.close()


@pytest.fixture
def session(browser, server):
    s = Session(browser, server)
    yield s
    s.check_clean()


def test_a_query_shows_rows_with_labels_and_needs_no_prefix_lines(session, kg_store):
    """kg: is used but not declared (the server predeclares it; the text sent is the text typed).
    The companies are the store's (run here in process); Oracle's row shows its labels,
    "Oracle"@en and "甲骨文"@zh-Hant (data/entities.trig)."""
    session.type_query("SELECT ?company WHERE { ?company a kg:Company } ORDER BY ?company")
    session.run()
    page = session.page
    expected = kg_store.select("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> "
                               "SELECT ?company WHERE { ?company a kg:Company } ORDER BY ?company")
    assert page.locator("#results tr").count() == len(expected) + 1
    assert session.editor_text().startswith("SELECT ?company")
    oracle = page.locator("#results a[href='/resource/Oracle']")
    assert oracle.inner_text() == "kgr:Oracle"
    expect(page.locator(f"#results [data-label-for='{KGR}Oracle']")).to_have_text("Oracle · 甲骨文")
    assert page.locator(".cm-content .ͼb, .cm-content [class*='ͼ']").count() > 0  # highlighted tokens


def test_an_example_loads_and_clears_the_old_results(session):
    session.type_query("SELECT ?s WHERE { ?s a kg:Company }")
    session.run()
    page = session.page
    assert page.locator("#results tr").count() > 1
    page.click("button[data-example='entity']")
    expect(page.locator(".cm-content")).to_contain_text("One entity")
    from kg.queries import list_queries

    assert session.editor_text().strip() == list_queries()["entity"].text.strip()
    assert page.locator("#results").inner_html() == "" and page.locator("#status").inner_text() == ""
    assert page.locator("#params input[data-param='id']").count() == 1
    page.fill("#params input[data-param='id']", "Oracle")
    session.run()
    assert page.locator("#results tr").count() == 2 and "甲骨文" in page.locator("#results").inner_text()


def test_completion_offers_the_ontologys_classes(session):
    session.type_query("SELECT * WHERE { ?x a kg:Compa")
    session.page.keyboard.press("Control+Space")
    options = session.page.locator(".cm-tooltip-autocomplete li")
    options.first.wait_for()
    texts = options.all_inner_texts()
    assert any(t.startswith("kg:Company") and "公司" in t for t in texts), texts
    session.page.wait_for_timeout(200)  # CodeMirror takes no Enter in the first 75 ms (interactionDelay)
    session.page.keyboard.press("Enter")
    text = session.editor_text()  # the term, and the declaration of its prefix
    assert "?x a kg:Company" in text and text.startswith("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>\n")


def test_a_construct_is_drawn_as_a_graph(session, kg_store):
    """The compute contracts' customers and suppliers: the graph has one node per distinct subject
    and object of the CONSTRUCT (counted here on the in-process store) and labels its actors."""
    text = ("CONSTRUCT { ?rel kg:customer ?c ; kg:supplier ?s } "
            "WHERE { ?rel a kg:Relationship ; kg:kind kg:ComputeContract ; kg:customer ?c ; kg:supplier ?s }")
    session.type_query(text)
    session.run()
    triples = kg_store.construct("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#> " + text)
    nodes = {t.subject.value for t in triples} | {t.object.value for t in triples}
    page = session.page
    assert page.locator("#graph svg g.node").count() == len(nodes) > 3
    assert page.locator("#graph svg g.edge").count() == len(triples)
    expect(page.locator("#graph svg text").filter(has_text=re.compile("^Oracle$"))).to_have_count(1)
    assert page.locator("#results tr").count() == len(triples) + 1


EVIL = """@prefix kg: <https://w3id.org/ai-capital-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<javascript:alert(1)> a kg:Company ; rdfs:label "<img src=x onerror=alert(2)>"@en ;
    rdfs:seeAlso <data:text/html,<script>alert(3)</script>> .
"""


def test_javascript_iris_are_never_links(browser, tmp_path):
    from kg.store import load_store

    path = tmp_path / "evil.ttl"
    path.write_text(EVIL.replace("<data:text/html,<script>alert(3)</script>>", "<data:text/html,alert(3)>"),
                    encoding="utf-8")
    with running_server(load_store([path], validate=False), ServerConfig(port=0, workers=1, quiet=True)) as url:
        s = Session(browser, url)
        s.type_query("SELECT ?s ?o ?l WHERE { ?s rdfs:seeAlso ?o ; rdfs:label ?l }")
        s.run()
        page = s.page
        assert page.locator("#results tr").count() == 2
        links = page.locator("#results a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert not [h for h in hrefs if not re.match(r"(/|https?://)", h or "")], hrefs
        assert "javascript:alert(1)" in page.locator("#results").inner_text()  # shown as text
        assert page.locator("#results img").count() == 0
        page.locator("#results td").first.click()
        s.check_clean()


def test_an_entity_page_loads_only_from_the_server_under_its_policy(browser, server):
    """/resource/Oracle in the browser: its stylesheet applies (under style-src 'self'), nothing else
    is requested, no CSP violation, and a link from a result leads to it."""
    s = Session(browser, server, "/resource/Oracle", ready="#relationships table")
    page = s.page
    assert page.locator("h1").inner_text().startswith("Oracle") and "甲骨文" in page.locator("h1").inner_text()
    assert page.locator("table").first.evaluate("t => getComputedStyle(t).borderCollapse") == "collapse"
    assert sorted(set(s.requests)) == [server + "/resource/Oracle", server + "/static/entity.css"]
    s.check_clean()
