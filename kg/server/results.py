"""Write query results (SELECT rows, ASK booleans, CONSTRUCT triples) within a row and a byte limit.

Oxigraph's own serializers write a whole result at once, so the rows are read here first:
that is how a result larger than a limit is answered with an error instead of being cut. The
byte limit is checked before a row is written (the lengths of its values are a lower bound of its
size, so one huge literal is refused without being copied) and as the output grows.
"""

from __future__ import annotations

import csv
import io
import json
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.server.errors import HTTPError

__all__ = ["write_results", "TooManyRows", "TooLarge"]

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"
_GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


class TooManyRows(HTTPError):
    """More rows (or triples) than the server's limit: answered, never silently truncated."""

    def __init__(self, limit: int, what: str = "rows"):
        super().__init__(
            422, f"the result has more than {limit} {what}, the limit of this server; "
                 f"add LIMIT {limit} (and OFFSET to page through the rest) or ask for an aggregate",
            error="too many rows", limit=limit,
        )


class TooLarge(HTTPError):
    """A response of more bytes than the server's limit: answered, never silently truncated."""

    def __init__(self, limit: int):
        super().__init__(
            422, f"the result has more than {limit} bytes, the limit of this server (--max-result-bytes); "
                 "select fewer or shorter values (SUBSTR, STRLEN, COUNT) or page with LIMIT and OFFSET",
            error="result too large", limit=limit,
        )


class _Sink:
    """Encoded pieces of a response, at most ``limit`` bytes in all (TooLarge beyond)."""

    def __init__(self, limit: int | None):
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit

    def expect(self, at_least: int) -> None:
        """Refuse now if the next ``at_least`` bytes would not fit."""
        if self.limit is not None and self.size + at_least > self.limit:
            raise TooLarge(self.limit)

    def write(self, data: str | bytes) -> None:
        piece = data.encode("utf-8") if isinstance(data, str) else data
        self.expect(len(piece))
        self.size += len(piece)
        self.parts.append(piece)

    def value(self) -> bytes:
        return b"".join(self.parts)


def write_results(result, fmt: str, max_rows: int, prefixes: dict | None = None,
                  max_bytes: int | None = None) -> tuple[bytes, int]:
    """Serialise an Oxigraph query result as ``fmt``; returns ``(body, rows)``.

    Raises :class:`TooManyRows` when a SELECT gives more than ``max_rows`` rows or a
    CONSTRUCT/DESCRIBE more than ``max_rows`` triples, and :class:`TooLarge` when the body would
    be longer than ``max_bytes``.
    """
    sink = _Sink(max_bytes)
    if isinstance(result, ox.QueryBoolean):
        fmt_enum = ox.QueryResultsFormat.XML if fmt == "xml" else ox.QueryResultsFormat.JSON
        sink.write(result.serialize(format=fmt_enum))
        return sink.value(), 1
    if isinstance(result, ox.QueryTriples):
        triples = _take(result, max_rows, "triples")
        sink.expect(sum(_literal_chars(t.object) for t in triples))  # IRIs may be written shorter (prefixes)
        target = _GRAPH_FORMATS[fmt]
        use = prefixes if target in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        sink.write(ox.serialize(triples, format=target, prefixes=use))
        return sink.value(), len(triples)
    names = [v.value for v in result.variables]
    width = range(len(names))
    rows = [[sol[i] for i in width] for sol in _take(result, max_rows, "rows")]
    _WRITERS[fmt](names, rows, sink)
    return sink.value(), len(rows)


def _chars(t) -> int:
    """The characters of a term's value: a lower bound of its bytes in every result format."""
    if t is None:
        return 0
    if isinstance(t, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        return len(t.value)
    return _chars(t.subject) + _chars(t.predicate) + _chars(t.object)


def _literal_chars(t) -> int:
    if isinstance(t, ox.Literal):
        return len(t.value)
    if isinstance(t, (ox.NamedNode, ox.BlankNode)):
        return 0
    return _literal_chars(t.subject) + _literal_chars(t.object)


def _rows(rows: list[list], sink: _Sink):
    """The rows, each checked against the byte limit before it is written."""
    for row in rows:
        sink.expect(sum(_chars(t) for t in row))
        yield row


def _take(iterator, limit: int, what: str) -> list:
    out = []
    for item in iterator:
        if len(out) == limit:
            raise TooManyRows(limit, what)
        out.append(item)
    return out


# -- SPARQL 1.1 Query Results JSON ---------------------------------------------------------
def _json_term(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
            direction = getattr(t, "direction", None)
            if direction is not None:
                out["its:dir"] = str(direction.value if hasattr(direction, "value") else direction).lower()
        elif t.datatype.value != _XSD_STRING:
            out["datatype"] = t.datatype.value
        return out
    return {"type": "triple", "value": {
        "subject": _json_term(t.subject), "predicate": _json_term(t.predicate), "object": _json_term(t.object)}}


def _json(names: list[str], rows: list[list], sink: _Sink) -> None:
    def dumps(data) -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    sink.write('{"head":{"vars":' + dumps(names) + '},"results":{"bindings":[')
    for i, row in enumerate(_rows(rows, sink)):
        sink.write(("," if i else "") + dumps({n: _json_term(t) for n, t in zip(names, row, strict=True)
                                               if t is not None}))
    sink.write("]}}")


# -- SPARQL Query Results XML --------------------------------------------------------------
def _xml_term(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    return (f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}</predicate>"
            f"<object>{_xml_term(t.object)}</object></triple>")


def _xml(names: list[str], rows: list[list], sink: _Sink) -> None:
    sink.write('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
               + "".join(f"<variable name={quoteattr(n)}/>" for n in names) + "</head><results>")
    for row in _rows(rows, sink):
        sink.write("<result>" + "".join(f"<binding name={quoteattr(n)}>{_xml_term(t)}</binding>"
                                        for n, t in zip(names, row, strict=True) if t is not None) + "</result>")
    sink.write("</results></sparql>\n")


# -- SPARQL 1.1 Query Results CSV and TSV --------------------------------------------------
def _csv_value(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return "_:" + t.value
    if isinstance(t, (ox.NamedNode, ox.Literal)):
        return t.value
    return str(t)


def _csv(names: list[str], rows: list[list], sink: _Sink) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    for row in _rows(rows, sink):
        writer.writerow([_csv_value(t) for t in row])
        if buf.tell() > 65536:
            sink.write(buf.getvalue())
            buf.seek(0)
            buf.truncate()
    sink.write(buf.getvalue())


def _tsv(names: list[str], rows: list[list], sink: _Sink) -> None:
    sink.write("\t".join("?" + n for n in names) + "\n")
    for row in _rows(rows, sink):
        sink.write("\t".join("" if t is None else str(t) for t in row) + "\n")


_WRITERS = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}
