"""Who gains when an actor falters: substitution, customers' bargaining power, named beneficiaries."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GainRow", "rank_gains", "gains_on_view"]


@dataclass
class GainRow:
    """An actor that gains: ``gain`` in [0, 1] (share of its capacity, like ``h``), ``net`` =
    gain − its impact h, and ``via``: the relationships and rules the gain comes through."""

    id: str
    label: str
    gain: float
    h: float
    net: float
    via: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "gain": self.gain, "h": self.h, "net": self.net, "via": self.via}


def gains_on_view(competition, base_view, h: dict[str, float], model, extra=()) -> list[GainRow]:
    """Gains given the distress ``h`` (actor → impact) of an exposure run.

    The model (docs/analysis.md; weights in data/model/model.trig):

    * substitution: a substitute of a distressed incumbent (a ``kg:Competition`` relationship,
      whatever its status: the article's substitutions are possibilities) gains
      ``substitution-weight × h(incumbent)``;
    * bargaining power: the customers, licensees and API dependents of a distressed provider with at
      least one substitute gain ``bargaining-weight × h(provider)``;
    * named beneficiaries (``extra``: ``(actor, weight)`` pairs of a scenario) gain
      ``weight × h(shocked actor)``, the largest h of the run;
    * a group's gain accrues to each of its named members (``kg:memberOf``).

    Gains add up and are capped at 1.
    """
    w_sub = model.param("substitution-weight", 0.5)
    w_barg = model.param("bargaining-weight", 0.2)
    gain: dict[str, float] = {}
    via: dict[str, list[dict]] = {}

    def add(actor, amount, reason):
        if amount <= 0:
            return
        gain[actor] = gain.get(actor, 0.0) + amount
        via.setdefault(actor, []).append(reason)

    substitutes: dict[str, list[str]] = {}
    for incumbent, substitute, d in competition.edges(data=True):
        if d.get("channel") != "competition":
            continue
        substitutes.setdefault(incumbent, []).append(substitute)
        add(substitute, w_sub * h.get(incumbent, 0.0),
            {"rule": "substitution", "from": incumbent, "rel": d.get("rel"), "kind": d.get("kind"),
             "sources": list(d.get("sources") or []), "amount": w_sub * h.get(incumbent, 0.0)})
    for provider, subs in substitutes.items():
        hp = h.get(provider, 0.0)
        if hp <= 0 or provider not in base_view:
            continue
        for _, customer, d in base_view.out_edges(provider, data=True):
            if d.get("channel") in ("supply", "api", "licence") and customer not in subs:
                add(customer, w_barg * hp, {"rule": "bargaining power", "from": provider, "rel": d.get("rel"),
                                            "kind": d.get("kind"), "sources": list(d.get("sources") or []),
                                            "amount": w_barg * hp})
    top = max(h.values(), default=0.0)
    for actor, weight in extra:
        add(actor, weight * top, {"rule": "scenario", "from": None, "rel": None, "kind": None, "sources": [],
                                  "amount": weight * top})
    members: dict[str, list[tuple[str, dict]]] = {}
    for member, group, d in base_view.edges(data=True):
        if d.get("channel") == "membership":
            members.setdefault(group, []).append((member, d))
    for group, g in list(gain.items()):
        stack, seen = [group], {group}
        while stack:
            x = stack.pop()
            for member, d in members.get(x, ()):
                if member in seen:
                    continue
                seen.add(member)
                stack.append(member)
                add(member, g, {"rule": "member of a group that gains", "from": x, "rel": None, "kind": "memberOf",
                                "sources": list(d.get("sources") or []), "amount": g})
    rows = []
    for actor, g in gain.items():
        g = min(1.0, g)
        label = base_view.nodes[actor].get("label", actor) if actor in base_view else actor
        rows.append(GainRow(actor, label, g, h.get(actor, 0.0), g - h.get(actor, 0.0), via[actor]))
    rows.sort(key=lambda r: (-r.gain, r.label))
    return rows


def rank_gains(kg, result, layer: str = "all", model=None, base_view=None, extra=()) -> list[GainRow]:
    """Gains of an :class:`kg.analysis.exposure.ExposureResult` computed on the graph ``kg``."""
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    model = model or load_model(kg)
    competition = build_view(kg, layer, ("competition",), all_statuses=True, model=model)
    base_view = base_view if base_view is not None else build_view(kg, layer, model=model)
    return gains_on_view(competition, base_view, result.h, model, extra)
