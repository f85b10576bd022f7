"""The ``kg`` command: thin click commands, each calling one library function."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import click

from kg import __version__
from kg.errors import KGError

__all__ = ["cli", "main", "Session", "format_option", "layer_option", "pass_session", "emit", "write_atomic"]

LANGS = ("en", "zh-Hant")
#: kg.output.FORMATS, spelt out here so that starting ``kg`` does not import the renderer.
FORMATS = ("table", "json", "jsonl", "csv")


class Session:
    """What the global options select: the user's data files, the display language, the store."""

    def __init__(self, data: tuple[str, ...], lang: str, validate: bool = True, endpoint: str | None = None,
                 update_endpoint: str | None = None, graph_store: str | None = None, bundled: bool = True,
                 fx: str | None = None, store_dir: str | None = None):
        self.data, self.lang, self.validate, self.bundled, self.fx = data, lang, validate, bundled, fx
        self.store_dir = store_dir
        self.endpoint, self.update_endpoint, self.graph_store = endpoint, update_endpoint, graph_store
        self.kept: list = []  # stores a command made itself, freed only when the process ends (main)

    @cached_property
    def store(self):
        """The embedded store, a persistent one with ``--store``, or a remote SPARQL endpoint
        when ``--endpoint`` is given."""
        if self.store_dir:
            from kg.cli_store import open_session_store

            return self.with_fx(open_session_store(self))
        if self.endpoint:
            from kg.remote import RemoteStore

            if self.data:
                raise click.UsageError("--data loads files into the embedded store; use `kg push --data …` "
                                       "to load them into a remote store")
            return self.with_fx(RemoteStore(self.endpoint, update_endpoint=self.update_endpoint,
                                            graph_store=self.graph_store))
        if self.data and sys.stderr.isatty():  # a note for a person waiting; scripts get only errors
            click.echo(f"loading {len(self.data)} user file(s)" + (" and validating them" if self.validate else "")
                       + "…", err=True)
        return self.load(self.data, validate=self.validate)

    def load(self, data, validate: bool = True):
        """Load the store as the global options say (``--no-bundled``, ``--fx``), with the
        loader's warnings (restated deals, replaced bundled graphs) on stderr."""
        from kg.store import load_store

        store = load_store(data, validate=validate, bundled=self.bundled)
        for line in getattr(store, "warnings", []):
            click.echo(f"warning: {line}", err=True)
        return self.with_fx(store)

    def with_fx(self, store):
        if self.fx:
            from kg.fx import read_fx

            store.fx = read_fx(self.fx)
            for rate in store.fx.values():
                click.echo(f"fx: {rate.basis}", err=True)
        return store


pass_session = click.make_pass_decorator(Session)


def format_option(*extra: str, default: str = "table"):
    """``--format table|json|jsonl|csv`` (plus ``extra`` formats), ``--wide`` and ``--no-headers``."""

    def decorate(f):
        f = click.option("--no-headers", is_flag=True, expose_value=False,
                         callback=lambda ctx, param, value: _configure_output(headers=not value),
                         help="csv and table: no header row.")(f)
        f = click.option("--wide", is_flag=True, expose_value=False,
                         callback=lambda ctx, param, value: _configure_output(wide=value),
                         help="table: full values, not cut to the terminal's width ($COLUMNS).")(f)
        return click.option("--format", "fmt", type=click.Choice(FORMATS + extra), default=default,
                            show_default=True, help="Output format (jsonl: one JSON object per line).")(f)

    return decorate


def _configure_output(**options) -> None:
    from kg.output import configure

    configure(**options)


def layer_option(default: str = "all"):
    return click.option(
        "--layer", type=click.Choice(("article", "context", "user", "all")), default=default, show_default=True,
        help="Use only relationships and claims from sources of this layer.",
    )


def emit(text: str | bytes) -> None:
    """Data goes to stdout (messages go to stderr with ``click.echo(..., err=True)``); a full
    disk or a failing device there is one line and exit 1 (click handles a closed pipe)."""
    import errno

    try:
        click.echo(text, nl=False)
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        raise click.ClickException(f"cannot write to standard output: {exc.strerror or exc}") from None


