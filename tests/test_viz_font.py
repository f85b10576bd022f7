"""The CJK font a page embeds: exactly the page's glyphs, covered by the shipped subset, and drawn
by Chromium on a machine that has no CJK font at all (a fontconfig that sees only DejaVu)."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import pytest

from test_viz import KGR

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "kg" / "static" / "viz" / "fonts"
_FACE = re.compile(r'<style id="kg-font">@font-face \{[^}]*url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)')


def _embedded(html: str):
    from fontTools.ttLib import TTFont

    m = _FACE.search(html)
    assert m, "no embedded font"
    return TTFont(io.BytesIO(base64.b64decode(m.group(1))))


def _page_text_chars(html: str) -> set[str]:
    """Every CJK character the page can show: its markup and its JSON data (whose escapes are
    only for <, >, &), not the code of its scripts (vis-network carries Chinese strings of an
    editing toolbar the page does not offer) nor the font itself."""
    from kg.viz.cjkfont import is_cjk

    text = re.sub(r'<style id="kg-font">.*?</style>', "", html, flags=re.S)
    text = re.sub(r"<script>.*?</script>", "", text, flags=re.S)
    assert '<script id="kg-data"' in text
    return {ch for ch in text if is_cjk(ch)}


def test_shipped_font_covers_every_cjk_character_of_the_bundled_data():
    """Read the characters from the source files themselves (not through the package), so a
    new character in the data fails here until scripts/build_cjk_font.py is run again."""
    from fontTools.ttLib import TTFont

    from kg.viz.cjkfont import is_cjk

    chars = set()
    for pattern in ("data/**/*.trig", "ontology/*.ttl", "kg/viz/*.py"):
        for path in ROOT.glob(pattern):
            chars |= {ch for ch in path.read_text(encoding="utf-8") if is_cjk(ch)}
    assert len(chars) > 500  # the article's vocabulary, the ontology's labels, the page's words
    cmap = TTFont(FONTS / "kg-cjk.woff2").getBestCmap()
    assert sorted(c for c in chars if ord(c) not in cmap) == []
    assert "輝" in chars and "甲" in chars  # 輝達 Nvidia, 甲骨文 Oracle


def test_shipped_font_is_small_renamed_and_licensed():
    from fontTools.ttLib import TTFont

    font = TTFont(FONTS / "kg-cjk.woff2")
    assert font.flavor == "woff2"
    assert (FONTS / "kg-cjk.woff2").stat().st_size < 1_200_000  # 980,452 bytes as built (docs/viz.md)
    assert font["name"].getDebugName(1) == "KG CJK"  # not "Noto Sans CJK TC": a modified version
    assert "Open Font License" in font["name"].getDebugName(13)
    licence = (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Adobe" in licence
    assert "5) The Font Software, modified or unmodified" in licence  # the whole text, not a pointer


@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
def test_page_embeds_exactly_the_glyphs_it_shows(kg_store, lang):
    """The embedded font's character map equals the set of CJK characters in the page's text
    (counted from the HTML with the font removed), in both languages (the English page shows
    the Chinese labels and excerpts in its hover boxes and details)."""
    from kg.viz import render_page

    html = render_page(kg_store, lang=lang)
    font = _embedded(html)
    mapped = {chr(c) for c in font.getBestCmap()}
    assert mapped == _page_text_chars(html)
    assert {"輝", "達", "甲", "骨", "文"} <= mapped
    assert "font-src data:;" in html and "font-src 'none'" not in html


def test_latin_graph_embeds_only_the_search_hint_glyphs():
    """An English page of a graph with no Chinese shows CJK only in its search hint, "Find an
    actor (English or 中文)…": the font holds those two glyphs; without any CJK text, no font."""
    import networkx as nx

    from kg.viz import cjkfont, page_from_graph

    g = nx.MultiDiGraph(claims={}, overlays={})
    g.add_node("urn:x:a", label="Alpha", label_en="Alpha", label_zh="Alpha", type="Company")
    assert {chr(c) for c in _embedded(page_from_graph(g)).getBestCmap()} == {"中", "文"}
    assert cjkfont.font_face_css("Alpha · Beta → US$10B") == ""


def test_characters_outside_the_shipped_font_come_from_an_installed_one(monkeypatch):
    """龘 (U+9F98) is not a Big5 level-1 character, so the shipped subset lacks it; with the
    installed Noto Sans CJK it is embedded, and without any installed font it is left out."""
    from fontTools.ttLib import TTFont

    from kg.viz import cjkfont

    assert 0x9F98 not in cjkfont.covered(cjkfont.SHIPPED_FONT)
    if not cjkfont.system_fonts():
        pytest.skip("no Noto Sans CJK font installed (apt-get install fonts-noto-cjk)")
    data = cjkfont.subset_font(frozenset("龘甲"))
    assert set(TTFont(io.BytesIO(data)).getBestCmap()) == {0x9F98, ord("甲")}
    monkeypatch.setattr(cjkfont, "system_fonts", lambda: ())
    cjkfont.subset_font.cache_clear()
    try:
        data = cjkfont.subset_font(frozenset("龘甲"))
        assert set(TTFont(io.BytesIO(data)).getBestCmap()) == {ord("甲")}
    finally:
        cjkfont.subset_font.cache_clear()


