"""A user's own source (an article, a filing) and its claims, checked against the text, as RDF.

``kg source add TEXT --claims CLAIMS`` reads a plain-text file (one paragraph per line) and a
claims file (CSV or YAML), checks every excerpt verbatim against the text after NFKC and
whitespace normalisation, and states the source, its paragraphs and its claims the way the
bundled article is stated (``kg:Paragraph`` with ``kg:lineNumber``, ``kg:Claim`` with
``kg:excerpt``, ``kg:text``, ``kg:claimKind``, ``kg:hedge``, ``kg:about``, ``kg:supports``,
``kg:inParagraph``), in one named graph of the user layer. The bundled data is never touched:
the user loads the output with ``--data``.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError, UnknownEntityError
from kg.vocab import CLAIM, DCTERMS, GRAPH, KG, PARA, PREFIXES, PROV, RDF, RDFS, SCHEMA, SRC, XSD

__all__ = ["normalise", "verbatim", "read_text", "read_claims", "source_quads", "resolve_source", "CLAIM_COLUMNS",
           "CLAIM_KINDS", "HEDGES", "SourceInfo"]

CLAIM_COLUMNS = ("line", "excerpt", "text", "kind", "hedge", "hedge_text", "about", "supports")
CLAIM_KINDS = {"fact": KG.Fact, "estimate": KG.Estimate, "prediction": KG.Prediction, "opinion": KG.Opinion,
               "analogy": KG.Analogy, "scenario": KG.Scenario, "recommendation": KG.Recommendation,
               "question": KG.Question}
HEDGES = {"certain": KG.Certain, "will": KG.Will, "foreseeable": KG.Foreseeable, "highly-likely": KG.HighlyLikely,
          "conditional": KG.Conditional, "possible": KG.Possible}
#: What a line of the text is, by how it starts (a Markdown-like habit): ``#`` a heading,
#: ``-``/``*``/``•`` a bullet, anything else a paragraph.
_HEADING, _BULLET = re.compile(r"#+\s"), re.compile(r"[-*•・]\s")


def normalise(text: str) -> str:
    """``text`` as excerpts are compared: NFKC (full-width and half-width forms alike), every
    run of whitespace one space, trimmed.

    Examples
    --------
    >>> normalise("ＡＢＣ，  100\\u3000億") == normalise("ABC, 100 億")
    True
    """
    return _mapped(text)[0]


def _mapped(text: str) -> tuple[str, list[int], str]:
    """``(normalised text, index in base of each of its characters, base)``: base is ``text``
    composed (NFC); each character of it is mapped by NFKC and whitespace runs collapse, so a
    match in the normalised text points back to a span of the text as written."""
    base = unicodedata.normalize("NFC", text)
    out: list[str] = []
    where: list[int] = []
    space = True  # drops leading whitespace
    for i, ch in enumerate(base):
        for c in unicodedata.normalize("NFKC", ch):
            if c.isspace():
                if not space:
                    out.append(" ")
                    where.append(i)
                space = True
            else:
                out.append(c)
                where.append(i)
                space = False
    if out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where, base


def verbatim(excerpt: str, line: str) -> str | None:
    """The span of ``line`` that ``excerpt`` matches once both are normalised, as the line
    writes it (full-width forms and double spaces kept), or None.

    Examples
    --------
    >>> verbatim("OpenAI 的營收", "據說ＯｐｅｎＡＩ\u3000的營收成長") == "ＯｐｅｎＡＩ\u3000的營收"
    True
    """
    wanted = normalise(excerpt)
    norm, where, base = _mapped(line)
    pos = norm.find(wanted) if wanted else -1
    if pos < 0:
        return None
    return base[where[pos]:where[pos + len(wanted) - 1] + 1]


@dataclass
class SourceInfo:
    """The source's metadata (``kg source add`` options)."""

    slug: str
    title: str
    lang: str = "en"
    date: str | None = None
    url: str | None = None
    publisher: str | None = None

    @property
    def graph(self) -> str:
        return f"{GRAPH}user/source-{self.slug}"

    @property
    def iri(self) -> str:
        return f"{SRC}user-source-{self.slug}"


@dataclass
class Claim:
    where: str
    line: int
    excerpt: str
    text: str
    kind: str
    hedges: list[str] = field(default_factory=list)
    hedge_text: str = ""
    about: list[str] = field(default_factory=list)
    supports: list[str] = field(default_factory=list)