def write_atomic(path: str | Path, data: str | bytes, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temp file + rename) with the permissions the
    user's umask gives a new file, never overwriting a file without ``--force`` or a
    confirmation at a terminal.

    Every failure is one line and exit 1, with nothing left behind: a missing directory, a
    directory as ``path``, no permission, a full disk, SIGINT or SIGTERM while writing (the
    temporary file is removed, the target left as it was)."""
    import os
    import tempfile

    path = Path(path)
    if path.is_dir():
        raise click.ClickException(f"{path} is a directory; name a file to write")
    if path.exists() and not force:
        if sys.stdin.isatty() and sys.stderr.isatty():
            click.confirm(f"{path} exists; overwrite it?", abort=True, err=True)
        else:
            raise click.ClickException(f"{path} exists; pass --force to overwrite it")
    parent = path.parent
    if not parent.is_dir():
        raise click.ClickException(f"cannot write {path}: no directory {parent}")
    from kg.exports import file_mode

    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with _terminated_on_sigterm():
            os.fchmod(fd, file_mode(path))  # the user's umask, or the permissions of the file overwritten
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    except _Terminated:
        Path(tmp).unlink(missing_ok=True)
        click.echo(f"Error: stopped by SIGTERM; {path} was not written", err=True)
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Terminated(SystemExit):
    """SIGTERM arrived while a file was being written (exit status 128 + 15, as the shell's)."""


@contextmanager
def _terminated_on_sigterm():
    """Turn SIGTERM into :class:`_Terminated` for the block, so that clean-up code runs; only in
    the main thread, and only where SIGTERM has its default action (a server's own handler or an
    ignored SIGTERM stays as it was)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def stop(signum, frame):
        raise _Terminated(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class KGGroup(click.Group):
    """Turns library errors into a one-line message and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KGError as exc:
            lines = str(exc).splitlines() or [type(exc).__name__]
            click.echo(f"Error: {lines[0]}", err=True)
            for line in lines[1:]:
                click.echo(f"  {line}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=KGGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", "data", multiple=True, type=click.Path(dir_okay=False),
              help="A user file (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML or CSV) to load beside the "
                   "bundled graph, into its own named graph. Repeatable.")
@click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True, help="Display language.")
@click.option("--no-validate", is_flag=True, help="Skip SHACL validation of --data files.")
@click.option("--no-bundled", is_flag=True, help="Leave out the bundled article and context graphs (e.g. to load a "
              "kg export back with --data).")
@click.option("--fx", "fx", type=click.Path(dir_okay=False), metavar="FILE",
              help="Rates to convert non-USD amounts for the analysis (CSV: currency,usd_per_unit,date,source); "
                   "without one, a non-USD amount the analysis meets is an error.")
@click.option("--endpoint", envvar="KG_ENDPOINT", metavar="URL",
              help="Run every read command against this remote SPARQL 1.1 query endpoint instead of the embedded "
                   "store (credentials from KG_ENDPOINT_USER / KG_ENDPOINT_PASSWORD).")
@click.option("--update-endpoint", envvar="KG_UPDATE_ENDPOINT", metavar="URL", help="SPARQL 1.1 Update endpoint (kg push).")
@click.option("--graph-store", envvar="KG_GRAPH_STORE", metavar="URL", help="SPARQL 1.1 Graph Store HTTP Protocol endpoint (kg push).")
@click.option("--store", "store_dir", envvar="KG_STORE", metavar="DIR", type=click.Path(file_okay=False),
              help="Run every command on the persistent store in DIR (made by `kg load --store DIR FILES…`) "
                   "instead of loading the graph again.")
@click.version_option(__version__, prog_name="kg")
@click.pass_context
def cli(ctx, data, lang, no_validate, no_bundled, fx, endpoint, update_endpoint, graph_store, store_dir):
    """Query the knowledge graph of the AI industry's circular money flows.

    \b
    Examples:
      kg info
      kg show OpenAI
      kg --lang zh-Hant show 微軟
      kg claims --section truth2 --kind prediction
      kg --data my-deals.csv show Oracle
    """
    _configure_output(wide=False, headers=True)
    ctx.obj = Session(tuple(data), lang, validate=not no_validate, endpoint=endpoint,
                      update_endpoint=update_endpoint, graph_store=graph_store, bundled=not no_bundled, fx=fx,
                      store_dir=store_dir)


