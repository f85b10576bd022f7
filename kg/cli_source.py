"""``kg source add``: a user's own article or filing with its claims, checked and written as RDF."""

from __future__ import annotations

import re
from pathlib import Path

import click

from kg.cli import cli, pass_session, write_atomic

__all__ = ["source"]


@cli.group()
def source():
    """Add a source of your own (an article, a filing) with its claims.

    \b
    Examples:
      kg source add note.txt --claims note-claims.csv -o note.trig
      kg --data note.trig coverage --source note
    """


@source.command("add")
@click.argument("text_file", type=click.Path(dir_okay=False))
@click.option("--claims", "claims_file", required=True, type=click.Path(dir_okay=False),
              help="The claims: a .csv or .yaml file (columns line, excerpt, text, kind, hedge, hedge_text, about, supports).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="The RDF file to write (TriG; default: ID.trig). Load it with --data.")
@click.option("--id", "slug", help="A short name for the source (letters, digits, - and _; default: the text file's name).")
@click.option("--title", help="The source's title (default: the text's first line).")
@click.option("--lang", "text_lang", default="en", show_default=True, help="Language of the text (a BCP 47 tag: en, zh-Hant).")
@click.option("--date", help="Publication date, YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--url", help="Where the source is published (http or https).")
@click.option("--publisher", help="Who published it (a known actor's name, or any name).")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@pass_session
def add(session, text_file, claims_file, output, slug, title, text_lang, date, url, publisher, force):
    """Check the claims of TEXT_FILE (every excerpt verbatim, after NFKC and whitespace
    normalisation, on its line) and write the source, its paragraphs and claims as RDF.

    TEXT_FILE is UTF-8 text, one paragraph per line (a line starting with # is a heading,
    one starting with - or * a bullet). `about` names resolve against the loaded graph
    (bundled and --data); `supports` names relationships or figures in it. Nothing bundled
    is changed: load the output with --data.

    \b
    Examples:
      kg source add tests/data/source-note.txt --claims tests/data/source-note-claims.csv -o note.trig
      kg --data note.trig claims --layer user
      kg --data note.trig coverage --source source-note
    """
    from kg.resources import data_dir
    from kg.sourcefile import SourceInfo, read_claims, read_text, source_quads
    from kg.vocab import PREFIXES

    import pyoxigraph as ox

    text_path = Path(text_file)
    slug = slug or re.sub(r"[^A-Za-z0-9_-]+", "-", text_path.stem).strip("-") or "source"
    if not re.fullmatch(r"[A-Za-z0-9_-]+", slug):
        raise click.BadParameter(f"{slug!r}: use letters, digits, - and _", param_hint="--id")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", text_lang):
        raise click.BadParameter(f"{text_lang!r} is not a language tag (en, zh-Hant)", param_hint="--lang")
    out = Path(output or f"{slug}.trig")
    if out.suffix.lower() != ".trig":
        raise click.BadParameter(f"{out}: the output is TriG (.trig), so that its graph keeps its name",
                                 param_hint="--output")
    if out.resolve().is_relative_to(data_dir().resolve()):
        raise click.BadParameter(f"{out}: that is kg's bundled data; write your source elsewhere",
                                 param_hint="--output")
    lines = read_text(text_path)
    claims = read_claims(Path(claims_file), lines, text_path, text_lang)
    first = lines[min(lines)].lstrip("#").strip()
    info = SourceInfo(slug, title or first, text_lang, date, url, publisher)
    quads = source_quads(session.store, info, lines, claims)
    data = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
    write_atomic(out, data, force=force)
    click.echo(f"wrote {out}: {len(lines)} paragraph(s), {len(claims)} claim(s) of source <{info.iri}> in graph "
               f"<{info.graph}>; load it with: kg --data {out} …", err=True)
