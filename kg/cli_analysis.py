"""The analysis commands: chains, cycles, exposure, domino, scenarios, scenario run, audit.

Thin click commands: each parses its options, calls one function of :mod:`kg.analysis` and
renders the rows. numpy, scipy and networkx are imported inside the commands only, so that the
other commands start fast.
"""

from __future__ import annotations

import click

from kg.cli import cli, emit, format_option, layer_option, pass_session

__all__ = ["chains", "cycles", "exposure", "domino", "scenarios", "scenario", "audit"]

METHODS = ("debtrank", "linear", "direct")
ROW_FORMATS = ("csv", "jsonl")  # flat records, one per row (kg.output.ROW_FORMATS)


def _local(iri) -> str:
    return "" if not iri else str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _usd(value) -> str:
    from kg.output import format_amount

    return format_amount(value) if value is not None else ""


def _amount(rel: dict) -> str:
    """A relationship's (or hop's) USD amount with its qualifiers and status: ``up to US$100B (intended)``."""
    from kg.output import format_amount

    return format_amount(rel.get("amount"), "USD", rel.get("qualifiers"), rel.get("status"))


def _leg_amount(leg: dict) -> str:
    """A cycle's leg: its one amount as :func:`_amount`, or the sum of several with every qualifier
    and status that any part carries (a sum with an "up to" part is itself "up to")."""
    from kg.output import PLAIN_STATUSES, format_amount

    parts = [r for r in leg["rels"] if r.get("amount") is not None]
    if len(parts) <= 1:
        return _amount(parts[0]) if parts else ""
    qualifiers = sorted({q for r in parts for q in r.get("qualifiers") or []})
    statuses = sorted({r["status"] for r in parts if r.get("status") and r["status"] not in PLAIN_STATUSES})
    return format_amount(leg["amount"], "USD", qualifiers, ", ".join(statuses) or None)


def _round_trip(cycle) -> str:
    """The round trip is the smallest leg: shown as that leg is, qualifiers and status included."""
    if cycle.round_trip is None:
        return ""
    return _leg_amount(min(cycle.legs, key=lambda leg: leg["amount"]))


def _raw(value):
    """A number for CSV: USD amounts as whole dollars (render() would group big floats)."""
    return int(round(value)) if isinstance(value, float) and abs(value) >= 1e6 else value


_LANG = {"lang": "en", "store": None}


def _name(iri, fallback) -> str:
    """An actor's label in the session's language (--lang), else ``fallback``."""
    if _LANG["lang"] == "en" or not iri or not str(iri).startswith("http"):
        return fallback
    from kg.entities import label_of

    return label_of(_LANG["store"], iri, _LANG["lang"]) or fallback


def _use_language(session) -> None:
    _LANG["lang"], _LANG["store"] = session.lang, session.store if session.lang != "en" else None


def _path(hops: list[dict], first: str | None = None) -> str:
    if not hops:
        return first or ""
    return " → ".join([_name(hops[0]["from"], hops[0]["from_label"])] + [_name(h["to"], h["to_label"]) for h in hops])


def _rels(hops: list[dict]) -> str:
    return "; ".join(_local(h["rel"]) if h.get("rel") else f"{h.get('kind') or 'link'}" for h in hops)


def _sources(hops: list[dict]) -> str:
    return "; ".join(dict.fromkeys(_local(s) for h in hops for s in h.get("sources") or []))


def _note(text: str) -> None:
    click.echo(text, err=True)


def _channels_option():
    return click.option("--channel", "channel", metavar="LIST",
                        help="Only these channels, comma-separated: funding, equity, revenue, supply, licence, api, "
                             "acquisition, membership (default: all of them).")


def _parse_channels(value):
    from kg.analysis.view import DISTRESS_CHANNELS, parse_channels

    try:
        return parse_channels(value, DISTRESS_CHANNELS)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--channel") from None


def _resolve(session, name: str) -> str:
    from kg.entities import resolve

    return resolve(session.store, name)


# -- kg chains -----------------------------------------------------------------------------
@cli.command()
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="[TO]", required=False)
@click.option("--max-depth", type=click.IntRange(1, 20), default=5, show_default=True, help="At most this many hops.")
@click.option("--cap", type=click.IntRange(1), default=1000, show_default=True,
              help="Stop after this many chains (a note on stderr says so).")
