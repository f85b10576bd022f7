"""``ASK {}`` from N keep-alive clients against two checkouts of kg serve at once, rounds alternating.

    git worktree add /tmp/kg-before b2cd598
    python benchmarks/bench_server_ab.py /tmp/kg-before . --requests 2000 --clients 8 --rounds 5

Each server runs the code of its checkout (PYTHONPATH), ``--workers 2``; bounded by the request
count; loopback only; both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import _hammer, free_port, pct, wait_for  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--requests", type=int, default=2000, help="requests per round and server")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    procs, bases = {}, {}
    try:
        for name, repo in (("before", args.before), ("after", args.after)):
            port = free_port()
            env = {**os.environ, "PYTHONPATH": str(repo.resolve())}
            procs[name] = subprocess.Popen(
                [sys.executable, "-c", "from kg.cli import main; main()", "serve", "--port", str(port), "--quiet",
                 "--client-limit", "64", "--workers", "2"], cwd=repo, env=env, stderr=subprocess.DEVNULL)
            bases[name] = f"http://127.0.0.1:{port}"
        for base in bases.values():
            wait_for(base + "/sparql", 120)
            _hammer(base, 300, args.clients)  # warm up
        runs = {name: [] for name in bases}
        for _ in range(args.rounds):
            for name, base in bases.items():
                latencies, elapsed = _hammer(base, args.requests, args.clients)
                runs[name].append((len(latencies) / elapsed, latencies))
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(20)
    for name, rs in runs.items():
        rates = [r for r, _ in rs]
        lat = sorted(x for _, xs in rs for x in xs)
        print(f"{name}: median round {sorted(rates)[len(rates) // 2]:.0f} req/s (rounds "
              f"{', '.join(f'{r:.0f}' for r in rates)}), p50 {pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
