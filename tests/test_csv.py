"""The relationship CSV format: good rows become qualified relationships, bad rows name their line."""

import pytest

from kg.csvdata import csv_to_quads
from kg.errors import InputError

G = "https://w3id.org/ai-capital-kg/graph/user/t"
HEAD = "from,to,kind,amount,currency,qualifier,date,source_title,source_url\n"


def _quads(tmp_path, body, resolve=None):
    f = tmp_path / "t.csv"
    f.write_text(HEAD + body, encoding="utf-8")
    return f, csv_to_quads(f, G, resolve)


def test_row_becomes_a_relationship_with_amount_and_source(tmp_path):
    _, quads = _quads(tmp_path, "A Co,B Co,compute-contract,1500000,usd,about;reported,2025-09,Desk,https://e.org/x\n")
    preds = {q.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for q in quads}
    assert {"kind", "customer", "supplier", "amount", "value", "currency", "qualifier", "date", "source", "url"} <= preds
    values = {q.object.value for q in quads if q.predicate.value == "https://schema.org/value"}
    assert values == {"1500000"}
    quals = {q.object.value.rsplit("#", 1)[-1] for q in quads if q.predicate.value.endswith("#qualifier")}
    assert quals == {"About", "Reported"}
    assert all(q.graph_name.value == G for q in quads)


@pytest.mark.parametrize("row, message", [
    ("A,B,chip-suply,,,,,Desk,\n", r"t.csv:2: unknown kind 'chip-suply'; did you mean chip-supply"),
    ("A,B,chip-supply,US$3B,,,,Desk,\n", r"t.csv:2: amount 'US\$3B' is not a number"),
    ("A,B,chip-supply,3,dollars,,,Desk,\n", r"t.csv:2: currency 'dollars'"),
    ("A,B,chip-supply,3,USD,roughly,,Desk,\n", r"t.csv:2: unknown qualifier 'roughly'"),
    ("A,B,chip-supply,,,,25/09/2025,Desk,\n", r"t.csv:2: date '25/09/2025'"),
    (",B,chip-supply,,,,,Desk,\n", r"t.csv:2: column 'from' is empty"),
    ("A,B,chip-supply,,,,,Desk,ftp://x\n", r"t.csv:2: source_url"),
])
def test_bad_row_names_file_and_line(tmp_path, row, message):
    with pytest.raises(InputError, match=message):
        _quads(tmp_path, row)


def test_missing_and_unknown_columns(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("from,to,kind\nA,B,stake\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column.*source_title"):
        csv_to_quads(f, G)
    f.write_text("from,to,kind,source_title,colour\nA,B,stake,S,red\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown column.*colour"):
        csv_to_quads(f, G)


def test_known_names_resolve_and_unknown_become_user_actors(tmp_path):
    _, quads = _quads(tmp_path, "Alpha,Beta,stake,,,,,Desk,\n", resolve=lambda n: "https://e.org/alpha" if n == "Alpha" else None)
    objs = {q.object.value for q in quads if q.predicate.value.endswith(("#investor", "#investee"))}
    assert objs == {"https://e.org/alpha", "https://w3id.org/ai-capital-kg/resource/user/Beta"}
