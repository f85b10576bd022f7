"""The HTTP layer: h11 parses every request; one thread per connection, a capped number of them.

Why h11 (https://h11.readthedocs.io): it is strict by design, so a request that could be read two
ways (``Content-Length: -1``, ``+10``, ``1_0``, two different lengths, chunk size ``-1``, a space
before a colon, a body cut short by the client, an oversized head) is refused with 400 (431 for a
head over 16 KiB, 501 for a transfer coding other than chunked) before the application sees it; this
module adds the refusals h11 leaves to the server: ``Content-Length`` together with
``Transfer-Encoding`` (the request-smuggling pair, RFC 9112 §6.1) and bodies over ``--max-body``,
which are never kept in memory. Answers are framed here, not by h11 (its framing cost ~100 µs a
request; its parsing ~46 µs, measured in a loop of 20,000).

Measured against the standard library's ``BaseHTTPRequestHandler`` this module replaced (which
accepted every malformed request above), 8 keep-alive clients, this 2-core machine shared with
other jobs (it varies up to 3x between rounds, so both run at once and the rounds alternate):

- the HTTP layer alone, a fixed 26-byte answer (``python benchmarks/bench_server.py --stacks
  --requests 10000 --clients 8 --rounds 5``): median round 3618 req/s here, 2412 for the standard
  library's server;
- the whole server, ``ASK {}`` to ``kg serve --workers 2`` (``python benchmarks/bench_server_ab.py
  BEFORE-CHECKOUT . --requests 2000 --clients 8 --rounds 5``), median round after / before in three
  runs: 1209 / 1545, 1428 / 1697 and 1351 / 1161 req/s (p50 4.16 / 3.51, 4.32 / 3.91 and
  4.42 / 4.51 ms): slower in two runs (-22 %, -16 %), faster in one (+16 %), within the spread of
  the rounds themselves; with one client
  (``--clients 1``) p50 0.46 / 0.46 and 0.63 / 0.59 ms.

Bounds: at most ``max_connections`` connections are served at once (one thread each); past that a
new connection gets a 503 written without a thread and is closed. A connection must deliver a
complete request head within ``header_timeout`` seconds of being accepted (or of the end of its
previous response): slow-header ("slow-loris") and idle connections are closed at that deadline.
A body must arrive, and a response be taken by the client, within the request ``timeout``.
Responses stream from the worker in chunks (:class:`kg.server.app.Response`), and their
``release`` runs only once the last byte is written, so a client's slot is counted until then.
"""

from __future__ import annotations

import email.utils
import logging
import socket
import socketserver
import threading
import time
from http import HTTPStatus
from urllib.parse import urlsplit

import h11

from kg.server.app import CORS, App, Request, Response
from kg.server.errors import HTTPError, error_body

__all__ = ["make_http_server"]

log = logging.getLogger("kg.server")
_DRAIN_LIMIT = 64 * 1024 * 1024  # larger bodies over the limit are not read: the connection is closed
_MAX_HEAD = 16 * 1024  # request line and headers; more is 431
_MAX_HEADERS = 100  # header fields, as the standard library's limit; more is 431
_RECV = 65536
_SERVER = b"kg-serve"


class _Timeout(Exception):
    """The peer did not send (or take) its bytes before the deadline."""


class _Closed(Exception):
    """The peer closed the connection or reset it."""


class _Headers:
    """The request's headers with the case-insensitive ``.get`` that :class:`Request` expects."""

    __slots__ = ("_items",)

    def __init__(self, items):
        self._items = {}
        for name, value in items:  # h11 gives lower-case names; repeated headers are joined as RFC 9110 §5.3
            key, text = name.decode("latin-1"), value.decode("latin-1")
            self._items[key] = f"{self._items[key]}, {text}" if key in self._items else text

    def get(self, name: str, default=None):
        return self._items.get(name.lower(), default)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._items


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app: App):
        self.app = app
        self.open_connections = 0
        self.refused_connections = 0
        self._count_lock = threading.Lock()
        super().__init__(address, None)

    def process_request(self, request, client_address):
        with self._count_lock:
            full = self.open_connections >= self.app.config.max_connections
            if not full:
                self.open_connections += 1
        if full:  # answered here, without a thread: the 503 fits in the socket's send buffer
            self.refused_connections += 1
            _refuse(request, self.app.config.max_connections)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            with self._count_lock:
                self.open_connections -= 1
            raise

    def finish_request(self, request, client_address):
        try:
            _Connection(self, request, client_address).serve()
        finally:
            with self._count_lock:
                self.open_connections -= 1

    def handle_error(self, request, client_address):
        log.exception("error on the connection from %s", client_address[0])


