"""``kg load --store DIR FILES…`` and the ``--store`` global option: a persistent store."""

from __future__ import annotations

import click

from kg.cli import cli, pass_session
from kg.errors import KGError

__all__ = ["load", "open_session_store"]


def open_session_store(session):
    """The store ``--store DIR`` (or ``KG_STORE``) names, opened read-only, with one warning line
    on stderr for files changed since the load and one for other bundled data."""
    from kg.persist import open_store, store_warnings

    if session.endpoint:
        raise click.UsageError("--store and --endpoint each name the store to read; give one")
    if session.data:
        raise click.UsageError("--data loads files into the in-memory store; load them into the persistent "
                               f"one with `kg load --store {session.store_dir} FILES…`")
    store = open_store(session.store_dir)
    for line in store_warnings(session.store_dir, store.manifest):
        click.echo(f"warning: {line}", err=True)
    return store


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--store", "store_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="The store to (re)load: a new or empty directory, or one `kg load` made. "
                   "Default: the global --store (or $KG_STORE).")
@click.option("--no-validate", is_flag=True, help="Skip SHACL validation of FILES.")
@click.option("--no-bundled", is_flag=True, help="Leave out the bundled article and context graphs.")
@pass_session
def load(session, files, store_dir, no_validate, no_bundled):
    """Load FILES (and the bundled graph) into a persistent store, derive and validate once.

    Every later `kg --store DIR …` command opens the store in a fraction of a second instead
    of loading and validating the files again. A load replaces what the store held; it builds
    the new graph beside the old one and swaps them only when it succeeded, so a load that
    fails (bad file, SHACL violation, Ctrl-C) leaves the store as it was, and commands that
    read the store meanwhile are not disturbed.

    \b
    Examples:
      kg load --store ./industry.kg syn.nq my-deals.csv
      kg --store ./industry.kg exposure --shock "Synthetic company 0"
      KG_STORE=./industry.kg kg show Oracle
    """
    from kg.persist import StoreError, load_into

    root = store_dir or session.store_dir
    if not root:
        raise click.UsageError("name the store to load: kg load --store DIR FILES…")
    try:
        load_into(root, files, bundled=session.bundled and not no_bundled,
                  validate=session.validate and not no_validate, say=lambda line: click.echo(line, err=True))
    except KGError as exc:
        raise StoreError(_left_as_it_was(exc, root)) from None
    except KeyboardInterrupt:
        raise click.ClickException(f"interrupted; {_state(root)}") from None


def _state(root) -> str:
    from kg.persist import read_manifest

    try:
        manifest = read_manifest(root)
    except KGError:
        return f"nothing was written to {root}"
    return f"the store {root} is left as it was, loaded {manifest['created']}"


def _left_as_it_was(exc, root) -> str:
    lines = str(exc).splitlines() or [type(exc).__name__]
    lines[0] += f" ({_state(root)})"
    return "\n".join(lines)
