"""The CJK font a page embeds: a subset with exactly the Chinese glyphs the page uses.

A page is read on machines without any CJK font (Chinese then shows as boxes), so it carries
its own glyphs, as a WOFF2 ``@font-face`` in a ``data:`` URL. The package ships
``kg/static/viz/fonts/kg-cjk.woff2``, a subset of Noto Sans CJK TC (SIL OFL 1.1, licence
beside it; TrueType outlines, which subset fast) covering the 5,401 common characters of Big5 level 1 and every CJK character of the
bundled graph and the page's own words; each page embeds a subset of that with only the
characters it shows. Characters the shipped font lacks are taken from a Noto Sans CJK (or
Source Han Sans) font installed on the machine, or from the file named by ``KG_CJK_FONT``,
when there is one; otherwise the viewer's own fonts draw them.
"""

from __future__ import annotations

import base64
import io
import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

__all__ = ["FAMILY", "SHIPPED_FONT", "UNICODE_RANGE", "cjk_chars", "font_face_css", "subset_font", "system_fonts",
           "covered"]

#: The family name pages use for the embedded subset (a subset is a modified version of the
#: font, which the OFL asks not to carry the original's name).
FAMILY = "KG CJK"
SHIPPED_FONT = Path(__file__).resolve().parent.parent / "static" / "viz" / "fonts" / "kg-cjk.woff2"
#: Code point ranges taken as CJK: radicals, CJK punctuation, kana, bopomofo, CJK unified
#: ideographs (with extension A), compatibility ideographs and forms, full-width forms, and
#: the supplementary ideographic plane.
_RANGES = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x20000, 0x2FA1F))
UNICODE_RANGE = ",".join(f"U+{a:X}-{b:X}" for a, b in _RANGES)
#: Where Linux distributions and Homebrew install Noto Sans CJK / Source Han Sans.
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
              "/opt/homebrew/share/fonts", "~/Library/Fonts", "/Library/Fonts")
_FONT_NAMES = ("NotoSansCJK*-Regular.tt[cf]", "NotoSansCJK*-Regular.otf", "NotoSansTC-Regular.otf",
               "SourceHanSans*-Regular.tt[cf]", "SourceHanSans*-Regular.otf")


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return any(a <= o <= b for a, b in _RANGES)


def cjk_chars(*texts: str) -> frozenset[str]:
    """The distinct CJK characters of ``texts``.

    Examples
    --------
    >>> sorted(cjk_chars("甲骨文 Oracle", "「輝達」"))
    ['「', '」', '文', '甲', '輝', '達', '骨']
    """
    distinct = set().union(*map(set, texts))  # set() runs in C: pages are megabytes long
    return frozenset(ch for ch in distinct if is_cjk(ch))


def font_face_css(text: str) -> str:
    """The ``@font-face`` rule embedding the glyphs of the CJK characters in ``text`` (none: "").

    The rule's ``unicode-range`` limits the face to CJK code points, so Latin text keeps the
    system font.
    """
    chars = cjk_chars(text)
    if not chars:
        return ""
    data = subset_font(chars)
    if not data:
        return ""
    b64 = base64.b64encode(data).decode("ascii")
    return (f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: 400; font-display: block; '
            f'src: url(data:font/woff2;base64,{b64}) format("woff2"); unicode-range: {UNICODE_RANGE}; }}')


@lru_cache(maxsize=32)
def subset_font(chars: frozenset[str]) -> bytes:
    """WOFF2 bytes of a font with exactly the glyphs of ``chars`` that the fonts at hand have
    (the shipped subset first, then an installed Noto Sans CJK font for the rest); b"" if none."""
    wanted = {ord(c) for c in chars}
    best, best_have = (SHIPPED_FONT, 0), wanted & covered(SHIPPED_FONT)
    if best_have != wanted:
        for path, index in system_fonts():
            have = wanted & covered(path, index)
            if len(have) > len(best_have):
                best, best_have = (path, index), have
    return _subset(*best, best_have) if best_have else b""


@lru_cache(maxsize=8)
def covered(path: Path, index: int = 0) -> frozenset[int]:
    """The code points a font file maps to glyphs."""
    font = _open(path, index)
    return frozenset(font.getBestCmap())


