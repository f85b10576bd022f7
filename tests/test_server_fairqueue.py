"""The fair queue of ``kg serve``'s workers (kg/server/fairqueue.py), with plain objects for workers.

The expected orders are worked out by hand from the two rules in the module's docstring: an
ordinary worker goes to the waiting client served longest ago (never served first), then to its
oldest ticket; the reserved worker only to a client holding none and not barred, newest ticket
first. The property test checks invariants that do not restate the code: no worker is given
twice, no ordinary worker idles while someone waits, and while a client waits unserved no other
client is served twice.
"""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from kg.server.fairqueue import FairQueue


class W:
    """A stand-in worker."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def test_a_free_worker_goes_round_robin_between_clients():
    """One worker. A holds it; then A, A, B, C queue. Grants: B (never served), C (never served),
    then A's older ticket, then A's newer: a burst from A waits behind one request of each other client."""
    q = FairQueue()
    w = W("w")
    q.add(w)
    first = q.enqueue("A")
    assert first.worker is w
    a2, a3, b, c = q.enqueue("A"), q.enqueue("A"), q.enqueue("B"), q.enqueue("C")
    order = []
    holder = "A"
    for _ in range(4):
        q.give_back(w, holder)
        got = next(t for t in (a2, a3, b, c) if t.worker is w and t not in order)
        order.append(got)
        holder = got.client
    assert order == [b, c, a2, a3]


def test_the_reserved_worker_is_for_clients_that_hold_none():
    q = FairQueue()
    ordinary, reserved = W("o"), W("r")
    q.add(ordinary)
    q.add(reserved, reserved=True)
    a1 = q.enqueue("A")
    assert a1.worker is ordinary and not a1.reserved
    a2 = q.enqueue("A")  # A holds a worker: it waits, the reserved worker stays idle
    assert a2.worker is None and q.idle() == 1
    b = q.enqueue("B")
    assert b.worker is reserved and b.reserved
    q.give_back(reserved, "B", reserved=True)  # A still holds one: the reserved worker stays idle
    assert a2.worker is None and q.idle() == 1


def test_a_barred_client_and_an_update_do_not_get_the_reserved_worker():
    q = FairQueue()
    q.add(W("o"))
    q.add(W("r"), reserved=True)
    q.enqueue("X")  # holds the ordinary worker
    q.bar("B", 60)
    b = q.enqueue("B")
    update = q.enqueue("U", general_only=True)
    assert b.worker is None and update.worker is None and q.idle() == 1
    c = q.enqueue("C")
    assert c.reserved


def test_the_newest_eligible_ticket_gets_the_reserved_worker():
    q = FairQueue()
    q.add(W("o"))
    reserved = W("r")
    q.add(reserved, reserved=True)
    q.enqueue("X")  # the ordinary worker
    y = q.enqueue("Y")  # the reserved worker
    assert y.reserved
    older, newer = q.enqueue("C"), q.enqueue("D")
    q.give_back(reserved, "Y", reserved=True)
    assert newer.worker is reserved and older.worker is None


def test_a_ticket_not_served_by_its_deadline_is_withdrawn():
    q = FairQueue()
    w = W("w")
    q.add(w)
    q.enqueue("A")
    t0 = time.monotonic()
    assert q.take("B", time.monotonic() + 0.1) is None
    assert time.monotonic() - t0 >= 0.09
    q.give_back(w, "A")
    assert q.idle() == 1  # nobody was left waiting for it


def test_forget_frees_the_clients_count():
    q = FairQueue()
    q.add(W("o"))
    reserved = W("r")
    q.add(reserved, reserved=True)
    q.enqueue("A")  # ordinary
    q.forget("A")  # that worker was killed
    assert q.held("A") == 0
    assert q.enqueue("A").worker is reserved  # A holds none now, so the reserved worker is its


OPS = st.lists(st.one_of(
    st.tuples(st.just("enqueue"), st.sampled_from("abcd"), st.booleans()),
    st.tuples(st.just("back"), st.integers(0, 50)),
    st.tuples(st.just("forget"), st.integers(0, 50)),
    st.tuples(st.just("add"), st.booleans()),
), max_size=60)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_invariants_of_any_sequence(ops):
    """Random arrivals, returns, killed workers and new workers on four clients (booleans: an
    update's general-only ticket; a reserved worker)."""
    q = FairQueue()
    ordinary, reserved = [], []  # the live workers
    waiting, outstanding = [], []  # tickets without a worker; tickets holding one
    overtaken = {}  # waiting ticket -> {other client: ordinary grants since it came}, while its client got none
    for op in ops:
        if op[0] == "enqueue":
            t = q.enqueue(op[1], general_only=op[2])
            waiting.append(t)
            overtaken[t] = {}
        elif op[0] == "add":
            if op[1] and reserved:
                continue  # one reserved worker at most
            w = W(f"w{len(ordinary) + len(reserved)}")
            (reserved if op[1] else ordinary).append(w)
            q.add(w, reserved=op[1])
        elif outstanding:
            t = outstanding.pop(op[1] % len(outstanding))
            if op[0] == "back":
                q.give_back(t.worker, t.client, reserved=t.reserved)
            else:  # the worker was killed
                q.forget(t.client)
                (reserved if t.reserved else ordinary).remove(t.worker)
        granted = [t for t in waiting if t.worker is not None]
        waiting = [t for t in waiting if t.worker is None]
        outstanding += granted
        for t in granted:
            assert t.reserved == (t.worker in reserved)
            if t.reserved:  # never to an update, and only to a client holding no other worker
                assert not t.general_only
                assert [u for u in outstanding if u.client == t.client] == [t]
        for t in waiting:
            if any(g.client == t.client for g in granted):
                overtaken[t] = None  # its client was served: no longer overtaken
            elif overtaken[t] is not None:
                for g in granted:
                    if not g.reserved:
                        overtaken[t][g.client] = overtaken[t].get(g.client, 0) + 1
                # while a client waits unserved, no other client gets two ordinary workers
                assert all(n <= 1 for n in overtaken[t].values()), (t.client, overtaken[t])
        # no worker is given twice, and the queue agrees on who holds how many
        assert len({id(t.worker) for t in outstanding}) == len(outstanding)
        for c in "abcd":
            assert q.held(c) == sum(1 for t in outstanding if t.client == c)
        # nobody waits while an ordinary worker is idle
        if waiting:
            assert sum(1 for t in outstanding if not t.reserved) == len(ordinary)
        # the reserved worker does not idle while a ticket that may use it waits
        if reserved and not any(t.reserved for t in outstanding):
            assert not any(not t.general_only and q.held(t.client) == 0 for t in waiting)
