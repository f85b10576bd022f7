"""The SPARQL 1.1 endpoint behind ``kg serve``: conformant, read-only by default, bounded.

Layout: :mod:`~kg.server.protocol` reads a request, :mod:`~kg.server.lexer` and
:mod:`~kg.server.policy` decide what to refuse, :mod:`~kg.server.negotiate` picks the format,
:mod:`~kg.server.pool` runs the work in killable :mod:`~kg.server.worker` processes, which
:mod:`~kg.server.sandbox` keeps off the network, in the order :mod:`~kg.server.fairqueue` decides,
:mod:`~kg.server.app` routes and :mod:`~kg.server.http` speaks HTTP.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from kg.server.app import App, ServerConfig
from kg.server.errors import HTTPError

__all__ = ["ServerConfig", "HTTPError", "create_server", "running_server", "snapshot_of"]


def snapshot_of(kg) -> bytes:
    """The store as N-Quads bytes, what every worker process loads."""
    import pyoxigraph as ox

    return kg.store.dump(format=ox.RdfFormat.N_QUADS)


def create_server(kg, config: ServerConfig):
    """An HTTP server (not yet serving) and its worker pool for the loaded store ``kg``.

    Returns ``(server, pool)``; run ``server.serve_forever()``, then ``server.server_close()``
    and ``pool.close()``.
    """
    from kg.server.http import make_http_server
    from kg.server.pool import WorkerPool

    pool = WorkerPool(snapshot_of(kg), kg.files, size=config.workers, memory_mb=config.memory_mb,
                      network=bool(config.allow_hosts), quick_seconds=config.quick_seconds)
    try:
        server = make_http_server(App(config, pool), config.host, config.port)
    except BaseException:
        pool.close()
        raise
    return server, pool


@contextmanager
def running_server(kg, config: ServerConfig | None = None):
    """Serve ``kg`` in a background thread for the duration of the block; yields the base URL.

    Examples
    --------
    >>> from kg.store import load_store
    >>> import urllib.request
    >>> with running_server(load_store(), ServerConfig(port=0, workers=1, quiet=True)) as url:
    ...     urllib.request.urlopen(url + "/sparql?query=ASK%7B%7D").read()
    b'{"head":{},"boolean":true}'
    """
    config = config or ServerConfig(port=0)
    server, pool = create_server(kg, config)
    thread = threading.Thread(target=server.serve_forever, name="kg-serve", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        pool.close()
        thread.join(5)
