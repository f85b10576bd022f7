"""Where the time of ``kg push`` goes on Virtuoso: rounds of a curl ``PUT`` of the synthetic file
and ``kg push --no-validate`` of it (and, with ``--baseline REV``, the push of another revision),
each into a freshly started, empty Virtuoso, with Virtuoso's CPU time and kg's own progress lines.

Usage:
    python benchmarks/bench_push_parts.py                        # 3 rounds, 10^4 companies (~3 min)
    python benchmarks/bench_push_parts.py --baseline 404770e     # also the push of that revision

It always starts its own Virtuoso (.ci/stores/start.sh, in a temporary folder) and prints a
Markdown table: per run the wall time, Virtuoso's CPU seconds (from /proc/PID/stat) and, for a
push, the seconds kg reports for the file's PUT, the derivation and the derived graph's PUT.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stores import REPO, empty_store, start_stores, write_commands  # noqa: E402 (after the path)


def virtuoso_cpu(env) -> float:
    """CPU seconds (user + system) Virtuoso has used so far."""
    pid = (Path(env["KG_STORES_DIR"]) / "virtuoso" / "pid").read_text().split()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(what, path, graph, started, code=None):
    """Into a freshly started store (its port may change: the commands are made after the start),
    curl's ``PUT`` or, with ``code`` (a checkout), its ``kg push``: (what, wall s, Virtuoso CPU s,
    the command's stderr)."""
    empty_store("virtuoso", started)
    curl, push, env = write_commands("virtuoso", path, graph)
    cmd, run = (curl, {}) if code is None else (push, {"env": dict(env, PYTHONPATH=code), "cwd": code})
    cpu, t = virtuoso_cpu(started["virtuoso"]), time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **run).stderr
    return what, time.perf_counter() - t, virtuoso_cpu(started["virtuoso"]) - cpu, out


def parts(progress: str) -> dict:
    """The seconds kg's progress lines report: the file's PUT, the derivation, the derived PUT."""
    found = {}
    for line in progress.splitlines():
        if m := re.search(r"/graph/derived: [\d,]+ triples derived \(([\d.]+) s\)", line):
            found["derive"] = float(m.group(1))
        elif m := re.search(r"/graph/derived: [\d,]+ triples \(put, ([\d.]+) s\)", line):
            found["derived PUT"] = float(m.group(1))
        elif m := re.search(r"as it is\) \(put, ([\d.]+) s\)", line):
            found["file PUT"] = float(m.group(1))
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--companies", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--baseline", metavar="REV", help="also time the push of this git revision")
    args = p.parse_args()
    from kg.store import user_graph_iri
    from kg.synthetic import write

    os.environ.pop("KG_TEST_VIRTUOSO_URL", None)  # always a store of its own, restarted per run
    workdir = Path(tempfile.mkdtemp(prefix="kg-bench-push-"))
    path = workdir / "synthetic.nt"
    write(path, args.companies, 1)
    graph = user_graph_iri(path, set())
    pushes = [("kg push", str(REPO))]
    if args.baseline:
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(workdir / "baseline"),
                        args.baseline], check=True, capture_output=True)
        pushes.append((f"kg push of {args.baseline}", str(workdir / "baseline")))
    started = start_stores(["virtuoso"], workdir)
    rows = []
    try:
        for round_ in range(1, args.rounds + 1):
            rows.append((round_, *measure("curl PUT", path, graph, started)))
            print(rows[-1][:4], file=sys.stderr, flush=True)  # each run as it ends: a long run may be stopped
            for what, code in pushes:
                rows.append((round_, *measure(what, path, graph, started, code)))
                print(rows[-1][:4], file=sys.stderr, flush=True)
    finally:
        subprocess.run(["bash", str(REPO / ".ci/stores/stop.sh")], env=started["virtuoso"], check=False)
        if args.baseline:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(workdir / "baseline")],
                           check=False, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"| round | run ({args.companies:,} companies) | wall s | Virtuoso CPU s | file PUT s | derive s | derived PUT s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for round_, what, wall, cpu, out in rows:
        got = parts(out or "")
        cells = [f"{got[k]:.1f}" if k in got else "—" for k in ("file PUT", "derive", "derived PUT")]
        print(f"| {round_} | {what} | {wall:.2f} | {cpu:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
