"""The analysis commands: output formats, exit codes and messages (click's CliRunner)."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.mark.parametrize("args", [
    ["chains", "OpenAI", "Nvidia"], ["chains", "OpenAI", "--max-depth", "2"], ["cycles"], ["cycles", "--layer", "article"],
    ["exposure", "--shock", "OpenAI"], ["exposure", "--shock", "OpenAI", "--layer", "article", "--method", "linear"],
    ["domino", "OpenAI"], ["scenarios"], ["scenario", "list"], ["scenario", "run", "2"], ["audit"],
    ["exposure", "OpenAI", "--samples", "0"], ["exposure", "OpenAI", "--as-of", "2027-06-30", "--samples", "50"],
])
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_every_command_and_format(invoke, args, fmt):
    res = invoke(*args, "--format", fmt)
    assert res.exit_code == 0, res.output
    if fmt == "json":
        json.loads(res.stdout)
    elif fmt == "csv":
        assert list(csv.reader(io.StringIO(res.stdout)))[0]


def test_exposure_table_and_notes_on_stderr(invoke):
    res = invoke("exposure", "--shock", "OpenAI", "--layer", "article")
    assert res.exit_code == 0
    assert res.stdout.startswith("losses:") and "gains:" in res.stdout
    assert "R = " in res.stderr and "R = " not in res.stdout


def test_exposure_json_traces_hops_to_relationships_and_sources(invoke):
    data = json.loads(invoke("exposure", "--shock", "OpenAI", "--format", "json").stdout)
    oracle = next(r for r in data["losses"] if r["label"] == "Oracle")
    assert oracle["loss_usd"] > 0 and oracle["round"] == 2
    hop = oracle["chain"][0]
    assert hop["rel"].startswith("https://w3id.org/ai-capital-kg/resource/rel/") and hop["sources"]


def test_chains_table_names_relationship_and_source(invoke):
    res = invoke("chains", "OpenAI", "Oracle", "--layer", "article")
    assert res.exit_code == 0 and "oracle-openai" in res.stdout and "article" in res.stdout


def test_cycles_finds_the_microsoft_openai_loop(invoke):
    res = invoke("cycles", "--layer", "article")
    assert "Microsoft → OpenAI → Microsoft" in res.stdout


def test_unknown_entity_suggests_nearest(invoke):
    for args in (["exposure", "--shock", "OpenAl"], ["chains", "Oracel"], ["domino", "Nvidya"],
                 ["chains", "OpenAI", "Oracel"]):
        res = invoke(*args)
        assert res.exit_code == 1, args
        assert "unknown entity" in res.stderr and "nearest" in res.stderr, res.stderr


@pytest.mark.parametrize("args, hint", [
    (["exposure", "--shock", "OpenAI", "--severity", "1.5"], "--severity"),
    (["exposure", "--shock", "OpenAI", "--method", "magic"], "--method"),
    (["exposure", "--shock", "OpenAI", "--channel", "revenue,bogus"], "--channel"),
    (["exposure", "--shock", "OpenAI", "--layer", "everything"], "--layer"),
    (["exposure"], "--shock"),
    (["chains", "OpenAI", "--max-depth", "0"], "--max-depth"),
    (["cycles", "--cap", "0"], "--cap"),
    (["cycles", "--min-amount", "-5"], "--min-amount"),
    (["scenario", "run", "9"], "no scenario 9"),
    (["scenario", "run", "x"], "N"),
    (["exposure", "--shock", "A", "--edges", "nope.csv", "--sizes", "nope.csv"], "--edges"),
])
def test_bad_option_values_exit_2(invoke, args, hint):
    res = invoke(*args)
    assert res.exit_code == 2, (args, res.output)
    assert hint in res.stderr


def test_edges_without_sizes_is_a_usage_error(invoke, tmp_path):
    e = tmp_path / "edges.csv"
    e.write_text("exposed,counterparty,amount\nB,A,5\n", encoding="utf-8")
    res = invoke("exposure", "--shock", "A", "--edges", e)
    assert res.exit_code == 2 and "--sizes" in res.stderr


def test_csv_network_from_the_command_line(invoke, tmp_path):
    e, s = tmp_path / "edges.csv", tmp_path / "sizes.csv"
    e.write_text("exposed,counterparty,amount\nB,A,5\nC,B,4\nA,C,2\n", encoding="utf-8")
    s.write_text("entity,size\nA,10\nB,10\nC,8\n", encoding="utf-8")
    res = invoke("exposure", "--edges", e, "--sizes", s, "--shock", "A", "--format", "json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert {r["id"]: r["h"] for r in data["losses"]} == pytest.approx({"A": 1.0, "B": 0.5, "C": 0.25})
    assert data["R"] == pytest.approx(0.0 + 0.5 * 10 / 28 + 0.25 * 8 / 28)
    res = invoke("exposure", "--edges", e, "--sizes", s, "--shock", "Z")
    assert res.exit_code == 1 and "unknown entity 'Z'" in res.stderr


def test_bad_csv_network_exits_1(invoke, tmp_path):
    e, s = tmp_path / "edges.csv", tmp_path / "sizes.csv"
    e.write_text("exposed,counterparty,amount\nB,A,five\n", encoding="utf-8")
    s.write_text("entity,size\nB,10\n", encoding="utf-8")
    res = invoke("exposure", "--edges", e, "--sizes", s, "--shock", "A")
    assert res.exit_code == 1 and "not a number" in res.stderr


def test_weights_file_from_the_command_line(invoke, tmp_path):
    w = tmp_path / "w.csv"
    w.write_text("channel,kind,weight\napi,,0\n", encoding="utf-8")
    res = invoke("exposure", "--shock", "OpenAI", "--layer", "article", "--weights", w, "--format", "json")
    labels = [r["label"] for r in json.loads(res.stdout)["losses"]]
    assert "Startups bound to OpenAI's API" not in labels
    w.write_text("channel,kind,weight\napi,,2\n", encoding="utf-8")
    assert invoke("exposure", "--shock", "OpenAI", "--weights", w).exit_code == 1


def test_help_has_examples(invoke):
    for cmd in (["chains"], ["cycles"], ["exposure"], ["domino"], ["scenario", "list"], ["scenario", "run"], ["audit"]):
        res = invoke(*cmd, "--help")
        assert res.exit_code == 0 and "Examples:" in res.stdout, cmd


def test_cap_note_on_stderr(invoke):
    res = invoke("chains", "OpenAI", "Nvidia", "--cap", "1")
    assert res.exit_code == 0 and "cap of 1" in res.stderr
    res = invoke("cycles", "--cap", "1")
    assert res.exit_code == 0 and "cap of 1" in res.stderr


def test_start_up_does_not_import_numpy():
    import subprocess
    import sys

    code = "import sys, kg.cli; print(any(m in sys.modules for m in ('numpy', 'scipy', 'networkx')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_labels_follow_the_display_language(invoke):
    res = invoke("--lang", "zh-Hant", "exposure", "--shock", "甲骨文", "--top", "3")
    assert res.exit_code == 0 and "甲骨文" in res.stdout
    assert "OpenAI → 甲骨文" in invoke("--lang", "zh-Hant", "chains", "OpenAI", "--max-depth", "1").stdout


def test_exposure_name_is_positional_or_shock(invoke):
    """`kg exposure OpenAI` and `kg exposure --shock OpenAI` give the same rows; both at once
    with different names, or neither, is a usage error (exit 2)."""
    a = json.loads(invoke("exposure", "OpenAI", "--samples", "0", "--format", "json").stdout)
    b = json.loads(invoke("exposure", "--shock", "OpenAI", "--samples", "0", "--format", "json").stdout)
    assert a["losses"] == b["losses"] and a["losses"][0]["label"] == "OpenAI"
    assert invoke("exposure", "OpenAI", "--shock", "Oracle").exit_code == 2
    assert invoke("exposure").exit_code == 2


def test_exposure_json_carries_bands_and_units(invoke):
    d = json.loads(invoke("exposure", "OpenAI", "--samples", "200", "--seed", "3", "--format", "json").stdout)
    assert d["as_of"] == "2025-11-25" and d["samples"] == 200 and d["seed"] == 3 and d["spectral_radius"] > 0
    oracle = next(r for r in d["losses"] if r["label"] == "Oracle")
    assert set(oracle["bands"]) >= {"h", "loss_usd", "usd_per_year", "usd_at_risk"}
    assert oracle["capacity_basis"] == "equity" and oracle["unit"] == "usd"
    assert oracle["loss_usd"] == pytest.approx(oracle["h"] * oracle["capacity_usd"])


def test_bad_as_of_is_exit_2(invoke):
    res = invoke("exposure", "OpenAI", "--as-of", "2025-13-01")
    assert res.exit_code == 2 and "--as-of" in res.stderr


def test_scenarios_is_deprecated_but_works(invoke):
    old, new = invoke("scenarios", "--format", "json"), invoke("scenario", "list", "--format", "json")
    assert old.exit_code == 0 and json.loads(old.stdout) == json.loads(new.stdout)
    assert "deprecated" in old.stderr and "kg scenario list" in old.stderr


@pytest.mark.parametrize("args", [["exposure", "OpenAI", "--samples", "0"], ["chains", "OpenAI", "--max-depth", "2"],
                                  ["cycles"], ["domino", "OpenAI", "--samples", "0"]])
def test_analysis_json_spells_kinds_as_kg_show_does(invoke, args):
    """Every relationship ``kind`` in the analysis JSON is the kind's skos:notation, with its
    English prefLabel as ``kind_label`` beside it, as in kg show. Checked against
    ontology/concepts.ttl parsed independently with rdflib."""
    from pathlib import Path

    import rdflib

    skos = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
    g = rdflib.Graph().parse(Path(__file__).parent.parent / "ontology" / "concepts.ttl")
    label = {str(n): str(lb) for c, n in g.subject_objects(skos.notation)
             for lb in g.objects(c, skos.prefLabel) if lb.language == "en"}

    def kinds(x):
        if isinstance(x, dict):
            if "kind" in x and x["kind"] != "memberOf":
                yield x
            for v in x.values():
                yield from kinds(v)
        elif isinstance(x, list):
            for v in x:
                yield from kinds(v)

    res = invoke(*args, "--format", "json")
    assert res.exit_code == 0, res.output
    found = list(kinds(json.loads(res.stdout)))
    assert found
    for d in found:
        assert d["kind"] in label, d["kind"]
        assert d["kind_label"] == label[d["kind"]]
    if args[0] == "cycles":
        assert {"kind": "funding-commitment", "kind_label": "funding commitment"}.items() <= \
            next(d for d in found if d["kind"] == "funding-commitment").items()


def test_scenario_run_accepts_as_of_for_both_runs(invoke):
    """kg scenario run N --as-of DATE runs the base case and the future at DATE: its base case
    is kg exposure's run at that date (same R), and at 2027-06-30 part of CoreWeave's
    five-year March 2025 contract has run, so its h falls below the article date's."""
    at = invoke("scenario", "run", "1", "--as-of", "2027-06-30", "--samples", "0", "--format", "json")
    assert at.exit_code == 0, at.output
    now = json.loads(invoke("scenario", "run", "1", "--samples", "0", "--format", "json").stdout)
    at = json.loads(at.stdout)
    exp = invoke("exposure", "OpenAI", "--as-of", "2027-06-30", "--samples", "0", "--format", "json")
    assert at["R_base"] == pytest.approx(json.loads(exp.stdout)["R"])
    assert at["R_base"] != pytest.approx(now["R_base"])
    h = {r["label"]: r["h"] for r in at["rows"]}
    assert h["CoreWeave"] < {r["label"]: r["h"] for r in now["rows"]}["CoreWeave"]
