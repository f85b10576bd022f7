"""The endpoint's routes: /sparql, /queries/NAME, /viz and the query page, one JSON error shape."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from kg.server.errors import HTTPError, error_body
from kg.server.negotiate import GRAPH_FORMATS, Format, formats_for, negotiate
from kg.server.protocol import parse_params, read_operation

__all__ = ["App", "Request", "Response", "ServerConfig"]

log = logging.getLogger("kg.server")
STATIC = Path(__file__).resolve().parent.parent / "static"
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
_HOST = re.compile(r"[A-Za-z0-9.\-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")
_HTML = Format("html", "text/html", ("text/html", "application/xhtml+xml"), ("html",), "")
#: Sent with ``Access-Control-Allow-Origin`` to an origin of ``--cors-origin`` (none by default).
CORS = {
    "Access-Control-Expose-Headers": "X-KG-Result-Rows, X-KG-Row-Limit, Retry-After, Content-Length",
}
#: The query page's policy: its own script, style and requests only. A page that sets its own
#: (the graph page from /viz, whose inline scripts are allowed by hash) keeps it.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
#: Everything that is not a page (results, JSON, Turtle) runs nothing if a browser opens it.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}


@dataclass
class ServerConfig:
    """The settings of ``kg serve`` (see docs/server.md, which lists every one)."""

    host: str = "127.0.0.1"
    port: int = 7878
    workers: int = 2
    timeout: float = 30.0
    max_rows: int = 10_000
    max_body: int = 1_048_576
    client_limit: int = 4
    max_result_bytes: int = 64 * 1024 * 1024
    max_connections: int = 256
    header_timeout: float = 10.0
    quick_seconds: float = 1.0
    allow_update: bool = False
    update_token: str | None = None
    allow_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()  # origins (scheme://host[:port], or "*") whose pages may read answers
    memory_mb: int | None = None
    quiet: bool = False

    def limits_text(self) -> str:
        return (f"Limits: queries stop after {self.timeout:g} s (503; a lower 'timeout' parameter is allowed); "
                f"results over {self.max_rows} rows or {self.max_result_bytes} bytes are refused with 422, "
                f"never cut; request bodies over "
                f"{self.max_body} bytes get 413; more than {self.client_limit} requests at once from one client "
                "get 429. " + (f"SERVICE and LOAD may reach only {', '.join(self.allow_hosts)}; "
                                if self.allow_hosts else "SERVICE and LOAD are refused; ")
                + "FROM must name a graph listed here.")


@dataclass
class Request:
    method: str
    path: str
    query_string: str = ""
    headers: dict = field(default_factory=dict)  # any mapping with a case-insensitive .get
    body: bytes = b""
    client: str = ""
    host: str = "127.0.0.1"

    @cached_property
    def params(self) -> list[tuple[str, str]]:
        return parse_params(self.query_string)

    @property
    def origin(self) -> str:
        """``http://`` and the Host header (the server's address when the header is not a host)."""
        host = self.headers.get("Host") or ""
        return "http://" + (host if _HOST.fullmatch(host) else self.host)


