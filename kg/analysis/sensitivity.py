"""Which assumptions move the top-10 ranking, and by how much (docs/analysis.md's sensitivity table).

Each assumption of data/model/model.trig with a range is set, alone, to the low and then the
high end of its range (everything else at its value), and the point run is compared with the
base point run: how many of the base top 10 (the shocked actor excluded) leave it, the largest
change of h and whose, and the largest change of a USD loss and whose.

    python -m kg.analysis.sensitivity [--shock OpenAI] [--format markdown|json]
    python -m kg.analysis.sensitivity --stability [--samples 2000]   # band drift between seeds 1–5
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

__all__ = ["sensitivity", "stability", "main"]

_FIXED = {  # assumptions without a sampled range, varied over the documented alternatives
    "about-spread": (0.0, 0.2),
    "reported-spread": (0.0, 0.5),
    "up-to-lower-bound": (0.0, 1.0),
    "at-least-upper": (1.0, 2.0),
}


def _variants(model):
    """(label, low model, high model) for every assumption with a range."""
    out = []
    for name in sorted(model.params):
        rng = model.ranges.get(("param", name)) or _FIXED.get(name)
        if not rng or rng[0] == rng[1]:
            continue
        lo, hi = rng
        out.append((f"`{name}`", (lo, hi), replace(model, params={**model.params, name: lo}),
                    replace(model, params={**model.params, name: hi})))
    for (kind, *key), rng in sorted(model.ranges.items(), key=lambda x: str(x[0])):
        if kind == "weight":
            channel, k = key
            lo, hi = rng
            w = dict(model.weights)
            out.append((f"{channel} weight", rng, replace(model, weights={**w, channel: lo}),
                        replace(model, weights={**w, channel: hi})))
        elif kind == "status":
            (status,) = key
            lo, hi = rng
            f = dict(model.status_factor)
            out.append((f"P({status})", rng, replace(model, status_factor={**f, status: lo}),
                        replace(model, status_factor={**f, status: hi})))
    return out


def _top(res, k=10):
    return [r.id for r in res.rows if not r.shocked][:k]


def sensitivity(kg, shock: str, layer: str = "all") -> list[dict]:
    """One row per assumption: its range, and for its low and high end the number of the base
    top 10 that leave it, the largest |Δh| (and whose) and the largest |Δ loss| in USD (and whose)."""
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    model = load_model(kg)
    view = build_view(kg, layer, model=model)
    base = rank_exposure(kg, shock, model=model, view=view, layer=layer)
    top = _top(base)
    hb = dict(base.h)
    lb = {r.id: r.loss_usd for r in base.rows}
    label = {r.id: r.label for r in base.rows}
    rows = []
    for name, rng, lo_m, hi_m in _variants(model):
        entry = {"assumption": name, "range": [rng[0], rng[1]]}
        for side, m in (("low", lo_m), ("high", hi_m)):
            res = rank_exposure(kg, shock, model=m, view=view, layer=layer)
            label.update({r.id: r.label for r in res.rows})
            t = _top(res)
            dh = {a: res.h.get(a, 0.0) - hb.get(a, 0.0) for a in set(hb) | set(res.h)}
            who = max(dh, key=lambda a: (abs(dh[a]), a)) if dh else None
            ls = {r.id: r.loss_usd for r in res.rows}
            dl = {a: (ls.get(a) or 0.0) - (lb.get(a) or 0.0) for a in set(ls) | set(lb)
                  if ls.get(a) is not None or lb.get(a) is not None}
            whol = max(dl, key=lambda a: (abs(dl[a]), a)) if dl else None
            entry[side] = {"left_top10": len(set(top) - set(t)), "top10": [label.get(a, a) for a in t],
                           "max_dh": dh.get(who, 0.0) if who else 0.0, "max_dh_actor": label.get(who, who),
                           "max_dloss_usd": dl.get(whol, 0.0) if whol else 0.0, "max_dloss_actor": label.get(whol, whol)}
        rows.append(entry)
    return rows


def stability(kg, shock: str, samples: int, seeds=range(1, 6), layer: str = "all") -> list[dict]:
    """How far each actor's p5, p50 and p95 of h move between runs with different seeds."""
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    model = load_model(kg)
    view = build_view(kg, layer, model=model)
    by: dict[str, list] = {}
    for s in seeds:
        for r in rank_exposure(kg, shock, model=model, view=view, layer=layer, samples=samples, seed=s).rows:
            by.setdefault(r.label, []).append(r.bands["h"])
    return [{"actor": a, **{q: max(b[q] for b in bs) - min(b[q] for b in bs) for q in ("p5", "p50", "p95")}}
            for a, bs in by.items()]


def _markdown(rows) -> str:
    from kg.output import format_amount

    def side(s):
        dh = f"{s['max_dh']:+.2f} {s['max_dh_actor']}" if abs(s["max_dh"]) >= 0.005 else "—"
        dl = (f"{'+' if s['max_dloss_usd'] >= 0 else '−'}{format_amount(abs(s['max_dloss_usd']))} {s['max_dloss_actor']}"
              if abs(s["max_dloss_usd"]) >= 1e6 else "—")
        return f"{s['left_top10']} | {dh} | {dl}"

    out = ["| assumption | range | at low: leave top 10 | largest Δh | largest Δ loss | at high: leave top 10 | largest Δh | largest Δ loss |",
           "|---|---|---:|---|---|---:|---|---|"]
    for r in rows:
        out.append(f"| {r['assumption']} | {r['range'][0]:g}–{r['range'][1]:g} | {side(r['low'])} | {side(r['high'])} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> None:
    from kg.entities import resolve
    from kg.store import load_store

    ap = argparse.ArgumentParser(prog="python -m kg.analysis.sensitivity", description=__doc__.splitlines()[0])
    ap.add_argument("--shock", default="OpenAI")
    ap.add_argument("--layer", default="all")
    ap.add_argument("--format", choices=("markdown", "json"), default="markdown")
    ap.add_argument("--stability", action="store_true", help="band drift between seeds 1-5 instead")
    ap.add_argument("--samples", type=int, default=None, help="samples for --stability (default: the model's)")
    args = ap.parse_args(argv)
    kg = load_store()
    if args.stability:
        from kg.analysis.model import load_model

        n = args.samples or int(load_model(kg).param("samples"))
        rows = sorted(stability(kg, resolve(kg, args.shock), n, layer=args.layer), key=lambda r: -max(r["p5"], r["p95"]))
        if args.format == "json":
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        print(f"| actor | p5 moves by | p50 moves by | p95 moves by |  ({n} samples, seeds 1–5)\n|---|---:|---:|---:|")
        for r in rows:
            print(f"| {r['actor']} | {r['p5']:.3f} | {r['p50']:.3f} | {r['p95']:.3f} |")
        return
    rows = sensitivity(kg, resolve(kg, args.shock), args.layer)
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.format == "json" else _markdown(rows), end="")


if __name__ == "__main__":
    main()
