"""Exposure to a failure: DebtRank (Battiston et al. 2012), its linear variant and first-round losses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kg.analysis.debtrank import METHODS, DebtRankRun, debtrank, main_contributor
from kg.analysis.matrix import exposure_matrix
from kg.errors import InputError

__all__ = [
    "METHODS", "DebtRankRun", "ExposureRow", "ExposureResult", "debtrank", "exposure_matrix",
    "exposure_on_view", "rank_exposure", "main_contributor",
]


class ExposureRow:
    """One actor hit by the shock: impact ``h``, USD loss where amounts allow, the round in which
    it is first hit, and ``chain``, the hops that carried most of its loss (computed on access)."""

    __slots__ = ("id", "label", "h", "loss_usd", "round", "size_usd", "shocked", "_chain", "_explain")

    def __init__(self, id, label, h, loss_usd, round, size_usd=None, shocked=False, chain=None, explain=None):
        self.id, self.label, self.h, self.loss_usd, self.round = id, label, h, loss_usd, round
        self.size_usd, self.shocked, self._chain, self._explain = size_usd, shocked, chain, explain

    @property
    def chain(self) -> list[dict]:
        if self._chain is None:
            self._chain = self._explain() if self._explain else []
        return self._chain

    def as_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "h": self.h, "loss_usd": self.loss_usd, "round": self.round,
                "size_usd": self.size_usd, "shocked": self.shocked, "chain": self.chain}

    def __repr__(self) -> str:
        return f"ExposureRow({self.label!r}, h={self.h:.4g}, loss_usd={self.loss_usd}, round={self.round})"


@dataclass
class ExposureResult:
    """Per-actor results of a shock, ranked by impact, with the shock's DebtRank ``R``."""

    shock: list[str]
    severity: float
    method: str
    layer: str
    R: float
    rows: list[ExposureRow]
    rounds: int
    converged: bool
    notes: list[str] = field(default_factory=list)
    h: Mapping[str, float] = field(default_factory=dict, repr=False)

    def row(self, iri: str) -> ExposureRow | None:
        return next((r for r in self.rows if r.id == iri), None)


def _values(view, nodes):
    """v_i ∝ E_i (actors without a size get the median known size), normalised to sum 1."""
    import numpy as np

    sizes = np.array([view.nodes[n].get("size") or np.nan for n in nodes], dtype=float)
    known = sizes[~np.isnan(sizes)]
    fill = float(np.median(known)) if known.size else 1.0
    sizes = np.where(np.isnan(sizes), fill, sizes)
    total = sizes.sum()
    return sizes / total if total > 0 else sizes


def _hop(view, nodes, best, i, j) -> dict:
    e = best.get((i, j), {}) or {}
    u, v = nodes[j], nodes[i]
    return {"from": u, "from_label": view.nodes[u].get("label"), "to": v, "to_label": view.nodes[v].get("label"),
            "rel": e.get("rel"), "kind": e.get("kind"), "channel": e.get("channel"), "amount": e.get("amount"),
            "weight": e.get("weight"), "status": e.get("status"), "sources": list(e.get("sources") or [])}


def _indicator(view, A, only_channels, scale):
    """``A != 0`` as a float CSR matrix (cached with the impact matrix)."""
    key = ("indicator", tuple(sorted(only_channels)) if only_channels else None, tuple(sorted((scale or {}).items())))
    cache = view.graph.setdefault("_exposure_cache", {})
    if key not in cache:
        cache[key] = (A != 0).astype(float)
    return cache[key]


def _view_arrays(view, nodes):
    """Per-view constants, cached: relative values v, sizes, and each node's rank by label."""
    import numpy as np

    cached = view.graph.get("_exposure_arrays")
    if cached is None or len(cached[0]) != len(nodes):
        labels = [str(view.nodes[x].get("label") or x) for x in nodes]
        rank = np.empty(len(nodes), dtype=np.int64)
        rank[sorted(range(len(nodes)), key=labels.__getitem__)] = np.arange(len(nodes))
        sizes = np.array([view.nodes[x].get("size") or 0.0 for x in nodes], dtype=float)
        index = {x: k for k, x in enumerate(nodes)}
        cached = view.graph["_exposure_arrays"] = (_values(view, nodes), sizes, rank, index)
    return cached


class _Impacts(Mapping):
    """Actor → impact h for the actors hit (h > 0), read from the run's array on demand."""

    def __init__(self, index: dict, h):
        self._index, self._h = index, h
        self._keys = None

    def __getitem__(self, iri):
        k = self._index.get(iri)
        if k is None or self._h[k] <= 0:
            raise KeyError(iri)
        return float(self._h[k])

    def _hit(self):
        if self._keys is None:
            import numpy as np

            nodes = list(self._index)
            self._keys = [nodes[k] for k in np.flatnonzero(self._h > 0)]
        return self._keys

    def __iter__(self):
        return iter(self._hit())

    def __len__(self) -> int:
        return int((self._h > 0).sum())


