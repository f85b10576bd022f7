"""A seeded, scale-free synthetic AI industry in the project's ontology (for tests and benchmarks).

``generate(n_companies, seed)`` yields pyoxigraph quads: companies with labels and a revenue
figure, and qualified relationships between them (compute contracts, cloud purchases, chip
supply, manufacturing, equity investments, funding commitments, stakes, API dependence,
revenue shares) with amounts, qualifiers and statuses, all in one named graph whose source
belongs to the user layer. Partners are drawn by preferential attachment (Barabási–Albert):
each new company ties to ``rels_per_company // 2`` earlier ones chosen with probability
proportional to their degree, so each company takes part in about ``rels_per_company``
relationships on average and the degrees follow a power law. The same seed gives the same
graph. ``write(path, …)`` serialises it (N-Quads or TriG keep the named graph; Turtle and
N-Triples hold the triples only).

Command line: ``python -m kg.synthetic 1000 --seed 1 -o synthetic-1000.nq``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

__all__ = ["generate", "write", "KINDS", "graph_iri"]

#: Relationship kinds drawn, with their from- and to-role and relative frequency.
KINDS = (
    ("ComputeContract", "customer", "supplier", 0.15),
    ("CloudServicesPurchase", "customer", "supplier", 0.15),
    ("ChipSupply", "customer", "supplier", 0.12),
    ("Manufacturing", "customer", "supplier", 0.08),
    ("EquityInvestment", "investor", "investee", 0.12),
    ("FundingCommitment", "investor", "investee", 0.08),
    ("Stake", "investor", "investee", 0.10),
    ("APIDependence", "dependent", "provider", 0.12),
    ("RevenueShare", "payer", "payee", 0.08),
)
_STATUSES = (("InForce", 0.45), ("Committed", 0.40), ("Intended", 0.10), ("Hypothetical", 0.05))
_QUALIFIERS = (("Exact", 0.6), ("About", 0.2), ("UpTo", 0.15), ("Reported", 0.05))


def graph_iri(seed: int) -> str:
    from kg.vocab import GRAPH

    return f"{GRAPH}synthetic/{seed}"


def _attachments(n: int, m: int, rng):
    """Pairs (new, earlier) of a Barabási–Albert graph: m earlier partners per new node."""
    import numpy as np

    m = max(1, m)
    seed_nodes = min(n, m + 1)
    src, dst = [], []
    for i in range(1, seed_nodes):
        for j in range(i):
            src.append(i)
            dst.append(j)
    ends = list(src) + list(dst) or [0]
    ends_arr = np.empty(max(16, 2 * n * m + len(ends)), dtype=np.int64)
    ends_arr[: len(ends)] = ends
    filled = len(ends)
    for i in range(seed_nodes, n):
        picks = set()
        tries = 0
        while len(picks) < min(m, i) and tries < 10 * m:
            picks.add(int(ends_arr[rng.integers(0, filled)]))
            tries += 1
        for j in picks:
            src.append(i)
            dst.append(j)
        k = len(picks)
        ends_arr[filled: filled + k] = list(picks)
        ends_arr[filled + k: filled + 2 * k] = i
        filled += 2 * k
    return np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)


def generate(n_companies: int, seed: int = 0, rels_per_company: int = 10) -> Iterator:
    """Yield the quads of a synthetic industry of ``n_companies`` companies.

    Examples
    --------
    >>> quads = list(generate(50, seed=1))
    >>> len(quads) == len(list(generate(50, seed=1)))
    True
    """
    import numpy as np
    import pyoxigraph as ox

    from kg.vocab import DCTERMS, FIG, KG, KGR, RDF, RDFS, REL, SCHEMA, SRC, XSD

    rng = np.random.default_rng(seed)
    g = ox.NamedNode(graph_iri(seed))
    nn = ox.NamedNode
    a, label, src_p = nn(RDF.type), nn(RDFS.label), nn(DCTERMS.source)
    kind_p, status_p, amount_p, qual_p = nn(KG.kind), nn(KG.status), nn(KG.amount), nn(KG.qualifier)
    value_p, cur_p, usd = nn(SCHEMA.value), nn(SCHEMA.currency), ox.Literal("USD")
    dec = nn(XSD.decimal)
    source = nn(SRC + f"synthetic-{seed}")
    yield ox.Quad(source, a, nn(KG.Source), g)
    yield ox.Quad(source, nn(KG.layer), nn(KG.UserLayer), g)
    yield ox.Quad(source, nn(KG.namedGraph), g, g)
    yield ox.Quad(source, nn(DCTERMS.title), ox.Literal(f"Synthetic industry, {n_companies} companies, seed {seed}", language="en"), g)

    companies = [nn(f"{KGR}synth/C{i:07d}") for i in range(n_companies)]
    # Sizes: lognormal revenue around US$2B, larger for the early (well-connected) companies.
    revenue = np.exp(rng.normal(np.log(2e9), 1.2, n_companies)) * (1 + 20 / np.sqrt(1 + np.arange(n_companies)))
    company_cls, fig_cls, figure_of, metric_p = nn(KG.Company), nn(KG.FinancialFigure), nn(KG.figureOf), nn(KG.metric)
    rev_metric = nn(KG.Revenue)
    exact = nn(KG.Exact)
    for i, c in enumerate(companies):
        yield ox.Quad(c, a, company_cls, g)
        yield ox.Quad(c, label, ox.Literal(f"Synthetic company {i}", language="en"), g)
        yield ox.Quad(c, label, ox.Literal(f"合成公司 {i}", language="zh-Hant"), g)
        f = nn(f"{FIG}synth-C{i:07d}-revenue")
        amt = ox.BlankNode()
        yield ox.Quad(f, a, fig_cls, g)
        yield ox.Quad(f, figure_of, c, g)
        yield ox.Quad(f, metric_p, rev_metric, g)
        yield ox.Quad(f, src_p, source, g)
        yield ox.Quad(f, amount_p, amt, g)
        yield ox.Quad(amt, value_p, ox.Literal(f"{revenue[i]:.0f}", datatype=dec), g)
        yield ox.Quad(amt, cur_p, usd, g)
        yield ox.Quad(amt, qual_p, exact, g)  # every amount states its qualifier (ontology/shapes.ttl)

    newer, older = _attachments(n_companies, rels_per_company // 2, rng)
    k = len(newer)
    probs = np.array([p for *_, p in KINDS])
    kinds = rng.choice(len(KINDS), size=k, p=probs / probs.sum())
    flip = rng.random(k) < 0.5
    st = rng.choice(len(_STATUSES), size=k, p=[p for _, p in _STATUSES])
    qu = rng.choice(len(_QUALIFIERS), size=k, p=[p for _, p in _QUALIFIERS])
    has_amount = rng.random(k) < 0.7
    amounts = np.exp(rng.normal(np.log(3e8), 1.5, k))
    rel_cls = nn(KG.Relationship)
    kind_nodes = [nn(KG[name]) for name, *_ in KINDS]
    roles = [(nn(KG[f]), nn(KG[t])) for _, f, t, _ in KINDS]
    statuses = [nn(KG[s]) for s, _ in _STATUSES]
    qualifiers = [nn(KG[q]) for q, _ in _QUALIFIERS]
    for r in range(k):
        x, y = (companies[newer[r]], companies[older[r]]) if flip[r] else (companies[older[r]], companies[newer[r]])
        rel = nn(f"{REL}synth-{seed}-{r:08d}")
        from_role, to_role = roles[kinds[r]]
        yield ox.Quad(rel, a, rel_cls, g)
        yield ox.Quad(rel, kind_p, kind_nodes[kinds[r]], g)
        yield ox.Quad(rel, from_role, x, g)
        yield ox.Quad(rel, to_role, y, g)
        yield ox.Quad(rel, status_p, statuses[st[r]], g)
        yield ox.Quad(rel, src_p, source, g)
        if has_amount[r]:
            amt = ox.BlankNode()
            yield ox.Quad(rel, amount_p, amt, g)
            yield ox.Quad(amt, value_p, ox.Literal(f"{amounts[r]:.0f}", datatype=dec), g)
            yield ox.Quad(amt, cur_p, usd, g)
            yield ox.Quad(amt, qual_p, qualifiers[qu[r]], g)


def write(path: str | Path, n_companies: int, seed: int = 0, rels_per_company: int = 10) -> int:
    """Write the synthetic industry to ``path`` (format by suffix: .nq, .trig, .nt, .ttl);
    returns the number of quads written."""
    import pyoxigraph as ox

    from kg.store import rdf_format

    path = Path(path)
    fmt = rdf_format(path)
    quads = list(generate(n_companies, seed, rels_per_company))
    items = quads if fmt.supports_datasets else [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    from kg.vocab import PREFIXES

    prefixes = None if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES) else PREFIXES
    ox.serialize(items, output=str(path), format=fmt, prefixes=prefixes)
    return len(quads)


def main(argv=None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="python -m kg.synthetic", description="Write a seeded synthetic AI industry.")
    p.add_argument("n_companies", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rels-per-company", type=int, default=10)
    p.add_argument("-o", "--output", required=True, help="file to write (.nq, .trig, .nt or .ttl)")
    args = p.parse_args(argv)
    n = write(args.output, args.n_companies, args.seed, args.rels_per_company)
    print(f"wrote {n} quads to {args.output}")


if __name__ == "__main__":  # pragma: no cover
    main()
