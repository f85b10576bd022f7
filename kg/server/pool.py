"""A pool of worker processes: one job each, killed at the timeout and replaced.

Each worker holds its own in-memory copy of the store (a snapshot in N-Quads), so queries run
in parallel on every core and a runaway query takes only its own process down. An update runs
with every worker held (no query sees half of it); the worker that ran it hands back a new
snapshot, which the others load and replacements start from.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from kg.server.errors import HTTPError

__all__ = ["WorkerPool"]

log = logging.getLogger("kg.server")
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class _Worker:
    """A ``python -m kg.server.worker`` process talking over a socket pair.

    A plain subprocess rather than :mod:`multiprocessing`: that would re-import the caller's
    ``__main__`` in every worker (and fail in a script without a ``__main__`` guard).
    """

    def __init__(self, snapshot: bytes, files, memory_mb, network: bool = False):
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
    """``size`` worker processes serving jobs from :mod:`kg.server.worker`.

    Parameters
    ----------
    snapshot : the store as N-Quads bytes (``Store.dump``).
    files : the :class:`kg.store.LoadedFile` records, for pages that list the loaded files.
    size : number of worker processes (queries running at once).
    memory_mb : address-space limit of each worker, or ``None``.
    network : let the workers open sockets (only for ``--allow-host``; see :mod:`kg.server.sandbox`).
    """

    def __init__(self, snapshot: bytes, files=(), size: int = 2, memory_mb: int | None = None,
                 start_timeout: float = 120.0, network: bool = False):
        self.snapshot, self.files, self.memory_mb, self.network = snapshot, list(files), memory_mb, network
        self.size = 0
        self.graphs: list[str] = []
        self.replacements = 0
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._closed = False
        try:
            workers = [self._start() for _ in range(max(1, size))]
            for w in workers:
                self.graphs = w.wait_ready(start_timeout)
                self._idle.put(w)
                self.size += 1
        except BaseException:
            self.close()
            raise

    # -- running jobs ----------------------------------------------------------------------
    def run(self, job: dict, timeout: float):
        """Run ``job`` on an idle worker; 503 when it (with the wait for a worker) takes longer
        than ``timeout`` seconds, after which the worker is killed and replaced."""
        deadline = time.monotonic() + timeout
        worker = self._take(deadline, timeout)
        return self._exchange(worker, job, deadline, timeout, release=True)

    def run_update(self, job: dict, timeout: float):
        """Run an update with every worker held; on success all workers load the new store."""
        deadline = time.monotonic() + timeout
        with self._update_lock:
            held: list[_Worker] = []
            try:
                while len(held) < self.size:
                    held.append(self._take(deadline, timeout))
            except HTTPError:
                self._release(held)
                raise
            first, others = held[0], held[1:]
            try:
                reply = self._exchange(first, job, deadline, timeout, release=False)
            except HTTPError:
                self._release(others)
                raise
            if reply[0] != "updated":
                self._release(held)
                return reply
            _, self.graphs, self.snapshot = reply
            self._release([first])
            for w in others:
                try:
                    self._exchange(w, {"op": "load", "snapshot": self.snapshot}, time.monotonic() + 120, 120,
                                   release=True)
                except HTTPError:
                    pass  # that worker was replaced, and its replacement starts from the new snapshot
            return reply

    def _take(self, deadline: float, timeout: float) -> _Worker:
        try:
            return self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise _timeout(timeout, "waiting for a free worker") from None

    def _exchange(self, worker: _Worker, job: dict, deadline: float, timeout: float, release: bool):
        try:
            worker.conn.send(job)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                self._replace(worker)
                raise _timeout(timeout, "running the query")
            reply = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._replace(worker)
            raise HTTPError(500, f"the worker running the request stopped ({type(exc).__name__}); "
                                 "it was probably out of memory", error="worker died") from None
        if release:
            self._idle.put(worker)
        return reply

    def _release(self, workers) -> None:
        for w in workers:
            self._idle.put(w)

    # -- starting and replacing workers ----------------------------------------------------
    def _start(self) -> _Worker:
        w = _Worker(self.snapshot, self.files, self.memory_mb, self.network)
        with self._lock:
            self._all.add(w)
        return w

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` now; start its replacement in the background."""
        with self._lock:
            self._all.discard(worker)
        worker.kill()
        self.replacements += 1
        threading.Thread(target=self._respawn, name="kg-respawn", daemon=True).start()

    def _respawn(self) -> None:
        for attempt in range(3):
            if self._closed:
                return
            w = None
            try:
                w = self._start()
                w.wait_ready(120)
                self._idle.put(w)
                return
            except Exception as exc:  # keep serving with fewer workers rather than crash
                log.error("could not start a worker (attempt %d): %s", attempt + 1, exc)
                if w is not None:
                    with self._lock:
                        self._all.discard(w)
                    w.kill()
                time.sleep(1)
        with self._lock:
            self.size -= 1

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for w in workers:
            w.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _timeout(seconds: float, doing: str) -> HTTPError:
    return HTTPError(503, f"the request took longer than its timeout of {seconds:g} s ({doing}) and was stopped",
                     error="query timeout", timeout=seconds)

