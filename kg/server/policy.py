"""What the endpoint refuses: outbound requests, unknown FROM graphs, updates without the token.

The references come from kg's tokenizer (:mod:`kg.server.lexer`), not from Oxigraph's parser, so a
refusal here is a clear early message, not the enforcement: the workers cannot open a socket
(:mod:`kg.server.sandbox`) unless ``--allow-host`` is given.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import urlsplit

from kg.server.errors import HTTPError
from kg.server.lexer import Analysis

__all__ = ["check_references", "check_token", "host_allowed"]

_OUTBOUND = ("SERVICE", "LOAD")
_DATASET = ("FROM", "FROM NAMED", "USING", "USING NAMED")


def host_allowed(iri: str | None, allow_hosts) -> bool:
    """Whether ``iri`` is an http(s) IRI on an allowed host (``example.org``, ``*.example.org``,
    or ``*`` for any host). ``file:`` and other schemes are never allowed."""
    if not iri or not allow_hosts:
        return False
    parts = urlsplit(iri)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    for pattern in allow_hosts:
        pattern = pattern.strip().lower()
        if pattern == "*" or host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


def check_references(analysis: Analysis, *, graphs, allow_hosts=(), protocol_dataset: bool = False) -> None:
    """Refuse (400) what would make the engine reach outside the store.

    ``SERVICE`` and ``LOAD`` fetch over the network in Oxigraph, so they pass only for a host on
    the allow-list. ``FROM``/``FROM NAMED``/``USING`` must name a graph of the store (or an
    allowed host's IRI): the server never fetches them. A protocol dataset
    (``default-graph-uri``…) replaces the query's ``FROM`` clauses, which are then not used.
    """
    for ref in analysis.references:
        where = f"line {ref.line}"
        if ref.keyword in _OUTBOUND:
            if ref.iri is None and "*" not in allow_hosts:
                raise HTTPError(400, f"{ref.keyword} {ref.text or '(nothing)'} at {where} is refused: this endpoint "
                                     "makes no outbound requests, and a variable endpoint cannot be checked",
                                error="outbound request refused")
            if ref.iri is not None and not host_allowed(ref.iri, allow_hosts):
                raise HTTPError(400, f"{ref.keyword} <{ref.iri}> at {where} is refused: this endpoint makes no "
                                     "outbound requests (its operator can allow a host with --allow-host)",
                                error="outbound request refused")
        elif ref.keyword in _DATASET:
            if protocol_dataset and ref.keyword.startswith("FROM"):
                continue
            if ref.iri is None:
                raise HTTPError(400, f"{ref.keyword} {ref.text} at {where}: not an IRI (undeclared prefix?)",
                                error="bad SPARQL", line=ref.line)
            if ref.iri not in graphs and not host_allowed(ref.iri, allow_hosts):
                raise HTTPError(400, f"{ref.keyword} <{ref.iri}> at {where} names no graph of this store, and this "
                                     "endpoint never fetches graphs; the service description (GET /sparql) "
                                     "lists the graphs", error="unknown graph")


def check_token(authorization: str | None, token: str) -> None:
    """Accept ``Authorization: Bearer TOKEN`` (or HTTP Basic with TOKEN as the password)."""
    challenge = {"WWW-Authenticate": 'Bearer realm="kg serve", charset="UTF-8"'}
    if not authorization:
        raise HTTPError(401, "SPARQL Update needs the update token: send 'Authorization: Bearer TOKEN'",
                        headers=challenge)
    scheme, _, credentials = authorization.strip().partition(" ")
    supplied = None
    if scheme.lower() == "bearer":
        supplied = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            supplied = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            supplied = None
    if supplied is None:
        raise HTTPError(401, f"unsupported authorization scheme {scheme!r}; use Bearer", headers=challenge)
    if not hmac.compare_digest(supplied.encode("utf-8"), token.encode("utf-8")):
        raise HTTPError(403, "wrong update token", error="Forbidden")
