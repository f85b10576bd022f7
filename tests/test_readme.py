"""Every command in README.md's and docs/cli.md's command blocks runs and exits 0.

The blocks are the Markdown code blocks (indented or fenced) whose lines start with ``kg`` or
``pip``. ``pip install`` is left out (the test runs inside the installed package; ``&& kg …``
after it still runs) and so is ``pytest`` (this is it). ``kg serve`` is started once, on a free
port that replaces 7878 in every command, and the ``--endpoint`` lines query it. Each command
runs in a fresh folder holding ``my-deals.csv`` (a copy of tests/data/deals.csv), so files it
writes (``-o …``) never exist before.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import DATA, REPO

pytestmark = pytest.mark.slow
DOCS = ("README.md", "docs/cli.md")
README_PORT = "7878"


def code_blocks(text: str) -> list[list[str]]:
    """The lines of each code block: fenced (```), or indented by four spaces after a blank line."""
    blocks, current, fenced, prev_blank = [], None, False, True
    for line in text.splitlines():
        if line.strip().startswith("```"):
            if fenced:
                blocks.append(current)
                current, fenced = None, False
            else:
                current, fenced = [], True
            continue
        if fenced:
            current.append(line)
            continue
        if line.startswith("    ") and (current is not None or prev_blank):
            if current is None:
                current = []
            current.append(line[4:])
        elif line.strip() == "" and current is not None:
            current.append("")
        else:
            if current is not None:
                blocks.append(current)
            current = None
        prev_blank = line.strip() == ""
    if current is not None:
        blocks.append(current)
    return blocks


def commands_of(text: str) -> list[str]:
    """Each shell command of the command blocks, split at ``&&``, without pip and pytest."""
    out = []
    for block in code_blocks(text):
        lines = [line.strip().removeprefix("$ ") for line in block if line.strip()]
        if not lines or not all(line.startswith(("kg ", "kg\t", "pip ")) or line == "kg" for line in lines):
            continue
        for line in lines:
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0] == "kg":
                    out.append(" ".join(shlex.quote(w) for w in words))
    return out


CASES = [(doc, cmd) for doc in DOCS for cmd in commands_of((REPO / doc).read_text(encoding="utf-8"))]


def test_the_docs_have_command_blocks():
    """README.md opens with `kg info` (after pip install) and its block of a few commands has
    more than ten; docs/cli.md has its own examples."""
    readme = [c for d, c in CASES if d == "README.md"]
    assert readme[0] == "kg info" and len(readme) > 10
    assert any(d == "docs/cli.md" for d, _ in CASES)


def kg_command() -> list[str]:
    script = Path(sys.executable).parent / "kg"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kg.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``kg serve`` as the README starts it, on a free port; yields the port."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(kg_command() + ["serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", timeout=5) as resp:
                    assert resp.status == 200
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"kg serve did not answer on port {port}: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("doc, command", CASES, ids=[f"{d}: {c}" for d, c in CASES])
def test_documented_command_exits_0(doc, command, served, tmp_path):
    words = shlex.split(command)
    if words[1:2] == ["serve"]:
        return  # started by the fixture, which checked that it answers
    words = [w.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{served}") for w in words]
    shutil.copy(DATA / "deals.csv", tmp_path / "my-deals.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_ENDPOINT")}
    res = subprocess.run(kg_command() + words[1:], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{doc}: `{command}` exited {res.returncode}: {res.stderr[-2000:]}"
    assert res.stdout or list(tmp_path.iterdir()) != [tmp_path / "my-deals.csv"], f"`{command}` gave nothing"
    assert "Traceback" not in res.stderr
    if re.search(r"\s-o\s", command):
        assert (tmp_path / words[words.index("-o") + 1]).stat().st_size > 0
