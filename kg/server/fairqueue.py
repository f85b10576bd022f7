"""Which waiting request gets the next free worker: round-robin over clients, and one reserved worker.

Workers are opaque here (:mod:`kg.server.pool` runs them). The rules, which docs/server.md
("Limits") explains:

- an ordinary worker goes to the waiting client that was given a worker longest ago (a client
  never served first), and to that client's oldest request: while a client waits, every other
  client is served at most once before it;
- the reserved worker goes only to a client that holds no worker and is not barred (its last job
  there overran), and among those to the newest request: a burst that has already waited is
  likely slow work, a newcomer more often cheap.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter, deque

_SEQUENCE = itertools.count()  # orders arrivals and grants strictly (clock readings can be equal)

__all__ = ["FairQueue", "Ticket"]


class Ticket:
    """A request waiting for a worker; ``worker`` is set when it gets one."""

    __slots__ = ("client", "general_only", "worker", "reserved", "arrived", "ready")

    def __init__(self, client: str, general_only: bool, lock):
        self.client, self.general_only = client, general_only
        self.worker, self.reserved = None, False
        self.arrived = next(_SEQUENCE)
        self.ready = threading.Condition(lock)  # notified alone when it gets a worker (no thundering herd)


class FairQueue:
    """Idle workers, waiting tickets, and who holds how many workers; thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # waited on by take_reserved
        self._idle: list = []
        self._reserved = None  # the reserved worker, when idle
        self.has_reserved = False  # a reserved worker exists (idle, busy or restarting)
        self._reserved_wanted = False  # take_reserved is waiting: the reserved worker goes to nobody else
        self._waiting: dict[str, deque[Ticket]] = {}  # in order of arrival of each client's first ticket
        self._held: Counter[str] = Counter()
        self._served: dict[str, int] = {}  # client -> sequence number of the last worker it was given
        self._barred: dict[str, float] = {}  # client -> until when the reserved worker is refused to it
        self._closed = False

    # -- waiting ---------------------------------------------------------------------------
    def enqueue(self, client: str, general_only: bool = False) -> Ticket:
        """A ticket for ``client``, served at once if a worker it may use is idle."""
        with self._lock:
            ticket = Ticket(client, general_only, self._lock)
            self._waiting.setdefault(client, deque()).append(ticket)
            self._dispatch()
            return ticket

    def wait(self, ticket: Ticket, deadline: float):
        """The ticket's worker, or None (the ticket withdrawn) if none came by ``deadline`` (monotonic)."""
        with self._lock:
            while ticket.worker is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    self._withdraw(ticket)
                    return None
                ticket.ready.wait(remaining)
            return ticket.worker

    def take(self, client: str, deadline: float, general_only: bool = False):
        """A worker for ``client`` (``ticket.reserved`` tells which kind), or None at the deadline."""
        ticket = self.enqueue(client, general_only)
        return ticket if self.wait(ticket, deadline) is not None else None

    def take_reserved(self, client: str, deadline: float):
        """The reserved worker once it is idle (for an update); None if there is none or at the deadline."""
        with self._lock:
            self._reserved_wanted = True
            try:
                while (self._reserved is None and self.has_reserved and not self._closed
                       and time.monotonic() < deadline):
                    self._changed.wait(min(0.5, max(0.0, deadline - time.monotonic())))
                worker, self._reserved = self._reserved, None
                if worker is not None:
                    self._held[client] += 1
                return worker
            finally:
                self._reserved_wanted = False

    # -- workers coming and going ----------------------------------------------------------
    def add(self, worker, reserved: bool = False) -> None:
        """A new (or restarted) idle worker."""
        with self._lock:
            if reserved:
                self._reserved, self.has_reserved = worker, True
            else:
                self._idle.append(worker)
            self._dispatch()

    def give_back(self, worker, client: str, reserved: bool = False) -> None:
        """``client`` has finished with ``worker``."""
        with self._lock:
            self._unhold(client)
            if reserved:
                self._reserved = worker
            else:
                self._idle.append(worker)
            self._dispatch()

    def forget(self, client: str) -> None:
        """A worker ``client`` held will not come back (it was killed)."""
        with self._lock:
            self._unhold(client)
            self._dispatch()

    def lose_reserved(self) -> None:
        """The reserved worker could not be restarted: serve without one."""
        with self._lock:
            self.has_reserved = False
            self._changed.notify_all()

    def bar(self, client: str, seconds: float) -> None:
        """Refuse the reserved worker to ``client`` for ``seconds``."""
        with self._lock:
            now = time.monotonic()
            if len(self._barred) > 4096:
                self._barred = {c: t for c, t in self._barred.items() if t > now}
            self._barred[client] = now + seconds

    def held(self, client: str) -> int:
        with self._lock:
            return self._held[client]

    def idle(self) -> int:
        with self._lock:
            return len(self._idle) + (self._reserved is not None)

    def close(self) -> None:
        """Wake every waiter; they get None."""
        with self._lock:
            self._closed = True
            self._changed.notify_all()
            for tickets in self._waiting.values():
                for t in tickets:
                    t.ready.notify()

    # -- the rules (called with the lock held) ---------------------------------------------
    def _dispatch(self) -> None:
        while self._idle and self._waiting:
            client = min(self._waiting, key=lambda c: self._served.get(c, -math.inf))  # min keeps the first of ties
            self._assign(self._waiting[client][0], self._idle.pop(), reserved=False)
        if self._reserved is not None and not self._reserved_wanted and self._waiting:
            now, best = time.monotonic(), None
            for client, tickets in self._waiting.items():
                if self._held[client] or self._barred.get(client, 0) > now:
                    continue
                for t in tickets:
                    if not t.general_only and (best is None or t.arrived > best.arrived):
                        best = t
            if best is not None:
                worker, self._reserved = self._reserved, None
                self._assign(best, worker, reserved=True)
        if self._reserved_wanted:
            self._changed.notify_all()

    def _assign(self, ticket: Ticket, worker, reserved: bool) -> None:
        self._withdraw(ticket)
        ticket.worker, ticket.reserved = worker, reserved
        self._held[ticket.client] += 1
        if len(self._served) > 4096:  # a client forgotten here counts as never served: it only gains
            self._served = {c: n for c, n in self._served.items() if c in self._waiting or c in self._held}
        self._served[ticket.client] = next(_SEQUENCE)
        ticket.ready.notify()

    def _withdraw(self, ticket: Ticket) -> None:
        tickets = self._waiting.get(ticket.client)
        if tickets is not None and ticket in tickets:
            tickets.remove(ticket)
            if not tickets:
                del self._waiting[ticket.client]

    def _unhold(self, client: str) -> None:
        self._held[client] -= 1
        if self._held[client] <= 0:
            del self._held[client]