class _Connection:
    """One client connection: requests in turn, until either side closes or a deadline passes."""

    def __init__(self, server: _Server, sock: socket.socket, address):
        self.server, self.sock, self.address = server, sock, address
        self.app = server.app
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
        self.got_bytes = False  # whether part of the next request has arrived

    # -- the request loop ------------------------------------------------------------------
    def serve(self) -> None:
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        config = self.app.config
        while True:
            self.got_bytes = False
            try:
                event = self._next(time.monotonic() + config.header_timeout)
            except _Timeout:
                if self.got_bytes:  # a head begun but not finished: say why before closing
                    self._error(HTTPError(408, f"the request headers did not arrive within {config.header_timeout:g} s",
                                          error="Request Timeout"))
                return
            except h11.RemoteProtocolError as exc:
                self._error(_protocol_error(exc))
                return
            except _Closed:
                return
            if type(event) is not h11.Request:  # ConnectionClosed
                return
            if not self._one(event) or self.h11.their_state is not h11.DONE:
                return
            # Responses are framed here (h11's own framing cost ~100 µs a request); a fresh parser
            # takes what the client has sent after this request (pipelining) as its input.
            data, closed = self.h11.trailing_data
            self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
            if data:
                self.got_bytes = True
                self.h11.receive_data(data)
            if closed:
                self.h11.receive_data(b"")

    def _one(self, event: h11.Request) -> bool:
        """Read the body, answer; False when the connection must close."""
        start = time.perf_counter()
        method = event.method.decode("ascii")
        target = event.target.decode("latin-1")
        headers = _Headers(event.headers)
        tokens = {t.strip().lower() for t in (headers.get("connection") or "").split(",")}
        close = "close" in tokens or (event.http_version == b"1.0" and "keep-alive" not in tokens)
        try:
            if len(event.headers) > _MAX_HEADERS:
                raise HTTPError(431, f"the request has {len(event.headers)} header fields; this server takes at most "
                                     f"{_MAX_HEADERS}")
            # h11 bounds a head that arrives in pieces; one that arrives whole is measured here
            size = len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers.raw_items())
            if size > _MAX_HEAD:
                raise HTTPError(431, f"the request head has more than {_MAX_HEAD} bytes, the limit of this server")
            body = self._body(headers)
        except HTTPError as exc:
            close = True  # the rest of the body (if any) is still on the wire
            resp = Response(exc.status, exc.body(), "application/json", {**exc.headers, **CORS})
        except _Timeout:
            self._error(HTTPError(408, f"the request body did not arrive within {self.app.config.timeout:g} s",
                                  error="Request Timeout"))
            return False
        except h11.RemoteProtocolError as exc:  # a bad chunk, or the client closed before the whole body
            self._error(_protocol_error(exc))
            return False
        except _Closed:
            return False
        else:
            url = urlsplit(target)
            host, port = self.server.server_address[:2]
            req = Request(method, url.path or "/", url.query, headers, body, self.address[0], f"{host}:{port}")
            resp = self.app.handle(req)
        written = self._send(resp, close, method)
        if not self.app.config.quiet:
            log.info('%s "%s %s" %d %d %.1fms', self.address[0], method, target[:200], resp.status,
                     resp.size, (time.perf_counter() - start) * 1000)
        return written and not close

    def _body(self, headers: _Headers) -> bytes:
        limit = self.app.config.max_body
        if "transfer-encoding" in headers and "content-length" in headers:
            raise HTTPError(400, "the request has both Content-Length and Transfer-Encoding; send one")
        length = headers.get("content-length")
        if length is not None and int(length) > limit:  # h11 has checked it is digits
            if not self.h11.they_are_waiting_for_100_continue and int(length) <= _DRAIN_LIMIT:
                self._drain(time.monotonic() + self.app.config.timeout)  # so the client, still sending, reads the 413
            raise HTTPError(413, f"the request body has {length} bytes; this server takes at most {limit}", limit=limit)
        if self.h11.they_are_waiting_for_100_continue:
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n", time.monotonic() + self.app.config.timeout)
        deadline = time.monotonic() + self.app.config.timeout
        parts, total = [], 0
        while True:
            event = self._next(deadline)
            if type(event) is h11.Data:
                total += len(event.data)
                if total > limit:  # chunked: the size is known only while reading
                    raise HTTPError(413, f"the request body has more than {limit} bytes, the limit of this server",
                                    limit=limit)
                parts.append(event.data)
            elif type(event) is h11.EndOfMessage:
                return b"".join(parts)
            else:
                raise _Closed

    def _drain(self, deadline: float) -> None:
        """Read and drop the rest of a body that is over the limit (bounded by _DRAIN_LIMIT)."""
        try:
            while type(self._next(deadline)) is h11.Data:
                pass
        except (_Timeout, _Closed, h11.RemoteProtocolError):
            pass

    # -- reading ---------------------------------------------------------------------------
    def _next(self, deadline: float):
        """The next h11 event, reading from the socket until ``deadline`` (monotonic)."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(_RECV)
            except TimeoutError:
                raise _Timeout from None
            except OSError:
                raise _Closed from None
            if data:
                self.got_bytes = True
            self.h11.receive_data(data)  # b"" is the end of the stream: h11 tells a short body from a clean close

    # -- writing ---------------------------------------------------------------------------
    def _send(self, resp: Response, close: bool, method: str) -> bool:
        """Write ``resp``; True when all of it was written. Releases the response in every case."""
        deadline = time.monotonic() + self.app.config.timeout
        try:
            phrase = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else ""
            lines = [f"HTTP/1.1 {resp.status} {phrase}", "Server: kg-serve",
                     f"Date: {_date()}"]
            if resp.content_type:
                lines.append(f"Content-Type: {resp.content_type}")
            lines += [f"{k}: {v}" for k, v in resp.headers.items()]
            lines.append(f"Content-Length: {resp.size}")
            if close:
                lines.append("Connection: close")
            head = "\r\n".join(lines) + "\r\n\r\n"
            if head.count("\n") != len(lines) + 1:  # a header value with a line break: never sent
                raise ValueError("a response header contains a line break")
            head = head.encode("latin-1")
            if method == "HEAD" or resp.status in (204, 304):
                self._write(head, deadline)
                return True
            if resp.stream is None:
                self._write(head + resp.body, deadline)
                return True
            self._write(head, deadline)
            written = 0
            for chunk in resp.stream:
                self._write(chunk, deadline)
                written += len(chunk)
            if written != resp.size:  # the worker stopped short: the client must not take it as whole
                log.error("response to %s cut short at %d of %d bytes", self.address[0], written, resp.size)
                return False
            return True
        except (_Timeout, _Closed):
            return False
        except ValueError as exc:
            log.error("response to %s not sent: %s", self.address[0], exc)
            return False
        finally:
            resp.close()

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            self.sock.settimeout(remaining)
            try:
                sent = self.sock.send(view)
            except TimeoutError:
                raise _Timeout from None
            except OSError:
                raise _Closed from None
            view = view[sent:]

    def _error(self, exc: HTTPError) -> None:
        """Answer a request that could not be read, then let the connection close."""
        body = exc.body()
        headers = {"Content-Type": "application/json", **exc.headers, **CORS, "Content-Length": str(len(body)),
                   "Connection": "close"}
        phrase = HTTPStatus(exc.status).phrase if exc.status in HTTPStatus._value2member_map_ else ""
        head = f"HTTP/1.1 {exc.status} {phrase}\r\nServer: kg-serve\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        try:  # written by hand: after a protocol error h11 will not frame a response
            self._write(head.encode("latin-1") + body, time.monotonic() + 5)
        except (_Timeout, _Closed):
            pass


_DATE = [0, ""]


def _date() -> str:
    """The Date header's value, formatted once a second."""
    now = int(time.time())
    if _DATE[0] != now:
        _DATE[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _DATE[1]


def _protocol_error(exc: h11.RemoteProtocolError) -> HTTPError:
    status = exc.error_status_hint if exc.error_status_hint in (400, 431, 501) else 400
    return HTTPError(status, f"malformed HTTP request: {exc}")


def _refuse(sock: socket.socket, cap: int) -> None:
    body = error_body(503, "Service Unavailable", f"the server has {cap} connections open, its limit; retry shortly")
    head = ("HTTP/1.1 503 Service Unavailable\r\nServer: kg-serve\r\nContent-Type: application/json\r\n"
            f"Retry-After: 1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in CORS.items()) + "\r\n")
    try:
        sock.setblocking(False)
        sock.send(head.encode("latin-1") + body)
        sock.recv(_RECV)  # what the client sent already, so that closing sends FIN, not RST
    except OSError:
        pass


def make_http_server(app: App, host: str, port: int) -> _Server:
    """A server bound to ``host:port`` (0 picks a free port) that answers with ``app``."""
    return _Server((host, port), app)
