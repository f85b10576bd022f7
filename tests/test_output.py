"""kg.output: tables that fit the terminal, JSON lines, CSV without headers, one amount format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.output import configure, fit_widths, format_amount, render, text_width

K = "https://w3id.org/ai-capital-kg/resource/"


@pytest.fixture(autouse=True)
def _defaults():
    configure(wide=False, headers=True)
    yield
    configure(wide=False, headers=True)


def widths_of(text: str) -> list[int]:
    return [text_width(line) for line in text.splitlines()]


# -- display widths ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, width", [
    ("Oracle", 6),
    ("甲骨文", 6),  # three East Asian Wide characters, two columns each
    ("ＡＢ", 4),  # fullwidth Latin letters are two columns each
    ("ｱｲ", 2),  # halfwidth katakana are one column each
    ("e\u0301", 1),  # e + combining acute accent: one column
    ("微軟 Azure", 10),  # 2 + 2 + 1 (space) + 5
])
def test_text_width_counts_east_asian_wide_as_two(text, width):
    assert text_width(text) == width


# -- fitting a width --------------------------------------------------------------------------
def test_fit_widths_cuts_the_widest_text_column_first():
    """Columns 5 (a number), 30 and 20 wide with two-space gaps make 59; to fit 40 the line
    loses 19: the 30-wide column alone down to 20 (10), then the two text columns in turn,
    the first of equals first (5 and 4): 5, 15, 16 → 5 + 15 + 16 + 4 = 40."""
    assert fit_widths([5, 30, 20], [4, 4, 4], [True, False, False], 40) == [5, 15, 16]


def test_fit_widths_never_cuts_a_number_or_below_the_header():
    """To fit 20: the text column stops at ten (its header is 8; 1 + 2 + 10 + 2 + 12 = 27 > 20),
    numbers keep their 12, so the last column (the number) is left out: 1 + 2 + 10 = 13 ≤ 20,
    and the text column then gets the room back: min(30, 20 − 1 − 2) = 17. A 14-wide header
    is its column's floor: [1, 30, 3] fits 22 as 1 + 2 + 14 + 2 + 3; in 19 the 3 is left out
    and the text gets 19 − 1 − 2 = 16."""
    assert fit_widths([1, 30, 12], [1, 8, 5], [True, False, True], 20) == [1, 17]
    assert fit_widths([1, 30, 3], [1, 14, 3], [True, False, True], 19) == [1, 16]
    assert fit_widths([1, 30, 3], [1, 14, 3], [True, False, True], 22) == [1, 14, 3]


def test_table_fits_the_width_and_marks_what_it_cut():
    rows = [{"n": 1, "name": "甲骨文" * 10, "note": "x" * 50}]
    out = render(rows, "table", max_width=None, width=40)
    assert max(widths_of(out)) <= 40
    first = out.splitlines()[2]
    assert "…" in first and first.startswith("1  甲骨文")


def test_table_without_a_width_keeps_full_values_up_to_the_column_cap():
    rows = [{"a": "y" * 70}]
    assert render(rows, "table", max_width=60, width=None).splitlines()[2] == "y" * 59 + "…"
    configure(wide=True)
    assert render(rows, "table", max_width=60, width=30).splitlines()[2] == "y" * 70


def cut_by_columns(line: str, spans: list[tuple[int, int]]) -> list[str]:
    """The text of ``line`` in each span of display columns (start, end)."""
    out, col, chars = [], 0, []
    for ch in line:
        chars.append((col, ch))
        col += text_width(ch)
    for a, b in spans:
        out.append("".join(ch for c, ch in chars if a <= c < b).rstrip())
    return out


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({
    "name": st.text(alphabet="ab甲骨文 ＡｱéΩ", max_size=40),
    "kind": st.text(alphabet="xyz-", max_size=25),
    "count": st.integers(0, 10**6),
    "comment": st.text(alphabet="mn微軟 ", max_size=60)}), min_size=1, max_size=6),
    width=st.integers(24, 160))
def test_every_table_line_fits_and_every_cell_is_its_value_or_a_cut_of_it(rows, width):
    """Read back through the dashes under the header (they mark each column's span): every
    cell shown is the value (spaces collapsed) or a prefix of it ending in the cut mark."""
    lines = render(rows, "table", columns=["name", "kind", "count", "comment"], max_width=None, width=width).splitlines()
    assert max(text_width(line) for line in lines) <= width
    spans, col = [], 0
    for dashes in lines[1].split("  "):
        spans.append((col, col + len(dashes)))
        col += len(dashes) + 2
    heads = cut_by_columns(lines[0], spans)
    assert heads[0] == "name"
    for line, row in zip(lines[2:], rows):
        for head, cell in zip(heads, cut_by_columns(line, spans)):
            key = next(k for k in row if k == head or (head.endswith("…") and k.startswith(head[:-1])))
            full = " ".join(str(row[key]).split())
            assert cell == full or (cell.endswith("…") and full.startswith(cell[:-1]) and cell != full), (cell, full)
    assert all(str(r["count"]) in " ".join(lines) for r in rows) or "count" not in heads


# -- formats ------------------------------------------------------------------------------------
def test_jsonl_is_one_object_per_line_with_the_columns_chosen():
    rows = [{"a": 1, "b": "甲骨文", "c": [1, 2]}, {"a": 2, "b": None, "c": []}]
    out = render(rows, "jsonl", columns=["b", "a"])
    assert out.endswith("\n") and out.count("\n") == 2
    assert [json.loads(line) for line in out.splitlines()] == [{"b": "甲骨文", "a": 1}, {"b": None, "a": 2}]
    assert list(json.loads(out.splitlines()[0])) == ["b", "a"]
    assert "甲骨文" in out  # not \\u escapes


def test_jsonl_of_one_record():
    assert render({"x": 1}, "jsonl") == '{"x":1}\n'


def test_csv_without_headers():
    rows = [{"a": 1, "b": "x,y"}]
    assert render(rows, "csv") == 'a,b\n1,"x,y"\n'
    configure(headers=False)
    assert render(rows, "csv") == '1,"x,y"\n'
    assert render(rows, "table", width=None) == "1  x,y\n"


# -- amounts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, text", [
    ((57.4e9,), "US$57.4B"),
    ((300e9, "USD", "about"), "about US$300B"),
    ((1e11, "USD", ["up-to"], "intended"), "up to US$100B (intended)"),
    ((1e11, "USD", "up-to,reported", "committed"), "up to reported US$100B"),
    ((13e9, "USD", ["exact"], "in-force"), "US$13B"),
    ((2.5e12, "EUR", [], "hypothetical"), "EUR 2.5T (hypothetical)"),
    ((950_000, "USD", None, None), "US$950,000"),
    ((None, "USD", "about"), ""),
])
def test_format_amount_keeps_qualifiers_and_status(args, text):
    assert format_amount(*args) == text


def test_graph_page_shows_a_loss_in_the_cli_format(kg_store, invoke):
    """The page's details panel gave Oracle's loss if OpenAI fails as the browser formats it
    (US$57,400,000,000 when the model had 57.4e9); now it is the string `kg exposure` prints
    in its table, from the same function (e.g. 20,969,000,000 → US$20.97B)."""
    import kg
    from kg.viz import build_graph

    g = build_graph(kg_store, exposure="OpenAI")
    oracle = g.nodes[K + "Oracle"]
    assert oracle["loss"] > 1e9
    billions = f"{oracle['loss'] / 1e9:.2f}".rstrip("0").rstrip(".")
    assert oracle["loss_text"] == f"US${billions}B"
    table = invoke("exposure", "--shock", "OpenAI", "--wide").stdout
    row = next(line for line in table.splitlines() if re.match(r"\d+\s+Oracle\s", line))
    assert f" {oracle['loss_text']} " in row
    js = (Path(kg.__file__).parent / "static" / "viz" / "page.js").read_text(encoding="utf-8")
    assert "toLocaleString" not in js and "k.loss_text" in js


# -- every command that prints rows -------------------------------------------------------------
ARGS = {"show": ["OpenAI"], "chains": ["OpenAI"], "exposure": ["--shock", "OpenAI"], "domino": ["OpenAI"],
        "scenario run": ["1"], "query": ["relationships"]}
REMOTE_ONLY = {"push"}  # needs a remote store: tests/test_remote.py


def row_commands() -> list[str]:
    """Every command (``group sub`` for subcommands) whose ``--format`` offers ``table``."""
    import click

    from kg.cli import cli

    found = []

    def walk(group, prefix):
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                walk(cmd, prefix + [name])
                continue
            fmt = next((p for p in cmd.params if p.name == "fmt"), None)
            if fmt is not None and "table" in getattr(fmt.type, "choices", ()):
                found.append(" ".join(prefix + [name]))

    walk(cli, [])
    return [c for c in found if c not in REMOTE_ONLY]


def command_line(name: str, *extra: str) -> list[str]:
    return name.split() + ARGS.get(name, []) + list(extra)


@pytest.mark.parametrize("args", [command_line(n) for n in row_commands()]
                         + [["chains", "OpenAI", "Nvidia"], ["--lang", "zh-Hant", "claims"], ["--lang", "zh-Hant", "show", "甲骨文"]],
                         ids=" ".join)
def test_every_table_fits_100_columns(invoke, args):
    """The tables that were wider (kg cycles 264 columns, kg chains and kg domino 164, kg info
    127) fit COLUMNS=100, CJK characters counted as two columns."""
    res = invoke(*args, env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines and max(text_width(line) for line in lines) <= 100


@pytest.mark.parametrize("name", row_commands())
def test_every_row_command_writes_json_lines(invoke, name):
    res = invoke(*command_line(name, "--format", "jsonl"))
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines, f"kg {name} --format jsonl printed nothing"
    assert all(isinstance(json.loads(line), dict) for line in lines)


@pytest.mark.parametrize("name", row_commands())
def test_every_row_command_writes_csv_without_headers(invoke, name):
    with_headers = invoke(*command_line(name, "--format", "csv")).stdout.splitlines()
    res = invoke(*command_line(name, "--format", "csv", "--no-headers"))
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == with_headers[1:]


def test_cycles_show_the_qualifier_and_status_of_every_leg(invoke):
    """Nvidia's investment in OpenAI is "up to" US$100B and only intended (context layer);
    Oracle's GB200 purchase from Nvidia "about" US$40B: the first cycle (Nvidia → OpenAI →
    Oracle → Nvidia, round trip its smallest leg) says so, as its JSON lines do. The last leg
    holds two records, FT's committed purchase and the article's in-force supply (related, not
    the same deal), so its statuses are both."""
    out = invoke("cycles", "--wide").stdout
    first = out.splitlines()[2]
    assert "Nvidia → OpenAI → Oracle → Nvidia" in first
    assert "up to US$100B (intended) | US$300B | about US$40B" in first
    assert re.split(r"\s{2,}", first)[1] == "about US$40B"
    legs = [json.loads(line) for line in invoke("cycles", "--format", "jsonl").stdout.splitlines()[:3]]
    assert [(leg["amount"], leg["qualifiers"], leg["statuses"]) for leg in legs] == [
        (100_000_000_000, "up-to", "intended"), (300_000_000_000, "exact", "committed"),
        (40_000_000_000, "about", "committed,in-force")]


def test_wide_shows_full_values(invoke):
    narrow = invoke("cycles", env={"COLUMNS": "100"}).stdout
    wide = invoke("cycles", "--wide", env={"COLUMNS": "100"}).stdout
    full = "context-openai-azure-incremental,article-openai-msft-revenue-share"
    assert full not in narrow and full in wide
    assert max(text_width(line) for line in wide.splitlines()) > 100


def test_info_with_a_long_data_path_fits(invoke, tmp_path):
    """kg info's key column was 127 wide with a --data file in a deep folder: its path is cut."""
    from conftest import DATA

    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 5)
    deep.mkdir(parents=True)
    (deep / "deals.csv").write_bytes((DATA / "deals.csv").read_bytes())
    res = invoke("--data", deep / "deals.csv", "info", env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.stderr
    assert max(text_width(line) for line in res.stdout.splitlines()) <= 100
    assert str(deep)[:30] in res.stdout and str(deep) not in res.stdout and "…" in res.stdout
    wide = invoke("--data", deep / "deals.csv", "info", "--wide", env={"COLUMNS": "100"})
    assert str(deep / "deals.csv") in wide.stdout


@pytest.mark.parametrize("value, shown", [
    (K + "Oracle", "kgr:Oracle"),
    (K + "rel/article-oracle-openai-contract", "rel:article-oracle-openai-contract"),  # rel: is longer than kgr:
    ("https://w3id.org/ai-capital-kg/ontology#ArticleLayer", "kg:ArticleLayer"),
    (K + "rel/a/b", K + "rel/a/b"),  # not a plain local name
    ("https://example.org/x", "https://example.org/x"),
    ("Oracle", "Oracle"),
    (42, 42),
])
def test_compact_iri(value, shown):
    from kg.output import compact_iri

    assert compact_iri(value) == shown


def test_query_tables_show_prefixed_names_and_csv_whole_iris(invoke):
    table = invoke("query", "entities", "--wide").stdout
    csv_out = invoke("query", "entities", "--format", "csv").stdout
    assert re.search(r"^kg:Company\s+kgr:Oracle\s+Oracle\s", table, re.M)
    assert K + "Oracle" not in table and K + "Oracle" in csv_out
