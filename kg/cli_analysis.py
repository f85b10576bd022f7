"""The analysis commands: chains, cycles, exposure, domino, scenarios, scenario run, audit.

Thin click commands: each parses its options, calls one function of :mod:`kg.analysis` and
renders the rows. numpy, scipy and networkx are imported inside the commands only, so that the
other commands start fast.
"""

from __future__ import annotations

import click

from kg.analysis.debtrank import DEFAULT_METHOD, METHODS
from kg.cli import cli, emit, format_option, layer_option, pass_session

__all__ = ["chains", "cycles", "exposure", "domino", "scenarios", "scenario", "audit"]

ROW_FORMATS = ("csv", "jsonl")  # flat records, one per row (kg.output.ROW_FORMATS)


def _json_kinds(kg, payload):
    """The analysis's JSON with relationship kinds spelled as kg show and kg claims spell them:
    ``kind`` the kind's ``skos:notation`` (``funding-commitment``) and ``kind_label`` its English
    label beside it, both read from the graph (named query ``viz-kinds``). The analysis itself
    keeps comparing local names; only its output is respelled."""
    from kg.explore import local_name
    from kg.queries import load_query

    if kg is None:  # a user's --edges network: no kinds
        return payload
    kinds = {local_name(r["kind"]): (r["notation"], r["label"] or r["notation"])
             for r in kg.select(load_query("viz-kinds").text)}

    def walk(x):
        if isinstance(x, dict):
            out = {}
            for k, v in x.items():
                if k == "kind" and isinstance(v, str) and v in kinds:
                    out["kind"], label = kinds[v]
                    out.setdefault("kind_label", label)
                else:
                    out[k] = walk(v)
            return out
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        return x

    return walk(payload)


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
        return emit(render(_json_kinds(session.store, [{**c.as_dict(), "distance": res.distance.get(c.target)}
                                                        for c in res.chains]), "json"))
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
        return emit(render(_json_kinds(session.store, [c.as_dict() for c in res.cycles]), "json"))
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
def _pct(x) -> str:
    return "" if x is None else f"{100 * x:.1f}%" if x < 10 else f"{x:.1f}×"


def _h_text(r) -> str:
    b = (r.bands or {}).get("h") if getattr(r, "bands", None) else None
    if not b:
        return f"{r.h:.3g}"
    return f"{b['p50']:.2f} [{b['p5']:.2f}–{b['p95']:.2f}]"


def _loss_text(r) -> str:
    if r.loss_usd is None:
        return ""
    b = (r.bands or {}).get("loss_usd") if getattr(r, "bands", None) else None
    unit = "/yr" if getattr(r, "unit", None) == "usd_per_year" else ""
    if not b:
        return _usd(r.loss_usd) + unit
    return f"{_usd(b['p50'])} [{_usd(b['p5'])}–{_usd(b['p95'])}]{unit}"


_BASIS = {"equity": "equity", "assets-less-liabilities": "assets − liabilities", "cash-needs": "cash needs/yr",
          "imputed-equity": "imputed equity*"}


def _exposure_rows(res, fmt):
    rows = []
    economic = hasattr(res, "spectral_radius")
    for k, r in enumerate(res.rows, 1):
        row = {"rank": k, "actor": _name(r.id, r.label), "h": round(r.h, 4), "round": r.round,
               "chain": _path(r.chain, r.label), "relationships": _rels(r.chain), "sources": _sources(r.chain), "id": r.id}
        if not economic:
            row["loss"] = _usd(r.loss_usd) if fmt == "table" else _raw(r.loss_usd)
            rows.append(row)
            continue
        b = r.bands or {}
        if fmt == "table":
            row.update({"h": _h_text(r), "loss": _loss_text(r),
                        "capacity": (_usd(r.capacity_usd) + " " + _BASIS.get(r.capacity_basis, "")).strip()
                        if r.capacity_usd else "",
                        "at risk/yr": _usd(r.usd_per_year), "of revenue": _pct(r.share_of_revenue),
                        "P(top 10)": "" if r.p_top10 is None or r.shocked else f"{r.p_top10:.2f}",
                        "basis": r.basis})
        else:
            row.update({"h_p5": b.get("h", {}).get("p5"), "h_p50": b.get("h", {}).get("p50"),
                        "h_p95": b.get("h", {}).get("p95"), "loss_usd": _raw(r.loss_usd),
                        "capacity_usd": _raw(r.capacity_usd), "capacity_basis": r.capacity_basis, "unit": r.unit,
                        "usd_at_risk": _raw(r.usd_at_risk), "usd_per_year": _raw(r.usd_per_year),
                        "usd_this_year": _raw(r.usd_this_year), "usd_over_term": _raw(r.usd_over_term),
                        "share_of_revenue": r.share_of_revenue, "share_of_equity": r.share_of_equity,
                        "p_top3": r.p_top3, "p_top10": r.p_top10, "basis": r.basis, "imputed": r.imputed,
                        "market_value_at_risk_usd": _raw(r.market_value_at_risk_usd)})
        rows.append(row)
    return rows


