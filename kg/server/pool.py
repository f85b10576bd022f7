"""A pool of worker processes: one job each, killed at the timeout and replaced.

Each worker holds its own in-memory copy of the store (a snapshot in N-Quads), so queries run
in parallel on every core and a runaway query takes only its own process down. An update runs
with every worker held (no query sees half of it); the worker that ran it hands back a new
snapshot, which the others load and replacements start from. A large answer comes from its worker
in chunks (:class:`_Body`), and the worker stays held until the last one is written to the client.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from kg.server.errors import HTTPError
from kg.server.fairqueue import FairQueue

__all__ = ["WorkerPool"]

log = logging.getLogger("kg.server")
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class _Worker:
    """A ``python -m kg.server.worker`` process talking over a socket pair.

    A plain subprocess rather than :mod:`multiprocessing`: that would re-import the caller's
    ``__main__`` in every worker (and fail in a script without a ``__main__`` guard).
    """

    def __init__(self, snapshot: bytes, files, memory_mb, network: bool = False):
        self.quick = False  # the reserved worker
        self.generation = 0
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kg.server.worker", str(child.fileno())],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=env,
            )
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        self.conn.send({"snapshot": snapshot, "files": list(files), "memory_mb": memory_mb, "network": network})

    def wait_ready(self, timeout: float) -> list[str]:
        try:
            if not self.conn.poll(timeout):
                raise RuntimeError(f"worker did not start within {timeout:.0f} s")
            kind, graphs = self.conn.recv()
        except (EOFError, OSError):
            status = self.proc.wait()
            raise RuntimeError(f"worker exited while starting (status {status}); see its error above") from None
        if kind == "refused":  # the worker could not sandbox itself; graphs is why
            raise RuntimeError(graphs)
        return graphs

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.conn.close()


class WorkerPool:
    """``size`` worker processes, and one reserved worker, serving jobs from :mod:`kg.server.worker`.

    Which request gets a free worker is :class:`kg.server.fairqueue.FairQueue`'s: round-robin over
    clients, and, when every ordinary worker is busy, the reserved worker for a client that holds
    none, for up to ``quick_seconds``. A job that overruns that budget is stopped there (the
    reserved worker is replaced), goes back to the queue for an ordinary worker with what is left
    of its timeout, and its client may not use the reserved worker again for ``timeout`` seconds.
    docs/server.md ("Limits") has the reasons and the figures.

    Parameters
    ----------
    snapshot : the store as N-Quads bytes (``Store.dump``).
    files : the :class:`kg.store.LoadedFile` records, for pages that list the loaded files.
    size : number of ordinary worker processes.
    memory_mb : address-space limit of each worker, or ``None``.
    network : let the workers open sockets (only for ``--allow-host``; see :mod:`kg.server.sandbox`).
    quick_seconds : the reserved worker's budget per job; ``0`` starts no reserved worker.
    """

    def __init__(self, snapshot: bytes, files=(), size: int = 2, memory_mb: int | None = None,
                 start_timeout: float = 120.0, network: bool = False, quick_seconds: float = 0.0):
        self.snapshot, self.files, self.memory_mb, self.network = snapshot, list(files), memory_mb, network
        self.quick_seconds = quick_seconds
        self.size = 0
        self.graphs: list[str] = []
        self.replacements = 0
        self.generation = 0  # bumped by every update; a worker from before it never serves again
        self.queue = FairQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._closed = False
        try:
            workers = [self._start() for _ in range(max(1, size))]
            quick = self._start() if quick_seconds > 0 else None
            for w in workers:
                self.graphs = w.wait_ready(start_timeout)
                self.queue.add(w)
                self.size += 1
            if quick is not None:
                quick.wait_ready(start_timeout)
                quick.quick = True
                self.queue.add(quick, reserved=True)
        except BaseException:
            self.close()
            raise

    # -- running jobs ----------------------------------------------------------------------
    def run(self, job: dict, timeout: float, client: str = ""):
        """Run ``job`` for ``client``; 503 when it (with the wait for a worker) takes longer than
        ``timeout`` seconds, after which the worker is killed and replaced.

        Returns the worker's reply; for ``("ok", ctype, body, headers)`` ``body`` is bytes or a
        :class:`_Body` to read and close, which holds the worker until it is closed.
        """
        deadline = time.monotonic() + timeout
        worker = self._take(client, deadline, timeout)
        if worker.quick:
            budget = min(deadline, time.monotonic() + self.quick_seconds)
            try:
                return self._exchange(worker, job, budget, client)
            except _Overrun:
                if budget >= deadline:
                    raise _timeout(timeout, "running the query") from None
                self.queue.bar(client, timeout)  # a slow query: not on the reserved worker again for a while
                log.info("a job of %s overran the reserved worker's %g s; queued for an ordinary worker",
                         client, self.quick_seconds)
            worker = self._take(client, deadline, timeout, general_only=True)
        try:
            return self._exchange(worker, job, deadline, client)
        except _Overrun:
            raise _timeout(timeout, "running the query") from None

    def run_update(self, job: dict, timeout: float):
        """Run an update with every worker held; on success all workers load the new store."""
        deadline = time.monotonic() + timeout
        client = "\0update"
        with self._update_lock:
            held: list[_Worker] = []
            try:
                while len(held) < self.size:
                    held.append(self._take(client, deadline, timeout, general_only=True))
                quick = self.queue.take_reserved(client, deadline)
                if quick is not None:  # if it stayed busy, it is replaced when it comes back (_release)
                    held.append(quick)
            except HTTPError:
                self._release_all(held, client)
                raise
            first, others = held[0], held[1:]
            try:
                reply = self._exchange(first, job, deadline, client, release=False)
            except _Overrun:
                self._release_all(others, client)
                raise _timeout(timeout, "running the update") from None
            except HTTPError:
                self._release_all(others, client)
                raise
            if reply[0] != "updated":
                self._release_all(held, client)
                return reply
            _, self.graphs, self.snapshot = reply
            self.generation += 1
            first.generation = self.generation
            self._release_all([first], client)
            for w in others:
                w.generation = self.generation
                try:
                    self._exchange(w, {"op": "load", "snapshot": self.snapshot}, time.monotonic() + 120, client)
                except (_Overrun, HTTPError):
                    pass  # that worker was replaced, and its replacement starts from the new snapshot
            return reply

    def _take(self, client: str, deadline: float, timeout: float, general_only: bool = False) -> _Worker:
        ticket = self.queue.take(client, deadline, general_only)
        if ticket is None:
            raise _timeout(timeout, "waiting for a free worker")
        return ticket.worker

    def _release(self, worker: _Worker, client: str) -> None:
        if worker.generation != self.generation:  # busy during an update that went ahead without it
            self._replace(worker, client)
            return
        self.queue.give_back(worker, client, reserved=worker.quick)

    def _release_all(self, workers, client: str) -> None:
        for w in workers:
            self._release(w, client)

    def _exchange(self, worker: _Worker, job: dict, deadline: float, client: str, release: bool = True):
        try:
            worker.conn.send(job)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                self._replace(worker, client)
                raise _Overrun
            reply = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._replace(worker, client)
            raise HTTPError(500, f"the worker running the request stopped ({type(exc).__name__}); "
                                 "it was probably out of memory", error="worker died") from None
        if reply[0] == "stream":  # ("stream", ctype, length, headers), then the body in chunks
            _, ctype, length, headers = reply
            return ("ok", ctype, _Body(self, worker, client, length, deadline), headers)
        if release:
            self._release(worker, client)
        return reply

    # -- starting and replacing workers ----------------------------------------------------
    def _start(self) -> _Worker:
        w = _Worker(self.snapshot, self.files, self.memory_mb, self.network)
        w.generation = self.generation
        with self._lock:
            self._all.add(w)
        return w

    def _replace(self, worker: _Worker, client: str) -> None:
        """Kill ``worker``, which ``client`` held, now; start its replacement in the background."""
        with self._lock:
            self._all.discard(worker)
        worker.kill()
        self.replacements += 1
        self.queue.forget(client)
        threading.Thread(target=self._respawn, args=(worker.quick,), name="kg-respawn", daemon=True).start()

    def _respawn(self, quick: bool = False) -> None:
        for attempt in range(3):
            if self._closed:
                return
            w = None
            try:
                w = self._start()
                w.wait_ready(120)
                if w.generation != self.generation:  # an update finished while it started
                    generation = self.generation
                    w.conn.send({"op": "load", "snapshot": self.snapshot})
                    w.conn.recv()
                    w.generation = generation
                w.quick = quick
                self.queue.add(w, reserved=quick)
                return
            except Exception as exc:  # keep serving with fewer workers rather than crash
                log.error("could not start a worker (attempt %d): %s", attempt + 1, exc)
                if w is not None:
                    with self._lock:
                        self._all.discard(w)
                    w.kill()
                time.sleep(1)
        if quick:
            self.queue.lose_reserved()
        else:
            with self._lock:
                self.size -= 1

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for w in workers:
            w.kill()
        self.queue.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Overrun(Exception):
    """The job passed its deadline (or the reserved worker's budget); its worker was replaced."""


class _Body:
    """A result the worker sends in chunks: iterate to read them, :meth:`close` to give the worker back.

    The worker stays held until the body is read to the end (or drained, when the client went away),
    so a client's work is counted until its answer is written, and the server process holds one chunk
    of it at a time.
    """

    def __init__(self, pool: WorkerPool, worker: _Worker, client: str, length: int, deadline: float):
        self.pool, self.worker, self.client, self.length = pool, worker, client, length
        self.deadline = max(deadline, time.monotonic()) + 120  # the write has its own deadline in the HTTP layer
        self.read = 0
        self.done = False

    def __iter__(self):
        while self.read < self.length:
            chunk = self._chunk()
            if chunk is None:
                return
            yield chunk

    def _chunk(self) -> bytes | None:
        try:
            if not self.worker.conn.poll(max(0.0, self.deadline - time.monotonic())):
                raise EOFError
            chunk = self.worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._fail()
            return None
        self.read += len(chunk)
        return chunk

    def _fail(self) -> None:
        if not self.done:
            self.done = True
            self.pool._replace(self.worker, self.client)

    def close(self) -> None:
        if self.done:
            return
        while self.read < self.length and not self.done:  # the client went away: drain what is left
            if self._chunk() is None:
                return
        self.done = True
        self.pool._release(self.worker, self.client)


def _timeout(seconds: float, doing: str) -> HTTPError:
    return HTTPError(503, f"the request took longer than its timeout of {seconds:g} s ({doing}) and was stopped",
                     error="query timeout", timeout=seconds)