@lru_cache(maxsize=1)
def system_fonts() -> tuple[tuple[Path, int], ...]:
    """Installed OFL-licensed Noto Sans CJK / Source Han Sans fonts, as (file, face index) with the
    Traditional Chinese face; ``KG_CJK_FONT`` (a path) comes first."""
    import glob

    found: list[Path] = []
    if os.environ.get("KG_CJK_FONT"):
        found.append(Path(os.environ["KG_CJK_FONT"]).expanduser())
    for folder in _FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir():
            for pattern in _FONT_NAMES:
                found.extend(Path(p) for p in sorted(glob.glob(str(root / "**" / pattern), recursive=True)))
    out, seen = [], set()
    for path in found:
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        index = _tc_face(path)
        if index is not None:
            out.append((path, index))
    return tuple(out)


def _tc_face(path: Path) -> int | None:
    """The index of the face to use in ``path`` (Traditional Chinese where the file is a
    collection), or None when it cannot be read or is not under the SIL Open Font License."""
    from fontTools.ttLib import TTCollection, TTLibError

    try:
        if path.suffix.lower() == ".ttc":
            faces = TTCollection(str(path), lazy=True).fonts
        else:
            faces = [_open(path, 0)]
    except (OSError, TTLibError):
        return None
    names = [(f["name"].getDebugName(1) or "", f["name"].getDebugName(13) or "") for f in faces]
    ofl = [i for i, (_, licence) in enumerate(names) if "Open Font License" in licence]
    for i in ofl:
        family = names[i][0]
        if ("TC" in family.split() or family.endswith(" TC")) and "Mono" not in family:
            return i
    return ofl[0] if ofl else None


def _open(path: Path, index: int):
    from fontTools.ttLib import TTFont

    return TTFont(str(path), fontNumber=index, lazy=True)


def _subset(path: Path, index: int, unicodes) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    # the bounding boxes of the original are kept (recomputing them draws every glyph)
    font = TTFont(str(path), fontNumber=index, lazy=True, recalcBBoxes=False)
    options = subset.Options()
    options.flavor = "woff2"
    # exactly the glyphs asked for: no OpenType-feature alternates (vertical forms, other
    # languages' local forms: pages set CJK horizontally) and no mirrored pairs (《 does not bring
    # 》: the pages' text runs left to right)
    options.layout_features = []
    options.bidi_closure = False
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(unicodes))
    subsetter.subset(font)
    _rename(font)
    font.flavor = "woff2"
    buf = io.BytesIO()
    with _LOCK, _brotli_quality(BROTLI_QUALITY):
        font.save(buf)
    return buf.getvalue()


#: Brotli quality of a page's font: 9 makes a page's subset 5 to 10 times faster than fontTools'
#: default 11, for a file 3 % larger (benchmarks/bench_viz_font.py, docs/viz.md).
BROTLI_QUALITY = 9
_LOCK = threading.Lock()


@contextmanager
def _brotli_quality(quality: int):
    """fontTools' WOFF2 writer calls ``brotli.compress`` without a quality (so 11, the slowest):
    lend it, while it writes, a brotli whose ``compress`` uses ``quality``."""
    from fontTools.ttLib import woff2

    real = woff2.brotli

    class _Brotli:
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def compress(data, **kw):
            return real.compress(data, **{"quality": quality, **kw})

    woff2.brotli = _Brotli()
    try:
        yield
    finally:
        woff2.brotli = real


def _rename(font) -> None:
    """Give the subset its own family name (the OFL's rule for modified versions)."""
    name = font["name"]
    for record in list(name.names):
        if record.nameID in (1, 3, 4, 6, 16, 17):
            name.removeNames(nameID=record.nameID)
    for nid, value in ((1, FAMILY), (4, FAMILY), (6, FAMILY.replace(" ", "") + "-Regular"),
                       (3, f"{FAMILY} subset (ai-capital-kg)")):
        name.setName(value, nid, 3, 1, 0x409)
        name.setName(value, nid, 1, 0, 0)