@_channels_option()
@layer_option()
@format_option()
@pass_session
def chains(session, source, target, max_depth, cap, channel, layer, fmt):
    """Dependency chains from FROM to TO, ranked by strength (product of hop weights).

    A hop A → B means "B depends on A" (see docs/analysis.md). Without TO: everything that
    depends on FROM, directly or not, with its distance and strongest chain. Each hop names
    its relationship, amount and source.

    \b
    Examples:
      kg chains OpenAI Nvidia
      kg chains OpenAI --max-depth 2 --layer article
      kg chains OpenAI TSMC --channel revenue,membership --format json
    """
    _use_language(session)
    from kg.analysis.chains import find_chains
    from kg.analysis.view import build_view
    from kg.output import render

    chosen = _parse_channels(channel)
    src = _resolve(session, source)
    dst = _resolve(session, target) if target else None
    view = build_view(session.store, layer, chosen)
    res = find_chains(view, src, dst, max_depth, cap)
    if res.capped:
        _note(f"note: stopped at the cap of {cap} {'chains' if dst else 'dependents'} (--cap); the ranking covers those found")
    if fmt == "json":
        return emit(render([{**c.as_dict(), "distance": res.distance.get(c.target)} for c in res.chains], "json"))
    if dst is None:
        rows = [{"rank": k, "actor": _name(c.target, view.nodes[c.target].get("label")), "distance": res.distance.get(c.target),
                 "strength": round(c.strength, 4), "chain": _path(c.hops), "relationships": _rels(c.hops),
                 "sources": _sources(c.hops), "id": c.target} for k, c in enumerate(res.chains, 1)]
        cols = ["rank", "actor", "distance", "strength", "chain"] + (["relationships", "sources", "id"] if fmt in ROW_FORMATS else [])
        emit(render(rows, fmt, columns=cols, max_width=90))
        _note(f"{len(rows)} actor(s) depend on {view.nodes[src].get('label', src)} within {max_depth} hop(s)")
        return
    rows = [{"chain": k, "strength": round(c.strength, 4), "hop": n, "from": _name(h["from"], h["from_label"]), "to": _name(h["to"], h["to_label"]),
             "kind": h["kind"], "channel": h["channel"], "amount": _amount(h) if fmt == "table" else _raw(h["amount"]),
             **({} if fmt == "table" else {"qualifiers": ",".join(h.get("qualifiers") or []), "status": h.get("status")}),
             "weight": round(h["weight"], 4), "relationship": _local(h["rel"]) if fmt == "table" else h["rel"],
             "source": _sources([h]) if fmt == "table" else " ".join(h["sources"])}
            for k, c in enumerate(res.chains, 1) for n, h in enumerate(c.hops, 1)]
    emit(render(rows, fmt, max_width=60))
    _note(f"{len(res.chains)} chain(s) from {view.nodes[src].get('label')} to {view.nodes[dst].get('label')} "
          f"within {max_depth} hop(s)")


# -- kg cycles -----------------------------------------------------------------------------
@cli.command()
@click.option("--min-amount", type=click.FloatRange(0), help="Only legs with a known amount (USD) of at least this.")
@click.option("--max-length", type=click.IntRange(2, 12), default=6, show_default=True, help="At most this many legs.")
@click.option("--cap", type=click.IntRange(1), default=1000, show_default=True,
              help="Stop after this many cycles (a note on stderr says so).")
@layer_option()
@format_option()
@pass_session
def cycles(session, min_amount, max_length, cap, layer, fmt):
    """Circular money flows (payer → payee), each with its legs and round-trip amount.

    The round trip is the smallest leg: the money that can go all the way round. Unknown
    amounts are shown empty; --min-amount keeps only legs with a known amount.

    \b
    Examples:
      kg cycles
      kg cycles --layer article
      kg cycles --min-amount 1e10 --max-length 4 --format json
    """
    _use_language(session)
    from kg.analysis.cycles import find_cycles
    from kg.analysis.view import build_money_graph
    from kg.output import render

    graph = build_money_graph(session.store, layer)
    res = find_cycles(graph, min_amount, max_length, cap)
    if res.capped:
        _note(f"note: stopped at the cap of {cap} cycles (--cap)")
    if res.budget_hit:
        _note("note: stopped at the search budget before enumerating every cycle; lower --max-length")
    label = lambda n: _name(n, graph.nodes[n].get("label", _local(n)))  # noqa: E731
    if fmt == "json":
        return emit(render([c.as_dict() for c in res.cycles], "json"))
    if fmt in ROW_FORMATS:
        rows = [{"cycle": k, "round_trip": _raw(c.round_trip), "leg": n, "from": label(leg["from"]),
                 "to": label(leg["to"]), "amount": _raw(leg["amount"]),
                 "qualifiers": ",".join(sorted({q for r in leg["rels"] for q in r.get("qualifiers") or []})),
                 "statuses": ",".join(sorted({r["status"] for r in leg["rels"] if r.get("status")})), "relationships": " ".join(r["rel"] for r in leg["rels"]),
                 "kinds": " ".join(r["kind"] for r in leg["rels"]),
                 "sources": " ".join(dict.fromkeys(s for r in leg["rels"] for s in r["sources"]))}
                for k, c in enumerate(res.cycles, 1) for n, leg in enumerate(c.legs, 1)]
        return emit(render(rows, fmt, columns=["cycle", "round_trip", "leg", "from", "to", "amount", "qualifiers",
                                               "statuses", "relationships",
                                                 "kinds", "sources"]))
    rows = [{"cycle": k, "round trip": _round_trip(c) or "unknown", "legs": len(c.legs),
             "flow": " → ".join(label(n) for n in c.nodes),
             "leg amounts": " | ".join(_leg_amount(leg) or "?" for leg in c.legs),
             "relationships": " | ".join(",".join(_local(r["rel"]) for r in leg["rels"]) for leg in c.legs)}
            for k, c in enumerate(res.cycles, 1)]
    emit(render(rows, "table", max_width=120))
    _note(f"{len(res.cycles)} cycle(s) of at most {max_length} legs on the money-flow graph ({layer} layer)")