@cli.command()
@format_option()
@pass_session
def info(session, fmt):
    """Counts by type, relationship kind and source; the files loaded.

    \b
    Examples:
      kg info
      kg info --format json
    """
    from kg.explore import info as info_of
    from kg.output import render

    data = info_of(session.store)
    if fmt == "json":
        return emit(render(data, "json"))
    rows = [
        {"group": group, "key": r["key"], "layer": r["layer"] or "", "count": r["count"]}
        for group, items in data["counts"].items() for r in items
    ]
    rows += [{"group": "files", "key": f["path"], "layer": f["format"], "count": f["quads"]} for f in data["files"]]
    rows.append({"group": "total", "key": f"triples in {data['graphs']} named graphs", "layer": "", "count": data["triples"]})
    emit(render(rows, fmt, max_width=90))


@cli.command()
@click.option("--type", "type_name", help="Only this type: Company, Platform, Product, ActorGroup.")
@format_option()
@pass_session
def entities(session, type_name, fmt):
    """List the actors with their labels in both languages.

    \b
    Examples:
      kg entities
      kg entities --type ActorGroup --format csv
    """
    from kg.explore import list_entities
    from kg.output import render

    rows = list_entities(session.store, type_name, session.lang)
    if fmt not in ("json", "jsonl"):
        rows = [{**r, "types": " ".join(r["types"])} for r in rows]
    emit(render(rows, fmt, columns=["label", "label_zh", "types", "id"]))


@cli.command()
@click.argument("name")
@format_option()
@pass_session
def show(session, name, fmt):
    """Everything about one entity: labels, groups, relationships, claims, assessments.

    NAME is an IRI, a local name, a label in either language, a ticker or a Wikidata ID; or a
    source's slug, title or label (`kg sources` lists them).

    \b
    Examples:
      kg show OpenAI
      kg show 甲骨文 --format json
      kg show MSFT
    """
    from kg.explore import show_entity
    from kg.output import format_amount, render
    from kg.sources import names_a_source, source_titles

    if names_a_source(session.store, name):
        from kg.cli_sources import show_source_text

        return emit(show_source_text(session, name, fmt))
    data = show_entity(session.store, name, session.lang)
    if fmt == "json":
        return emit(render(data, "json"))
    if fmt in ("csv", "jsonl"):
        rows = [{"record": "relationship", **r} for r in data["relationships"]]
        rows += [{"record": "claim", **{k: v for k, v in c.items() if k != "about"}} for c in data["claims"]]
        return emit(render(rows, fmt, columns=sorted({k for r in rows for k in r}, key=lambda k: (k != "record", k))))
    out = [f"{data['label']} / {data['label_zh']}  <{data['id']}>",
           f"types: {', '.join(data['types'])}"]
    for key, title in (("ticker", "ticker"), ("wikidata", "wikidata"), ("operated_by", "operated by")):
        if data[key]:
            out.append(f"{title}: {data[key]}")
    if data["alt_labels"]:
        out.append(f"also: {', '.join(data['alt_labels'])}")
    if data["groups"]:
        out.append("groups: " + "; ".join(f"{g['direction']} {g['label']}" for g in data["groups"]))
    emit("\n".join(out) + "\n\n")
    rels = [{
        "dir": "→" if r["direction"] == "out" else "←", "kind": r["kind"], "other": r["other_label"],
        "amount": format_amount(r["amount"], r["currency"], r["qualifiers"]) or (r["amount_text"] or ""),
        "status": r["status"], "layer": r["layer"], "source": source_titles(session.store, r["source"], session.lang),
    } for r in data["relationships"]]
    emit(f"relationships ({len(rels)}):\n" + render(rels, "table") + "\n")
    if data["impact_assessments"]:
        rows = [{"verdict": a["verdict"], "short": a["short_term"], "long": a["long_term"], "rationale": a["rationale"]}
                for a in data["impact_assessments"]]
        emit("impact assessments:\n" + render(rows, "table", max_width=80) + "\n")
    text_key = "excerpt" if session.lang == "zh-Hant" else "text_en"
    claims = [{"line": c["line"], "kind": c["kind"], "claim": c[text_key] or c["excerpt"],
               "source": source_titles(session.store, c["source"], session.lang)}
              for c in data["claims"]]
    emit(f"claims ({len(claims)}):\n" + render(claims, "table", max_width=80))