def read_text(path: Path) -> dict[int, str]:
    """Line number → the line, for every non-blank line of a UTF-8 text file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    if b"\x00" in raw:
        raise InputError(f"{path}: a NUL byte: this is a binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None
    lines = {n: line for n, line in enumerate(text.splitlines(), start=1) if line.strip()}
    if not lines:
        raise InputError(f"{path}: the text is empty")
    return lines


def _records(path: Path) -> list[tuple[str, dict]]:
    """The claims file's records as ``(where, {column: value})``; CSV or YAML by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text), strict=True)
        header = [(h or "").strip() for h in reader.fieldnames or []]
        _check_columns(path, header)
        out = []
        try:
            for raw in reader:
                if None in raw:
                    raise InputError(f"{path}:{reader.line_num}: more fields than the header names")
                out.append((f"{path}:{reader.line_num}", {k.strip(): (v or "").strip() for k, v in raw.items()}))
        except csv.Error as exc:
            raise InputError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
        return out
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(f"{path}:{mark.line + 1 if mark else 1}: not YAML: {getattr(exc, 'problem', exc)}") from None
        if not isinstance(data, list) or root is None:
            raise InputError(f"{path}:1: expected a list of claims (each a mapping of {', '.join(CLAIM_COLUMNS)})")
        out = []
        for node, item in zip(root.value, data):
            where = f"{path}:{node.start_mark.line + 1}"
            if not isinstance(item, dict):
                raise InputError(f"{where}: a claim is a mapping of {', '.join(CLAIM_COLUMNS)}")
            _check_columns(path, [str(k) for k in item], where)
            out.append((where, {str(k): _cell(v) for k, v in item.items()}))
        return out
    raise InputError(f"{path}: a claims file is .csv or .yaml")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value).strip()


def _check_columns(path: Path, header: list[str], where: str | None = None) -> None:
    where = where or f"{path}:1"
    unknown = [c for c in header if c not in CLAIM_COLUMNS]
    if unknown:
        raise InputError(f"{where}: unknown column(s) {', '.join(unknown)}; columns are {', '.join(CLAIM_COLUMNS)}")
    if where.endswith(":1") and "excerpt" not in header:
        raise InputError(f"{where}: missing column excerpt; columns are {', '.join(CLAIM_COLUMNS)}")


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.replace("|", ";").split(";") if v.strip()]


def read_claims(path: Path, lines: dict[int, str], text_path: Path, lang: str) -> list[Claim]:
    """The claims of ``path``, each excerpt found verbatim (normalised) in its line of the text.

    A claim's ``line`` may be left out when the excerpt is on one line only. Raises
    :class:`InputError` naming the claims file's line for an excerpt not in the text (with the
    nearest line), an unknown kind or hedge, a missing English rendering.
    """
    from kg.csvdata import _pick

    norm = {n: normalise(t) for n, t in lines.items()}
    out = []
    for where, rec in _records(path):
        if not any(rec.values()):
            continue
        excerpt = rec.get("excerpt", "")
        if not excerpt:
            raise InputError(f"{where}: column 'excerpt' is empty")
        if not rec.get("kind"):
            raise InputError(f"{where}: column 'kind' is empty; expected one of {', '.join(CLAIM_KINDS)}")
        kind = _pick(CLAIM_KINDS, rec["kind"], "kind", where)
        hedges = [_pick(HEDGES, h, "hedge", where) for h in _list(rec.get("hedge", ""))]
        text = rec.get("text", "") or (excerpt if lang.split("-")[0].lower() == "en" else "")
        if not text:
            raise InputError(f"{where}: column 'text' (the English rendering) is empty; the text is in {lang}")
        wanted = normalise(excerpt)
        if rec.get("line"):
            try:
                line = int(rec["line"])
            except ValueError:
                raise InputError(f"{where}: line {rec['line']!r} is not a line number") from None
            if line not in norm:
                raise InputError(f"{where}: line {line} of {text_path} is blank or past its end ({max(norm)} lines)")
            if wanted not in norm[line]:
                found = [n for n, t in norm.items() if wanted in t]
                hint = f"; it is on line {found[0]}" if found else _nearest(wanted, norm)
                raise InputError(f"{where}: excerpt {_short(excerpt)} is not on line {line} of {text_path}{hint}")
        else:
            found = [n for n, t in norm.items() if wanted in t]
            if not found:
                raise InputError(f"{where}: excerpt {_short(excerpt)} is not in {text_path} (compared after NFKC "
                                 f"and whitespace normalisation){_nearest(wanted, norm)}")
            if len(found) > 1:
                raise InputError(f"{where}: excerpt {_short(excerpt)} is on lines {', '.join(map(str, found))} of "
                                 f"{text_path}; give its line")
            line = found[0]
        excerpt = verbatim(excerpt, lines[line]) or excerpt  # as the text writes it
        out.append(Claim(where, line, excerpt, text, kind, hedges, rec.get("hedge_text", ""),
                         _list(rec.get("about", "")), _list(rec.get("supports", ""))))
    if not out:
        raise InputError(f"{path}: no claims")
    return out


def _short(text: str, width: int = 50) -> str:
    return repr(text if len(text) <= width else text[:width] + "…")


def _nearest(wanted: str, norm: dict[int, str]) -> str:
    best = max(norm, key=lambda n: difflib.SequenceMatcher(None, wanted, norm[n]).find_longest_match(
        0, len(wanted), 0, len(norm[n])).size)
    return f"; nearest is line {best}: {_short(norm[best], 70)}"


