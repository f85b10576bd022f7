"""The HTTP layer: the standard library's threading server, keep-alive, bounded request bodies.

Chosen by measurement (docs/benchmarks-server.md): with keep-alive and Nagle's algorithm off
it answered ~4x the requests per second of Flask's development server, and adds no dependency.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from kg.server.app import CORS, App, Request, Response
from kg.server.errors import HTTPError, error_body

__all__ = ["make_http_server"]

log = logging.getLogger("kg.server")
_DRAIN_LIMIT = 64 * 1024 * 1024  # larger bodies over the limit are not read: the connection is closed


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: App


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # seconds an idle keep-alive connection (or a stalled upload) may hold its thread
    server_version = "kg-serve"
    sys_version = ""
    server: _Server

    def _dispatch(self) -> None:
        start = time.perf_counter()
        app = self.server.app
        try:
            body = self._read_body(app.config.max_body)
        except HTTPError as exc:
            self.close_connection = True  # the rest of the body is still on the wire
            resp = Response(exc.status, exc.body(), "application/json", {**exc.headers, **CORS})
        else:
            url = urlsplit(self.path)
            req = Request(self.command, url.path or "/", url.query, self.headers, body,
                          self.client_address[0], "%s:%s" % self.server.server_address[:2])
            resp = app.handle(req)
        self._write(resp)
        if not app.config.quiet:
            log.info('%s "%s %s" %d %d %.1fms', self.client_address[0], self.command, self.path[:200],
                     resp.status, len(resp.body), (time.perf_counter() - start) * 1000)

    do_GET = do_POST = do_HEAD = do_OPTIONS = do_PUT = do_DELETE = do_PATCH = _dispatch

    def _read_body(self, limit: int) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise HTTPError(400, f"bad Content-Length {length!r}") from None
        if n > limit:
            if n <= _DRAIN_LIMIT:  # read it away so the client, still sending, gets the answer
                while n > 0:
                    chunk = self.rfile.read(min(n, 65536))
                    if not chunk:
                        break
                    n -= len(chunk)
            raise HTTPError(413, f"the request body has {length} bytes; this server takes at most {limit}",
                            limit=limit)
        return self.rfile.read(n)

    def _read_chunked(self, limit: int) -> bytes:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise HTTPError(400, "bad chunked encoding") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > limit:
                raise HTTPError(413, f"the request body has more than {limit} bytes, the limit of this server",
                                limit=limit)
            parts.append(self.rfile.read(size))
            self.rfile.readline(16)

    def _write(self, resp: Response) -> None:
        phrase = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {resp.status} {phrase}", f"Server: {self.server_version}",
                 f"Date: {self.date_time_string()}"]
        if resp.content_type:
            lines.append(f"Content-Type: {resp.content_type}")
        lines += [f"{k}: {v}" for k, v in resp.headers.items()]
        lines.append(f"Content-Length: {len(resp.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head if self.command == "HEAD" else head + resp.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_error(self, code, message=None, explain=None):
        """Errors the standard library raises itself (bad request line, 414…) in the JSON shape."""
        self.close_connection = True
        status = HTTPStatus(code)
        body = error_body(code, status.phrase, message or explain or status.description)
        self.command = self.command or "GET"
        self._write(Response(code, body, "application/json", dict(CORS)))

    def log_message(self, format, *args):  # noqa: A002 - the standard library's signature
        log.debug(format, *args)


def make_http_server(app: App, host: str, port: int) -> _Server:
    """A server bound to ``host:port`` (0 picks a free port) that answers with ``app``."""
    server = _Server((host, port), _Handler)
    server.app = app
    return server
