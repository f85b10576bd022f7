"""Generating and rendering kg viz pages: the bundled graph and synthetic industries of 500 and 2,000 actors.

Run:  python benchmarks/bench_viz.py [--runs 3] [--sizes 500 2000] [--screenshots docs/img]

For each graph, prints (medians of --runs):
  build    building the view (named SPARQL queries → networkx MultiDiGraph), s
  render   the self-contained HTML page (pyvis network + inlined vis-network), s
  page     its size, MB
  parsed   headless Chromium (no network): navigation → DOMContentLoaded, s
  stable   navigation → layout stabilised and physics stopped (the page is interactive), s
  filter   unchecking one relationship kind until the next frame is drawn, s
Target (issue 4): the 2,000-actor page is interactive within 10 s on a 2-core machine.

Synthetic graphs come from kg.synthetic.generate (seeded, scale-free, ~10 relationships per
company). Chromium is Debian's /usr/bin/chromium driven by Playwright (pip install playwright).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND"]
TARGET_S = 10.0
VIEWPORT = {"width": 1400, "height": 900}


def synthetic_store(n: int, seed: int = 1):
    from kg.store import load_store
    from kg.synthetic import generate

    kg = load_store(bundled=False)
    kg.store.extend(generate(n, seed=seed))
    kg.derive()
    return kg


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def in_browser(browser, path: Path, kind: str | None) -> dict:
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)  # evaluate() is eval: CSP forbids it
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-stable=true]", timeout=120_000)
    timing = page.evaluate("""() => ({
        parsed: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
        stable: window.kgStableAt, counts: kgPage.counts() })""")
    filt = page.evaluate("""async kind => {
        const t = performance.now();
        kgPage.setKind(kind, false);
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t; }""", kind) if kind else None
    context.close()
    if errors:
        raise RuntimeError(f"{path}: {errors}")
    return {"parsed": timing["parsed"] / 1000, "stable": timing["stable"] / 1000, "counts": timing["counts"],
            "filter": None if filt is None else filt / 1000}


def bench(name: str, kg, browser, runs: int, workdir: Path) -> dict:
    from kg.viz import build_graph, page_from_graph

    builds, renders, loads = [], [], []
    for _ in range(runs):
        graph, t_build = timed(lambda: build_graph(kg))
        html, t_render = timed(lambda: page_from_graph(graph))
        builds.append(t_build)
        renders.append(t_render)
        path = workdir / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        kinds = sorted({d["kind"] for *_, d in graph.edges(data=True)})
        loads.append(in_browser(browser, path, "compute-contract" if "compute-contract" in kinds else None))
        assert loads[-1]["counts"] == {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
    med = statistics.median
    filters = [x["filter"] for x in loads if x["filter"] is not None]
    return {"graph": name, "actors": graph.number_of_nodes(), "relationships": graph.number_of_edges(),
            "build": med(builds), "render": med(renders), "page_mb": len(html.encode("utf-8")) / 1e6,
            "parsed": med(x["parsed"] for x in loads), "stable": med(x["stable"] for x in loads),
            "filter": med(filters) if filters else None}


def screenshots(kg, browser, folder: Path, workdir: Path) -> list[Path]:
    """The bundled graph and the exposure view of OpenAI, as PNGs for docs/ and the README."""
    from kg.viz import render_page

    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    for name, view in (("viz-bundled", {}), ("viz-exposure-openai", {"exposure": "OpenAI"}),
                       ("viz-bundled-zh", {"lang": "zh-Hant"})):
        path = workdir / f"{name}.html"
        path.write_text(render_page(kg, **view), encoding="utf-8")
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, bypass_csp=True)
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-stable=true]", timeout=60_000)
        if view.get("exposure"):
            page.fill("#search", "Oracle")
            page.press("#search", "Enter")
            page.evaluate("kgPage.network.unselectAll(); kgPage.network.fit()")
        out = folder / f"{name}.png"
        page.screenshot(path=str(out))
        context.close()
        shots.append(out)
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 2000])
    parser.add_argument("--screenshots", type=Path, help="also save screenshots into this folder")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from kg.store import load_store

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        bundled = load_store()
        rows.append(bench("bundled", bundled, browser, args.runs, Path(tmp)))
        for n in args.sizes:
            kg, t_gen = timed(lambda: synthetic_store(n))
            print(f"(synthetic {n}: generated and loaded in {t_gen:.2f} s)", file=sys.stderr)
            rows.append(bench(f"synthetic-{n}", kg, browser, args.runs, Path(tmp)))
        if args.screenshots:
            for shot in screenshots(bundled, browser, args.screenshots, Path(tmp)):
                print(f"wrote {shot}", file=sys.stderr)
        browser.close()

    print(f"{'graph':15} {'actors':>7} {'rels':>7} {'build s':>8} {'render s':>9} {'page MB':>8} "
          f"{'parsed s':>9} {'stable s':>9} {'filter s':>9}")
    for r in rows:
        filt = f"{r['filter']:9.2f}" if r["filter"] is not None else f"{'-':>9}"
        print(f"{r['graph']:15} {r['actors']:7d} {r['relationships']:7d} {r['build']:8.2f} {r['render']:9.2f} "
              f"{r['page_mb']:8.2f} {r['parsed']:9.2f} {r['stable']:9.2f} {filt}")
    big = [r for r in rows if r["actors"] >= 2000]
    for r in big:
        total = r["build"] + r["render"] + r["stable"]
        verdict = "met" if r["stable"] <= TARGET_S else "MISSED"
        print(f"target: {r['graph']} interactive within {TARGET_S:.0f} s in the browser: {verdict} "
              f"({r['stable']:.2f} s; {total:.2f} s including build and render)")


if __name__ == "__main__":
    main()
