"""Rebuild kg/static/viz/fonts/kg-cjk.woff2, the CJK subset the package ships for its pages.

It holds the 5,401 common Traditional Chinese characters of Big5 level 1 (0xA440-0xC67E) and
every CJK character of the bundled data, the ontology and the page's code, taken from the
Traditional Chinese face of Noto Sans CJK (Debian: ``apt-get install fonts-noto-cjk``)::

    python scripts/build_cjk_font.py [--font /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

Run it again when the bundled data gains characters (tests/test_viz_font.py says which).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.viz.cjkfont import SHIPPED_FONT, _subset, _tc_face, cjk_chars, covered, system_fonts  # noqa: E402

#: Maximum distance (font units) between a cubic outline and its quadratic approximation.
CU2QU_ERROR = 1.0

#: Files whose CJK characters the shipped font must cover.
SOURCES = ("data/**/*.trig", "data/**/*.csv", "ontology/**/*.ttl", "kg/viz/*.py", "kg/templates/*.html",
           "kg/static/viz/*.js")


def bundled_chars() -> frozenset[str]:
    """Every CJK character of the bundled data, ontology and page code."""
    texts = [p.read_text(encoding="utf-8") for pattern in SOURCES for p in sorted(ROOT.glob(pattern))]
    return cjk_chars(*texts)


def big5_level1() -> frozenset[str]:
    """The characters of Big5 level 1 (frequently used hanzi, 0xA440-0xC67E)."""
    out = set()
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            code = lead << 8 | trail
            if 0xA440 <= code <= 0xC67E:
                try:
                    out.add(bytes((lead, trail)).decode("big5"))
                except UnicodeDecodeError:
                    pass
    return frozenset(out)


def to_truetype(woff2: bytes) -> bytes:
    """The font with its CFF outlines turned into TrueType (quadratic) ones, as WOFF2.

    Subsetting a TrueType font at page-build time only copies glyph records, where a CFF font's
    charstrings must be run through an interpreter: about 10 times faster for a page's subset.
    """
    import io

    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(io.BytesIO(woff2))
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        # CFF contours run counter-clockwise, TrueType ones clockwise
        glyphs[name].draw(Cu2QuPen(pen, CU2QU_ERROR, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion, maxp.numGlyphs = 0x00010000, len(order)
    for attr in ("maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours", "maxTwilightPoints",
                 "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                 "maxComponentElements", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp  # its point and contour counts are recomputed on save
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    font["head"].glyphDataFormat = 0
    for tag in ("CFF ", "VORG"):  # VORG (vertical origins) belongs to CFF fonts
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"
    font.flavor = "woff2"
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, help="Noto Sans CJK font file (default: the installed one)")
    parser.add_argument("-o", "--output", type=Path, default=SHIPPED_FONT)
    parser.add_argument("--no-big5", action="store_true",
                        help="only the bundled data's characters (to measure the alternative; not shipped)")
    args = parser.parse_args()
    if args.font:
        index = _tc_face(args.font)
        if index is None:
            sys.exit(f"{args.font}: not an OFL-licensed font")
        source = (args.font, index)
    else:
        fonts = system_fonts()
        if not fonts:
            sys.exit("no Noto Sans CJK font installed (apt-get install fonts-noto-cjk) and no --font")
        source = fonts[0]
    wanted = {ord(c) for c in bundled_chars() | (frozenset() if args.no_big5 else big5_level1())}
    have = covered(*source)
    missing = sorted(wanted - have)
    if missing:
        print(f"warning: {len(missing)} characters not in {source[0]}: {''.join(map(chr, missing[:20]))}",
              file=sys.stderr)
    data = to_truetype(_subset(*source, wanted & have))
    tmp = args.output.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.output)
    print(f"wrote {args.output} ({len(data):,} bytes, {len(wanted & have)} characters from {source[0]} face {source[1]})")


if __name__ == "__main__":
    main()