def _paragraph_kind(line: str):
    if _HEADING.match(line.lstrip()):
        return KG.HeadingParagraph
    if _BULLET.match(line.lstrip()):
        return KG.BulletParagraph
    return KG.BodyParagraph


def _target(kg, value: str, where: str) -> str:
    if value.startswith(("http://", "https://")):
        iri = value
    elif ":" in value and value.split(":", 1)[0] in PREFIXES:
        prefix, local = value.split(":", 1)
        iri = PREFIXES[prefix] + local
    else:
        raise InputError(f"{where}: supports {value!r} is not an IRI or a prefixed name (rel:…, fig:…)")
    if not kg.select("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", {"s": iri}):
        raise InputError(f"{where}: supports {value} is not in the loaded graph (load its file with --data)")
    return iri


def source_quads(kg, info: SourceInfo, lines: dict[int, str], claims: list[Claim]) -> list[ox.Quad]:
    """The source, its paragraphs (one per non-blank line) and its claims as quads of
    ``info.graph``; ``about`` names resolve against ``kg`` (raises UnknownEntityError), and
    ``supports`` targets must be in it."""
    from kg.entities import resolve

    g = ox.NamedNode(info.graph)
    quads: list[ox.Quad] = []

    def add(s, p, o):
        quads.append(ox.Quad(s if not isinstance(s, str) else ox.NamedNode(s), ox.NamedNode(p),
                             o if not isinstance(o, str) else ox.NamedNode(o), g))

    src = info.iri
    add(src, RDF.type, KG.Source)
    add(src, DCTERMS.title, ox.Literal(info.title, language=info.lang))
    for lang in ("en", "zh-Hant"):
        add(src, RDFS.label, ox.Literal(info.title, language=lang))
    add(src, DCTERMS.language, ox.Literal(info.lang))
    add(src, KG.layer, KG.UserLayer)
    add(src, KG.namedGraph, g)
    if info.date:
        from kg.csvdata import _date

        add(src, DCTERMS.date, ox.Literal(info.date, datatype=ox.NamedNode(_date(info.date, "--date"))))
    if info.url:
        from kg.csvdata import _source_url

        add(src, SCHEMA.url, _source_url(info.url, "--url"))
    if info.publisher:
        try:
            add(src, DCTERMS.publisher, resolve(kg, info.publisher))
        except UnknownEntityError:
            add(src, DCTERMS.publisher, ox.Literal(info.publisher))
    width = len(str(max(lines)))
    for n, line in lines.items():
        para = f"{PARA}user-{info.slug}-L{n:0{width}d}"
        add(para, RDF.type, KG.Paragraph)
        add(para, RDFS.label, ox.Literal(f"{info.title}, line {n}", language="en"))
        add(para, KG.lineNumber, ox.Literal(str(n), datatype=ox.NamedNode(XSD.integer)))
        add(para, KG.paragraphKind, _paragraph_kind(line))
        add(para, KG.section, KG.UserSection)
        add(para, DCTERMS.isPartOf, src)
    counts: dict[int, int] = {}
    for c in claims:
        counts[c.line] = counts.get(c.line, 0) + 1
        iri = f"{CLAIM}user-{info.slug}-L{c.line:0{width}d}-{counts[c.line]}"
        add(iri, RDF.type, KG.Claim)
        add(iri, RDFS.label, ox.Literal(f"{info.title}, claim L{c.line}-{counts[c.line]}", language="en"))
        add(iri, KG.excerpt, ox.Literal(c.excerpt, language=info.lang))
        add(iri, KG.text, ox.Literal(c.text, language="en"))
        add(iri, KG.section, KG.UserSection)
        add(iri, KG.claimKind, c.kind)
        for h in c.hedges:
            add(iri, KG.hedge, h)
        if c.hedge_text:
            add(iri, KG.hedgeText, ox.Literal(c.hedge_text, language=info.lang))
        for name in c.about:
            try:
                add(iri, KG.about, resolve(kg, name))
            except UnknownEntityError as exc:
                raise InputError(f"{c.where}: about: {exc}") from None
        for value in c.supports:
            add(iri, KG.supports, _target(kg, value, c.where))
        add(iri, KG.inParagraph, f"{PARA}user-{info.slug}-L{c.line:0{width}d}")
        add(iri, DCTERMS.source, src)
        add(iri, PROV.wasQuotedFrom, src)
    return quads


def resolve_source(kg, name: str) -> str:
    """The IRI of the source called ``name``: as :func:`kg.sources.find_source` finds it (IRI,
    slug, title or label), or by the id given to ``kg source add`` (``note`` for
    ``src:user-source-note``). Raises :class:`UnknownEntityError` with the nearest names."""
    from kg.sources import _index, find_source

    iri = find_source(kg, name) or find_source(kg, "user-source-" + name)
    if iri is not None:
        return iri
    keys = [k for k in _index(kg) if "://" not in k]
    near = difflib.get_close_matches(normalise(name).casefold(), keys, n=5, cutoff=0.5)
    raise UnknownEntityError(name, near)
