"""The worker process: holds a copy of the store and runs one job at a time.

The parent kills a worker whose job outlives its timeout (Oxigraph cannot cancel a running
query) and starts another from the current snapshot, so nothing here needs to be interruptible.
A job is a dict; the answer is ``("ok", content_type, body, headers)`` or
``("error", status, error, message, extra)``; a body over ``INLINE`` bytes is sent as
``("stream", content_type, length, headers)`` followed by the body in chunks of ``CHUNK`` bytes
(``send_bytes``), so the server holds one chunk of it at a time.

Unless the server lets ``SERVICE`` reach some hosts (``--allow-host``), a worker takes its own
network away (:mod:`kg.server.sandbox`) before it loads anything, and refuses to start when it
cannot: that, not the server's reading of the query text, is what keeps ``SERVICE`` and ``LOAD``
from making requests.
"""

from __future__ import annotations

import re
import sys
import traceback

__all__ = ["worker_main", "run_job", "open_store"]

_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.S)
_META_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', re.I)
_SANDBOXED = False  # set by worker_main once the network is gone
INLINE = 64 * 1024
CHUNK = 256 * 1024


def open_store(snapshot: bytes, files=()):
    """A :class:`kg.store.KGStore` over an in-memory copy of ``snapshot`` (N-Quads)."""
    import pyoxigraph as ox

    from kg.store import KGStore

    store = ox.Store()
    if snapshot:
        store.bulk_load(snapshot, format=ox.RdfFormat.N_QUADS)
    return KGStore(store=store, files=list(files))