def _gain_rows(gains):
    return [{"rank": k, "actor": _name(g.id, g.label) + (" (group total)" if g.group else ""),
             "gain/yr": _usd(g.gain_usd_per_year), "gain_usd_per_year": _raw(g.gain_usd_per_year),
             "gain": round(g.gain, 4), "h": round(g.h, 4), "net": "" if g.net is None else round(g.net, 4),
             "via": "; ".join(dict.fromkeys(f"{v['rule']}" + (f" ({_local(v['from'])})" if v.get("from") else "")
                                           for v in g.via)),
             "relationships": "; ".join(dict.fromkeys(_local(v["rel"]) for v in g.via if v.get("rel"))), "id": g.id}
            for k, g in enumerate(gains, 1)]


def _as_of(value):
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


def _model_options(f):
    f = click.option("--seed", type=click.IntRange(0), help="Seed of the sampled runs (default: the model's, 1).")(f)
    f = click.option("--samples", type=click.IntRange(0),
                     help="Sampled runs for the bands (default: the model's, 2000; 0: the point run only).")(f)
    f = click.option("--as-of", "as_of", metavar="DATE",
                     help="Date deciding what is in force, backlog or ended (YYYY-MM-DD; default: the article's date).")(f)
    return f


@cli.command()
@click.argument("name", metavar="[NAME]", required=False)
@click.option("--shock", metavar="NAME", help="The actor that fails (the same as NAME; any name, or a node of --edges).")
@click.option("--severity", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Initial distress of the shocked actor, 0..1.")
@click.option("--method", type=click.Choice(METHODS), default=DEFAULT_METHOD, show_default=True,
              help="linear (Bardoscia 2015, uncapped leverage), debtrank (Battiston 2012) or direct (first round only).")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False),
              help="CSV (channel,kind,weight) overriding the qualitative weights of data/model/model.trig.")
@click.option("--edges", type=click.Path(exists=True, dir_okay=False),
              help="Your own network: CSV exposed,counterparty,amount (needs --sizes; no RDF).")
