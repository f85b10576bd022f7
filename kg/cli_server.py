"""``kg serve``: the SPARQL 1.1 endpoint (the work is in :mod:`kg.server`)."""

from __future__ import annotations

import re

import click

from kg.cli import cli, pass_session

__all__ = ["serve"]


_ORIGIN = re.compile(r"https?://(?:[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?")


def _origins(ctx, param, values) -> tuple[str, ...]:
    """Origins as browsers send them (lower-case, no path, no trailing slash); exit 2 otherwise."""
    out = []
    for value in values:
        origin = value.strip().rstrip("/").lower()
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise click.BadParameter(f"{value!r} is not an origin: expected http(s)://HOST[:PORT] "
                                     "(no path) or *", param=param)
        out.append(origin)
    return tuple(out)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback exposes the endpoint to the network.")
@click.option("--port", default=7878, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--data", "more_data", multiple=True, type=click.Path(dir_okay=False),
              help="A user file to serve beside the bundled graph (same as kg --data). Repeatable.")
@click.option("--no-bundled", is_flag=True, help="Serve only the ontology and the --data files (a scratch store).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes, i.e. queries running at once, and one reserved worker more for cheap "
                   "requests.  [default: CPUs, at least 2]")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds a request may take before its worker is killed (503); requests may ask for less.")
@click.option("--max-rows", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Most result rows (or triples) per response; larger results get 422, never cut.")
@click.option("--max-body", type=click.IntRange(min=1), default=1_048_576, show_default=True,
              help="Largest request body in bytes (413 beyond).")
@click.option("--max-result-bytes", type=click.IntRange(min=1024), default=64 * 1024 * 1024, show_default=True,
              help="Largest response body in bytes; larger results get 422, never cut.")
@click.option("--max-connections", type=click.IntRange(min=1), default=256, show_default=True,
              help="Open connections served at once (one thread each); more get 503 and are closed.")
@click.option("--header-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds a connection has to send a complete request head (also the keep-alive idle time).")
@click.option("--client-limit", type=click.IntRange(min=1), default=4, show_default=True,
              help="Requests one client address may have running or queued at once (429 beyond).")
@click.option("--allow-update", is_flag=True, help="Accept SPARQL Update from clients that send the token.")
@click.option("--update-token", envvar="KG_UPDATE_TOKEN", metavar="TOKEN",
              help="Token for updates, sent as 'Authorization: Bearer TOKEN' (or set KG_UPDATE_TOKEN).")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST",
              help="Let SERVICE, LOAD and FROM reach this host (example.org, *.example.org). Repeatable. "
                   "The workers then run without their network sandbox.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN", callback=_origins,
              help="Let web pages from this origin (https://yasgui.example:8080, or * for any) read the "
                   "answers. Repeatable. [default: none]")
@click.option("--worker-memory", type=click.IntRange(min=0), default=4096, show_default=True, metavar="MIB",
              help="Address-space limit of each worker process in MiB (0: none); a query needing more gets 500.")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@pass_session
def serve(session, host, port, more_data, no_bundled, workers, timeout, max_rows, max_body, max_result_bytes,
          max_connections, header_timeout, client_limit, allow_update, update_token, allow_hosts, cors_origins,
          worker_memory, quiet):
    """Serve the graph as a SPARQL 1.1 endpoint at /sparql, with a query page at /.

    Read-only unless --allow-update is given with a token. Queries run in worker processes
    that are killed at the timeout and cannot open network connections, so SERVICE and LOAD are
    refused; so are unknown FROM graphs. No other web site's pages may read the answers unless
    --cors-origin names it. The named
    queries are at /queries/NAME?param=value, the graph page at /viz. See docs/server.md.

    \b
    Examples:
      kg serve
      kg serve --port 8000 --timeout 10
      kg --data my-deals.ttl serve --max-rows 50000
      KG_UPDATE_TOKEN=s3cret kg serve --no-bundled --allow-update
      curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * { ?s ?p ?o } LIMIT 3' localhost:7878/sparql
    """
    import logging
    import os
    import signal
    import sys

    from kg.server import ServerConfig, create_server
    from kg.store import load_store

    if allow_update and not update_token:
        raise click.UsageError("--allow-update needs a token: --update-token TOKEN or KG_UPDATE_TOKEN "
                               "(e.g. python -c 'import secrets; print(secrets.token_urlsafe())')")
    if update_token and not allow_update:
        click.echo("note: --update-token has no effect without --allow-update", err=True)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    data = tuple(session.data) + tuple(more_data)
    if data or no_bundled:
        store = load_store(data, bundled=not no_bundled, validate=session.validate)
    else:
        store = session.store
    config = ServerConfig(
        host=host, port=port, workers=workers or max(2, os.cpu_count() or 2), timeout=timeout,
        max_rows=max_rows, max_body=max_body, max_result_bytes=max_result_bytes, max_connections=max_connections,
        header_timeout=header_timeout, client_limit=client_limit, allow_update=allow_update,
        update_token=update_token, allow_hosts=tuple(allow_hosts), cors_origins=cors_origins,
        memory_mb=worker_memory or None, quiet=quiet,
    )
    try:
        server, pool = create_server(store, config)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    signal.signal(signal.SIGTERM, _stop)
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{bound_host}:{bound_port}"
    mode = "updates allowed with the token" if allow_update else "read-only"
    if allow_hosts:
        click.echo("warning: --allow-host runs the query workers without their network sandbox: which host a "
                   "query reaches is then checked on kg's reading of its text alone; serve only clients you "
                   "trust", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}, not loopback: anyone who can reach it can query", err=True)
    click.echo(f"kg serve: SPARQL endpoint {url}/sparql, query page {url}/ "
               f"({len(store)} triples, {config.workers} workers, {mode}); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("kg serve: stopping", err=True)
    finally:
        server.server_close()
        pool.close()


def _stop(signum, frame):
    """SIGTERM stops the server like Ctrl-C, so the workers are shut down too."""
    raise KeyboardInterrupt
