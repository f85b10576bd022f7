"""DebtRank, its linear variant and first-round losses on hand-worked networks, plus invariants."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.analysis.exposure import debtrank, exposure_matrix

# The worked example. Exposures: B loses 5 if A fails, C loses 4 if B fails, A loses 2
# if C fails; capacities E = (10, 10, 8). W[i, j] = min(1, A_ij / E_i):
#   W[B, A] = 5/10 = 0.5, W[C, B] = 4/8 = 0.5, W[A, C] = 2/10 = 0.2.
W3 = np.array([[0.0, 0.0, 0.2],
               [0.5, 0.0, 0.0],
               [0.0, 0.5, 0.0]])
V3 = np.array([0.5, 0.3, 0.2])


def test_worked_example_a_fails():
    """A fails with ψ = 1.
    Round 1: h = (1, 0, 0), A distressed.
    Round 2: B receives W[B,A]·h_A = 0.5 → h = (1, 0.5, 0); A inactive, B distressed.
    Round 3: C receives W[C,B]·h_B = 0.25 → h = (1, 0.5, 0.25); B inactive.
    Round 4: A receives W[A,C]·h_C = 0.05 but is capped at 1; C inactive; nothing distressed.
    R = (1·0.5 + 0.5·0.3 + 0.25·0.2) − 1·0.5 = 0.15 + 0.05 = 0.20.
    """
    run = debtrank(W3, V3, shocked=0, severity=1.0)
    assert run.h == pytest.approx([1.0, 0.5, 0.25])
    assert run.R == pytest.approx(0.20)
    assert run.first_round.tolist() == [1, 2, 3]
    assert run.parent.tolist()[1:] == [0, 1]


def test_worked_example_b_shocked_half():
    """B shocked with ψ = 0.5.
    Round 2: C gets 0.5·0.5 = 0.25. Round 3: A gets 0.2·0.25 = 0.05.
    Round 4: B (inactive, but h still grows) gets 0.5·0.05 = 0.025 → 0.525. Then nothing is distressed.
    h = (0.05, 0.525, 0.25); R = 0.05·0.5 + 0.525·0.3 + 0.25·0.2 − 0.5·0.3 = 0.025 + 0.1575 + 0.05 − 0.15 = 0.0825.
    """
    run = debtrank(W3, V3, shocked=[1], severity=0.5)
    assert run.h == pytest.approx([0.05, 0.525, 0.25])
    assert run.R == pytest.approx(0.0825)


def test_linear_keeps_passing_increments_to_the_fixed_point():
    """Linear DebtRank with B shocked at 0.5: with no cap binding, h solves (I − W) h = h(1):
    h_A = 0.2 h_C, h_C = 0.5 h_B, h_B = 0.5 + 0.5 h_A → h_B = 0.5 + 0.05 h_B → h_B = 0.5/0.95.
    So h = (0.05/0.95, 0.5/0.95, 0.25/0.95) = (0.0526316, 0.5263158, 0.2631579).
    """
    run = debtrank(W3, V3, shocked=1, severity=0.5, method="linear", tol=1e-14)
    assert run.h == pytest.approx([0.05 / 0.95, 0.5 / 0.95, 0.25 / 0.95], rel=1e-9)
    assert run.converged


def test_direct_is_first_round_only():
    """A fails: only B, its direct creditor, is hit: h = (1, 0.5, 0), R = 0.5·0.3 = 0.15."""
    run = debtrank(W3, V3, shocked=0, method="direct")
    assert run.h == pytest.approx([1.0, 0.5, 0.0])
    assert run.R == pytest.approx(0.15)


def test_sparse_and_dense_agree():
    dense = debtrank(W3, V3, 0)
    sparse = debtrank(sp.csr_array(W3), V3, 0)
    assert np.allclose(dense.h, sparse.h) and dense.R == pytest.approx(sparse.R)
    assert sparse.parent.tolist() == dense.parent.tolist()


def test_boolean_mask_selects_the_shocked():
    run = debtrank(W3, V3, np.array([True, False, False]))
    assert run.h == pytest.approx([1.0, 0.5, 0.25])


def test_empty_network():
    run = debtrank(np.zeros((0, 0)), [], [], 1.0)
    assert run.h.size == 0 and run.R == 0.0


def test_one_node_network():
    """A lone node shocked at 0.7 keeps h = 0.7 and R = 0 (nothing beyond the initial shock)."""
    for method in ("debtrank", "linear", "direct"):
        run = debtrank(np.zeros((1, 1)), [1.0], 0, 0.7, method)
        assert run.h.tolist() == [0.7] and run.R == 0.0


def test_unknown_method_is_an_error():
    from kg.errors import InputError

    with pytest.raises(InputError, match="unknown method"):
        debtrank(W3, V3, 0, method="magic")


def test_max_rounds_is_an_error_unless_asked_for_the_unconverged_run():
    from kg.analysis.debtrank import ConvergenceError

    with pytest.raises(ConvergenceError, match="did not converge in 3 rounds"):
        debtrank(W3, V3, 1, 0.5, "linear", max_rounds=3)
    run = debtrank(W3, V3, 1, 0.5, "linear", max_rounds=3, strict=False)
    assert not run.converged and run.rounds == 3


# -- properties ------------------------------------------------------------------------------
# (random networks can be near-critical: these properties are about the values the methods
# reach, so an unconverged linear run is returned, strict=False; convergence has its own tests)
@st.composite
def networks(draw, max_n=7):
    n = draw(st.integers(1, max_n))
    cells = draw(st.lists(st.floats(0, 1, allow_nan=False), min_size=n * n, max_size=n * n))
    W = np.array(cells).reshape(n, n)
    np.fill_diagonal(W, 0.0)
    W[W < 0.3] = 0.0  # sparse-ish, so that some nodes are unreachable
    shock = draw(st.integers(0, n - 1))
    return W, shock


METHOD = st.sampled_from(["debtrank", "linear", "direct"])


@settings(max_examples=150, deadline=None)
@given(networks(), st.floats(0, 1), METHOD)
def test_h_stays_in_unit_interval(net, psi, method):
    W, s = net
    run = debtrank(W, np.ones(len(W)), s, psi, method, strict=False)
    assert np.all(run.h >= 0) and np.all(run.h <= 1)


@settings(max_examples=150, deadline=None)
@given(networks(), st.floats(0, 1), st.floats(0, 1), METHOD)
def test_more_severity_never_lowers_any_h(net, a, b, method):
    W, s = net
    lo, hi = sorted((a, b))
    # the linear method stops at a tolerance: compare beyond it
    h_lo = debtrank(W, np.ones(len(W)), s, lo, method, tol=1e-13, strict=False).h
    h_hi = debtrank(W, np.ones(len(W)), s, hi, method, tol=1e-13, strict=False).h
    assert np.all(h_hi >= h_lo - 1e-9)


@settings(max_examples=100, deadline=None)
@given(networks(), METHOD)
def test_zero_shock_gives_zero_impact(net, method):
    W, s = net
    run = debtrank(W, np.ones(len(W)), s, 0.0, method, strict=False)
    assert np.all(run.h == 0) and run.R == 0.0


@settings(max_examples=150, deadline=None)
@given(networks(), st.floats(0.01, 1), METHOD)
def test_actor_without_path_from_the_shock_is_untouched(net, psi, method):
    import networkx as nx

    W, s = net
    # an edge j → i wherever W[i, j] > 0: distress flows from j to i
    g = nx.DiGraph([(j, i) for i, j in zip(*np.nonzero(W))])
    g.add_nodes_from(range(len(W)))
    reach = nx.descendants(g, s) | {s}
    run = debtrank(W, np.ones(len(W)), s, psi, method, strict=False)
    for i in range(len(W)):
        if i not in reach:
            assert run.h[i] == 0.0 and run.first_round[i] == 0


# -- from a view to a matrix -------------------------------------------------------------------
def _view(edges, sizes):
    import networkx as nx

    g = nx.MultiDiGraph(notes=[])
    for n, s in sizes.items():
        g.add_node(n, label=n, size=s)
    for u, v, d in edges:
        g.add_edge(u, v, **{"rel": None, "kind": "K", "amount": None, "exposure_usd": None, "status": None,
                            "sources": [], **d})
    return g


def test_matrix_sums_amounts_and_combines_qualitative_weights():
    """i = X depends on j = Y through: two revenue amounts 2 + 3 (X's size 10) → w_amt = 0.5;
    a qualitative supply edge 0.2 and a licence edge 0.5 → w_q = 1 − 0.8·0.5 = 0.6;
    W[X, Y] = 1 − (1 − 0.5)(1 − 0.6) = 0.8."""
    g = _view([
        ("Y", "X", {"channel": "revenue", "basis": "amount", "exposure_usd": 2.0, "weight": 0.2}),
        ("Y", "X", {"channel": "revenue", "basis": "amount", "exposure_usd": 3.0, "weight": 0.3}),
        ("Y", "X", {"channel": "supply", "basis": "qualitative", "weight": 0.2}),
        ("Y", "X", {"channel": "licence", "basis": "qualitative", "weight": 0.5}),
    ], {"X": 10.0, "Y": None})
    W, nodes, A, _ = exposure_matrix(g)
    x, y = nodes.index("X"), nodes.index("Y")
    assert W[x, y] == pytest.approx(0.8)
    assert A[x, y] == pytest.approx(5.0)


def test_amount_replaces_qualitative_on_the_same_channel_and_stake_replaces_investment():
    """On the equity channel X (size 100) has a stake worth 30, an investment of 10 and an
    amount-less stake (0.3): only the stake's value counts → W = 30/100 = 0.3."""
    g = _view([
        ("Y", "X", {"channel": "equity", "basis": "amount", "exposure_usd": 30.0, "weight": 0.3, "kind": "Stake"}),
        ("Y", "X", {"channel": "equity", "basis": "amount", "exposure_usd": 10.0, "weight": 0.1,
                    "kind": "EquityInvestment"}),
        ("Y", "X", {"channel": "equity", "basis": "qualitative", "weight": 0.3, "kind": "Stake"}),
    ], {"X": 100.0, "Y": None})
    W, nodes, _, _ = exposure_matrix(g)
    assert W[nodes.index("X"), nodes.index("Y")] == pytest.approx(0.3)


def test_scale_and_only_channels():
    g = _view([("Y", "X", {"channel": "api", "basis": "qualitative", "weight": 0.5}),
               ("Y", "X", {"channel": "supply", "basis": "qualitative", "weight": 0.2})], {"X": None, "Y": None})
    W, nodes, _, _ = exposure_matrix(g, scale={"api": 0.4}, only_channels={"api"})
    assert W[nodes.index("X"), nodes.index("Y")] == pytest.approx(0.2)