@click.option("--sizes", type=click.Path(exists=True, dir_okay=False), help="CSV entity,size for --edges.")
@click.option("--top", type=click.IntRange(1), help="Show only the first N rows of each table.")
@_model_options
@_channels_option()
@layer_option()
@format_option()
@pass_session
def exposure(session, name, shock, severity, method, weights, edges, sizes, top, as_of, samples, seed, channel, layer, fmt):
    """Who is hurt most if NAME fails, and who gains.

    Per actor: h in [0, 1] (the sampled p50 and its p5–p95 band), the USD loss h × capacity
    (equity, or a year's cash needs), the revenue at risk per year and as a share of revenue,
    the probability of ranking in the top 10, the round in which it is first hit and the chain
    that carried most of its loss. Then the gains (substitution revenue per year, customers'
    bargaining power). R, the spectral radius and the as-of date are on stderr.

    \b
    Examples:
      kg exposure OpenAI
      kg exposure OpenAI --as-of 2027-06-30 --samples 5000 --seed 7
      kg exposure OpenAI --layer article --method debtrank
      kg exposure 甲骨文 --severity 0.5 --format json
      kg exposure --edges edges.csv --sizes sizes.csv --shock A
    """
    _use_language(session)
    from kg.output import render

    if name and shock and name != shock:
        raise click.UsageError("give the shocked actor once: NAME or --shock NAME")
    shock = name or shock
    if not shock:
        raise click.UsageError("missing the actor that fails: kg exposure NAME (or --shock NAME)")
    if bool(edges) != bool(sizes):
        raise click.UsageError("--edges and --sizes go together")
    chosen = _parse_channels(channel)
    date = _as_of(as_of)
    gains = []
    if edges:
        if weights or chosen:
            raise click.UsageError("--weights and --channel apply to the graph, not to --edges networks")
        if date or samples or seed is not None:
            raise click.UsageError("--as-of, --samples and --seed apply to the graph, not to --edges networks")
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
        n = int(model.param("samples")) if samples is None else samples
        s = int(model.param("seed")) if seed is None else seed
        res = rank_exposure(kg, iri, severity, method, layer, model=model, view=view, channels=chosen, top=top,
                            as_of=date, samples=n, seed=s)
        gains = rank_gains(kg, res, layer, model, base_view=view)
    for n_ in res.notes:
        _note(f"note: {n_}")
    losses, gain_rows = _exposure_rows(res, fmt), _gain_rows(gains)
    if top:
        losses, gain_rows = losses[:top], gain_rows[:top]
    if hasattr(res, "spectral_radius"):
        _note(f"{res.method} as of {res.as_of}: {len(res.h)} actor(s) hit in {res.rounds} round(s); R = {res.R:.4f} "
              f"(actors with a stated equity; imputed apart: {res.R_imputed:.4f}); spectral radius of Λ "
              f"{res.spectral_radius:.3g}; bands: {res.samples} samples, seed {res.seed}")
        if any(r.imputed for r in res.rows):
            _note("* imputed equity: revenue × the graph's median equity/revenue ratio (kept out of R)")
        mv = sorted((r for r in res.rows if getattr(r, "market_value_at_risk_usd", None)),
                    key=lambda r: (-r.market_value_at_risk_usd, r.id))
        if mv:  # the largest five on one line; the rest are in the JSON rows
            more = f"; and {len(mv) - 5} more (JSON: market_value_at_risk_usd)" if len(mv) > 5 else ""
            _note("market value of stakes lost (reported apart, not in h: stakes are booked at their carrying value): "
                  + "; ".join(f"{r.label} {_usd(r.market_value_at_risk_usd)}" for r in mv[:5]) + more)
    else:
        _note(f"{res.method}: {len(res.h)} actor(s) hit in {res.rounds} round(s); R = {res.R:.4f}"
              + ("" if res.converged else " (not converged)"))
    if fmt == "json":
        head = {"shock": res.shock, "severity": res.severity, "method": res.method, "layer": res.layer, "R": res.R,
                "rounds": res.rounds}
        if hasattr(res, "spectral_radius"):
            head.update({"as_of": res.as_of.isoformat(), "R_imputed": res.R_imputed,
                         "spectral_radius": res.spectral_radius, "samples": res.samples, "seed": res.seed})
        return emit(render(_json_kinds(None if edges else kg, {**head, "losses": [r.as_dict() for r in res.rows][:top or None],
                                            "gains": [g.as_dict() for g in gains][:top or None],
                                            "notes": res.notes}), "json"))
    if fmt in ROW_FORMATS:
        rows = [{"effect": "loss", **r} for r in losses] + [{"effect": "gain", **g} for g in gain_rows]
        extra = ["h_p5", "h_p50", "h_p95", "loss_usd", "capacity_usd", "capacity_basis", "unit", "usd_at_risk",
                 "usd_per_year", "usd_this_year", "usd_over_term", "share_of_revenue", "share_of_equity", "p_top3",
                 "p_top10", "basis", "imputed", "market_value_at_risk_usd"] if hasattr(res, "spectral_radius") else ["loss"]
        return emit(render(rows, fmt, columns=["effect", "rank", "actor", "h"] + extra + [
            "gain", "gain_usd_per_year", "net", "round", "chain", "via", "relationships", "sources", "id"]))
    if hasattr(res, "spectral_radius"):
        cols = ["rank", "actor", "h", "loss", "capacity", "at risk/yr", "of revenue", "P(top 10)", "round", "chain"]
    else:
        cols = ["rank", "actor", "h", "loss", "round", "chain"]
    emit("losses:\n" + render(losses, "table", columns=cols, max_width=60))
    if gain_rows:
        emit("\ngains:\n" + render(gain_rows, "table", columns=["rank", "actor", "gain/yr", "gain", "h", "net", "via"],
                                   max_width=60))


# -- kg domino -----------------------------------------------------------------------------
def _samples_seed(session, samples, seed):
    from kg.analysis.model import load_model

    model = load_model(session.store)
    return (int(model.param("samples")) if samples is None else samples,
            int(model.param("seed")) if seed is None else seed)


