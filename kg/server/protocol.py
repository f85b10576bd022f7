"""Read a SPARQL 1.1 Protocol request: which operation, its text, its dataset, its options."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from kg.server.errors import HTTPError

__all__ = ["Operation", "read_operation", "parse_params", "media_type"]

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass
class Operation:
    """A query or update (``kind``), or nothing (``kind=None``: describe the service)."""

    kind: str | None
    text: str = ""
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    using_graphs: list[str] = field(default_factory=list)
    using_named_graphs: list[str] = field(default_factory=list)
    format: str | None = None
    timeout: str | None = None

    @property
    def protocol_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def parse_params(query_string: str) -> list[tuple[str, str]]:
    """URL-encoded parameters; 400 when they are not UTF-8."""
    try:
        return parse_qsl(query_string, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPError(400, f"parameters are not URL-encoded UTF-8: {exc}") from None


def media_type(content_type: str | None) -> tuple[str, str | None]:
    """``"application/sparql-query; charset=UTF-8"`` → ``("application/sparql-query", "utf-8")``."""
    if not content_type:
        return "", None
    main, *params = content_type.split(";")
    charset = None
    for p in params:
        key, _, value = p.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return main.strip().lower(), charset


def read_operation(method: str, query_string: str, content_type: str | None, body: bytes) -> Operation:
    """The operation of a request to the endpoint, per SPARQL 1.1 Protocol sections 2.1 and 2.2.

    GET carries ``query`` in the URL; POST carries it form-encoded or as the body
    (``application/sparql-query`` / ``application/sparql-update``), with the dataset parameters
    in the URL. Anything else is a 4xx: 415 for a missing or wrong media type or a charset
    other than UTF-8, 400 for repeated or conflicting parameters.
    """
    params = parse_params(query_string)
    direct = None
    if method == "POST":
        mtype, charset = media_type(content_type)
        if charset not in (None, "utf-8", "utf8"):
            raise HTTPError(415, f"charset {charset} is not supported; send UTF-8")
        if mtype == FORM:
            params = params + parse_params(_utf8(body, "the form"))
        elif mtype in (QUERY, UPDATE):
            direct = ("query" if mtype == QUERY else "update", _utf8(body, "the body"))
        else:
            raise HTTPError(415, f"POST needs Content-Type {FORM}, {QUERY} or {UPDATE}"
                                 + (f", not {mtype}" if mtype else ""))
    values: dict[str, list[str]] = {}
    for key, value in params:
        values.setdefault(key, []).append(value)
    queries, updates = values.get("query", []), values.get("update", [])
    if direct:
        (queries if direct[0] == "query" else updates).append(direct[1])
    if len(queries) > 1 or len(updates) > 1:
        raise HTTPError(400, "more than one query or update in the request")
    if queries and updates:
        raise HTTPError(400, "a request carries a query or an update, not both")
    if updates and method != "POST":
        raise HTTPError(400, "SPARQL Update must be sent with POST")
    for name in ("format", "timeout"):
        if len(values.get(name, [])) > 1:
            raise HTTPError(400, f"parameter {name} given more than once")
    op = Operation(
        "query" if queries else "update" if updates else None,
        (queries or updates or [""])[0],
        _iris(values, "default-graph-uri"), _iris(values, "named-graph-uri"),
        _iris(values, "using-graph-uri"), _iris(values, "using-named-graph-uri"),
        (values.get("format") or [None])[0], (values.get("timeout") or [None])[0],
    )
    if op.kind == "query" and (op.using_graphs or op.using_named_graphs):
        raise HTTPError(400, "using-graph-uri and using-named-graph-uri are for updates; queries use default-graph-uri")
    if op.kind == "update" and op.protocol_dataset:
        raise HTTPError(400, "default-graph-uri and named-graph-uri are for queries; updates use using-graph-uri")
    return op


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPError(400, f"{what} is not UTF-8 ({exc.reason} at byte {exc.start})") from None


def _iris(values: dict, name: str) -> list[str]:
    import pyoxigraph as ox

    out = []
    for v in values.get(name, []):
        try:
            out.append(ox.NamedNode(v).value)
        except ValueError:
            raise HTTPError(400, f"{name}={v!r} is not an absolute IRI") from None
    return out