@dataclass
class Response:
    """An answer; ``stream`` (chunks of ``length`` bytes in all) replaces ``body`` for results that a
    worker sends in pieces. :meth:`close` runs the ``on_close`` callbacks (releasing the worker and the
    client's slot) once: the HTTP layer calls it after the last byte is written, or on failure."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict = field(default_factory=dict)
    stream: object = None
    length: int = 0
    on_close: list = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.length if self.stream is not None else len(self.body)

    def close(self) -> None:
        callbacks, self.on_close = self.on_close, []
        for callback in reversed(callbacks):
            callback()


class App:
    """Routes requests to the worker pool; every error leaves as :class:`HTTPError` JSON."""

    def __init__(self, config: ServerConfig, pool):
        from kg.queries import list_queries

        self.config, self.pool = config, pool
        self.queries = list_queries()
        self.static = {p.name: (p.read_bytes(), _STATIC_TYPES.get(p.suffix, "application/octet-stream"))
                       for p in STATIC.glob("*") if p.is_file() and p.suffix in _STATIC_TYPES}
        self.static.update({f"editor/{p.name}": (p.read_bytes(), _STATIC_TYPES[p.suffix])  # the query editor
                            for p in STATIC.glob("editor/*") if p.suffix in _STATIC_TYPES})
        self._clients: dict[str, int] = {}
        self._lock = threading.Lock()

    def handle(self, req: Request) -> Response:
        try:
            resp = self._route(req)
        except HTTPError as exc:
            resp = Response(exc.status, exc.body(), "application/json", exc.headers)
        except Exception:  # the HTTP boundary: log it, answer in the one error shape
            log.exception("error handling %s %s", req.method, req.path)
            resp = Response(500, error_body(500, "Internal Server Error", "unexpected error; see the server log"),
                            "application/json")
        self._cors(req, resp)
        if "Content-Security-Policy" not in resp.headers:
            html = (resp.content_type or "").startswith("text/html")
            resp.headers["Content-Security-Policy"] = PAGE_CSP if html else DATA_CSP
        return resp

    def _cors(self, req: Request, resp: Response) -> None:
        """Let the pages of a ``--cors-origin`` read the answer: echo their ``Origin``, no other."""
        origins = self.config.cors_origins
        if not origins:
            return
        if "*" in origins:
            resp.headers.update({"Access-Control-Allow-Origin": "*", **CORS})
            return
        vary = resp.headers.get("Vary")
        resp.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
        origin = (req.headers.get("Origin") or "").strip()
        if origin in origins:
            resp.headers.update({"Access-Control-Allow-Origin": origin, **CORS})

    def _route(self, req: Request) -> Response:
        path = req.path
        if req.method == "OPTIONS":
            return Response(204, headers=dict(PREFLIGHT))
        if path in ("/sparql", "/sparql/", "/query"):  # /query: Oxigraph's path for the same endpoint
            return self.sparql(req)
        if path == "/queries" or path == "/queries/":
            _allow(req, "GET", "HEAD")
            return self.list_queries()
        if path.startswith("/queries/"):
            _allow(req, "GET", "HEAD")
            return self._in_slot(req, self.named_query, req, path[len("/queries/"):])
        if path == "/viz":
            _allow(req, "GET", "HEAD")
            return self._in_slot(req, self.viz, req)
        if path.startswith("/resource/") or path in ("/labels", "/vocabulary"):
            return self._entity_route(req, path)
        if path == "/" or path.startswith("/static/"):
            _allow(req, "GET", "HEAD")
            return self.static_file(path[len("/static/"):] if path != "/" else "index.html")
        raise HTTPError(404, f"nothing at {path}; the endpoint is /sparql, the query page /, entity pages /resource/NAME")

    # -- /sparql ---------------------------------------------------------------------------
    def sparql(self, req: Request) -> Response:
        _allow(req, "GET", "HEAD", "POST")
        op = read_operation(req.method if req.method != "HEAD" else "GET", req.query_string,
                            req.headers.get("Content-Type"), req.body)
        endpoint = req.origin + req.path
        if op.kind is not None:
            # held from reading the text until the last byte of the answer is written
            return self._in_slot(req, self.query if op.kind == "query" else self.update, req, op, endpoint)
        if req.method == "POST":
            raise HTTPError(400, "the request has no query and no update")
        return self.describe(req, endpoint, op.format)

    def query(self, req: Request, op, endpoint: str) -> Response:
        from kg.server.lexer import analyse
        from kg.server.policy import check_references

        timeout = self._timeout(op.timeout)
        analysis = analyse(op.text, endpoint)
        check_references(analysis, graphs=self.pool.graphs, allow_hosts=self.config.allow_hosts,
                         protocol_dataset=op.protocol_dataset)
        fmt = negotiate(req.headers.get("Accept"), formats_for(analysis.form), op.format)
        job = {"op": "query", "text": op.text, "base": endpoint, "format": fmt.key,
               "content_type": fmt.content_type, "max_rows": self.config.max_rows}
        if op.protocol_dataset:
            job["default_graph"], job["named_graphs"] = op.default_graphs, op.named_graphs
        else:  # the union default graph, unless the query names its own dataset
            job["union"] = not analysis.of("FROM", "FROM NAMED")
        return self._work(req, job, timeout)

    def update(self, req: Request, op, endpoint: str) -> Response:
        from kg.server.lexer import add_using, analyse
        from kg.server.policy import check_references, check_token

        if not self.config.allow_update:
            raise HTTPError(403, "this endpoint is read-only: SPARQL Update is refused "
                                 "(kg serve --allow-update with a token enables it)", error="Forbidden")
        check_token(req.headers.get("Authorization"), self.config.update_token or "")
        timeout = self._timeout(op.timeout)
        analysis = analyse(op.text, endpoint)
        using = op.using_graphs or op.using_named_graphs
        if using and analysis.of("USING", "USING NAMED", "WITH"):
            raise HTTPError(400, "using-graph-uri/using-named-graph-uri cannot be combined with USING or WITH "
                                 "in the update (SPARQL 1.1 Protocol 2.2.3)")
        check_references(analysis, graphs=self.pool.graphs, allow_hosts=self.config.allow_hosts)
        text = add_using(op.text, analysis, op.using_graphs, op.using_named_graphs) if using else op.text
        reply = self.pool.run_update({"op": "update", "text": text, "base": endpoint}, timeout)
        if reply[0] == "updated":
            return Response(204)
        return self._reply(reply)

    def describe(self, req: Request, endpoint: str, format_param: str | None) -> Response:
        from kg.server.description import service_description

        fmt = negotiate(req.headers.get("Accept"), GRAPH_FORMATS + (_HTML,), format_param)
        if fmt is _HTML:  # a browser: the query page is the readable description
            return Response(303, headers={"Location": "/"})
        body = service_description(endpoint, fmt.key, tuple(self.pool.graphs), self.config.allow_update,
                                   self.config.limits_text())
        return Response(200, body, fmt.content_type, {"Vary": "Accept"})

    # -- named queries, the graph page, static files ---------------------------------------
    def list_queries(self) -> Response:
        rows = [{
            "name": q.name, "description": q.description, "form": q.form,
            "params": [{"name": p.name, "type": p.type, "optional": p.optional, "description": p.description}
                       for p in q.params],
            "url": f"/queries/{q.name}", "text": f"/queries/{q.name}.rq",
        } for q in self.queries.values()]
        return _json(rows)

    def named_query(self, req: Request, name: str) -> Response:
        if name.endswith(".rq") and name[:-3] in self.queries:
            text = self.queries[name[:-3]].text.encode("utf-8")
            return Response(200, text, "application/sparql-query; charset=utf-8")
        query = self.queries.get(name)
        if query is None:
            import difflib

            near = difflib.get_close_matches(name, list(self.queries), n=5, cutoff=0.4)
            raise HTTPError(404, f"no named query {name!r}" + (f"; nearest: {', '.join(near)}" if near else ""),
                            error="unknown query")
        params, reserved = {}, {}
        for key, value in req.params:
            target = reserved if key in ("format", "timeout") else params
            if key in target:
                raise HTTPError(400, f"parameter {key} given more than once")
            target[key] = value
        fmt = negotiate(req.headers.get("Accept"), formats_for(query.form), reserved.get("format"))
        job = {"op": "named", "name": name, "params": params, "format": fmt.key,
               "content_type": fmt.content_type, "max_rows": self.config.max_rows}
        return self._work(req, job, self._timeout(reserved.get("timeout")))

    def viz(self, req: Request) -> Response:
        params = {}
        for key, value in req.params:
            if key != "timeout":
                params[key] = value
        return self._work(req, {"op": "viz", "params": params}, self._timeout(dict(req.params).get("timeout")))

    def _entity_route(self, req: Request, path: str) -> Response:
        """/resource/NAME (entity pages, kg/server/entity.py), /labels and /vocabulary (the query page's)."""
        from kg.server import entity

        if path == "/vocabulary":
            _allow(req, "GET", "HEAD")
            from kg.server.vocabulary import vocabulary_json

            return Response(200, vocabulary_json(), "application/json", {"Cache-Control": "no-cache"})
        _allow(req, "GET", "HEAD", *(("POST",) if path == "/labels" else ()))
        job = (entity.labels_job(req.params, req.body) if path == "/labels"
               else entity.entity_job(path, req.params, req.headers.get("Accept")))
        resp = self._in_slot(req, self._work, req, job, self.config.timeout)
        return entity.missing_page(resp) if resp.status == 404 and job.get("format") == "html" else resp

    def static_file(self, name: str) -> Response:
        if name not in self.static:
            raise HTTPError(404, f"no static file {name!r}")
        body, ctype = self.static[name]
        return Response(200, body, ctype, {"Cache-Control": "no-cache"})

    # -- helpers ---------------------------------------------------------------------------
    def _work(self, req: Request, job: dict, timeout: float) -> Response:
        job["max_bytes"] = self.config.max_result_bytes
        return self._reply(self.pool.run(job, timeout, client=req.client))

    def _reply(self, reply) -> Response:
        if reply[0] == "ok":
            _, ctype, body, headers = reply
            if "X-KG-Result-Rows" in headers:
                headers = {**headers, "X-KG-Row-Limit": str(self.config.max_rows), "Vary": "Accept"}
            if isinstance(body, (bytes, bytearray)):
                return Response(200, bytes(body), ctype, headers)
            # a stream from a worker, which stays held until it is read (Response.close)
            return Response(200, b"", ctype, headers, stream=body, length=body.length, on_close=[body.close])
        _, status, error, message, extra = reply
        headers = extra.pop("_headers", None) or {}
        trace = extra.pop("_trace", None)
        if trace:
            log.error("worker error: %s\n%s", message, trace)
        return Response(status, error_body(status, error, message, **extra), "application/json", headers)

    def _in_slot(self, req: Request, handler, *args) -> Response:
        """``handler(*args)`` within one of the client's ``client_limit`` slots (429 beyond).

        The slot is held until the response is written: a streamed response releases it in
        :meth:`Response.close`, any other when it is returned (its bytes are all in hand).
        """
        release = self._slot(req.client)
        try:
            resp = handler(*args)
        except BaseException:
            release()
            raise
        if resp.stream is None:
            release()
        else:
            resp.on_close.insert(0, release)  # runs last, after the worker is released
        return resp

    def _slot(self, client: str):
        """Take one of ``client``'s slots; returns the function that gives it back (once)."""
        limit = self.config.client_limit
        with self._lock:
            if self._clients.get(client, 0) >= limit:
                raise HTTPError(429, f"more than {limit} requests at once from {client}; retry when one has finished",
                                headers={"Retry-After": "1"})
            self._clients[client] = self._clients.get(client, 0) + 1
        done = []

        def release() -> None:
            if done:
                return
            done.append(True)
            with self._lock:
                self._clients[client] -= 1
                if not self._clients[client]:
                    del self._clients[client]

        return release

    def _timeout(self, value: str | None) -> float:
        """The request's ``timeout`` (seconds), capped at the server's."""
        if value is None or value == "":
            return self.config.timeout
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not seconds > 0:
            raise HTTPError(400, f"timeout={value!r}: expected a positive number of seconds")
        return min(seconds, self.config.timeout)


def _allow(req: Request, *methods: str) -> None:
    if req.method not in methods:
        raise HTTPError(405, f"{req.method} is not allowed here; use {', '.join(methods)}",
                        headers={"Allow": ", ".join(methods + ("OPTIONS",))})


def _json(data) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    return Response(200, body, "application/json")
