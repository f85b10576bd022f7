"""DebtRank (Battiston et al. 2012), its linear variant (Bardoscia et al. 2015) and first-round losses, on arrays."""

from __future__ import annotations

from dataclasses import dataclass

from kg.errors import InputError, KGError

__all__ = ["METHODS", "ConvergenceError", "DebtRankRun", "debtrank", "main_contributor"]


class ConvergenceError(KGError):
    """A propagation stopped at max-rounds before converging: an error with the figures that
    say why (the spectral radius of the matrix, the last increment), never a value."""

    def __init__(self, method: str, rounds: int, last_increment: float, radius: float | None = None):
        self.method, self.rounds, self.last_increment, self.radius = method, rounds, last_increment, radius
        rho = f"; spectral radius of the matrix {radius:.4g}" if radius is not None else ""
        super().__init__(f"the {method} method did not converge in {rounds} rounds (max-rounds): the last round still "
                         f"raised an impact by {last_increment:.3g}{rho}; raise max-rounds in data/model/model.trig "
                         f"or use --method debtrank")

METHODS = ("debtrank", "linear", "direct")
#: the one default method of kg exposure, kg domino, kg viz --exposure, the /viz page and scenarios
DEFAULT_METHOD = "linear"


@dataclass
class DebtRankRun:
    """The outcome of :func:`debtrank` on plain arrays.

    ``h`` final distress, ``h1`` initial distress, ``first_round`` the round in which each node
    was first distressed (1 for the shocked nodes, 0 for never), ``parent`` the node whose
    distress contributed most when it was first hit (-1 for none), ``R`` the DebtRank of the
    shock, ``rounds`` the number of rounds run and ``converged`` whether it stopped by itself.
    """

    h: object
    h1: object
    first_round: object
    parent: object
    R: float
    rounds: int
    converged: bool
    h_first: object = None


def debtrank(W, v, shocked, severity=1.0, method: str = "debtrank", *, max_rounds: int = 1000,
             tol: float = 1e-9, track: bool = True, strict: bool = True) -> DebtRankRun:
    """Propagate distress through an impact matrix.

    Index direction: ``W[i, j]`` is the impact on ``i`` of ``j``'s distress, ``W(i←j) =
    min(1, A_ij / E_i)``, where ``A_ij`` is what ``i`` stands to lose if ``j`` fails and ``E_i``
    is ``i``'s capacity to absorb it. Row ``i`` is the exposed node, column ``j`` the
    counterparty, so ``W @ h`` gives each node the distress it receives.

    Methods
    -------
    ``debtrank`` (Battiston et al., Sci. Rep. 2:541, 2012): states undistressed / distressed /
    inactive; ``h_i(t) = min(1, h_i(t-1) + Σ_{j distressed at t-1} W_ij h_j(t-1))``; a node
    distressed in round t passes its distress on once, in round t+1, then becomes inactive.
    ``linear`` (Bardoscia et al., PLoS ONE 10(6):e0130406, 2015, differential DebtRank): every
    node passes on each new increment, ``h(t+1) = min(1, h(t) + W (h(t) - h(t-1)))``, until no
    increment exceeds ``tol``. ``direct``: first-round losses only, ``h = min(1, h1 + W h1)``.

    Parameters
    ----------
    W : (n, n) numpy array or scipy.sparse matrix, entries in [0, 1].
    v : (n,) relative economic value of each node (for R).
    shocked : a node index, a sequence of indices, or a boolean mask of length n.
    severity : the initial distress ψ of the shocked nodes (a number, or one per shocked node).
    method : ``debtrank``, ``linear`` or ``direct``.
    track : also work out each node's main contributor (``parent``; an O(nnz) pass after the
        propagation; :func:`main_contributor` does it for one node).
    strict : raise :class:`ConvergenceError` when the run stops at ``max_rounds`` (default);
        ``False`` returns the unconverged run with ``converged=False``.

    For ``linear`` pass the uncapped leverage matrix Λ (``A_ij / E_i``, entries may exceed 1,
    :func:`kg.analysis.matrix.leverage_matrix`): h is capped at 1, Λ is not (Bardoscia et al.
    2015; NEVA's ``ibeval``).

    Returns
    -------
    DebtRankRun
        ``R = Σ_i h_i(T) v_i − Σ_i h_i(1) v_i``.

    Examples
    --------
    The worked example of the issue: B loses 5 if A fails, C loses 4 if B fails, A loses 2 if
    C fails; capacities E = (10, 10, 8).

    >>> import numpy as np
    >>> W = np.array([[0, 0, 2 / 10], [5 / 10, 0, 0], [0, 4 / 8, 0]])
    >>> run = debtrank(W, [0.5, 0.3, 0.2], shocked=0, severity=1.0)
    >>> run.h.round(4).tolist(), round(run.R, 4)
    ([1.0, 0.5, 0.25], 0.2)
    """
    import numpy as np
    import scipy.sparse as sp

    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    sparse = sp.issparse(W)
    if sparse:
        W = W if W.format == "csr" else sp.csr_array(W)
    else:
        W = np.asarray(W, dtype=float)
    n = W.shape[0]
    v = np.asarray(v, dtype=float)
    h = np.zeros(n)
    shocked_idx = np.flatnonzero(shocked) if np.asarray(shocked).dtype == bool else np.atleast_1d(shocked).astype(int)
    h[shocked_idx] = np.clip(severity, 0.0, 1.0)
    h1 = h.copy()
    first = np.where(h > 0, 1, 0)
    h_first = h.copy()
    rounds, converged = 1, True

    def note_new(newly, t):
        np.copyto(first, t, where=newly)
        np.copyto(h_first, h, where=newly)

    if method == "direct":
        if n:
            h = np.minimum(1.0, h + W @ h)
            note_new((h > 0) & (first == 0), 2)
            rounds = 2
    elif method == "debtrank":
        distressed, inactive = h > 0, np.zeros(n, dtype=bool)
        while distressed.any():
            if rounds >= max_rounds:
                converged = False
                last = float(np.where(distressed, h, 0.0).max())
                break
            rounds += 1
            h = np.minimum(1.0, h + W @ np.where(distressed, h, 0.0))
            newly = (h > 0) & ~distressed & ~inactive
            inactive |= distressed
            distressed = newly
            note_new(newly, rounds)
    else:
        previous = np.zeros(n)
        while True:
            dh = h - previous
            if not n or dh.max() <= tol:
                break
            if rounds >= max_rounds:
                converged = False
                last = float(dh.max())
                break
            rounds += 1
            previous, h = h, np.minimum(1.0, h + W @ dh)
            note_new((h > 0) & (first == 0), rounds)
    if not converged and strict:
        from kg.analysis.matrix import spectral_radius

        raise ConvergenceError(method, rounds, last, spectral_radius(W))
    parent = _main_contributors(W, first, h_first, method == "debtrank") if track else None
    # an elementwise sum: BLAS dot products were measured erratic here (milliseconds on 3·10^4 zeros)
    R = float(np.multiply(v, h - h1).sum()) if n else 0.0
    return DebtRankRun(h, h1, first, parent, R, rounds, converged, h_first)