def exposure_on_view(view, shocks, severity=1.0, method="linear", *, only_channels=None, scale=None,
                     max_rounds=None, tol=None, layer="all", top=None) -> ExposureResult:
    """Run a method on a dependency view (from :func:`kg.analysis.view.build_view` or a CSV
    network) with ``shocks`` (one IRI or several) failing at ``severity``.

    The impact matrix and per-view arrays are cached on the view, so repeated runs on one view
    cost the propagation alone. ``top`` keeps only the first rows of the ranking (``h`` keeps
    every actor hit). Rows are ranked by impact, then round, then USD loss, then label.
    """
    import numpy as np

    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if max_rounds is None or tol is None:
        from kg.analysis.model import load_model

        m = load_model()
        max_rounds = int(m.param("max-rounds")) if max_rounds is None else max_rounds
        tol = m.param("linear-tolerance") if tol is None else tol
    shocks = [shocks] if isinstance(shocks, str) else list(shocks)
    W, nodes, A, best = exposure_matrix(view, only_channels=only_channels, scale=scale)
    if method == "linear":
        from kg.analysis.matrix import leverage_matrix

        W = leverage_matrix(view, only_channels=only_channels, scale=scale)
    A_hit = _indicator(view, A, only_channels, scale)
    v, sizes, label_rank, index = _view_arrays(view, nodes)
    missing = [x for x in shocks if x not in index]
    if missing:
        raise InputError(f"not in the network: {', '.join(missing)}")
    run = debtrank(W, v, [index[x] for x in shocks], severity, method, max_rounds=max_rounds, tol=tol, track=False)
    linear = method == "linear"
    hit = np.flatnonzero(run.h > 0)
    candidates = hit
    if top and top < hit.size:
        # only the actors whose impact reaches the top-th largest can be in the first rows
        kth = np.partition(run.h[hit], hit.size - top)[hit.size - top]
        candidates = hit[run.h[hit] >= kth]
    # two products over the whole matrix cost less than slicing its rows
    loss, counted = A @ run.h, A_hit @ (run.h > 0).astype(float)
    c = candidates
    usd = np.where((run.h1[c] > 0) | (linear & (sizes[c] > 0)), run.h[c] * sizes[c],
                   np.where(counted[c] > 0, np.where(sizes[c] > 0, np.minimum(loss[c], sizes[c]), loss[c]), 0.0))
    order = c[np.lexsort((label_rank[c], -usd, run.first_round[c], -run.h[c]))]
    if top:
        order = order[:top]
    strict, h1 = method == "debtrank", run.h1

    def explainer(i):
        def explain():
            chain, k, seen = [], i, {i}
            while h1[k] == 0:
                j = main_contributor(W, run, k, strict)
                if j < 0:
                    break
                chain.append(_hop(view, nodes, best, k, j))
                if j in seen:
                    break
                seen.add(j)
                k = j
            return chain[::-1]
        return explain

    rows = []
    for i in order.tolist():
        iri, size, h = nodes[i], sizes[i], float(run.h[i])
        if h1[i] > 0 or (linear and size > 0 and counted[i] > 0):
            # linear: h_i E_i = Σ_j A_ij h_j exactly (the uncapped leverage), capped at E_i with h
            usd = h * size if size > 0 else None
        elif counted[i] > 0:
            usd = float(min(loss[i], size)) if size > 0 else float(loss[i])
        else:
            usd = None
        rows.append(ExposureRow(iri, view.nodes[iri].get("label") or iri, h, usd, int(run.first_round[i]),
                                float(size) if size > 0 else None, bool(h1[i] > 0), None, explainer(i)))
    notes = list(view.graph.get("notes", []))
    if not run.converged:
        notes.append(f"stopped after {run.rounds} rounds (max-rounds) before converging")
    return ExposureResult(shocks, float(severity), method, layer, run.R, rows, run.rounds, run.converged, notes,
                          _Impacts(index, run.h))


def rank_exposure(kg, shock_iri, severity: float = 1.0, method: str = "linear", layer: str = "all",
                  weights=None, *, channels=None, include=(), scale=None, model=None, view=None,
                  top=None, as_of=None, samples: int = 0, seed: int | None = None):
    """Who is hurt most if ``shock_iri`` fails: the economic exposure model of
    :mod:`kg.analysis.economic` on the graph's dependency view.

    Parameters
    ----------
    kg : the loaded store.
    shock_iri : the failing actor's IRI (or a list of IRIs).
    severity : its initial distress ψ in [0, 1].
    method : ``linear`` (Bardoscia et al. 2015, uncapped leverage; the default), ``debtrank``
        (Battiston et al. 2012) or ``direct``.
    layer : ``article``, ``context``, ``user`` or ``all``.
    weights : a CSV file overriding the qualitative weights (``channel,kind,weight``).
    channels : only these channels carry distress (default: all distress channels).
    include : hypothetical relationships to count (scenarios).
    scale : ``{channel: factor}`` applied to the amounts and weights of a channel (scenarios).
    top : keep only the first ``top`` rows.
    as_of : the date deciding what is in force, backlog or ended (default: the model's, the
        article's date).
    samples, seed : sampled runs for the bands (0: the point run only).

    Returns
    -------
    kg.analysis.economic.EconomicResult
        rows ranked by h, then USD at risk; each with ``loss_usd`` = h × ``capacity_usd``, the
        USD at risk per year and over the term, shares of revenue and equity, the round, the
        chain and (with samples) the bands.

    Examples
    --------
    >>> from kg.store import load_store
    >>> res = rank_exposure(load_store(), "https://w3id.org/ai-capital-kg/resource/OpenAI", layer="article")
    >>> res.rows[0].label, res.rows[0].round
    ('OpenAI', 1)
    """
    from kg.analysis.economic import economic_exposure
    from kg.analysis.model import load_model

    model = model or load_model(kg, weights)
    return economic_exposure(kg, shock_iri, severity, method, layer, model=model, view=view, as_of=as_of,
                             samples=samples, seed=seed, include=include, scale=scale, channels=channels, top=top)
