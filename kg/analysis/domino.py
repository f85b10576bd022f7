"""The cascade round by round, next to the domino stages a source foresees."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.queries import load_query

__all__ = ["DominoResult", "run_domino", "article_stages", "stage_agreement"]


@dataclass
class DominoResult:
    """``rounds``: round → actors first hit in it (with h); ``stages``: one row per actor a
    source puts in a stage, with the round in which the model hits it and the comparison."""

    shock: str
    exposure: object
    rounds: dict[int, list[dict]] = field(default_factory=dict)
    stages: list[dict] = field(default_factory=list)


def article_stages(kg, shock: str) -> list[dict]:
    """The stages (order, label, affected actor, source) of the domino scenarios of ``shock``."""
    return kg.select(load_query("analysis-domino-stages").text, {"shock": shock})


def stage_agreement(stage: int, round_: int | None, h: float, has_edges: bool, threshold: float) -> str:
    """Compare a source's stage with the model's round.

    Stage k is read as "hit within k hops of the shock", i.e. by round k + 1 (round 1 is the
    shocked actor itself). ``agrees`` when the model hits the actor (h ≥ threshold) by then;
    ``later`` when it hits it afterwards; ``not hit`` when the actor has dependencies in the
    view but the shock does not reach it; ``cannot compute`` when the graph has no dependency
    of that actor at all.
    """
    if round_ and h >= threshold:
        return "agrees" if round_ <= stage + 1 else "later"
    return "not hit" if has_edges else "cannot compute"


def run_domino(kg, shock: str, layer: str = "all", method: str = "debtrank", severity: float = 1.0,
               weights=None) -> DominoResult:
    """Run the exposure model from ``shock`` and set its rounds beside the article's stages."""
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    model = load_model(kg, weights)
    view = build_view(kg, layer, model=model)
    res = rank_exposure(kg, shock, severity, method, layer, model=model, view=view)
    out = DominoResult(shock, res)
    for r in res.rows:
        out.rounds.setdefault(r.round, []).append({"id": r.id, "label": r.label, "h": r.h, "loss_usd": r.loss_usd,
                                                  "chain": r.chain})
    threshold = model.param("audit-threshold", 0.01)
    for s in article_stages(kg, shock):
        row = res.row(s["actor"])
        round_, h = (row.round, row.h) if row else (None, 0.0)
        has_edges = s["actor"] in view and view.degree(s["actor"]) > 0
        out.stages.append({
            "stage": int(s["order"]), "stage_label": s["stageLabel"], "actor": s["actor"],
            "label": view.nodes[s["actor"]].get("label") if s["actor"] in view else s["actor"],
            "model_round": round_, "h": h, "loss_usd": row.loss_usd if row else None,
            "agreement": stage_agreement(int(s["order"]), round_, h, has_edges, threshold),
            "chain": row.chain if row else [], "source": s["source"], "stage_iri": s["stage"],
        })
    out.stages.sort(key=lambda r: (r["stage"], r["model_round"] or 99, r["label"] or ""))
    return out