@cli.command()
@click.argument("name")
@click.option("--severity", type=click.FloatRange(0, 1), default=1.0, show_default=True, help="Initial distress, 0..1.")
@click.option("--method", type=click.Choice(METHODS), default=DEFAULT_METHOD, show_default=True, help="Propagation method.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="CSV overriding the qualitative weights.")
@_model_options
@layer_option()
@format_option()
@pass_session
def domino(session, name, severity, method, weights, as_of, samples, seed, layer, fmt):
    """The cascade from NAME round by round, next to the article's domino stages.

    Each actor: its round, its stage in the model (the largest stage of the channels along the
    chain that carried its loss: capital side 1, supply chain 2, demand side 3), h with its
    band and the USD loss. For each actor a source puts in a stage: whether the model places it
    in that stage (agrees), earlier or later.

    \b
    Examples:
      kg domino OpenAI
      kg domino OpenAI --layer article --format json
    """
    _use_language(session)
    from kg.analysis.domino import run_domino
    from kg.output import render

    n, s = _samples_seed(session, samples, seed)
    res = run_domino(session.store, _resolve(session, name), layer, method, severity, weights, as_of=_as_of(as_of),
                     samples=n, seed=s)

    def h_text(a):
        b = (a.get("bands") or {}).get("h")
        return f"{b['p50']:.2f} [{b['p5']:.2f}–{b['p95']:.2f}]" if b and fmt == "table" else round(a["h"], 4)

    rounds = [{"round": k, "stage": a["model_stage"] or "", "actor": _name(a["id"], a["label"]), "h": h_text(a),
               "loss": _usd(a["loss_usd"]) if fmt == "table" else _raw(a["loss_usd"]),
               "chain": _path(a["chain"], a["label"]), "relationships": _rels(a["chain"]), "id": a["id"]}
              for k in sorted(res.rounds) for a in res.rounds[k]]
    stages = [{"stage": s_["stage"], "actor": _name(s_["actor"], s_["label"]), "model stage": s_["model_stage"] or "",
               "model round": s_["model_round"] or "", "h": round(s_["h"], 4), "agreement": s_["agreement"],
               "chain": _path(s_["chain"], s_["label"]), "stage label": s_["stage_label"], "id": s_["actor"]}
              for s_ in res.stages]
    _note(f"{len(res.rounds)} round(s); {sum(1 for s_ in res.stages if s_['agreement'] == 'agrees')} of "
          f"{len(res.stages)} stage placements agree; as of {res.exposure.as_of}")
    if fmt == "json":
        return emit(render(_json_kinds(session.store, {"shock": res.shock, "as_of": res.exposure.as_of.isoformat(),
                                                       "rounds": rounds, "stages": res.stages}), "json"))
    if fmt in ROW_FORMATS:
        rows = [{"record": "round", **r} for r in rounds] + [{"record": "stage", **s_} for s_ in stages]
        return emit(render(rows, fmt, columns=["record", "round", "stage", "actor", "h", "loss", "model stage",
                                                 "model round", "agreement", "chain", "relationships", "stage label",
                                                 "id"]))
    emit("model, round by round:\n" + render(rounds, "table", columns=["round", "stage", "actor", "h", "loss", "chain"],
                                             max_width=70))
    emit("\narticle's stages vs the model:\n"
         + render(stages, "table", columns=["stage", "actor", "model stage", "model round", "h", "agreement"],
                  max_width=70))


# -- kg scenario list / kg scenario run N (kg scenarios: deprecated) -----------------------
def _list_scenarios(session, fmt):
    from kg.analysis.scenarios import list_scenarios
    from kg.output import render

    rows = list_scenarios(session.store)
    if fmt not in ("json", "jsonl"):
        rows = [{**r, "settings": "; ".join(r["settings"])} for r in rows]
    emit(render(rows, fmt, columns=None if fmt == "json" else ["n", "label", "shock_label", "severity", "settings", "comment"],
                max_width=70))


@cli.command(hidden=True)
@format_option()
@pass_session
def scenarios(session, fmt):
    """Deprecated spelling of `kg scenario list`."""
    _note("note: `kg scenarios` is deprecated; use `kg scenario list`")
    _list_scenarios(session, fmt)


@cli.group()
def scenario():
    """The article's four futures as parameterised runs: `kg scenario list`, `kg scenario run N`."""


@scenario.command("list")
@format_option()
@pass_session
def scenario_list(session, fmt):
    """The article's four futures as parameterised runs (0 is the base case).

    Parameters live in data/model/model.trig; run one with `kg scenario run N`.

    \b
    Examples:
      kg scenario list
      kg scenario list --format json
    """
    _list_scenarios(session, fmt)


@scenario.command("run")
@click.argument("n", type=int)
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="CSV overriding the qualitative weights.")
@click.option("--top", type=click.IntRange(1), help="Show only the first N rows.")
@_model_options
@layer_option()
@format_option()
@pass_session
def scenario_run(session, n, weights, top, as_of, samples, seed, layer, fmt):
    """Run scenario N and compare it with the base case (scenario 0).

    Per actor: h and the USD loss (h × capacity) in the base case and in the scenario, the
    differences, and the gains; most hurt first.

    \b
    Examples:
      kg scenario run 2
      kg scenario run 4 --samples 0
      kg scenario run 1 --as-of 2027-06-30
      kg scenario run 1 --layer context --format csv
    """
    _use_language(session)
    from kg.analysis.model import load_model
    from kg.analysis.scenarios import run_scenario
    from kg.output import render

    available = [s.order for s in load_model(session.store).scenarios]
    if n not in available:
        raise click.BadParameter(f"no scenario {n}; available: {', '.join(map(str, available))}", param_hint="N")
    k, s_ = _samples_seed(session, samples, seed)
    res = run_scenario(session.store, n, layer, weights, samples=k, seed=s_, as_of=_as_of(as_of))
    s = res.scenario
    _note(f"scenario {s.order}: {s.label}\n  {s.comment}\n  R = {res.run.R:.4f} (base case {res.base.R:.4f})")
    rows = res.rows[:top] if top else res.rows
    if fmt == "json":
        return emit(render(_json_kinds(session.store, {"scenario": s.iri, "label": s.label, "future": s.future,
                                                       "R": res.run.R, "R_base": res.base.R, "rows": rows}), "json"))

    def band(r):
        b = (r.get("bands") or {}).get("h")
        return f"{b['p50']:.2f} [{b['p5']:.2f}–{b['p95']:.2f}]" if b else round(r["h"], 4)

    out = [{"actor": _name(r["id"], r["label"]), "h base": round(r["h_base"], 4),
            "h": band(r) if fmt == "table" else round(r["h"], 4), "Δh": round(r["delta_h"], 4),
            "loss base": _usd(r["loss_usd_base"]) if fmt == "table" else _raw(r["loss_usd_base"]),
            "loss": _usd(r["loss_usd"]) if fmt == "table" else _raw(r["loss_usd"]),
            "gain": round(r["gain"], 4), "gain/yr": _usd(r["gain_usd_per_year"]) if fmt == "table" else _raw(r["gain_usd_per_year"]),
            "round": r["round"] or "", "chain": _path(r["chain"], r["label"]), "id": r["id"]}
           for r in rows]
    emit(render(out, fmt, columns=None if fmt in ROW_FORMATS else ["actor", "h base", "h", "Δh", "loss base", "loss",
                                                              "gain", "gain/yr", "round"], max_width=60))


