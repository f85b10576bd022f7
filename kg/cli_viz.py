"""``kg viz``: the graph as one interactive HTML page that works offline (or as GraphML/GEXF)."""

from __future__ import annotations

import click

from kg.analysis.debtrank import DEFAULT_METHOD, METHODS
from kg.cli import cli, emit, layer_option, pass_session, write_atomic

__all__ = ["viz"]

#: Kept here (not imported from kg.viz) so that ``kg --help`` does not load the page machinery.
_MAX_NODES = 2500
_DEFAULT_OUTPUT = "kg-graph.html"


@cli.command()
@click.option("-o", "--output", type=click.Path(allow_dash=True), default=None,
              help=f"Write to this file, atomically ('-' for stdout). Default: {_DEFAULT_OUTPUT} "
                   "(or kg-graph.graphml / .gexf with --export).")
@click.option("--focus", metavar="NAME", help="Show only the neighbourhood of this actor (any name, either language).")
@click.option("--depth", type=click.IntRange(0, 10), default=1, show_default=True,
              help="Radius of the --focus neighbourhood: relationships (of the --kind kinds) either way; "
                   "memberships are not hops.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only relationships of this kind (repeatable or comma-separated, e.g. compute-contract; "
                   "member-of for group memberships).")
@click.option("--exposure", metavar="NAME", help="Size and colour actors by their impact if this actor fails.")
@click.option("--severity", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Size of the --exposure shock (ψ, 0..1).")
@click.option("--method", type=click.Choice(METHODS), default=DEFAULT_METHOD, show_default=True,
              help="Contagion model of --exposure.")
@click.option("--chain", nargs=2, metavar="FROM TO", help="Highlight the dependency chains from FROM to TO.")
@click.option("--cycles", is_flag=True, help="Highlight circular money flows.")
@layer_option()
@click.option("--lang", "page_lang", type=click.Choice(("en", "zh-Hant")), default=None,
              help="Language of the page (default: the global --lang).")
@click.option("--export", "export_fmt", type=click.Choice(("graphml", "gexf")), default=None,
              help="Write the same view as GraphML or GEXF (for Gephi, Cytoscape) instead of a page.")
@click.option("--max-nodes", type=click.IntRange(1), default=_MAX_NODES, show_default=True,
              help="Refuse bigger views (and propose --focus): a page stays usable up to about this many actors.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@pass_session
@click.pass_context
def viz(ctx, session, output, focus, depth, kinds, exposure, severity, method, chain, cycles, layer, page_lang,
        export_fmt, max_nodes, force):
    """Write the graph as one interactive HTML page that works offline.

    The whole graph by default. Actors are coloured by type (groups are dashed hexagons), edges
    by relationship kind, pointing the way the money (or dependence) goes, wider for bigger
    amounts. Hover for amounts, claims and sources; click for details; filter by kind and
    layer; search in English or Chinese.

    \b
    Examples:
      kg viz -o graph.html
      kg viz --focus OpenAI -o openai.html
      kg viz --focus Oracle --depth 2 --kind compute-contract,cloud-services -o oracle.html
      kg viz --exposure OpenAI -o exposure.html
      kg viz --chain Nvidia OpenAI --layer context -o chain.html
      kg --lang zh-Hant viz --cycles -o cycles.html
      kg viz --export graphml -o graph.graphml
    """
    from click.core import ParameterSource

    if ctx.get_parameter_source("depth") is ParameterSource.COMMANDLINE and not focus:
        raise click.UsageError("--depth needs --focus")
    if exposure is None and (ctx.get_parameter_source("severity") is ParameterSource.COMMANDLINE
                             or ctx.get_parameter_source("method") is ParameterSource.COMMANDLINE):
        raise click.UsageError("--severity and --method need --exposure")
    lang = page_lang or session.lang
    view = {"focus": focus, "depth": depth, "exposure": exposure, "chain": tuple(chain) if chain else None,
            "cycles": cycles, "layer": layer, "lang": lang, "severity": severity, "method": method,
            "kinds": [k.strip() for item in kinds for k in item.split(",") if k.strip()] or None}
    if export_fmt:
        from kg.viz import export_graph

        data = export_graph(session.store, export_fmt, **view)
        target = output or f"kg-graph.{export_fmt}"
    else:
        from kg.viz import render_page

        data = render_page(session.store, max_nodes=max_nodes, **view).encode("utf-8")
        target = output or _DEFAULT_OUTPUT
    if target == "-":
        return emit(data)
    write_atomic(target, data, force=force)
    click.echo(f"wrote {target} ({len(data):,} bytes)", err=True)
