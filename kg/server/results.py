"""Write query results (SELECT rows, ASK booleans, CONSTRUCT triples) within a row limit.

Oxigraph's own serializers write a whole result at once, so the rows are read here first:
that is how a result larger than the limit is answered with an error instead of being cut.
"""

from __future__ import annotations

import csv
import io
import json
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.server.errors import HTTPError

__all__ = ["write_results", "TooManyRows"]

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


def write_results(result, fmt: str, max_rows: int, prefixes: dict | None = None) -> tuple[bytes, int]:
    """Serialise an Oxigraph query result as ``fmt``; returns ``(body, rows)``.

    Raises :class:`TooManyRows` when a SELECT gives more than ``max_rows`` rows or a
    CONSTRUCT/DESCRIBE more than ``max_rows`` triples.
    """
    if isinstance(result, ox.QueryBoolean):
        fmt_enum = ox.QueryResultsFormat.XML if fmt == "xml" else ox.QueryResultsFormat.JSON
        return result.serialize(format=fmt_enum), 1
    if isinstance(result, ox.QueryTriples):
        triples = _take(result, max_rows, "triples")
        target = _GRAPH_FORMATS[fmt]
        use = prefixes if target in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        return ox.serialize(triples, format=target, prefixes=use), len(triples)
    names = [v.value for v in result.variables]
    width = range(len(names))
    rows = [[sol[i] for i in width] for sol in _take(result, max_rows, "rows")]
    return _WRITERS[fmt](names, rows).encode("utf-8"), len(rows)


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


def _json(names: list[str], rows: list[list]) -> str:
    bindings = [{n: _json_term(t) for n, t in zip(names, row, strict=True) if t is not None} for row in rows]
    return json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}},
                      ensure_ascii=False, separators=(",", ":"))


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


def _xml(names: list[str], rows: list[list]) -> str:
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out += [f"<variable name={quoteattr(n)}/>" for n in names]
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(n)}>{_xml_term(t)}</binding>"
                for n, t in zip(names, row, strict=True) if t is not None]
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out)


# -- SPARQL 1.1 Query Results CSV and TSV --------------------------------------------------
def _csv_value(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return "_:" + t.value
    if isinstance(t, (ox.NamedNode, ox.Literal)):
        return t.value
    return str(t)


def _csv(names: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    writer.writerows([_csv_value(t) for t in row] for row in rows)
    return buf.getvalue()


def _tsv(names: list[str], rows: list[list]) -> str:
    lines = ["\t".join("?" + n for n in names)]
    lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
    return "\n".join(lines) + "\n"


_WRITERS = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}
