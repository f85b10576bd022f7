"""The article's claims about losers, winners, mixed cases and domino stages, checked against the model."""

from __future__ import annotations

from kg.queries import load_query

__all__ = ["audit", "judge_verdict"]


def judge_verdict(verdict: str, h: float, gain: float, has_edges: bool, threshold: float) -> tuple[str, str]:
    """``(result, reason)`` for a claimed verdict given the computed impact ``h`` and ``gain``.

    * loser: agrees when h ≥ threshold and h > gain; disagrees when it is untouched or gains more.
    * winner: agrees when gain ≥ threshold and gain > h; disagrees when it loses more than it gains
      or, having dependencies, neither loses nor gains.
    * mixed: agrees when both h and gain reach the threshold; partly when only one does.
    * "cannot compute" when the actor has no dependency in the graph and nothing reaches it.
    """
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


def audit(kg, shock: str | None = None, layer: str = "all", method: str = "debtrank", weights=None) -> list[dict]:
    """One row per article claim about who loses, wins, is mixed (impact assessments) or is hit
    in a domino stage, with whether the model agrees, disagrees, partly agrees or cannot
    compute, and the numbers behind the verdict (h, gain, round, USD loss, main chain)."""
    from kg.analysis.domino import article_stages, stage_agreement
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.gains import rank_gains
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view
    from kg.entities import label_of

    model = load_model(kg, weights)
    threshold = model.param("audit-threshold", 0.01)
    assessments = kg.select(load_query("analysis-assessments").text, {"shock": shock})
    shocks = list(dict.fromkeys([a["shock"] for a in assessments] + ([shock] if shock else [])))
    view = build_view(kg, layer, model=model)
    rows: list[dict] = []
    for s in shocks:
        res = rank_exposure(kg, s, 1.0, method, layer, model=model, view=view)
        gains = {g.id: g for g in rank_gains(kg, res, layer, model, base_view=view)}

        def numbers(actor):
            row = res.row(actor)
            return {"h": res.h.get(actor, 0.0), "gain": gains[actor].gain if actor in gains else 0.0,
                    "round": row.round if row else None, "loss_usd": row.loss_usd if row else None,
                    "chain": row.chain if row else [], "has_edges": actor in view and view.degree(actor) > 0}

        for a in (x for x in assessments if x["shock"] == s):
            n = numbers(a["actor"])
            result, reason = judge_verdict(a["verdict"], n["h"], n["gain"], n["has_edges"], threshold)
            rows.append({"shock": s, "claim": a["label"] or a["assessment"], "actor": a["actor"],
                         "label": label_of(kg, a["actor"]), "claimed": a["verdict"], "result": result,
                         "reason": reason, "h": n["h"], "gain": n["gain"], "net": n["gain"] - n["h"],
                         "round": n["round"], "loss_usd": n["loss_usd"], "chain": n["chain"],
                         "about": a["assessment"], "claims": (a["claims"] or "").split(), "source": a["source"]})
        for st in article_stages(kg, s):
            n = numbers(st["actor"])
            stage = int(st["order"])
            agreement = stage_agreement(stage, n["round"], n["h"], n["has_edges"], threshold)
            result = {"agrees": "agrees", "later": "disagrees", "not hit": "disagrees"}.get(agreement, agreement)
            reason = {"agrees": f"hit in round {n['round']} (stage {stage} → by round {stage + 1})",
                      "later": f"hit only in round {n['round']}, after stage {stage} (round {stage + 1})",
                      "not hit": "the shock does not reach it",
                      "cannot compute": "no relationship in the graph links this actor to the shock's network"}[agreement]
            rows.append({"shock": s, "claim": st["stageLabel"] or st["stage"], "actor": st["actor"],
                         "label": label_of(kg, st["actor"]), "claimed": f"stage {stage}", "result": result,
                         "reason": reason, "h": n["h"], "gain": n["gain"], "net": n["gain"] - n["h"],
                         "round": n["round"], "loss_usd": n["loss_usd"], "chain": n["chain"],
                         "about": st["stage"], "claims": [], "source": st["source"]})
    return rows
