"""The economic exposure model: flows in time, the right denominator per channel, the uncapped
linear DebtRank, and bands sampled over every assumption (docs/analysis.md).

For each relationship of the dependency view (``u → v``: v depends on u) the model works out
``A``, the US dollars ``v`` loses if ``u`` fails outright, in the unit of ``v``'s capacity:

* **revenue** (a supplier losing a customer's payments): the contract's value spread over its
  term is an annual run-rate; at the as-of date the contract is in force, backlog not yet
  started, or ended. ``A`` = the supplier's operating margin × what remains to be paid over the
  term (its lost operating income), against its equity.
* **equity** (an investor writing down a stake): the stake's value, or the part of an
  investment already paid (undrawn money is cash kept, not lost), against its equity.
* **funding** (an investee losing funding): the part not yet paid (× the probability of a
  letter of intent), against its cash needs.
* **supply** (a customer losing a supplier): the cost of replacing a year of its purchases.
* **acquisition** (scenarios): the acquiree's annual net loss for ``absorbed-loss-years``.

An actor's capacity is its stated equity (the smallest the sources give), else total assets less
total liabilities, else (for a cash-burning investee) a year's cash needs, else an equity imputed
from its revenue (flagged, kept out of R). Stock capacities take stock amounts (what is lost over
the term); a cash-needs capacity takes amounts per year. Λ_vu = A / capacity_v, uncapped; h is
capped at 1, so h × capacity = the USD loss exactly. Relationships without an amount hurt an
actor with a capacity not at all (they are listed as ``unquantified``); an actor without any
capacity is hurt through the qualitative weights of data/model/model.trig (h only, no USD).

Every uncertain input is drawn in each sample (vectorised: one array per edge × sample):
qualifiers ("about", "reported", "up to", "at least"), intended deals (happen or not), unknown
terms, default margins, drawn shares, replacement costs and qualitative weights.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from kg.analysis.debtrank import ConvergenceError
from kg.errors import InputError
from kg.queries import load_query

__all__ = ["Figure", "Financials", "EconomicModel", "EconomicResult", "EconomicRow", "read_financials",
           "build_economic", "run_economic", "economic_exposure", "period_years"]

_STOCK_METRICS = {"equity", "total-assets", "total-liabilities", "valuation", "market-value", "compute-commitments", "rpo"}
_DAYS = 365.25


def period_years(period: str | None, metric: str) -> float | None:
    """How many years a flow figure covers, from its period's wording: ``H1 2025`` → 0.5,
    ``Q1 FY2026`` or ``(one quarter)`` → 0.25, anything else → 1. Stocks (equity, assets,
    valuations, commitments) have none."""
    if metric in _STOCK_METRICS:
        return None
    text = (period or "").strip()
    if re.match(r"^H[12]\b", text):
        return 0.5
    if re.match(r"^Q[1-4]\b", text) or "one quarter" in text:
        return 0.25
    return 1.0


@dataclass(frozen=True)
class Figure:
    """One figure as the model uses it: ``value`` in USD (per year for flows, annualised from a
    half-year or a quarter), its qualifiers and the figure it comes from."""

    value: float
    metric: str
    figure: str
    source: str
    qualifiers: tuple[str, ...] = ()
    period: str | None = None
    years: float | None = None

    @property
    def annualised(self) -> bool:
        return self.years is not None and self.years != 1.0

    def as_dict(self) -> dict:
        return {"value_usd": self.value, "metric": self.metric, "figure": self.figure, "source": self.source,
                "qualifiers": list(self.qualifiers), "period": self.period, "annualised": self.annualised}


@dataclass
class Financials:
    """An actor's figures where its channels need them, and its capacity.

    ``capacity_basis``: ``equity`` (stated), ``assets-less-liabilities`` (derived), ``cash-needs``
    (a year's cash burn; amounts against it are per year), ``imputed-equity`` (revenue × the
    median equity/revenue ratio of the graph's actors; flagged, kept out of R) or None.
    """

    revenue: Figure | None = None
    operating_income: Figure | None = None
    equity: list[Figure] = field(default_factory=list)
    cash_needs: Figure | None = None
    net_loss: Figure | None = None
    capacity: float | None = None
    capacity_basis: str | None = None
    capacity_figures: list[Figure] = field(default_factory=list)

    @property
    def margin(self) -> float | None:
        if self.revenue and self.operating_income and self.revenue.value > 0:
            return self.operating_income.value / self.revenue.value
        return None

    @property
    def unit(self) -> str | None:
        """``usd`` (a stock: losses over the term) or ``usd_per_year`` (a cash-needs capacity)."""
        if self.capacity is None:
            return None
        return "usd_per_year" if self.capacity_basis == "cash-needs" else "usd"


def read_financials(kg, layer: str = "all") -> dict[str, Financials]:
    """Each actor's revenue, operating income, equity, cash needs and net loss from the graph's
    ``kg:FinancialFigure``s (named query ``analysis-figures``), and its capacity."""
    from kg.analysis.view import _layer_binding
    from kg.fx import usd_amount

    figs: dict[str, dict[str, dict]] = {}
    for r in kg.select(load_query("analysis-figures").text, _layer_binding(layer)):
        rec = figs.get(r["actor"], {}).get(r["figure"])
        if rec is None:
            # a figure in another currency is converted with the --fx rate, or it is an error
            value, fx = usd_amount(kg, r["figure"], r["value"], r["currency"])
            if value is None:
                continue
            rec = figs.setdefault(r["actor"], {}).setdefault(r["figure"], {
                "metric": r["metric"], "value": value, "source": r["source"], "period": r["period"], "q": [],
                "fx": fx})
        if r["qualifier"] and r["qualifier"] not in rec["q"]:
            rec["q"].append(r["qualifier"])
    out: dict[str, Financials] = {}
    for actor, by_fig in figs.items():
        f = Financials()
        per_metric: dict[str, list[Figure]] = {}
        for iri, rec in by_fig.items():
            years = period_years(rec["period"], rec["metric"])
            value = rec["value"] / years if years else rec["value"]
            per_metric.setdefault(rec["metric"], []).append(
                Figure(value, rec["metric"], iri, rec["source"], tuple(sorted(rec["q"])), rec["period"], years))

        def pick(metric, smallest=False):
            cands = per_metric.get(metric, [])
            if not cands:
                return None
            # full-year figures before annualised ones; then the largest (or the smallest)
            return sorted(cands, key=lambda x: (x.annualised, x.value if smallest else -x.value, x.figure))[0]

        f.revenue = pick("revenue")
        f.operating_income = pick("operating-income")
        f.cash_needs = pick("cash-burn")
        f.net_loss = pick("net-loss")
        eq = pick("equity", smallest=True)
        if eq is not None:
            f.equity = [eq]
            f.capacity, f.capacity_basis, f.capacity_figures = eq.value, "equity", [eq]
        elif pick("total-assets") and pick("total-liabilities"):
            a, li = pick("total-assets"), pick("total-liabilities")
            f.capacity, f.capacity_basis, f.capacity_figures = a.value - li.value, "assets-less-liabilities", [a, li]
        elif f.cash_needs is not None:
            f.capacity, f.capacity_basis, f.capacity_figures = f.cash_needs.value, "cash-needs", [f.cash_needs]
        out[actor] = f
    ratios = [f.capacity / f.revenue.value for f in out.values()
              if f.capacity_basis in ("equity", "assets-less-liabilities") and f.revenue and f.revenue.value > 0]
    if ratios:
        import numpy as np

        ratio = float(np.median(ratios))
        for f in out.values():
            if f.capacity is None and f.revenue is not None:
                f.capacity, f.capacity_basis, f.capacity_figures = f.revenue.value * ratio, "imputed-equity", [f.revenue]
        out["_ratio"] = (ratio, min(ratios), max(ratios))  # type: ignore[assignment]
    return out


# -- the edges ---------------------------------------------------------------------------------
@dataclass
class _Edge:
    u: int
    v: int
    channel: str
    kind: str
    data: dict
    amount: float | None
    quals: tuple[str, ...]
    status: str | None
    term: object = None
    kind_of_a: str = "qualitative"  # amount | qualitative | membership | unquantified
    extra: dict = field(default_factory=dict)


@dataclass
class EconomicModel:
    """The edges of a run with their sampling specification, ready for :func:`run_economic`."""

    nodes: list[str]
    labels: list[str]
    fin: list[Financials | None]
    edges: list[_Edge]
    model: object
    as_of: dt.date
    ratio: tuple | None
    view: object


def _years_between(a: dt.date, b: dt.date) -> float:
    return (b - a).days / _DAYS


def build_economic(view, fin: dict[str, Financials], model, as_of: dt.date | None = None, *,
                   scale: dict | None = None, only_channels=None) -> EconomicModel:
    """Turn a dependency view into the economic edges (no sampling yet)."""
    as_of = as_of or model.as_of or dt.date.today()
    # a canonical order (actors by IRI, relationships by their ends and key), not the order the
    # store returned the rows in, which SPARQL leaves open: the sampler draws its numbers per
    # actor and per edge in this order, so one seed gives the same bands on every store
    nodes = sorted(view.nodes, key=str)
    index = {x: k for k, x in enumerate(nodes)}
    labels = [str(view.nodes[x].get("label") or x) for x in nodes]
    fins = [fin.get(x) for x in nodes]
    scale = dict(scale or {})
    groups: dict[tuple, list[_Edge]] = {}
    edges: list[_Edge] = []
    for u, v, _, d in sorted(view.edges(keys=True, data=True), key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
        ch = d["channel"]
        if only_channels and ch not in only_channels and ch != "membership":
            continue
        sc = scale.get((ch, u), scale.get(ch, 1.0))
        if sc == 0.0:
            continue
        e = _Edge(index[u], index[v], ch, d.get("kind") or "", d, d.get("amount"), tuple(d.get("qualifiers") or ()),
                  d.get("status"))
        rels = [d.get("rel")] + list(d.get("also") or [])
        e.term = next((model.terms[r] for r in rels if r in model.terms), None)
        if ch == "membership":
            e.kind_of_a = "membership"
            edges.append(e)
            continue
        groups.setdefault((e.u, e.v, ch), []).append(e)
    for (u, v, ch), group in groups.items():
        with_amount = [e for e in group if e.amount is not None and ch in _AMOUNT_RULES]
        if ch == "equity":
            # a stake is booked at its carrying value: what was paid in (the investor's
            # funding relationships with an amount) where the graph has it; its market value is
            # reported apart (market_value_at_risk_usd), never summed into h. A stake with only
            # a market value is booked at market-value-carrying-share of it (basis noted).
            stakes = [e for e in with_amount if e.kind == "Stake"]
            paid = [e for e in with_amount if e.kind != "Stake"]
            if stakes and paid:
                with_amount = paid
                for e in paid:
                    e.extra["stake_basis"] = "paid-in"
                paid[0].extra["market_value"] = sum(x.amount for x in stakes)
            elif stakes:
                with_amount = stakes
                for e in stakes:
                    e.extra["stake_basis"] = "market value (no paid-in amount in the graph)"
                    e.extra["market_value"] = e.amount
        keep = with_amount or group
        cap = fins[v].capacity if fins[v] else None
        for e in keep:
            if ch == "acquisition" and e.amount is None and fins[u] and fins[u].net_loss and cap is not None:
                e.kind_of_a = "amount"  # the acquirer takes on the acquiree's stated net loss
            elif e.amount is not None and ch in _AMOUNT_RULES:
                # an amount into an actor without a capacity: its USD at risk is reported, its h
                # rests on the qualitative weight
                e.kind_of_a = "amount" if cap is not None else "amount-no-capacity"
            elif cap is not None:
                e.kind_of_a = "unquantified"
            else:
                e.kind_of_a = "qualitative"
            e.extra["scale"] = scale.get((ch, nodes[u]), scale.get(ch, 1.0))
            edges.append(e)
    counts: dict[int, int] = {}
    for e in edges:
        if e.kind_of_a == "membership":
            counts[e.v] = counts.get(e.v, 0) + 1
    for e in edges:
        if e.kind_of_a == "membership":
            e.extra["members"] = counts[e.v]  # the group's named members, reached by the shock or not
    ratio = fin.get("_ratio") if isinstance(fin.get("_ratio"), tuple) else None
    return EconomicModel(nodes, labels, fins, edges, model, as_of, ratio, view)


_AMOUNT_RULES = ("revenue", "equity", "funding", "supply", "acquisition")


# -- sampling ----------------------------------------------------------------------------------
@dataclass
class _Arrays:
    lam: object            # (m, S) Λ of each edge
    usd: object            # (m, S) A in USD (stock or per year, the dependent's unit), 0 where none
    rate: object           # (m, S) annual revenue run-rate at risk (revenue channel)
    now: object            # (m, S) revenue in force at the as-of date
    term: object           # (m, S) remaining revenue over the term
    cap: object            # (n, S) capacity (nan where none)
    init: object = None    # (n, S) distress at the start: losses an acquirer takes over


_MEM, _QUAL, _UNQ, _REV, _SUP, _EQ, _FUND, _ACQ, _ACQQ, _NONE = range(10)


def _qual_range(model, quals) -> tuple[float, float]:
    """The range of an amount's multiplier from its qualifiers: "about" ± about-spread,
    "reported" ± reported-spread (the wider of the two), "up to" [up-to-lower-bound, 1],
    "at least" [1, at-least-upper]; exact: [1, 1]. The point run takes the middle."""
    q = set(quals)
    spread = 0.0
    if "about" in q:
        spread = max(spread, model.param("about-spread"))
    if "reported" in q:
        spread = max(spread, model.param("reported-spread"))
    if "up-to" in q or "as-high-as" in q:
        lo, hi = model.param("up-to-lower-bound"), 1.0
    elif "at-least" in q:
        lo, hi = 1.0, model.param("at-least-upper")
    else:
        lo, hi = 1.0, 1.0
    return lo * (1.0 - spread), hi * (1.0 + spread)


def _spec(em: EconomicModel) -> dict:
    """Per-edge and per-actor constants of the sampler, worked out once per model (arrays)."""
    import numpy as np

    cached = getattr(em, "_spec_cache", None)
    if cached is not None:
        return cached
    model, as_of = em.model, em.as_of
    m, n = len(em.edges), len(em.nodes)
    cat = np.full(m, _NONE, dtype=np.int8)
    a = np.zeros(m)
    qlo, qhi = np.ones(m), np.ones(m)
    hap_kind = np.zeros(m, dtype=np.int8)  # 0 fixed factor, 1 intended (drawn)
    hap_val = np.ones(m)
    sc = np.ones(m)
    elapsed = np.zeros(m)
    ylo, yhi, yval = np.zeros(m), np.zeros(m), np.zeros(m)
    ydefault = np.zeros(m, dtype=bool)
    drawn_kind = np.zeros(m, dtype=np.int8)  # 0 param drawn-share, 1 all paid, 2 by elapsed time
    margin = np.full(m, np.nan)
    per_year = np.zeros(m, dtype=bool)
    has_cap = np.zeros(m, dtype=bool)
    wkey = np.zeros(m, dtype=np.int64)
    members = np.ones(m)
    mvval, mvlo, mvhi = np.ones(m), np.ones(m), np.ones(m)
    mv_share = model.param("market-value-carrying-share")
    mv_lo, mv_hi = model.param_range("market-value-carrying-share")
    keys: dict = {}
    dt_years = model.param("default-term-years")
    for k, e in enumerate(em.edges):
        f_v = em.fin[e.v]
        per_year[k] = f_v is not None and f_v.unit == "usd_per_year"
        has_cap[k] = f_v is not None and f_v.capacity is not None
        sc[k] = e.extra.get("scale", 1.0)
        key = (e.channel, e.kind if (e.channel, e.kind) in model.kind_weights else None)
        wkey[k] = keys.setdefault(key, len(keys))
        if e.kind_of_a == "membership":
            cat[k], members[k] = _MEM, e.extra["members"]
            continue
        if e.data.get("included"):
            hap_val[k] = 1.0
        elif e.status == "intended":
            hap_kind[k], hap_val[k] = 1, model.factor("intended")
        else:
            hap_val[k] = model.factor(e.status) if e.status else 1.0
        if e.kind_of_a == "unquantified":
            cat[k] = _UNQ
            continue
        if e.kind_of_a == "qualitative":
            cat[k] = _QUAL
            continue
        t = e.term
        if t and t.start and t.end:
            yval[k] = ylo[k] = yhi[k] = max(_years_between(t.start, t.end), 1e-9)
        elif t and t.years is not None:
            yval[k] = t.years
            ylo[k], yhi[k] = (t.low, t.high) if t.low is not None and t.high is not None else (t.years, t.years)
        else:
            yval[k], ydefault[k] = dt_years, True
        elapsed[k] = _years_between(t.start, as_of) if t and t.start else 0.0
        if e.channel == "acquisition":
            f_u = em.fin[e.u]
            if f_u is None or f_u.net_loss is None:
                cat[k] = _ACQQ
                continue
            cat[k], a[k] = _ACQ, f_u.net_loss.value
            qlo[k], qhi[k] = _qual_range(model, f_u.net_loss.qualifiers)
            continue
        a[k] = e.amount or 0.0
        qlo[k], qhi[k] = _qual_range(model, e.quals)
        if e.extra.get("stake_basis", "").startswith("market value"):
            mvval[k], mvlo[k], mvhi[k] = mv_share, mv_lo, mv_hi
        cat[k] = {"revenue": _REV, "supply": _SUP, "equity": _EQ, "funding": _FUND}.get(e.channel, _NONE)
        if e.channel == "revenue":
            mg = f_v.margin if f_v else None
            margin[k] = max(mg, 0.0) if mg is not None else np.nan
        if e.channel in ("equity", "funding"):
            if e.kind == "Stake" or e.status == "in-force" or (not (t and t.start) and e.status is None):
                drawn_kind[k] = 1
            elif t and t.end:
                drawn_kind[k] = 2
    wkeys = sorted(keys, key=keys.get)
    # qualitative weights between the same two actors combine as independent losses,
    # 1 − Π(1 − w), carried by the pair's first edge
    qgroup = np.full(m, -1, dtype=np.int64)
    qfirst = np.zeros(m, dtype=bool)
    pairs: dict = {}
    for k, e in enumerate(em.edges):
        if cat[k] in (_QUAL, _ACQQ):
            g = pairs.get((e.u, e.v))
            if g is None:
                g = pairs[(e.u, e.v)] = len(pairs)
                qfirst[k] = True
            qgroup[k] = g
    spec = {"qgroup": qgroup, "qfirst": qfirst, "nq": len(pairs),"cat": cat, "a": a, "qlo": qlo, "qhi": qhi, "hap_kind": hap_kind, "hap_val": hap_val, "sc": sc,
            "elapsed": elapsed, "ylo": ylo, "yhi": yhi, "yval": yval, "ydefault": ydefault, "drawn_kind": drawn_kind,
            "margin": margin, "per_year": per_year, "mvval": mvval, "mvlo": mvlo, "mvhi": mvhi, "has_cap": has_cap, "wkey": wkey, "members": members,
            "wkeys": wkeys, "rows": np.array([e.v for e in em.edges], dtype=np.int64)}
    # capacities: value, spread or imputed-ratio range
    about, reported = model.param("about-spread"), model.param("reported-spread")
    cval, clo, chi = np.full(n, np.nan), np.ones(n), np.ones(n)
    for i, f in enumerate(em.fin):
        if f is None or f.capacity is None:
            continue
        if f.capacity_basis == "imputed-equity" and em.ratio:
            r, lo, hi = em.ratio
            cval[i] = f.revenue.value
            clo[i], chi[i] = lo, hi
            spec.setdefault("imputed_mid", {})[i] = r
        else:
            spread = 0.0
            for fig in f.capacity_figures:
                if "about" in fig.qualifiers:
                    spread = max(spread, about)
                if "reported" in fig.qualifiers:
                    spread = max(spread, reported)
            cval[i], clo[i], chi[i] = f.capacity, 1.0 - spread, 1.0 + spread
    spec.update(cval=cval, clo=clo, chi=chi)
    em._spec_cache = spec
    return spec


def _sample_arrays(em: EconomicModel, S: int, rng) -> _Arrays:
    """Λ and the USD amounts of every edge for S samples (rng None: the point run, S = 1),
    vectorised over edges and samples: one array of draws per uncertain input. The point run
    is in double precision; the sampled runs in single precision (7 significant digits, far
    below the bands' own sampling error)."""
    import numpy as np

    model = em.model
    sp_ = _spec(em)
    n, m = len(em.nodes), len(em.edges)
    W = 1 if rng is None else S
    ft = np.float64 if rng is None else np.float32

    def draw(lo, hi, mid=None):
        """(len, W) draws uniform in [lo, hi] per row; the point run takes ``mid`` (default the middle)."""
        lo, hi = np.asarray(lo, dtype=ft), np.asarray(hi, dtype=ft)
        if rng is None:
            c = (lo + hi) / 2.0 if mid is None else np.asarray(mid, dtype=ft)
            return np.broadcast_to(c, lo.shape)[:, None] * np.ones((1, 1))
        return lo[:, None] + (hi - lo)[:, None] * rng.random((lo.shape[0], W), dtype=np.float32)

    def shared(name):
        v = model.param(name)
        lo, hi = model.param_range(name)
        if rng is None or lo == hi:
            return np.full((1, W), v, dtype=ft)
        return (lo + (hi - lo) * rng.random(W, dtype=np.float32))[None, :]

    # capacities (n, W)
    cap = sp_["cval"][:, None] * draw(sp_["clo"], sp_["chi"], mid=np.where(np.isnan(sp_["cval"]), 1.0, 1.0))
    for i, r in sp_.get("imputed_mid", {}).items():
        if rng is None:
            cap[i] = sp_["cval"][i] * r
    cat = sp_["cat"]
    lam, usd = np.zeros((m, W), dtype=ft), np.zeros((m, W), dtype=ft)
    rate, now, term = np.zeros((m, W), dtype=ft), np.zeros((m, W), dtype=ft), np.zeros((m, W), dtype=ft)
    init = np.zeros((n, W), dtype=ft)
    if not m:
        return _Arrays(lam, usd, rate, now, term, cap, init)
    # qualitative weights: one draw per weight key and sample
    wk = sp_["wkeys"]
    wv = np.array([model.weight(c, k) for c, k in wk])
    wr = np.array([model.weight_range(c, k) for c, k in wk]).reshape(-1, 2)
    wdraw = draw(wr[:, 0], wr[:, 1], mid=wv)
    # whether each deal happens
    intended = sp_["hap_kind"] == 1
    if intended.any() and rng is not None:
        hap = np.broadcast_to(sp_["hap_val"].astype(ft)[:, None], (m, W)).copy()
        p_lo, p_hi = model.factor_range("intended")
        k_int = int(intended.sum())
        p = p_lo + (p_hi - p_lo) * rng.random((k_int, W), dtype=np.float32)
        hap[intended] = (rng.random((k_int, W), dtype=np.float32) < p)
    else:
        hap = sp_["hap_val"].astype(ft)[:, None]  # (m, 1): broadcast, not copied
    sc = sp_["sc"][:, None]
    mem = cat == _MEM
    lam[mem] = (model.weight("membership") / sp_["members"][mem])[:, None]
    ql = (cat == _QUAL) | (cat == _ACQQ)
    if ql.any():
        import scipy.sparse as sps

        qi = np.flatnonzero(ql)
        w = np.clip(wdraw[sp_["wkey"][qi]] * hap[qi] * sc[qi], 0.0, 1.0 - 1e-7)
        G = sps.csr_array((np.ones(qi.size, dtype=ft), (sp_["qgroup"][qi], np.arange(qi.size))),
                          shape=(sp_["nq"], qi.size))
        combined = -np.expm1(G @ np.log1p(-w))
        first_q = qi[sp_["qfirst"][qi]]
        lam[first_q] = combined[sp_["qgroup"][first_q]]
    amt_mask = (cat == _REV) | (cat == _SUP) | (cat == _EQ) | (cat == _FUND) | (cat == _ACQ)
    if amt_mask.any():
        idx = np.flatnonzero(amt_mask)
        fac = draw(sp_["qlo"][idx], sp_["qhi"][idx])
        amount = sp_["a"][idx][:, None] * fac * hap[idx] * sc[idx]
        # a stake booked at a share of its market value (no paid-in amount in the graph)
        amount = amount * draw(sp_["mvlo"][idx], sp_["mvhi"][idx], mid=sp_["mvval"][idx])
        yv, ylo, yhi, ydef = sp_["yval"][idx], sp_["ylo"][idx], sp_["yhi"][idx], sp_["ydefault"][idx]
        years = draw(ylo, yhi, mid=yv)
        if ydef.any():
            d_lo, d_hi = model.param_range("default-term-years")
            years[ydef] = draw(np.full(int(ydef.sum()), d_lo), np.full(int(ydef.sum()), d_hi),
                               mid=np.full(int(ydef.sum()), model.param("default-term-years")))
        years = np.maximum(years, 1e-9)
        el = sp_["elapsed"][idx][:, None]
        started, ended = el >= 0, el >= years
        remaining = np.clip((years - np.maximum(el, 0.0)) / years, 0.0, 1.0)
        py = sp_["per_year"][idx][:, None]
        c_idx = cat[idx]
        lost = np.zeros_like(amount)
        # revenue: lost operating income over the term (stock) or this year (per year)
        rv = c_idx == _REV
        if rv.any():
            r = amount[rv] / years[rv]
            rate[idx[rv]] = np.where(ended[rv], 0.0, r)
            now[idx[rv]] = np.where(started[rv] & ~ended[rv], r, 0.0)
            term[idx[rv]] = amount[rv] * remaining[rv]
            mg = sp_["margin"][idx[rv]][:, None]
            mg = np.where(np.isnan(mg), shared("default-margin"), mg)
            lost[rv] = mg * np.where(py[rv], now[idx[rv]], term[idx[rv]])
        su = c_idx == _SUP
        if su.any():
            yearly = np.where(py[su], np.where(started[su] & ~ended[su], amount[su] / years[su], 0.0),
                              np.where(ended[su], 0.0, amount[su] / years[su]))
            lost[su] = shared("replacement-cost-share") * yearly
        ef = (c_idx == _EQ) | (c_idx == _FUND)
        if ef.any():
            dk = sp_["drawn_kind"][idx[ef]][:, None]
            by_time = np.clip(el[ef] / years[ef], 0.0, 1.0)
            drawn = np.where(dk == 1, 1.0, np.where(ended[ef], 1.0, np.where(~started[ef], 0.0,
                             np.where(dk == 2, by_time, shared("drawn-share")))))
            eq = c_idx[ef] == _EQ
            undrawn = amount[ef] * (1.0 - drawn)
            per = undrawn / np.maximum(years[ef] - np.maximum(el[ef], 0.0), 1.0)
            lost[ef] = np.where(eq[:, None], amount[ef] * drawn, np.where(py[ef], per, undrawn))
        aq = c_idx == _ACQ
        if aq.any():
            lost[aq] = amount[aq] * np.where(py[aq], 1.0, shared("absorbed-loss-years"))
        usd[idx] = lost
        rows = sp_["rows"][idx]
        c = cap[rows]
        has = ~np.isnan(c)
        lam_amt = np.where(has, lost / np.where(has, c, 1.0), wdraw[sp_["wkey"][idx]] * (lost > 0) * sc[idx])
        # an absorbed acquisition lands at the start (init), not through Λ
        absorbed = aq[:, None] & has
        lam_amt = np.where(absorbed, 0.0, lam_amt)
        if absorbed.any():
            np.add.at(init, rows[aq], np.where(absorbed[aq], lost[aq] / np.where(has[aq], c[aq], 1.0), 0.0))
        lam[idx] = lam_amt
    return _Arrays(lam, usd, rate, now, term, cap, init)


# -- propagation ---------------------------------------------------------------------------------
def _propagate(rows, cols, lam, n, h0, method: str, max_rounds: int, tol: float, fixed=None):
    """Propagate ``h0`` (n, S) on the edges (rows ← cols) with Λ (m, S): linear (Bardoscia 2015,
    Λ uncapped, h capped), debtrank (Battiston 2012, W = min(1, Λ)) or direct. The ``fixed``
    actors (the shocked ones) keep their initial distress: ψ is the run's assumption, and what
    their counterparties' distress would add is reported as USD at risk, not fed back. Returns
    ``(h, first_round, rounds)``; raises :class:`ConvergenceError` when linear does not converge."""
    import numpy as np
    import scipy.sparse as sp

    m = len(rows)
    R = sp.csr_array((np.ones(m, dtype=lam.dtype), (rows, np.arange(m))), shape=(n, m)) if m else None
    h = h0.astype(lam.dtype, copy=True)
    h0 = h0.astype(lam.dtype, copy=False)
    first = np.where(h0 > 0, 1, 0)
    rounds = 1
    if m == 0:
        return h, first, rounds
    keep = np.zeros(n, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)

    def pin(x):
        if keep.any():
            x[keep] = h0[keep]
        return x

    if method == "direct":
        h = pin(np.minimum(1.0, h + R @ (lam * h0[cols])))
        np.copyto(first, 2, where=(h > 0) & (first == 0))
        return h, first, 2
    if method == "debtrank":
        W = np.minimum(1.0, lam)
        distressed, inactive = h > 0, np.zeros_like(h, dtype=bool)
        while distressed.any():
            if rounds >= max_rounds:
                raise ConvergenceError(method, rounds, float(np.where(distressed, h, 0).max()))
            rounds += 1
            h = pin(np.minimum(1.0, h + R @ (W * np.where(distressed, h, 0.0)[cols])))
            newly = (h > 0) & ~distressed & ~inactive
            inactive |= distressed
            distressed = newly
            np.copyto(first, rounds, where=newly & (first == 0))
        return h, first, rounds
    # every sample (column) runs until its own increments fall below tol; the columns still
    # moving are kept in compact working arrays (a near-critical sample can take thousands of
    # rounds, and the others should not pay for it)
    cols_left = np.arange(h.shape[1])
    wh, wd, wl, w0 = h.copy(), h.copy(), lam, h0
    wfirst = first.copy()
    live = np.ones(h.shape[1], dtype=bool)
    while True:
        if live.any():
            stopped = live & (wd.max(axis=0) <= tol)
            if stopped.any():
                # a converged sample stops where it is (its increments set to 0)
                wd[:, stopped] = 0.0
                live &= ~stopped
        if not live.all() and (live.sum() * 2 < live.size or not live.any()):
            # compact the working arrays only when half of them have stopped
            done = ~live
            h[:, cols_left[done]] = wh[:, done]
            first[:, cols_left[done]] = wfirst[:, done]
            cols_left = cols_left[live]
            wh, wd, wl, w0, wfirst = wh[:, live], wd[:, live], wl[:, live], w0[:, live], wfirst[:, live]
            live = np.ones(cols_left.size, dtype=bool)
        if not cols_left.size:
            break
        if rounds >= max_rounds:
            worst = int(np.argmax(wd.max(axis=0)))
            raise ConvergenceError(method, rounds, float(wd[:, worst].max()), _radius(rows, cols, wl[:, [worst]], n))
        rounds += 1
        new = np.minimum(1.0, wh + R @ (wl * wd[cols]))
        if keep.any():
            new[keep] = w0[keep]
        new[:, ~live] = wh[:, ~live]
        wd = new - wh
        wh = new
        np.copyto(wfirst, rounds, where=(wh > 0) & (wfirst == 0))
    return h, first, rounds


def _radius(rows, cols, lam, n) -> float:
    import numpy as np
    import scipy.sparse as sp

    from kg.analysis.matrix import spectral_radius

    if not len(rows):
        return 0.0
    col = lam[:, 0] if lam.ndim == 2 else lam
    return spectral_radius(sp.csr_array((np.asarray(col, dtype=float), (rows, cols)), shape=(n, n)))


# -- results -----------------------------------------------------------------------------------
@dataclass
class EconomicRow:
    """One actor's figures in a run. Units: ``loss_usd`` and ``capacity_usd`` in ``unit``
    (``usd`` over the term, or ``usd_per_year`` for a cash-needs capacity); ``usd_per_year`` the
    annual revenue run-rate at risk, ``usd_this_year`` the part in force at the as-of date,
    ``usd_over_term`` what remains to be paid; shares of revenue and equity; ``h`` in [0, 1]."""

    id: str
    label: str
    h: float
    loss_usd: float | None
    usd_at_risk: float | None
    capacity_usd: float | None
    capacity_basis: str | None
    unit: str | None
    usd_per_year: float | None
    usd_this_year: float | None
    usd_over_term: float | None
    share_of_revenue: float | None
    share_of_equity: float | None
    round: int
    shocked: bool
    basis: str
    imputed: bool
    unquantified: list[dict]
    bands: dict | None = None
    p_top3: float | None = None
    p_top10: float | None = None
    chain: list[dict] = field(default_factory=list)
    channels: dict = field(default_factory=dict)
    revenue_usd: float | None = None
    margin: float | None = None
    market_value_at_risk_usd: float | None = None
    stake_basis: dict = field(default_factory=dict)

    @property
    def size_usd(self):
        return self.capacity_usd

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "id", "label", "h", "loss_usd", "usd_at_risk", "capacity_usd", "capacity_basis", "unit", "usd_per_year",
            "usd_this_year", "usd_over_term", "share_of_revenue", "share_of_equity", "revenue_usd", "margin", "round",
            "shocked", "basis", "imputed", "channels", "market_value_at_risk_usd", "stake_basis", "unquantified", "bands",
            "p_top3", "p_top10", "chain")}


