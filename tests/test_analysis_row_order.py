"""The analyses give the same answer whatever order the store returns the rows of a query in.

SPARQL leaves the order of rows that a query does not sort open, and the embedded store,
Oxigraph server and Virtuoso each choose their own (tests/test_parity.py compares them where the
stores run). These tests need no store: the embedded store's rows are handed over reversed, the
way a store with another order would hand them, and the output must not change by a byte; nor
may it change with the order of a GROUP_CONCAT or with Python's string hash seed.
"""

from __future__ import annotations

import networkx as nx
import pytest

from kg.analysis.chains import find_chains
from kg.analysis.cycles import collapse_legs

COMMANDS = [
    # the sampled bands (and so the ranking by their p50) draw their random numbers per actor and
    # per edge: before the canonical order of build_economic the reversed rows moved
    # HardwareSupplyChain and APIBoundStartups past each other
    ("exposure", "--shock", "OpenAI"),
    ("exposure", "--shock", "Oracle", "--method", "linear", "--layer", "context"),
    ("chains", "Nvidia", "Oracle", "--max-depth", "4"),
    ("cycles", "--max-length", "4", "--layer", "article"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a))
def test_reversed_rows_give_the_same_output(invoke, monkeypatch, args):
    from kg.store import KGStore

    here = invoke(*args, "--format", "json")
    assert here.exit_code == 0, here.output
    select, select_terms = KGStore.select, KGStore.select_terms
    monkeypatch.setattr(KGStore, "select", lambda self, q, b=None: select(self, q, b)[::-1])
    monkeypatch.setattr(KGStore, "select_terms",
                        lambda self, q, b=None: (lambda names, rows: (names, rows[::-1]))(*select_terms(self, q, b)))
    reversed_rows = invoke(*args, "--format", "json")
    assert reversed_rows.exit_code == 0, reversed_rows.output
    assert reversed_rows.stdout == here.stdout


def _parallel(order):
    """A → B by two relationships of the same weight 0.5 (r1 and r2, added in ``order``), B → C."""
    g = nx.MultiDiGraph()
    for key in order:
        g.add_edge("A", "B", key=key, rel=key, weight=0.5, amount=float(key[1]))
    g.add_edge("B", "C", key="r3", rel="r3", weight=0.5, amount=3.0)
    g.add_edge("C", "A", key="r4", rel="r4", weight=0.5, amount=4.0)
    return g


@pytest.mark.parametrize("order", [("r1", "r2"), ("r2", "r1")])
def test_chains_take_the_smaller_key_of_equally_strong_parallel_edges(order):
    """Of two parallel relationships of equal weight, the chain's hop names r1 (the smaller
    IRI) whichever was added first; its strength is 0.5 × 0.5 either way."""
    chain = find_chains(_parallel(order), "A", "C").chains[0]
    assert chain.nodes == ["A", "B", "C"] and chain.strength == 0.25
    assert chain.hops[0]["rel"] == "r1"


@pytest.mark.parametrize("order", [("r1", "r2"), ("r2", "r1")])
def test_a_legs_relationships_come_in_key_order(order):
    """The leg A → B lists r1 then r2 whichever was added first; its amount is 1 + 2."""
    leg = collapse_legs(_parallel(order))[("A", "B")]
    assert [r["rel"] for r in leg["rels"]] == ["r1", "r2"] and leg["amount"] == 3.0


def test_audit_lists_a_claims_group_concat_in_one_order(invoke, monkeypatch):
    """GROUP_CONCAT joins its values in any order (Oxigraph server and the embedded store
    differ on the audit's claims): the audit's JSON is the same with every joined list reversed."""
    from kg.store import KGStore

    here = invoke("audit", "--format", "json")
    assert here.exit_code == 0, here.output
    assert '"claims": [\n' in here.stdout or '"claims": ["' in here.stdout
    select = KGStore.select

    def reversed_concat(self, q, b=None):
        rows = select(self, q, b)
        return [{k: " ".join(v.split()[::-1]) if k == "claims" and isinstance(v, str) else v for k, v in r.items()}
                for r in rows]

    monkeypatch.setattr(KGStore, "select", reversed_concat)
    there = invoke("audit", "--format", "json")
    assert there.stdout == here.stdout


def test_chains_do_not_change_with_the_string_hash_seed():
    """`kg chains OpenAI` relaxes its frontier of actors in IRI order, not in a set's order,
    which changes with PYTHONHASHSEED: with seeds 0 and 2 the old set order chose different
    equally strong paths, whose strengths differ in the last bit, and so ranked two of the
    dependents the other way round."""
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("0", "2"):
        run = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "chains", "OpenAI",
                              "--format", "json"], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1
