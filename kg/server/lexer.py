"""A SPARQL tokenizer that finds what a request would make the engine fetch or change.

Why not rdflib's parser: it takes 50-130 ms on the named queries (measured, see
docs/benchmarks-server.md), ten times the query itself, and its grammar is not Oxigraph's. A
keyword such as ``SERVICE`` can only be the keyword once strings, IRIs, comments and prefixed
names are told apart, so tokenizing is enough to find ``SERVICE``, ``LOAD``, ``FROM``,
``USING`` and ``WITH`` — and the positions where ``USING`` clauses go for the protocol's
``using-graph-uri``.

It is not Oxigraph's parser, and a crafted text can make the two disagree (``FILTER(?a<?b)#>'''``
reads here as an IRI and a string, to Oxigraph as a comparison and a comment). So its findings give
early, friendly refusals only; what stops ``SERVICE`` and ``LOAD`` is the workers' network sandbox
(:mod:`kg.server.sandbox`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

__all__ = ["Token", "Analysis", "tokenize", "analyse", "add_using"]

_PN_CHARS = r"A-Za-z0-9_\-\u00B7-\uFFFF"
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<bnode>_:[""" + _PN_CHARS + r""".]*)
  | (?P<lang>@[A-Za-z]+(?:-{1,2}[A-Za-z0-9]+)*)
  | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][""" + _PN_CHARS + r""".]*)?:
              (?:[""" + _PN_CHARS + r""".:]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


@dataclass(frozen=True)
class Token:
    kind: str  # iri, string, var, bnode, lang, pname, number, word (upper-cased), punct
    text: str
    start: int


@dataclass(frozen=True)
class Reference:
    """An IRI (or variable) after a keyword: what ``SERVICE``, ``FROM`` … point at."""

    keyword: str  # SERVICE, LOAD, FROM, FROM NAMED, USING, USING NAMED, WITH
    iri: str | None  # None when the target is a variable (SERVICE ?x)
    text: str  # as written, for messages
    line: int


@dataclass(frozen=True)
class Analysis:
    """What a query or update text asks for, as far as the server's policy cares."""

    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE for queries; None for updates
    references: tuple[Reference, ...] = ()
    where_positions: tuple[int, ...] = ()  # offsets of WHERE keywords that may take USING
    delete_where: tuple[tuple[int, int, int], ...] = ()  # (DELETE start, "{" start, "}" end)

    def of(self, *keywords: str) -> list[Reference]:
        return [r for r in self.references if r.keyword in keywords]


def tokenize(text: str) -> list[Token]:
    """The significant tokens of ``text`` (no whitespace or comments); never raises."""
    out = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        kind, value = m.lastgroup, m.group()
        if kind in ("pname", "bnode"):
            while value.endswith(".") and not value.endswith("\\."):
                value = value[:-1]  # a name cannot end with "."; that dot ends the triple
        if kind not in ("ws", "comment"):
            out.append(Token(kind, value.upper() if kind == "word" else value, pos))
        pos += len(value)
    return out


def analyse(text: str, base: str | None = None) -> Analysis:
    """Find the query form and every ``SERVICE``/``LOAD``/``FROM``/``USING``/``WITH`` target.

    Prefixed names are expanded with the text's ``PREFIX`` declarations and relative IRIs
    resolved against ``BASE`` (or ``base``). Texts up to 32 KiB are cached (the named queries
    and the page's examples are analysed once); longer ones are not kept.

    Examples
    --------
    >>> a = analyse("PREFIX e: <http://x/> SELECT * FROM e:g { SERVICE <http://y/s> { ?s ?p ?o } }")
    >>> a.form, [(r.keyword, r.iri) for r in a.references]
    ('SELECT', [('FROM', 'http://x/g'), ('SERVICE', 'http://y/s')])
    """
    if len(text) <= 32768:
        return _analyse_cached(text, base)
    return _analyse(text, base)


@lru_cache(maxsize=256)
def _analyse_cached(text: str, base: str | None) -> Analysis:
    return _analyse(text, base)


