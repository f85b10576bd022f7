"""The persistent store (kg.persist, ``kg load --store DIR`` and ``kg --store DIR``).

The reference for every answer is the in-memory store that ``kg --data FILE`` loads: the
persistent store must give the same output, byte for byte, for the same files. Facts checked
by hand come from tests/data/deals.csv (its first row: Oracle pays Nvidia about 40 billion USD).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import DATA, REPO
from kg.persist import StoreError, load_into, open_store

GOOD_TTL = """@prefix kg: <https://w3id.org/ai-capital-kg/ontology#> .
@prefix kgr: <https://w3id.org/ai-capital-kg/resource/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix u: <https://example.org/u/> .
u:src a kg:Source ; dcterms:title "My desk notes" ; kg:layer kg:UserLayer .
u:rel a kg:Relationship ; kg:kind kg:ChipSupply ; kg:customer kgr:Oracle ; kg:supplier kgr:AMD ; dcterms:source u:src .
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A store loaded from a copy of deals.csv (with the bundled graph), and that copy."""
    base = tmp_path_factory.mktemp("persist")
    deals = base / "deals.csv"
    shutil.copy(DATA / "deals.csv", deals)
    load_into(base / "st", [deals])
    return base / "st", deals


def _kg(*args, env=None):
    return subprocess.run([sys.executable, "-m", "kg.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=300)


def _same_order_of_concat(text):
    """GROUP_CONCAT joins values in an order SPARQL leaves open (each store's own: the
    qualifiers "up-to,reported", a claim's "abouts"), so JSON strings are compared as
    multisets of their space- or comma-separated parts; any other output exactly."""
    import re

    def norm(value):
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return sorted(re.split(r"[ ,]", value)) if isinstance(value, str) else value

    try:
        return norm(json.loads(text))
    except ValueError:
        return text


def _generation(root):
    return os.readlink(root / "current")


@pytest.mark.parametrize("args", [
    ("show", "Oracle"),
    ("show", "Acme AI", "--format", "json"),
    ("query", "relationships", "--format", "json"),
    ("query", "claims-about", "--param", "about=Oracle", "--format", "json"),
])
def test_store_answers_as_the_in_memory_load(loaded, invoke, args):
    root, deals = loaded
    on_disk = invoke("--store", root, *args)
    in_memory = invoke("--data", deals, *args)
    assert on_disk.exit_code == 0, on_disk.stderr
    assert _same_order_of_concat(on_disk.stdout) == _same_order_of_concat(in_memory.stdout)
    assert on_disk.stdout  # not two empty answers
    assert on_disk.stderr == ""  # nothing changed since the load: no warning


def test_exposure_on_the_store_as_in_memory(loaded, invoke):
    """The same firms with the same impact and losses (to 12 digits: the store's edge order
    changes the order of float sums) as the in-memory load. Row order among firms the model
    does not separate, and the uncertainty bands (seeded draws taken in the order the store
    returns the edges), follow the store's own order, so they are left out."""
    root, deals = loaded

    def core(result):
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        return sorted((r["id"], round(r["h"], 12), r["loss_usd"] or 0) for r in data["losses"])

    on_disk = core(invoke("--store", root, "exposure", "--shock", "Oracle", "--format", "json"))
    assert on_disk == core(invoke("--data", deals, "exposure", "--shock", "Oracle", "--format", "json"))
    oracle = [row for row in on_disk if row[0].endswith("/Oracle")]
    assert [h for _, h, _ in oracle] == [1.0]  # the shocked firm fails outright


def test_store_holds_the_users_rows(loaded, invoke):
    """deals.csv line 2: Oracle → Nvidia, chip supply, about 40,000,000,000 USD."""
    root, _ = loaded
    data = json.loads(invoke("--store", root, "show", "Oracle", "--format", "json").stdout)
    rows = [r for r in data["relationships"] if r["other_label"] == "Nvidia" and r["layer"] == "user"]
    assert [(r["direction"], r["amount"], r["currency"]) for r in rows] == [("out", 40000000000, "USD")]


def test_environment_variable_names_the_store(loaded, invoke):
    root, deals = loaded
    assert invoke("show", "Oracle", env={"KG_STORE": str(root)}).stdout == invoke("--data", deals, "show", "Oracle").stdout


def test_info_lists_the_loaded_files(loaded, invoke):
    root, deals = loaded
    out = json.loads(invoke("--store", root, "info", "--format", "json").stdout)
    assert str(deals.resolve()) in [f["path"] for f in out["files"]]


def test_manifest_records_size_and_hash(loaded):
    import hashlib

    root, deals = loaded
    manifest = json.loads((root / "current" / "manifest.json").read_text())
    entry = next(f for f in manifest["files"] if not f["bundled"])
    assert entry["size"] == deals.stat().st_size
    assert entry["sha256"] == hashlib.sha256(deals.read_bytes()).hexdigest()


def test_changed_file_is_one_warning_line(tmp_path, invoke):
    deals = tmp_path / "deals.csv"
    shutil.copy(DATA / "deals.csv", deals)
    load_into(tmp_path / "st", [deals])
    os.utime(deals, ns=(1, 1))  # touched: same bytes, another time → no warning (the hash decides)
    assert invoke("--store", tmp_path / "st", "entities").stderr == ""
    text = deals.read_text()
    deals.write_text(text.replace("40000000000", "50000000000"))  # same size, other content
    result = invoke("--store", tmp_path / "st", "entities")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ") and str(deals.resolve()) in lines[0]
    deals.unlink()
    assert "(gone)" in invoke("--store", tmp_path / "st", "entities").stderr


def test_other_bundled_data_is_one_warning_line(tmp_path, invoke):
    load_into(tmp_path / "st", [])
    manifest = tmp_path / "st" / "current" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "bundled_sha256": "0" * 64}))
    lines = invoke("--store", tmp_path / "st", "entities").stderr.splitlines()
    assert len(lines) == 1 and "bundled data" in lines[0]