@cli.command()
@click.option("--about", help="Only claims about this entity (any name).")
@click.option("--section", help="Only this section: intro, truth1, truth2, truth3, truth4, conclusion (or context-*).")
@click.option("--kind", help="Only this kind: fact, estimate, prediction, opinion, analogy, scenario, recommendation, question.")
@layer_option()
@format_option()
@pass_session
def claims(session, about, section, kind, layer, fmt):
    """Claims with excerpt, English rendering, section, kind and source.

    \b
    Examples:
      kg claims --about Oracle
      kg claims --section truth2 --kind prediction --format json
      kg --lang zh-Hant claims --about 輝達
    """
    from kg.explore import list_claims
    from kg.output import render

    rows = list_claims(session.store, about, section, kind, None if layer == "all" else layer)
    if fmt == "json":
        return emit(render(rows, "json"))
    text = "excerpt" if session.lang == "zh-Hant" else "text_en"
    cols = ["line", "section", "kind", "hedge", text, "source"] if fmt == "table" else list(rows[0]) if rows else []
    if fmt == "table":
        from kg.sources import source_titles

        rows = [{**r, "source": source_titles(session.store, r["source"], session.lang)} for r in rows]
    emit(render(rows, fmt, columns=cols, max_width=70))


@cli.command()
@format_option()
@click.option("--strict", is_flag=True, help="Exit 1 when a paragraph or bullet has no claim.")
@click.option("--source", "source_name", metavar="SOURCE",
              help="Only this source's text (its IRI, local name, id or title; default: every source with paragraphs).")
@pass_session
def coverage(session, fmt, strict, source_name):
    """Which claims cover each paragraph and bullet of the article (section → claims).

    \b
    Examples:
      kg coverage
      kg coverage --strict --format csv
      kg --data note.trig coverage --source source-note
    """
    from kg.explore import coverage as coverage_of
    from kg.output import render

    if source_name:
        from kg.sourcefile import resolve_source

        rows = coverage_of(session.store, resolve_source(session.store, source_name))
    else:
        rows = coverage_of(session.store)
    if fmt not in ("json", "jsonl"):
        rows = [{**r, "claim_ids": " ".join(r["claim_ids"])} for r in rows]
    emit(render(rows, fmt, columns=["section", "line", "paragraph_kind", "claims", "claim_ids"], max_width=100))
    gaps = [r for r in rows if r["claims"] == 0 and r["paragraph_kind"] != "metadata"]
    click.echo(f"{len(rows) - len(gaps)} of {len(rows)} paragraphs covered"
               + (f"; uncovered lines: {', '.join(str(r['line']) for r in gaps)}" if gaps else ""), err=True)
    if strict and gaps:
        sys.exit(1)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@pass_session
def validate(session, files):
    """Validate the bundled graph (and FILES) against the SHACL shapes and the vocabulary.

    Prints one line per failing node and constraint; exits 1 when anything fails.

    \b
    Examples:
      kg validate
      kg validate my-deals.ttl
    """
    from kg.validate import validate_store

    if session.store_dir and files:
        raise click.UsageError("with --store, `kg validate` checks the store; load FILES into it with `kg load`")
    store = session.store if session.store_dir else session.load(tuple(session.data) + tuple(files), validate=False)
    report = validate_store(store, graphs=None)
    click.echo(f"valid: {report['triples']} triples in {report['graphs']} graphs, "
               f"{report['focus_nodes']} nodes checked", err=True)