def main_contributor(W, run: DebtRankRun, i: int, strict: bool = True) -> int:
    """The node whose distress contributed most to node ``i`` when ``i`` was first hit (as in
    :func:`_main_contributors`, for one row of a CSR matrix); -1 for none."""
    import numpy as np

    if run.first_round[i] <= 1:
        return -1
    lo, hi = W.indptr[i], W.indptr[i + 1]
    cols, w = W.indices[lo:hi], W.data[lo:hi]
    fc = run.first_round[cols]
    ok = (fc > 0) & ((fc == run.first_round[i] - 1) if strict else (fc < run.first_round[i]))
    if not ok.any():
        return -1
    c = np.where(ok, w * run.h_first[cols], -1.0)
    best = np.flatnonzero(c == c.max())
    return int(cols[best].min())


def _main_contributors(W, first, h_first, strict: bool):
    """For each node hit after round 1, the neighbour j that contributed most, W[i, j] times j's
    distress when j was first hit, among the nodes hit in the round before (``strict``, as in
    DebtRank) or in any earlier round (linear, direct); -1 for none."""
    import numpy as np
    import scipy.sparse as sp

    n = len(first)
    parent = np.full(n, -1)
    if sp.issparse(W):
        coo = W.tocoo()
        rows, cols, w = coo.row, coo.col, coo.data
    else:
        rows, cols = np.nonzero(W)
        w = W[rows, cols]
    fr, fc = first[rows], first[cols]
    ok = (fr > 1) & (fc > 0) & ((fc == fr - 1) if strict else (fc < fr))
    rows, c = rows[ok], (w * h_first[cols])[ok]
    cols = cols[ok]
    if rows.size:
        order = np.lexsort((-c, rows))
        rows, cols = rows[order], cols[order]
        head = np.ones(rows.size, dtype=bool)
        head[1:] = rows[1:] != rows[:-1]
        parent[rows[head]] = cols[head]
    return parent