@pytest.mark.parametrize("bad_name, bad_text, message", [
    ("violation.ttl", GOOD_TTL.replace("; dcterms:source u:src .", "."), "validation error"),
    ("syntax.ttl", GOOD_TTL + "\nthis is not turtle\n", "syntax.ttl:8:"),
])
def test_failed_load_leaves_the_store_as_it_was(tmp_path, invoke, bad_name, bad_text, message):
    good = tmp_path / "good.ttl"
    good.write_text(GOOD_TTL)
    root = tmp_path / "st"
    assert invoke("load", "--store", root, good).exit_code == 0
    before, generation = invoke("--store", root, "show", "Oracle").stdout, _generation(root)
    bad = tmp_path / bad_name
    bad.write_text(bad_text)
    result = invoke("load", "--store", root, bad)
    assert result.exit_code == 1
    assert message in result.stderr and "left as it was" in result.stderr
    assert "Traceback" not in result.stderr
    assert _generation(root) == generation
    assert sorted(p.name for p in root.iterdir()) == [".lock", "current", generation]  # no .tmp-* left
    assert invoke("--store", root, "show", "Oracle").stdout == before
    assert "AMD" in before  # the good file's relationship is there


def test_interrupted_load_leaves_the_store_as_it_was(tmp_path, monkeypatch, invoke):
    root = tmp_path / "st"
    load_into(root, [])
    generation = _generation(root)
    import kg.store

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kg.store, "load_store", interrupt)
    result = invoke("load", "--store", root)
    assert result.exit_code == 1 and "interrupted" in result.stderr and "left as it was" in result.stderr
    assert _generation(root) == generation and not list(root.glob(".tmp-*"))