# -- kg audit ------------------------------------------------------------------------------
@cli.command()
@click.option("--method", type=click.Choice(METHODS), default=DEFAULT_METHOD, show_default=True, help="Propagation method.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="CSV overriding the qualitative weights.")
@click.option("--as-of", "as_of", metavar="DATE", help="Date deciding what is in force (default: the article's date).")
@layer_option()
@format_option()
@pass_session
def audit(session, method, weights, as_of, layer, fmt):
    """Check the article's claims on losers, winners, mixed cases and domino stages.

    For each claim: agrees, disagrees, partly, cannot compute or not an economic claim, with
    the numbers behind the verdict (h, gain, round, model stage, USD loss) and the chain.

    \b
    Examples:
      kg audit
      kg audit --layer article --format json
    """
    _use_language(session)
    from kg.analysis.audit import audit as run_audit
    from kg.output import render

    rows = run_audit(session.store, None, layer, method, weights, as_of=_as_of(as_of))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    _note(f"{len(rows)} claim(s): " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    if fmt == "json":
        return emit(render(_json_kinds(session.store, rows), "json"))
    out = [{"claimed": r["claimed"], "actor": _name(r["actor"], r["label"]), "result": r["result"], "h": round(r["h"], 4),
            "gain": round(r["gain"], 4), "round": r["round"] or "", "stage": r["model_stage"] or "",
            "loss": _usd(r["loss_usd"]) if fmt == "table" else _raw(r["loss_usd"]),
            "reason": r["reason"], "chain": _path(r["chain"], r["label"]), "claim": r["claim"], "id": r["actor"],
            "source": r["source"]} for r in rows]
    emit(render(out, fmt, columns=None if fmt in ROW_FORMATS else ["claimed", "actor", "result", "h", "gain", "stage", "loss",
                                                              "reason"], max_width=70))