@cli.command()
@click.argument("name_or_file", required=False)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Bind a declared parameter (repeatable). Entities may be given by any name.")
@click.option("--list", "list_only", is_flag=True, help="List the named queries and their parameters.")
@format_option("turtle", "nt", "jsonld")
@pass_session
def query(session, name_or_file, params, list_only, fmt):
    """Run a named query from queries/ (or a .rq file) with bound parameters.

    Parameters are bound as values, never pasted into the query text.

    \b
    Examples:
      kg query relationships --param layer=context
      kg query claims-about --param about=Oracle --format json
      kg query my-query.rq
      kg query --list
    """
    from kg.explore import run_named_query
    from kg.output import render
    from kg.queries import list_queries

    if list_only:
        rows = [{"name": q.name, "params": " ".join(f"?{p.name}{'?' if p.optional else ''}:{p.type}" for p in q.params),
                 "description": q.description} for q in list_queries().values()]
        return emit(render(rows, fmt if fmt in FORMATS else "table", max_width=90))
    if not name_or_file:
        raise click.UsageError("give a query name or a .rq file, or --list to list the named queries")
    bound = {}
    for item in params:
        if "=" not in item:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--param")
        key, value = item.split("=", 1)
        bound[key.strip().lstrip("?")] = value
    form, result = run_named_query(session.store, name_or_file, bound)
    if form == "ASK":
        return emit(render([{"result": result}], fmt if fmt in FORMATS else "json"))
    if form == "SELECT":
        if fmt not in FORMATS:
            raise click.BadParameter(f"{fmt} is for CONSTRUCT/DESCRIBE queries", param_hint="--format")
        if fmt == "table":
            from kg.output import compact_iri

            result = [{k: compact_iri(v) for k, v in row.items()} for row in result]
        return emit(render(result, fmt))
    from kg.export import serialize_triples

    emit(serialize_triples(result, "turtle" if fmt in FORMATS else fmt))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(("turtle", "trig", "nt", "nquads", "jsonld", "rdfxml", "graphml", "gexf")),
              default=None, help="RDF serialisation, or graphml/gexf for Gephi and Cytoscape (the actor graph of "
                                 "`kg viz`). Default: the one OUTPUT's suffix names, else trig.")
@click.option("-o", "--output", type=click.Path(), help="Write to this file (atomically) instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("--exposure", metavar="NAME", help="graphml/gexf: add each actor's impact, loss and round if NAME fails.")
@layer_option()
@pass_session
def export(session, fmt, output, force, exposure, layer):
    """Export the loaded graph (bundled + --data) as RDF, GraphML or GEXF.

    Triple formats (turtle, nt) hold the union of the graphs; dataset formats (trig, nquads,
    jsonld) keep one named graph per source. graphml and gexf write the actor graph of
    `kg viz` with kind, amount, qualifier and layer on every edge (and impact with --exposure).

    \b
    Examples:
      kg export --format trig -o ai-capital-kg.trig
      kg export --format nt --layer article
      kg export --format gexf --exposure OpenAI -o openai.gexf
      kg export -o my-graph.turtle
    """
    from kg.exports import export_format

    try:
        fmt = export_format(fmt, output)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--format") from None
    if fmt in ("graphml", "gexf"):
        from kg.viz import export_graph

        data = export_graph(session.store, fmt, layer=layer, exposure=exposure, lang=session.lang)
    else:
        if exposure:
            raise click.BadParameter("only with --format graphml or gexf", param_hint="--exposure")
        from kg.export import export_store

        data = export_store(session.store, fmt, None if layer == "all" else layer)
    if output:
        write_atomic(output, data, force=force)
        click.echo(f"wrote {output}", err=True)
    else:
        emit(data)


def _register_extensions() -> None:
    """Commands of the other areas live in their own modules and register on ``cli``."""
    import importlib

    for module in ("kg.cli_analysis", "kg.cli_viz", "kg.cli_server", "kg.cli_remote", "kg.cli_sources",
                   "kg.cli_source", "kg.cli_store"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


_register_extensions()


def main() -> None:
    """The ``kg`` program. It ends without freeing the loaded graph quad by quad: that took
    0.27 s for the 10^4-company industry (722,025 triples) and grows with the graph."""
    try:
        cli.main(prog_name="kg")
    except SystemExit as exc:  # click ends every run so; the session (and its store) lives on here
        import threading

        if threading.active_count() > 1:  # a thread still working: the usual, orderly exit
            raise
        _exit_now(exc.code)


def _exit_now(code) -> None:
    """Run the ``atexit`` handlers, flush the standard streams and leave at once."""
    import atexit
    import os

    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            pass
    os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