# -- kg exposure ---------------------------------------------------------------------------
def _exposure_rows(res, fmt):
    rows = []
    for k, r in enumerate(res.rows, 1):
        rows.append({"rank": k, "actor": _name(r.id, r.label), "h": round(r.h, 4), "loss": _usd(r.loss_usd) if fmt == "table" else _raw(r.loss_usd),
                     "round": r.round, "chain": _path(r.chain, r.label), "relationships": _rels(r.chain),
                     "sources": _sources(r.chain), "id": r.id})
    return rows


def _gain_rows(gains):
    return [{"rank": k, "actor": _name(g.id, g.label), "gain": round(g.gain, 4), "h": round(g.h, 4), "net": round(g.net, 4),
             "via": "; ".join(dict.fromkeys(f"{v['rule']}" + (f" ({_local(v['from'])})" if v.get("from") else "")
                                           for v in g.via)),
             "relationships": "; ".join(dict.fromkeys(_local(v["rel"]) for v in g.via if v.get("rel"))), "id": g.id}
            for k, g in enumerate(gains, 1)]


@cli.command()
@click.option("--shock", required=True, metavar="NAME", help="The actor that fails (any name; or a node of --edges).")
@click.option("--severity", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Initial distress of the shocked actor, 0..1.")
@click.option("--method", type=click.Choice(METHODS), default="debtrank", show_default=True,
              help="debtrank (Battiston 2012), linear (Bardoscia 2015) or direct (first round only).")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False),
              help="CSV (channel,kind,weight) overriding the qualitative weights of data/model/model.trig.")
@click.option("--edges", type=click.Path(exists=True, dir_okay=False),
              help="Your own network: CSV exposed,counterparty,amount (needs --sizes; no RDF).")
