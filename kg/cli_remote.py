"""``kg push``: load the bundled graph and --data locally, then write them into a remote store."""

from __future__ import annotations

import click

from kg.cli import cli, emit, format_option, pass_session

__all__ = ["push"]


@cli.command()
@click.option("--graph", "graphs", multiple=True, metavar="IRI",
              help="Push only this named graph (repeatable); the derived graph is then rebuilt on the server.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Triples per INSERT DATA request when the store has no Graph Store endpoint.")
@format_option()
@pass_session
def push(session, graphs, batch_size, fmt):
    """Write the bundled graph and the --data files into the remote store of --endpoint.

    Each named graph is replaced whole through the SPARQL 1.1 Graph Store Protocol
    (--graph-store), or written with batched INSERT DATA (--update-endpoint); pushing twice
    changes nothing. Triple counts are checked afterwards. Credentials come from
    KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD. N-Triples files go to the store as they are;
    with --no-validate, when every --data file is N-Triples, they upload while kg reads from
    them only the lines the derivation rule needs and derives the shortcut triples (the whole
    file is parsed only if the store's count differs from kg's count of lines).

    \b
    Examples:
      kg --endpoint http://127.0.0.1:7878/query --graph-store http://127.0.0.1:7878/store \\
         --update-endpoint http://127.0.0.1:7878/update push
      KG_ENDPOINT_USER=dba KG_ENDPOINT_PASSWORD=… kg --data my-deals.ttl \\
         --endpoint http://127.0.0.1:8890/sparql \\
         --graph-store http://127.0.0.1:8890/sparql-graph-crud-auth \\
         --update-endpoint http://127.0.0.1:8890/sparql-auth push
    """
    # Not session.store: that is the remote store itself, and it refuses --data.
    if not session.endpoint:
        raise click.UsageError("kg push needs --endpoint (the store's SPARQL query endpoint, to check the counts)")
    if not (session.graph_store or session.update_endpoint):
        raise click.UsageError("kg push needs --graph-store or --update-endpoint (or both)")
    from kg.output import render
    from kg.push import push_store
    from kg.remote import RemoteStore
    from kg.store import load_store

    progress = lambda line: click.echo(line, err=True)  # noqa: E731
    remote = RemoteStore(session.endpoint, update_endpoint=session.update_endpoint, graph_store=session.graph_store,
                         check_union=False)
    if session.validate:
        if session.data:
            click.echo(f"loading {len(session.data)} user file(s) and validating them…", err=True)
        kg = load_store(session.data, validate=True)
        written = push_store(kg, remote, graphs=graphs, batch_size=batch_size, progress=progress)
    else:  # unvalidated, the files are read while the push runs
        kg = load_store((), validate=False, derive=False)
        written = push_store(kg, remote, graphs=graphs, files=session.data, batch_size=batch_size, progress=progress)
    session.kept.append(kg)
    rows = [{"graph": w.graph, "triples": w.verified, "method": w.method, "seconds": round(w.seconds, 2)}
            for w in written]
    emit(render(rows, fmt, columns=["graph", "triples", "method", "seconds"], max_width=90))
