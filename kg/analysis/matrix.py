"""The impact matrix W(i←j) of a dependency view: amounts against sizes, qualitative weights combined."""

from __future__ import annotations

__all__ = ["exposure_matrix", "leverage_matrix", "spectral_radius"]


class _BestEdges:
    """The view edge that weighs most for each pair (i, j) of matrix indices (looked up lazily)."""

    def __init__(self, keys, edges, n):
        self.keys, self.edges, self.n = keys, edges, n

    def get(self, pair, default=None):
        import numpy as np

        key = pair[0] * self.n + pair[1]
        k = int(np.searchsorted(self.keys, key))
        if k < len(self.keys) and self.keys[k] == key:
            return self.edges[k]
        return default

    def __getitem__(self, pair):
        found = self.get(pair)
        if found is None:
            raise KeyError(pair)
        return found

    def __contains__(self, pair) -> bool:
        return self.get(pair) is not None

    def __len__(self) -> int:
        return len(self.keys)


def exposure_matrix(view, *, only_channels=None, scale=None):
    """The impact matrix of a dependency view (cached on the view).

    For each pair (j → i) the view's parallel edges are combined thus: on each channel, edges
    with a stated amount replace the qualitative ones (for the equity channel a stake's value
    replaces the sums invested); amounts at risk are summed, ``w_amt = min(1, ΣA / E_i)``;
    qualitative weights combine as independent losses, ``w_q = 1 − Π(1 − w_e)``; and
    ``W_ij = 1 − (1 − w_amt)(1 − w_q)``. ``scale`` maps a channel to a factor applied to its
    edge weights (and amounts); ``only_channels`` keeps only those channels.

    Returns ``(W, nodes, A, best)``: a scipy CSR matrix, the node list (matrix order), the
    matrix of USD amounts at risk (amount edges only) and, for each pair ``(i, j)`` of indices,
    the view edge that weighs most (for explaining chains).
    """
    import numpy as np
    import scipy.sparse as sp

    cache_key = (tuple(sorted(only_channels)) if only_channels else None, tuple(sorted((scale or {}).items())))
    cache = view.graph.setdefault("_exposure_cache", {})
    if cache_key in cache:
        return cache[cache_key]
    nodes = list(view.nodes)
    n = len(nodes)
    index = {x: k for k, x in enumerate(nodes)}
    channels: dict[str, int] = {}
    rows, cols, chs, amount, stake, weight, exposure, edata = [], [], [], [], [], [], [], []
    for u, v, d in view.edges(data=True):
        rows.append(index[v])
        cols.append(index[u])
        chs.append(channels.setdefault(d["channel"], len(channels)))
        amount.append(d["basis"] == "amount")
        stake.append(d.get("kind") == "Stake")
        weight.append(d["weight"])
        exposure.append(d["exposure_usd"] or 0.0)
        edata.append(d)
    rows, cols, chs = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(chs, dtype=np.int64)
    amount, stake = np.array(amount, dtype=bool), np.array(stake, dtype=bool)
    weight, exposure = np.array(weight, dtype=float), np.array(exposure, dtype=float)
    names = sorted(channels, key=channels.get)
    factor = np.array([(scale or {}).get(c, 1.0) * (1.0 if not only_channels or c in only_channels else 0.0)
                       for c in names] or [1.0])
    f = factor[chs] if chs.size else np.zeros(0)
    weight, exposure = weight * f, exposure * f
    keep = weight > 0
    group = (rows * n + cols) * max(1, len(names)) + chs
    # equity: a stake's value replaces the sums invested in the same investee
    if "equity" in channels:
        eq = keep & amount & (chs == channels["equity"])
        stake_groups = np.unique(group[eq & stake])
        keep &= ~(eq & ~stake & np.isin(group, stake_groups))
    # amounts replace qualitative weights of the same pair and channel
    amount_groups = np.unique(group[keep & amount])
    keep &= amount | ~np.isin(group, amount_groups)
    rows, cols, amount, weight, exposure = rows[keep], cols[keep], amount[keep], weight[keep], exposure[keep]
    edata = [edata[k] for k in np.flatnonzero(keep)]
    pair = rows * n + cols
    keys, inverse = np.unique(pair, return_inverse=True)
    a = np.bincount(inverse, weights=np.where(amount, exposure, 0.0), minlength=keys.size)
    qual = ~amount
    full = np.bincount(inverse, weights=(qual & (weight >= 1.0)).astype(float), minlength=keys.size) > 0
    with np.errstate(divide="ignore"):
        logs = np.where(qual & (weight < 1.0), np.log1p(-np.minimum(weight, 1.0 - 1e-300)), 0.0)
    w_q_keep = np.where(full, 0.0, np.exp(np.bincount(inverse, weights=logs, minlength=keys.size)))
    sizes = np.array([view.nodes[x].get("size") or 0.0 for x in nodes], dtype=float)
    r, c = keys // max(n, 1), keys % max(n, 1)
    sr = sizes[r] if keys.size else np.zeros(0)
    w_amt = np.where(sr > 0, np.minimum(1.0, a / np.where(sr > 0, sr, 1.0)), 0.0)
    w = 1.0 - (1.0 - w_amt) * w_q_keep
    W = sp.csr_array((w, (r, c)), shape=(n, n))
    # the leverage matrix of Bardoscia et al. (2015): amounts against sizes, uncapped
    lam = np.where(sr > 0, a / np.where(sr > 0, sr, 1.0), 0.0) + (1.0 - w_q_keep)
    cache[("leverage",) + cache_key] = sp.csr_array((lam, (r, c)), shape=(n, n))
    A = sp.csr_array((a, (r, c)), shape=(n, n))
    order = np.lexsort((-weight, pair)) if pair.size else np.zeros(0, dtype=np.int64)
    head = np.ones(order.size, dtype=bool)
    head[1:] = pair[order][1:] != pair[order][:-1]
    best = _BestEdges(pair[order][head], [edata[k] for k in order[head]], max(n, 1))
    cache[cache_key] = (W, nodes, A, best)
    return cache[cache_key]


