"""The cascade round by round, next to the domino stages a source foresees."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.queries import load_query

__all__ = ["DominoResult", "run_domino", "article_stages", "stage_agreement", "model_stage"]


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


def model_stage(row, stages: dict[str, int]) -> int | None:
    """The model's domino stage of an actor hit by the shock: the largest stage
    (``kgm:ChannelStage``: capital side 1, supply chain 2, demand side 3) of the channels along
    the chain that carried most of its loss; membership hops carry their members' stage; the
    shocked actor is in stage 1."""
    if row is None:
        return None
    if row.shocked:
        return 1
    found = [stages[h["channel"]] for h in row.chain if h.get("channel") in stages]
    return max(found) if found else (1 if row.chain else None)


def stage_agreement(stage: int, model_stage_: int | None, h: float, has_edges: bool, threshold: float) -> str:
    """Compare a source's stage with the model's stage (:func:`model_stage`).

    ``agrees`` when the model hits the actor (h ≥ threshold) in that very stage, ``earlier`` or
    ``later`` when it places it in another (so stage 1 and stage 2 are told apart), ``not hit``
    when the actor has dependencies in the view but the shock does not reach it, ``cannot
    compute`` when the graph has no dependency of that actor at all.
    """
    if model_stage_ and h >= threshold:
        if model_stage_ == stage:
            return "agrees"
        return "earlier" if model_stage_ < stage else "later"
    return "not hit" if has_edges else "cannot compute"


def run_domino(kg, shock: str, layer: str = "all", method: str = "linear", severity: float = 1.0,
               weights=None, *, as_of=None, samples: int = 0, seed=None) -> DominoResult:
    """Run the exposure model from ``shock`` and set its rounds beside the article's stages."""
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    model = load_model(kg, weights)
    view = build_view(kg, layer, model=model)
    res = rank_exposure(kg, shock, severity, method, layer, model=model, view=view, as_of=as_of, samples=samples,
                        seed=seed)
    out = DominoResult(shock, res)
    for r in res.rows:
        out.rounds.setdefault(r.round, []).append({
            "id": r.id, "label": r.label, "h": r.h, "loss_usd": r.loss_usd, "capacity_usd": r.capacity_usd,
            "capacity_basis": r.capacity_basis, "usd_per_year": r.usd_per_year, "bands": r.bands,
            "model_stage": model_stage(r, model.stages), "chain": r.chain})
    threshold = model.param("audit-threshold")
    for s in article_stages(kg, shock):
        row = res.row(s["actor"])
        round_, h = (row.round, row.h) if row else (None, 0.0)
        stage_ = model_stage(row, model.stages)
        has_edges = s["actor"] in view and view.degree(s["actor"]) > 0
        out.stages.append({
            "stage": int(s["order"]), "stage_label": s["stageLabel"], "actor": s["actor"],
            "label": view.nodes[s["actor"]].get("label") if s["actor"] in view else s["actor"],
            "model_stage": stage_, "model_round": round_, "h": h, "loss_usd": row.loss_usd if row else None,
            "agreement": stage_agreement(int(s["order"]), stage_, h, has_edges, threshold),
            "chain": row.chain if row else [], "source": s["source"], "stage_iri": s["stage"],
        })
    out.stages.sort(key=lambda r: (r["stage"], r["model_stage"] or 99, r["label"] or ""))
    return out
