"""What the analysis adds to a page: impact of a failure, dependency chains, circular flows."""

from __future__ import annotations

__all__ = ["mark_exposure", "mark_chains", "mark_cycles"]


def mark_exposure(graph, kg, shock: str, *, severity=1.0, method="linear", layer="all", samples=None,
                  seed=None) -> None:
    """Give each actor the economic model's figures if ``shock`` fails (see
    :func:`kg.analysis.exposure.rank_exposure`): ``impact`` (h in [0, 1]), ``impact_p5``,
    ``impact_p50``, ``impact_p95`` (the sampled band), ``loss`` (USD, h × capacity),
    ``capacity`` and ``capacity_basis``, ``usd_per_year`` (revenue at risk a year), ``round``
    and ``impact_chain`` (the chain that carried most of its loss, with the band and the
    capacity, which the hover box shows); to those who gain (:func:`kg.analysis.gains.rank_gains`)
    ``gain`` (a share), ``gain_usd_per_year`` and ``net`` = gain − impact."""
    from kg.analysis.exposure import rank_exposure
    from kg.analysis.model import load_model
    from kg.output import format_amount

    model = load_model(kg)
    n = int(model.param("samples")) if samples is None else samples
    s = int(model.param("seed")) if seed is None else seed
    result = rank_exposure(kg, shock, severity=severity, method=method, layer=layer, model=model, samples=n, seed=s)
    for row in result.rows:
        if row.id not in graph:
            continue
        data = graph.nodes[row.id]
        data.update(impact=float(row.h), loss=None if row.loss_usd is None else float(row.loss_usd),
                    round=None if row.round is None else int(row.round), capacity=row.capacity_usd,
                    capacity_basis=row.capacity_basis, usd_per_year=row.usd_per_year)
        if row.loss_usd is not None:
            per = "/yr" if row.unit == "usd_per_year" else ""
            data["loss_text"] = format_amount(row.loss_usd, "USD") + per  # the CLI's format, not the browser's
        band = (row.bands or {}).get("h")
        if band:
            data.update(impact_p5=band["p5"], impact_p50=band["p50"], impact_p95=band["p95"])
        if row.shocked:
            data["shock"] = True
        notes = []
        if band:
            notes.append(f"h p50 {band['p50']:.2f} [{band['p5']:.2f}–{band['p95']:.2f}]")
        if row.capacity_usd:
            per = "/yr" if row.unit == "usd_per_year" else ""
            notes.append(f"capacity {format_amount(row.capacity_usd)}{per} ({row.capacity_basis})")
        if row.usd_per_year:
            notes.append(f"at risk {format_amount(row.usd_per_year)}/yr")
        chain = ""
        if row.chain:
            names = [row.chain[0]["from"]] + [hop["to"] for hop in row.chain]
            chain = " → ".join(graph.nodes[n]["label"] if n in graph else n for n in names)
        if chain or notes:
            data["impact_chain"] = "; ".join(([chain] if chain else []) + notes)
    for _, data in graph.nodes(data=True):
        data.setdefault("impact", 0.0)
    from kg.analysis.gains import rank_gains

    for row in rank_gains(kg, result, layer=layer, model=model):
        if row.id in graph and row.gain > 0:
            graph.nodes[row.id].update(gain=float(row.gain), net=float(row.gain - row.h),
                                       gain_usd_per_year=row.gain_usd_per_year)
    graph.nodes[shock]["shock"] = True
    graph.graph["overlays"]["exposure"] = {
        "shock": shock, "severity": float(severity), "method": method, "R": float(result.R),
        "rounds": result.rounds, "hit": sum(1 for r in result.rows if r.h > 0), "notes": list(result.notes),
        "as_of": result.as_of.isoformat(), "spectral_radius": result.spectral_radius, "samples": result.samples,
        "seed": result.seed,
    }


def mark_chains(graph, kg, source: str, target: str, *, layer="all", max_depth=5) -> None:
    """Mark (``highlight="chain"``) the relationships and actors of every dependency chain from
    ``source`` to ``target``; see :func:`kg.analysis.chains.find_chains`."""
    from kg.analysis.chains import find_chains
    from kg.analysis.view import build_view

    result = find_chains(build_view(kg, layer=layer), source, target, max_depth=max_depth)
    by_rel = _edges_by_rel(graph)
    for chain in result.chains:
        _mark(graph, by_rel, chain.nodes, chain.hops, "chain")
    for iri in (source, target):
        graph.nodes[iri]["highlight"] = "chain"
    graph.graph["overlays"]["chain"] = {"from": source, "to": target, "count": len(result.chains),
                                        "capped": result.capped, "max_depth": max_depth}


def mark_cycles(graph, kg, *, layer="all", max_length=6) -> None:
    """Mark (``highlight="cycle"``) the relationships and actors of every circular money flow;
    see :func:`kg.analysis.cycles.find_cycles` on the payer → payee graph."""
    from kg.analysis.cycles import find_cycles
    from kg.analysis.view import build_money_graph

    result = find_cycles(build_money_graph(kg, layer=layer), max_length=max_length)
    by_rel = _edges_by_rel(graph)
    for cycle in result.cycles:
        _mark(graph, by_rel, cycle.nodes, [r for leg in cycle.legs for r in leg["rels"]], "cycle")
    graph.graph["overlays"]["cycles"] = {"count": len(result.cycles), "capped": result.capped,
                                         "max_length": max_length}


def _edges_by_rel(graph) -> dict[str, list]:
    by_rel: dict[str, list] = {}
    for u, v, key, rel in graph.edges(keys=True, data="rel"):
        if rel:
            by_rel.setdefault(rel, []).append((u, v, key))
    return by_rel


def _mark(graph, by_rel, nodes, hops, tag: str) -> None:
    """Highlight the actors and, by relationship IRI (and the same deal told by other sources,
    ``also``), the edges of one chain or cycle."""
    for n in nodes:
        if n in graph:
            graph.nodes[n]["highlight"] = tag
    for hop in hops:
        for rel in [hop.get("rel"), *hop.get("also", [])]:
            for edge in by_rel.get(rel, []):
                graph.edges[edge]["highlight"] = tag
