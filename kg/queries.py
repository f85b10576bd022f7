"""Named SPARQL queries: one file per query in queries/, parameters declared in its header."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kg.errors import QueryError
from kg.resources import queries_dir

__all__ = ["NamedQuery", "Param", "dialect_texts", "load_query", "list_queries", "values_block", "with_prefixes",
           "unknown_prefix_message", "star_order"]

# "# param ?company  entity   The company" ; a type ending in "?" marks the parameter optional.
_PARAM = re.compile(r"^#\s*param\s+\?(\w+)\s+(\w+)(\??)\s*(.*)$")
PARAM_TYPES = ("entity", "iri", "string", "decimal", "integer", "layer")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    optional: bool
    description: str


@dataclass(frozen=True)
class NamedQuery:
    """A query read from ``queries/<name>.rq``: its text, description and declared parameters."""

    name: str
    path: Path
    text: str
    description: str
    params: tuple[Param, ...]

    @property
    def form(self) -> str:
        body = "\n".join(line for line in self.text.splitlines() if not line.lstrip().startswith("#"))
        body = re.sub(r"(?is)\bPREFIX\s+\S*\s*<[^>]*>|\bBASE\s*<[^>]*>", " ", body)
        m = re.search(r"(?i)\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", body)
        return m.group(1).upper() if m else "SELECT"


def parse_query_file(path: Path) -> NamedQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raw = path.read_bytes()
        line = raw.count(b"\n", 0, exc.start) + 1
        raise QueryError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the query as UTF-8") from None
    except OSError as exc:
        raise QueryError(f"{path}: {exc.strerror or exc}") from None
    params, description = [], []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _PARAM.match(line)
        if m:
            name, ptype, opt, desc = m.groups()
            if ptype not in PARAM_TYPES:
                raise QueryError(f"{path}: parameter ?{name} has unknown type {ptype!r}; expected one of {', '.join(PARAM_TYPES)}")
            params.append(Param(name, ptype, bool(opt), desc.strip()))
        else:
            description.append(line.lstrip("#").strip())
    return NamedQuery(path.stem, path, text, " ".join(d for d in description if d), tuple(params))


@cache
def list_queries() -> dict[str, NamedQuery]:
    """Every named query in queries/, by name."""
    return {p.stem: parse_query_file(p) for p in sorted(queries_dir().glob("*.rq"))}


@cache
def dialect_texts(dialect: str) -> dict[str, str]:
    """Standard text → the store's own text, for the named queries that ``queries/dialects/<dialect>/``
    rewrites for a store that cannot run the standard form at scale (same parameters, same rows;
    tests/test_parity.py checks both)."""
    standard = list_queries()
    folder = queries_dir() / "dialects" / dialect
    return {standard[p.stem].text: p.read_text(encoding="utf-8")
            for p in sorted(folder.glob("*.rq")) if p.stem in standard}


def load_query(name_or_path: str) -> NamedQuery:
    """A named query by name, or any ``.rq`` file by path; unknown names list the nearest."""
    path = Path(name_or_path)
    if name_or_path.endswith(".rq") and path.is_file():
        return parse_query_file(path)
    queries = list_queries()
    name = path.stem if name_or_path.endswith(".rq") else name_or_path
    if name in queries:
        return queries[name]
    import difflib

    near = difflib.get_close_matches(name, list(queries), n=5, cutoff=0.4)
    hint = f"; nearest: {', '.join(near)}" if near else f"; available: {', '.join(queries)}"
    raise QueryError(f"unknown query {name_or_path!r}{hint}")


def values_block(variable: str, terms) -> str:
    """A ``VALUES ?var { … }`` block from Oxigraph terms, serialised by the terms themselves.

    The one place where values enter query text: used only where a list of values cannot be
    bound (remote endpoints), and every term is an Oxigraph term, never a raw user string.
    """
    import pyoxigraph as ox

    if not re.fullmatch(r"\w+", variable):
        raise QueryError(f"bad variable name {variable!r}")
    parts = []
    for t in terms:
        if not isinstance(t, (ox.NamedNode, ox.Literal)):
            raise QueryError(f"VALUES accepts IRIs and literals, not {type(t).__name__}")
        parts.append(str(t))
    return f"VALUES ?{variable} {{ {' '.join(parts)} }}"


# -- what users' own queries may rely on ---------------------------------------------------------
_DECLARED = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?:\s*<")
_STAR = re.compile(r"(?is)\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*")


def with_prefixes(text: str, prefixes: dict[str, str] | None = None) -> str:
    """``text`` with the project's prefixes (``kg:``, ``kgr:``, ``rdfs:`` … of :data:`kg.vocab.PREFIXES`)
    that it does not declare itself declared at the start of its first line, so that line
    numbers stay those of the user's file. Constant declarations, never user input."""
    from kg.vocab import PREFIXES

    declared = {m.group(1) or "" for m in _DECLARED.finditer(text)}
    extra = [f"PREFIX {name}: <{iri}>" for name, iri in (prefixes or PREFIXES).items() if name not in declared]
    return " ".join(extra) + " " + text if extra else text


def unknown_prefix_message(text: str, known=None) -> str | None:
    """``unknown prefix `x:` at line 3; known: kg, kgr, …`` for the first prefixed name of
    ``text`` whose prefix is neither declared in it nor in ``known`` (default: the project's,
    which ``kg query`` and the endpoint predeclare); ``None`` when every prefix is known."""
    from kg.server.lexer import tokenize
    from kg.vocab import PREFIXES

    names = list(PREFIXES if known is None else known)
    tokens = tokenize(text)
    declaring = False
    for tok in tokens:
        if tok.kind == "word" and tok.text == "PREFIX":
            declaring = True
            continue
        if tok.kind == "pname":
            prefix = tok.text.split(":", 1)[0]
            if declaring:
                names.append(prefix)
            elif prefix not in names:
                line = text.count("\n", 0, tok.start) + 1
                return f"unknown prefix `{prefix}:` at line {line}; known: {', '.join(dict.fromkeys(names))}"
        declaring = False
    return None


def star_order(text: str, names: list[str]) -> list[str]:
    """The columns of a ``SELECT *`` in the order their variables first appear in the query
    (Oxigraph gives them sorted: ``o, p, s``); ``names`` unchanged for any other projection."""
    if not _STAR.search(text):
        return names
    from kg.server.lexer import tokenize

    tokens = tokenize(text)
    first = next((i for i, t in enumerate(tokens) if t.kind == "word" and t.text == "SELECT"), None)
    if first is None:
        return names
    j = first + 1
    while j < len(tokens) and tokens[j].kind == "word" and tokens[j].text in ("DISTINCT", "REDUCED"):
        j += 1
    if j >= len(tokens) or tokens[j].text != "*":
        return names
    seen = dict.fromkeys(t.text[1:] for t in tokens[j + 1:] if t.kind == "var")
    return [n for n in seen if n in names] + [n for n in names if n not in seen]
