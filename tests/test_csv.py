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
    # Decimal reads these as numbers; each crashed kg show or kg viz once loaded.
    ("A,B,stake,NaN,,,,Desk,\n", r"t.csv:2: amount 'NaN' is not a number"),
    ("A,B,stake,sNaN,,,,Desk,\n", r"t.csv:2: amount 'sNaN' is not a number"),
    ("A,B,stake,Infinity,,,,Desk,\n", r"t.csv:2: amount 'Infinity' is not a number"),
    ("A,B,stake,-inf,,,,Desk,\n", r"t.csv:2: amount '-inf' is not a number"),
    ("A,B,stake,1e400,,,,Desk,\n", r"t.csv:2: amount '1e400' is not below 10\^18"),
    ("A,B,stake,1000000000000000000,,,,Desk,\n", r"t.csv:2: amount .* is not below 10\^18"),
    ("A,B,stake,,,,2025-13-45,Desk,\n", r"t.csv:2: date '2025-13-45' does not exist"),
    ("A,B,stake,,,,2025-02-29,Desk,\n", r"t.csv:2: date '2025-02-29' does not exist"),
    ("A,B,stake,,,,２０２５,Desk,\n", r"t.csv:2: date '２０２５' is not YYYY"),
    ('A,B,stake,,,,,Desk,"https://e.org/a""b"\n', r"t.csv:2: source_url 'https://e.org/a\"b' is not an http\(s\) URL"),
    ("A,B,stake,,,,,Desk,https://e.org/{x}\n", r"t.csv:2: source_url 'https://e.org/\{x\}'"),
    ("A,B,stake,,,,,Desk,https://e.org/a b\n", r"t.csv:2: source_url 'https://e.org/a b'"),
    ("A,B,stake,,,,,Desk,javascript:alert(1)\n", r"t.csv:2: source_url 'javascript:alert\(1\)'"),
    ("A,B,stake,,,,,Desk,https:///nohost\n", r"t.csv:2: source_url 'https:///nohost'"),
    ("A,B,stake,,,,,Desk,,surplus\n", r"t.csv:2: 10 fields but the header names 9 columns \(first extra field 'surplus'\)"),
    ("A\x01,B,stake,,,,,Desk,\n", r"t.csv:2: column 'from' holds the control character U\+0001"),
    ('A,"B"x,stake,,,,,Desk,\n', r"t.csv:2: malformed CSV: ',' expected after"),
    ("A,B,stake,,,,,Desk,\nA,B,stake,,,,,Desk,\nA,B,stake,,,,,\"Desk,\n", r"t.csv:4: malformed CSV: unexpected end of data"),
    ("A,B,stake,,,,," + "x" * (128 * 1024 + 1) + ",\n", r"t.csv:2: malformed CSV: a field is longer than 128 KiB"),
    ("A,B,stake,,,,,\"" + "é" * (64 * 1024 + 1) + "\",\n", r"t.csv:2: column 'source_title' is longer than 128 KiB"),
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


def test_empty_trailing_fields_and_a_byte_order_mark_are_accepted(tmp_path):
    """Spreadsheets add both: a BOM before the header and empty fields past the last column."""
    f = tmp_path / "t.csv"
    f.write_bytes(b"\xef\xbb\xbf" + HEAD.encode() + b"A,B,stake,-0,,,2024-02-29,Desk,,,\n")
    values = {q.object.value for q in csv_to_quads(f, G) if q.predicate.value == "https://schema.org/value"}
    assert values == {"0"}  # -0 is written 0


@pytest.mark.parametrize("content, message", [
    (HEAD.encode() + "Café,B,stake,,,,,Desk,\n".encode("latin-1"), r"t.csv:2: not UTF-8 text \(byte 0xe9 at byte 4"),
    (HEAD.encode() + b"A,B,stake,,,,,Desk,\nA\x00,B,stake,,,,,Desk,\n", r"t.csv:3: a NUL byte: this is a binary file"),
    (bytes(range(256)), r"t.csv:1: a NUL byte"),
    (b"", r"t.csv:1: no header row"),
    (b"from,to,kind,source_title,kind\nA,B,stake,S,warrant\n", r"t.csv:1: column 'kind' appears twice \(columns 3 and 5\)"),
    (b"from,to,kind,,source_title\n", r"t.csv:1: column 4 of the header has no name"),
    (b"x" * (4 * 1024 * 1024 + 1), r"t.csv:1: line longer than 4 MiB"),
])
def test_unusable_file_names_file_and_line(tmp_path, content, message):
    f = tmp_path / "t.csv"
    f.write_bytes(content)
    with pytest.raises(InputError, match=message):
        csv_to_quads(f, G)
