"""Who gains when an actor falters: substitution revenue, customers' bargaining power, named beneficiaries."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GainRow", "rank_gains", "gains_on_view"]


@dataclass
class GainRow:
    """An actor that gains.

    ``gain_usd_per_year``: revenue it may win per year (substitution, where the incumbent's
    revenue is in the graph; None otherwise). ``gain``: the same gain as a share (of the
    incumbent's revenue won, or of bargaining power), the unit of a qualitative h. ``net`` =
    gain − h only where h is in the same unit (an actor without a capacity, whose h rests on
    the qualitative weights); None otherwise. ``via``: the relationships and rules."""

    id: str
    label: str
    gain: float
    h: float
    net: float | None
    via: list[dict] = field(default_factory=list)
    gain_usd_per_year: float | None = None
    group: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "gain": self.gain, "gain_usd_per_year": self.gain_usd_per_year,
                "h": self.h, "net": self.net, "group_total": self.group, "via": self.via}


def gains_on_view(competition, base_view, h: dict[str, float], model, extra=(), revenue=None,
                  same_unit=None) -> list[GainRow]:
    """Gains given the distress ``h`` (actor → impact) of an exposure run.

    The model (docs/analysis.md; parameters in data/model/model.trig):

    * substitution: the substitutes of a distressed incumbent (``kg:channel kg:CompetitionChannel``
      relationships, whatever their status: the article's substitutions are possibilities) win
      ``substitution-share × h(incumbent)`` of its annual revenue, split evenly among them; in
      USD per year where ``revenue`` (actor → USD per year) has the incumbent's revenue;
    * a group's gain is split evenly among its named members (``kg:memberOf``), not copied; the
      group's row keeps the total (``group``); a group with no gain of its own gains the sum of
      what its named members gain;
    * bargaining power: the customers, licensees and API dependents of a distressed provider with
      at least one substitute gain ``bargaining-weight × h(provider)`` (a share: no price is stated);
    * named beneficiaries (``extra``: ``(actor, weight)`` pairs of a scenario) gain
      ``weight × h(shocked actor)``, split among a group's members likewise.

    ``same_unit`` (actor → bool): whether the actor's h is a qualitative share, so that
    ``net = gain − h`` is meaningful.
    """
    w_sub = model.param("substitution-share")
    w_barg = model.param("bargaining-weight")
    revenue = revenue or {}
    gain: dict[str, float] = {}
    usd: dict[str, float] = {}
    via: dict[str, list[dict]] = {}
    groups: set[str] = set()

    members: dict[str, list[tuple[str, dict]]] = {}
    for member, group, d in base_view.edges(data=True):
        if d.get("channel") == "membership":
            members.setdefault(group, []).append((member, d))

    def add(actor, share, money, reason, depth=0):
        if share <= 0:
            return
        gain[actor] = gain.get(actor, 0.0) + share
        if money is not None:
            usd[actor] = usd.get(actor, 0.0) + money
        via.setdefault(actor, []).append({**reason, "amount": share, "usd_per_year": money})
        named = members.get(actor, [])
        if named and depth < 10:
            groups.add(actor)
            k = len(named)
            for member, d in named:
                add(member, share / k, None if money is None else money / k,
                    {"rule": "member of a group that gains", "from": actor, "rel": None, "kind": "memberOf",
                     "sources": list(d.get("sources") or [])}, depth + 1)

    substitutes: dict[str, list[tuple[str, dict]]] = {}
    for incumbent, substitute, d in competition.edges(data=True):
        if d.get("channel") == "competition" and substitute not in [s for s, _ in substitutes.get(incumbent, [])]:
            substitutes.setdefault(incumbent, []).append((substitute, d))
    for incumbent, subs in substitutes.items():
        hi = h.get(incumbent, 0.0)
        if hi <= 0:
            continue
        share = w_sub * hi / len(subs)
        rev = revenue.get(incumbent)
        for substitute, d in subs:
            add(substitute, share, share * rev if rev else None,
                {"rule": "substitution", "from": incumbent, "rel": d.get("rel"), "kind": d.get("kind"),
                 "sources": list(d.get("sources") or [])})
    for provider, subs in substitutes.items():
        hp = h.get(provider, 0.0)
        if hp <= 0 or provider not in base_view:
            continue
        names = {s for s, _ in subs}
        seen = set()
        for _, customer, d in base_view.out_edges(provider, data=True):
            if d.get("channel") in ("supply", "api", "licence") and customer not in names and customer not in seen:
                seen.add(customer)
                add(customer, w_barg * hp, None, {"rule": "bargaining power", "from": provider, "rel": d.get("rel"),
                                                  "kind": d.get("kind"), "sources": list(d.get("sources") or [])})
    top = max(h.values(), default=0.0)
    for actor, weight in extra:
        add(actor, weight * top, None, {"rule": "scenario", "from": None, "rel": None, "kind": None, "sources": []})
    # a group with no gain of its own gains what its named members gain (the sum, not copied)
    for group, named in sorted(members.items(), key=lambda kv: str(kv[0])):  # not the store's row order
        if group in gain:
            continue
        parts = sorted(((m, gain[m], usd.get(m)) for m, _ in named if m in gain and m not in groups),
                       key=lambda p: str(p[0]))
        if parts:
            gain[group] = sum(g for _, g, _ in parts)
            if any(u is not None for _, _, u in parts):
                usd[group] = sum(u or 0.0 for _, _, u in parts)
            via[group] = [{"rule": "its members gain", "from": m, "rel": None, "kind": "memberOf", "sources": [],
                           "amount": g, "usd_per_year": u} for m, g, u in parts]
            groups.add(group)
    rows = []
    for actor, g in gain.items():
        label = base_view.nodes[actor].get("label", actor) if actor in base_view else actor
        ha = h.get(actor, 0.0)
        comparable = same_unit(actor) if same_unit else True
        rows.append(GainRow(actor, label, g, ha, (g - ha) if comparable else None, via[actor], usd.get(actor),
                            actor in groups))
    rows.sort(key=lambda r: (-(r.gain_usd_per_year or 0.0), -r.gain, r.label))
    return rows


def rank_gains(kg, result, layer: str = "all", model=None, base_view=None, extra=()) -> list[GainRow]:
    """Gains of an exposure result (:func:`kg.analysis.exposure.rank_exposure`) on the graph ``kg``."""
    from kg.analysis.economic import read_financials
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    model = model or getattr(result, "model", None) or load_model(kg)
    competition = build_view(kg, layer, ("competition",), all_statuses=True, model=model)
    base_view = base_view if base_view is not None else build_view(kg, layer, model=model)
    fin = base_view.graph.get("_financials")
    if fin is None:
        fin = base_view.graph["_financials"] = read_financials(kg, layer)
    revenue = {a: f.revenue.value for a, f in fin.items() if not isinstance(f, tuple) and f.revenue}

    def same_unit(actor):
        f = fin.get(actor)
        return f is None or isinstance(f, tuple) or f.capacity is None

    return gains_on_view(competition, base_view, result.h, model, extra, revenue, same_unit)
