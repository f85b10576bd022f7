"""kg viz pages in a real browser (headless Chromium, no network): they load without errors, draw
the graph's every actor and relationship, filter, search, show details, and run no injected code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_viz import KGR, PAYLOAD, evil_store  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
#: No network at all: every host name resolves to nothing, so a page that needed one would fail.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Loaded:
    """A page opened from a file, with what it logged, threw and tried to fetch."""

    def __init__(self, browser, path: Path, bypass_csp: bool = True):
        # Playwright's own evaluate() is JavaScript eval, which the page's CSP forbids; the
        # functional tests bypass the CSP so that they test the page, not the policy.
        self.context = browser.new_context(viewport={"width": 1300, "height": 850}, bypass_csp=bypass_csp)
        self.page = self.context.new_page()
        self.console, self.errors, self.requests, self.dialogs = [], [], [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())

    def wait_stable(self):
        self.page.wait_for_selector("body[data-stable=true]", timeout=60_000)
        return self

    def counts(self):
        return self.page.evaluate("kgPage.counts()")

    def click_node(self, iri):
        box = self.page.locator("#graph").bounding_box()
        xy = self.page.evaluate("id => kgPage.network.canvasToDOM(kgPage.network.getPositions([id])[id])", iri)
        self.page.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])

    def close(self):
        self.context.close()


@pytest.fixture
def open_page(browser):
    opened = []

    def _open(path, **kw):
        page = Loaded(browser, path, **kw)
        opened.append(page)
        return page

    yield _open
    for p in opened:
        p.close()


def _write(tmp_path, name, html) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def _console_errors(page: Loaded) -> list:
    return [t for kind, t in page.console if kind in ("error", "warning")] + page.errors


@pytest.mark.parametrize("view", [{}, {"layer": "article"}, {"focus": "Nvidia", "depth": 1},
                                  {"exposure": "OpenAI"}, {"cycles": True}, {"lang": "zh-Hant"}])
def test_page_loads_offline_and_draws_the_whole_graph(kg_store, open_page, tmp_path, view):
    from kg.viz import build_graph, render_page

    path = _write(tmp_path, "page.html", render_page(kg_store, **view))
    page = open_page(path).wait_stable()
    g = build_graph(kg_store, **view)
    assert page.counts() == {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
    assert _console_errors(page) == []
    assert [u for u in page.requests if not u.startswith(("file:", "data:", "about:"))] == []
    assert page.page.evaluate("kgPage.network.physics.physicsEnabled") is False  # stopped once stable


def test_page_loads_with_its_security_policy_in_force(kg_store, open_page, tmp_path):
    from kg.viz import render_page

    path = _write(tmp_path, "page.html", render_page(kg_store))
    page = open_page(path, bypass_csp=False).wait_stable()
    assert _console_errors(page) == []  # no CSP violation: every script is allowed by its hash
    assert page.page.locator("#kind-list li").count() > 5


def test_empty_view_loads(open_page, tmp_path):
    import networkx as nx

    from kg.viz import page_from_graph

    page = open_page(_write(tmp_path, "empty.html", page_from_graph(nx.MultiDiGraph()))).wait_stable()
    assert page.counts() == {"nodes": 0, "edges": 0} and _console_errors(page) == []
    assert page.page.locator("#empty").is_visible()


@pytest.fixture(scope="module")
def bundled_page(kg_store, tmp_path_factory):
    from kg.viz import render_page

    return _write(tmp_path_factory.mktemp("page"), "page.html", render_page(kg_store))


def test_kind_filter_shows_only_that_kind(kg_store, open_page, bundled_page):
    from kg.viz import build_graph

    g = build_graph(kg_store)
    chips = [(u, v) for u, v, d in g.edges(data=True) if d["kind"] == "chip-supply"]
    page = open_page(bundled_page).wait_stable()
    page.page.click("button[data-none=kind]")
    assert page.counts() == {"nodes": 0, "edges": 0}
    page.page.check("input[data-kind=chip-supply]")
    assert page.counts() == {"nodes": len({n for e in chips for n in e}), "edges": len(chips)}
    page.page.click("button[data-all=kind]")
    assert page.counts() == {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}


def test_layer_filter_hides_the_other_layer(kg_store, open_page, bundled_page):
    from kg.viz import build_graph

    g = build_graph(kg_store)
    article = [(u, v) for u, v, d in g.edges(data=True) if d["layer"] == "article"]
    page = open_page(bundled_page).wait_stable()
    page.page.uncheck("input[data-layer=context]")
    assert page.counts() == {"nodes": len({n for e in article for n in e}), "edges": len(article)}


@pytest.mark.parametrize("query, label", [("輝達", "Nvidia"), ("oracle", "Oracle"), ("MSFT", "Microsoft"),
                                          ("台積電", "TSMC")])
def test_search_finds_an_actor_in_either_language(open_page, bundled_page, query, label):
    page = open_page(bundled_page).wait_stable()
    page.page.fill("#search", query)
    page.page.press("#search", "Enter")
    assert page.page.locator("#details-body h3").inner_text() == label
    assert page.page.evaluate("kgPage.network.getSelectedNodes()") == [KGR + label]


def test_search_says_when_nothing_matches(open_page, bundled_page):
    page = open_page(bundled_page).wait_stable()
    page.page.fill("#search", "Pets.com")
    page.page.press("#search", "Enter")
    assert "Pets.com" in page.page.locator("#search-status").inner_text()


def test_clicking_an_actor_opens_its_details(open_page, bundled_page):
    page = open_page(bundled_page).wait_stable()
    page.click_node(KGR + "Oracle")
    body = page.page.locator("#details-body")
    assert body.locator("h3").inner_text() == "Oracle"
    assert "甲骨文" in body.inner_text() and "OpenAI" in body.inner_text()
    assert body.locator(".claim").count() > 0
    body.locator("li.rel", has_text="OpenAI").first.click()  # a relationship of the list → its details
    assert "→" in body.locator("h3").inner_text()


@pytest.mark.parametrize("bypass_csp", [True, False], ids=["escaping-alone", "with-csp"])
def test_injected_markup_does_not_run(evil_store, open_page, tmp_path, bypass_csp):
    """The payloads sit in a label, a zh label, a comment with "href", a relationship title, an
    amount as worded and a claim. Hover, click and search must show them as text: no dialog, no
    element made from them. Without the CSP (escaping alone) and with it."""
    from kg.viz import render_page

    html = render_page(evil_store, focus="Evil", depth=1)
    page = open_page(_write(tmp_path, "evil.html", html), bypass_csp=bypass_csp)
    page.page.wait_for_selector("body[data-stable=true]", timeout=60_000)
    evil = KGR + "Evil"
    # hover (vis-network's tooltip), click (details panel), and search (status and panel)
    box = page.page.locator("#graph").bounding_box()
    if bypass_csp:
        xy = page.page.evaluate("id => kgPage.network.canvasToDOM(kgPage.network.getPositions([id])[id])", evil)
        page.page.mouse.move(box["x"] + xy["x"], box["y"] + xy["y"])
        page.page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5_000)
        tooltip = page.page.locator("div.vis-tooltip")
        # innerText turns line breaks into <br>; nothing else may become an element
        assert PAYLOAD in tooltip.inner_text() and tooltip.locator(":not(br)").count() == 0
        page.click_node(evil)
        assert page.page.locator("#details-body h3").inner_text() == PAYLOAD
    page.page.fill("#search", "<img")
    page.page.press("#search", "Enter")
    page.page.fill("#search", "<svg onload=alert(8)>")
    page.page.press("#search", "Enter")
    page.page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.page.locator("img, svg, b, a[href], iframe").count() == 0
    assert page.page.locator("script").count() == 3
    assert [u for u in page.requests if not u.startswith(("file:", "data:", "about:"))] == []


# -- layout: no overlapping labels, nothing clipped, a focus that focuses -----------------------
#: Every drawn actor's box (its shape and its label, vis-network's own getBoundingBox) in canvas
#: units and, through canvasToDOM, in CSS pixels of the graph's element.
_BOXES = """() => { const n = kgPage.network, out = [];
  for (const id of n.body.nodeIndices) {
    const b = n.getBoundingBox(id), lt = n.canvasToDOM({x: b.left, y: b.top}), rb = n.canvasToDOM({x: b.right, y: b.bottom});
    out.push({id, label: n.body.nodes[id].options.label, box: [b.left, b.top, b.right, b.bottom],
              dom: [lt.x, lt.y, rb.x, rb.y]}); }
  const g = document.getElementById('graph');
  return {boxes: out, width: g.clientWidth, height: g.clientHeight}; }"""


def _intersecting(boxes):
    def meet(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    return [(a["label"], b["label"]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if meet(a["box"], b["box"])]


@pytest.mark.parametrize("view", [{}, {"exposure": "OpenAI"}, {"lang": "zh-Hant"}, {"exposure": "OpenAI", "lang": "zh-Hant"},
                                  {"focus": "Oracle", "depth": 2}])
def test_no_label_overlaps_another_actor_or_label(kg_store, open_page, tmp_path, view):
    """After the layout settles, no two actors' boxes (shape and label together) intersect, so
    no label is drawn over another label or actor ("Capital partners…" over Microsoft)."""
    from kg.viz import render_page

    page = open_page(_write(tmp_path, "page.html", render_page(kg_store, **view))).wait_stable()
    found = page.page.evaluate(_BOXES)
    assert len(found["boxes"]) == page.counts()["nodes"] > 1
    assert _intersecting(found["boxes"]) == []


@pytest.mark.parametrize("viewport", [(1300, 850), (900, 640)])
@pytest.mark.parametrize("view", [{"focus": "Oracle", "depth": 2}, {}])
def test_no_label_is_clipped_at_the_edge(kg_store, browser, tmp_path, view, viewport):
    """Every actor's box, label included, lies inside the graph's element with a margin."""
    from kg.viz import render_page

    path = _write(tmp_path, "page.html", render_page(kg_store, **view))
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-stable=true]", timeout=60_000)
        found = page.evaluate(_BOXES)
        outside = [b["label"] for b in found["boxes"] if b["dom"][0] < 8 or b["dom"][1] < 8
                   or b["dom"][2] > found["width"] - 8 or b["dom"][3] > found["height"] - 8]
        assert outside == []
    finally:
        context.close()


@pytest.mark.parametrize("depth", [1, 2])
def test_focus_page_draws_the_actors_within_depth(kg_store, open_page, tmp_path, depth):
    """The actors of test_viz.test_focus_depth_counts_relationships_not_memberships (SPARQL over
    the relationships' roles, then networkx), as drawn by the browser."""
    from test_viz import _hops

    from kg.viz import render_page

    expected = _hops(kg_store, KGR + "Oracle", depth)
    page = open_page(_write(tmp_path, "focus.html", render_page(kg_store, focus="Oracle", depth=depth))).wait_stable()
    assert page.counts()["nodes"] == len(expected)
    assert set(page.page.evaluate("kgPage.network.body.nodeIndices")) == expected


def test_width_legend_is_drawn_with_the_edge_widths(open_page, bundled_page):
    page = open_page(bundled_page).wait_stable()
    items = page.page.locator("#width-list li")
    assert items.count() == 5
    assert items.nth(2).inner_text() == "US$10B"
    # drawn as wide as the edges at the current zoom: edge_width's 1, 4, 5.5, 7 and 8.5 times the scale
    scale = page.page.evaluate("kgPage.network.getScale()")
    heights = page.page.evaluate("[...document.querySelectorAll('#width-list .line')]"
                                 ".map(e => e.getBoundingClientRect().height)")
    assert heights == pytest.approx([max(0.5, w * scale) for w in (1, 4, 5.5, 7, 8.5)], abs=0.05)
    assert 0.2 < scale < 1.6
