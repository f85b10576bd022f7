"""Bad input never shows a traceback: every file in tests/data/bad/ (and the big ones made here)
makes every command that reads data exit 1 with one line naming the file, writing nothing; a
hypothesis fuzz of CSV rows holds the same."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import DATA
from kg.cli import cli
from kg.csvdata import CSV_COLUMNS, csv_to_quads
from kg.errors import InputError

BAD = DATA / "bad"
CORPUS = sorted(p for p in BAD.iterdir() if p.suffix not in (".md", ".rq"))
#: Every command that reads the user's data, with what it needs to run; OUT is a file to write.
COMMANDS = [
    ["info"], ["entities"], ["show", "Oracle"], ["claims"], ["coverage"], ["validate"],
    ["query", "relationships"], ["export"], ["export", "-o", "OUT"], ["export", "--format", "gexf", "-o", "OUT"],
    ["viz", "-o", "OUT"], ["chains", "Nvidia", "OpenAI"], ["cycles"], ["exposure", "--shock", "OpenAI"],
    ["domino", "OpenAI"], ["audit"], ["scenario", "list"], ["sources"],
]
#: SHACL failures are the one documented longer message: a head line, then one indented line
#: per failing node and constraint (docs/cli.md).
VALIDATION_HEAD = re.compile(r"Error: \d+ validation error\(s\) in ")


def assert_refused(result, name: str, out_dir) -> None:
    """Exit 1, one line on stderr naming ``name`` (or the SHACL report), no traceback, nothing
    on stdout, nothing written to ``out_dir``."""
    assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    if lines and VALIDATION_HEAD.match(lines[0]):
        assert len(lines) > 1 and all(line.startswith("  ") for line in lines[1:]), lines
    else:
        assert len(lines) == 1, lines
        assert lines[0].startswith("Error: ") and name in lines[0], lines
    assert result.stdout == ""
    assert sorted(p.name for p in out_dir.iterdir()) == []


def _run(args, out_dir, suffix=".out"):
    out = out_dir / f"result{suffix}"
    return CliRunner().invoke(cli, [str(out) if a == "OUT" else str(a) for a in args])


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


#: Files that parse and reach SHACL (the same load for every command, 1–2 s each): with
#: validation they run under `info` only; test_every_bad_file_is_refused_without_validation
#: runs them past SHACL.
REACH_SHACL = {"amount-not-a-number.ttl", "amount-infinite.ttl"}
MATRIX = [pytest.param(p, c, id=f"{p.name}-{'-'.join(c[:2]).replace('-o', '')}")
          for p in CORPUS for c in COMMANDS if p.name not in REACH_SHACL or c == ["info"]]


@pytest.mark.parametrize("path, command", MATRIX)
def test_every_bad_file_is_refused_by_every_command(path, command, out_dir):
    assert_refused(_run(["--data", path, *command], out_dir), path.name, out_dir)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_bad_file_is_refused_without_validation(path, out_dir):
    """--no-validate skips SHACL only: amounts that are no number are still refused, on one line."""
    result = _run(["--no-validate", "--data", path, "viz", "-o", "OUT"], out_dir)
    assert_refused(result, path.name, out_dir)
    assert not VALIDATION_HEAD.match(result.stderr)


def test_a_query_file_that_is_not_utf8_is_one_line(out_dir):
    assert_refused(_run(["query", BAD / "not-utf8.rq"], out_dir), "not-utf8.rq:1: not UTF-8 text (byte 0xe9)", out_dir)


def test_a_missing_file_is_one_line(out_dir):
    assert_refused(_run(["--data", out_dir.parent / "nowhere.ttl", "info"], out_dir), "nowhere.ttl: no such file", out_dir)


# -- files too big to commit, made here ------------------------------------------------------
BIG = 16 * 1024 * 1024 + 1


def _big_files(root):
    big = "a" * BIG
    rdfxml = ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
              'xmlns:ex="http://example.org/">\n<rdf:Description rdf:about="http://example.org/a">\n')
    files = {
        "big-literal.nt": f'<http://example.org/a> <http://example.org/b> "c" .\n<http://example.org/a> <http://example.org/b> "{big}" .\n',
        "big-iri.ttl": f"@prefix ex: <http://example.org/> .\n\nex:a ex:b <http://example.org/{big}> .\n",
        "big-string.jsonld": f'{{"@id": "http://example.org/a", "http://example.org/b": "{big}"}}\n',
        "big-literal.rdf": rdfxml + f"<ex:b>{big}</ex:b></rdf:Description></rdf:RDF>\n",
        "big-tag.rdf": rdfxml + f'<ex:b rdf:resource="http://example.org/{big}"/></rdf:Description></rdf:RDF>\n',
        "big-field.csv": "from,to,kind,source_title\nAcme AI,OpenAI,stake," + "x" * (128 * 1024 + 1) + "\n",
        "no-line-breaks.csv": "x" * (4 * 1024 * 1024 + 1),
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return {name: root / name for name in files}


@pytest.fixture(scope="module")
def big_files(tmp_path_factory):
    return _big_files(tmp_path_factory.mktemp("big"))


#: The line each big file's error names, counted by hand from _big_files.
BIG_LINES = {"big-literal.nt": 2, "big-iri.ttl": 3, "big-string.jsonld": 1, "big-literal.rdf": 4, "big-tag.rdf": 4,
             "big-field.csv": 2, "no-line-breaks.csv": 1}


@pytest.mark.parametrize("command", [["info"], ["export", "-o", "OUT"]], ids=["info", "export"])
@pytest.mark.parametrize("name", sorted(BIG_LINES))
def test_big_tokens_are_refused_naming_the_line(big_files, name, command, out_dir):
    result = _run(["--data", big_files[name], *command], out_dir)
    assert_refused(result, f"{name}:{BIG_LINES[name]}: ", out_dir)
    assert re.search(r"16 MiB|128 KiB|line longer than", result.stderr)


# -- kg serve --------------------------------------------------------------------------------
SERVE_FILES = ["billion-laughs.rdf", "amount-nan.csv", "syntax-error.ttl", "amount-not-a-number.ttl", "not-utf8.csv"]


@pytest.mark.parametrize("where", ["global", "serve"])
@pytest.mark.parametrize("name", SERVE_FILES)
def test_serve_refuses_a_bad_file_at_start_up(name, where):
    """In a child process with a timeout: a regression would start a server instead of exiting."""
    data = ["--data", str(BAD / name)]  # --no-validate: the SHACL report is the one longer message
    args = ["--no-validate", *data, "serve"] if where == "global" else ["--no-validate", "serve", *data]
    args += ["--port", "0", "--workers", "1", "--quiet"]
    done = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {BAD / name}"), lines


# -- a fuzz of CSV rows ----------------------------------------------------------------------
SPECIAL = ["NaN", "sNaN", "Infinity", "-inf", "1e400", "1e17", "-0", "3,000", "0x10", "2025-13-45", "2024-02-29",
           "2025", "2025-07", 'https://example.org/a"b', "https://example.org/{x}", "javascript:alert(1)",
           "https://example.org/deal", "stake", "chip-supply", "up-to;reported", "USD", "eur", "about", "committed",
           "Oracle", "OpenAI", "微軟", "\x00", "\x1b[31m", "\ufeff", "a\nb", '"', ",", ""]
FIELD = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=12))
ROW = st.lists(FIELD, min_size=0, max_size=len(CSV_COLUMNS) + 2)
HEADER = st.one_of(st.just(list(CSV_COLUMNS)), st.lists(st.sampled_from(list(CSV_COLUMNS) + ["colour", ""]),
                                                         min_size=1, max_size=len(CSV_COLUMNS) + 1))
ENCODING = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"])


@st.composite
def csv_files(draw):
    """Bytes of a CSV file: a header, rows written by csv.writer (or raw text), an encoding."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(draw(HEADER))
    for row in draw(st.lists(ROW, min_size=1, max_size=4)):
        if draw(st.booleans()):
            writer.writerow(row)
        else:
            out.write(",".join(row) + "\n")
    try:
        return out.getvalue().encode(draw(ENCODING))
    except UnicodeEncodeError:
        return out.getvalue().encode("utf-8")


PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=10).filter(str.strip)
NAMES = st.one_of(st.sampled_from(["Oracle", "OpenAI", "微軟", "Nvidia", "Acme AI"]), PRINTABLE, st.text(min_size=1, max_size=8))
AMOUNTS = st.one_of(st.sampled_from(["", "NaN", "1e400", "-0", "1e17", "1e18", "3,000"]),
                    st.decimals(allow_nan=True, allow_infinity=True).map(str),
                    st.floats().map(repr), st.integers(min_value=-10, max_value=10 ** 20).map(str))
DATES = st.one_of(st.sampled_from(["", "2025", "2025-07", "2024-02-29", "2025-02-29", "0000", "9999-12-31"]),
                  st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
URLS = st.one_of(st.sampled_from(["", "https://example.org/deal", "http://example.org/a%20b", "https://example.org/%zz"]),
                 st.text(max_size=10).map(lambda t: "https://example.org/" + t))


@st.composite
def near_valid_csv_files(draw):
    """Rows that have every required column and a known kind, so that many load: the fuzz then
    also reaches the pages and tables that read what was accepted."""
    from kg.csvdata import KINDS, QUALIFIERS, STATUSES

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    all_clean = draw(st.integers(0, 3)) > 0  # three files in four hold only values the format allows
    for _ in range(draw(st.integers(1, 4))):
        clean = all_clean or draw(st.booleans())  # or anything near them
        name = PRINTABLE if clean else NAMES
        writer.writerow([draw(name), draw(name), draw(st.sampled_from(sorted(KINDS))),
                         draw(st.integers(0, 10 ** 17).map(str) if clean else AMOUNTS),
                         draw(st.sampled_from(["", "USD", "EUR", "usd"] if clean else ["US$", "€", "USDX"])),
                         draw(st.sampled_from(["", *sorted(QUALIFIERS), "up-to;reported"])),
                         draw(st.sampled_from(["", "2025", "2025-07", "2024-02-29"]) if clean else DATES),
                         draw(PRINTABLE if clean else st.text(min_size=1, max_size=10)),
                         draw(st.sampled_from(["", "https://example.org/deal"]) if clean else URLS),
                         draw(st.sampled_from(["", *sorted(STATUSES)])), draw(PRINTABLE if clean else st.text(max_size=10))])
    return out.getvalue().encode("utf-8")


ANY_CSV = st.one_of(csv_files(), near_valid_csv_files())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=ANY_CSV)
def test_csv_fuzz_gives_quads_or_one_line_naming_the_file(tmp_path, content):
    """Any bytes: quads whose amounts are finite floats below 10^18, or one InputError line that
    starts with FILE:LINE."""
    f = tmp_path / "fuzz.csv"
    f.write_bytes(content)
    try:
        quads = csv_to_quads(f, "https://w3id.org/ai-capital-kg/graph/user/fuzz")
    except InputError as exc:
        event("refused")
        message = str(exc)
        assert "\n" not in message and re.match(rf"{re.escape(str(f))}:\d+: ", message), message
        return
    event("accepted")
    for q in quads:
        if q.predicate.value == "https://schema.org/value":
            assert math.isfinite(float(q.object.value)) and 0 <= float(q.object.value) < 1e18


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=near_valid_csv_files())
def test_csv_fuzz_through_the_cli(tmp_path, content):
    """The same files through `kg --no-validate --data F viz -o OUT`: a page, or exit 1 with one
    line naming the file and nothing written."""
    out_dir = tmp_path / "fuzz-out"
    out_dir.mkdir(exist_ok=True)
    for old in out_dir.iterdir():
        old.unlink()
    f = tmp_path / "fuzz.csv"
    f.write_bytes(content)
    result = _run(["--no-validate", "--data", f, "viz", "-o", "OUT"], out_dir, ".html")
    event("accepted" if result.exit_code == 0 else "refused")
    if result.exit_code == 0:
        assert [p.name for p in out_dir.iterdir()] == ["result.html"], result.stderr
        return
    assert_refused(result, "fuzz.csv", out_dir)


