"""The article's claims about losers, winners, mixed cases and domino stages, checked against the model."""

from __future__ import annotations

from kg.queries import load_query

__all__ = ["audit", "judge_verdict"]


NOT_ECONOMIC = "not an economic claim"


def judge_verdict(verdict: str, h: float, gain: float, has_edges: bool, threshold: float,
                  economic: bool = True) -> tuple[str, str]:
    """``(result, reason)`` for a claimed verdict given the computed impact ``h`` and ``gain``.

    * loser: agrees when h ≥ threshold and h > gain; disagrees when it is untouched or gains more.
    * winner: agrees when gain ≥ threshold and gain > h; disagrees when it loses more than it gains
      or, having dependencies, neither loses nor gains.
    * mixed: agrees when both h and gain reach the threshold; partly when only one does.
    * "cannot compute" when the actor has no dependency in the graph and nothing reaches it.
    * "not an economic claim" for an actor the model lists as such (``kgm:nonEconomic``: the
      regulators' legitimacy), whatever the numbers.
    """
    if not economic:
        return NOT_ECONOMIC, "the claim is about legitimacy or influence, not money (kgm:nonEconomic in data/model)"
    hurt, gains = h >= threshold, gain >= threshold
    if not hurt and not gains:
        if not has_edges:
            return "cannot compute", "no relationship in the graph links this actor to the shock's network"
        return "disagrees", "the shock does not reach it (h and gain below the threshold)"
    if verdict == "loser":
        if hurt and h > gain:
            return "agrees", f"h = {h:.3f} exceeds its gain {gain:.3f}"
        return "disagrees", f"its gain {gain:.3f} is not below its impact h = {h:.3f}"
    if verdict == "winner":
        if gains and gain > h:
            return "agrees", f"gain {gain:.3f} exceeds h = {h:.3f}"
        return "disagrees", f"its impact h = {h:.3f} is not below its gain {gain:.3f}"
    if verdict == "mixed":
        if hurt and gains:
            return "agrees", f"loses (h = {h:.3f}) and gains ({gain:.3f})"
        return "partly", f"only {'loses' if hurt else 'gains'} in the model (h = {h:.3f}, gain = {gain:.3f})"
    return "cannot compute", f"unknown verdict {verdict!r}"


def audit(kg, shock: str | None = None, layer: str = "all", method: str = "linear", weights=None, *, as_of=None,
          samples: int = 0, seed=None) -> list[dict]:
    """One row per article claim about who loses, wins, is mixed (impact assessments) or is hit
    in a domino stage, with whether the model agrees, disagrees, partly agrees or cannot
    compute, and the numbers behind the verdict (h, gain, round, USD loss, main chain)."""
    from kg.analysis.domino import article_stages, model_stage, stage_agreement
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.gains import rank_gains
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view
    from kg.entities import label_of

    model = load_model(kg, weights)
    threshold = model.param("audit-threshold")
    assessments = kg.select(load_query("analysis-assessments").text, {"shock": shock})
    shocks = list(dict.fromkeys([a["shock"] for a in assessments] + ([shock] if shock else [])))
    view = build_view(kg, layer, model=model)
    rows: list[dict] = []
    for s in shocks:
        res = rank_exposure(kg, s, 1.0, method, layer, model=model, view=view, as_of=as_of, samples=samples, seed=seed)
        gains = {g.id: g for g in rank_gains(kg, res, layer, model, base_view=view)}

        def numbers(actor):
            row = res.row(actor)
            return {"h": res.h.get(actor, 0.0), "gain": gains[actor].gain if actor in gains else 0.0,
                    "gain_usd_per_year": gains[actor].gain_usd_per_year if actor in gains else None,
                    "round": row.round if row else None, "loss_usd": row.loss_usd if row else None,
                    "capacity_usd": row.capacity_usd if row else None, "bands": row.bands if row else None,
                    "stage": model_stage(row, model.stages),
                    "chain": row.chain if row else [], "has_edges": actor in view and view.degree(actor) > 0}

        for a in (x for x in assessments if x["shock"] == s):
            n = numbers(a["actor"])
            result, reason = judge_verdict(a["verdict"], n["h"], n["gain"], n["has_edges"], threshold,
                                           a["actor"] not in model.non_economic)
            rows.append({"shock": s, "claim": a["label"] or a["assessment"], "actor": a["actor"],
                         "label": label_of(kg, a["actor"]), "claimed": a["verdict"], "result": result,
                         "reason": reason, "h": n["h"], "gain": n["gain"], "net": n["gain"] - n["h"],
                         "round": n["round"], "loss_usd": n["loss_usd"], "capacity_usd": n["capacity_usd"],
                         "gain_usd_per_year": n["gain_usd_per_year"], "bands": n["bands"], "model_stage": n["stage"],
                         "chain": n["chain"],
                         "about": a["assessment"], "claims": sorted((a["claims"] or "").split()), "source": a["source"]})
        for st in article_stages(kg, s):
            n = numbers(st["actor"])
            stage = int(st["order"])
            agreement = stage_agreement(stage, n["stage"], n["h"], n["has_edges"], threshold)
            result = {"agrees": "agrees", "later": "disagrees", "earlier": "disagrees",
                      "not hit": "disagrees"}.get(agreement, agreement)
            reason = {"agrees": f"the model places it in stage {stage} (round {n['round']})",
                      "later": f"the model places it in stage {n['stage']}, after stage {stage}",
                      "earlier": f"the model places it in stage {n['stage']}, before stage {stage}",
                      "not hit": "the shock does not reach it",
                      "cannot compute": "no relationship in the graph links this actor to the shock's network"}[agreement]
            rows.append({"shock": s, "claim": st["stageLabel"] or st["stage"], "actor": st["actor"],
                         "label": label_of(kg, st["actor"]), "claimed": f"stage {stage}", "result": result,
                         "reason": reason, "h": n["h"], "gain": n["gain"], "net": n["gain"] - n["h"],
                         "round": n["round"], "loss_usd": n["loss_usd"], "capacity_usd": n["capacity_usd"],
                         "gain_usd_per_year": n["gain_usd_per_year"], "bands": n["bands"], "model_stage": n["stage"],
                         "chain": n["chain"], "about": st["stage"], "claims": [], "source": st["source"]})
    return rows