# -- in Chromium, with no CJK font on the machine ----------------------------------------------
@pytest.fixture(scope="module")
def latin_only_browser(tmp_path_factory):
    """Chromium whose fontconfig sees only DejaVu (Latin, Greek, Cyrillic: no CJK at all)."""
    from test_viz_browser import ARGS, CHROMIUM, _missing

    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip("needs DejaVu fonts (apt-get install fonts-dejavu-core)")
    folder = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{dejavu}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>
""", encoding="utf-8")
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "FONTCONFIG_PATH": str(folder)}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=env)
        yield b
        b.close()


#: Draws one character with the page's node font on a canvas and returns its pixels as a string,
#: so that two characters drawn alike (the same missing-glyph box) compare equal.
_GLYPH = """([ch, face]) => {
  const c = document.createElement('canvas'); c.width = 48; c.height = 48;
  const x = c.getContext('2d'); x.font = '40px ' + face; x.fillStyle = '#000'; x.textBaseline = 'top';
  x.fillText(ch, 2, 2);
  const d = x.getImageData(0, 0, 48, 48).data; let s = '', ink = 0;
  for (let i = 3; i < d.length; i += 4) { s += d[i] > 127 ? '1' : '0'; if (d[i] > 127) ink++; }
  return [s, ink, x.measureText(ch).width];
}"""


def _open(browser, path: Path):
    context = browser.new_context(viewport={"width": 1300, "height": 850}, bypass_csp=True)
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-stable=true]", timeout=60_000)
    return context, page


def test_chinese_labels_render_without_any_cjk_font(kg_store, latin_only_browser, tmp_path):
    """Without the embedded font, 輝 and 達 are drawn as the same missing-glyph box (identical
    pixels): the browser has no CJK font. With it (the zh-Hant page) they are two different
    glyphs with ink, the face is loaded, and vis-network measured the label 輝達 (Nvidia) at
    two full-width glyphs, 2 × 20 px at its 20 px label size (a CJK glyph advances 1 em)."""
    from kg.viz import render_page
    from kg.viz.style import FONT

    html = render_page(kg_store, lang="zh-Hant")
    with_font = tmp_path / "zh.html"
    with_font.write_text(html, encoding="utf-8")
    without = tmp_path / "zh-nofont.html"
    without.write_text(re.sub(r'<style id="kg-font">.*?</style>\n?', "", html, flags=re.S), encoding="utf-8")

    context, page = _open(latin_only_browser, without)
    try:
        a, b = (page.evaluate(_GLYPH, [ch, FONT]) for ch in "輝達")
        assert a[0] == b[0], "the test browser can see a CJK font: the check below would prove nothing"
        assert page.evaluate("document.fonts.check('20px \"KG CJK\"', '輝')") is True  # no such face: vacuous
    finally:
        context.close()

    context, page = _open(latin_only_browser, with_font)
    try:
        assert page.evaluate("[...document.fonts].some(f => f.family.replace(/\"/g, '') === 'KG CJK' "
                             "&& f.status === 'loaded')") is True
        a, b = (page.evaluate(_GLYPH, [ch, FONT]) for ch in "輝達")
        assert a[0] != b[0] and a[1] > 100 and b[1] > 100
        assert a[2] == pytest.approx(40, abs=0.5) and b[2] == pytest.approx(40, abs=0.5)
        width = page.evaluate("id => kgPage.network.body.nodes[id].labelModule.size.width", KGR + "Nvidia")
        assert page.evaluate("id => kgPage.network.body.nodes[id].options.label", KGR + "Nvidia") == "輝達"
        assert width == pytest.approx(40, abs=1)
    finally:
        context.close()


def test_subset_maps_exactly_the_characters_asked_for_that_the_font_has():
    """For any text mixing Latin, characters of the shipped font and ones it lacks, the subset
    maps exactly text's CJK characters ∩ the shipped font's (installed fonts left out)."""
    from fontTools.ttLib import TTFont
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kg.viz import cjkfont

    shipped = sorted(cjkfont.covered(cjkfont.SHIPPED_FONT))
    alphabet = st.one_of(st.sampled_from([chr(c) for c in shipped]), st.sampled_from("Oracle 123·→"),
                         st.sampled_from("龘𠀀𪚥"))  # not in Big5 level 1 nor the bundled data

    @settings(max_examples=4, deadline=None)
    @given(st.text(alphabet, min_size=1, max_size=40))
    def check(text):
        wanted = {ord(c) for c in text if cjkfont.is_cjk(c)} & set(shipped)
        data = cjkfont._subset(cjkfont.SHIPPED_FONT, 0, wanted) if wanted else b""
        assert (set(TTFont(io.BytesIO(data)).getBestCmap()) if data else set()) == wanted

    check()