def test_reader_open_during_a_load_keeps_its_graph(tmp_path, monkeypatch):
    """A reader that opened the store before a load keeps reading the graph it opened; one
    that opens after the load reads the new graph (the good file adds 1 relationship)."""
    root = tmp_path / "st"
    load_into(root, [])
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?r a kg:Relationship }"
    old = open_store(root)
    n_old = old.select(count)[0]["n"]
    good = tmp_path / "good.ttl"
    good.write_text(GOOD_TTL)
    monkeypatch.chdir(tmp_path)  # a relative DIR, as users type it
    load_into("st", [good])
    assert old.select(count)[0]["n"] == n_old
    assert open_store(root).select(count)[0]["n"] == n_old + 1
    assert len(list(root.glob("gen-*"))) == 2  # the one the old reader opened is kept …
    load_into("st", [good])
    assert len(list(root.glob("gen-*"))) == 2  # … until the next load


def test_two_readers_at_once(loaded):
    root, deals = loaded
    expected = _kg("--data", deals, "show", "Oracle").stdout
    cmd = [sys.executable, "-m", "kg.cli", "--store", str(root), "show", "Oracle"]
    env = {**os.environ, "COLUMNS": "200"}
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert [out for out, _ in outs] == [expected, expected]


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_not_a_store_is_one_line_and_exit_1(tmp_path, invoke, make):
    target = tmp_path / "x"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    result = invoke("--store", target, "show", "Oracle")
    assert result.exit_code in (1, 2)  # a file is refused by click's option type (exit 2)
    if make != "file":
        assert result.exit_code == 1
        assert len(result.stderr.splitlines()) == 1 and str(target) in result.stderr
        assert not target.exists() or list(target.iterdir()) == []  # nothing written


def test_failed_first_load_writes_nothing(tmp_path, invoke):
    bad = tmp_path / "syntax.ttl"
    bad.write_text("this is not turtle\n")
    result = invoke("load", "--store", tmp_path / "new", bad)
    assert result.exit_code == 1 and "syntax.ttl:1:" in result.stderr and "nothing was written" in result.stderr
    assert not (tmp_path / "new").exists()


def test_load_refuses_a_directory_of_other_files(tmp_path, invoke):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = invoke("load", "--store", target)
    assert result.exit_code == 1 and "not a kg store" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_store_with_endpoint_or_data_is_a_usage_error(loaded, invoke):
    root, deals = loaded
    assert invoke("--store", root, "--endpoint", "http://127.0.0.1:9/sparql", "info").exit_code == 2
    assert invoke("--store", root, "--data", deals, "info").exit_code == 2


def test_load_without_a_store_is_a_usage_error(invoke):
    result = invoke("load", DATA / "deals.csv", env={"KG_STORE": None})
    assert result.exit_code == 2 and "--store" in result.stderr


def test_no_validate_message_says_no_validation(tmp_path):
    """At a terminal, ``--no-validate`` must not announce validation (issue 16)."""
    import pty

    deals = DATA / "deals.csv"
    for flags, expected in ((["--no-validate"], "loading 1 user file(s)…"),
                            ([], "loading 1 user file(s) and validating them…")):
        master, slave = pty.openpty()
        proc = subprocess.run([sys.executable, "-m", "kg.cli", *flags, "--data", str(deals), "entities"],
                              stdout=subprocess.DEVNULL, stderr=slave, cwd=REPO, timeout=300)
        os.close(slave)
        err = os.read(master, 4096).decode()
        os.close(master)
        assert proc.returncode == 0
        assert err.splitlines()[0].strip() == expected


def test_validate_checks_the_store(tmp_path, invoke):
    """`kg --store DIR validate` validates what the store holds: the same report (triples,
    graphs, nodes checked) as validating the bundled graph with the same file in memory."""
    good = tmp_path / "good.ttl"
    good.write_text(GOOD_TTL)
    load_into(tmp_path / "st", [good])
    on_store = invoke("--store", tmp_path / "st", "validate")
    in_memory = invoke("--data", good, "validate")
    assert on_store.exit_code == 0 and on_store.stderr == in_memory.stderr
    assert invoke("--store", tmp_path / "st", "validate", good).exit_code == 2


def test_store_error_names_the_directory(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        open_store(tmp_path / "nope")