# -- the network CSV of `kg exposure --edges/--sizes` ------------------------------------------
@pytest.mark.parametrize("edges, message", [
    ("exposed,counterparty,amount\nB,A,inf\n".encode(), "edges.csv:2: amount must be a non-negative number, got 'inf'"),
    ("exposed,counterparty,amount\nB,A,nan\n".encode(), "edges.csv:2: amount must be a non-negative number"),
    ("exposed,counterparty,amount\nB,A,3,4\n".encode(), "edges.csv:2: more fields than the header's 3 columns"),
    ("exposed,counterparty,amount\nBé,A,3\n".encode("latin-1"), "edges.csv:2: not UTF-8 text"),
    ((BAD / "binary.csv").read_bytes(), "edges.csv:1: a NUL byte"),
    ('exposed,counterparty,amount\nB,"A,3\n'.encode(), "edges.csv:2: malformed CSV: unexpected end of data"),
])
def test_network_csv_is_refused_on_one_line(tmp_path, edges, message):
    (tmp_path / "edges.csv").write_bytes(edges)
    (tmp_path / "sizes.csv").write_text("entity,size\nA,10\nB,10\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = _run(["exposure", "--edges", tmp_path / "edges.csv", "--sizes", tmp_path / "sizes.csv", "--shock", "A"],
                  out_dir)
    assert_refused(result, message, out_dir)


