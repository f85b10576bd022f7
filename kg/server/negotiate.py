"""Content negotiation: the result formats the endpoint writes and how a request picks one."""

from __future__ import annotations

from dataclasses import dataclass

from kg.server.errors import HTTPError

__all__ = ["Format", "RESULT_FORMATS", "GRAPH_FORMATS", "negotiate", "formats_for"]


@dataclass(frozen=True)
class Format:
    key: str
    media_type: str  # what the Content-Type says
    accepts: tuple[str, ...]  # media types in Accept that select it
    names: tuple[str, ...]  # values of the ``format`` URL parameter that select it
    w3c: str  # the W3C format IRI, for the service description

    @property
    def content_type(self) -> str:
        textual = self.media_type.startswith("text/") or self.media_type.endswith(("+xml", "/n-triples"))
        return self.media_type + ("; charset=utf-8" if textual else "")


_F = "http://www.w3.org/ns/formats/"
RESULT_FORMATS = (
    Format("json", "application/sparql-results+json", ("application/sparql-results+json", "application/json"),
           ("json", "srj"), _F + "SPARQL_Results_JSON"),
    Format("xml", "application/sparql-results+xml", ("application/sparql-results+xml", "application/xml", "text/xml"),
           ("xml", "srx"), _F + "SPARQL_Results_XML"),
    Format("csv", "text/csv", ("text/csv",), ("csv",), _F + "SPARQL_Results_CSV"),
    Format("tsv", "text/tab-separated-values", ("text/tab-separated-values",), ("tsv",), _F + "SPARQL_Results_TSV"),
)
GRAPH_FORMATS = (
    Format("turtle", "text/turtle", ("text/turtle", "application/x-turtle", "application/turtle"),
           ("turtle", "ttl"), _F + "Turtle"),
    Format("ntriples", "application/n-triples", ("application/n-triples", "text/plain"),
           ("ntriples", "n-triples", "nt"), _F + "N-Triples"),
    Format("jsonld", "application/ld+json", ("application/ld+json", "application/json"),
           ("jsonld", "json-ld", "json"), _F + "JSON-LD"),
    Format("rdfxml", "application/rdf+xml", ("application/rdf+xml", "application/xml", "text/xml"),
           ("rdfxml", "rdf", "xml"), _F + "RDF_XML"),
)


def formats_for(form: str | None) -> tuple[Format, ...]:
    """SELECT and ASK give result sets, CONSTRUCT and DESCRIBE give graphs; ASK has no CSV/TSV."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        return GRAPH_FORMATS
    if form == "ASK":
        return RESULT_FORMATS[:2]
    return RESULT_FORMATS


def negotiate(accept: str | None, offered: tuple[Format, ...], format_param: str | None = None) -> Format:
    """The offered format the client prefers; 406 when it accepts none of them.

    ``format_param`` (the ``format`` URL parameter: a name such as ``csv`` or a media type)
    overrides ``Accept``. Without either, the first offered format. Among formats the client
    accepts equally, the server's order decides.

    Examples
    --------
    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", RESULT_FORMATS).key
    'xml'
    >>> negotiate("*/*", GRAPH_FORMATS).key
    'turtle'
    """
    if format_param:
        wanted = format_param.strip().lower()
        for f in offered:
            if wanted in f.names or wanted in f.accepts:
                return f
        raise _not_acceptable(f"format={format_param!r}", offered)
    if not accept or not accept.strip():
        return offered[0]
    ranges = _parse_accept(accept)
    best, best_q = None, 0.0
    for f in offered:
        q = _quality(f, ranges)
        if q > best_q:
            best, best_q = f, q
    if best is None:
        raise _not_acceptable(f"Accept: {accept}", offered)
    return best


def _not_acceptable(what: str, offered) -> HTTPError:
    names = ", ".join(f.media_type for f in offered)
    return HTTPError(406, f"cannot produce {what} for this request; available: {names}")


def _parse_accept(header: str) -> list[tuple[str, float]]:
    out = []
    for part in header.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        if not media:
            continue
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        out.append((media, q))
    return out


def _quality(f: Format, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range matching ``f`` (exact > type/* > */*)."""
    best_spec, best_q = -1, 0.0
    major = f.media_type.split("/")[0]
    for media, q in ranges:
        if media in f.accepts:
            spec = 2
        elif media.endswith("/*") and media[:-2] == major:
            spec = 1
        elif media == "*/*" or media == "*":
            spec = 0
        else:
            continue
        if spec > best_spec or (spec == best_spec and q > best_q):
            best_spec, best_q = spec, q
    return best_q
