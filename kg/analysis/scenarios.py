"""The article's four futures as parameterised runs, each compared with the base case."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.errors import InputError

__all__ = ["ScenarioResult", "list_scenarios", "run_scenario", "scenario_by_order"]


@dataclass
class ScenarioResult:
    """A scenario's exposure run and gains beside the base case's, one row per actor touched."""

    scenario: object
    base: object
    run: object
    rows: list[dict] = field(default_factory=list)


def scenario_by_order(model, n: int):
    for s in model.scenarios:
        if s.order == n:
            return s
    raise InputError(f"no scenario {n}; available: {', '.join(str(s.order) for s in model.scenarios)}")


def list_scenarios(kg, model=None) -> list[dict]:
    """Every scenario of the model (0 is the base case) with its parameters."""
    from kg.analysis.model import load_model
    from kg.entities import label_of

    model = model or load_model(kg)
    out = []
    for s in model.scenarios:
        settings = [f"include {r.rsplit('/', 1)[-1]}" for r in s.include]
        settings += [f"only {c}" for c in s.only_channels]
        settings += [f"{c[0]} ×{c[1]:g}" + (f" (relationships with {label_of(kg, c[2])})" if len(c) > 2 else "")
                     for c in s.scale]
        settings += [f"gain {label_of(kg, a)} {w:g}" for a, w in s.gains]
        out.append({"n": s.order, "label": s.label, "future": s.future, "future_label": label_of(kg, s.future) if s.future else "",
                    "shock": s.shock, "shock_label": label_of(kg, s.shock), "severity": s.severity, "method": s.method,
                    "settings": settings, "comment": s.comment, "id": s.iri})
    return out


def _run(kg, s, layer, model, samples=0, seed=None, as_of=None):
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.gains import rank_gains
    from kg.analysis.view import DISTRESS_CHANNELS, build_view

    view = build_view(kg, layer, DISTRESS_CHANNELS, include=s.include, model=model)
    scale = {(c[0], c[2]) if len(c) > 2 else c[0]: c[1] for c in s.scale}
    res = rank_exposure(kg, s.shock, s.severity, s.method, layer, model=model, view=view,
                        channels=s.only_channels or None, scale=scale, samples=samples, seed=seed, as_of=as_of)
    gains = rank_gains(kg, res, layer, model, base_view=view, extra=s.gains)
    return res, {g.id: g for g in gains}


def run_scenario(kg, n: int, layer: str = "all", weights=None, *, samples: int = 0, seed=None,
                 as_of=None) -> ScenarioResult:
    """Run scenario ``n`` (1–4; 0 is the base case) and its difference from the base case.

    Each row: actor, impact ``h``, USD loss (h × capacity) and gain in the base case and in the
    scenario, and the differences ``delta_h``, ``delta_loss_usd`` and ``delta_gain`` (scenario −
    base); ranked by the change in h, most hurt first. ``as_of`` (a date; default the model's)
    decides what is in force, in both runs.
    """
    from kg.analysis.model import load_model

    model = load_model(kg, weights)
    scenario = scenario_by_order(model, n)
    base_s = scenario_by_order(model, 0) if any(s.order == 0 for s in model.scenarios) else scenario
    base, base_gains = _run(kg, base_s, layer, model, samples, seed, as_of)
    run, gains = _run(kg, scenario, layer, model, samples, seed, as_of)
    ids = list(dict.fromkeys([r.id for r in run.rows] + [r.id for r in base.rows] + list(gains) + list(base_gains)))
    labels = {r.id: r.label for r in base.rows + run.rows}
    labels.update({g.id: g.label for g in list(gains.values()) + list(base_gains.values())})
    rows = []
    for a in ids:
        hb, hs = base.h.get(a, 0.0), run.h.get(a, 0.0)
        gb = base_gains[a].gain if a in base_gains else 0.0
        gs = gains[a].gain if a in gains else 0.0
        row, brow = run.row(a), base.row(a)
        lb, ls = (brow.loss_usd if brow else None), (row.loss_usd if row else None)
        rows.append({"id": a, "label": labels.get(a, a), "h_base": hb, "h": hs, "delta_h": hs - hb,
                     "loss_usd_base": lb, "loss_usd": ls,
                     "delta_loss_usd": (ls or 0.0) - (lb or 0.0) if (ls is not None or lb is not None) else None,
                     "gain_base": gb, "gain": gs, "delta_gain": gs - gb, "net": gs - hs,
                     "gain_usd_per_year": gains[a].gain_usd_per_year if a in gains else None,
                     "bands": row.bands if row else None,
                     "round": row.round if row else None, "chain": row.chain if row else []})
    rows.sort(key=lambda r: (-r["h"], -(r["loss_usd"] or 0.0), r["label"]))
    return ScenarioResult(scenario, base, run, rows)