@dataclass
class EconomicResult:
    shock: list[str]
    severity: float
    method: str
    layer: str
    as_of: dt.date
    R: float
    R_imputed: float
    rows: list[EconomicRow]
    rounds: int
    converged: bool
    spectral_radius: float
    samples: int
    seed: int | None
    notes: list[str] = field(default_factory=list)
    h: dict = field(default_factory=dict, repr=False)
    model: object = field(default=None, repr=False)
    ranking_stability: float | None = None
    #: actors with a capacity reached only through relationships without an amount: listed, not guessed
    unquantified: list = field(default_factory=list)

    def row(self, iri: str):
        return next((r for r in self.rows if r.id == iri), None)


def _reach(em: EconomicModel, shocks: list[int]) -> set[int]:
    out: dict[int, list[int]] = {}
    for e in em.edges:
        out.setdefault(e.u, []).append(e.v)
    seen, stack = set(shocks), list(shocks)
    while stack:
        x = stack.pop()
        for y in out.get(x, ()):
            if y not in seen:
                seen.add(y)
                stack.append(y)
    return seen


def run_economic(em: EconomicModel, shocks, severity: float = 1.0, method: str = "linear", *, samples: int = 0,
                 seed: int | None = None, layer: str = "all", top: int | None = None, chunk: int = 2000) -> EconomicResult:
    """Run the model from ``shocks`` at ``severity``: one point run (every input at its central
    value) and, with ``samples``, that many sampled runs for the bands (p5/p50/p95 of h, of the
    USD loss and of the USD at risk per year, and P(top 3), P(top 10) of each actor)."""
    import numpy as np

    from kg.analysis.debtrank import METHODS

    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    model = em.model
    index = {x: k for k, x in enumerate(em.nodes)}
    shocks = [shocks] if isinstance(shocks, str) else list(shocks)
    missing = [s for s in shocks if s not in index]
    if missing:
        raise InputError(f"not in the network: {', '.join(missing)}")
    sidx = [index[s] for s in shocks]
    # only the part of the network the shock can reach matters
    reach = sorted(_reach(em, sidx))
    local = {g: k for k, g in enumerate(reach)}
    sub_edges = [k for k, e in enumerate(em.edges) if e.u in local and e.v in local]
    sub = EconomicModel([em.nodes[g] for g in reach], [em.labels[g] for g in reach], [em.fin[g] for g in reach],
                        [em.edges[k] for k in sub_edges], model, em.as_of, em.ratio, em.view)
    # re-index the edges of the sub-network
    rows = np.array([local[e.v] for e in sub.edges], dtype=np.int64)
    cols = np.array([local[e.u] for e in sub.edges], dtype=np.int64)
    sub_fin = sub.fin
    n = len(reach)
    max_rounds, tol = int(model.param("max-rounds")), model.param("linear-tolerance")

    def h0_for(width):
        h0 = np.zeros((n, width))
        for s in sidx:
            h0[local[s]] = min(1.0, max(0.0, severity))
        return h0

    # remap edges to local indices for the sampler
    loc = EconomicModel(sub.nodes, sub.labels, sub_fin, [_relocal(e, local) for e in sub.edges], model, em.as_of,
                        em.ratio, em.view)
    point = _sample_arrays(loc, 1, None)
    fixed = h0_for(1)[:, 0] > 0
    h, first, rounds = _propagate(rows, cols, point.lam, n, np.minimum(1.0, h0_for(1) + point.init), method,
                                  max_rounds, tol, fixed)
    radius = _radius(rows, cols, point.lam, n)
    h = h[:, 0]
    first = first[:, 0]
    band = None
    if samples and samples > 0:
        band = _bands(loc, rows, cols, n, h0_for, method, max_rounds, tol, samples, seed, chunk)
    return _assemble(loc, em, rows, cols, point, h, first, rounds, radius, band, shocks, sidx, local, severity,
                     method, layer, samples, seed, top)