@click.option("--sizes", type=click.Path(exists=True, dir_okay=False), help="CSV entity,size for --edges.")
@click.option("--top", type=click.IntRange(1), help="Show only the first N rows of each table.")
@_channels_option()
@layer_option()
@format_option()
@pass_session
def exposure(session, shock, severity, method, weights, edges, sizes, top, channel, layer, fmt):
    """Who is hurt most if NAME fails, and who gains.

    Per actor: impact h in [0, 1], loss in USD where the graph has amounts, the round in which
    it is first hit and the chain that carried most of its loss. Then the gains (substitutes,
    customers' bargaining power). R on stderr is the DebtRank of the shock.

    \b
    Examples:
      kg exposure --shock OpenAI
      kg exposure --shock OpenAI --layer article --method linear
      kg exposure --shock 甲骨文 --severity 0.5 --format json
      kg exposure --edges edges.csv --sizes sizes.csv --shock A
    """
    _use_language(session)
    from kg.output import render

    if bool(edges) != bool(sizes):
        raise click.UsageError("--edges and --sizes go together")
    chosen = _parse_channels(channel)
    gains = []
    if edges:
        if weights or chosen:
            raise click.UsageError("--weights and --channel apply to the graph, not to --edges networks")
        from kg.analysis.csvnet import read_csv_network, resolve_csv_name
        from kg.analysis.exposure import exposure_on_view

        view = read_csv_network(edges, sizes)
        res = exposure_on_view(view, resolve_csv_name(view, shock), severity, method, layer="csv", top=top)
    else:
        from kg.analysis.exposure import rank_exposure
        from kg.analysis.gains import rank_gains
        from kg.analysis.model import load_model
        from kg.analysis.view import build_view

        kg = session.store
        iri = _resolve(session, shock)
        model = load_model(kg, weights)
        view = build_view(kg, layer, chosen, model=model)
        res = rank_exposure(kg, iri, severity, method, layer, model=model, view=view, channels=chosen, top=top)
        gains = rank_gains(kg, res, layer, model, base_view=view)
    for n in res.notes:
        _note(f"note: {n}")
    losses, gain_rows = _exposure_rows(res, fmt), _gain_rows(gains)
    if top:
        losses, gain_rows = losses[:top], gain_rows[:top]
    _note(f"{res.method}: {len(res.h)} actor(s) hit in {res.rounds} round(s); R = {res.R:.4f}"
          + ("" if res.converged else " (not converged)"))
    if fmt == "json":
        return emit(render({"shock": res.shock, "severity": res.severity, "method": res.method, "layer": res.layer,
                            "R": res.R, "rounds": res.rounds, "losses": [r.as_dict() for r in res.rows][:top or None],
                            "gains": [g.as_dict() for g in gains][:top or None], "notes": res.notes}, "json"))
    if fmt in ROW_FORMATS:
        rows = [{"effect": "loss", **r} for r in losses] + [{"effect": "gain", **g} for g in gain_rows]
        return emit(render(rows, fmt, columns=["effect", "rank", "actor", "h", "gain", "net", "loss", "round",
                                                 "chain", "via", "relationships", "sources", "id"]))
    emit("losses:\n" + render(losses, "table", columns=["rank", "actor", "h", "loss", "round", "chain"], max_width=80))
    if gain_rows:
        emit("\ngains:\n" + render(gain_rows, "table", columns=["rank", "actor", "gain", "h", "net", "via"], max_width=80))


