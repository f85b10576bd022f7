"""The first CLI commands: output formats, exit codes, messages on stderr, data on stdout."""

import csv
import io
import json

import pytest

from conftest import DATA


def test_info_counts_types_kinds_and_sources(invoke):
    r = invoke("info", "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    kinds = {row["key"] for row in data["counts"]["relationships by kind"]}
    assert {"compute-contract", "equity-investment", "revenue-share"} <= kinds
    types = {row["key"]: row["count"] for row in data["counts"]["entities by type"]}
    assert types["Company"] >= 17 and types["ActorGroup"] >= 20
    assert any(f["path"].endswith("article.trig") for f in data["files"])


def test_entities_json_fields_are_stable(invoke):
    rows = json.loads(invoke("entities", "--format", "json").stdout)
    assert {"id", "label", "label_zh", "types"} <= set(rows[0])
    ms = next(r for r in rows if r["label"] == "Microsoft")
    assert ms == {"id": "https://w3id.org/ai-capital-kg/resource/Microsoft", "label": "Microsoft", "label_zh": "微軟", "types": ["Company"]}


def test_entities_by_type(invoke):
    rows = list(csv.DictReader(io.StringIO(invoke("entities", "--type", "Platform", "--format", "csv").stdout)))
    assert {r["label"] for r in rows} == {"Azure", "AWS", "Google Cloud"}


@pytest.mark.parametrize("name", ["OpenAI", "openai", "https://w3id.org/ai-capital-kg/resource/OpenAI", "Q21708200"])
def test_show_resolves_names(invoke, name):
    r = invoke("show", name, "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["id"].endswith("/OpenAI")


@pytest.mark.parametrize("name, iri", [("微軟", "Microsoft"), ("msft", "Microsoft"), ("甲骨文", "Oracle"), ("ＮＶＩＤＩＡ", "Nvidia")])
def test_show_resolves_labels_tickers_and_width(invoke, name, iri):
    assert json.loads(invoke("show", name, "--format", "json").stdout)["id"].endswith("/" + iri)


def test_show_lists_relationships_claims_and_assessments(invoke):
    data = json.loads(invoke("show", "Oracle", "--format", "json").stdout)
    contract = [r for r in data["relationships"] if r["kind"] == "compute-contract" and r["layer"] == "article"]
    assert contract and contract[0]["amount"] == 300_000_000_000 and contract[0]["other"].endswith("/OpenAI")
    assert any("甲骨文" in (c["excerpt_zh"] or "") for c in data["claims"])
    nv = json.loads(invoke("show", "Nvidia", "--format", "json").stdout)
    assert [a["verdict"] for a in nv["impact_assessments"]] == ["mixed"]


def test_show_table_in_chinese(invoke):
    r = invoke("--lang", "zh-Hant", "show", "Nvidia")
    assert r.exit_code == 0 and "輝達" in r.stdout and "思科" in r.stdout


def test_unknown_entity_suggests_nearest(invoke):
    r = invoke("show", "Microsfot")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.strip().splitlines()[0] == "Error: unknown entity 'Microsfot'; nearest: Microsoft, Microsoft Azure, MSFT"


def test_bad_option_value_exits_2(invoke):
    r = invoke("show", "OpenAI", "--format", "xml")
    assert r.exit_code == 2 and "'xml' is not one of" in r.stderr
    assert invoke("--lang", "fr", "info").exit_code == 2


def test_claims_json_fields_and_filters(invoke):
    rows = json.loads(invoke("claims", "--section", "truth2", "--kind", "prediction", "--format", "json").stdout)
    assert rows and {"id", "excerpt_zh", "text_en", "section", "kind", "about", "source"} <= set(rows[0])
    assert {r["section"] for r in rows} == {"truth2"} and {r["kind"] for r in rows} == {"prediction"}
    about = json.loads(invoke("claims", "--about", "甲骨文", "--format", "json").stdout)
    assert about and all("https://w3id.org/ai-capital-kg/resource/Oracle" in r["about"] for r in about)
    ctx = json.loads(invoke("claims", "--layer", "context", "--format", "json").stdout)
    assert ctx and {r["layer"] for r in ctx} == {"context"} and all(r["excerpt_zh"] is None for r in ctx)


def test_claims_unknown_section_lists_choices(invoke):
    r = invoke("claims", "--section", "truth9")
    assert r.exit_code == 1 and "expected one of" in r.stderr and "truth2" in r.stderr


def test_coverage_strict_passes_and_maps_sections(invoke):
    r = invoke("coverage", "--strict", "--format", "json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert {r["section"] for r in rows} == {"intro", "truth1", "truth2", "truth3", "truth4", "conclusion"}
    assert "40 of 40 paragraphs covered" in r.stderr


def test_validate_bundled_and_a_bad_file(invoke, tmp_path):
    assert invoke("validate").exit_code == 0
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://ex/> .\nex:a ex:b ex:c ex:d .\nex:e ex:f ex:g .\n", encoding="utf-8")
    r = invoke("validate", bad)
    assert r.exit_code == 1 and r.stderr.startswith(f"Error: {bad}:2:")


def test_query_with_bound_parameters(invoke):
    r = invoke("query", "claims-about", "--param", "about=Oracle", "--format", "json")
    rows = json.loads(r.stdout)
    assert rows and {row["about"] for row in rows} == {"https://w3id.org/ai-capital-kg/resource/Oracle"}


def test_query_rejects_unknown_parameter_and_unknown_query(invoke):
    r = invoke("query", "claims-about", "--param", "abut=Oracle")
    assert r.exit_code == 1 and "has no parameter abut" in r.stderr and "about" in r.stderr
    r = invoke("query", "clams")
    assert r.exit_code == 1 and "nearest: claims" in r.stderr
    assert invoke("query", "claims", "--param", "noequals").exit_code == 2


def test_query_a_file_and_bad_sparql(invoke, tmp_path):
    f = tmp_path / "q.rq"
    f.write_text("PREFIX kg: <https://w3id.org/ai-capital-kg/ontology#>\nSELECT (COUNT(*) AS ?n) WHERE { ?s a kg:Company }\n")
    assert json.loads(invoke("query", f, "--format", "json").stdout)[0]["n"] >= 17
    f.write_text("SELECT * WHERE { ?s ?p }\n")
    r = invoke("query", f)
    assert r.exit_code == 1 and "bad SPARQL" in r.stderr and "1:" in r.stderr


def test_query_list(invoke):
    r = invoke("query", "x", "--list")
    assert r.exit_code == 0 and "claims-about" in r.stdout and "?about:entity" in r.stdout


def test_export_is_atomic_and_never_overwrites_without_force(invoke, tmp_path):
    out = tmp_path / "kg.trig"
    assert invoke("export", "--format", "trig", "-o", out).exit_code == 0
    first = out.read_bytes()
    assert b"GRAPH" in first or b"{" in first
    out.write_text("user data")
    r = invoke("export", "--format", "nt", "-o", out)
    assert r.exit_code == 1 and "exists" in r.stderr and out.read_text() == "user data"
    assert invoke("export", "--format", "nt", "-o", out, "--force").exit_code == 0
    assert out.read_text().count(" .\n") > 4000
    assert [p.name for p in tmp_path.iterdir()] == ["kg.trig"]


def test_export_layer_keeps_only_that_layer(invoke):
    text = invoke("export", "--format", "nquads", "--layer", "article").stdout
    assert "/graph/article>" in text and "/graph/context/" not in text


def test_user_csv_flows_through_show(invoke):
    r = invoke("--data", DATA / "deals.csv", "show", "Acme AI", "--format", "json")
    assert r.exit_code == 0
    kinds = sorted(x["kind"] for x in json.loads(r.stdout)["relationships"])
    assert kinds == ["api-dependence", "cloud-services"]


def test_help_has_examples(invoke):
    for cmd in ("info", "entities", "show", "claims", "coverage", "validate", "query", "export"):
        r = invoke(cmd, "--help")
        assert r.exit_code == 0 and "Examples:" in r.stdout, cmd


def test_export_graphml_and_gexf_for_gephi(invoke, tmp_path):
    import xml.etree.ElementTree as ET

    out = tmp_path / "g.graphml"
    assert invoke("export", "--format", "graphml", "--layer", "article", "-o", out).exit_code == 0
    root = ET.parse(out).getroot()
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    keys = {k.get("attr.name") for k in root.findall("g:key", ns)}
    assert {"kind", "amount", "qualifier", "layer"} <= keys
    gexf = invoke("export", "--format", "gexf", "--exposure", "OpenAI").stdout
    assert "impact" in gexf and "<node" in gexf
    assert invoke("export", "--format", "trig", "--exposure", "OpenAI").exit_code == 2


# -- the program itself (kg.cli:main), which leaves without freeing the loaded graph ------------------
def run_program(*args, before=""):
    import os
    import subprocess
    import sys

    code = before + "from kg.cli import main; main()"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered, as usual
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, env=env,
                          check=False)


def test_program_writes_all_its_output_and_runs_atexit_handlers(invoke):
    expected = invoke("claims", "--format", "json").stdout
    assert len(expected) > 65536  # more than a pipe holds: the end is still in the buffer at exit
    # The handler's words stay in stdout's buffer (a pipe, no newline): only a flush sends them.
    r = run_program("claims", "--format", "json",
                    before="import atexit, sys; atexit.register(lambda: sys.stdout.write('atexit ran')); ")
    assert r.returncode == 0
    assert r.stdout == expected + "atexit ran"


@pytest.mark.parametrize("args, status, message", [
    (("show", "NoSuchCompany"), 1, "Error: unknown entity 'NoSuchCompany'"),
    (("--no-such-option",), 2, "Error: No such option '--no-such-option'."),
    (("--version",), 0, None),
])
def test_program_exit_status(args, status, message):
    r = run_program(*args)
    assert r.returncode == status
    if message:
        assert message in r.stderr and not r.stdout
    else:
        assert r.stdout.startswith("kg, version ")