def leverage_matrix(view, *, only_channels=None, scale=None):
    """The leverage matrix Λ of a dependency view, Λ_ij = A_ij / E_i uncapped (Bardoscia et al.
    2015; NEVA's ``ibeval``), plus the qualitative weights where the graph has no amount. The
    linear method propagates on Λ and caps h, not Λ: a counterparty whose exposure is 3 times
    the exposed actor's size passes on 3 times its distress, up to h = 1."""
    exposure_matrix(view, only_channels=only_channels, scale=scale)
    key = (tuple(sorted(only_channels)) if only_channels else None, tuple(sorted((scale or {}).items())))
    return view.graph["_exposure_cache"][("leverage",) + key]


def spectral_radius(M) -> float:
    """The spectral radius of a square matrix (numpy or scipy.sparse): all eigenvalues for up
    to 400 rows, else ARPACK's largest-magnitude one. Below 1, the linear method converges to
    (I − Λ)⁻¹ h₀ without touching the cap; at or above 1 only the cap h ≤ 1 bounds it."""
    import numpy as np
    import scipy.sparse as sp

    n = M.shape[0]
    if n == 0 or (sp.issparse(M) and M.nnz == 0):
        return 0.0
    if n <= 400:
        dense = M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)
        return float(np.max(np.abs(np.linalg.eigvals(dense))))
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigs

    M = sp.csr_array(M, dtype=float)
    try:
        vals = eigs(M, k=1, which="LM", return_eigenvectors=False, maxiter=2000, tol=1e-6)
        return float(np.abs(vals).max())
    except (ArpackNoConvergence, ArpackError):
        # a non-negative matrix: the growth of ‖M^k x‖ estimates its Perron root
        x = np.ones(n) / n
        rho = 0.0
        for _ in range(200):
            y = np.abs(M) @ x
            s = y.sum()
            if s == 0:
                return 0.0
            rho, x = s / x.sum(), y / s
        return float(rho)
