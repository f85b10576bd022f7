"""Shared timing helper of the benchmark scripts."""

import gc
import time


def timed(fn, repeat=1):
    """``(best seconds, result)`` of ``fn()`` over ``repeat`` runs, each after a garbage collection."""
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out
