"""kg source add: a user's own text and claims, every excerpt checked against the text, as RDF
loaded with --data; kg coverage per source. The worked example is tests/data/source-note.*."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from conftest import DATA

NOTE, CLAIMS_CSV, CLAIMS_YAML = DATA / "source-note.txt", DATA / "source-note-claims.csv", DATA / "source-note-claims.yaml"
KG = "https://w3id.org/ai-capital-kg/ontology#"
KGR = "https://w3id.org/ai-capital-kg/resource/"
CLAIM = KGR + "claim/user-source-note-"


@pytest.fixture(scope="module")
def note_trig(tmp_path_factory):
    from click.testing import CliRunner

    from kg.cli import cli

    out = tmp_path_factory.mktemp("note") / "note.trig"
    res = CliRunner().invoke(cli, ["source", "add", str(NOTE), "--claims", str(CLAIMS_CSV), "-o", str(out),
                                   "--date", "2026-01-15"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "5 paragraph(s), 4 claim(s)" in res.stderr
    return out


def test_worked_example_coverage_per_source(invoke, note_trig):
    """source-note.txt has 5 lines: a heading (1), the note that it is test data (2), two
    claims on line 3, one on line 4 and the bullet question on line 5."""
    res = invoke("--data", note_trig, "coverage", "--source", "source-note", "--format", "json")
    assert res.exit_code == 0, res.output
    rows = [(r["line"], r["paragraph_kind"], r["claims"]) for r in json.loads(res.stdout)]
    assert rows == [(1, "heading", 0), (2, "paragraph", 0), (3, "paragraph", 2), (4, "paragraph", 1), (5, "bullet", 1)]
    assert res.stderr.strip().endswith("3 of 5 paragraphs covered; uncovered lines: 1, 2")


def test_worked_example_claims_keep_kinds_hedges_about_and_supports(note_trig):
    from kg.store import load_store

    kg = load_store([note_trig])

    def objects(claim, prop):
        return sorted(r["o"].rsplit("/", 1)[-1].rsplit("#", 1)[-1] for r in kg.select(
            f"SELECT ?o WHERE {{ <{CLAIM}{claim}> <{KG}{prop}> ?o }}"))

    assert objects("L3-1", "claimKind") == ["Fact"]
    assert objects("L3-1", "about") == ["Nvidia", "OpenAI", "Oracle"]
    assert objects("L3-1", "supports") == ["context-oracle-nvidia-gb200"]
    assert objects("L3-2", "supports") == ["article-oracle-openai-contract"]
    assert objects("L4-1", "hedge") == ["Conditional", "Possible"]
    assert objects("L4-1", "claimKind") == ["Prediction"]
    # the question on line 5 was found without a line number; the claims file writes an ASCII
    # "?", the text a full-width "？": the excerpt is the text's own, and so is line 3's double space
    assert objects("L5-1", "claimKind") == ["Question"]
    rows = kg.select(f"SELECT ?e WHERE {{ <{CLAIM}L5-1> <{KG}excerpt> ?e }}")
    assert rows == [{"e": "who else depends on OpenAI's payments？"}]
    rows = kg.select(f"SELECT ?e WHERE {{ <{CLAIM}L3-1> <{KG}excerpt> ?e }}")
    assert rows == [{"e": "Oracle buys Nvidia chips  to serve OpenAI"}]
    rows = kg.select(f"SELECT ?l WHERE {{ <{CLAIM}L5-1> <{KG}inParagraph>/<{KG}lineNumber> ?l }}")
    assert rows == [{"l": 5}]
    src = kg.select(f"""SELECT ?layer ?date WHERE {{ <{KGR}source/user-source-source-note> <{KG}layer> ?layer ;
        <http://purl.org/dc/terms/date> ?date }}""")
    assert src == [{"layer": KG + "UserLayer", "date": "2026-01-15"}]


def test_yaml_claims_give_the_same_graph_as_csv(invoke, tmp_path, note_trig):
    out = tmp_path / "note.trig"
    res = invoke("source", "add", NOTE, "--claims", CLAIMS_YAML, "-o", out, "--date", "2026-01-15")
    assert res.exit_code == 0, res.output

    def canon(path):
        ds = ox.Dataset(list(ox.parse(path=str(path), format=ox.RdfFormat.TRIG)))
        ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        return sorted(str(q) for q in ds)

    assert canon(out) == canon(note_trig)


def _claims(tmp_path, body, header="line,excerpt,text,kind,hedge,hedge_text,about,supports"):
    path = tmp_path / "c.csv"
    path.write_text(header + "\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize("body, message", [
    ("3,Oracle sells Nvidia chips,,fact,,,,\n",
     r"c.csv:2: excerpt 'Oracle sells Nvidia chips' is not on line 3 of .*source-note.txt; nearest is line 3"),
    ("4,Oracle buys Nvidia chips,,fact,,,,\n", r"c.csv:2: excerpt 'Oracle buys Nvidia chips' is not on line 4 .*; it is on line 3"),
    (",Oracle sells Nvidia chips,,fact,,,,\n", r"c.csv:2: excerpt .* is not in .*source-note.txt \(compared after NFKC"),
    (",OpenAI,,fact,,,,\n", r"c.csv:2: excerpt 'OpenAI' is on lines 3, 4, 5 of .*; give its line"),
    ("3,Oracle buys Nvidia chips,,fakt,,,,\n", r"c.csv:2: unknown kind 'fakt'; did you mean fact"),
    ("3,Oracle buys Nvidia chips,,fact,maybe,,,\n", r"c.csv:2: unknown hedge 'maybe'"),
    ("3,Oracle buys Nvidia chips,,fact,,,Oracel Corp,\n", r"c.csv:2: about: unknown entity 'Oracel Corp'; nearest: .*Oracle"),
    ("3,Oracle buys Nvidia chips,,fact,,,,rel:no-such\n", r"c.csv:2: supports rel:no-such is not in the loaded graph"),
    ("9,Oracle,,fact,,,,\n", r"c.csv:2: line 9 of .* is blank or past its end \(5 lines\)"),
])
def test_bad_claim_names_the_claims_line_and_writes_nothing(invoke, tmp_path, body, message):
    import re

    out = tmp_path / "out.trig"
    res = invoke("source", "add", NOTE, "--claims", _claims(tmp_path, body), "-o", out)
    assert res.exit_code == 1
    assert re.search(message, res.stderr), res.stderr
    assert "Traceback" not in res.output and not out.exists()


def test_excerpts_compare_after_width_and_whitespace_normalisation(invoke, tmp_path):
    """A Chinese text with full-width letters and an ideographic space: the excerpt, written with
    ASCII letters and one space, is found (NFKC maps ＯｐｅｎＡＩ to OpenAI, U+3000 to a space)."""
    text = tmp_path / "zh.txt"
    text.write_text("ＯｐｅｎＡＩ的營收　　成長很快。\n甲骨文依賴它。\n", encoding="utf-8")
    claims = _claims(tmp_path, ",OpenAI的營收 成長很快,OpenAI's revenue grows fast.,opinion,,,OpenAI,\n")
    out = tmp_path / "zh.trig"
    res = invoke("source", "add", text, "--claims", claims, "-o", out, "--lang", "zh-Hant", "--title", "測試")
    assert res.exit_code == 0, res.output
    quads = list(ox.parse(path=str(out), format=ox.RdfFormat.TRIG))
    excerpts = [q.object for q in quads if q.predicate.value == KG + "excerpt"]
    assert [(e.value, e.language) for e in excerpts] == [("ＯｐｅｎＡＩ的營收　　成長很快", "zh-hant")]


def test_non_english_text_needs_an_english_rendering(invoke, tmp_path):
    text = tmp_path / "zh.txt"
    text.write_text("甲骨文依賴它。\n", encoding="utf-8")
    res = invoke("source", "add", text, "--claims", _claims(tmp_path, "1,甲骨文依賴它,,fact,,,,\n"), "-o", tmp_path / "o.trig",
                 "--lang", "zh-Hant")
    assert res.exit_code == 1 and "column 'text' (the English rendering) is empty" in res.stderr


def test_bundled_data_is_never_the_output(invoke):
    from kg.resources import data_dir

    res = invoke("source", "add", NOTE, "--claims", CLAIMS_CSV, "-o", data_dir() / "note.trig")
    assert res.exit_code == 2 and "bundled data" in res.stderr
    assert not (data_dir() / "note.trig").exists()


def test_existing_output_needs_force(invoke, tmp_path):
    out = tmp_path / "note.trig"
    out.write_text("mine", encoding="utf-8")
    res = invoke("source", "add", NOTE, "--claims", CLAIMS_CSV, "-o", out)
    assert res.exit_code == 1 and "exists; pass --force" in res.stderr and out.read_text(encoding="utf-8") == "mine"


def test_coverage_of_the_article_alone(invoke):
    """--source article: the article's rows only, as many as its rows in the full coverage."""
    every = json.loads(invoke("coverage", "--format", "json").stdout)
    mine = json.loads(invoke("coverage", "--source", "article", "--format", "json").stdout)
    article = KGR + "source/article"
    assert mine == [r for r in every if r["source"] == article] and len(mine) > 30


def test_coverage_of_an_unknown_source_names_the_nearest(invoke):
    res = invoke("coverage", "--source", "artcle")
    assert res.exit_code == 1 and "unknown entity 'artcle'; nearest: article" in res.stderr