# -- kg domino -----------------------------------------------------------------------------
@cli.command()
@click.argument("name")
@click.option("--severity", type=click.FloatRange(0, 1), default=1.0, show_default=True, help="Initial distress, 0..1.")
@click.option("--method", type=click.Choice(METHODS), default="debtrank", show_default=True, help="Propagation method.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="CSV overriding the qualitative weights.")
@layer_option()
@format_option()
@pass_session
def domino(session, name, severity, method, weights, layer, fmt):
    """The cascade from NAME round by round, next to the article's domino stages.

    For each actor a source puts in a stage: the round in which the model hits it, and whether
    that agrees (stage k read as "hit by round k+1"; round 1 is NAME itself).

    \b
    Examples:
      kg domino OpenAI
      kg domino OpenAI --layer article --format json
    """
    _use_language(session)
    from kg.analysis.domino import run_domino
    from kg.output import render

    res = run_domino(session.store, _resolve(session, name), layer, method, severity, weights)
    rounds = [{"round": k, "actor": _name(a["id"], a["label"]), "h": round(a["h"], 4), "loss": _usd(a["loss_usd"]) if fmt == "table" else _raw(a["loss_usd"]),
               "chain": _path(a["chain"], a["label"]), "relationships": _rels(a["chain"]), "id": a["id"]}
              for k in sorted(res.rounds) for a in res.rounds[k]]
    stages = [{"stage": s["stage"], "actor": _name(s["actor"], s["label"]), "model round": s["model_round"] or "", "h": round(s["h"], 4),
               "agreement": s["agreement"], "chain": _path(s["chain"], s["label"]), "stage label": s["stage_label"],
               "id": s["actor"]} for s in res.stages]
    _note(f"{len(res.rounds)} round(s); {sum(1 for s in res.stages if s['agreement'] == 'agrees')} of "
          f"{len(res.stages)} stage placements agree")
    if fmt == "json":
        return emit(render({"shock": res.shock, "rounds": rounds, "stages": res.stages}, "json"))
    if fmt in ROW_FORMATS:
        rows = [{"record": "round", **r} for r in rounds] + [{"record": "stage", **s} for s in stages]
        return emit(render(rows, fmt, columns=["record", "round", "stage", "actor", "h", "loss", "model round",
                                                 "agreement", "chain", "relationships", "stage label", "id"]))
    emit("model, round by round:\n" + render(rounds, "table", columns=["round", "actor", "h", "loss", "chain"], max_width=80))
    emit("\narticle's stages vs the model:\n"
         + render(stages, "table", columns=["stage", "actor", "model round", "h", "agreement", "chain"], max_width=80))


# -- kg scenarios / kg scenario run N ------------------------------------------------------
@cli.command()
@format_option()
@pass_session
def scenarios(session, fmt):
    """The article's four futures as parameterised runs (0 is the base case).

    Parameters live in data/model/model.trig; run one with `kg scenario run N`.

    \b
    Examples:
      kg scenarios
      kg scenarios --format json
    """
    from kg.analysis.scenarios import list_scenarios
    from kg.output import render

    rows = list_scenarios(session.store)
    if fmt not in ("json", "jsonl"):
        rows = [{**r, "settings": "; ".join(r["settings"])} for r in rows]
    emit(render(rows, fmt, columns=None if fmt == "json" else ["n", "label", "shock_label", "severity", "settings", "comment"],
                max_width=70))


@cli.group()
def scenario():
    """Run one of the article's futures (see `kg scenarios`)."""


@scenario.command("run")
@click.argument("n", type=int)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="CSV overriding the qualitative weights.")
@click.option("--top", type=click.IntRange(1), help="Show only the first N rows.")
@layer_option()
@format_option()
@pass_session
def scenario_run(session, n, weights, top, layer, fmt):
    """Run scenario N and compare it with the base case (scenario 0).

    Per actor: impact h and gain in the base case and in the scenario, and the differences;
    most hurt first.

    \b
    Examples:
      kg scenario run 2
      kg scenario run 1 --layer context --format csv
    """
    _use_language(session)
    from kg.analysis.model import load_model
    from kg.analysis.scenarios import run_scenario
    from kg.output import render

    available = [s.order for s in load_model(session.store).scenarios]
    if n not in available:
        raise click.BadParameter(f"no scenario {n}; available: {', '.join(map(str, available))}", param_hint="N")
    res = run_scenario(session.store, n, layer, weights)
    s = res.scenario
    _note(f"scenario {s.order}: {s.label}\n  {s.comment}\n  R = {res.run.R:.4f} (base case {res.base.R:.4f})")
    rows = res.rows[:top] if top else res.rows
    if fmt == "json":
        return emit(render({"scenario": s.iri, "label": s.label, "future": s.future, "R": res.run.R, "R_base": res.base.R,
                            "rows": rows}, "json"))
    out = [{"actor": _name(r["id"], r["label"]), "h base": round(r["h_base"], 4), "h": round(r["h"], 4), "Δh": round(r["delta_h"], 4),
            "gain base": round(r["gain_base"], 4), "gain": round(r["gain"], 4), "Δgain": round(r["delta_gain"], 4),
            "net": round(r["net"], 4), "round": r["round"] or "", "chain": _path(r["chain"], r["label"]), "id": r["id"]}
           for r in rows]
    emit(render(out, fmt, columns=None if fmt in ROW_FORMATS else ["actor", "h base", "h", "Δh", "gain base", "gain", "Δgain",
                                                              "net", "round"], max_width=60))


# -- kg audit ------------------------------------------------------------------------------
@cli.command()
@click.option("--method", type=click.Choice(METHODS), default="debtrank", show_default=True, help="Propagation method.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="CSV overriding the qualitative weights.")
@layer_option()
@format_option()
@pass_session
def audit(session, method, weights, layer, fmt):
    """Check the article's claims on losers, winners, mixed cases and domino stages.

    For each claim: agrees, disagrees, partly or cannot compute, with the numbers behind
    the verdict (impact h, gain, round, USD loss) and the chain.

    \b
    Examples:
      kg audit
      kg audit --layer article --format json
    """
    _use_language(session)
    from kg.analysis.audit import audit as run_audit
    from kg.output import render

    rows = run_audit(session.store, None, layer, method, weights)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    _note(f"{len(rows)} claim(s): " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    if fmt == "json":
        return emit(render(rows, "json"))
    out = [{"claimed": r["claimed"], "actor": _name(r["actor"], r["label"]), "result": r["result"], "h": round(r["h"], 4),
            "gain": round(r["gain"], 4), "round": r["round"] or "", "loss": _usd(r["loss_usd"]) if fmt == "table" else _raw(r["loss_usd"]),
            "reason": r["reason"], "chain": _path(r["chain"], r["label"]), "claim": r["claim"], "id": r["actor"],
            "source": r["source"]} for r in rows]
    emit(render(out, fmt, columns=None if fmt in ROW_FORMATS else ["claimed", "actor", "result", "h", "gain", "round", "loss",
                                                              "reason"], max_width=70))