def _relocal(e: _Edge, local: dict) -> _Edge:
    return _Edge(local[e.u], local[e.v], e.channel, e.kind, e.data, e.amount, e.quals, e.status, e.term, e.kind_of_a,
                 e.extra)


def _bands(loc, rows, cols, n, h0_for, method, max_rounds, tol, samples, seed, chunk):
    """p5/p50/p95 of h, of the USD loss and of the annual USD at risk, and P(top 3/10), over
    ``samples`` sampled runs, in chunks of ``chunk`` samples (vectorised within a chunk)."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    m = len(rows)
    # at most about 4·10^6 numbers per edge × sample array (a few tens of MB) at a time
    chunk = max(1, min(chunk, int(4e6 // max(m, 1))))
    R = sp.csr_array((np.ones(m), (rows, np.arange(m))), shape=(n, m)) if m else sp.csr_array((n, 0))
    acq = np.array([e.channel == "acquisition" and e.kind_of_a == "amount" for e in loc.edges], dtype=bool)
    H, L, Y, RK, K = [], [], [], [], []
    shocked = h0_for(1)[:, 0] > 0
    n_shocked = int(shocked.sum())
    done = 0
    while done < samples:
        width = min(chunk, samples - done)
        arr = _sample_arrays(loc, width, rng)
        # the sampled runs propagate in single precision (half the memory traffic) to the
        # model's band-tolerance: the bands are shown to 2 decimals and their own sampling error
        # is far larger than it
        h, _, _ = _propagate(rows, cols, arr.lam, n,
                             np.minimum(1.0, h0_for(width) + arr.init).astype(np.float32), method, max_rounds,
                             max(tol, loc.model.param("band-tolerance")), shocked)
        risk = R @ np.where(acq[:, None], arr.usd, arr.usd * h[cols]) if m else np.zeros((n, width))
        cap = arr.cap
        loss = np.where(np.isnan(cap), np.nan, h * np.nan_to_num(cap))
        per_year = R @ (arr.rate * h[cols]) if m else np.zeros((n, width))
        # rank in each sample: by h, then by USD at risk (the ranking's tie-break); the shocked
        # actors first, so that P(top k) counts the k most hurt of the others
        order = np.lexsort((-risk, -np.where(shocked[:, None], 2.0, h)), axis=0)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(n)[:, None].repeat(width, axis=1), axis=0)
        H.append(h), L.append(loss), Y.append(per_year), RK.append(rank - n_shocked), K.append(risk)
        done += width
    H, L, Y, RK, K = (x[0] if len(x) == 1 else np.concatenate(x, axis=1) for x in (H, L, Y, RK, K))
    q = (5, 50, 95)

    def pct(a):
        """Percentiles of the rows with a capacity (the others stay NaN)."""
        out = np.full((3, a.shape[0]), np.nan)
        ok = ~np.isnan(a).any(axis=1)
        if ok.any():
            out[:, ok] = np.percentile(a[ok], q, axis=1)
        return out

    # a distribution-free confidence interval of each p50 (order statistics S/2 ± z·√S/2, z of
    # the model's p50-confidence): two actors whose intervals do not overlap keep their order
    # under any seed, which is the ranking's reported stability
    S_ = H.shape[1]
    z = loc.model.param("p50-confidence-z")
    k = z * np.sqrt(S_) / 2.0
    lo_i, hi_i = max(0, int(np.floor(S_ / 2 - k))), min(S_ - 1, int(np.ceil(S_ / 2 + k)))
    Hs = np.sort(H, axis=1)
    p50ci = np.stack([Hs[:, lo_i], Hs[:, hi_i]])
    top3 = np.where(shocked, np.nan, ((RK >= 0) & (RK < 3)).mean(axis=1))
    top10 = np.where(shocked, np.nan, ((RK >= 0) & (RK < 10)).mean(axis=1))
    return {"h": np.percentile(H, q, axis=1), "loss": pct(L), "per_year": np.percentile(Y, q, axis=1),
            "risk": np.percentile(K, q, axis=1), "p50ci": p50ci, "top3": top3, "top10": top10, "H": H, "RK": RK}


def _assemble(loc, em, rows, cols, point, h, first, rounds, radius, band, shocks, sidx, local, severity, method,
              layer, samples, seed, top):
    import numpy as np

    n = len(loc.nodes)
    lam, usd = point.lam[:, 0], point.usd[:, 0]
    contrib = lam * h[cols]
    acq = np.array([e.channel == "acquisition" and e.kind_of_a == "amount" for e in loc.edges], dtype=bool)
    # an absorbed acquiree's losses count in full (they land at the start), others × h
    risk = (np.bincount(rows, weights=np.where(acq, usd, usd * h[cols]), minlength=n)
            if len(rows) else np.zeros(n))
    per_year = np.bincount(rows, weights=point.rate[:, 0] * h[cols], minlength=n) if len(rows) else np.zeros(n)
    this_year = np.bincount(rows, weights=point.now[:, 0] * h[cols], minlength=n) if len(rows) else np.zeros(n)
    over_term = np.bincount(rows, weights=point.term[:, 0] * h[cols], minlength=n) if len(rows) else np.zeros(n)
    amount_part = np.bincount(rows, weights=np.where([e.kind_of_a == "amount" for e in loc.edges], contrib, 0.0),
                              minlength=n) if len(rows) else np.zeros(n)
    total_part = np.bincount(rows, weights=contrib, minlength=n) if len(rows) else np.zeros(n)
    cap = point.cap[:, 0]
    shocked = np.zeros(n, dtype=bool)
    for s in sidx:
        shocked[local[s]] = True
    hit = np.flatnonzero((h > 0) | shocked)
    # rank: the shocked actors first, then by h, then USD at risk (the sampled p50s where there
    # are bands), then round and label
    if band is not None:
        kh, kr = band["h"][1], band["risk"][1]
    else:
        kh, kr = h, risk
    order = sorted(hit.tolist(), key=lambda i: (not shocked[i], -kh[i], -kr[i], first[i], loc.labels[i]))
    if top:
        order = order[:top]
    in_edges: dict[int, list[int]] = {}
    for k, e in enumerate(loc.edges):
        in_edges.setdefault(e.v, []).append(k)
    rows_out = []
    for i in order:
        f = loc.fin[i]
        c = cap[i] if not np.isnan(cap[i]) else None
        unq = [_edge_ref(loc, k) for k in in_edges.get(i, []) if loc.edges[k].kind_of_a == "unquantified"
               and h[loc.edges[k].u] > 0]
        channels: dict[str, float] = {}
        for k in in_edges.get(i, []):
            e = loc.edges[k]
            if usd[k] > 0 and (h[e.u] > 0 or acq[k]):
                channels[e.channel] = channels.get(e.channel, 0.0) + float(usd[k] * (1.0 if acq[k] else h[e.u]))
        if shocked[i]:
            basis = "shock"
        elif total_part[i] <= 0:
            basis = "none"
        elif amount_part[i] >= total_part[i] * (1 - 1e-12):
            basis = "amount"
        elif amount_part[i] > 0:
            basis = "amount+assumption"
        else:
            basis = "assumption"
        equity = f.capacity if f and f.capacity_basis in ("equity", "assets-less-liabilities", "imputed-equity") else None
        revenue = f.revenue.value if f and f.revenue else None
        row = EconomicRow(
            id=loc.nodes[i], label=loc.labels[i], h=float(h[i]),
            loss_usd=float(h[i] * c) if c is not None else None,
            usd_at_risk=float(risk[i]) if risk[i] > 0 else (float(h[i] * c) if shocked[i] and c is not None else None),
            capacity_usd=c, capacity_basis=f.capacity_basis if f else None, unit=f.unit if f else None,
            usd_per_year=float(per_year[i]) if per_year[i] > 0 else None,
            usd_this_year=float(this_year[i]) if per_year[i] > 0 else None,
            usd_over_term=float(over_term[i]) if per_year[i] > 0 else None,
            share_of_revenue=float(per_year[i] / revenue) if revenue and per_year[i] > 0 else None,
            share_of_equity=float(risk[i] / equity) if equity and risk[i] > 0 else None,
            round=int(first[i]), shocked=bool(shocked[i]), basis=basis,
            imputed=bool(f and f.capacity_basis == "imputed-equity"), unquantified=unq,
            channels=channels, revenue_usd=revenue, margin=f.margin if f else None)
        if band is not None:
            row.bands = {
                "h": {"p5": float(band["h"][0, i]), "p50": float(band["h"][1, i]), "p95": float(band["h"][2, i]),
                      "p50_low": float(band["p50ci"][0, i]), "p50_high": float(band["p50ci"][1, i])},
                "loss_usd": None if c is None else {"p5": float(band["loss"][0, i]), "p50": float(band["loss"][1, i]),
                                                    "p95": float(band["loss"][2, i])},
                "usd_per_year": None if per_year[i] <= 0 else {
                    "p5": float(band["per_year"][0, i]), "p50": float(band["per_year"][1, i]),
                    "p95": float(band["per_year"][2, i])},
            }
            if not shocked[i]:
                row.p_top3, row.p_top10 = float(band["top3"][i]), float(band["top10"][i])
            row.bands["usd_at_risk"] = {"p5": float(band["risk"][0, i]), "p50": float(band["risk"][1, i]),
                                        "p95": float(band["risk"][2, i])}
        # the market value of the stakes lost (× the investee's h), reported apart from h
        mv = [(loc.edges[k], loc.edges[k].extra["market_value"]) for k in in_edges.get(i, [])
              if "market_value" in loc.edges[k].extra and h[loc.edges[k].u] > 0]
        if mv:
            row.market_value_at_risk_usd = float(sum(v * h[e.u] for e, v in mv))
        row.stake_basis = {loc.nodes[loc.edges[k].u]: loc.edges[k].extra["stake_basis"] for k in in_edges.get(i, [])
                           if "stake_basis" in loc.edges[k].extra and h[loc.edges[k].u] > 0}
        row.chain = _chain(loc, in_edges, lam, h, first, i)
        rows_out.append(row)
    # R: the DebtRank of the shock over the actors with a stated or derived equity (v ∝ equity);
    # the imputed ones reported apart
    stated = np.array([bool(f and f.capacity_basis in ("equity", "assets-less-liabilities")) for f in loc.fin])
    imputed = np.array([bool(f and f.capacity_basis == "imputed-equity") for f in loc.fin])
    all_eq = np.array([f.capacity if f and f.capacity_basis in ("equity", "assets-less-liabilities") else 0.0
                       for f in em.fin])
    denom = all_eq.sum()
    gain_h = np.where(shocked, 0.0, h)
    capz = np.nan_to_num(cap)
    R = float((gain_h * capz)[stated].sum() / denom) if denom > 0 else 0.0
    imp_eq = np.array([f.capacity if f and f.capacity_basis == "imputed-equity" else 0.0 for f in em.fin]).sum()
    R_imp = float((gain_h * capz)[imputed].sum() / (denom + imp_eq)) if denom + imp_eq > 0 else 0.0
    notes = list(em.view.graph.get("notes", []))
    # actors with a capacity that the shock reaches only through relationships without an amount
    listed = {r.id for r in rows_out}
    unquantified: dict[str, list[dict]] = {}
    for k, e in enumerate(loc.edges):
        if e.kind_of_a == "unquantified" and h[e.u] > 0 and loc.nodes[e.v] not in listed:
            unquantified.setdefault(loc.nodes[e.v], []).append(_edge_ref(loc, k))
    stability = None
    if band is not None:
        stability = float(max((r.bands["h"]["p50_high"] - r.bands["h"]["p50_low"]) / 2 for r in rows_out)) if rows_out else 0.0
    res = EconomicResult(shocks, float(severity), method, layer, em.as_of, R, R_imp, rows_out, rounds, True, radius,
                         samples, seed, notes, {loc.nodes[i]: float(h[i]) for i in hit}, em.model, stability)
    res.unquantified = [{"id": a, "label": loc.labels[local_i], "relationships": refs}
                        for a, refs in unquantified.items() for local_i in [loc.nodes.index(a)]]
    return res


def _edge_ref(loc, k) -> dict:
    e = loc.edges[k]
    d = e.data
    return {"rel": d.get("rel"), "kind": e.kind, "channel": e.channel, "from": loc.nodes[e.u],
            "from_label": loc.labels[e.u], "sources": list(d.get("sources") or [])}


def _chain(loc, in_edges, lam, h, first, i) -> list[dict]:
    """The hops that carried most of i's loss: back from i, the in-edge with the largest Λ·h
    from an actor hit in an earlier round, to the shock."""
    chain, k, seen = [], i, {i}
    while first[k] > 1:
        best, best_c = None, 0.0
        for e_k in in_edges.get(k, []):
            e = loc.edges[e_k]
            if 0 < first[e.u] < first[k]:
                c = lam[e_k] * h[e.u]
                # contributions equal but for rounding (sums taken in another order) tie: the
                # smaller IRI wins, so the chain does not depend on the order the store gave rows
                tie = best is not None and abs(c - best_c) <= 1e-9 * max(c, best_c)
                if (c > best_c and not tie) or (tie and (loc.nodes[e.u], e_k) < (loc.nodes[loc.edges[best].u], best)):
                    best, best_c = e_k, max(c, best_c)
        if best is None:
            break
        e = loc.edges[best]
        d = e.data
        chain.append({"from": loc.nodes[e.u], "from_label": loc.labels[e.u], "to": loc.nodes[e.v],
                      "to_label": loc.labels[e.v], "rel": d.get("rel"), "kind": e.kind, "channel": e.channel,
                      "amount": e.amount, "weight": float(lam[best]), "status": e.status,
                      "sources": list(d.get("sources") or [])})
        if e.u in seen:
            break
        seen.add(e.u)
        k = e.u
    return chain[::-1]


def economic_exposure(kg, shock, severity: float = 1.0, method: str = "linear", layer: str = "all", *,
                      model=None, view=None, as_of=None, samples: int = 0, seed: int | None = None,
                      include=(), scale=None, channels=None, top=None) -> EconomicResult:
    """The economic exposure of every actor to ``shock`` failing, on the graph ``kg``."""
    from kg.analysis.model import load_model
    from kg.analysis.view import build_view

    model = model or load_model(kg)
    if view is None:
        view = build_view(kg, layer, channels, include=include, model=model)
    fin = view.graph.get("_financials")
    if fin is None:
        fin = view.graph["_financials"] = read_financials(kg, layer)
    em = build_economic(view, fin, model, as_of, scale=scale, only_channels=channels)
    return run_economic(em, shock, severity, method, samples=samples, seed=seed, layer=layer, top=top)