def _analyse(text: str, base: str | None) -> Analysis:
    tokens = tokenize(text)
    prefixes: dict[str, str] = {}
    refs: list[Reference] = []
    wheres: list[int] = []
    delete_where: list[tuple[int, int, int]] = []
    form = None
    depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "punct" and tok.text == "{":
            depth += 1
        elif tok.kind == "punct" and tok.text == "}":
            depth = max(0, depth - 1)
        elif tok.kind == "word":
            word = tok.text
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if word == "BASE" and nxt is not None and nxt.kind == "iri":
                base = _resolve(_unescape(nxt.text[1:-1]), base)
            elif word == "PREFIX" and i + 2 < len(tokens) and tokens[i + 2].kind == "iri":
                prefixes[nxt.text.rstrip(":")] = _resolve(_unescape(tokens[i + 2].text[1:-1]), base)
            elif word in _QUERY_FORMS and form is None and depth == 0:
                form = word
            elif word in ("SERVICE", "LOAD", "FROM", "USING", "WITH"):
                keyword, j = word, i + 1
                while j < len(tokens) and tokens[j].kind == "word" and tokens[j].text in ("SILENT", "NAMED"):
                    if tokens[j].text == "NAMED":
                        keyword += " NAMED"
                    j += 1
                target = tokens[j] if j < len(tokens) else None
                refs.append(_reference(keyword, target, prefixes, base, text, tok.start))
            elif word == "WHERE" and depth == 0:
                prev = tokens[i - 1] if i else None
                if prev is not None and prev.kind == "word" and prev.text == "DELETE":
                    end = _matching_brace(tokens, i + 1)
                    if end is not None:
                        delete_where.append((prev.start, tokens[i + 1].start, end))
                else:
                    wheres.append(tok.start)
        i += 1
    return Analysis(form, tuple(refs), tuple(wheres), tuple(delete_where))


def add_using(text: str, analysis: Analysis, default: list[str], named: list[str]) -> str:
    """The update ``text`` with ``USING``/``USING NAMED`` clauses for the protocol's
    ``using-graph-uri``/``using-named-graph-uri`` before each operation's ``WHERE``.

    Oxigraph's Python ``update()`` takes no dataset argument, so the clauses go into the text;
    the IRIs are serialised by Oxigraph's ``NamedNode`` (which rejects anything that is not an
    IRI), never pasted as given. ``DELETE WHERE { P }`` becomes ``DELETE { P } USING … WHERE { P }``.
    """
    import pyoxigraph as ox

    clause = " ".join(
        [f"USING {ox.NamedNode(g)}" for g in default] + [f"USING NAMED {ox.NamedNode(g)}" for g in named]
    )
    edits: list[tuple[int, int, str]] = [(p, p, clause + " ") for p in analysis.where_positions]
    for start, brace, end in analysis.delete_where:
        pattern = text[brace:end]
        edits.append((start, end, f"DELETE {pattern} {clause} WHERE {pattern}"))
    out = text
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return out


# -- helpers -------------------------------------------------------------------------------
def _reference(keyword, target, prefixes, base, text, offset) -> Reference:
    line = text.count("\n", 0, offset) + 1
    if target is None:
        return Reference(keyword, None, "", line)
    if target.kind == "iri":
        return Reference(keyword, _resolve(_unescape(target.text[1:-1]), base), target.text, line)
    if target.kind == "pname":
        prefix, _, local = target.text.partition(":")
        ns = prefixes.get(prefix)
        iri = ns + re.sub(r"\\(.)", r"\1", local) if ns is not None else None
        return Reference(keyword, iri, target.text, line)
    return Reference(keyword, None, target.text, line)


def _unescape(iri: str) -> str:
    """``\\u0041`` and ``\\U00000041`` in an IRI, as Oxigraph reads them."""
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})", lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


def _resolve(iri: str, base: str | None) -> str:
    if base and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", iri):
        return urljoin(base, iri)
    return iri


def _matching_brace(tokens: list[Token], i: int) -> int | None:
    """The end offset of the ``}`` closing the ``{`` at ``tokens[i]``."""
    if i >= len(tokens) or tokens[i].text != "{":
        return None
    depth = 0
    for tok in tokens[i:]:
        if tok.kind == "punct" and tok.text == "{":
            depth += 1
        elif tok.kind == "punct" and tok.text == "}":
            depth -= 1
            if depth == 0:
                return tok.start + 1
    return None
