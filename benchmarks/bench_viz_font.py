"""The CJK font of kg viz pages: sizes and build times of the subsets pages embed.

    python benchmarks/bench_viz_font.py

For the bundled graph's pages (English, Chinese, a focus view): the characters and bytes of the
embedded WOFF2, and the time to make it from the shipped font (cold, no cache), with brotli
quality 9 (what pages use) and 11 (fontTools' default).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    from kg.store import load_store
    from kg.viz import cjkfont, render_page

    kg = load_store()
    print(f"shipped font: {cjkfont.SHIPPED_FONT.stat().st_size:,} bytes, "
          f"{len(cjkfont.covered(cjkfont.SHIPPED_FONT)):,} characters; load average {os.getloadavg()[0]:.1f}")
    print(f"{'view':<22} {'chars':>6} {'q9 bytes':>9} {'q9 s':>6} {'q11 bytes':>10} {'q11 s':>6}")
    for name, view in (("bundled, en", {}), ("bundled, zh-Hant", {"lang": "zh-Hant"}),
                       ("focus Oracle, zh-Hant", {"focus": "Oracle", "lang": "zh-Hant"})):
        html = render_page(kg, **view)
        font = base64.b64decode(re.search(r"font/woff2;base64,([A-Za-z0-9+/=]+)", html).group(1))
        wanted = set(TTFont(io.BytesIO(font)).getBestCmap())  # the characters the page embeds
        row = [name, len(wanted)]
        for quality in (9, 11):
            cjkfont.BROTLI_QUALITY = quality
            t = time.perf_counter()
            data = cjkfont._subset(cjkfont.SHIPPED_FONT, 0, wanted)
            row += [len(data), time.perf_counter() - t]
        cjkfont.BROTLI_QUALITY = 9
        print(f"{row[0]:<22} {row[1]:>6} {row[2]:>9,} {row[3]:>6.2f} {row[4]:>10,} {row[5]:>6.2f}")


if __name__ == "__main__":
    main()