# -- an entity bomb that would exhaust memory, through the whole CLI ---------------------------
def test_a_19_gb_entity_bomb_is_refused_by_every_loading_path(tmp_path):
    """Seven levels of 16 references to 72 bytes: 72 × 16^7 ≈ 19 GB once expanded. Every path
    that reads a --data file (the check for a kg export before loading, the load, SHACL) runs
    in a child process limited to 2 GiB of address space, so a path that hands the file to an
    expanding parser fails this test instead of the machine."""
    levels = ['<!ENTITY a0 "' + "a" * 72 + '">'] + [
        f'<!ENTITY a{i} "' + f"&a{i - 1};" * 16 + '">' for i in range(1, 8)]
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(levels) + "\n]>\n"
                    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">\n'
                    '<rdf:Description rdf:about="http://example.org/x"><ex:p>&a7;</ex:p></rdf:Description>\n'
                    "</rdf:RDF>\n", encoding="utf-8")
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
    for args in (["--data", bomb, "info"], ["--no-bundled", "--data", bomb, "info"], ["validate", bomb],
                 ["serve", "--data", bomb, "--port", "0", "--workers", "1"]):
        done = subprocess.run([sys.executable, "-c", limit + "from kg.cli import main; main()", *map(str, args)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, (args, done.stderr[-1000:])
        assert done.stderr.splitlines() == [f"Error: {bomb}:2: a DTD (<!DOCTYPE …>): kg refuses DTDs in RDF/XML, "
                                            "whose entities can expand into gigabytes; write the IRIs out in full"], args


@pytest.mark.parametrize("name", ["not-utf8.csv", "binary.csv", "unterminated-quote.csv"])
def test_fx_file_is_refused_on_one_line(name, out_dir):
    assert_refused(_run(["--fx", BAD / name, "cycles"], out_dir), name, out_dir)
