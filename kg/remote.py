"""A remote SPARQL 1.1 endpoint with the read interface of :class:`kg.store.KGStore`.

Every command of ``kg`` runs unchanged against a :class:`RemoteStore`: parameters are bound
by a ``VALUES`` block (built by :func:`kg.queries.values_block` from Oxigraph terms) joined with
the whole ``WHERE`` pattern, and SELECT results are read in pages (a stable ``ORDER BY`` with
``LIMIT``/``OFFSET``), never pulled in one response. The store's default graph must be the
union of its named graphs, as in the embedded store; this is checked once, on first use.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import secrets
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

from kg.errors import KGError, QueryError
from kg.queries import values_block
from kg.store import to_python, to_term
from kg.vocab import GRAPH, KG, ONTOLOGY_GRAPH

__all__ = ["RemoteStore", "RemoteError", "UnionDefaultGraphError", "HttpClient", "terms_from_json",
           "bind_values", "paged", "projected_variables"]

#: Rows per page. Every page runs the query again, so pages are large; a store that returns
#: fewer rows than asked (Virtuoso's ResultSetMaxRows) must say so (X-SPARQL-MaxRows).
DEFAULT_PAGE_SIZE = 100_000
#: Seconds one request may take (a page of a query, a graph of a push).
DEFAULT_TIMEOUT = 300.0
#: Graphs counted by one query of :meth:`RemoteStore.graph_sizes` (kg push's verification).
COUNTS_PER_QUERY = 200
#: Longest query sent with GET; longer ones go as a form POST (never as application/sparql-query,
#: which Virtuoso never answers).
_MAX_GET = 4000
_RESULTS_JSON = "application/sparql-results+json"
_MAX_SORT_KEYS = 20
_TRIPLES = "application/n-triples, text/turtle;q=0.9"
#: Bytes read from a file body per socket write (http.client's 8 KiB makes many small writes).
_BLOCK = 1 << 20


# -- HTTP: one keep-alive connection per server, Basic or Digest authentication on challenge ----
class RemoteError(KGError):
    """A remote store could not be reached, refused a request or answered something unreadable."""


class HttpClient:
    """A small HTTP/1.1 client on :mod:`http.client` with Basic and Digest authentication.

    Credentials are sent only after the server asks for them (401), then with every request to
    that server, so a large body is sent twice at most once. The Digest response is computed
    here (RFC 7616, MD5 and SHA-256, ``qop=auth``): Virtuoso's ``-auth`` endpoints take nothing else.
    """

    def __init__(self, user: str | None = None, password: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.user, self.password, self.timeout = user, password, timeout
        self._conns: dict[tuple, http.client.HTTPConnection] = {}
        self._challenges: dict[tuple, dict] = {}
        self._nc = 0

    def request(self, method: str, url: str, *, body=None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None):
        """Send one request; returns ``(status, headers with lower-case names, body bytes)``.

        ``body`` is bytes or a binary file (sent with its length; rewound for a retry);
        ``timeout`` overrides the client's for this request (a large upload).
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(f"not an http(s) URL: {url!r}")
        key = (parts.scheme, parts.hostname, parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if hasattr(body, "seek"):
            body.seek(0, os.SEEK_END)
            headers["Content-Length"] = str(body.tell())
        for attempt in range(3):
            auth = self._authorization(key, method, target)
            if auth:
                headers["Authorization"] = auth
            status, resp_headers, data = self._send(key, method, target, body, headers, timeout or self.timeout)
            if status != 401 or attempt == 2:
                return status, resp_headers, data
            challenge = _parse_challenge(resp_headers.get("www-authenticate", ""))
            if not challenge or self.user is None or (auth and challenge == self._challenges.get(key)):
                return status, resp_headers, data  # no way to answer, or the same challenge refused us
            self._challenges[key] = challenge
        return status, resp_headers, data

    def has_challenge(self, url: str) -> bool:
        """Whether this client already knows how ``url``'s server wants credentials."""
        parts = urlsplit(url)
        return (parts.scheme, parts.hostname, parts.port) in self._challenges

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def _send(self, key, method, target, body, headers, timeout):
        for retry in (False, True):
            conn = self._conns.get(key)
            fresh = conn is None
            if fresh:
                cls = http.client.HTTPSConnection if key[0] == "https" else http.client.HTTPConnection
                conn = self._conns[key] = cls(key[1], key[2], timeout=timeout, blocksize=_BLOCK)
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            if hasattr(body, "seek"):
                body.seek(0)
            try:
                conn.request(method, target, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                conn.close()
                self._conns.pop(key, None)
                if fresh or retry:  # a kept-alive connection the server had closed: try once more
                    raise RemoteError(f"{key[1]}:{key[2] or ''} closed the connection: {exc}") from None
                continue
            except TimeoutError:
                conn.close()
                self._conns.pop(key, None)
                raise RemoteError(f"{key[1]}:{key[2] or ''} did not answer {method} {target[:80]} within "
                                  f"{timeout:g} s (set KG_ENDPOINT_TIMEOUT)") from None
            except OSError as exc:
                conn.close()
                self._conns.pop(key, None)
                raise RemoteError(f"cannot reach {key[0]}://{key[1]}:{key[2] or ''}: {exc}") from None
            if resp.will_close:
                conn.close()
                self._conns.pop(key, None)
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")

    def _authorization(self, key, method: str, target: str) -> str | None:
        challenge = self._challenges.get(key)
        if not challenge or self.user is None:
            return None
        if challenge["scheme"] == "basic":
            token = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode()
            return f"Basic {token}"
        algorithm = challenge.get("algorithm", "MD5").upper()
        digest = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}.get(algorithm)
        if digest is None:
            raise RemoteError(f"unsupported Digest algorithm {algorithm}")
        h = lambda s: digest(s.encode("utf-8")).hexdigest()  # noqa: E731
        realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
        ha1, ha2 = h(f"{self.user}:{realm}:{self.password or ''}"), h(f"{method}:{target}")
        fields = {"username": self.user, "realm": realm, "nonce": nonce, "uri": target, "algorithm": algorithm}
        if "auth" in [q.strip() for q in challenge.get("qop", "").split(",")]:
            self._nc += 1
            nc, cnonce = f"{self._nc:08x}", secrets.token_hex(8)
            fields.update(qop="auth", nc=nc, cnonce=cnonce, response=h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
        else:
            fields["response"] = h(f"{ha1}:{nonce}:{ha2}")
        if "opaque" in challenge:
            fields["opaque"] = challenge["opaque"]
        unquoted = {"algorithm", "qop", "nc"}
        return "Digest " + ", ".join(f"{k}={v}" if k in unquoted else f'{k}="{v}"' for k, v in fields.items())


def _parse_challenge(header: str) -> dict | None:
    """``WWW-Authenticate`` → ``{"scheme": "digest", "realm": …, …}`` (Digest preferred to Basic)."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("digest", "basic"):
        return None
    params = {k: (q if q else v) for k, q, v in re.findall(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', rest)}
    params = {k.lower(): v for k, v in params.items()}
    params["scheme"] = scheme
    return params


class UnionDefaultGraphError(KGError):
    """The endpoint's default graph is not the union of its named graphs."""


@dataclass
class _RemoteQuads:
    """The quads of the project's named graphs, read page by page (what ``kg export`` iterates)."""

    remote: "RemoteStore"

    def __iter__(self):
        graphs = [ox.NamedNode(g) for g in self.remote.graphs()]
        if not graphs:
            return
        text = bind_values("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", [values_block("g", graphs)])
        self.remote._check_union()
        for s, p, o, g in self.remote._select_pages(text)[1]:
            yield ox.Quad(s, p, o, g)

    def __len__(self) -> int:
        return len(self.remote)


class RemoteStore:
    """A SPARQL 1.1 Protocol endpoint that reads like the embedded :class:`~kg.store.KGStore`.

    Parameters
    ----------
    endpoint : URL of the SPARQL query endpoint (Oxigraph ``…/query``, Virtuoso ``…/sparql``).
    update_endpoint, graph_store : URLs of the SPARQL Update and Graph Store endpoints, used by
        ``kg push`` (kept here so one object describes the store).
    user, password : credentials for Basic or Digest authentication; by default from the
        environment variables ``KG_ENDPOINT_USER`` and ``KG_ENDPOINT_PASSWORD``.
    page_size : rows per page (default ``KG_ENDPOINT_PAGE_SIZE`` or 100000).
    timeout : seconds per request (default ``KG_ENDPOINT_TIMEOUT`` or 300).
    check_union : check on first use that the default graph is the union of the named graphs.

    Examples
    --------
    >>> remote = RemoteStore("http://127.0.0.1:7878/query")  # doctest: +SKIP
    >>> remote.select("SELECT ?label WHERE { ?id <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
    ...               {"id": "https://w3id.org/ai-capital-kg/resource/OpenAI"})  # doctest: +SKIP
    [{'label': 'OpenAI'}, {'label': 'OpenAI'}]
    """

    def __init__(self, endpoint: str, *, update_endpoint: str | None = None, graph_store: str | None = None,
                 user: str | None = None, password: str | None = None, page_size: int | None = None,
                 timeout: float | None = None, check_union: bool = True):
        self.endpoint, self.update_endpoint, self.graph_store = endpoint, update_endpoint, graph_store
        self.page_size = page_size or _env_number("KG_ENDPOINT_PAGE_SIZE", DEFAULT_PAGE_SIZE, int)
        timeout = timeout or _env_number("KG_ENDPOINT_TIMEOUT", DEFAULT_TIMEOUT, float)
        self.http = HttpClient(
            user if user is not None else os.environ.get("KG_ENDPOINT_USER"),
            password if password is not None else os.environ.get("KG_ENDPOINT_PASSWORD"),
            timeout=timeout,
        )
        self.files: list = []  # what was loaded from files: nothing, the store was filled by `kg push`
        self._union_checked = not check_union
        self._nested_pages = False
        self._dialect: str | None = None  # "virtuoso", or "" for standard SPARQL; from the Server header
        self.requests = 0

    def __repr__(self) -> str:
        return f"RemoteStore({self.endpoint!r})"

    # -- the read interface of KGStore ---------------------------------------------------------
    def select(self, sparql: str, bindings: Mapping[str, object] | None = None) -> list[dict]:
        """Run a SELECT; each row a dict of variable → Python value (IRIs as ``str``)."""
        names, rows = self.select_terms(sparql, bindings)
        return [{n: to_python(t) for n, t in zip(names, row)} for row in rows]

    def select_terms(self, sparql: str, bindings: Mapping[str, object] | None = None):
        """Run a SELECT and return ``(variables, rows of Oxigraph terms)``, reading it page by page."""
        self._check_union()
        return self._select_pages(self._bound(self._dialect_text(sparql), bindings))

    def ask(self, sparql: str, bindings: Mapping[str, object] | None = None) -> bool:
        self._check_union()
        body = self._query(self._bound(self._dialect_text(sparql), bindings), _RESULTS_JSON)
        try:
            return bool(json.loads(body)["boolean"])
        except (ValueError, KeyError):
            raise RemoteError(f"{self.endpoint}: expected an ASK result, got {body[:200]!r}") from None

    def construct(self, sparql: str, bindings: Mapping[str, object] | None = None) -> list:
        self._check_union()
        body, ctype = self._query(self._bound(sparql, bindings), _TRIPLES, with_type=True)
        fmt = ox.RdfFormat.TURTLE if "turtle" in ctype else ox.RdfFormat.N_TRIPLES
        try:
            return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=fmt)]
        except SyntaxError as exc:
            raise RemoteError(f"{self.endpoint}: unreadable {ctype or 'RDF'} answer: {exc}") from None

    def graphs(self) -> list[str]:
        """The project's named graphs: those under its graph IRI base and those a source names
        with ``kg:namedGraph`` (a user's TriG file keeps its own graph IRIs). Graphs of others
        sharing the store (Virtuoso's own, for one) are left out."""
        _, rows = self._select_pages("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        if any(r[0] is None for r in rows):  # Virtuoso does not match an empty pattern per graph
            _, rows = self._select_pages("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        present = {r[0].value for r in rows if isinstance(r[0], ox.NamedNode)}
        _, declared = self._select_pages(
            "SELECT DISTINCT ?g WHERE { ?source <" + KG.namedGraph + "> ?g FILTER(isIRI(?g)) }")
        named = {r[0].value for r in declared if isinstance(r[0], ox.NamedNode)}
        return sorted(g for g in present if g.startswith(str(GRAPH)) or g in named)

    def __len__(self) -> int:
        """Triples in the project's named graphs (as ``len`` of the embedded store)."""
        graphs = [ox.NamedNode(g) for g in self.graphs()]
        if not graphs:
            return 0
        text = bind_values("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", [values_block("g", graphs)])
        _, rows = self._select_pages(text)
        return int(rows[0][0].value) if rows else 0

    @property
    def store(self) -> _RemoteQuads:
        """An iterable of the project's quads, like ``KGStore.store``, for ``kg export``."""
        return _RemoteQuads(self)

    # -- counts used by kg push ------------------------------------------------------------------
    def graph_size(self, graph: str) -> int:
        return self.graph_sizes([graph])[graph]

    def graph_sizes(self, graphs: list[str]) -> dict[str, int]:
        """Triples in each of ``graphs`` (0 for a graph the store does not hold), in one query per
        :data:`COUNTS_PER_QUERY` graphs: a ``UNION`` of one ``COUNT`` per graph. (Grouping
        ``GRAPH ?g`` by ``?g``, the graphs in ``VALUES``, took Virtuoso 7 0.7–0.9 s for the 34
        graphs of a 10^4-company push, 722,025 triples; the union of counts 0.15 s.)"""
        counts: dict[str, int] = {}
        for start in range(0, len(graphs), COUNTS_PER_QUERY):
            branches = []
            for g in graphs[start:start + COUNTS_PER_QUERY]:
                iri = ox.NamedNode(g)  # a term, serialised by Oxigraph: never text pasted in
                branches.append(f"{{ {{ SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {iri} {{ ?s ?p ?o }} }} }} "
                                f"BIND({iri} AS ?g) }}")
            _, rows = self._select_pages("SELECT ?g ?n WHERE { " + " UNION ".join(branches) + " }")
            counts.update((g.value, int(n.value)) for g, n in rows if g is not None)
        return {g: counts.get(g, 0) for g in graphs}

    # -- protocol --------------------------------------------------------------------------------
    def _dialect_text(self, sparql: str) -> str:
        """A named query's text in the store's own dialect, where kg has one (queries/dialects/)."""
        if self._dialect is None:
            self._query("ASK {}", _RESULTS_JSON)  # the answer's Server header names the store
        if not self._dialect:
            return sparql
        from kg.queries import dialect_texts

        return dialect_texts(self._dialect).get(sparql, sparql)

    def _bound(self, sparql: str, bindings: Mapping[str, object] | None) -> str:
        blocks = []
        for name, value in (bindings or {}).items():
            if value is None:
                continue
            term = to_term(value)
            if isinstance(term, ox.BlankNode):
                raise QueryError(f"cannot bind ?{name} to a blank node on a remote store")
            blocks.append(values_block(name, [term]))
        return bind_values(sparql, blocks) if blocks else sparql

    def _select_pages(self, sparql: str):
        names = projected_variables(sparql)
        rows: list[list] = []
        offset = 0
        while True:
            text = paged(sparql, names, self.page_size, offset, nested=self._nested_pages)
            try:
                page_names, page, capped = self._select_once(text)
            except RemoteError as exc:
                if "SR353" not in str(exc) or self._nested_pages:
                    raise
                self._nested_pages = True  # Virtuoso's MaxSortedTopRows: page outside a subquery
                continue
            if names is None:  # SELECT *: the order needs the names; start again with them
                names = page_names
                if len(page) >= self.page_size and text != sparql:
                    continue
            rows.extend(page)
            if text == sparql or (len(page) < self.page_size and not capped):
                return page_names, rows
            if not page:
                return page_names, rows
            offset += len(page)

    def _select_once(self, text: str):
        body, headers = self._query(text, _RESULTS_JSON, with_headers=True)
        try:
            doc = json.loads(body)
            names = doc["head"]["vars"]
            bindings = doc["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise RemoteError(f"{self.endpoint}: expected SPARQL results in JSON, got {body[:200]!r}") from None
        rows = [[terms_from_json(b.get(n)) for n in names] for b in bindings]
        # Virtuoso cuts a result at ResultSetMaxRows and says so only in this header.
        capped = "x-sparql-maxrows" in headers
        return names, rows, capped

    def _query(self, text: str, accept: str, *, with_type: bool = False, with_headers: bool = False):
        self.requests += 1
        form = urlencode({"query": text})
        if len(form) <= _MAX_GET:
            sep = "&" if "?" in self.endpoint else "?"
            status, headers, body = self.http.request("GET", self.endpoint + sep + form, headers={"Accept": accept})
        else:
            status, headers, body = self.http.request(
                "POST", self.endpoint, body=form.encode("utf-8"),
                headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
            )
        _raise_for_status(self.endpoint, status, body)
        if self._dialect is None:
            self._dialect = "virtuoso" if "virtuoso" in headers.get("server", "").lower() else ""
        text_body = body.decode("utf-8", errors="replace")
        if with_type:
            return text_body, headers.get("content-type", "")
        if with_headers:
            return text_body, headers
        return text_body

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update on ``update_endpoint`` (form POST)."""
        if not self.update_endpoint:
            raise RemoteError("this needs --update-endpoint (a SPARQL 1.1 Update endpoint)")
        self.requests += 1
        status, _, body = self.http.request(
            "POST", self.update_endpoint, body=urlencode({"update": sparql}).encode("utf-8"),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"},
        )
        _raise_for_status(self.update_endpoint, status, body)

    def _check_union(self) -> None:
        """Fail early, with the fix, when the default graph is not the union of the named graphs."""
        if self._union_checked:
            return
        self._union_checked = True
        _, rows = self._select_once(
            "SELECT ?s ?p ?o WHERE { GRAPH <" + ONTOLOGY_GRAPH + "> { ?s ?p ?o FILTER(isIRI(?s) && !isBlank(?o)) } } LIMIT 1"
        )[:2]
        if not rows:
            raise RemoteError(f"{self.endpoint} holds no ai-capital-kg graphs; load them with `kg push`")
        s, p, o = rows[0]
        probe = bind_values("ASK { ?s ?p ?o }", [values_block("s", [s]), values_block("p", [p]), values_block("o", [o])])
        body = self._query(probe, _RESULTS_JSON)
        if not json.loads(body).get("boolean"):
            raise UnionDefaultGraphError(
                f"the default graph of {self.endpoint} is not the union of its named graphs, so kg's queries "
                "would find nothing; configure the store so it is (Oxigraph: `oxigraph serve --union-default-graph`; "
                "Fuseki: tdb2:unionDefaultGraph true; see docs/deploy.md)"
            )


# -- query text: where the VALUES blocks go, which variables a SELECT projects, paging ----------
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<var>[?$]\w+)
  | (?P<word>[A-Za-z_][\w.-]*(?::[\w.%:-]*)?|:[\w.%:-]*|\d[\w.]*)
  | (?P<punct>.)
""", re.X | re.S)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int
    depth: int  # braces and parentheses open before this token

    def word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def _tokens(sparql: str) -> list[_Tok]:
    out, depth = [], 0
    for m in _TOKEN.finditer(sparql):
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        text = m.group()
        if kind == "punct" and text in "})":
            depth -= 1
        out.append(_Tok(kind, text, m.start(), m.end(), depth))
        if kind == "punct" and text in "{(":
            depth += 1
    return out


def _where_group(toks: list[_Tok]) -> tuple[int, int]:
    """Token indexes of the ``{`` and ``}`` of the query's WHERE pattern."""
    groups, open_at = [], None
    for i, t in enumerate(toks):
        if t.kind == "punct" and t.depth == 0 and t.text == "{":
            open_at = i
        elif t.kind == "punct" and t.depth == 0 and t.text == "}" and open_at is not None:
            groups.append((open_at, i))
            open_at = None
    form = next((t for t in toks if t.depth == 0 and t.word("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")), None)
    if not groups or form is None:
        raise QueryError("cannot find the WHERE pattern of the query")
    if form.word("CONSTRUCT") and not toks[groups[0][0] - 1].word("WHERE"):
        if len(groups) < 2:
            raise QueryError("cannot find the WHERE pattern of the CONSTRUCT query")
        return groups[1]
    if form.word("CONSTRUCT"):
        raise QueryError("parameters cannot be bound in the short form CONSTRUCT WHERE { … } on a remote store")
    return groups[0]


def bind_values(sparql: str, blocks: list[str]) -> str:
    """``sparql`` with the ``VALUES`` blocks put first inside its WHERE pattern.

    There each block is joined with the whole pattern, before any grouping, and seen by every
    part of it that follows (an OPTIONAL, a property path): what Oxigraph's substitution of a
    pre-bound variable gives. A trailing ``VALUES`` after ``GROUP BY`` would only meet the group
    keys, and Virtuoso evaluates a transitive path only when its start is bound before it.
    """
    toks = _tokens(sparql)
    open_, _ = _where_group(toks)
    at = toks[open_].end
    return sparql[:at] + " " + " ".join(blocks) + "\n" + sparql[at:]


def projected_variables(sparql: str) -> list[str] | None:
    """The variables a SELECT projects, in order; ``None`` for ``SELECT *`` or another form."""
    toks = _tokens(sparql)
    start = next((i for i, t in enumerate(toks) if t.depth == 0 and t.word("SELECT")), None)
    if start is None:
        return None
    names, i = [], start + 1
    while i < len(toks):
        t = toks[i]
        if t.depth == 0 and (t.word("WHERE", "FROM") or t.text == "{"):
            break
        if t.depth == 0 and t.text == "*":
            return None
        if t.depth == 0 and t.kind == "var":
            names.append(t.text[1:])
        if t.depth == 1 and t.word("AS") and i + 1 < len(toks) and toks[i + 1].kind == "var":
            names.append(toks[i + 1].text[1:])
        i += 1
    return names or None


def paged(sparql: str, names: list[str] | None, size: int, offset: int, nested: bool = False) -> str:
    """One page of a SELECT: its ORDER BY made total (every projected variable breaks ties)
    and ``LIMIT size OFFSET offset``. A query with its own LIMIT or OFFSET is returned as is.

    ``nested`` puts the ordered query in a subquery and the LIMIT/OFFSET outside it: Virtuoso
    refuses to sort for more than MaxSortedTopRows rows of OFFSET + LIMIT (SR353) but not that.
    """
    toks = _tokens(sparql)
    try:
        _, close = _where_group(toks)
    except QueryError:
        return sparql
    tail = toks[close + 1:]
    if not any(t.word("SELECT") for t in toks if t.depth == 0) or any(t.depth == 0 and t.word("LIMIT", "OFFSET") for t in tail):
        return sparql
    values_at = next((t.start for t in tail if t.depth == 0 and t.word("VALUES")), len(sparql))
    order = next((i for i, t in enumerate(tail) if t.depth == 0 and t.word("ORDER")), None)
    # Each variable once: Virtuoso returns wrong rows when a sort key is repeated.
    ordered = {t.text[1:] for t in tail[order:] if t.kind == "var" and t.start < values_at} if order is not None else set()
    group = next((i for i, t in enumerate(tail) if t.depth == 0 and t.word("GROUP")), None)
    grouped = [t.text[1:] for t in tail[group:order] if t.kind == "var" and t.depth == 0] if group is not None else []
    # Group keys first (they tell the rows of a grouped query apart), then the other projected
    # variables, at most _MAX_SORT_KEYS in all (Virtuoso sorts on no more than 20: SQ186).
    extra = [n for n in dict.fromkeys(grouped + list(names or ())) if n not in ordered]
    keys = " ".join(f"?{n}" for n in extra[:max(0, _MAX_SORT_KEYS - len(ordered))])
    if order is None:
        modifiers = f" ORDER BY {keys}" if keys else ""
    else:
        modifiers = f" {keys}" if keys else ""
    window = f" LIMIT {int(size)} OFFSET {int(offset)}\n"
    if nested:
        select_at = next(t.start for t in toks if t.depth == 0 and t.word("SELECT"))
        inner = sparql[select_at:values_at].rstrip() + modifiers
        return sparql[:select_at] + "SELECT * WHERE {\n{ " + inner + "\n}\n}" + window + sparql[values_at:]
    return sparql[:values_at].rstrip() + modifiers + window + sparql[values_at:]


def terms_from_json(value: dict | None):
    """One binding of SPARQL JSON results → an Oxigraph term (``None`` when unbound)."""
    if value is None:
        return None
    kind, text = value.get("type"), value.get("value", "")
    if kind == "uri":
        return ox.NamedNode(text)
    if kind == "bnode":
        # Virtuoso names blank nodes "nodeID://b10001"; keep the label, made a valid blank node id.
        return ox.BlankNode("".join(c if c.isalnum() else "_" for c in text.removeprefix("nodeID://")) or "b")
    if kind in ("literal", "typed-literal"):
        lang = value.get("xml:lang")
        if lang:
            return ox.Literal(text, language=lang)
        datatype = value.get("datatype")
        if datatype and datatype != "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString":
            return ox.Literal(text, datatype=ox.NamedNode(datatype))
        return ox.Literal(text)
    raise RemoteError(f"unsupported term in SPARQL results: {value!r}")


def _raise_for_status(url: str, status: int, body: bytes) -> None:
    if 200 <= status < 300:
        return
    message = " ".join(body.decode("utf-8", errors="replace").split())[:400] or "(no message)"
    if status == 400:
        raise QueryError(f"{url} refused the query: {message}")
    if status in (401, 403):
        raise RemoteError(f"{url} answered {status} (not authorised): set KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD "
                          f"to an account allowed to do this; {message}")
    raise RemoteError(f"{url} answered {status}: {message}")


def _env_number(name: str, default, kind):
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise RemoteError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise RemoteError(f"{name} must be positive, not {raw!r}")
    return value