def worker_main(conn) -> None:
    """Entry point of a worker process: load, say ready, then answer jobs until EOF."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops its workers
    init = conn.recv()
    snapshot, files, memory_mb = init["snapshot"], init["files"], init.get("memory_mb")
    if not init.get("network"):
        refusal = _sandbox()
        if refusal:
            conn.send(("refused", refusal))
            return
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    kg = open_store(snapshot, files)
    _warm(kg)
    conn.send(("ready", kg.graphs()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job.get("op") == "load":
            kg = open_store(job["snapshot"], files)
            _warm(kg)
            conn.send(("ok", "", b"", {}))
            continue
        try:
            reply = run_job(kg, job)
        except MemoryError:
            reply = ("error", 500, "out of memory", "the query needed more memory than a worker may use", {})
        except Exception as exc:  # the worker's boundary: report, keep serving
            reply = _error_of(exc)
        _send(conn, reply)


def _send(conn, reply) -> None:
    """Send a reply; a large body goes as a stream of chunks after its announcement."""
    if reply[0] == "ok" and len(reply[2]) > INLINE:
        _, ctype, body, headers = reply
        conn.send(("stream", ctype, len(body), headers))
        view = memoryview(body)
        for i in range(0, len(body), CHUNK):
            conn.send_bytes(view[i:i + CHUNK])
        return
    conn.send(reply)


def _sandbox() -> str | None:
    """Install the network sandbox; the reason the worker must not start when that fails."""
    global _SANDBOXED
    from kg.server.sandbox import SandboxError, install

    try:
        install()
    except SandboxError as exc:
        return (f"cannot start the query workers: {exc}. kg serve runs them without network access so that "
                "SERVICE and LOAD cannot reach other hosts, and does not serve without that; only --allow-host "
                "(which lets queries reach hosts) runs them unsandboxed")
    _SANDBOXED = True
    return None


def run_job(kg, job: dict):
    """Run one job against ``kg`` and return the answer tuple (exceptions for errors)."""
    try:
        return _run(kg, job)
    except OSError as exc:
        # The store is in memory: in a sandboxed worker, Oxigraph's OSErrors come from SERVICE
        # and LOAD trying to fetch (a refused socket, a name lookup, a scheme it cannot fetch).
        if _SANDBOXED and job["op"] in ("query", "update"):
            raise _outbound_refused(job["op"], exc) from None
        raise


def _outbound_refused(op: str, exc: OSError):
    from kg.server.errors import HTTPError

    what = "SERVICE" if op == "query" else "LOAD or SERVICE"
    return HTTPError(400, f"{what} is refused by this endpoint: it makes no outbound requests, and the "
                          f"{op} tried to fetch from outside the store (its operator can allow hosts with "
                          f"--allow-host; the engine said: {_shorten(str(exc), 80)})",
                     error="outbound request refused")


def _run(kg, job: dict):
    op = job["op"]
    if op == "query":
        return _query(kg, job)
    if op == "named":
        return _named(kg, job)
    if op == "update":
        return _update(kg, job)
    if op == "viz":
        return _viz(kg, job)
    if op in ("entity", "labels"):  # entity pages and the query page's labels: kg/server/entity.py
        from kg.server import entity

        return entity.run_entity(kg, job) if op == "entity" else entity.run_labels(kg, job)
    raise ValueError(f"unknown job {op!r}")


def _query(kg, job):
    import pyoxigraph as ox

    kwargs = {"base_iri": job.get("base")}
    if job.get("default_graph") is not None or job.get("named_graphs") is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.get("default_graph") or []]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.get("named_graphs") or []]
    else:
        kwargs["use_default_graph_as_union"] = job.get("union", True)
    from kg.vocab import PREFIXES  # predeclared for users' queries; a query's own PREFIX wins

    result = _parse(lambda: kg.store.query(job["text"], prefixes=PREFIXES, **kwargs), job["text"])
    return _answer(_StarOrder.of(result, job["text"]), job)


class _StarOrder:
    """A ``SELECT *`` result with its columns in the order the query names the variables
    (Oxigraph sorts them: ``o, p, s``); see :func:`kg.queries.star_order`."""

    def __init__(self, result, names):
        import pyoxigraph as ox

        self._result, self._names = result, names
        self.variables = [ox.Variable(n) for n in names]

    @classmethod
    def of(cls, result, text: str):
        import pyoxigraph as ox

        from kg.queries import star_order

        if not isinstance(result, ox.QuerySolutions):
            return result
        names = [v.value for v in result.variables]
        order = star_order(text, names)
        return result if order == names else cls(result, order)

    def __iter__(self):
        return ([sol[n] for n in self._names] for sol in self._result)


def _named(kg, job):
    import pyoxigraph as ox

    from kg.explore import bind_value
    from kg.queries import load_query
    from kg.server.errors import HTTPError

    query = load_query(job["name"])
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(job["params"]) - set(declared))
    if unknown:
        names = ", ".join(declared) or "none"
        raise HTTPError(400, f"query {query.name!r} has no parameter {', '.join(unknown)}; its parameters: {names}")
    missing = [p.name for p in query.params if not p.optional and p.name not in job["params"]]
    if missing:
        raise HTTPError(400, f"query {query.name!r} needs parameter(s): {', '.join(missing)}")
    subs = {}
    for name, value in job["params"].items():
        term = bind_value(kg, declared[name].type, value)
        if term is not None:
            subs[ox.Variable(name)] = term
    result = kg.store.query(query.text, use_default_graph_as_union=True, substitutions=subs or None)
    return _answer(result, job)


def _update(kg, job):
    import pyoxigraph as ox

    _parse(lambda: kg.store.update(job["text"], base_iri=job.get("base")))
    snapshot = kg.store.dump(format=ox.RdfFormat.N_QUADS)
    return ("updated", kg.graphs(), snapshot)


def _viz(kg, job):
    from kg.server.errors import HTTPError

    try:
        from kg.viz import render_page
    except ImportError as exc:
        raise HTTPError(503, f"the graph page is not available in this installation ({exc})",
                        error="viz unavailable") from None
    options = _viz_options(render_page, job.get("params", {}))
    body = render_page(kg, **options).encode("utf-8")
    limit = job.get("max_bytes")
    if limit is not None and len(body) > limit:
        from kg.server.results import TooLarge

        raise TooLarge(limit)
    return ("ok", "text/html; charset=utf-8", body, {"Content-Security-Policy": _page_csp(body.decode("utf-8"))})


def _page_csp(html: str) -> str:
    """The page's own ``<meta>`` policy as a header, with what only a header can say (no framing).

    A page without one gets the strictest policy (nothing runs) rather than none.
    """
    import html as html_lib

    m = _META_CSP.search(html)
    policy = html_lib.unescape(m.group(1)) if m else "default-src 'none'"
    return policy.rstrip("; ") + "; frame-ancestors 'none'"


def _viz_options(render_page, params: dict) -> dict:
    """URL parameters → keyword arguments of ``render_page``, typed by their defaults."""
    import inspect

    from kg.server.errors import HTTPError

    sig = inspect.signature(render_page)
    # The size limits protect the server and the browser: clients may not raise them.
    hidden = {"kg", "max_nodes", "max_edges"}
    allowed = {n: p for n, p in sig.parameters.items() if n not in hidden and p.kind is not p.VAR_KEYWORD}
    out = {}
    for name, value in params.items():
        key = name.replace("-", "_")
        if key not in allowed:
            raise HTTPError(400, f"/viz has no parameter {name!r}; its parameters: {', '.join(allowed)}")
        default = allowed[key].default
        try:
            if isinstance(default, bool):
                out[key] = value.strip().lower() in ("1", "true", "yes", "on", "")
            elif isinstance(default, int):
                out[key] = int(value)
            elif isinstance(default, float):
                out[key] = float(value)
            else:
                out[key] = value
        except ValueError:
            raise HTTPError(400, f"/viz parameter {name}: expected a number, got {value!r}") from None
    return out


def _answer(result, job):
    from kg.server.results import write_results
    from kg.vocab import PREFIXES

    body, rows = write_results(result, job["format"], job["max_rows"], PREFIXES, job.get("max_bytes"))
    return ("ok", job["content_type"], body, {"X-KG-Result-Rows": str(rows)})


def _parse(run, query: str | None = None):
    """Run ``run``; Oxigraph's syntax errors become 400 naming the line and column (and, for
    an undeclared prefix, the prefix and the known ones instead of Oxigraph's grammar dump)."""
    from kg.queries import unknown_prefix_message
    from kg.server.errors import HTTPError

    try:
        return run()
    except SyntaxError as exc:
        hint = unknown_prefix_message(query) if query else None
        if hint:
            raise HTTPError(400, f"bad SPARQL: {hint}", error="bad SPARQL") from None
        text = str(exc)
        m = _SYNTAX.match(text)
        if not m:
            raise HTTPError(400, f"bad SPARQL: {_shorten(text)}", error="bad SPARQL") from None
        line, column, detail = int(m.group(1)), int(m.group(2)), _shorten(m.group(3))
        raise HTTPError(400, f"bad SPARQL at line {line}, column {column}: {detail}",
                        error="bad SPARQL", line=line, column=column) from None


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_of(exc: Exception):
    from kg.errors import KGError, UnknownEntityError
    from kg.server.errors import HTTPError

    if isinstance(exc, HTTPError):
        return ("error", exc.status, exc.error, exc.message, {**exc.extra, "_headers": exc.headers})
    if isinstance(exc, UnknownEntityError):
        return ("error", 400, "unknown entity", str(exc), {"suggestions": exc.suggestions})
    if isinstance(exc, KGError):
        return ("error", 400, "Bad Request", str(exc).splitlines()[0], {})
    if isinstance(exc, (ValueError, OSError, RuntimeError)):
        return ("error", 400 if isinstance(exc, ValueError) else 500, type(exc).__name__, _shorten(str(exc)), {})
    return ("error", 500, "Internal Server Error", f"{type(exc).__name__}: {_shorten(str(exc))}",
            {"_trace": traceback.format_exc(limit=5)})


def _warm(kg) -> None:
    """Read the named queries and build the name index now, not on the first request."""
    from kg.queries import list_queries

    list_queries()
    try:
        from kg.entities import name_index

        name_index(kg)
    except Exception:  # an empty or foreign store has no names: nothing to warm
        pass


if __name__ == "__main__":
    from multiprocessing.connection import Connection

    worker_main(Connection(int(sys.argv[1])))
